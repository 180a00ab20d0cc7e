"""Level 1 of a joint issue is worked by the joint operational team, the staff of both organisations: an issue the
partner raises lands with that team, and partner staff work it, while the partner's people still never work our
own organisation's lanes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.auth.services import create_user
from app.errors import Forbidden
from app.inbox.queries import workable
from app.notifications.models import Notification
from app.processes import services as processes
from app.processes.models import HumanTask


@pytest.fixture
def partner_staff(session):
    return create_user(session, "pstaff", password=None, roles=["staff"], organisation="Partner Ltd",
                       organisation_kind="partner")


def test_a_partner_raised_issue_is_worked_at_level_1_by_partner_staff(working_together, session, services,
                                                                        users, partner_staff):
    rel = working_together
    issue = rel.raise_issue("Drawings arrive late", "Three weeks behind the plan.", user=partner_staff)
    (logged,) = issue.ready()
    assert (logged.bpmn_id, logged.lane, logged.role, logged.joint) == (
        "ir_log_issue", "Joint operational team", "staff", True)
    notified = set(session.scalars(select(Notification.user_id).where(Notification.task_id == logged.task_id)))
    assert {partner_staff.id, users["staff"].id} <= notified, "the team of both organisations hears of it"
    in_inbox = session.scalars(select(HumanTask.id).where(workable(partner_staff), HumanTask.state == "ready"))
    assert logged.id in set(in_inbox)

    issue.complete("ir_log_issue", user=partner_staff)
    level1 = issue.task("ir_level1")
    assert level1.joint and level1.lane == "Joint operational team"
    issue.complete(level1, {"l1_resolution": "resolved", "l1_resolution_summary": "Extra drafting shift agreed."},
                   user=partner_staff)
    session.expire_all()
    assert session.get(HumanTask, level1.id).completed_by_id == partner_staff.id
    assert issue.completed


def test_partner_people_still_cannot_work_our_own_lanes(working_together, session, services, users):
    issue = working_together.raise_issue("Budget overrun")
    issue.complete("ir_log_issue")
    issue.complete("ir_level1", {"l1_resolution": "escalate", "l1_escalation_reason": "Needs budget."})
    issue.complete("ir_level2", {"l2_resolution": "escalate", "l2_escalation_reason": "Needs the SERs."})
    ours = issue.task("ir_level3_ser")
    assert not ours.joint and not ours.partner_side
    with pytest.raises(Forbidden, match="belongs to our organisation"):
        processes.complete_task(session, services.workflows, user=users["pser"], human_task_id=ours.id, data={},
                                now=issue.now)
