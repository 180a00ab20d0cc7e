"""Timer values as modelling tools write them (bpmn.io/Camunda Modeler, Signavio, Open-BPMN): a bare ISO 8601
duration, cycle or date-time is that value, and it runs; expressions keep working; a value that only looks like
ISO 8601 is refused at validation, located and with the fix, never when the timer is reached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.bpmn import HEAD
from tests.support.bundles import T0
from workflows import InMemoryStore, ValidationFailed, WorkflowEngine, validate
from workflows.inspect import inspect

NOTE_FORM = b'{"type": "object", "properties": {"note": {"type": "string"}}}'


def waiting(kind: str, value: str, process_id: str = "wait") -> bytes:
    """start -> intermediate timer (kind: timeDuration | timeDate) with `value` as written -> end."""
    return (HEAD + f'''  <bpmn:process id="{process_id}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="wait_timer" name="Wait">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition id="td"><bpmn:{kind} xsi:type="bpmn:tFormalExpression" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">{value}</bpmn:{kind}></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait_timer" />
    <bpmn:sequenceFlow id="f2" sourceRef="wait_timer" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>''').encode()


def reminding(value: str, process_id: str = "remind") -> bytes:
    """start -> user task with a non-interrupting boundary timeCycle `value` (as written) -> end."""
    return (HEAD + f'''  <bpmn:process id="{process_id}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="work" name="Do the work">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="note.schema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="daily" name="Daily reminder" attachedToRef="work" cancelActivity="false">
      <bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeCycle>{value}</bpmn:timeCycle></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="reminded"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />
    <bpmn:sequenceFlow id="f3" sourceRef="daily" targetRef="reminded" />
  </bpmn:process>
</bpmn:definitions>''').encode()


def deploy(engine, xml: bytes, name="t.bpmn"):
    version_id, compiled = engine.deploy({name: xml}, {"note.schema.json": NOTE_FORM})
    return version_id, compiled


@pytest.mark.parametrize("value", ["P7D", "  P7D  ", "\n        P7D\n      ", '"P7D"', "period",
                                   "add_period(now(), 'P3D', 2) and 'P7D'"])
def test_a_seven_day_wait_fires_after_seven_days_however_it_is_written(engine, value):
    version_id, _ = deploy(engine, waiting("timeDuration", value))
    started = engine.start(version_id, "wait", {"period": "P7D"}, now=T0)
    (timer,) = started.timers
    assert (timer.bpmn_id, timer.kind, timer.due_at) == ("wait_timer", "duration", T0 + timedelta(days=7))
    early = engine.fire_timers(started.instance_id, now=T0 + timedelta(days=6, hours=23))
    assert early.status == "running" and early.events == []
    due = engine.fire_timers(started.instance_id, now=T0 + timedelta(days=7, seconds=1))
    assert due.status == "completed" and [e.action for e in due.events] == ["timer.fired", "instance.completed"]


def test_an_unquoted_six_day_cycle_reminds_six_times_then_stops(engine):
    version_id, _ = deploy(engine, reminding("R6/P1D"))
    started = engine.start(version_id, "remind", {}, now=T0)
    assert [(t.kind, t.due_at) for t in started.timers] == [("cycle", T0 + timedelta(days=1))]
    fired = 0
    for day in range(1, 9):
        result = engine.fire_timers(started.instance_id, now=T0 + timedelta(days=day, seconds=1))
        fired += [e.action for e in result.events].count("timer.fired")
        assert [t.name for t in result.ready] == ["Do the work"], "the reminders never touch the task"
        if day < 6:
            assert result.timers[0].due_at == T0 + timedelta(days=day + 1)
    assert fired == 6 and engine.ready_tasks(started.instance_id)
    record = engine.store.get_instance(started.instance_id)
    assert record.timers == [], "after six reminders the cycle is over"


def test_an_unquoted_date_fires_at_that_date(engine):
    version_id, _ = deploy(engine, waiting("timeDate", " 2026-03-01T09:00:00Z "))
    started = engine.start(version_id, "wait", {}, now=T0)
    assert started.timers[0].due_at == datetime(2026, 3, 1, 9, tzinfo=UTC)
    before = engine.fire_timers(started.instance_id, now=datetime(2026, 3, 1, 8, 59, tzinfo=UTC))
    assert before.status == "running"
    after = engine.fire_timers(started.instance_id, now=datetime(2026, 3, 1, 9, 0, 1, tzinfo=UTC))
    assert after.status == "completed"


def test_a_date_without_a_time_zone_is_accepted_with_a_warning():
    compiled = validate({"t.bpmn": waiting("timeDate", "2026-03-01T09:00:00")}, {})
    (warning,) = compiled.problems
    assert warning.severity == "warning" and warning.element_id == "wait_timer" and "time zone" in warning.message


@pytest.mark.parametrize("kind, value, fix", [
    ("timeDuration", "P3X", "such as P7D"),  # a mistyped duration, or a data field named like one
    ("timeDuration", "p7d", "in capitals: P7D"),
    ("timeDuration", "PT", "such as P7D"),
    ("timeDuration", "R6/P1D", "duration such as P7D"),  # a cycle in a duration
    ("timeDuration", "2026-03-01T09:00:00Z", "duration such as P7D"),
    ("timeDuration", '"P3X"', "such as P7D"),
    ("timeDate", "2026-13-01T09:00:00Z", "date-time such as 2026-03-01T09:00:00Z"),
    ("timeDate", "2026-3-1", "date-time such as"),  # Python would read 2022
    ("timeDate", "P7D", "date-time such as"),  # would fail at run time in SpiffWorkflow
    ("timeCycle", "R6/P1X", "repeating interval such as R6/P1D"),
    ("timeCycle", "P1D", "repeating interval such as R6/P1D"),
    ("timeCycle", "r6/p1d", "in capitals: R6/P1D"),
])
def test_a_value_that_only_looks_like_iso_8601_is_refused_at_validation_with_the_fix(kind, value, fix):
    xml = reminding(value) if kind == "timeCycle" else waiting(kind, value)
    with pytest.raises(ValidationFailed) as refused:
        validate({"t.bpmn": xml}, {"note.schema.json": NOTE_FORM})
    (problem,) = refused.value.problems
    element = "daily" if kind == "timeCycle" else "wait_timer"
    assert (problem.file, problem.element_id, problem.element_name) == (
        "t.bpmn", element, "Daily reminder" if kind == "timeCycle" else "Wait")
    assert problem.line == (11 if kind == "timeCycle" else 5)
    assert "not valid ISO 8601" in problem.message and kind in problem.message and fix in problem.message


def test_inspect_validate_and_the_engine_read_a_timer_the_same_way():
    xml = waiting("timeDuration", "P7D")
    assert inspect("t.bpmn", xml).runnable
    engine = WorkflowEngine(InMemoryStore())
    assert engine.inspect("t.bpmn", xml).runnable
    refused = waiting("timeDuration", "P7X")
    report = engine.inspect("t.bpmn", refused)
    with pytest.raises(ValidationFailed) as failed:
        engine.validate({"t.bpmn": refused}, {})
    assert [p.message for p in report.problems] == [p.message for p in failed.value.problems]
