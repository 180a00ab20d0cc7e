"""Reading and changing the registers of a relationship, with partner visibility and a kept history.

Entries come from two places: the lifecycle's completed tasks (taken in lazily by `sync`, once per task, so
every way of completing a task — page, API, scheduler, tests — feeds the registers) and people editing
them through forms. Every change writes a new version row; nothing is ever overwritten without trace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflows import Conflict

from ..access import services as access
from ..audit.services import record
from ..auth.models import User
from ..auth.permissions import Permission, may
from ..errors import BadRequest, Forbidden, NotFound
from ..processes.models import HumanTask, ProcessInstance
from ..stages import ISSUE_PROCESS
from .kinds import FEEDS, ISSUES, KNOWLEDGE, PLAN_OF_FEED, REGISTERS, REVIEWED, Register
from .models import RegisterChange, RegisterEntry, RegisterFeed

OPEN_ACTION = frozenset({"open", "in_progress"})


@dataclass
class EntryView:
    """An entry as one user may see it (partners: redacted knowledge)."""

    id: int
    register: str
    data: dict
    joint: bool
    version: int
    source: str
    updated_at: datetime
    updated_by: str | None
    removed: bool = False
    flags: list[str] = field(default_factory=list)  # "review overdue", "overdue", ...


def register_of(name: str) -> Register:
    try:
        return REGISTERS[name]
    except KeyError:
        raise NotFound(f"there is no register {name!r}; registers are {', '.join(REGISTERS)}") from None


def key_of(value) -> str:
    return " ".join(str(value or "").lower().split())[:300]


# ---- feeding from completed tasks ---------------------------------------------------------------------------

def sync(session: Session, relationship_id: int | None, *, now: datetime) -> int:
    """Take in the register data of every completed task not taken in yet: of one relationship, or, with None,
    of every relationship in one pass (the dashboard: one statement finds what is new, however many
    relationships there are). Commits. Returns how many tasks were read; 0 when another request is doing the
    same at this moment."""
    query = (select(HumanTask.id, HumanTask.process_id, HumanTask.name, HumanTask.submitted,
                    HumanTask.completed_by_id, HumanTask.completed_at, ProcessInstance.root_id)
             .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
             .where(HumanTask.state == "completed", ProcessInstance.root_id.is_not(None),
                    ~exists().where(RegisterFeed.human_task_id == HumanTask.id))
             .order_by(HumanTask.completed_at, HumanTask.id))
    if relationship_id is not None:
        query = query.where(ProcessInstance.root_id == relationship_id)
    rows = session.execute(query).all()
    if not rows:
        return 0
    try:
        session.add_all(RegisterFeed(human_task_id=r.id, relationship_id=r.root_id, fed_at=now) for r in rows)
        session.flush()
        for row in rows:
            for field_name, items in (row.submitted or {}).items():
                register = FEEDS.get(field_name)
                if register is None or not isinstance(items, list):
                    continue
                for item in items:
                    if isinstance(item, dict):
                        _take_in(session, row.root_id, register, _from_task(register, field_name, item),
                                 joint=access.joint_process(row.process_id), source=f"task {row.id}: {row.name}"[:120],
                                 user_id=row.completed_by_id, at=row.completed_at or now)
        session.commit()
    except IntegrityError:
        session.rollback()  # someone else took these tasks in at the same moment
        return 0
    return len(rows)


def _from_task(register: Register, field_name: str, item: dict) -> dict:
    props = register.schema["properties"]
    data = {k: v for k, v in item.items() if k in props and v not in (None, "")}
    if register is KNOWLEDGE:
        data["sharing"] = access.SHARING.get(item.get("sharing"), "withhold")
        data.setdefault("owner", item.get("owner_organisation") or "unknown")
        if item.get("share_with"):
            data.setdefault("conditions", f"share with: {item['share_with']}")
    if field_name in PLAN_OF_FEED:
        data["plan"] = PLAN_OF_FEED[field_name]
    return data


def _take_in(session, relationship_id, register: Register, data: dict, *, joint: bool, source: str, user_id,
             at: datetime) -> None:
    key = key_of(data.get(register.key))
    if not key:
        return
    entry = session.scalar(select(RegisterEntry).where(RegisterEntry.relationship_id == relationship_id,
                                                       RegisterEntry.register == register.name,
                                                       RegisterEntry.key == key))
    if entry is None:
        entry = RegisterEntry(relationship_id=relationship_id, register=register.name, key=key, data=data,
                              joint=joint, source=source, created_at=at, updated_at=at, updated_by_id=user_id)
        session.add(entry)
        session.flush()
        _history(session, entry, "created", user_id, at)
        return
    merged = {**entry.data, **data}
    if merged == entry.data and not entry.removed and (entry.joint or not joint):
        return
    change = "restored" if entry.removed else "updated"
    entry.data, entry.joint, entry.removed = merged, entry.joint or joint, False
    entry.version += 1
    entry.source, entry.updated_at, entry.updated_by_id = source, at, user_id
    _history(session, entry, change, user_id, at)


def _history(session, entry: RegisterEntry, change: str, user_id, at) -> None:
    session.add(RegisterChange(entry_id=entry.id, version=entry.version, change=change, data=dict(entry.data),
                               joint=entry.joint, source=entry.source, changed_at=at, changed_by_id=user_id))


# ---- reading ------------------------------------------------------------------------------------------------

def entries(session: Session, user: User, relationship_id: int, name: str, *, now: datetime,
            removed: bool = False) -> list[EntryView]:
    """The register's entries the user may see, newest change last. Raises NotFound."""
    register = register_of(name)
    access.require_relationship(session, user, relationship_id)
    if register is ISSUES:
        raise BadRequest("the issue log is read with issue_log()")
    sync(session, relationship_id, now=now)
    query = select(RegisterEntry, User.display_name).outerjoin(User, User.id == RegisterEntry.updated_by_id).where(
        RegisterEntry.relationship_id == relationship_id, RegisterEntry.register == register.name)
    if not removed:
        query = query.where(RegisterEntry.removed.is_(False))
    views = []
    for entry, who in session.execute(query.order_by(RegisterEntry.id)):
        data = _visible(user, register, entry.data, entry.joint)
        if data is None:
            continue
        views.append(EntryView(entry.id, register.name, data, entry.joint, entry.version, entry.source,
                               entry.updated_at, who, entry.removed, flags(register, data, now)))
    return views


def _visible(user: User, register: Register, data: dict, joint: bool) -> dict | None:
    """The entry's data as `user` may see it, or None when hidden from them."""
    if access.sees_everything(user):
        return data
    if not joint:
        return None
    if register is KNOWLEDGE:
        rule = access.sharing_of(data)
        if rule == "withhold" or rule is None:
            return None
        return access.redact(data, user)
    return access.redact(data, user)


def flags(register: Register, data: dict, now: datetime) -> list[str]:
    today = now.date().isoformat()
    found = []
    if register.name in REVIEWED and _date(data.get("review_date")) and data["review_date"] < today:
        found.append("review overdue")
    if register.name == "actions" and _date(data.get("deadline")) and data["deadline"] < today \
            and data.get("status") in OPEN_ACTION:
        found.append("overdue")
    return found


def _date(value) -> bool:
    return isinstance(value, str) and bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value))


def entry(session: Session, user: User, entry_id: int, *, now: datetime) -> tuple[RegisterEntry, EntryView]:
    row = session.get(RegisterEntry, entry_id)
    if row is None or not access.may_see(session, user, row.relationship_id):
        raise NotFound(f"register entry {entry_id} does not exist")
    register = register_of(row.register)
    data = _visible(user, register, row.data, row.joint)
    if data is None:
        raise NotFound(f"register entry {entry_id} does not exist")
    who = session.get(User, row.updated_by_id) if row.updated_by_id else None
    return row, EntryView(row.id, row.register, data, row.joint, row.version, row.source, row.updated_at,
                          who.display_name if who else None, row.removed, flags(register, data, now))


@dataclass
class Change:
    version: int
    change: str
    data: dict
    joint: bool
    source: str
    at: datetime
    by: str | None


def history(session: Session, user: User, entry_id: int, *, now: datetime) -> list[Change]:
    """Every version of an entry the user may see, oldest first."""
    row, _view = entry(session, user, entry_id, now=now)
    register = register_of(row.register)
    found = []
    for change, who in session.execute(
            select(RegisterChange, User.display_name).outerjoin(User, User.id == RegisterChange.changed_by_id)
            .where(RegisterChange.entry_id == row.id).order_by(RegisterChange.version)):
        data = _visible(user, register, change.data, change.joint)
        if data is not None:
            found.append(Change(change.version, change.change, data, change.joint, change.source,
                                change.changed_at, who))
    return found


def heat_map(views: list[EntryView]) -> list[list[int]]:
    """Risk counts by cell: rows are impact 5 (top) to 1, columns likelihood 1 to 5."""
    grid = [[0] * 5 for _ in range(5)]
    for view in views:
        likelihood, impact = view.data.get("likelihood"), view.data.get("impact")
        if isinstance(likelihood, int) and isinstance(impact, int) and 1 <= likelihood <= 5 and 1 <= impact <= 5:
            grid[5 - impact][likelihood - 1] += 1
    return grid


def value_totals(views: list[EntryView]) -> dict[str, float]:
    totals = {"cost": 0.0, "benefit": 0.0, "realised_value": 0.0}
    for view in views:
        if view.data.get("status") == "rejected":
            continue
        for k in totals:
            if isinstance(view.data.get(k), int | float):
                totals[k] += view.data[k]
    return totals


# ---- changing -----------------------------------------------------------------------------------------------

def _may_edit(session: Session, user: User, relationship_id: int, register: Register) -> None:
    access.require_relationship(session, user, relationship_id)
    if not register.editable:
        raise Forbidden(f"the {register.title.lower()} is kept by the lifecycle and cannot be edited here")
    if not may(user, Permission.EDIT_REGISTERS):
        raise Forbidden("your roles let you read the registers but not change them")
    if user.is_partner and register is KNOWLEDGE:
        raise Forbidden("the knowledge map says what we share; a partner organisation cannot change it")


def validate(register: Register, data) -> dict:
    """The entry's data checked against the register's columns. Raises BadRequest naming each field."""
    if not isinstance(data, dict):
        raise BadRequest("an entry is an object of fields", {"(form)": "expected an object"})
    cleaned = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items() if v not in (None, "")}
    errors = {}
    for error in Draft202012Validator(register.schema, format_checker=FormatChecker()).iter_errors(cleaned):
        where = error.path[0] if error.path else "(form)"
        if error.validator == "required":
            missing = re.search(r"'(.+?)' is a required property", error.message)
            where = missing.group(1) if missing else "(form)"
            errors[where] = "this field is required"
        elif error.validator == "additionalProperties":
            errors["(form)"] = error.message
        else:
            errors.setdefault(str(where), error.message)
    if errors:
        raise BadRequest(f"the {register.title.lower()} entry needs attention", errors)
    return cleaned


def create(session: Session, user: User, relationship_id: int, name: str, data: dict, *, joint: bool,
           now: datetime) -> RegisterEntry:
    """Add an entry. Raises NotFound, Forbidden, BadRequest (fields; a duplicate name). Commits."""
    register = register_of(name)
    _require_relationship(session, relationship_id)
    _may_edit(session, user, relationship_id, register)
    cleaned = validate(register, data)
    joint = True if user.is_partner else bool(joint)
    key = key_of(cleaned[register.key])
    if session.scalar(select(RegisterEntry.id).where(RegisterEntry.relationship_id == relationship_id,
                                                     RegisterEntry.register == register.name,
                                                     RegisterEntry.key == key)) is not None:
        raise BadRequest(f"the {register.title.lower()} already has {cleaned[register.key]!r}; edit that entry",
                         {register.key: "already in the register"})
    row = RegisterEntry(relationship_id=relationship_id, register=register.name, key=key, data=cleaned,
                        joint=joint, source="form", created_at=now, updated_at=now, updated_by_id=user.id)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise BadRequest(f"the {register.title.lower()} already has {cleaned[register.key]!r}",
                         {register.key: "already in the register"}) from None
    _history(session, row, "created", user.id, now)
    record(session, "register.entry_created", actor=user, instance_id=relationship_id, at=now,
           payload={"register": register.name, "entry_id": row.id, "name": cleaned[register.key], "joint": joint})
    session.commit()
    return row


def _require_relationship(session: Session, relationship_id: int) -> None:
    access.relationship_or_404(session, relationship_id)


def update(session: Session, user: User, entry_id: int, data: dict, *, joint: bool | None, expected_version: int,
           now: datetime, remove: bool = False) -> RegisterEntry:
    """Change (or remove) an entry the user saw at `expected_version`; a change made meanwhile by someone
    else is refused (Conflict), never merged silently. Commits."""
    row, _view = entry(session, user, entry_id, now=now)
    register = register_of(row.register)
    _may_edit(session, user, row.relationship_id, register)
    if user.is_partner and not row.joint:
        raise NotFound(f"register entry {entry_id} does not exist")
    if row.version != expected_version:
        raise Conflict(f"someone changed this entry (now version {row.version}) after you opened version "
                       f"{expected_version}; reload it and make your change again")
    if remove:
        row.removed, change = True, "removed"
    else:
        cleaned = validate(register, data)
        new_key = key_of(cleaned[register.key])
        if new_key != row.key and session.scalar(select(RegisterEntry.id).where(
                RegisterEntry.relationship_id == row.relationship_id, RegisterEntry.register == register.name,
                RegisterEntry.key == new_key)) is not None:
            raise BadRequest(f"the {register.title.lower()} already has {cleaned[register.key]!r}",
                             {register.key: "already in the register"})
        row.data, row.key, change = cleaned, new_key, "restored" if row.removed else "updated"
        row.removed = False
        if joint is not None and not user.is_partner:
            row.joint = bool(joint)
    row.version += 1
    row.source, row.updated_at, row.updated_by_id = "form", now, user.id
    _history(session, row, change, user.id, now)
    record(session, f"register.entry_{change}", actor=user, instance_id=row.relationship_id, at=now,
           payload={"register": register.name, "entry_id": row.id, "version": row.version})
    session.commit()
    return row


# ---- the issue log (read from the issue-resolution processes) ------------------------------------------------

@dataclass
class IssueStep:
    at: datetime | None
    what: str
    by: str | None


@dataclass
class IssueView:
    id: int
    title: str
    raised_at: datetime
    raised_by: str | None
    status: str
    level: str | None
    outcome: str | None
    steps: list[IssueStep]


_LEVEL = re.compile(r"^ir_level(\d+)")


def _below(session: Session, instance_id: int) -> list[int]:
    """An instance and those linked below it (an issue and its level-3 instance)."""
    found, frontier = [instance_id], [instance_id]
    while frontier and len(found) < 100:
        frontier = list(session.scalars(select(ProcessInstance.id).where(ProcessInstance.parent_id.in_(frontier))))
        found += frontier
    return found


def issue_log(session: Session, user: User, relationship_id: int) -> list[IssueView]:
    """Every issue raised on the relationship with its escalation history (joint: partners see it too)."""
    access.require_relationship(session, user, relationship_id)
    issues = session.execute(select(ProcessInstance.id, ProcessInstance.title, ProcessInstance.status,
                                    ProcessInstance.data, ProcessInstance.created_at, User.display_name)
                             .outerjoin(User, User.id == ProcessInstance.started_by_id).where(
        ProcessInstance.parent_id == relationship_id, ProcessInstance.process_id == ISSUE_PROCESS)
        .order_by(ProcessInstance.created_at, ProcessInstance.id)).all()
    result = []
    for issue in issues:
        members = _below(session, issue.id)
        tasks = session.execute(select(HumanTask.name, HumanTask.bpmn_id, HumanTask.state, HumanTask.created_at,
                                       HumanTask.completed_at, User.display_name, HumanTask.submitted)
                                .outerjoin(User, User.id == HumanTask.completed_by_id)
                                .where(HumanTask.instance_id.in_(members), HumanTask.state != "cancelled")
                                .order_by(HumanTask.created_at, HumanTask.id)).all()
        steps, levels, ready_levels, title = [], [], [], issue.title
        for t in tasks:
            match = _LEVEL.match(t.bpmn_id)
            level = int(match.group(1)) if match else None
            if level:
                (ready_levels if t.state == "ready" else levels).append(level)
            submitted = t.submitted or {}
            title = title or submitted.get("issue_title")
            if t.state == "completed":
                outcome = next((v for k, v in submitted.items() if isinstance(v, str) and (
                    k.endswith("resolution") or k in ("decision", "partner_decision", "outcome"))), None)
                steps.append(IssueStep(t.completed_at, f"{t.name}" + (f": {outcome}" if isinstance(outcome, str)
                                                                       else ""), t.display_name))
            else:
                steps.append(IssueStep(t.created_at, f"{t.name} (waiting)", None))
        data = issue.data or {}
        level = f"Level {max(ready_levels)}" if ready_levels else None
        outcome = data.get("outcome") if issue.status != "running" else None
        result.append(IssueView(issue.id, title or data.get("issue_title") or f"Issue #{issue.id}", issue.created_at,
                                issue.display_name, issue.status, level,
                                outcome if isinstance(outcome, str) else None, steps))
    return result
