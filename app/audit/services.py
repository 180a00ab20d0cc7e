"""Writing and reading the audit trail. Every user-visible action calls `record` in its own transaction.

`recorded` tells the domains that derive something from the trail (webhooks) of every batch written, inside the
same transaction, so what they write commits or rolls back with the events."""

from __future__ import annotations

from datetime import datetime

from blinker import Signal
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..db import utcnow
from .models import AuditEvent

SYSTEM = "system"
_INSERT = insert(AuditEvent)

# Connected by create_app (the composition root): a receiver gets (session, rows=[the rows written]) and writes
# in the same transaction; it never records audit events itself.
recorded = Signal("audit events recorded")


def record(session: Session, action: str, *, actor=None, instance_id: int | None = None,
           task_id: str | None = None, payload: dict | None = None, at: datetime | None = None) -> None:
    """Append one event. `actor` is a User, a plain name (e.g. "scheduler"), or None for the system."""
    record_many(session, [dict(action=action, actor=actor, instance_id=instance_id, task_id=task_id,
                               payload=payload, at=at)])


def record_many(session: Session, rows: list[dict]) -> None:
    """Append several events in one statement; each row has the keyword arguments of `record`."""
    if not rows:
        return
    written = [_row(**row) for row in rows]
    session.connection().execute(_INSERT, written)
    recorded.send(session, rows=written)


def _row(action, *, actor=None, instance_id=None, task_id=None, payload=None, at=None):
    return dict(at=at or utcnow(), actor_id=getattr(actor, "id", None),
                actor=getattr(actor, "username", None) or (actor if isinstance(actor, str) else SYSTEM),
                action=action, instance_id=instance_id, task_id=task_id, payload=payload or {})


def events_for(session: Session, instance_id: int) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id)
                                .order_by(AuditEvent.at, AuditEvent.id)))
