"""The engine against its in-memory store: start, complete, rework, timers, signals, linked instances,
cancel, optimistic concurrency, and state that survives a save/load at every step."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from tests.support.bpmn import LOOP_FORM, parallel_rework_loop, rework_loop
from tests.support.bundles import T0
from workflows import (
    Conflict,
    EventNotExpected,
    InMemoryStore,
    InvalidData,
    TaskNotFound,
    TaskNotReady,
    WorkflowEngine,
)


def names(tasks):
    return [t.name for t in tasks]


def test_start_reports_ready_tasks_with_their_form_lane_and_requirements(engine, version_id):
    result = engine.start(version_id, "approval", {"partner": "ACME"})
    assert result.status == "running" and result.revision == 1
    (task,) = result.ready
    assert (task.name, task.lane, task.form) == ("Prepare the plan", "Staff", "prepare.schema.json")
    assert task.requirements == ["S1.02", "S1.03"] and task.instructions == "Write the **plan**."
    assert result.became_ready == result.ready
    assert [e.action for e in result.events] == ["instance.started"]
    assert engine.ready_tasks(result.instance_id) == result.ready


def test_complete_runs_to_the_end_and_keeps_the_data(engine, version_id):
    started = engine.start(version_id, "approval", {"partner": "ACME"})
    prepared = engine.complete_task(started.instance_id, started.ready[0].id, {"plan": "grow together"})
    assert names(prepared.ready) == ["Approve the plan"] and prepared.completed == [started.ready[0].id]
    done = engine.complete_task(started.instance_id, prepared.ready[0].id, {"decision": "approve"})
    assert done.status == "completed" and done.ready == []
    assert done.data["partner"] == "ACME" and done.data["outcome"] == "approved: GROW TOGETHER"
    assert [e.action for e in done.events] == ["task.completed", "instance.completed"]


def test_rework_reopens_the_task_with_its_previous_data(engine, version_id):
    started = engine.start(version_id, "approval", {})
    instance = started.instance_id
    first = engine.complete_task(instance, started.ready[0].id, {"plan": "draft 1"})
    for round_ in (1, 2):
        back = engine.complete_task(instance, engine.ready_tasks(instance)[0].id,
                                    {"decision": "rework", "comments": f"round {round_}"})
        (task,) = back.ready
        assert task.name == "Prepare the plan" and task.id != first.completed[0]
        assert engine.get_task(instance, task.id).data["plan"] == ("draft 1" if round_ == 1 else "draft 2")
        engine.complete_task(instance, task.id, {"plan": f"draft {round_ + 1}"})
    done = engine.complete_task(instance, engine.ready_tasks(instance)[0].id, {"decision": "approve"})
    assert done.data["outcome"] == "approved: DRAFT 3" and done.data["comments"] == "round 2"


def test_a_submitted_field_replaces_the_old_value_whole(engine, version_id):
    """Removing a row in a form removes it: no merge by list index (SpiffWorkflow's add_data_from_form)."""
    started = engine.start(version_id, "approval", {"rows": [{"a": 1}, {"a": 2}, {"a": 3}], "meta": {"x": 1, "y": 2}})
    done = engine.complete_task(started.instance_id, started.ready[0].id,
                                {"plan": "p", "rows": [{"a": 2}], "meta": {"x": 5}})
    data = engine.get_task(started.instance_id, done.ready[0].id).data
    assert data["rows"] == [{"a": 2}] and data["meta"] == {"x": 5}


def test_completing_twice_is_refused(engine, version_id):
    started = engine.start(version_id, "approval", {})
    task_id = started.ready[0].id
    engine.complete_task(started.instance_id, task_id, {"plan": "x"})
    with pytest.raises(TaskNotReady):
        engine.complete_task(started.instance_id, task_id, {"plan": "y"})


def test_unknown_task_and_bad_data_are_refused_and_change_nothing(engine, version_id):
    started = engine.start(version_id, "approval", {})
    with pytest.raises(TaskNotFound):
        engine.complete_task(started.instance_id, "00000000-0000-0000-0000-000000000000", {})
    with pytest.raises(TaskNotFound):
        engine.complete_task(started.instance_id, "not-a-uuid", {})
    with pytest.raises(InvalidData, match="reserved"):
        engine.complete_task(started.instance_id, started.ready[0].id, {"__class__": 1})
    with pytest.raises(InvalidData, match="cannot be stored"):
        engine.complete_task(started.instance_id, started.ready[0].id, {"plan": object()})
    assert engine.store.get_instance(started.instance_id).revision == 1


def test_a_stale_revision_is_a_conflict(engine, version_id):
    started = engine.start(version_id, "approval", {})
    engine.complete_task(started.instance_id, started.ready[0].id, {"plan": "x"})
    with pytest.raises(Conflict):
        engine.complete_task(started.instance_id, engine.ready_tasks(started.instance_id)[0].id,
                             {"decision": "approve"}, expected_revision=1)


def test_concurrent_completions_exactly_one_wins(version_id, engine):
    started = engine.start(version_id, "approval", {})
    barrier = threading.Barrier(2)
    outcomes = []
    store = engine.store
    original_save = store.save_instance

    def slow_save(record):  # both threads load before either saves
        barrier.wait(timeout=5)
        return original_save(record)

    store.save_instance = slow_save

    def attempt(plan):
        try:
            engine.complete_task(started.instance_id, started.ready[0].id, {"plan": plan})
            outcomes.append(("ok", plan))
        except Conflict:
            outcomes.append(("conflict", plan))

    threads = [threading.Thread(target=attempt, args=(p,)) for p in ("mine", "theirs")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o for o, _ in outcomes) == ["conflict", "ok"]
    store.save_instance = original_save
    winner = next(p for o, p in outcomes if o == "ok")
    approve = engine.ready_tasks(started.instance_id)[0]
    assert engine.get_task(started.instance_id, approve.id).data["plan"] == winner


def test_duration_timer_escalates_when_due_and_not_before(engine, version_id):
    started = engine.start(version_id, "timers", {"limit": "P5D"}, now=T0)
    (timer,) = started.timers
    assert timer.due_at == T0 + timedelta(days=5) and timer.kind == "duration"
    early = engine.fire_timers(started.instance_id, now=T0 + timedelta(days=4, hours=23))
    assert names(early.ready) == ["Resolve at level 1"] and early.events == []
    late = engine.fire_timers(started.instance_id, now=T0 + timedelta(days=5, minutes=1))
    assert names(late.ready) == ["Resolve at level 2"] and late.cancelled == [started.ready[0].id]
    assert [e.action for e in late.events] == ["timer.fired"] and late.timers == []


def test_completing_in_time_cancels_the_timer(engine, version_id):
    started = engine.start(version_id, "timers", {"limit": "PT2H"}, now=T0)
    done = engine.complete_task(started.instance_id, started.ready[0].id, {}, now=T0 + timedelta(hours=1))
    assert done.status == "completed" and done.timers == []


def test_a_bad_timer_value_in_data_fails_clearly_and_saves_nothing(engine, version_id):
    from workflows import ScriptFailed
    with pytest.raises(ScriptFailed, match="Invalid duration") as failed:
        engine.start(version_id, "timers", {"limit": "five days"}, now=T0)
    assert (failed.value.location.bpmn_id, failed.value.location.task_name) == ("deadline", "Level 1 time limit")


def test_linked_instances_signals_and_cancel(engine, version_id):
    parent = engine.start(version_id, "parent", {}, now=T0)
    (review,) = parent.linked
    assert review.process_id == "child" and review.timers[0].due_at.month == 4  # 31 Jan + 3 months = 30 Apr
    fired = engine.fire_timers(review.instance_id, now=T0 + timedelta(days=95))
    done = engine.complete_task(review.instance_id, fired.ready[0].id, {"note": "green"}, now=T0 + timedelta(days=95))
    (next_review,) = done.linked
    assert engine.store.get_instance(next_review.instance_id).parent_id == parent.instance_id
    assert next_review.timers[0].due_at.month == 7

    fired = engine.fire_timers(next_review.instance_id, now=T0 + timedelta(days=200))
    red = engine.complete_task(next_review.instance_id, fired.ready[0].id, {"note": "red"}, now=T0 + timedelta(days=200))
    (signalled,) = red.linked
    assert signalled.instance_id == parent.instance_id and names(signalled.ready) == ["Review the exit trigger"]
    assert [e.action for e in signalled.events] == ["signal.received"]
    exit_task = engine.get_task(parent.instance_id, signalled.ready[0].id)
    assert exit_task.data["exit_info"] == {"reason": "two red reviews", "round": 2}


def test_parent_end_cancels_linked_reviews(engine, version_id):
    parent = engine.start(version_id, "parent", {}, now=T0)
    review_id = parent.linked[0].instance_id
    ended = engine.complete_task(parent.instance_id, parent.ready[0].id, {}, now=T0 + timedelta(days=1))
    assert ended.status == "completed"
    assert [(r.instance_id, r.status) for r in ended.linked] == [(review_id, "cancelled")]
    assert engine.store.get_instance(review_id).timers == []


def test_signal_nobody_waits_for_is_refused(engine, version_id):
    started = engine.start(version_id, "approval", {})
    with pytest.raises(EventNotExpected):
        engine.send_signal(started.instance_id, "exit_trigger", {"reason": "x"})
    assert engine.store.get_instance(started.instance_id).revision == 1


def test_cancel_closes_tasks_and_refuses_further_work(engine, version_id):
    started = engine.start(version_id, "approval", {})
    cancelled = engine.cancel(started.instance_id, reason="duplicate")
    assert cancelled.status == "cancelled" and cancelled.cancelled == [started.ready[0].id]
    with pytest.raises(TaskNotReady):
        engine.complete_task(started.instance_id, started.ready[0].id, {"plan": "x"})


def test_state_round_trips_identically(engine, version_id):
    from workflows.serialization import dump_state, load_state
    started = engine.start(version_id, "parent", {}, now=T0)
    record = engine.store.get_instance(started.instance_id)
    reloaded = load_state(record.state, engine.specs(version_id))
    assert dump_state(reloaded) == record.state


def test_state_from_a_newer_collabflow_is_refused(engine, version_id):
    from workflows import StateTooNew
    from workflows.serialization import load_state
    with pytest.raises(StateTooNew):
        load_state('{"format": 99, "workflow": {}}', engine.specs(version_id))


def test_specs_are_parsed_once_per_version_and_restored_from_storage(bundle):
    store = InMemoryStore()
    first = WorkflowEngine(store)
    version_id, _ = first.deploy(*bundle)
    second = WorkflowEngine(store)  # another process: specs come from the stored JSON
    started = second.start(version_id, "approval", {})
    assert names(started.ready) == ["Prepare the plan"]
    assert second.specs(version_id) is second.specs(version_id)


@pytest.mark.slow
def test_long_rework_loops_do_not_stall():
    """Engine notes P6: past ~500 sequence-flow loops SpiffWorkflow stops seeing the next task."""
    engine = WorkflowEngine(InMemoryStore())
    version_id, _ = engine.deploy({"loop.bpmn": rework_loop()}, {"loop.schema.json": LOOP_FORM})
    instance = engine.start(version_id, "loop", {}).instance_id
    for i in range(520):
        result = engine.complete_task(instance, engine.ready_tasks(instance)[0].id, {"again": True, "i": i})
        assert len(result.ready) == 1, f"stalled after {i} loops"
    assert engine.complete_task(instance, result.ready[0].id, {"again": False}).status == "completed"


def reminders_fired(engine, instance_id):
    from SpiffWorkflow.util.task import TaskState
    wf = engine._load(engine.store.get_instance(instance_id))
    # (a state=COMPLETED query would not look below the still-waiting cycle timer)
    return len([t for t in wf.get_tasks() if t.task_spec.name == "count" and t.state == TaskState.COMPLETED])


def test_cycle_timer_fires_each_period_on_time(engine, version_id):
    started = engine.start(version_id, "reminders", {}, now=T0)
    assert started.timers[0].due_at == T0 + timedelta(minutes=30) and started.timers[0].kind == "cycle"
    for k in (1, 2, 3):
        result = engine.fire_timers(started.instance_id, now=T0 + timedelta(minutes=30 * k, seconds=1))
        assert result.timers[0].due_at == T0 + timedelta(minutes=30 * (k + 1))
    assert reminders_fired(engine, started.instance_id) == 3


def test_cycle_timer_catches_up_once_and_stays_on_its_calendar(engine, version_id):
    """After an outage of 7 periods and a bit, one reminder, not seven; the next on the half hour."""
    started = engine.start(version_id, "reminders", {}, now=T0)
    result = engine.fire_timers(started.instance_id, now=T0 + timedelta(minutes=3 * 60 + 40))
    assert reminders_fired(engine, started.instance_id) == 1
    assert result.timers[0].due_at == T0 + timedelta(hours=4)
    assert [e.action for e in result.events] == ["timer.fired"]
    assert names(result.ready) == ["Resolve the issue"], "the task itself is untouched"


@pytest.mark.parametrize("branches", [2, 3])
def test_a_parallel_join_in_a_loop_waits_for_every_branch_of_each_round(branches):
    """SpiffWorkflow 3.2 counted the first round's branches again in the second (workflows/joins.py)."""
    engine = WorkflowEngine(InMemoryStore())
    version_id, _ = engine.deploy({"joint.bpmn": parallel_rework_loop(branches)}, {"loop.schema.json": LOOP_FORM})
    instance = engine.start(version_id, "joint", {}).instance_id
    # each round in another order: a side that decided first in one round may decide last in the next
    for round_, again, order in ((1, True, reversed), (2, True, list), (3, False, reversed)):
        left = [f"b{i}" for i in range(branches)]
        for name in order(range(branches)):
            assert sorted(t.bpmn_id for t in engine.ready_tasks(instance)) == left, f"round {round_}"
            task = next(t for t in engine.ready_tasks(instance) if t.bpmn_id == f"b{name}")
            result = engine.complete_task(instance, task.id, {"again": again})
            left.remove(f"b{name}")
    assert result.status == "completed"


def test_a_parallel_join_in_a_loop_merges_this_rounds_answers_only():
    """SpiffWorkflow 3.2 merged into the join the data of every finished join task of the spec, the earlier rounds'
    too, and its list merge keeps the older items: a joint gate's second rework reopened the first one's picks."""
    engine = WorkflowEngine(InMemoryStore())
    record = "history = history + [picks]\npicks = None\ndel picks"  # like a record-gate script
    version_id, _ = engine.deploy({"joint.bpmn": parallel_rework_loop(2, after_join=record)},
                                  {"loop.schema.json": LOOP_FORM})
    instance = engine.start(version_id, "joint", {"history": []}).instance_id
    for round_, picks in ((1, ["a", "b"]), (2, ["c"]), (3, ["d", "e"])):
        for name, answer in (("b1", {"picks": picks}), ("b0", {})):  # the picking side decides first each round
            task = next(t for t in engine.ready_tasks(instance) if t.bpmn_id == name)
            result = engine.complete_task(instance, task.id, {"again": round_ < 3, **answer})
    assert result.status == "completed"
    assert engine.instance_data(instance)["history"] == [["a", "b"], ["c"], ["d", "e"]]
