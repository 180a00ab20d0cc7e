"""Processes that start on a timer or a message: what the diagram declares, when a timer start falls due
(calendar-true, once per occurrence), and an instance started by its trigger going straight past its start
event."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.bpmn import LOOP_FORM, MESSAGE_START, event_started, timer_start
from workflows import InMemoryStore, WorkflowEngine
from workflows.starting import MESSAGE, TIMER, StartSchedule, declarations, following, schedule

DEPLOYED = datetime(2027, 1, 31, 9, 0, tzinfo=UTC)


def deployed(definition):
    engine = WorkflowEngine(InMemoryStore())
    version_id, _ = engine.deploy({"weekly.bpmn": event_started(definition)}, {"loop.schema.json": LOOP_FORM})
    (declared,) = declarations(engine.specs(version_id))
    return engine, version_id, declared


@pytest.mark.parametrize(("kind", "value", "written"), [
    ("timeCycle", "R/P1M", "R/P1M"), ("timeCycle", '"R4/P1W"', "R4/P1W"), ("timeDuration", "P7D", "P7D"),
    ("timeDate", "2027-03-01T09:00:00Z", "2027-03-01T09:00:00Z")])
def test_a_timer_start_is_declared_with_its_value_as_written(kind, value, written):
    _engine, _version, declared = deployed(timer_start(kind, value))
    assert (declared.how, declared.timer_kind, declared.timer, declared.name) == (TIMER, kind, written,
                                                                                   "Weekly check")


def test_a_message_start_is_declared_with_its_message():
    _engine, _version, declared = deployed(MESSAGE_START)
    assert (declared.how, declared.message) == (MESSAGE, "news")


def test_schedules_are_calendar_true_and_end_when_their_repeats_do():
    _e, _v, monthly = deployed(timer_start("timeCycle", "R3/P1M"))
    first = schedule(monthly, DEPLOYED)
    assert first == StartSchedule(datetime(2027, 2, 28, 9, 0, tzinfo=UTC), "P1M", 3, DEPLOYED)  # 31 Jan + 1 month
    second = following(first, first.next_at)
    third = following(second, second.next_at)
    assert (second.next_at, third.next_at, third.remaining) == (datetime(2027, 3, 31, 9, 0, tzinfo=UTC),
                                                                datetime(2027, 4, 30, 9, 0, tzinfo=UTC), 1)
    assert following(third, third.next_at) is None, "three starts, then no more"


def test_missed_occurrences_start_once_then_resume_on_the_calendar():
    _e, _v, weekly = deployed(timer_start("timeCycle", "R/2027-02-01T08:00:00Z/P1W"))
    first = schedule(weekly, DEPLOYED)
    assert first.next_at == datetime(2027, 2, 1, 8, 0, tzinfo=UTC) and first.remaining is None
    back = datetime(2027, 3, 3, 12, 0, tzinfo=UTC)   # the server was down for a month
    assert following(first, back).next_at == datetime(2027, 3, 8, 8, 0, tzinfo=UTC)


def test_dates_and_durations_start_once():
    _e, _v, dated = deployed(timer_start("timeDate", "2027-03-01T09:00:00Z"))
    assert schedule(dated, DEPLOYED).next_at == datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    assert schedule(dated, datetime(2027, 3, 2, tzinfo=UTC)) is None, "a date already past starts nothing"
    _e, _v, later = deployed(timer_start("timeDuration", "P7D"))
    once = schedule(later, DEPLOYED)
    assert once.next_at == datetime(2027, 2, 7, 9, 0, tzinfo=UTC) and following(once, once.next_at) is None


@pytest.mark.parametrize("definition", [timer_start("timeCycle", "R/P1W"), timer_start("timeDuration", "P30D"),
                                        timer_start("timeDate", "2030-01-01T00:00:00Z"), MESSAGE_START])
def test_an_instance_started_by_its_trigger_goes_straight_past_its_start_event(definition):
    engine, version_id, _declared = deployed(definition)
    started = engine.start(version_id, "weekly", {"note": "x"}, now=DEPLOYED, triggered=True)
    assert [t.bpmn_id for t in started.ready] == ["check"] and started.timers == []
    waiting = engine.start(version_id, "weekly", {}, now=DEPLOYED)
    assert waiting.ready == [], "started without its trigger, it waits at the start event as BPMN says"
