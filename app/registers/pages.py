"""Register pages: one table per register, entries added and changed through forms, every version kept."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from workflows import Conflict

from ..access import services as access
from ..auth.permissions import Permission, may
from ..auth.session import me
from ..db import utcnow
from ..errors import BadRequest, Forbidden
from ..extensions import db_session
from ..processes.models import ProcessInstance
from ..stages import MANAGEMENT_SYSTEM
from . import heatmap
from . import services as registers
from .kinds import ISSUES, KNOWLEDGE, REGISTERS

bp = Blueprint("registers", __name__)


def _relationship(relationship_id: int) -> ProcessInstance:
    session = db_session()
    instance = access.relationship_or_404(session, relationship_id, me())
    return instance


@bp.get("/relationships/<id:relationship_id>/registers")
def index(relationship_id: int):
    """Every register of the relationship with its size, overdue items and the risk heat map."""
    relationship, now = _relationship(relationship_id), utcnow()
    session = db_session()
    overview = []
    level = "organisation" if relationship.process_id == MANAGEMENT_SYSTEM else "relationship"
    for register in REGISTERS.values():
        if register.scope not in ("both", level) or (register is ISSUES and level == "organisation"):
            continue
        if register is ISSUES:
            rows = registers.issue_log(session, me(), relationship_id)
            overview.append((register, len(rows), sum(r.status == "running" for r in rows)))
            continue
        views = registers.entries(session, me(), relationship_id, register.name, now=now)
        overview.append((register, len(views), sum(bool(v.flags) for v in views)))
    risks = registers.entries(session, me(), relationship_id, "risks", now=now)
    return render_template("registers/index.html", relationship=relationship, overview=overview,
                           heat=heatmap.svg(registers.heat_map(risks), link=lambda li, im: url_for(
                               "registers.register", relationship_id=relationship_id, name="risks",
                               likelihood=li, impact=im)))


@bp.get("/relationships/<id:relationship_id>/registers/<name>")
def register(relationship_id: int, name: str):
    return _register(relationship_id, name)


@bp.post("/relationships/<id:relationship_id>/registers/<name>")
def create(relationship_id: int, name: str):
    register = registers.register_of(name)
    data = _form_data(register)
    try:
        entry = registers.create(db_session(), me(), relationship_id, name, data, joint=bool(request.form.get("joint")),
                                 now=utcnow())
    except (BadRequest, Forbidden) as exc:
        db_session().rollback()
        return _register(relationship_id, name, errors=exc.errors or {"(form)": exc.message}, message=exc.message,
                         typed=request.form, status_code=exc.status)
    flash(f"Added to the {register.title.lower()}: {register.name_of(data)}.", "success")
    return redirect(url_for("registers.register", relationship_id=relationship_id, name=name) + f"#entry-{entry.id}")


def _register(relationship_id, name, *, errors=None, message=None, typed=None, status_code=200):
    register = registers.register_of(name)
    relationship, now, session, user = _relationship(relationship_id), utcnow(), db_session(), me()
    if register is ISSUES:
        return render_template("registers/issues.html", relationship=relationship, register=register,
                               issues=registers.issue_log(session, user, relationship_id)), status_code
    views = registers.entries(session, user, relationship_id, name, now=now,
                              removed=request.args.get("removed") == "1")
    heat, cell = None, None
    if register.name == "risks":
        heat = heatmap.svg(registers.heat_map([v for v in views if not v.removed]), link=lambda li, im: url_for(
            "registers.register", relationship_id=relationship_id, name="risks", likelihood=li, impact=im))
        likelihood, impact = request.args.get("likelihood", type=int), request.args.get("impact", type=int)
        if likelihood and impact:
            cell = (likelihood, impact)
            views = [v for v in views if v.data.get("likelihood") == likelihood and v.data.get("impact") == impact]
    totals = registers.value_totals(views) if register.name == "value" else None
    may_edit = register.editable and may(user, Permission.EDIT_REGISTERS) and not (
        user.is_partner and register is KNOWLEDGE)
    return render_template("registers/register.html", relationship=relationship, register=register, entries=views,
                           heat=heat, cell=cell, totals=totals, may_edit=may_edit, errors=errors or {},
                           message=message, typed=typed or {}, partner=user.is_partner), status_code


@bp.get("/registers/entries/<id:entry_id>")
def entry(entry_id: int):
    return _entry(entry_id)


@bp.post("/registers/entries/<id:entry_id>")
def update(entry_id: int):
    session, user = db_session(), me()
    row, _view = registers.entry(session, user, entry_id, now=utcnow())
    register = registers.register_of(row.register)
    remove = request.form.get("action") == "remove"
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        return _entry(entry_id, message="The form lost its version number; reload the page.", status_code=400)
    try:
        registers.update(session, user, entry_id, _form_data(register), joint=bool(request.form.get("joint")),
                         expected_version=version, now=utcnow(), remove=remove)
    except (BadRequest, Forbidden) as exc:
        session.rollback()
        return _entry(entry_id, errors=exc.errors or {"(form)": exc.message}, message=exc.message,
                      typed=request.form, status_code=exc.status)
    except Conflict as exc:
        session.rollback()
        return _entry(entry_id, message=str(exc), typed=request.form, status_code=409)
    flash("Entry removed (its history is kept)." if remove else "Entry saved as a new version.", "success")
    return redirect(url_for("registers.entry", entry_id=entry_id))


def _entry(entry_id, *, errors=None, message=None, typed=None, status_code=200):
    session, user, now = db_session(), me(), utcnow()
    row, view = registers.entry(session, user, entry_id, now=now)
    register = registers.register_of(row.register)
    relationship = session.get(ProcessInstance, row.relationship_id)
    may_edit = register.editable and may(user, Permission.EDIT_REGISTERS) and not (
        user.is_partner and register is KNOWLEDGE)
    return render_template("registers/entry.html", relationship=relationship, register=register, entry=view,
                           history=registers.history(session, user, entry_id, now=now), may_edit=may_edit,
                           errors=errors or {}, message=message, typed=typed, partner=user.is_partner), status_code


def _form_data(register) -> dict:
    """The submitted fields typed as the register's columns say; what cannot be read is kept as typed, so the
    check names the field."""
    data = {}
    for name, schema in register.schema["properties"].items():
        raw = request.form.get(name, "").strip()
        if raw == "":
            continue
        if schema.get("type") == "boolean":
            data[name] = {"yes": True, "no": False}.get(raw.lower(), raw)
        elif schema.get("type") in ("integer", "number"):
            try:
                number = float(raw)
                data[name] = int(number) if schema["type"] == "integer" and number.is_integer() else number
            except ValueError:
                data[name] = raw
        else:
            data[name] = raw
    return data
