"""Registers to and from spreadsheets: the template, the export, and an import previewed before anything is written.

An import is read twice: `preview` reads the file and plans every row (add, change, leave alone) with its problems,
writing nothing; `confirm` reads the same file again, plans again, and refuses when the plan is not the one the
user saw (the `digest`: the register changed meanwhile, or another file came back). Nothing is kept between the
two: the page carries the file back, the API sends it again. Confirmed rows go through the register's own
`add_entry` / `change_entry` (the form's checks and versions), all in one transaction with one audit event.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import Conflict

from ..access import services as access
from ..audit.services import record
from ..auth.models import User
from ..db import unit_of_work
from ..errors import BadRequest, NotFound
from ..registers import services as registers
from ..registers.kinds import ISSUES, Register
from ..registers.models import RegisterEntry
from ..stages import MANAGEMENT_SYSTEM
from . import sheets
from .sheets import ID, JOINT, VERSION, Problem

MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Download:
    filename: str
    content: bytes
    mimetype: str = MIMETYPE


@dataclass
class RowPlan:
    """What importing one row does: create, update, unchanged, or nothing because of its problems."""

    row: int
    action: str  # create | update | unchanged | invalid
    name: str
    entry_id: int | None = None
    version: int | None = None  # the entry's version the plan was made against
    data: dict = field(default_factory=dict)
    joint: bool | None = None
    changed: list[str] = field(default_factory=list)  # the titles of the columns that change
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Preview:
    register: Register
    relationship_id: int
    filename: str
    sha256: str
    rows: list[RowPlan]
    digest: str

    @property
    def problems(self) -> list[Problem]:
        return [p for r in self.rows for p in r.problems]

    @property
    def counts(self) -> dict[str, int]:
        found = {"rows": len(self.rows), "create": 0, "update": 0, "unchanged": 0, "invalid": 0}
        for row in self.rows:
            found[row.action] += 1
        return found


def importable(name: str) -> Register:
    """The register named, if entries can be imported into it. Raises NotFound, BadRequest."""
    register = registers.register_of(name)
    if not register.editable or register is ISSUES:
        raise BadRequest(f"the {register.title.lower()} is kept by the lifecycle; it cannot be imported")
    return register


def _filename(relationship_id: int, register: Register, what: str) -> str:
    return f"{register.name}-{relationship_id}-{what}.xlsx"


def _in_scope(session: Session, user: User, relationship_id: int, register: Register) -> None:
    """Raises NotFound unless the user sees the relationship and it has this register (the management system's
    own registers are not a relationship's, and the other way round)."""
    instance = access.relationship_or_404(session, relationship_id, user)
    level = "organisation" if instance.process_id == MANAGEMENT_SYSTEM else "relationship"
    if register.scope not in ("both", level):
        raise NotFound(f"the {register.title.lower()} is not one of this {'management system' if level == 'organisation' else 'relationship'}'s registers")


def template(session: Session, user: User, relationship_id: int, name: str) -> Download:
    """The register's empty sheet: its columns, drop-down lists for choices, notes. Raises NotFound."""
    register = importable(name)
    _in_scope(session, user, relationship_id, register)
    return Download(_filename(relationship_id, register, "template"),
                    sheets.write(register, [], joint_column=not user.is_partner))


def export(session: Session, user: User, relationship_id: int, name: str, *, now: datetime) -> Download:
    """The register's entries the user may see, in the template's columns (so the file imports back unchanged).
    Raises NotFound."""
    register = importable(name)
    _in_scope(session, user, relationship_id, register)
    views = registers.entries(session, user, relationship_id, register.name, now=now)
    rows = [(v.id, v.data, v.joint, v.version) for v in views]
    return Download(_filename(relationship_id, register, now.strftime("%Y-%m-%d")),
                    sheets.write(register, rows, joint_column=not user.is_partner))


def preview(session: Session, user: User, relationship_id: int, name: str, content: bytes, filename: str, *,
            now: datetime, max_bytes: int) -> Preview:
    """Every row of the file with what importing it would do and its problems; writes nothing. Raises NotFound,
    Forbidden (may not change the register), BadRequest (the file as a whole: not .xlsx, too big, wrong sheet,
    missing or unknown column)."""
    register = importable(name)
    _in_scope(session, user, relationship_id, register)
    registers.may_change(session, user, relationship_id, register)
    registers.sync(session, relationship_id, now=now)  # the tasks' rows first, as the register page shows them
    rows = sheets.read(register, content, max_bytes=max_bytes)
    if not rows:
        raise BadRequest("the sheet has no rows below its column titles; fill at least one",
                         {"file": "no rows to import"})
    plans = _plan(session, user, relationship_id, register, rows)
    sha = hashlib.sha256(content).hexdigest()
    digest = hashlib.sha256(json.dumps([sha, [(p.row, p.action, p.entry_id, p.version) for p in plans]])
                            .encode()).hexdigest()
    return Preview(register, relationship_id, (filename or "upload.xlsx")[:200], sha, plans, digest)


def confirm(session: Session, user: User, relationship_id: int, name: str, content: bytes, filename: str,
            digest: str, *, now: datetime, max_bytes: int) -> Preview:
    """Write the previewed rows: each added or changed through the register's own checks (one version each), in
    one transaction with one audit event naming who, the file and the counts. Raises what `preview` raises,
    BadRequest when a row has a problem, Conflict when the plan differs from the preview's `digest`. Commits."""
    found = preview(session, user, relationship_id, name, content, filename, now=now, max_bytes=max_bytes)
    if found.problems:
        raise BadRequest(f"{len(found.problems)} problem(s) in the file; nothing was imported",
                         {"rows": [str(p) for p in found.problems]})
    if digest != found.digest:
        raise Conflict("the register or the file changed since the preview; look at the new preview and confirm "
                       "again")
    register, source = found.register, f"spreadsheet {found.filename}"
    with unit_of_work(session):
        for plan in found.rows:
            try:
                if plan.action == "create":
                    plan.entry_id = registers.add_entry(session, user, relationship_id, register, plan.data,
                                                        joint=bool(plan.joint), now=now, source=source).id
                elif plan.action == "update":
                    row = session.get(RegisterEntry, plan.entry_id)
                    registers.change_entry(session, user, row, plan.data, joint=plan.joint,
                                           expected_version=plan.version, now=now, source=source)
            except BadRequest as exc:
                raise BadRequest(f"row {plan.row}: {exc.message}; nothing was imported",
                                 {"rows": [f"row {plan.row}, column {_title(register, k)}: {v}"
                                           for k, v in dict(exc.errors or {}).items()]}) from None
        counts = found.counts
        record(session, "register.imported", actor=user, instance_id=relationship_id, at=now,
               payload={"register": register.name, "file": found.filename, "sha256": found.sha256,
                        "rows": counts["rows"], "created": counts["create"], "updated": counts["update"],
                        "unchanged": counts["unchanged"],
                        "entry_ids": [p.entry_id for p in found.rows if p.action in ("create", "update")]})
    return found


def _title(register: Register, name: str) -> str:
    return next((c.title for c in sheets.columns(register) if c.name == name), name)


def _plan(session: Session, user: User, relationship_id: int, register: Register,
          rows: list[sheets.Row]) -> list[RowPlan]:
    """What each row would do, checked as the register's form checks it, against the entries as they are now."""
    existing = {e.id: e for e in session.scalars(select(RegisterEntry).where(
        RegisterEntry.relationship_id == relationship_id, RegisterEntry.register == register.name))}
    by_key = {e.key: e for e in existing.values()}
    cols = [c for c in sheets.columns(register) if c.name not in (ID, JOINT, VERSION)]
    titles = {c.name: c.title for c in sheets.columns(register)}
    plans, claimed_keys, claimed_ids = [], {}, {}
    for row in rows:
        values, problems = row.values, list(row.problems)
        data = {c.name: values[c.name] for c in cols if c.name in values}
        plan = RowPlan(row.number, "invalid", register.name_of(data) or "(unnamed)", problems=problems)
        plans.append(plan)
        target = None
        if ID in values:
            target = existing.get(values[ID])
            if target is None or _hidden(user, register, target):
                problems.append(Problem(row.number, titles[ID], f"there is no entry {values[ID]} in this "
                                        f"{register.title.lower()}; leave it blank to add the row as a new entry"))
                continue
        key = registers.key_of(register.name_of(data))
        if target is None and key in by_key:
            target = by_key[key]
            if _hidden(user, register, target):
                problems.append(Problem(row.number, titles[register.key], "the register already has an entry of "
                                        "this name that you cannot see; choose another name"))
                continue
        if target is not None:
            data = _merged(user, register, target, data, {c.name for c in cols})
        try:
            data = registers.validate(register, data)
        except BadRequest as exc:
            unreadable = {p.column for p in row.problems}
            for name, message in dict(exc.errors or {}).items():
                if titles.get(name) in unreadable:
                    continue  # its cell could not be read: that problem says it already
                problems.append(Problem(row.number, titles.get(name), "is required"
                                        if message == "this field is required" else message))
        if key and key in claimed_keys:
            problems.append(Problem(row.number, titles[register.key], f"row {claimed_keys[key]} already names "
                                    f"{register.name_of(data)!r}; each entry once"))
        elif target is not None and target.id in claimed_ids:
            problems.append(Problem(row.number, titles[ID], f"row {claimed_ids[target.id]} already changes this "
                                    "entry; each entry once"))
        if key:
            claimed_keys.setdefault(key, row.number)
        if target is not None:
            claimed_ids.setdefault(target.id, row.number)
            other = by_key.get(key)
            if key and other is not None and other.id != target.id:
                problems.append(Problem(row.number, titles[register.key], f"entry {other.id} already has this "
                                        "name; each name once"))
        if problems:
            continue
        joint = None if user.is_partner else values.get(JOINT)
        plan.data, plan.joint = data, joint
        if target is None:
            plan.action = "create"
            continue
        plan.entry_id, plan.version = target.id, target.version
        diff = {k for k in set(data) | set(target.data) if data.get(k) != target.data.get(k)}
        plan.changed = [titles[k] for k in titles if k in diff] + sorted(k for k in diff if k not in titles)
        if joint is not None and joint != target.joint:
            plan.changed.append(titles[JOINT])
        if not plan.changed and not target.removed:
            plan.action = "unchanged"
            continue
        if VERSION in values and values[VERSION] != target.version:
            problems.append(Problem(row.number, titles[VERSION], f"the entry is at version {target.version} now: "
                                    f"someone changed it after version {values[VERSION]} was exported; export "
                                    "the register again and make your change there"))
            plan.action = "invalid"
            continue
        plan.action = "update"
    return plans


def _hidden(user: User, register: Register, entry: RegisterEntry) -> bool:
    return registers.visible_data(user, register, entry.data, entry.joint) is None or (
        user.is_partner and not entry.joint)


def _merged(user: User, register: Register, entry: RegisterEntry, data: dict, sheet_fields: set[str]) -> dict:
    """The row's values over the entry's fields the sheet has no column for, and those the user cannot see."""
    seen = registers.visible_data(user, register, entry.data, entry.joint) or {}
    kept = {k: v for k, v in entry.data.items() if k not in sheet_fields or (k not in seen and k not in data)}
    return {**kept, **data}
