"""Which webhook events the product's actions amount to, read from the deliveries written in each action's
transaction: an issue escalating (once per level, though level 3 opens a task on each side), a nonconformity raised
and closed, a version deployed, an exit trigger raised; and a rolled-back action leaves no delivery."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import utcnow
from app.webhooks.models import WebhookDelivery
from tests.support.bundles import read_web_bundle

EVERYTHING = ["task.created", "task.completed", "gate.decided", "issue.escalated", "exit_trigger.raised",
              "nonconformity.raised", "nonconformity.closed", "version.deployed"]


def sent(session, *types) -> list[dict]:
    session.expire_all()
    bodies = [json.loads(b) for b in session.scalars(select(WebhookDelivery.body).order_by(WebhookDelivery.id))]
    return [b for b in bodies if not types or b["type"] in types]


def test_an_issue_escalates_once_per_level(session, start, subscribe):
    subscribe("https://hooks.example.com/x", ["issue.escalated"])
    issue = start("issue_resolution", {"title": "Late drawings", "issue_title": "Late drawings"})
    issue.complete("ir_log_issue")
    issue.complete("ir_level1", {"l1_resolution": "escalate", "l1_escalation_reason": "Needs budget."})
    issue.complete("ir_level2", {"l2_resolution": "escalate", "l2_escalation_reason": "Needs both SERs."})
    escalations = sent(session)
    assert [e["data"]["level"] for e in escalations] == [2, 3], "level 3's two tasks are one escalation"
    assert {e["data"]["issue"]["id"] for e in escalations} == {issue.instance_id}
    assert all(e["type"] == "issue.escalated" for e in escalations)
    session.commit()


def test_a_nonconformity_raised_and_closed(session, services, users, start, subscribe):
    subscribe("https://hooks.example.com/x", ["nonconformity.raised", "nonconformity.closed"])
    nc = start("nonconformity", {"title": "Unsigned minutes", "source": "hand", "severity": "minor",
                                 "description": "Found on a walk round."})
    (raised,) = sent(session)
    assert raised["type"] == "nonconformity.raised"
    assert raised["data"]["nonconformity"] == {"id": nc.instance_id, "title": nc.instance().title}
    for _ in range(6):
        nc.drive()
        if nc.completed:
            break
        nc.wake(days=120)
    assert nc.completed
    assert [e["type"] for e in sent(session)] == ["nonconformity.raised", "nonconformity.closed"]
    session.commit()


def test_a_version_deployed_and_nothing_from_a_rolled_back_action(session, wf_engine, users, subscribe):
    from app.processes.services import deploy_version
    from app.webhooks.services import create_subscription
    subscribe("https://hooks.example.com/x", EVERYTHING)
    files, forms = read_web_bundle()
    version, _warnings, _ = deploy_version(session, wf_engine, files, forms, user=users["owner"], message="v1",
                                           now=utcnow())
    (deployed,) = sent(session)
    assert deployed["type"] == "version.deployed" and deployed["data"]["version"]["id"] == version.id
    assert deployed["data"]["actor"] == "owner"
    with pytest.raises(Exception):  # noqa: B017 (any failure: the point is what stays behind)
        create_subscription(session, users["admin"], url="ftp://nope", events=["task.created"], now=utcnow())
    assert len(sent(session)) == 1
    session.commit()


@pytest.mark.slow
def test_an_exit_trigger_raised_on_a_relationship(session, users, working_together, subscribe):
    subscribe("https://hooks.example.com/x", ["exit_trigger.raised"])
    working_together.now += timedelta(hours=1)
    working_together.raise_exit_trigger("The partner was sold.")
    (raised,) = sent(session)
    assert raised["data"]["relationship"] == {"id": working_together.instance_id, "title": "Tailspin partnership"}
    assert raised["data"]["source"] == "person" and "sold" not in json.dumps(raised), "names and ids, not the reason"
    session.commit()
