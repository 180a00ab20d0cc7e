"""Starting a process by hand: the "Start" page lists what the diagrams let you start, each with its start form."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from workflows import InvalidData

from ..auth.session import me
from ..db import utcnow
from ..extensions import db_session, services
from ..inbox import queries
from ..inbox import services as inbox
from ..inbox.binding import build_fields, check, read_form
from .forms import form_schema
from .services import latest_version, start_process, startable

bp = Blueprint("processes", __name__)


@bp.get("/start")
def index():
    found = startable(db_session(), services().workflows, me())
    return render_template("processes/start.html", processes=found, section="start")


def _declared(process_id: str):
    found = {d.process_id: d for d in startable(db_session(), services().workflows, me())}
    if process_id not in found:
        abort(404)
    return found[process_id]


@bp.route("/start/<string(maxlength=255):process_id>", methods=["GET", "POST"])
def start(process_id: str):
    session, user = db_session(), me()
    declared = _declared(process_id)
    version = latest_version(session)
    schema, ui = form_schema(session, version.id, declared.form), form_schema(session, version.id, declared.ui_form)
    values, errors = {}, {}
    if request.method == "POST":
        values = read_form(schema, ui, request.form)
        errors = check(schema, values)
        if not errors:
            try:
                result = start_process(session, services().workflows, user, process_id, values, now=utcnow(),
                                       mail=services().mail)
            except InvalidData as exc:
                errors = exc.details.get("errors") or {"(form)": exc.message}
            else:
                ready = queries.open_tasks(session, result.instance_id, now=utcnow())
                flash(f"Started: {declared.name}.", "success")
                mine = inbox.next_for(session, user, ready)
                if mine is not None:
                    return redirect(url_for("inbox.task", task_id=mine))
                return redirect(url_for("relationships.show", relationship_id=result.instance_id))
    fields = build_fields(schema, ui, values, errors)
    return render_template("processes/start_form.html", declared=declared, fields=fields, errors=errors,
                           section="start"), 422 if errors else 200
