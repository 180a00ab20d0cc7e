"""The task page is only a way in: completing a task through the page (a browser's POST, CSRF token and all)
leaves the instance in the same state, with the same next tasks and the same audit events, as completing it
through `app.processes.services.complete_task` with the same answers."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.db import utcnow
from app.processes.models import HumanTask, ProcessInstance
from app.processes.services import complete_task
from app.processes.store import SqlInstanceStore
from app.relationships import services as relationships
from tests.support.tasks import VALID_POLICY
from tests.support.web import form_fields

GATE_DECISION = {"decision": "rework", "comments": "Name the policy owner."}
CASES = {
    # task: (who completes it, what the service receives, what the browser posts)
    "s1_policy": ("staff", VALID_POLICY, {**form_fields(VALID_POLICY), "action": "complete"}),
    "s1_gate": ("ser", GATE_DECISION, {"f.decision": "rework", "f.comments": "Name the policy owner.",
                                       "action": "complete"}),
}


def ready_row(session, instance_id, bpmn_id) -> HumanTask:
    session.expire_all()
    return session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                  HumanTask.bpmn_id == bpmn_id, HumanTask.state == "ready"))


def last_event_id(session) -> int:
    return session.scalar(select(func.max(AuditEvent.id))) or 0


def outcome(session, wf_engine, users, instance_id, since: int):
    """What an instance looks like after the completion: its data, status, next tasks, and its audit events
    since `since` (action, actor, payload keys: ids and times differ between two instances by nature)."""
    session.expire_all()
    engine = wf_engine.using(SqlInstanceStore(session))
    instance = session.get(ProcessInstance, instance_id)
    ready = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                    HumanTask.state == "ready").order_by(HumanTask.id)).all()
    names = {u.id: name for name, u in users.items()}
    events = session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id, AuditEvent.id > since)
                             .order_by(AuditEvent.id)).all()
    return {
        "status": instance.status,
        "revision": instance.revision,
        "data": engine.instance_data(instance_id),
        "ready": [(row.bpmn_id, row.name, row.lane, row.role, engine.get_task(instance_id, row.task_id).data)
                  for row in ready],
        "completed": [(row.bpmn_id, row.submitted, names.get(row.completed_by_id)) for row in session.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "completed")
            .order_by(HumanTask.id))],
        "events": [(e.action, names.get(e.actor_id, e.actor), sorted((e.payload or {}).keys())) for e in events],
    }


@pytest.mark.parametrize("bpmn_id", list(CASES))
def test_the_page_and_the_service_complete_a_task_the_same_way(signed_in, session, wf_engine, users, lifecycle,
                                                                bpmn_id):
    who, answers, posted = CASES[bpmn_id]
    now = utcnow()
    pair = [relationships.start(session, wf_engine, users["staff"], title="ACME", partner="ACME Ltd",
                                now=now).instance_id for _ in range(2)]
    if bpmn_id == "s1_gate":  # both reach the gate the same way first
        for instance_id in pair:
            complete_task(session, wf_engine, user=users["staff"],
                          human_task_id=ready_row(session, instance_id, "s1_policy").id, data=VALID_POLICY, now=now)
    through_page, through_service = pair
    before = outcome(session, wf_engine, users, through_page, 0)
    assert before["data"] == outcome(session, wf_engine, users, through_service, 0)["data"]

    client = signed_in(who)
    mark = last_event_id(session)
    task = ready_row(session, through_page, bpmn_id)
    response = client.post(f"/tasks/{task.id}", posted)
    assert response.status_code == 302, response.get_data(as_text=True)
    by_page = outcome(session, wf_engine, users, through_page, mark)

    mark = last_event_id(session)
    complete_task(session, wf_engine, user=users[who], human_task_id=ready_row(session, through_service, bpmn_id).id,
                  data=answers, now=utcnow())
    by_service = outcome(session, wf_engine, users, through_service, mark)

    assert by_page["ready"] and by_page["events"], "the completion moved the instance on"
    assert by_page["data"] != before["data"]
    for part in ("status", "revision", "data", "ready", "completed", "events"):
        assert by_page[part] == by_service[part], part
