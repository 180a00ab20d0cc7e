"""Registers: risks, value, knowledge, exit triggers, action plans (read, add, change, remove, history) and the
issue log, with the same partner visibility and conflict rules as the pages."""

from __future__ import annotations

from marshmallow import RAISE

from ..api.common import blueprint, now, paginate, session, user
from ..registers import services as registers
from ..registers.kinds import REGISTERS
from .schemas import (
    IssueLogOut,
    RegisterEntryChangeIn,
    RegisterEntryDetailOut,
    RegisterEntryIn,
    RegisterEntryPage,
    RegisterListArgs,
    RegisterOut,
    RegisterRemoveArgs,
)

bp = blueprint("api_registers", "Registers of a relationship, with the history of every entry")
NAMES = [n for n in REGISTERS if n != "issues"]


def _entry(view) -> dict:
    return dict(id=view.id, register=view.register, data=view.data, joint=view.joint, version=view.version,
                source=view.source, updated_at=view.updated_at, updated_by=view.updated_by, removed=view.removed,
                flags=view.flags)


@bp.get("/registers")
@bp.response(200, RegisterOut(many=True))
def kinds():
    """The registers and their columns (JSON Schema)."""
    return [dict(name=r.name, title=r.title, description=r.description, key=r.key, editable=r.editable,
                 schema=r.schema) for r in REGISTERS.values()]


@bp.get("/relationships/<id:relationship_id>/registers/<any(" + ",".join(f'"{n}"' for n in NAMES) + "):name>")
@bp.arguments(RegisterListArgs, location="query", unknown=RAISE)
@bp.response(200, RegisterEntryPage)
def entries(args, relationship_id: int, name: str):
    """A register's entries you may see (partners: joint entries, and only shared knowledge)."""
    views = registers.entries(session(), user(), relationship_id, name, now=now(), removed=args["removed"])
    return paginate([_entry(v) for v in views], args["page"], args["per_page"])


@bp.post("/relationships/<id:relationship_id>/registers/<any(" + ",".join(f'"{n}"' for n in NAMES) + "):name>")
@bp.arguments(RegisterEntryIn)
@bp.response(201, RegisterEntryDetailOut)
def create(body, relationship_id: int, name: str):
    """Add an entry (400 with per-field messages when a field is wrong; 403 for read-only roles)."""
    row = registers.create(session(), user(), relationship_id, name, body["data"], joint=body["joint"], now=now())
    return _detail(row.id)


@bp.get("/relationships/<id:relationship_id>/issue-log")
@bp.response(200, IssueLogOut(many=True))
def issue_log(relationship_id: int):
    """Issues raised on the relationship with their escalation history."""
    return [vars(i) | {"steps": [vars(s) for s in i.steps]}
            for i in registers.issue_log(session(), user(), relationship_id)]


@bp.get("/registers/entries/<id:entry_id>")
@bp.response(200, RegisterEntryDetailOut)
def entry(entry_id: int):
    """One entry with every version of it."""
    return _detail(entry_id)


@bp.patch("/registers/entries/<id:entry_id>")
@bp.arguments(RegisterEntryChangeIn)
@bp.response(200, RegisterEntryDetailOut)
def update(body, entry_id: int):
    """Change an entry you read at `version` (409 when someone changed it since)."""
    registers.update(session(), user(), entry_id, body["data"], joint=body["joint"],
                     expected_version=body["version"], now=now())
    return _detail(entry_id)


@bp.delete("/registers/entries/<id:entry_id>")
@bp.arguments(RegisterRemoveArgs, location="query", unknown=RAISE)
@bp.response(200, RegisterEntryDetailOut)
def remove(args, entry_id: int):
    """Remove an entry (its history is kept)."""
    registers.update(session(), user(), entry_id, {}, joint=None, expected_version=args["version"], now=now(),
                     remove=True)
    return _detail(entry_id)


def _detail(entry_id: int) -> dict:
    moment = now()
    _row, view = registers.entry(session(), user(), entry_id, now=moment)
    return _entry(view) | {"history": [vars(c) for c in registers.history(session(), user(), entry_id, now=moment)]}
