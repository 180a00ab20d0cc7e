"""Deadline reminders: due soon (a lead time before) and overdue (at the due time), once each per task."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..notifications.services import MailSettings, TaskNotice, notify_tasks
from ..processes.models import HumanTask, ProcessInstance

DEFAULT_LEAD = timedelta(hours=24)


def send_deadline_reminders(session: Session, now: datetime, lead: timedelta = DEFAULT_LEAD, *,
                            mail: MailSettings | None = None) -> int:
    """Notify (assignee, else the lane's role) about ready tasks due within `lead`, and overdue ones. Commits."""
    overdue = _ready_with_deadline(session, HumanTask.due_at <= now, HumanTask.overdue_notified_at.is_(None))
    soon = _ready_with_deadline(session, HumanTask.due_at > now, HumanTask.due_at <= now + lead,
                                HumanTask.due_soon_notified_at.is_(None))
    notify_tasks(session, [_notice(row, "overdue") for row in overdue] + [_notice(row, "due_soon") for row in soon],
                 now, mail=mail)
    if overdue:
        session.execute(update(HumanTask).where(HumanTask.id.in_([r.id for r in overdue]))
                        .values(overdue_notified_at=now, due_soon_notified_at=func.coalesce(
                            HumanTask.due_soon_notified_at, now)))
    if soon:
        session.execute(update(HumanTask).where(HumanTask.id.in_([r.id for r in soon]))
                        .values(due_soon_notified_at=now))
    session.commit()
    return len(overdue) + len(soon)


def next_reminder_at(session: Session, lead: timedelta = DEFAULT_LEAD) -> datetime | None:
    """When the next reminder falls due (for the scheduler's wake-up)."""
    soon = session.scalar(select(func.min(HumanTask.due_at)).join(_INSTANCE, _LIVE).where(
        HumanTask.state == "ready", HumanTask.due_soon_notified_at.is_(None)))
    late = session.scalar(select(func.min(HumanTask.due_at)).join(_INSTANCE, _LIVE).where(
        HumanTask.state == "ready", HumanTask.overdue_notified_at.is_(None)))
    candidates = [moment for moment in (soon - lead if soon else None, late) if moment is not None]
    return min(candidates) if candidates else None


# a suspended instance's tasks wait without reminders: they come (once each) after it is resumed
_INSTANCE = ProcessInstance
_LIVE = (ProcessInstance.id == HumanTask.instance_id) & ProcessInstance.suspended_at.is_(None)


def _ready_with_deadline(session, *conditions):
    return list(session.scalars(select(HumanTask).join(_INSTANCE, _LIVE).where(
        HumanTask.state == "ready", HumanTask.due_at.is_not(None), *conditions)
        .order_by(HumanTask.due_at).limit(500)))


def _notice(row: HumanTask, kind: str) -> TaskNotice:
    return TaskNotice(instance_id=row.instance_id, task_id=row.task_id, name=row.name, kind=kind, role=row.role,
                      partner_side=row.partner_side, assignee_id=row.assignee_id, joint=row.joint)
