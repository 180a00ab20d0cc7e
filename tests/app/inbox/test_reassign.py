"""Reassignment offers only people who may work the task: never a user of another partner organisation, who
would see the relationship's name in their inbox and a 404 on opening it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.auth.services import create_user
from app.db import utcnow
from app.errors import BadRequest
from app.inbox import queries
from app.inbox import services as inbox
from app.processes.models import HumanTask


def test_a_task_is_never_reassigned_to_another_partner_organisation(session, users, working_together):
    outsider = create_user(session, "other-jmt", password=None, roles=["jmt"], organisation="Other Ltd",
                           organisation_kind="partner")
    theirs = create_user(session, "partner-jmt", password=None, roles=["jmt"], organisation="Partner Ltd",
                         organisation_kind="partner")
    session.expire_all()
    joint = session.scalar(select(HumanTask).where(HumanTask.role == "jmt", HumanTask.state == "ready")
                           .order_by(HumanTask.id).limit(1))
    assert joint is not None, "stage 5 opens with joint management team tasks"
    offered = {u.username for u in queries.candidates(session, joint)}
    assert "partner-jmt" in offered and "other-jmt" not in offered
    with pytest.raises(BadRequest) as refused:
        inbox.reassign(session, users["admin"], joint.id, outsider.id, now=utcnow())
    assert "another organisation" in refused.value.message
    session.expire_all()
    assert session.get(HumanTask, joint.id).assignee_id is None, "nothing changed"
    assert inbox.reassign(session, users["admin"], joint.id, theirs.id, now=utcnow()).id == theirs.id
