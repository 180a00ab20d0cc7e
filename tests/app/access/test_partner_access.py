"""Another partner organisation learns nothing of a relationship: no notification, no inbox row, no task, no
register; the relationship's own partner works its joint tasks; partners start no relationships."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.auth.services import create_user
from app.errors import Forbidden, NotFound
from app.inbox.queries import InboxFilters, inbox, visible_task
from app.lifecycle.services import current_stage
from app.notifications.models import Notification
from app.registers import services as registers
from app.relationships import services as relationships


def test_only_the_relationships_partner_hears_of_and_works_its_joint_tasks(start, session, users, services):
    other = create_user(session, "other-ser", password=None, roles=["ser"], organisation="Other Partner plc",
                        organisation_kind="partner")
    rel = start()
    rel.drive(until=lambda d: any(r.approval_gate and r.partner_side for r in d.ready()))
    gate = next(r for r in rel.ready() if r.approval_gate and r.partner_side)
    ours = users["pser"]

    def notified(user):
        return set(session.scalars(select(Notification.task_id).where(Notification.user_id == user.id)))
    assert gate.task_id in notified(ours) and not notified(other)
    assert gate.id in {t.id for t in inbox(session, ours, InboxFilters(), now=rel.now).rows}
    assert inbox(session, other, InboxFilters(), now=rel.now).total == 0
    assert visible_task(session, ours, gate.id).id == gate.id
    with pytest.raises(NotFound):
        visible_task(session, other, gate.id)
    with pytest.raises(NotFound):
        registers.entries(session, other, rel.instance_id, "risks", now=rel.now)
    assert relationships.summaries(session, now=rel.now, viewer=other) == []
    assert [s.instance.id for s in relationships.summaries(session, now=rel.now, viewer=ours)] == [rel.instance_id]
    with pytest.raises(Forbidden):
        relationships.start(session, services.workflows, ours, title="Ours now", partner="Us", now=rel.now)
    session.rollback()
    rel.complete(gate)  # the relationship's own partner SER decides its gate
    assert current_stage(session, rel.instance_id) is not None
