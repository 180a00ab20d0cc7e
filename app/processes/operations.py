"""Operations for administrators: instances that failed (a timer's script stopped them), are stuck (running with
nothing to wait for) or are suspended, and putting them right: retry after a fix, move to the fixed version first,
skip the failed script task, suspend and resume, or cancel. (Moving a token, with a second administrator's
approval, is `moves.py`.)

A failed instance is one the scheduler could not move on: its `error` is set and later rounds leave it out, so it
fails once instead of every minute. Retrying clears the error and fires its due timers at once, so the person who
fixed it sees the outcome (on again, or the same error) in the same request. A suspended instance is left out the
same way, on purpose: nobody completes its tasks until it is resumed, and resuming fires what fell due meanwhile.
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
from ..db import unit_of_work, utcnow
from ..errors import BadRequest, NotFound
from ..notifications.services import MailSettings
from . import versioning
from .models import HumanTask, ProcessInstance, Timer, TokenMove
from .services import _jsonable, latest_version, record_failure, run_action, suspended
from .store import bound

REASON_MAX = 2000


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
    return (ProcessInstance.status == "running", ProcessInstance.error.is_(None), ProcessInstance.suspended_at.is_(None),
            ~select(HumanTask.id).where(HumanTask.instance_id == ProcessInstance.id, HumanTask.state == "ready")
            .exists(),
            ~select(Timer.instance_id).where(Timer.instance_id == ProcessInstance.id).exists(),
            ~select(child.id).where(child.parent_id == ProcessInstance.id, child.status == "running").exists())


def suspended_instances(session: Session) -> list[ProcessInstance]:
    """Running instances an administrator suspended, longest suspended first."""
    return list(session.scalars(select(ProcessInstance).where(ProcessInstance.status == "running",
                                                              ProcessInstance.suspended_at.is_not(None))
                                .order_by(ProcessInstance.suspended_at, ProcessInstance.id)))


def stuck_instances(session: Session) -> list[ProcessInstance]:
    """Instances nothing will ever move on (see `_stuck`): someone must look (cancel, or correct and move them)."""
    return list(session.scalars(select(ProcessInstance).where(*_stuck()).order_by(ProcessInstance.id)))


def counts(session: Session) -> dict[str, int]:
    """How many failed, stuck and suspended instances there are, and token moves waiting for approval (the
    dashboard), counted by the database."""
    count = select(func.count()).select_from(ProcessInstance)
    return {"failed": session.scalar(count.where(ProcessInstance.error.is_not(None))),
            "stuck": session.scalar(count.where(*_stuck())),
            "suspended": session.scalar(count.where(ProcessInstance.status == "running",
                                                    ProcessInstance.suspended_at.is_not(None))),
            "moves": session.scalar(select(func.count()).select_from(TokenMove).where(TokenMove.status == "pending"))}


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
    if row.suspended_at is not None:
        raise suspended(row, "it cannot be retried")
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


# -------------------------------------------------------------------- skip a failed script task
def failure_of(session: Session, instance_id: int) -> dict:
    """Where the instance's latest failure happened (`record_failure`'s details: bpmn_id, process_id, task_name,
    line), or {}."""
    event = session.scalar(select(AuditEvent).where(AuditEvent.instance_id == instance_id,
                                                    AuditEvent.action == "instance.error")
                           .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(1))
    return ((event.payload or {}).get("details") if event else None) or {}


def skip_failed_script(session: Session, engine: WorkflowEngine, user: User, instance_id: int, *, reason: str,
                       now: datetime | None = None, mail: MailSettings | None = None) -> RetryOutcome:
    """Move a failed instance past the script task that failed: the task completes without running its script,
    the instance goes on (its due timers fire, engine steps run) and its error is cleared; audited as
    `task.skipped` with the reason. When a later step fails too, nothing is changed and the outcome says so.

    Raises Forbidden, NotFound, BadRequest (no reason; not failed; the failure names no script task), Suspended,
    MoveRefused (the failed element is not a script task), TaskNotReady, Conflict."""
    require(user, Permission.ADMINISTER_INSTANCES, "only an administrator may skip a failed script task")
    reason = required_reason(reason, "say why the script task is skipped")
    now = now or utcnow()
    row = _instance(session, instance_id)
    if row.error is None:
        raise BadRequest(f"instance {instance_id} has not failed: there is no failed script task to skip")
    if row.suspended_at is not None:
        raise suspended(row, "its failed script task cannot be skipped")
    failure = failure_of(session, instance_id)
    if not failure.get("bpmn_id"):
        raise BadRequest(f"the failure of instance {instance_id} does not name the task it happened in: "
                         "retry it, or move it to a fixed version")
    session.rollback()  # end the read before the write
    try:
        run_action(session, engine, user, now, lambda: bound(engine, session, user, now=now).skip_script(
            instance_id, failure["bpmn_id"], process_id=failure.get("process_id"), reason=reason, now=now),
            mail=mail)
    except ScriptFailed as exc:  # a later step fails too: nothing was saved, the instance stays as it failed
        return RetryOutcome(instance_id, False, f"skipping {failure.get('task_name') or failure['bpmn_id']!r} "
                                                f"is not enough: then {exc.message}")
    return RetryOutcome(instance_id, True, None)


# -------------------------------------------------------------------- suspend and resume
def suspend(session: Session, user: User, instance_id: int, *, reason: str,
            now: datetime | None = None) -> ProcessInstance:
    """Hold a running instance still: its tasks cannot be completed and its timers do not fire until it is resumed.
    Raises Forbidden, NotFound, BadRequest (no reason; not running; suspended already)."""
    require(user, Permission.ADMINISTER_INSTANCES, "only an administrator may suspend an instance")
    reason = required_reason(reason, "say why the instance is suspended")
    now = now or utcnow()
    row = _instance(session, instance_id)
    if row.status != "running":
        raise BadRequest(f"instance {instance_id} is {row.status}: only a running instance can be suspended")
    if row.suspended_at is not None:
        raise BadRequest(f"instance {instance_id} is suspended already (since {row.suspended_at:%Y-%m-%d %H:%M} UTC)")
    with unit_of_work(session):
        session.execute(update(ProcessInstance).where(ProcessInstance.id == instance_id).values(
            suspended_at=now, suspended_by_id=user.id, suspended_reason=reason))
        record(session, "instance.suspended", actor=user, instance_id=instance_id, at=now, payload={"reason": reason})
    session.expire(row)
    return row


def resume(session: Session, engine: WorkflowEngine, user: User, instance_id: int, *, reason: str | None = None,
           now: datetime | None = None, mail: MailSettings | None = None) -> RetryOutcome:
    """Let a suspended instance go on, and fire at once the timers that fell due while it was suspended (at `now`).
    Raises Forbidden, NotFound, BadRequest (not suspended)."""
    require(user, Permission.ADMINISTER_INSTANCES, "only an administrator may resume an instance")
    reason = (reason or "").strip()[:REASON_MAX] or None
    now = now or utcnow()
    row = _instance(session, instance_id)
    if row.suspended_at is None:
        raise BadRequest(f"instance {instance_id} is not suspended: there is nothing to resume")
    was = {"suspended_at": row.suspended_at.isoformat(), "suspended_reason": row.suspended_reason}
    failed = row.error is not None
    with unit_of_work(session):
        session.execute(update(ProcessInstance).where(ProcessInstance.id == instance_id).values(
            suspended_at=None, suspended_by_id=None, suspended_reason=None))
        record(session, "instance.resumed", actor=user, instance_id=instance_id, at=now,
               payload={"reason": reason, **was})
    if failed:  # the scheduler leaves it out until an administrator retries it
        return RetryOutcome(instance_id, False, session.get(ProcessInstance, instance_id).error)
    try:
        result = run_action(session, engine, user, now,
                            lambda: bound(engine, session, user, now=now).fire_timers(instance_id, now=now), mail=mail)
    except Conflict:
        return RetryOutcome(instance_id, True, None)
    except (ScriptFailed, WorkflowError) as exc:
        record_failure(session, instance_id, now, exc.message, _jsonable(exc.details))
        return RetryOutcome(instance_id, False, exc.message)
    if not result.events:
        return RetryOutcome(instance_id, False, None, session.get(ProcessInstance, instance_id).next_due_at)
    return RetryOutcome(instance_id, True, None)


# -------------------------------------------------------------------- helpers
def required_reason(reason: str | None, message: str) -> str:
    """The reason an administrator gave, trimmed; BadRequest (naming the field) when there is none."""
    reason = (reason or "").strip()
    if not reason:
        raise BadRequest(message, {"reason": "This field is required."})
    return reason[:REASON_MAX]


def _instance(session: Session, instance_id: int) -> ProcessInstance:
    row = session.get(ProcessInstance, instance_id)
    if row is None:
        raise NotFound(f"instance {instance_id} does not exist")
    return row
