"""The scenario runner on the real engine: each step kind, each failure kind in plain words with the step and the
element, timers on the scenario's clock, effects recorded not run, and the bundled scenarios passing."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from workflows import read_directory, validate
from workflows.scenarios import (
    ScenarioInvalid,
    check,
    parse,
    period_between,
    read_scenarios,
    run,
    run_all,
    run_cached,
    run_file,
)

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "bpmn" / "scenarios"

MESSAGE_BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:message id="m_update" name="partner_update"/>
  <bpmn:process id="waits_for_message" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="got_update"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:messageEventDefinition id="med" messageRef="m_update">
        <bpmn:extensionElements><spiffworkflow:messageVariable>update</spiffworkflow:messageVariable>
        </bpmn:extensionElements></bpmn:messageEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:scriptTask id="note"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>seen = update["what"]</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="done"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="got_update"/>
    <bpmn:sequenceFlow id="f2" sourceRef="got_update" targetRef="note"/>
    <bpmn:sequenceFlow id="f3" sourceRef="note" targetRef="done"/>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture(scope="module")
def compiled():
    return validate(*read_directory(ROOT / "bpmn", ROOT / "forms"))


def bundled(name) -> dict:
    return json.loads((SCENARIOS / f"{name}.scenario.json").read_text())


def outcome(compiled, doc):
    return run(compiled, parse("test.scenario.json", json.dumps(doc)))


def failure(compiled, doc):
    result = outcome(compiled, doc)
    assert not result.passed, "the scenario was expected to fail"
    return result.failure


def stop_at_stage2(**expect) -> dict:
    doc = bundled("stage2_stop")
    doc["expect"] = expect
    return doc


# ------------------------------------------------------------------------------------------------ bundled
@pytest.mark.parametrize("name", sorted(p.name for p in SCENARIOS.glob("*.scenario.json")))
def test_every_bundled_scenario_passes_on_the_bundled_diagrams(compiled, name):
    result = run_file(compiled, name, (SCENARIOS / name).read_bytes())
    assert result.passed, result.failure.message
    assert all(step.passed for step in result.steps)


def test_the_bundle_covers_the_lifecycles_main_paths():
    ends = {json.loads(p.read_text())["expect"].get("end") for p in SCENARIOS.glob("*.scenario.json")}
    assert {"lc_end", "lc_end_not_appropriate", "ir_exit_trigger_end", None} <= ends


# ------------------------------------------------------------------------------------------------ steps
def test_completing_a_task_that_is_not_ready_names_the_step_and_the_ready_tasks(compiled):
    doc = stop_at_stage2()
    doc["steps"].insert(1, {"complete": "s2_ser_gate", "data": {"decision": "approve"}})
    failed = failure(compiled, doc)
    assert failed.number == 2 and failed.element_id == "s2_ser_gate"
    assert failed.message.startswith("step 2: expected the task 's2_ser_gate' to be ready to complete, but the "
                                     "ready tasks were: s2_people_skills (")


def test_steps_after_a_failure_are_reported_as_not_run(compiled):
    doc = stop_at_stage2()
    doc["steps"].insert(0, {"complete": "s4_ser_gate"})
    result = outcome(compiled, doc)
    assert [s.passed for s in result.steps[:3]] == [True, False, None]
    assert all(s.passed is None for s in result.steps[2:])


def test_a_step_the_diagram_cannot_run_fails_at_the_element_that_failed(compiled):
    doc = stop_at_stage2(end="lc_end_not_appropriate")
    doc["steps"][-1]["data"] = {"comments": "x"}  # no decision: the script recording the gate cannot run
    failed = failure(compiled, doc)
    assert failed.number == len(doc["steps"])
    assert failed.message.startswith(f"step {failed.number}: completing 's2_ser_gate' failed: the script failed: "
                                     "name 'decision' is not defined")
    assert failed.element_id == "s2_ser_gate"       # its postScript records the decision


def test_waiting_lets_timers_fire_at_their_due_time_on_the_scenarios_clock(compiled):
    doc = bundled("issue_escalation")
    assert outcome(compiled, doc).passed
    early = copy.deepcopy(doc)
    early["steps"][2]["expect"] = {"ready": ["ir_level2"]}   # 4 days: level 1's 5-day limit has not passed
    failed = failure(compiled, early)
    assert failed.message == ("step 3: expected the task 'ir_level2' to be ready, but the ready tasks were: "
                              "ir_level1 (Resolve at level 1)")
    assert failed.element_id == "ir_level2"


def test_a_scenario_starting_later_moves_its_clock_with_it(compiled):
    doc = bundled("issue_escalation")
    doc["at"] = "2030-06-01T12:00:00+00:00"
    assert outcome(compiled, doc).passed


def test_a_signal_nobody_waits_for_fails_with_what_is_ready(compiled):
    doc = stop_at_stage2()
    doc["steps"].insert(1, {"signal": "organisation_ready", "payload": {}})
    failed = failure(compiled, doc)
    assert failed.message.startswith("step 2: expected the process to wait for the signal 'organisation_ready', "
                                     "but it does not; the ready tasks were: s2_people_skills (")


def test_a_message_with_its_payload_reaches_the_process():
    compiled = validate({"message.bpmn": MESSAGE_BPMN}, {})
    doc = {"name": "message", "process": "waits_for_message", "steps": [
        {"expect": {"end": None}},
        {"message": "partner_update", "payload": {"what": "new address"}}],
        "expect": {"end": "done", "data": {"seen": "new address"}, "path": ["got_update", "note", "done"]}}
    assert outcome(compiled, doc).passed
    doc["steps"][1]["message"] = "other"
    assert failure(compiled, doc).message.startswith(
        "step 2: expected the process to wait for the message 'other', but it does not")


# ------------------------------------------------------------------------------------------------ expectations
def test_the_path_must_be_passed_in_the_order_given(compiled):
    assert outcome(compiled, stop_at_stage2(path=["s2_opportunity", "s2_ser_gate", "lc_end_not_appropriate"])).passed
    failed = failure(compiled, stop_at_stage2(path=["s2_ser_gate", "s2_opportunity"]))
    assert failed.element_id == "s2_opportunity"
    assert failed.message.startswith(f"step {failed.number}: expected the process to pass 's2_opportunity' after "
                                     "'s2_ser_gate', but it did not; it passed: ")
    assert outcome(compiled, stop_at_stage2(path_any=["s2_ser_gate", "s2_opportunity"])).passed
    assert failure(compiled, stop_at_stage2(path_any=["s4_ser_gate"])).element_id == "s4_ser_gate"


def test_the_end_reached_and_the_data_must_match(compiled):
    failed = failure(compiled, stop_at_stage2(end="lc_end"))
    assert failed.message.endswith("expected the process to end at 'lc_end', but it ended at "
                                   "'lc_end_not_appropriate'")
    assert failed.element_id == "lc_end"
    failed = failure(compiled, stop_at_stage2(end=None))
    assert "expected the process to be still running, but it is completed" in failed.message
    failed = failure(compiled, stop_at_stage2(data={"outcome": "completed"}))
    assert failed.message.endswith('expected outcome = "completed", but it was "not_appropriate"')
    failed = failure(compiled, stop_at_stage2(data={"no_such_field": 1}))
    assert failed.message.endswith("expected no_such_field = 1, but the data has no no_such_field")


def test_ready_and_not_ready_are_checked_after_each_step(compiled):
    doc = bundled("rework")
    assert outcome(compiled, doc).passed
    doc["steps"][0]["expect"] = {"not_ready": ["s2_people_skills"]}
    failed = failure(compiled, doc)
    assert failed.message == "step 1: expected the task 's2_people_skills' not to be ready, but it is"


def test_linked_processes_and_signals_to_the_parent_are_recorded_not_run(compiled):
    happy = outcome(compiled, bundled("happy_path"))
    assert happy.passed
    assert {e["process"] for e in happy.effects if e["kind"] == "start_process"} == {"periodic_review"}
    issue = outcome(compiled, bundled("issue_escalation"))
    assert [e["name"] for e in issue.effects if e["kind"] == "signal_parent"] == ["exit_trigger"]
    failed = failure(compiled, stop_at_stage2(started=["issue_resolution"]))
    assert failed.message.endswith("expected a 'issue_resolution' process to be started, but no process was "
                                   "started")
    failed = failure(compiled, stop_at_stage2(signalled=["exit_trigger"]))
    assert failed.message.endswith("expected the signal 'exit_trigger' to be sent to the calling process, but no "
                                   "signal was sent")


def test_a_process_the_version_lacks_fails_at_the_start(compiled):
    failed = failure(compiled, {"name": "x", "process": "no_such_process", "steps": []})
    assert failed.number == 0
    assert failed.message == "step 0: the scenario starts the process 'no_such_process', which this version does not have"


# ------------------------------------------------------------------------------------------------ the document
def test_bad_json_names_the_line():
    with pytest.raises(ScenarioInvalid) as caught:
        parse("x.scenario.json", '{"name": "x",\n "process": "p",\n "steps": [\n  {"wait": "P1D"},,\n ]}')
    (problem,) = caught.value.problems
    assert problem.line == 4 and problem.file == "x.scenario.json"
    assert problem.message.startswith("the scenario is not valid JSON: ")


@pytest.mark.parametrize("step, words", [
    ({"wait": "3 months"}, "step 1: \"wait\" needs an ISO period such as P3M or P10D, not '3 months'"),
    ({"complete": "a", "signal": "b"}, "step 1: a step does one thing; this one has complete and signal"),
    ({"jump": "a"}, "step 1: a step needs one of complete, wait, signal, message, expect"),
    ({"complete": "a", "payload": {}}, "step 1: unknown key(s) payload for a complete step"),
    ({"expect": {"ready": "a"}}, "step 1: \"ready\" must be a list of ids"),
    ({"expect": {"finish": "a"}}, "step 1: unknown expectation(s) finish"),
])
def test_a_bad_step_is_named_with_what_to_write(step, words):
    with pytest.raises(ScenarioInvalid) as caught:
        parse("x.scenario.json", json.dumps({"name": "x", "process": "p", "steps": [step]}))
    assert caught.value.problems[0].message.startswith(words)


def test_an_unreadable_scenario_is_a_failed_result_not_an_error(compiled):
    (result,) = run_all(compiled, {"broken.scenario.json": b"{"})
    assert not result.passed and result.failure.message.startswith("step 0: the scenario cannot be read: ")


# ------------------------------------------------------------------------------------------------ the deploy gate
def test_the_gate_refuses_a_version_whose_scenario_fails_located_at_the_scenario_and_the_element(compiled):
    broken = stop_at_stage2(end="lc_end")
    problems = check({"stop.scenario.json": json.dumps(broken).encode()})(compiled)
    (problem,) = problems
    assert (problem.file, problem.element_id, problem.severity) == ("stop.scenario.json", "lc_end", "error")
    assert problem.message.startswith("scenario 'Stage 2 stop: collaboration not appropriate' fails at step 10: "
                                      "expected the process to end at 'lc_end'")
    passing = {"stop.scenario.json": (SCENARIOS / "stage2_stop.scenario.json").read_bytes(),
               "rework.scenario.json": (SCENARIOS / "rework.scenario.json").read_bytes()}
    (notice,) = check(passing)(compiled)
    assert (notice.message, notice.severity) == ("2 scenarios passed", "notice")
    assert check({})(compiled) == []


def test_a_scenario_runs_once_per_version_content_and_scenario_content(compiled):
    content = (SCENARIOS / "stage2_stop.scenario.json").read_bytes()
    first = run_cached(compiled, {"stop.scenario.json": content})
    assert run_cached(compiled, {"stop.scenario.json": content})[0] is first[0]
    changed = run_cached(compiled, {"stop.scenario.json": content.replace(b"Stage 2 stop", b"Stop")})
    assert changed[0] is not first[0] and changed[0].name.startswith("Stop")


def test_the_bundled_scenarios_are_read_from_their_folder_beside_the_diagrams(tmp_path):
    found = read_scenarios(ROOT / "bpmn" / "scenarios")
    assert set(found) == {p.name for p in SCENARIOS.glob("*.scenario.json")} and len(found) >= 5
    assert read_scenarios(tmp_path / "missing") == {}


@pytest.mark.parametrize("seconds, period", [(0, None), (1, "PT1S"), (3600 * 3, "PT3H"), (86400 * 5 + 60, "P5DT1M")])
def test_the_time_between_two_steps_is_written_as_an_iso_period(seconds, period):
    from datetime import timedelta

    from workflows.scenarios import DEFAULT_START
    assert period_between(DEFAULT_START, DEFAULT_START + timedelta(seconds=seconds)) == period


def test_a_wait_beyond_the_calendar_fails_the_step_in_words(compiled):
    doc = stop_at_stage2()
    doc["steps"].insert(0, {"wait": "P9999Y"})
    failed = failure(compiled, doc)
    assert failed.number == 1 and failed.message.startswith("step 1: the step could not run: ")
