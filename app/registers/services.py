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

from workflows import Conflict, ServiceCall

from ..access import services as access
from ..audit.services import record
from ..auth.models import User
from ..auth.permissions import Permission, may
from ..errors import BadRequest, Forbidden, NotFound
from ..processes.models import HumanTask, ProcessInstance
from ..stages import ISSUE_PROCESS, LIFECYCLE, MANAGEMENT_SYSTEM
from .kinds import (
    COMPETENCE,
    EXIT_TRIGGERS,
    FEEDS,
    ISSUES,
    KNOWLEDGE,
    PLAN_OF_FEED,
    REGISTERS,
    REVIEWED,
    TRAINING,
    Register,
)
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
                        _take_in(session, row.root_id, register, _from_task(register, field_name, item,
                                                                            row.submitted),
                                 joint=access.joint_process(row.process_id), source=f"task {row.id}: {row.name}"[:120],
                                 user_id=row.completed_by_id, at=row.completed_at or now)
            raised = _raised_trigger(row.submitted or {})
            if raised is not None:
                _take_in(session, row.root_id, EXIT_TRIGGERS, _with_outcome(session, row.root_id, raised),
                         joint=True, source=f"task {row.id}: {row.name}"[:120], user_id=row.completed_by_id,
                         at=row.completed_at or now)
        session.commit()
    except IntegrityError:
        session.rollback()  # someone else took these tasks in at the same moment
        return 0
    return len(rows)


DECIDED = {"exit_decision": "our_decision", "partner_exit_decision": "partner_decision",
           "deadlock_resolution": "deadlock_resolution", "mediation_outcome": "mediation_outcome"}


def _raised_trigger(submitted: dict) -> dict | None:
    """The exit-trigger register's entry a completed exit review or deadlock task speaks of (X.01): the trigger
    it decided, with the decision of its side. None for any other task."""
    info = submitted.get("exit_info")
    decided = {column: submitted[field] for field, column in DECIDED.items() if isinstance(submitted.get(field), str)}
    if not isinstance(info, dict) or not isinstance(info.get("reason"), str) or not decided:
        return None
    data = {"trigger": info["reason"][:300], **decided}
    if info.get("source") in EXIT_TRIGGERS.schema["properties"]["raised"]["enum"]:
        data["raised"] = info["source"]
    return data


def _with_outcome(session: Session, relationship_id: int, raised: dict) -> dict:
    """`raised` with the trigger's outcome by the rule both SERs agreed (X.01), read with what the register already
    holds of the trigger: both invoke, exit; both dismiss, dismissed; otherwise the exit strategy's deadlock path."""
    kept = session.scalar(select(RegisterEntry).where(  # the entry itself: a sync pass may have changed it already
        RegisterEntry.relationship_id == relationship_id, RegisterEntry.register == EXIT_TRIGGERS.name,
        RegisterEntry.key == key_of(EXIT_TRIGGERS.name_of(raised))))
    data = {**(kept.data if kept else {}), **raised}
    ours, theirs, deadlock = data.get("our_decision"), data.get("partner_decision"), data.get("deadlock_resolution")
    if ours is None or theirs is None:
        outcome = "awaiting_decision"
    elif ours == theirs:
        outcome = "exit_invoked" if ours == "invoke_exit" else "dismissed"
    elif deadlock in ("continue", "invoke_exit") or data.get("mediation_outcome") in ("continue", "invoke_exit"):
        settled = deadlock if deadlock != "external_mediation" else data["mediation_outcome"]
        outcome = "exit_invoked" if settled == "invoke_exit" else "dismissed"
    else:
        outcome = "deadlock"
    return {**raised, "outcome": outcome}


def _from_task(register: Register, field_name: str, item: dict, submitted: dict | None = None) -> dict:
    props = register.schema["properties"]
    data = {k: v for k, v in item.items() if k in props and v not in (None, "")}
    if register is COMPETENCE and "required_level" not in data:
        data.update(_required_level(submitted, data))
    if register is KNOWLEDGE:
        data["sharing"] = access.SHARING.get(item.get("sharing"), "withhold")
        data.setdefault("owner", item.get("owner_organisation") or "unknown")
        if item.get("share_with"):
            data.setdefault("conditions", f"share with: {item['share_with']}")
        if access.shared_with(item):  # the partner organisations it is shared with, as the register's text
            data["shared_with"] = ", ".join(access.shared_with(item))[:600]
    if field_name in PLAN_OF_FEED:
        data["plan"] = PLAN_OF_FEED[field_name]
    return data


def _take_in(session, relationship_id, register: Register, data: dict, *, joint: bool, source: str, user_id,
             at: datetime) -> tuple[RegisterEntry | None, str]:
    """Add the entry, or update the one of the same name. Returns (the entry, created | updated | restored |
    unchanged); (None, 'unnamed') when the data names no entry."""
    key = key_of(register.name_of(data))
    if not key:
        return None, "unnamed"
    entry = session.scalar(select(RegisterEntry).where(RegisterEntry.relationship_id == relationship_id,
                                                       RegisterEntry.register == register.name,
                                                       RegisterEntry.key == key))
    if entry is None:
        entry = RegisterEntry(relationship_id=relationship_id, register=register.name, key=key, data=data,
                              joint=joint, source=source, created_at=at, updated_at=at, updated_by_id=user_id)
        session.add(entry)
        session.flush()
        _history(session, entry, "created", user_id, at)
        return entry, "created"
    merged = {**entry.data, **data}
    if merged == entry.data and not entry.removed and (entry.joint or not joint):
        return entry, "unchanged"
    change = "restored" if entry.removed else "updated"
    entry.data, entry.joint, entry.removed = merged, entry.joint or joint, False
    entry.version += 1
    entry.source, entry.updated_at, entry.updated_by_id = source, at, user_id
    _history(session, entry, change, user_id, at)
    return entry, change


# ---- from a service task (the create_register_entry connector) ---------------------------------------------------
def _register_for_service(call: ServiceCall, name) -> Register:
    register = REGISTERS.get(name) if isinstance(name, str) else None
    if register is None:
        raise call.failed(f"there is no register {name!r}; registers: {', '.join(REGISTERS)}")
    if not register.editable:
        raise call.failed(f"the {register.title.lower()} is kept by the lifecycle; no entry can be added to it")
    return register


def entry_from_service(session: Session, call: ServiceCall, *, instance_id: int, now: datetime, actor,
                       mail=None) -> dict:
    """The entry a service task adds to a register of the relationship (or the management system) its instance
    belongs to; an entry of the same name is updated, as a completed task's register data is. Returns the audit
    payload; raises the call's located failure when the register or the entry's fields are not right."""
    register = _register_for_service(call, call.params["register"])
    root_id = session.scalar(select(ProcessInstance.root_id).where(ProcessInstance.id == instance_id)) or instance_id
    root_process = session.scalar(select(ProcessInstance.process_id).where(ProcessInstance.id == root_id))
    if root_process not in (LIFECYCLE, MANAGEMENT_SYSTEM):
        raise call.failed("this instance belongs to no relationship and not to the management system, so it has no "
                          "registers")
    level = "organisation" if root_process == MANAGEMENT_SYSTEM else "relationship"
    if register.scope not in ("both", level):
        whose = "the management system's" if register.scope == "organisation" else "a relationship's"
        raise call.failed(f"the {register.title.lower()} is {whose} only, and this instance belongs to "
                          f"{'the management system' if level == 'organisation' else 'a relationship'}")
    try:
        cleaned = validate(register, call.params["entry"])
    except BadRequest as exc:
        fields = "; ".join(f"{name}: {message}" for name, message in dict(exc.errors).items())
        raise call.failed(f"the entry does not fit the {register.title.lower()} ({fields})") from None
    joint = call.params.get("joint", access.joint_process(call.process_id))
    entry, change = _take_in(session, root_id, register, cleaned, joint=joint,
                             source=f"service task: {call.task_name or call.bpmn_id}"[:120],
                             user_id=actor.id if isinstance(actor, User) else None, at=now)
    return {"register": register.name, "relationship_id": root_id, "entry_id": entry.id if entry else None,
            "entry": register.name_of(cleaned), "change": change, "joint": joint}


def check_service_literals(literals: dict, lanes=None) -> list[str]:
    """What is wrong with the register and entry a diagram writes as literals (deploy time)."""
    name = literals.get("register")
    register = REGISTERS.get(name) if isinstance(name, str) else None
    if name is not None and register is None:
        return [f"there is no register {name!r}; registers: {', '.join(REGISTERS)}"]
    if register is not None and not register.editable:
        return [f"the {register.title.lower()} is kept by the lifecycle; no entry can be added to it"]
    if register is not None and isinstance(literals.get("entry"), dict):
        try:
            validate(register, literals["entry"])
        except BadRequest as exc:
            return [f"the entry does not fit the {register.title.lower()} ("
                    + "; ".join(f"{k}: {v}" for k, v in dict(exc.errors).items()) + ")"]
    return []


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
    nda = _nda(session, user, relationship_id)
    for entry, who in session.execute(query.order_by(RegisterEntry.id)):
        data = visible_data(user, register, entry.data, entry.joint, nda)
        if data is None:
            continue
        views.append(EntryView(entry.id, register.name, data, entry.joint, entry.version, entry.source,
                               entry.updated_at, who, entry.removed, flags(register, data, now)))
    return views


def _nda(session: Session, user: User, relationship_id: int) -> bool:
    """Whether knowledge shared under an NDA shows in full to `user` (a partner, once the agreement covers it)."""
    return not access.sees_everything(user) and access.confidentiality_agreed(session, relationship_id)


def current_data(session: Session, relationship_id: int, name: str) -> list[dict]:
    """The data of the register's entries as `sync` would leave them, without writing: the entries kept, with the
    rows of completed tasks not taken in yet merged in by name (for reads inside another action's transaction)."""
    register = register_of(name)
    found = {row.key: dict(row.data) for row in session.scalars(select(RegisterEntry).where(
        RegisterEntry.relationship_id == relationship_id, RegisterEntry.register == register.name,
        RegisterEntry.removed.is_(False)).order_by(RegisterEntry.id))}
    for submitted in session.scalars(
            select(HumanTask.submitted).join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
            .where(HumanTask.state == "completed", ProcessInstance.root_id == relationship_id,
                   ~exists().where(RegisterFeed.human_task_id == HumanTask.id))
            .order_by(HumanTask.completed_at, HumanTask.id)):
        for field_name in register.feeds:
            items = (submitted or {}).get(field_name)
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict):
                    data = _from_task(register, field_name, item, submitted)
                    key = key_of(register.name_of(data))
                    if key:
                        found[key] = {**found.get(key, {}), **data}
    return list(found.values())


def visible_data(user: User, register: Register, data: dict, joint: bool, nda: bool = False) -> dict | None:
    """The entry's data as `user` may see it, or None when hidden from them."""
    if access.sees_everything(user):
        return data
    if not joint:
        return None
    if register is KNOWLEDGE:
        rule = access.sharing_of(data)
        if rule == "withhold" or rule is None or not access.reaches(data, user):
            return None
    return access.redact(data, user, nda=nda)


def _required_level(submitted: dict | None, assessed: dict) -> dict:
    """The level the competence framework filled in beside the assessment requires of this role and competence."""
    for row in (submitted or {}).get("competence_framework") or []:
        if isinstance(row, dict) and row.get("competence") == assessed.get("competence") \
                and key_of(row.get("role")) == key_of(assessed.get("role")) \
                and isinstance(row.get("required_level"), int):
            return {"required_level": row["required_level"]}
    return {}


def flags(register: Register, data: dict, now: datetime) -> list[str]:
    today = now.date().isoformat()
    found = []
    if register is COMPETENCE and isinstance(data.get("assessed_level"), int) \
            and isinstance(data.get("required_level"), int) and data["assessed_level"] < data["required_level"]:
        found.append("below required level")
    if register is TRAINING and data.get("effective") in ("no", "not_yet_assessed"):
        found.append("not effective" if data["effective"] == "no" else "effectiveness not assessed")
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
    data = visible_data(user, register, row.data, row.joint, _nda(session, user, row.relationship_id))
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
    nda = _nda(session, user, row.relationship_id)
    for change, who in session.execute(
            select(RegisterChange, User.display_name).outerjoin(User, User.id == RegisterChange.changed_by_id)
            .where(RegisterChange.entry_id == row.id).order_by(RegisterChange.version)):
        data = visible_data(user, register, change.data, change.joint, nda)
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
    may_change(session, user, relationship_id, register)
    row = add_entry(session, user, relationship_id, register, data, joint=joint, now=now)
    record(session, "register.entry_created", actor=user, instance_id=relationship_id, at=now,
           payload={"register": register.name, "entry_id": row.id, "name": register.name_of(row.data),
                    "joint": row.joint})
    session.commit()
    return row


def may_change(session: Session, user: User, relationship_id: int, register: Register) -> None:
    """Whether `user` may add and change entries of this register of the relationship (a form, an import).
    Raises NotFound, Forbidden."""
    _require_relationship(session, relationship_id)
    _may_edit(session, user, relationship_id, register)


def add_entry(session: Session, user: User, relationship_id: int, register: Register, data: dict, *, joint: bool,
              now: datetime, source: str = "form") -> RegisterEntry:
    """The one way an entry is added (the form, the API, a spreadsheet import): checked, version 1 kept; no audit
    event and no commit (the caller's). Raises BadRequest (fields; a duplicate name)."""
    cleaned = validate(register, data)
    joint = True if user.is_partner else bool(joint)
    key = key_of(register.name_of(cleaned))
    if session.scalar(select(RegisterEntry.id).where(RegisterEntry.relationship_id == relationship_id,
                                                     RegisterEntry.register == register.name,
                                                     RegisterEntry.key == key)) is not None:
        raise BadRequest(f"the {register.title.lower()} already has {register.name_of(cleaned)!r}; edit that entry",
                         {register.key: "already in the register"})
    row = RegisterEntry(relationship_id=relationship_id, register=register.name, key=key, data=cleaned,
                        joint=joint, source=source[:120], created_at=now, updated_at=now, updated_by_id=user.id)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise BadRequest(f"the {register.title.lower()} already has {register.name_of(cleaned)!r}",
                         {register.key: "already in the register"}) from None
    _history(session, row, "created", user.id, now)
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
    change = change_entry(session, user, row, data, joint=joint, expected_version=expected_version, now=now,
                          remove=remove)
    record(session, f"register.entry_{change}", actor=user, instance_id=row.relationship_id, at=now,
           payload={"register": register.name, "entry_id": row.id, "version": row.version})
    session.commit()
    return row


def change_entry(session: Session, user: User, row: RegisterEntry, data: dict, *, joint: bool | None,
                 expected_version: int, now: datetime, remove: bool = False, source: str = "form") -> str:
    """The one way an entry changes (the form, the API, a spreadsheet import): checked, a new version kept; no
    audit event and no commit (the caller's). Returns updated | restored | removed. Raises NotFound, Conflict,
    BadRequest (fields; a name another entry has)."""
    register = register_of(row.register)
    if user.is_partner and not row.joint:
        raise NotFound(f"register entry {row.id} does not exist")
    if row.version != expected_version:
        raise Conflict(f"someone changed this entry (now version {row.version}) after you opened version "
                       f"{expected_version}; reload it and make your change again")
    if remove:
        row.removed, change = True, "removed"
    else:
        cleaned = validate(register, data)
        new_key = key_of(register.name_of(cleaned))
        if new_key != row.key and session.scalar(select(RegisterEntry.id).where(
                RegisterEntry.relationship_id == row.relationship_id, RegisterEntry.register == register.name,
                RegisterEntry.key == new_key)) is not None:
            raise BadRequest(f"the {register.title.lower()} already has {register.name_of(cleaned)!r}",
                             {register.key: "already in the register"})
        row.data, row.key, change = cleaned, new_key, "restored" if row.removed else "updated"
        row.removed = False
        if joint is not None and not user.is_partner:
            row.joint = bool(joint)
    row.version += 1
    row.source, row.updated_at, row.updated_by_id = source[:120], now, user.id
    _history(session, row, change, user.id, now)
    return change


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
