"""Reading human tasks as people see them, from the HumanTask rows alone (no workflow is ever loaded here).

Who sees what follows `app.processes.services.check_can_work_on`: the lane's role, the organisation
side (the joint management team works from both), and the assignee.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from threading import Lock
from types import SimpleNamespace
from typing import Any

from sqlalchemy import and_, bindparam, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from ..access import services as access
from ..auth.models import User
from ..auth.permissions import Permission, may, read_only
from ..errors import Forbidden, NotFound
from ..pagination import window
from ..processes.models import HumanTask, ProcessInstance
from ..processes.services import check_can_work_on, lane_refusal
from ..stages import StageTag, stage_condition, stage_of
from . import partner_decisions
from .models import PartnerDecision, TaskComment, TaskDraft

PAGE_SIZE = 20
ROLE_NAMES = {"staff": "staff", "ser": "SER", "jmt": "joint management team", "process_owner": "process owner",
              "assessor": "assessor", "admin": "administrator", "top_management": "top management"}
SORTS = {
    "due": "Due date",
    "newest": "Newest first",
    "oldest": "Oldest first",
    "name": "Task name",
    "relationship": "Relationship",
}


def workable(user: User):
    """SQL: the rows whose lane `user` may work on, leaving the assignee aside. Every row names its role
    (the store writes "staff" for a task outside the mapped lanes), so this is a plain `role IN (...)`."""
    roles = user.roles
    if read_only(user):
        return false()
    lanes = and_(HumanTask.role.in_(sorted(roles) or ["-"]),
                 or_(HumanTask.joint.is_(True), HumanTask.partner_side == user.is_partner))
    if not user.is_partner:
        return lanes
    # a partner works only on the relationships its organisation is the partner of
    theirs = access.relationships_of(user.organisation_id)
    # a joint task of several partners leaves the inbox of each partner once its organisation has decided it
    decided = select(PartnerDecision.id).where(PartnerDecision.human_task_id == HumanTask.id,
                                               PartnerDecision.organisation_id == user.organisation_id).exists()
    return and_(lanes, HumanTask.instance_id.in_(select(ProcessInstance.id).where(ProcessInstance.root_id.in_(theirs))),
                ~decided)


def works_lane(user: User, row: HumanTask) -> bool:
    """`workable` for one row already read (a partner's relationship is checked by the caller)."""
    return lane_refusal(user, row) is None


def visible_to_work(user: User):
    """SQL: ready rows in `user`'s inbox: assigned to them, or unassigned in a lane they may work."""
    return and_(HumanTask.state == "ready",
                or_(HumanTask.assignee_id == user.id, and_(HumanTask.assignee_id.is_(None), workable(user))))


def of_relationship(relationship_id: int):
    """SQL: the rows of a relationship's instances (itself and those linked to it), found by the indexed
    `process_instances.root_id`."""
    return HumanTask.instance_id.in_(select(ProcessInstance.id).where(ProcessInstance.root_id == relationship_id))


@dataclass
class InboxFilters:
    scope: str = ""  # "" (everything I may work) | mine | claimable
    relationship: int | None = None
    stage: str = ""
    role: str = ""
    overdue: bool = False
    sort: str = "due"
    page: int = 1

    @classmethod
    def parse(cls, args) -> InboxFilters:
        """From query arguments; anything malformed is ignored rather than refused."""
        def number(name):
            value = (args.get(name) or "").strip()
            return int(value) if value.isdigit() and len(value) < 10 else None
        return cls(scope=args.get("scope") if args.get("scope") in ("mine", "claimable") else "",
                   relationship=number("relationship"), stage=(args.get("stage") or "")[:255],
                   role=args.get("role") if args.get("role") in ("staff", "ser", "jmt") else "",
                   overdue=args.get("overdue") in ("1", "on", "true"),
                   sort=args.get("sort") if args.get("sort") in SORTS else "due", page=max(1, number("page") or 1))

    def as_args(self, **changes) -> dict:
        values = {"scope": self.scope, "relationship": self.relationship, "stage": self.stage, "role": self.role,
                  "overdue": "1" if self.overdue else "", "sort": self.sort if self.sort != "due" else "",
                  "page": self.page if self.page > 1 else ""}
        values.update(changes)
        return {k: v for k, v in values.items() if v not in ("", None)}


@dataclass
class TaskRow:
    id: int
    name: str
    process_id: str
    stage: StageTag
    role: str | None
    lane: str | None
    relationship_id: int
    relationship_title: str
    assignee_id: int | None
    assignee_name: str | None
    created_at: datetime
    due_at: datetime | None
    approval_gate: bool
    overdue: bool
    row: Any = field(default=None, repr=False, compare=False)  # its columns as read: to check who may work it


@dataclass
class InboxPage:
    rows: list[TaskRow]
    total: int
    page: int
    pages: int
    counts: dict
    # the filter drop-downs' choices, read on first use (the page shows them, the API does not)
    load_options: Callable[[], tuple[list[tuple[int, str]], list[StageTag]]] | None = field(
        default=None, repr=False, compare=False)

    @cached_property
    def _options(self) -> tuple[list[tuple[int, str]], list[StageTag]]:
        return self.load_options() if self.load_options is not None else ([], [])

    @property
    def relationships(self) -> list[tuple[int, str]]:
        """(id, title) of every relationship with a task in the inbox, by title."""
        return self._options[0]

    @property
    def stages(self) -> list[StageTag]:
        """Every stage with a task in the inbox, in lifecycle order."""
        return self._options[1]


# Module-level aliases: the statements built from them are the same on every call, so SQLAlchemy's
# compiled cache serves them.
_INSTANCE = aliased(ProcessInstance, name="instance")
_RELATIONSHIP = aliased(ProcessInstance, name="relationship")
_ASSIGNEE = aliased(User, name="assignee")


def _with_relationship(*columns):
    """Task rows with their relationship (the instance's root_id, one join) and their assignee's name."""
    return (select(*columns, _INSTANCE.root_id.label("root_id"), _RELATIONSHIP.title.label("root_title"),
                   _ASSIGNEE.display_name.label("assignee_name"))
            .join(_INSTANCE, _INSTANCE.id == HumanTask.instance_id)
            .outerjoin(_RELATIONSHIP, _RELATIONSHIP.id == _INSTANCE.root_id)
            .outerjoin(_ASSIGNEE, _ASSIGNEE.id == HumanTask.assignee_id))


_TASK_ROWS = _with_relationship(HumanTask)  # whole HumanTask objects: answers with their submitted data
# Lists (inbox pages, a relationship's open tasks) read plain columns, not ORM objects: what a TaskRow shows
# and what deciding who may work a task needs (refusal / check_can_work_on read these names).
_TASK_LIST = _with_relationship(
    HumanTask.id, HumanTask.name, HumanTask.process_id, HumanTask.role, HumanTask.lane, HumanTask.assignee_id,
    HumanTask.created_at, HumanTask.due_at, HumanTask.approval_gate, HumanTask.state, HumanTask.partner_side,
    HumanTask.joint, HumanTask.subprocess_id, HumanTask.instance_id)
_OPEN_ORDER = (HumanTask.created_at, HumanTask.id)
_OPEN_OF_RELATIONSHIP = _TASK_LIST.where(
    HumanTask.state == "ready", _INSTANCE.root_id == bindparam("relationship_id")).order_by(*_OPEN_ORDER)
_OPEN_OF_INSTANCES_RELATIONSHIP = (
    _TASK_LIST.where(HumanTask.state == "ready", _INSTANCE.root_id == select(ProcessInstance.root_id).where(
        ProcessInstance.id == bindparam("instance_id")).scalar_subquery()).order_by(*_OPEN_ORDER))


def _task_row(task, now: datetime) -> TaskRow:
    """From a row of `_TASK_LIST`."""
    return TaskRow(task.id, task.name, task.process_id, stage_of(task.process_id), task.role, task.lane,
                   task.root_id, task.root_title or f"Relationship #{task.root_id}", task.assignee_id,
                   task.assignee_name, task.created_at, task.due_at, task.approval_gate,
                   task.state == "ready" and task.due_at is not None and task.due_at < now, task)


def inbox(session: Session, user: User, filters: InboxFilters, *, now: datetime,
          options_cache: OptionsCache | None = None) -> InboxPage:
    """One page of the tasks `user` may work on, filtered and sorted, with counts for the whole inbox; the
    drop-downs' choices come from `options_cache` when given (the app keeps one, `Services.inbox_options`).

    Three statements: the counts and the filtered total in one pass over `human_tasks` (no join), the page of
    rows, and, only when read (`InboxPage.relationships` / `.stages`), the drop-downs' choices."""
    query, root_title = _TASK_LIST, _RELATIONSHIP.title
    base = visible_to_work(user)
    conditions = []
    if filters.scope == "mine":
        conditions.append(HumanTask.assignee_id == user.id)
    elif filters.scope == "claimable":
        conditions.append(HumanTask.assignee_id.is_(None))
    if filters.relationship is not None:
        conditions.append(of_relationship(filters.relationship))
    if filters.stage:
        conditions.append(stage_condition(HumanTask.process_id, filters.stage))
    if filters.role:
        conditions.append(HumanTask.role == filters.role)
    if filters.overdue:
        conditions.append(HumanTask.due_at < now)
    counts = session.execute(select(
        func.count().filter(HumanTask.assignee_id == user.id),
        func.count().filter(HumanTask.assignee_id.is_(None)),
        func.count().filter(HumanTask.due_at < now),
        func.count(),
        func.count().filter(and_(*conditions)) if conditions else func.count(),
        func.sum(HumanTask.id)).where(base)).one()  # (with the count: which tasks, for the drop-downs' cache)
    total = counts[4]
    options_key = (user.id, user.organisation_id, frozenset(user.roles), counts[3], counts[5])
    _remember_count(session, user, counts[3])
    at = window(total, filters.page, PAGE_SIZE)
    page, pages = at.page, at.pages
    order = {
        "due": (HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at, HumanTask.id),
        "newest": (HumanTask.created_at.desc(), HumanTask.id.desc()),
        "oldest": (HumanTask.created_at, HumanTask.id),
        "name": (HumanTask.name, HumanTask.id),
        "relationship": (root_title, HumanTask.created_at, HumanTask.id),
    }[filters.sort]
    found = []
    if total:
        # The page's ids first, sorted on human_tasks alone (a top-N sort, no join), then their relationship
        # and assignee for those 20 rows only. Sorting by relationship needs the titles, so joins first.
        chosen = (query if filters.sort == "relationship" else select(HumanTask.id)).where(base, *conditions)
        chosen = chosen.with_only_columns(HumanTask.id).order_by(*order).limit(PAGE_SIZE)
        chosen = chosen.offset(at.offset).subquery("chosen")
        found = session.execute(query.join(chosen, chosen.c.id == HumanTask.id).order_by(*order)).all()
    return InboxPage(
        rows=[_task_row(f, now) for f in found], total=total, page=page, pages=pages,
        counts={"mine": counts[0], "claimable": counts[1], "overdue": counts[2], "all": counts[3]},
        load_options=lambda: _options_of(session, user, options_key, now, options_cache))


class OptionsCache:
    """The drop-downs' choices per user and inbox content, kept a few minutes; one per app
    (`Services.inbox_options`). They cost as much as the rest of the page for a large inbox (~1,100
    relationships, B3 in docs/benchmarks.md) and change only when the set of tasks in the inbox does: the key
    holds its count and the sum of its task ids, so a task arriving or leaving reads them again. A relationship
    renamed meanwhile shows its old title until the entry ages out."""

    def __init__(self, size: int = 512, seconds: float = 300):
        self.size, self.seconds, self.entries, self.lock = size, seconds, OrderedDict(), Lock()

    def get(self, key, compute, now: datetime):
        with self.lock:
            found = self.entries.get(key)
            if found is not None and (now - found[0]).total_seconds() < self.seconds:
                self.entries.move_to_end(key)
                return found[1]
        value = compute()
        with self.lock:
            self.entries[key] = (now, value)
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
        return value


def _options_of(session: Session, user: User, key, now: datetime, cache: OptionsCache | None):
    if cache is None:
        return filter_options(session, user)
    return cache.get(key, lambda: filter_options(session, user), now)


def filter_options(session: Session, user: User) -> tuple[list[tuple[int, str]], list[StageTag]]:
    """The inbox drop-downs' choices: (id, title) of the relationships with a task in `user`'s inbox, by title,
    and the stages, in lifecycle order. Two small queries: the distinct relationships (one row each, through
    the root_id index) and the distinct process ids (a handful)."""
    base = visible_to_work(user)
    roots = select(_INSTANCE.root_id).join(HumanTask, HumanTask.instance_id == _INSTANCE.id).where(base)
    relationships = session.execute(select(ProcessInstance.id, ProcessInstance.title)
                                    .where(ProcessInstance.id.in_(roots))).all()
    processes = session.scalars(select(HumanTask.process_id).where(base).distinct()).all()
    return (sorted(((r, t or f"Relationship #{r}") for r, t in relationships), key=lambda x: (x[1].lower(), x[0])),
            sorted({stage_of(p) for p in processes}, key=lambda s: (s.number or 99, s.label)))


def open_tasks(session: Session, relationship_id: int, *, now: datetime) -> list[TaskRow]:
    """The ready tasks of a relationship and of its linked instances (reviews, issues)."""
    return [_task_row(f, now) for f in session.execute(_OPEN_OF_RELATIONSHIP, {"relationship_id": relationship_id})]


def open_tasks_around(session: Session, instance_id: int, *, now: datetime) -> tuple[int, list[TaskRow]]:
    """(relationship id, its ready tasks) for an instance of it: one statement when any task is open (after a
    completion, usually)."""
    rows = [_task_row(f, now) for f in session.execute(_OPEN_OF_INSTANCES_RELATIONSHIP, {"instance_id": instance_id})]
    return (rows[0].relationship_id if rows else root_instance(session, instance_id).id), rows


# ------------------------------------------------------------------------------ one task
def root_instance(session: Session, instance_id: int) -> ProcessInstance:
    """The relationship an instance belongs to: itself, or the top of its chain of linked instances."""
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f"instance {instance_id} does not exist")
    if instance.root_id is not None:
        return instance if instance.root_id == instance.id else session.get(ProcessInstance, instance.root_id)
    for _ in range(20):  # a row written without root_id: walk up
        if instance.parent_id is None:
            break
        instance = session.get(ProcessInstance, instance.parent_id)
    return instance


def _without_assignee(row: HumanTask):
    return SimpleNamespace(**{c: getattr(row, c) for c in (
        "id", "name", "role", "lane", "partner_side", "joint", "approval_gate", "subprocess_id", "instance_id",
        "process_id")},
        assignee_id=None)


def refusal(session: Session, user: User, row: HumanTask, *, ignore_assignee: bool = False) -> str | None:
    """Why `user` may not complete `row` (None when they may): the very rule complete_task applies."""
    if row.state != "ready":
        return f"This task is {row.state}."
    if user.is_partner and not access.may_see_instance(session, user, row.instance_id, row.process_id):
        return "This task belongs to a relationship of another organisation."
    if row.partner_side:
        decided = partner_decisions.already_decided(session, user, row)
        if decided is not None:
            return decided
    try:
        check_can_work_on(session, user, _without_assignee(row) if ignore_assignee else row)
    except Forbidden as exc:
        return exc.message
    return None


def may_view(session: Session, user: User, row: HumanTask) -> bool:
    """Anyone who may work it, its assignee, administrators and assessors, and SERs of the same side."""
    if user.is_partner and not access.may_see_instance(session, user, row.instance_id, row.process_id):
        return False  # a partner sees only its own relationships' joint tasks
    if row.assignee_id == user.id or may(user, Permission.READ_EVERY_TASK):
        return True
    if may(user, Permission.MANAGE_LANE_TASKS) and (row.partner_side == user.is_partner or row.joint):
        return True
    return works_lane(user, row)


def visible_task(session: Session, user: User, human_task_id: int) -> HumanTask:
    """The task row if `user` may see it. Raises NotFound when it does not exist or belongs to the other
    organisation (its existence is not told), Forbidden when it is our own organisation's but in a lane the
    user's roles may not open (a staff member on an SER gate): they are told why."""
    row = session.get(HumanTask, human_task_id)
    if row is None:
        raise NotFound(f"task {human_task_id} does not exist")
    if not may_view(session, user, row):
        if (row.partner_side != user.is_partner and not row.joint) or (
                user.is_partner and not access.may_see_instance(session, user, row.instance_id, row.process_id)):
            raise NotFound(f"task {human_task_id} does not exist")
        needed = ROLE_NAMES.get(row.role or "staff", row.role)
        roles = ", ".join(ROLE_NAMES.get(r, r) for r in sorted(user.roles)) or "none"
        raise Forbidden(f"You may not open the task “{row.name}”: it is in the {row.lane or 'Staff'} lane, for "
                        f"people with the role {needed}; your roles: {roles}.")
    return row


def stage_scope(row: HumanTask):
    """SQL: the rows of the same stage run as `row` (its call activity), or of its instance without one."""
    if row.subprocess_id:
        return and_(HumanTask.instance_id == row.instance_id, HumanTask.subprocess_id == row.subprocess_id)
    return and_(HumanTask.instance_id == row.instance_id, HumanTask.process_id == row.process_id)


def latest_completed(rows: list[HumanTask]) -> list[HumanTask]:
    """The last completion of each task (a reworked task is completed again), in completion order."""
    latest: dict[tuple[int, str], HumanTask] = {}
    for row in rows:
        latest[(row.instance_id, row.bpmn_id)] = row
    return sorted(latest.values(), key=lambda r: (r.completed_at, r.id))


def stage_work(session: Session, row: HumanTask) -> list[HumanTask]:
    """What the stage produced so far: its completed non-gate tasks, the latest of each."""
    rows = session.scalars(select(HumanTask).where(stage_scope(row), HumanTask.state == "completed",
                                                   HumanTask.approval_gate.is_(False))
                           .order_by(HumanTask.completed_at, HumanTask.id)).all()
    return latest_completed(list(rows))


def earlier_decisions(session: Session, row: HumanTask) -> list[HumanTask]:
    """The gate decisions already taken in this stage run (e.g. an earlier rework)."""
    return list(session.scalars(select(HumanTask).where(
        stage_scope(row), HumanTask.state == "completed", HumanTask.approval_gate.is_(True), HumanTask.id != row.id)
        .order_by(HumanTask.completed_at, HumanTask.id)))


def relationship_answers(session: Session, relationship_id: int, *, exclude: int | None = None) -> list[HumanTask]:
    """The completed tasks of a relationship and its linked instances, latest of each, newest first."""
    found = session.execute(_TASK_ROWS.where(HumanTask.state == "completed", _INSTANCE.root_id == relationship_id)
                            .order_by(HumanTask.completed_at, HumanTask.id)).all()
    rows = [f.HumanTask for f in found if f.HumanTask.id != exclude]
    return list(reversed(latest_completed(rows)))


def draft_of(session: Session, user: User, human_task_id: int) -> TaskDraft | None:
    return session.scalar(select(TaskDraft).where(TaskDraft.human_task_id == human_task_id,
                                                  TaskDraft.user_id == user.id))


def comments_of(session: Session, human_task_id: int) -> list[tuple[TaskComment, str]]:
    return [(c, name) for c, name in session.execute(
        select(TaskComment, User.display_name).join(User, User.id == TaskComment.author_id)
        .where(TaskComment.human_task_id == human_task_id).order_by(TaskComment.created_at, TaskComment.id))]


def candidates(session: Session, row: HumanTask) -> list[User]:
    """People a task may be reassigned to: active users whose roles and side let them work it."""
    people = session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.display_name)).all()
    return [u for u in people if refusal(session, u, row, ignore_assignee=True) is None]


def users_by_id(session: Session, ids) -> dict[int, User]:
    ids = {i for i in ids if i is not None}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}


__all__ = ["InboxFilters", "InboxPage", "TaskRow", "candidates", "comments_of", "draft_of",
           "earlier_decisions", "filter_options", "inbox", "may_view", "open_tasks", "refusal", "relationship_answers",
           "root_instance", "stage_work", "visible_task"]


def inbox_count(session: Session, user: User) -> int:
    """How many tasks are in `user`'s inbox (the header's badge). The inbox page counted them already in
    this transaction: that count is reused rather than asked again."""
    remembered = session.info.get(_COUNTED)
    transaction = session.get_transaction()
    if remembered is not None and transaction is not None and remembered[:2] == (transaction, user.id):
        return remembered[2]
    return session.scalar(select(func.count()).select_from(HumanTask).where(visible_to_work(user))) or 0


_COUNTED = "collabflow.inbox_count"  # session.info key: (transaction, user id, count) as inbox() counted


def _remember_count(session: Session, user: User, count: int) -> None:
    session.info[_COUNTED] = (session.get_transaction(), user.id, count)
