"""Operations for administrators: instances that failed (a timer's script stopped them) or are stuck (running with
nothing to wait for), and putting them right: retry after a fix, move to the fixed version first, or cancel.

A failed instance is one the scheduler could not move on: its `error` is set and later rounds leave it out, so it
fails once instead of every minute. Retrying clears the error and fires its due timers at once, so the person who
fixed it sees the outcome (on again, or the same error) in the same request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, aliased

from workflows import Conflict, ScriptFailed, WorkflowEngine, WorkflowError

from ..audit.models import AuditEvent
from ..audit.services import record
from ..auth.models import User
from ..auth.permissions import Permission, require
from ..db import utcnow
from ..errors import BadRequest, NotFound
from ..notifications.services import MailSettings
from . import versioning
from .models import HumanTask, ProcessInstance, Timer
from .services import _jsonable, latest_version, record_failure, run_action
from .store import bound


@dataclass
class FailedInstance:
    instance: ProcessInstance
    relationship_id: int | None
    task: str | None  # the task whose script failed, by name
    element_id: str | None
    line: int | None
    newer_version_id: int | None  # a later deployed version it could move to (after a fix)


def failed_instances(session: Session) -> list[FailedInstance]:
    """Instances the scheduler could not move on, newest failure first, with where the script failed."""
    rows = list(session.scalars(select(ProcessInstance).where(ProcessInstance.error.is_not(None))
                                .order_by(ProcessInstance.error_at.desc(), ProcessInstance.id.desc())))
    latest = latest_version(session)
    found = []
    for row in rows:
        event = session.scalar(select(AuditEvent).where(AuditEvent.instance_id == row.id,
                                                        AuditEvent.action == "instance.error")
                               .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(1))
        details = ((event.payload or {}).get("details") if event else None) or {}
        found.append(FailedInstance(
            row, row.root_id, details.get("task_name"), details.get("bpmn_id"), details.get("line"),
            latest.id if latest is not None and latest.id != row.version_id else None))
    return found


def _stuck():
    """SQL: running instances that wait for nothing: no ready task, no timer, no running instance below them and
    no error."""
    child = aliased(ProcessInstance)
    return (ProcessInstance.status == "running", ProcessInstance.error.is_(None),
            ~select(HumanTask.id).where(HumanTask.instance_id == ProcessInstance.id, HumanTask.state == "ready")
            .exists(),
            ~select(Timer.instance_id).where(Timer.instance_id == ProcessInstance.id).exists(),
            ~select(child.id).where(child.parent_id == ProcessInstance.id, child.status == "running").exists())


def stuck_instances(session: Session) -> list[ProcessInstance]:
    """Instances nothing will ever move on (see `_stuck`): someone must look (cancel, or correct and move them)."""
    return list(session.scalars(select(ProcessInstance).where(*_stuck()).order_by(ProcessInstance.id)))


def counts(session: Session) -> dict[str, int]:
    """How many failed and stuck instances there are (the dashboard), counted by the database."""
    count = select(func.count()).select_from(ProcessInstance)
    return {"failed": session.scalar(count.where(ProcessInstance.error.is_not(None))),
            "stuck": session.scalar(count.where(*_stuck()))}


@dataclass
class RetryOutcome:
    instance_id: int
    went_on: bool  # its due timers fired and it moved on
    error: str | None  # the new error when it failed again
    next_due_at: datetime | None = None  # nothing was due yet: the scheduler fires it then


def retry(session: Session, engine: WorkflowEngine, user: User, instance_id: int, *, to_version_id: int | None = None,
          now: datetime | None = None, mail: MailSettings | None = None) -> RetryOutcome:
    """Clear a failed instance's error and fire its due timers now; first move it to `to_version_id` (a fixed
    version) when given. Raises Forbidden, NotFound, BadRequest (not failed), MigrationRefused via the move."""
    require(user, Permission.ADMINISTER_INSTANCES, "only an administrator may retry a failed instance")
    now = now or utcnow()
    row = session.get(ProcessInstance, instance_id)
    if row is None:
        raise NotFound(f"instance {instance_id} does not exist")
    if row.error is None:
        raise BadRequest(f"instance {instance_id} has not failed: there is nothing to retry")
    previous = row.error
    if to_version_id is not None and to_version_id != row.version_id:
        refused = versioning.migrate(session, engine, user=user, instance_ids=[instance_id],
                                     to_version_id=to_version_id, now=now, mail=mail)[instance_id]
        if refused and refused != "unchanged":
            raise BadRequest(f"instance {instance_id} cannot move to version {to_version_id}: {refused}")
    session.execute(update(ProcessInstance).where(ProcessInstance.id == instance_id).values(error=None, error_at=None))
    record(session, "instance.retried", actor=user, instance_id=instance_id, at=now,
           payload={"previous_error": previous, "version_id": to_version_id or row.version_id})
    session.commit()
    fire_at = max(now, utcnow())  # a move restarts a waiting timer from the moment of the move
    try:
        result = run_action(session, engine, user, fire_at,
                            lambda: bound(engine, session, user, now=fire_at).fire_timers(instance_id, now=fire_at),
                            mail=mail)
    except Conflict:
        return RetryOutcome(instance_id, True, None)  # a scheduler fired it meanwhile: it went on
    except (ScriptFailed, WorkflowError) as exc:
        record_failure(session, instance_id, now, exc.message, _jsonable(exc.details))
        return RetryOutcome(instance_id, False, exc.message)
    if not result.events:
        return RetryOutcome(instance_id, False, None, session.get(ProcessInstance, instance_id).next_due_at)
    return RetryOutcome(instance_id, True, None)
