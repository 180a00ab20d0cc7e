"""Starting a process by hand (the "Start" page lists what the diagrams let you start, each with its start form),
and the operations console where administrators put failed and stuck instances right."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from workflows import InvalidData

from ..auth.permissions import Permission, require
from ..auth.session import me
from ..db import utcnow
from ..errors import BadRequest
from ..extensions import db_session, services
from ..inbox import queries
from ..inbox import services as inbox
from ..inbox.binding import build_fields, check, read_form
from ..pages import when
from . import operations as ops
from .forms import form_schema
from .services import cancel_instance, latest_version, start_process, startable

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


@bp.get("/operations")
def operations():
    require(me(), Permission.ADMINISTER_INSTANCES, "the operations console is for administrators")
    session = db_session()
    return render_template("processes/operations.html", failed=ops.failed_instances(session),
                           stuck=ops.stuck_instances(session), section="operations")


@bp.post("/operations/<id:instance_id>/retry")
def retry(instance_id: int):
    to = request.form.get("to_version", "")
    outcome = ops.retry(db_session(), services().workflows, me(), instance_id,
                        to_version_id=int(to) if to.isdigit() else None, now=utcnow(), mail=services().mail)
    if outcome.went_on:
        flash(f"Instance #{instance_id} went on.", "success")
    elif outcome.error:
        flash(f"Instance #{instance_id} failed again: {outcome.error}", "error")
    else:
        flash(f"Instance #{instance_id} is no longer marked failed; nothing was due yet: its next timer fires "
              f"{when(outcome.next_due_at) if outcome.next_due_at else 'when it falls due'}.", "info")
    return redirect(url_for("processes.operations"))


@bp.post("/operations/<id:instance_id>/cancel")
def cancel(instance_id: int):
    reason = (request.form.get("reason") or "").strip()
    if not reason:
        raise BadRequest("say why the instance is cancelled", {"reason": "This field is required."})
    cancel_instance(db_session(), services().workflows, user=me(), instance_id=instance_id, reason=reason[:2000],
                    now=utcnow(), mail=services().mail)
    flash(f"Instance #{instance_id} cancelled.", "success")
    return redirect(url_for("processes.operations"))
