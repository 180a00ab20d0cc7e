"""What people do to human tasks besides completing them: claim, release, reassign, due dates, drafts,
comments, evidence. One transaction and one audit event per action; `submit` wraps `complete_task`.

Each function takes the session, the acting user and `now`, and raises Forbidden / NotFound /
BadRequest (or the engine's Conflict / TaskNotReady) for the page to explain.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, exists, select, update
from sqlalchemy.orm import Session

from workflows import Conflict, Result, TaskNotReady, WorkflowEngine

from ..audit.services import record
from ..auth.models import User
from ..auth.permissions import Permission, may
from ..db import unit_of_work
from ..errors import BadRequest, Forbidden
from ..evidence import services as evidence
from ..evidence.models import EvidenceFile
from ..notifications.services import MailSettings
from ..processes.models import HumanTask
from ..processes.services import complete_task, completion_load
from ..processes.store import dialect_of
from . import partner_decisions
from .binding import evidence_values
from .models import TaskComment, TaskDraft
from .queries import TaskRow, open_tasks, refusal, root_instance, visible_task

COMMENT_MAX = 5000


def _ready(session: Session, user: User, human_task_id: int) -> HumanTask:
    row = visible_task(session, user, human_task_id)
    if row.state != "ready":
        raise TaskNotReady(f"the task {row.name!r} is already {row.state}", task_id=row.task_id)
    return row


def may_manage(user: User, row: HumanTask) -> bool:
    """SERs (of the task's side, or any for joint tasks) and administrators manage assignments."""
    return may(user, Permission.MANAGE_ANY_TASK) or (
        may(user, Permission.MANAGE_LANE_TASKS) and (row.partner_side == user.is_partner or row.joint))


def _not_for_one_partner(session: Session, row: HumanTask) -> None:
    """A task each partner organisation's SER decides is nobody's alone: claiming it would lock the others out."""
    if partner_decisions.applies(session, row):
        raise Forbidden(f"the task {row.name!r} is decided by the SER of each partner organisation; "
                        "nobody claims it for all of them")


def _commit_event(session, action, user, row, now, payload=None):
    record(session, action, actor=user, instance_id=row.instance_id, task_id=row.task_id, at=now,
           payload={"human_task_id": row.id, "name": row.name, **(payload or {})})
    session.commit()


def claim(session: Session, user: User, human_task_id: int, *, now: datetime) -> None:
    """Take a task so nobody else works on it. Raises Forbidden, TaskNotReady, Conflict (claimed meanwhile)."""
    with unit_of_work(session):
        row = _ready(session, user, human_task_id)
        if row.assignee_id == user.id:
            return
        if row.assignee_id is not None:
            raise Forbidden(f"the task {row.name!r} is already claimed by someone else")
        _not_for_one_partner(session, row)
        reason = refusal(session, user, row)
        if reason:
            raise Forbidden(reason)
        taken = session.execute(update(HumanTask).where(
            HumanTask.id == row.id, HumanTask.assignee_id.is_(None), HumanTask.state == "ready")
            .values(assignee_id=user.id)).rowcount
        if taken != 1:
            raise Conflict(f"someone else claimed or completed {row.name!r} a moment ago; reload")
        _commit_event(session, "task.claimed", user, row, now)


def release(session: Session, user: User, human_task_id: int, *, now: datetime) -> None:
    """Give a claimed task back to everyone with its role: its assignee, or an SER / administrator."""
    with unit_of_work(session):
        row = _ready(session, user, human_task_id)
        if row.assignee_id is None:
            return
        if row.assignee_id != user.id and not may_manage(user, row):
            raise Forbidden("only the person who claimed this task, an SER or an administrator may release it")
        previous = row.assignee_id
        session.execute(update(HumanTask).where(HumanTask.id == row.id).values(assignee_id=None))
        _commit_event(session, "task.released", user, row, now, {"from_user_id": previous})


def reassign(session: Session, user: User, human_task_id: int, to_user_id: int, *, now: datetime) -> User:
    """Give a task to a named person who may work it (SERs and administrators only). Returns that person."""
    with unit_of_work(session):
        row = _ready(session, user, human_task_id)
        if not may_manage(user, row):
            raise Forbidden("only an SER or an administrator may reassign tasks")
        _not_for_one_partner(session, row)
        target = session.get(User, to_user_id)
        if target is None or not target.is_active:
            raise BadRequest("choose an active user", {"assignee": "no such user"})
        reason = refusal(session, target, row, ignore_assignee=True)
        if reason:
            raise BadRequest(f"{target.display_name} cannot take this task: {reason}", {"assignee": reason})
        previous = row.assignee_id
        session.execute(update(HumanTask).where(HumanTask.id == row.id).values(assignee_id=target.id))
        _commit_event(session, "task.reassigned", user, row, now,
                      {"from_user_id": previous, "to_user_id": target.id, "to": target.username})
        return target


def set_due(session: Session, user: User, human_task_id: int, due_at: datetime | None, *, now: datetime) -> None:
    """Set or clear a task's due date (SERs and administrators)."""
    with unit_of_work(session):
        row = _ready(session, user, human_task_id)
        if not may_manage(user, row):
            raise Forbidden("only an SER or an administrator may set due dates")
        session.execute(update(HumanTask).where(HumanTask.id == row.id).values(due_at=due_at))
        _commit_event(session, "task.due_set", user, row, now, {"due_at": due_at.isoformat() if due_at else None})


def save_draft(session: Session, user: User, human_task_id: int, data: dict, *, now: datetime) -> TaskDraft:
    """Keep unfinished form data for this person only; nothing is validated or sent to the engine."""
    with unit_of_work(session):
        row = _ready(session, user, human_task_id)
        reason = refusal(session, user, row)
        if reason:
            raise Forbidden(reason)
        draft = session.scalar(select(TaskDraft).where(TaskDraft.human_task_id == row.id,
                                                       TaskDraft.user_id == user.id))
        if draft is None:
            draft = TaskDraft(human_task_id=row.id, user_id=user.id)
            session.add(draft)
        draft.data, draft.updated_at = data, now
        session.flush()
        _commit_event(session, "task.draft_saved", user, row, now, {"fields": sorted(data)})
        return draft


def discard_draft(session: Session, user: User, human_task_id: int, *, now: datetime) -> None:
    with unit_of_work(session):
        row = visible_task(session, user, human_task_id)
        removed = session.execute(delete(TaskDraft).where(TaskDraft.human_task_id == row.id,
                                                          TaskDraft.user_id == user.id)).rowcount
        if removed:
            _commit_event(session, "task.draft_discarded", user, row, now)


def add_comment(session: Session, user: User, human_task_id: int, body: str, *, now: datetime) -> TaskComment:
    """A remark on a task, visible to everyone who can see it. Raises BadRequest when empty or too long."""
    with unit_of_work(session):
        row = visible_task(session, user, human_task_id)
        if not may(user, Permission.DISCUSS_TASKS):
            raise Forbidden("assessors read tasks and their discussion but do not take part in it")
        body = (body or "").strip()
        if not body:
            raise BadRequest("write a comment first", {"comment": "This field is required."})
        if len(body) > COMMENT_MAX:
            raise BadRequest(f"a comment is at most {COMMENT_MAX} characters", {"comment": "Too long."})
        comment = TaskComment(human_task_id=row.id, author_id=user.id, body=body, created_at=now)
        session.add(comment)
        session.flush()
        _commit_event(session, "task.commented", user, row, now, {"comment_id": comment.id})
        return comment


def attach_evidence(session: Session, user: User, human_task_id: int, upload: evidence.Upload, *,
                    field: str | None, max_bytes: int, now: datetime) -> EvidenceFile:
    """Store a file as evidence of a task and its relationship. Raises Forbidden, BadRequest."""
    row = visible_task(session, user, human_task_id)
    if row.state == "ready" and refusal(session, user, row) is not None and not may(user, Permission.MANAGE_ANY_TASK):
        raise Forbidden("only someone who may work on this task can attach evidence to it")
    if row.state != "ready":
        raise TaskNotReady(f"the task {row.name!r} is already {row.state}")
    relationship = root_instance(session, row.instance_id)
    session.rollback()  # end the read: the store is its own transaction
    return evidence.store(session, user, upload, relationship_id=relationship.id, instance_id=row.instance_id,
                          human_task_id=row.id, field=field, max_bytes=max_bytes, now=now)


_DROP_DRAFTS = delete(TaskDraft).where(TaskDraft.human_task_id == bindparam("task_id"))
_HAS_DRAFTS = exists().where(TaskDraft.human_task_id == HumanTask.id).label("has_drafts")
_LOAD = {dialect: completion_load(dialect, _HAS_DRAFTS) for dialect in ("postgresql", "sqlite")}


def load_for_submit(session: Session, human_task_id: int):
    """The task with all that submitting it reads, in one statement (`completion_load`, and whether it has
    drafts to drop), or None. Its row is then in the session: `visible_task` and `submit` read it from there."""
    return session.execute(_LOAD[dialect_of(session)], {"task_id": human_task_id}).first()


def submit(session: Session, engine: WorkflowEngine, user: User, human_task_id: int, data: dict, *,
           now: datetime, mail: MailSettings | None = None, loaded=None) -> Result:
    """Complete a task with its form data (via `complete_task`), checking that the evidence it cites belongs
    to this relationship and dropping the task's drafts in the same transaction. A partner-side task of a
    relationship with several partners records this organisation's decision instead, and completes once the
    last partner has decided (`partner_decisions`). `loaded`: what `load_for_submit` read, when the caller did.
    Raises what complete_task raises, and BadRequest.
    """
    def cite(row: HumanTask, schema: dict | None, data: dict) -> None:
        cited = evidence_values(schema, data)
        if cited:
            relationship_id = root_instance(session, row.instance_id).id
            known = evidence.by_ids(session, cited)
            foreign = [i for i in cited if i not in known or known[i].relationship_id != relationship_id]
            if foreign:
                raise BadRequest("some attached files are not evidence of this relationship",
                                 {"(form)": "unknown evidence: " + ", ".join(foreign)})

    def cite_and_drop_drafts(row: HumanTask, schema: dict | None, data: dict) -> None:
        cite(row, schema, data)
        if loaded is None or loaded.has_drafts:
            session.connection().execute(_DROP_DRAFTS, {"task_id": row.id})

    row = loaded[0] if loaded is not None else session.get(HumanTask, human_task_id)
    if row is not None and partner_decisions.applies(session, row):  # each partner organisation's SER decides
        def cite_and_drop_own_draft(row: HumanTask, schema: dict | None, data: dict) -> None:
            cite(row, schema, data)
            session.execute(delete(TaskDraft).where(TaskDraft.human_task_id == row.id, TaskDraft.user_id == user.id))
        return partner_decisions.decide(session, engine, user, row, data, now=now, mail=mail,
                                        before_run=cite_and_drop_drafts, before_keep=cite_and_drop_own_draft)
    return complete_task(session, engine, user=user, human_task_id=human_task_id, data=data, now=now,
                         before_run=cite_and_drop_drafts, mail=mail, loaded=loaded)


def next_task_for(session: Session, user: User, human_task_id: int, *, now: datetime) -> int | None:
    """After completing a task: the next ready task of the same relationship this person may work, if any."""
    row = session.get(HumanTask, human_task_id)
    if row is None:
        return None
    return next_for(session, user, open_tasks(session, root_instance(session, row.instance_id).id, now=now))


def next_for(session: Session, user: User, ready: list[TaskRow]) -> int | None:
    """The first of a relationship's open tasks (as `open_tasks` read them) this person may work."""
    for task in ready:
        if task.row.assignee_id in (None, user.id) and refusal(session, user, task.row) is None:
            return task.id
    return None
