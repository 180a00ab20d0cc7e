"""Notifications that lead somewhere: each names its relationship by title and links to its task while the task
waits for the reader; completing, withdrawing or claiming the task clears it for everyone else, so the unread
count means something."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.db import utcnow
from app.inbox import services as inbox
from app.lifecycle import services as lifecycle
from app.notifications import services as notifications
from app.processes import services as process_services
from app.processes.models import HumanTask

T0 = utcnow()


def _ready_task(session, instance_id):
    session.expire_all()
    return session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "ready"))


def test_a_claim_clears_the_notification_for_the_others_and_a_completion_for_everyone(session, wf_engine, users,
                                                                                        version):
    started = process_services.start_instance(session, wf_engine, user=users["staff"], process_id="approval",
                                              title="Plan approval", now=T0)
    staff, staff2 = users["staff"], users["staff2"]
    task = _ready_task(session, started.instance_id)
    mine = notifications.list_for(session, staff)
    assert [(v.task, v.relationship_id, v.relationship_title, v.cleared) for v in mine] == \
        [(task.id, started.instance_id, "Plan approval", False)]
    assert notifications.unread_count(session, staff) == notifications.unread_count(session, staff2) == 1

    inbox.claim(session, staff, task.id, now=T0)
    assert notifications.unread_count(session, staff) == 1, "still mine to do"
    assert notifications.unread_count(session, staff2) == 0, "someone else took it"
    [theirs] = notifications.list_for(session, staff2)
    assert theirs.cleared and theirs.task is None and not theirs.unread
    assert notifications.list_for(session, staff2, unread_only=True) == []

    process_services.complete_task(session, wf_engine, user=staff, human_task_id=task.id, data={"plan": "p"},
                                   now=T0)
    assert notifications.unread_count(session, staff) == 0
    assert [v.cleared for v in notifications.list_for(session, staff)] == [True]
    approvers = [v for v in notifications.list_for(session, users["ser"]) if v.unread]
    assert [v.notification.title for v in approvers] == ["New task: Approve the plan"]
    assert approvers[0].task == _ready_task(session, started.instance_id).id


def test_an_issue_task_notification_links_to_the_task_and_names_the_relationship(app, session, users,
                                                                                  working_together, signed_in):
    relationship_id = working_together.instance_id
    lifecycle.raise_issue(session, app.extensions["collabflow"].workflows, user=users["staff"],
                          relationship_id=relationship_id, title="Late deliveries", now=utcnow())
    issue_task = session.scalar(select(HumanTask).where(HumanTask.process_id == "issue_resolution",
                                                        HumanTask.state == "ready"))
    assert issue_task is not None and issue_task.instance_id != relationship_id
    client = signed_in("staff")
    html = client.get("/notifications").get_data(as_text=True)
    row = next(r for r in re.findall(r"<tr class=.*?</tr>", html, re.S) if f"/tasks/{issue_task.id}\"" in r)
    assert f'href="/relationships/{relationship_id}">Tailspin partnership</a>' in row
    assert f"/relationships/{issue_task.instance_id}\"" not in html, "never the issue instance as a relationship"
    assert client.get(f"/tasks/{issue_task.id}").status_code == 200

    api = client.get("/api/v1/notifications").get_json()
    item = next(i for i in api["items"] if i["human_task_id"] == issue_task.id)
    assert item["relationship_id"] == relationship_id and item["relationship_title"] == "Tailspin partnership"
    assert item["cleared"] is False
