"""Moving a token by hand, four eyes: one administrator proposes a move of a running instance (reopen a task or a
stage done before, or skip a waiting task) with a reason, on a dry run that shows what would happen and changes
nothing; another administrator approves it, and only then is it made. Who proposed a move cannot approve it.

The dry run is made on the instance's current revision and kept with the proposal. An approval applies the move
on that same revision only: once the instance moved on (someone completed a task, a timer fired), the dry run no
longer says what would happen, and the proposal is marked outdated instead of applied.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import Conflict, MoveRefused, Result, ScriptFailed, WorkflowEngine

from ..audit.services import record
from ..auth.models import User
from ..auth.permissions import Permission, require
from ..db import unit_of_work, utcnow
from ..errors import BadRequest, Forbidden, NotFound
from ..notifications.services import MailSettings
from .models import HumanTask, ProcessInstance, TokenMove
from .operations import required_reason
from .services import run_action, suspended
from .store import bound

PENDING, APPLIED, REJECTED, OUTDATED = "pending", "applied", "rejected", "outdated"


def done_elements(session: Session, engine: WorkflowEngine, instance_id: int):
    """What a token of the instance may be moved back to: the activities done in it (`workflows.repair`)."""
    row = _running(session, instance_id)
    return bound(engine, session).done_elements(row.id)


def ready_tasks(session: Session, instance_id: int) -> list[HumanTask]:
    """The instance's waiting tasks, whose token may move."""
    return list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                        HumanTask.state == "ready").order_by(HumanTask.id)))


def dry_run(session: Session, engine: WorkflowEngine, user: User, instance_id: int, task_id: int,
            to_element: str | None, *, now: datetime | None = None) -> dict:
    """What moving the token of waiting task `task_id` (a task row's id) back to `to_element`, or past the task
    when None, would do: the tasks withdrawn and completed, the tasks that become ready, the timers then waiting
    and the instance's status. Changes nothing. Raises Forbidden, NotFound, BadRequest, Suspended, MoveRefused,
    TaskNotReady."""
    require(user, Permission.ADMINISTER_INSTANCES, "only an administrator may move a token")
    return _dry_run(session, engine, user, instance_id, task_id, to_element, now or utcnow())[0]


def propose(session: Session, engine: WorkflowEngine, user: User, instance_id: int, task_id: int,
            to_element: str | None, *, reason: str, now: datetime | None = None) -> TokenMove:
    """Propose a token move with a reason: its dry run is made now and kept, for another administrator to approve.
    Audited as `instance.move_proposed`. Raises what `dry_run` raises, and BadRequest (no reason)."""
    require(user, Permission.ADMINISTER_INSTANCES, "only an administrator may move a token")
    reason = required_reason(reason, "say why the token is moved")
    now = now or utcnow()
    preview, row, revision = _dry_run(session, engine, user, instance_id, task_id, to_element, now)
    with unit_of_work(session):
        move = TokenMove(instance_id=instance_id, from_task_id=row.task_id, from_name=row.name,
                         to_element=to_element, to_name=preview["to_name"], reason=reason, revision=revision,
                         preview=preview, status=PENDING, proposed_by_id=user.id, proposed_at=now)
        session.add(move)
        session.flush()
        record(session, "instance.move_proposed", actor=user, instance_id=instance_id, task_id=row.task_id, at=now,
               payload={"move_id": move.id, **describe(move), "preview": preview})
    return move


def approve(session: Session, engine: WorkflowEngine, user: User, move_id: int, *, note: str | None = None,
            now: datetime | None = None, mail: MailSettings | None = None) -> tuple[TokenMove, Result]:
    """A second administrator approves a pending move: it is made on the revision its dry run saw, and the tasks it
    withdraws and opens are audited with the approval (`instance.move_approved`). Raises Forbidden (not an
    administrator; four eyes: the proposer), NotFound, BadRequest (not pending), Suspended, Conflict (the instance
    moved on since the dry run: the proposal is marked outdated), MoveRefused, TaskNotReady, ScriptFailed."""
    require(user, Permission.ADMINISTER_INSTANCES, "only an administrator may approve a token move")
    note = (note or "").strip()[:2000] or None
    now = now or utcnow()
    move = _pending(session, move_id)
    if move.proposed_by_id == user.id:
        raise Forbidden(f"four eyes: you proposed move {move_id}, so another administrator must approve it")
    instance = session.get(ProcessInstance, move.instance_id)
    if instance.revision != move.revision:  # it moved on (a task, a timer, a cancellation) since the dry run
        raise _outdate(session, move, user, now, instance.revision)
    if instance.suspended_at is not None:
        raise suspended(instance, "a token move cannot be applied")
    session.rollback()  # end the reads before the write

    def act():
        result = bound(engine, session, user, now=now).move_token(
            move.instance_id, move.from_task_id, move.to_element, reason=move.reason, now=now,
            expected_revision=move.revision)
        move.status, move.decided_by_id, move.decided_at, move.decision_note = APPLIED, user.id, now, note
        record(session, "instance.move_approved", actor=user, instance_id=move.instance_id, task_id=move.from_task_id,
               at=now, payload={"move_id": move.id, **describe(move), "note": note})
        return result

    try:
        result = run_action(session, engine, user, now, act, mail=mail)
    except Conflict:  # someone saved the instance between the check above and this save
        raise _outdate(session, move, user, now, None) from None
    return move, result


def reject(session: Session, user: User, move_id: int, *, reason: str, now: datetime | None = None) -> TokenMove:
    """Turn a pending move down with a reason (its proposer may withdraw it so too); nothing moves. Audited as
    `instance.move_rejected`. Raises Forbidden, NotFound, BadRequest (no reason; not pending)."""
    require(user, Permission.ADMINISTER_INSTANCES, "only an administrator may reject a token move")
    reason = required_reason(reason, "say why the move is rejected")
    now = now or utcnow()
    move = _pending(session, move_id)
    with unit_of_work(session):
        move.status, move.decided_by_id, move.decided_at, move.decision_note = REJECTED, user.id, now, reason
        record(session, "instance.move_rejected", actor=user, instance_id=move.instance_id, task_id=move.from_task_id,
               at=now, payload={"move_id": move.id, **describe(move), "rejected_because": reason})
    return move


def moves(session: Session, *, status: str | None = PENDING, instance_id: int | None = None,
          limit: int = 200) -> list[TokenMove]:
    """Proposed moves, newest first: pending ones by default (for another administrator to decide)."""
    query = select(TokenMove).order_by(TokenMove.proposed_at.desc(), TokenMove.id.desc()).limit(limit)
    if status is not None:
        query = query.where(TokenMove.status == status)
    if instance_id is not None:
        query = query.where(TokenMove.instance_id == instance_id)
    return list(session.scalars(query))


def describe(move: TokenMove) -> dict:
    """A move in the audit trail's words."""
    return {"how": "skip" if move.to_element is None else "reopen", "from_task_id": move.from_task_id,
            "from_name": move.from_name, "to_element": move.to_element, "to_name": move.to_name,
            "reason": move.reason, "proposed_by_id": move.proposed_by_id}


# -------------------------------------------------------------------- helpers
def _dry_run(session, engine, user, instance_id, task_id, to_element, now) -> tuple[dict, HumanTask, int]:
    instance = _running(session, instance_id)
    if instance.suspended_at is not None:
        raise suspended(instance, "its tokens cannot be moved")
    row = session.get(HumanTask, task_id)
    if row is None or row.instance_id != instance_id:
        raise NotFound(f"instance {instance_id} has no task {task_id}")
    if row.state != "ready":
        raise BadRequest(f"the task {row.name!r} is {row.state}: only a waiting task's token can be moved")
    to_element = to_element or None
    waiting = {r.task_id: r.name for r in ready_tasks(session, instance_id)}
    try:
        result = bound(engine, session, user, now=now).move_token(instance_id, row.task_id, to_element,
                                                                  dry_run=True, now=now)
    except ScriptFailed as exc:
        raise MoveRefused(f"the engine cannot make this move: once it is made, {exc.message}",
                          **exc.details) from exc
    finally:
        session.rollback()  # the dry run only read: end its transaction
    moved = next(e.payload for e in result.events if e.action == "token.moved")
    preview = {
        "how": moved["how"], "from_name": moved["from_name"], "to_name": moved["to_name"],
        "withdrawn": sorted(waiting.get(t, t) for t in result.cancelled),
        "completed": sorted(waiting.get(t, t) for t in result.completed),
        "ready": [{"name": t.name, "bpmn_id": t.bpmn_id, "lane": t.lane} for t in result.became_ready],
        "timers": [{"name": t.name or t.bpmn_id, "due_at": t.due_at.isoformat()} for t in result.timers],
        "status": result.status,
    }
    return preview, session.get(HumanTask, task_id), result.revision


def _running(session: Session, instance_id: int) -> ProcessInstance:
    row = session.get(ProcessInstance, instance_id)
    if row is None:
        raise NotFound(f"instance {instance_id} does not exist")
    if row.status != "running":
        raise BadRequest(f"instance {instance_id} is {row.status}: only a running instance's tokens move")
    return row


def _pending(session: Session, move_id: int) -> TokenMove:
    move = session.get(TokenMove, move_id)
    if move is None:
        raise NotFound(f"token move {move_id} does not exist")
    if move.status != PENDING:
        raise BadRequest(f"token move {move_id} is {move.status} already: only a pending move can be decided")
    return move


def _outdate(session: Session, move: TokenMove, user: User, now: datetime, revision: int | None) -> Conflict:
    """Mark a move whose dry run no longer holds outdated (audited); the refusal of the approval to raise."""
    session.rollback()
    with unit_of_work(session):
        move = session.get(TokenMove, move.id)
        move.status, move.decided_by_id, move.decided_at = OUTDATED, user.id, now
        move.decision_note = "the instance moved on after the dry run"
        record(session, "instance.move_outdated", actor=user, instance_id=move.instance_id,
               task_id=move.from_task_id, at=now, payload={"move_id": move.id, **describe(move),
                                                            "dry_run_revision": move.revision,
                                                            "revision": revision})
    return Conflict(f"instance {move.instance_id} changed after the dry run of move {move.id} (someone completed a "
                   "task or a timer fired), so the dry run no longer says what the move would do: it is marked "
                   "outdated; propose the move again", move_id=move.id)
