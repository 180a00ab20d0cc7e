"""Processes that start on their own, through the real database and engine: a timer start makes one instance per
occurrence on its calendar (exactly once, a missed occurrence once, no more after its last), a redeploy keeps an
unchanged calendar, and a message sent through the API starts every process that catches it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.processes import event_starts
from app.processes.models import HumanTask, ProcessInstance, ProcessStart
from app.processes.services import deploy_version
from tests.support.bpmn import LOOP_FORM, MESSAGE_START, event_started, timer_start

DEPLOYED = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)  # a Monday


def deploy(session, wf_engine, users, lifecycle, *, weekly="R3/P1W", at=DEPLOYED):
    files = {f.name: f.content for f in lifecycle.files if f.kind == "bpmn"}
    forms = {f.name: f.content for f in lifecycle.files if f.kind == "form"}
    files["weekly.bpmn"] = event_started(timer_start("timeCycle", weekly))  # unquoted, as modelling tools write it
    files["news.bpmn"] = event_started(MESSAGE_START, process_id="on_news", name="Partner news")
    version, _warnings, _ = deploy_version(session, wf_engine, files, {**forms, "loop.schema.json": LOOP_FORM},
                                           user=users["owner"], message="with event starts", now=at)
    return version


def started(session, process_id="weekly"):
    session.expire_all()
    return list(session.scalars(select(ProcessInstance).where(ProcessInstance.process_id == process_id)
                                .order_by(ProcessInstance.id)))


def test_a_timer_start_makes_one_instance_per_occurrence_on_its_calendar(session, wf_engine, users, lifecycle):
    deploy(session, wf_engine, users, lifecycle)
    first = DEPLOYED + timedelta(weeks=1)
    assert event_starts.start_due(session, wf_engine, now=first - timedelta(minutes=1)) == []
    assert event_starts.next_start_at(session) == first

    (result,) = event_starts.start_due(session, wf_engine, now=first + timedelta(minutes=1))
    assert event_starts.start_due(session, wf_engine, now=first + timedelta(minutes=2)) == [], "exactly once"
    (instance,) = started(session)
    assert instance.id == result.instance_id and instance.title == "Weekly check · 11 Jan 2027"
    assert session.scalars(select(HumanTask.bpmn_id).where(HumanTask.instance_id == instance.id)).all() == ["check"]
    event = session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id,
                                                     AuditEvent.action == "instance.started")).one()
    assert event.actor == "scheduler"

    # the scheduler was down for 17 days: the missed occurrence starts once, then the calendar resumes
    assert len(event_starts.start_due(session, wf_engine, now=first + timedelta(days=17))) == 1
    assert event_starts.next_start_at(session) == first + timedelta(weeks=3)
    assert len(event_starts.start_due(session, wf_engine, now=first + timedelta(weeks=3, minutes=1))) == 1
    assert len(started(session)) == 3 and event_starts.next_start_at(session) is None, "R3: three, then no more"
    (shown,) = event_starts.scheduled(session, wf_engine)
    assert (shown.name, shown.timer, shown.started, shown.next_at) == ("Weekly check", "R3/P1W", 3, None)


def test_a_redeploy_keeps_an_unchanged_calendar_and_reschedules_a_changed_one(session, wf_engine, users, lifecycle):
    deploy(session, wf_engine, users, lifecycle, weekly="R/P1W")
    event_starts.start_due(session, wf_engine, now=DEPLOYED + timedelta(days=1))
    deploy(session, wf_engine, users, lifecycle, weekly="R/P1W", at=DEPLOYED + timedelta(days=3))
    assert event_starts.next_start_at(session) == DEPLOYED + timedelta(weeks=1)
    deploy(session, wf_engine, users, lifecycle, weekly="R/P2W", at=DEPLOYED + timedelta(days=4))
    event_starts.start_due(session, wf_engine, now=DEPLOYED + timedelta(days=5))
    assert event_starts.next_start_at(session) == DEPLOYED + timedelta(days=4, weeks=2)
    row = session.scalars(select(ProcessStart)).one()
    assert (row.timer, row.period) == ("R/P2W", "P2W")


def test_a_message_sent_through_the_api_starts_every_process_that_catches_it(api, session, wf_engine, users,
                                                                             lifecycle):
    deploy(session, wf_engine, users, lifecycle)
    admin = api("admin")
    sent = admin.post("processes/messages/news", {"data": {"headline": "Partner acquired"}})
    assert sent.status_code == 201, sent.get_json()
    (body,) = sent.get_json()["started"]
    assert body["process_id"] == "on_news" and [t["name"] for t in body["next_tasks"]] == ["Check it"]
    unknown = admin.post("processes/messages/gossip", {"data": {}})
    assert unknown.status_code == 404 and "news" in unknown.get_json()["message"]
    assert api("staff").post("processes/messages/news", {"data": {}}).status_code == 403
    assert len(started(session, "on_news")) == 1, "refusals started nothing"
    listed = api("owner").get("processes/scheduled").get_json()
    assert [(s["process_id"], s["timer"]) for s in listed] == [("weekly", "R3/P1W")]


@pytest.mark.parametrize("path", ["/api/v1/processes/messages/{message}", "/api/v1/processes/scheduled"])
def test_the_openapi_document_lists_the_event_start_endpoints(api, path):
    assert path in api("staff").get("openapi.json").get_json()["paths"]


def test_the_start_page_shows_what_starts_on_its_own_to_process_owners(session, wf_engine, users, lifecycle,
                                                                        signed_in):
    deploy(session, wf_engine, users, lifecycle)
    page = signed_in("owner").get("/start").get_data(as_text=True)
    assert 'id="scheduled-starts"' in page and "R3/P1W" in page and "11 Jan 2027" in page
    assert "<code>news</code> starts on_news" in page
    assert 'id="on-their-own"' not in signed_in("staff").get("/start").get_data(as_text=True)
