"""Finished loop rounds leave the task tree (workflows.compaction), and nothing a person, a timer or the product can
observe changes: every bundled scenario and a set of loops run in lockstep on the product's engine and on one that
keeps every task, compared after every step."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.bpmn import LOOP_FORM, parallel_rework_loop, rework_loop
from workflows import WorkflowEngine, read_directory, repair, scenarios
from workflows.scenarios import _action, _RecordingEngine, _Run
from workflows.specs import validate
from workflows.store import InMemoryStore

ROOT = Path(__file__).resolve().parents[2]
AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class _KeepsEveryTask(_RecordingEngine):
    compaction = False


def _engines(compiled, reference: bool):
    engine = scenarios._engine(compiled, None, None)
    if reference:
        engine.__class__ = _KeepsEveryTask
    return engine


def observed(run: _Run) -> dict:
    """Everything about the instance that does not depend on SpiffWorkflow's random task ids."""
    engine, instance_id = run.engine, run.instance_id
    record = engine.store.get_instance(instance_id)
    wf = engine._load(record)
    ready = sorted((t.bpmn_id, t.name, t.lane, t.process_id, t.form,
                    json.dumps(engine.get_task(instance_id, t.id).data, sort_keys=True, default=str))
                   for t in record.ready_tasks)
    return {"status": record.status, "ready": ready,
            "timers": sorted((t.bpmn_id, t.due_at.isoformat(), t.kind) for t in record.timers),
            "data": json.dumps(engine.instance_data(instance_id), sort_keys=True, default=str),
            "path": run.passed(), "ends": run.ends(),
            "done": sorted((d.bpmn_id, d.process_id, d.kind) for d in repair.done_elements(wf)),
            "effects": json.dumps(engine.recorded, sort_keys=True, default=str)}


def tree_size(run: _Run) -> int:
    wf = run.engine._load(run.engine.store.get_instance(run.instance_id))
    return len(wf.tasks) + sum(len(sub.tasks) for sub in wf.subprocesses.values())


def lockstep(compiled, process: str, start: dict, steps: list[dict], at: datetime = AT) -> tuple[int, int]:
    """Run `steps` on both engines, comparing after each; the two trees' sizes at the end (product, reference)."""
    runs = [_Run(_engines(compiled, reference), at) for reference in (False, True)]
    for run in runs:
        run.start(process, start)
    assert observed(runs[0]) == observed(runs[1]), "after the start"
    for number, step in enumerate(steps, 1):
        outcomes = []
        for run in runs:
            try:
                act = _action(run, step)
                if act is not None:
                    act()
                run.check(step.get("expect") or {})
                outcomes.append("ok")
            except scenarios._Failed as exc:
                outcomes.append(exc.message)
        assert outcomes[0] == outcomes[1], f"step {number} {step}"
        assert observed(runs[0]) == observed(runs[1]), f"after step {number}: {step}"
    return tree_size(runs[0]), tree_size(runs[1])


@pytest.fixture(scope="module")
def bundled():
    files, forms = read_directory(ROOT / "bpmn", ROOT / "forms")
    return validate(files, forms)


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "bpmn" / "scenarios").glob("*.scenario.json")))
def test_every_bundled_scenario_behaves_the_same_with_finished_rounds_removed(bundled, name):
    scenario = scenarios.parse(name, (ROOT / "bpmn" / "scenarios" / name).read_bytes())
    product, reference = lockstep(bundled, scenario.process, scenario.start, scenario.steps, scenario.at)
    assert product <= reference
    # and the runner itself, which reads paths through the removed rounds, still passes it
    result = scenarios.run(bundled, scenario)
    assert result.passed, result.failure


def test_the_rework_scenario_really_removes_rounds(bundled):
    scenario = scenarios.parse("rework.scenario.json", (ROOT / "bpmn/scenarios/rework.scenario.json").read_bytes())
    product, reference = lockstep(bundled, scenario.process, scenario.start, scenario.steps, scenario.at)
    assert product < reference


@pytest.fixture(scope="module")
def loops():
    return validate({"loop.bpmn": rework_loop(), "joint.bpmn": parallel_rework_loop(3)},
                    {"loop.schema.json": LOOP_FORM})


def test_a_sequence_loop_is_the_same_round_after_round_and_its_tree_stays_small(loops):
    steps = [{"complete": "step", "data": {"again": True, "i": i}} for i in range(40)]
    steps.append({"complete": "step", "data": {"again": False, "i": 40}})
    product, reference = lockstep(loops, "loop", {}, steps)
    assert reference > 80 and product < 12


def test_a_parallel_joint_loop_waits_for_every_branch_of_its_own_round(loops):
    steps = []
    for round_ in range(12):
        steps += [{"complete": "b0", "data": {"i": round_}}, {"complete": "b1", "data": {"i": round_}},
                  {"expect": {"not_ready": ["b0", "b1"]}},
                  {"complete": "b2", "data": {"i": round_, "again": round_ < 11}}]
    product, reference = lockstep(loops, "joint", {}, steps)
    assert product * 3 < reference


def test_state_size_and_completion_work_stay_flat_over_two_hundred_rounds():
    engine = WorkflowEngine(InMemoryStore())
    version_id, _ = engine.deploy({"loop.bpmn": rework_loop()}, {"loop.schema.json": LOOP_FORM})
    result = engine.start(version_id, "loop", {})
    sizes = []
    for i in range(200):
        result = engine.complete_task(result.instance_id, result.ready[0].id, {"again": True, "i": i})
        sizes.append(len(engine.store.get_instance(result.instance_id).state))
    # no growth once the first rounds are behind (a few bytes either way: the round's number, timestamps' digits)
    assert max(sizes[-20:]) <= max(sizes[10:30]) + 32 and max(sizes) < 4096


def test_moving_a_token_back_to_a_removed_rounds_element_reopens_its_newest_occurrence():
    engine = WorkflowEngine(InMemoryStore())
    version_id, _ = engine.deploy({"loop.bpmn": rework_loop()}, {"loop.schema.json": LOOP_FORM})
    result = engine.start(version_id, "loop", {})
    for i in range(5):
        result = engine.complete_task(result.instance_id, result.ready[0].id, {"again": True, "i": i})
    elements = engine.done_elements(result.instance_id)
    assert [e.bpmn_id for e in elements] == ["step"]
    moved = engine.move_token(result.instance_id, result.ready[0].id, "step")
    reopened = engine.get_task(result.instance_id, moved.ready[0].id)
    assert reopened.bpmn_id == "step" and reopened.data["i"] == 4  # the last round's answers, not the first's


def test_an_instance_reworked_many_times_still_migrates_and_still_names_its_history():
    from tests.support.bundles import read_test_bundle
    from tests.support.versions import version_2, version_3
    engine = WorkflowEngine(InMemoryStore())
    files, forms = read_test_bundle()
    v1, _ = engine.deploy(files, forms)
    v2, _ = engine.deploy(version_2(files), forms)
    v3, _ = engine.deploy(version_3(files), forms)
    result = engine.start(v1, "approval", {})
    instance_id = result.instance_id
    for round_ in range(8):
        result = engine.complete_task(instance_id, result.ready[0].id, {"plan": f"plan {round_}"})
        result = engine.complete_task(instance_id, result.ready[0].id, {"decision": "rework", "comments": "again"})
    wf = engine._load(engine.store.get_instance(instance_id))
    assert len(wf.tasks) < 20, "eight rounds of rework are not kept"
    verdict = engine.check_migration(instance_id, v3)  # approve ran (rounds ago): v3, which drops it, is refused
    assert verdict.reasons == ("approve (Approve the plan) is in this instance's history but does not exist "
                               "in the new version",)
    moved = engine.migrate(instance_id, v2)
    nxt = engine.complete_task(instance_id, moved.ready[0].id, {"plan": "final"})
    assert [t.name for t in nxt.ready] == ["Check the plan"], "the new step of version 2"
