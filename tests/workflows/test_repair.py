"""Repairs by hand in the engine (workflows/repair.py) against its in-memory store: skip the script task that
failed, move a token back to an element done before or past a waiting task, a dry run that saves nothing, and the
moves SpiffWorkflow 3.2 cannot make refused before anything is saved."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.bpmn import LOOP_FORM, parallel_rework_loop, step_then_deadline
from tests.support.bundles import T0
from tests.support.failing_timer import failing_timer
from workflows import InMemoryStore, MoveRefused, ScriptFailed, TaskNotReady, WorkflowEngine


def names(tasks):
    return [t.name for t in tasks]


def test_a_failed_script_task_is_skipped_and_the_instance_goes_on(engine, bundle):
    files, forms = bundle
    version_id, _ = engine.deploy({**files, "failing_timer.bpmn": failing_timer("figure = missing_name + 1")}, forms)
    instance = engine.start(version_id, "failing_timer", {}, now=T0).instance_id
    with pytest.raises(ScriptFailed) as failed:
        engine.fire_timers(instance, now=T0 + timedelta(seconds=1))
    assert failed.value.details["bpmn_id"] == "compute"
    before = engine.store.get_instance(instance)

    skipped = engine.skip_script(instance, "compute", process_id="failing_timer", reason="entered by hand",
                                 now=T0 + timedelta(seconds=2))
    assert [e.action for e in skipped.events] == ["task.skipped", "timer.fired"]
    assert skipped.events[0].payload["reason"] == "entered by hand"
    assert names(skipped.ready) == ["Check the figure"] and skipped.revision == before.revision + 1
    assert "figure" not in engine.get_task(instance, skipped.ready[0].id).data  # its script never ran


def test_skipping_a_script_reports_the_tasks_a_rework_carries_forward_after_it(engine, bundle):
    """The task after the skipped script was not picked for rework: it is carried forward at once, and the
    skip's result says so, as any other action's would."""
    files, forms = bundle
    version_id, _ = engine.deploy({**files, "failing_timer.bpmn": failing_timer("figure = missing_name + 1")}, forms)
    instance = engine.start(version_id, "failing_timer", {"carry_forward": ["check"]}, now=T0).instance_id
    with pytest.raises(ScriptFailed):
        engine.fire_timers(instance, now=T0 + timedelta(seconds=1))
    skipped = engine.skip_script(instance, "compute", reason="entered by hand", now=T0 + timedelta(seconds=2))
    assert [e.action for e in skipped.events][:1] == ["task.skipped"]
    assert [e.payload["bpmn_id"] for e in skipped.events if e.action == "task.carried_forward"] == ["check"]
    assert skipped.status == "completed" and skipped.ready == []


def test_only_a_script_task_the_instance_reaches_is_skipped(engine, version_id):
    instance = engine.start(version_id, "approval", {}).instance_id
    before = engine.store.get_instance(instance)
    with pytest.raises(MoveRefused, match="not a script task"):
        engine.skip_script(instance, "prepare")
    with pytest.raises(MoveRefused, match="no element"):
        engine.skip_script(instance, "nowhere")
    with pytest.raises(TaskNotReady, match="does not reach"):
        engine.skip_script(instance, "record")
    assert engine.store.get_instance(instance) == before


def test_a_dry_run_reports_the_move_and_saves_nothing(engine, version_id):
    started = engine.start(version_id, "approval", {})
    instance = started.instance_id
    prepared = engine.complete_task(instance, started.ready[0].id, {"plan": "draft 1"})
    before = engine.store.get_instance(instance)
    dry = engine.move_token(instance, prepared.ready[0].id, "prepare", reason="redo", dry_run=True)
    assert dry.cancelled == [prepared.ready[0].id] and names(dry.became_ready) == ["Prepare the plan"]
    assert engine.store.get_instance(instance) == before


def test_a_reopened_task_is_a_new_task_with_the_data_it_was_done_with_and_survives_a_reload(engine, version_id):
    started = engine.start(version_id, "approval", {})
    instance = started.instance_id
    prepared = engine.complete_task(instance, started.ready[0].id, {"plan": "draft 1"})
    moved = engine.move_token(instance, prepared.ready[0].id, "prepare", reason="redo")
    assert [e.action for e in moved.events] == ["token.moved"]
    assert moved.events[0].payload | {"from_task_id": None} == {
        "from_task_id": None, "from_bpmn_id": "approve", "from_name": "Approve the plan", "reason": "redo",
        "how": "reopen", "to_bpmn_id": "prepare", "to_name": "Prepare the plan"}
    (reopened,) = moved.ready
    assert reopened.id != started.ready[0].id  # a new task for the people (and the app's task rows)
    assert engine.get_task(instance, reopened.id).data["plan"] == "draft 1"
    again = engine.complete_task(instance, reopened.id, {"plan": "draft 2"})
    done = engine.complete_task(instance, again.ready[0].id, {"decision": "approve"})
    assert done.status == "completed" and done.data["outcome"] == "approved: DRAFT 2"


def test_a_waiting_task_is_skipped_without_data(engine, version_id):
    started = engine.start(version_id, "approval", {"plan": "on paper"})
    skipped = engine.move_token(started.instance_id, started.ready[0].id, None, reason="agreed on paper")
    assert skipped.completed == [started.ready[0].id] and names(skipped.ready) == ["Approve the plan"]
    assert skipped.events[0].payload["how"] == "skip"


def test_a_move_whose_next_step_fails_is_a_script_failure_and_saves_nothing(engine, version_id):
    started = engine.start(version_id, "approval", {})
    prepared = engine.complete_task(started.instance_id, started.ready[0].id, {"plan": "p"})
    before = engine.store.get_instance(started.instance_id)
    with pytest.raises(ScriptFailed, match="decision"):  # the gateway after 'Approve' reads its decision
        engine.move_token(started.instance_id, prepared.ready[0].id, None)
    assert engine.store.get_instance(started.instance_id) == before


def test_moves_the_engine_cannot_make_are_refused(engine, version_id):
    started = engine.start(version_id, "approval", {})
    instance = started.instance_id
    before = engine.store.get_instance(instance)
    with pytest.raises(MoveRefused, match="has not been done"):
        engine.move_token(instance, started.ready[0].id, "approve")  # forward: not supported
    with pytest.raises(MoveRefused, match="has not been done"):
        engine.move_token(instance, started.ready[0].id, "start")  # an event is no activity to reopen
    assert engine.store.get_instance(instance) == before


def test_reopening_a_parallel_branch_does_not_move_the_other_branch_s_token():
    engine = WorkflowEngine(InMemoryStore())
    version_id, _ = engine.deploy({"joint.bpmn": parallel_rework_loop(2)}, {"loop.schema.json": LOOP_FORM})
    instance = engine.start(version_id, "joint", {}).instance_id
    first = next(t for t in engine.ready_tasks(instance) if t.bpmn_id == "b0")
    engine.complete_task(instance, first.id, {"again": False})
    (other,) = engine.ready_tasks(instance)
    with pytest.raises(MoveRefused, match="does not come before"):
        engine.move_token(instance, other.id, "b0")


def test_a_task_a_timer_interrupted_was_not_done_and_is_not_reopened(engine, version_id):
    started = engine.start(version_id, "timers", {"limit": "P5D"}, now=T0)
    escalated = engine.fire_timers(started.instance_id, now=T0 + timedelta(days=6))
    assert names(escalated.ready) == ["Resolve at level 2"]
    with pytest.raises(MoveRefused, match="interrupted, not done"):
        engine.move_token(started.instance_id, escalated.ready[0].id, "work", now=T0 + timedelta(days=7))


def test_the_timer_of_a_withdrawn_task_neither_fires_nor_stays():
    """SpiffWorkflow's reset leaves a withdrawn task's timer with its event manager: an overdue one would fire in
    the same run. Reopening 'Draft' past the deadline of 'Review' withdraws 'Review' and its timer, nothing else."""
    engine = WorkflowEngine(InMemoryStore())
    version_id, _ = engine.deploy({"deadline.bpmn": step_then_deadline()}, {"loop.schema.json": LOOP_FORM})
    started = engine.start(version_id, "deadline", {}, now=T0)
    review = engine.complete_task(started.instance_id, started.ready[0].id, {"i": 1}, now=T0)
    assert [t.due_at for t in review.timers] == [T0 + timedelta(days=1)]
    moved = engine.move_token(started.instance_id, review.ready[0].id, "draft", now=T0 + timedelta(days=2))
    assert names(moved.ready) == ["Draft"] and moved.timers == []
    assert [e.action for e in moved.events] == ["token.moved"]
    again = engine.complete_task(started.instance_id, moved.ready[0].id, {"i": 2}, now=T0 + timedelta(days=3))
    assert names(again.ready) == ["Review"] and [t.due_at for t in again.timers] == [T0 + timedelta(days=4)]
