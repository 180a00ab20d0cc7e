"""Settings a process declares (spiffworkflow:properties on the bpmn:process): scripts read the current spec's value
through setting()/settings(), a migrated instance reads the new version's value, and validation refuses a review
cadence that is not a period, at its line."""

from __future__ import annotations

import pytest

from workflows import InMemoryStore, ValidationFailed, WorkflowEngine

DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs" targetNamespace="http://x">
  <bpmn:process id="outer" isExecutable="true">
    <bpmn:extensionElements>
      <spiffworkflow:properties>
        <spiffworkflow:property name="cadence:R.PM" value="{pm}"/>
        <spiffworkflow:property name="cadence:R.RK" value="P3M"/>
        <spiffworkflow:property name="colour" value="blue"/>
      </spiffworkflow:properties>
    </bpmn:extensionElements>
    <bpmn:startEvent id="o_start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:callActivity id="o_call" calledElement="inner"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing></bpmn:callActivity>
    <bpmn:endEvent id="o_end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="o_start" targetRef="o_call"/>
    <bpmn:sequenceFlow id="f2" sourceRef="o_call" targetRef="o_end"/>
  </bpmn:process>
  <bpmn:process id="inner" isExecutable="true">
    <bpmn:startEvent id="i_start"><bpmn:outgoing>g1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:manualTask id="i_wait" name="Wait"><bpmn:incoming>g1</bpmn:incoming><bpmn:outgoing>g2</bpmn:outgoing></bpmn:manualTask>
    <bpmn:scriptTask id="i_read" name="Read the cadences"><bpmn:incoming>g2</bpmn:incoming><bpmn:outgoing>g3</bpmn:outgoing>
      <bpmn:script>pm = setting("cadence:R.PM", "P6M")
missing = setting("cadence:R.XX", "P12M")
cadences = settings("cadence:")
due = add_period("2026-01-31T09:00:00+00:00", pm)</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="i_end"><bpmn:incoming>g3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="g1" sourceRef="i_start" targetRef="i_wait"/>
    <bpmn:sequenceFlow id="g2" sourceRef="i_wait" targetRef="i_read"/>
    <bpmn:sequenceFlow id="g3" sourceRef="i_read" targetRef="i_end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def files(pm: str) -> dict[str, bytes]:
    return {"cadenced.bpmn": DIAGRAM.replace("{pm}", pm).encode()}


@pytest.fixture
def engine():
    return WorkflowEngine(InMemoryStore())


def finish(engine, started):
    (task,) = started.ready
    engine.complete_task(started.instance_id, task.id, {})
    return engine.instance_data(started.instance_id)


def test_a_script_in_a_called_process_reads_the_calling_process_s_settings(engine):
    version, _ = engine.deploy(files("P3M"), {})
    data = finish(engine, engine.start(version, "outer", {}))
    assert data["pm"] == "P3M"
    assert data["missing"] == "P12M", "an undeclared setting gives the default"
    assert data["cadences"] == {"R.PM": "P3M", "R.RK": "P3M"}
    assert data["due"].startswith("2026-04-30")


def test_a_migrated_instance_reads_the_new_version_s_cadence_when_it_next_schedules(engine):
    v1, _ = engine.deploy(files("P3M"), {})
    v2, _ = engine.deploy(files("P1M"), {})
    started = engine.start(v1, "outer", {})
    engine.migrate(started.instance_id, v2)
    data = finish(engine, started)
    assert data["pm"] == "P1M"
    assert data["due"].startswith("2026-02-28")


def test_settings_survive_the_stored_spec(engine):
    version, _ = engine.deploy(files("P2W"), {})
    reloaded = WorkflowEngine(engine.store)  # no cache: the specs come from the stored JSON
    assert finish(reloaded, reloaded.start(version, "outer", {}))["pm"] == "P2W"


@pytest.mark.parametrize("bad", ["quarterly", "P", "3M", "R/P3M"])
def test_a_review_cadence_that_is_not_a_period_is_a_located_problem(engine, bad):
    with pytest.raises(ValidationFailed) as failed:
        engine.validate(files(bad), {})
    (problem,) = failed.value.problems
    assert problem.file == "cadenced.bpmn" and problem.element_id == "outer"
    assert problem.line == 7, "the line of the property"
    assert f"'R.PM' is {bad!r}, which is not a period" in problem.message and "P1M" in problem.message


def test_other_settings_are_free_text(engine):
    engine.validate({"cadenced.bpmn": DIAGRAM.replace("{pm}", "P3M").replace('"blue"', '"not a period"').encode()}, {})


def test_the_version_diff_names_a_changed_cadence_with_its_old_and_new_value(engine):
    v1, _ = engine.deploy(files("P3M"), {})
    v2, _ = engine.deploy(files("P1M"), {})
    diff = engine.diff(v1, v2)
    (change,) = diff.changed
    assert (change.process_id, change.element_id, change.kind, change.attributes) == (
        "outer", "outer", "Process settings", ("cadence:R.PM",))
    assert [(d.attribute, d.old, d.new) for d in change.details] == [("cadence:R.PM", "P3M", "P1M")]
    assert engine.diff(v1, v1).empty
