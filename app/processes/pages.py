"""Starting a process by hand (the "Start" page lists what the diagrams let you start, each with its start form),
and the operations console where administrators put failed and stuck instances right."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from workflows import InvalidData

from ..auth.permissions import Permission, may, require
from ..auth.session import me
from ..db import utcnow
from ..errors import BadRequest
from ..extensions import db_session, services
from ..inbox import queries
from ..inbox import services as inbox
from ..inbox.binding import build_fields, check, declared, read_form
from ..pages import when
from . import event_starts, moves
from . import operations as ops
from .forms import form_schema
from .models import ProcessInstance
from .services import cancel_instance, latest_version, start_process, startable

bp = Blueprint("processes", __name__)


@bp.get("/start")
def index():
    session, engine = db_session(), services().workflows
    found = startable(session, engine, me())
    shown = may(me(), Permission.READ_PROCESSES)  # process owners, assessors and administrators see the schedule
    return render_template("processes/start.html", processes=found, section="start",
                           scheduled=event_starts.scheduled(session, engine) if shown else [],
                           messages=event_starts.message_starts(session, engine) if shown else {})


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
    values, errors = _prefilled(schema, request.args), {}
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


def _prefilled(schema: dict | None, args) -> dict:
    """Text and choice fields of the start form given in the link (a compliance row's "raise a finding" names the
    requirement): only fields the form declares, only choices it offers; the person still checks and submits."""
    properties = (schema or {}).get("properties") or {}
    typed = {k: v.strip()[:properties[k].get("maxLength", 300)] for k, v in args.items()
             if k in properties and properties[k].get("type") == "string" and v.strip()}
    return declared(schema, typed)


SKIP = "(skip)"  # the "move its token to" choice that skips the waiting task (no element id has parentheses)


def _admin() -> None:
    require(me(), Permission.ADMINISTER_INSTANCES, "the operations console is for administrators")


@bp.get("/operations")
def operations():
    _admin()
    chosen = request.args.get("instance", "").strip()
    return _console(int(chosen) if chosen.isdigit() and 0 < int(chosen) < 2**31 else None)


def _console(instance_id: int | None, preview: dict | None = None, proposal: dict | None = None, status: int = 200):
    """The console; with `instance_id`, that instance's panel (suspend, resume, propose a token move); with
    `preview`, the dry run of the move in `proposal` (its task, target and reason, kept in the form)."""
    session = db_session()
    instance = session.get(ProcessInstance, instance_id) if instance_id else None
    ready = moves.ready_tasks(session, instance.id) if instance is not None and instance.status == "running" else []
    done = (moves.done_elements(session, services().workflows, instance.id)
            if instance is not None and instance.status == "running" else [])
    return render_template(
        "processes/operations.html", failed=ops.failed_instances(session), stuck=ops.stuck_instances(session),
        suspended=ops.suspended_instances(session), pending=moves.moves(session), asked=instance_id,
        instance=instance, ready=ready, done=done, preview=preview, proposal=proposal or {}, skip=SKIP,
        section="operations"), status
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


@bp.post("/operations/<id:instance_id>/skip")
def skip(instance_id: int):
    _admin()
    outcome = ops.skip_failed_script(db_session(), services().workflows, me(), instance_id,
                                     reason=request.form.get("reason", ""), now=utcnow(), mail=services().mail)
    if outcome.went_on:
        flash(f"Instance #{instance_id}: the failed script task was skipped and the instance went on.", "success")
    else:
        flash(f"Instance #{instance_id} was left as it was: {outcome.error}", "error")
    return redirect(url_for("processes.operations"))


@bp.post("/operations/<id:instance_id>/suspend")
def suspend(instance_id: int):
    _admin()
    ops.suspend(db_session(), me(), instance_id, reason=request.form.get("reason", ""), now=utcnow())
    flash(f"Instance #{instance_id} is suspended: nobody completes its tasks and its timers wait until it is "
          "resumed.", "success")
    return redirect(url_for("processes.operations", instance=instance_id))


@bp.post("/operations/<id:instance_id>/resume")
def resume(instance_id: int):
    _admin()
    outcome = ops.resume(db_session(), services().workflows, me(), instance_id,
                         reason=request.form.get("reason", ""), now=utcnow(), mail=services().mail)
    if outcome.went_on:
        flash(f"Instance #{instance_id} is resumed; the timers that fell due meanwhile fired.", "success")
    elif outcome.error:
        flash(f"Instance #{instance_id} is resumed but has failed: {outcome.error}", "error")
    else:
        flash(f"Instance #{instance_id} is resumed; nothing fell due meanwhile.", "success")
    return redirect(url_for("processes.operations", instance=instance_id))


def _move_form() -> dict:
    """The token move form as typed: the waiting task (a task row's id), where to, the reason."""
    task, to = request.form.get("task", "").strip(), request.form.get("to", "").strip()
    if not task.isdigit() or not 0 < int(task) < 2**31:
        raise BadRequest("choose the waiting task whose token moves", {"task": "Choose a waiting task."})
    if not to or len(to) > 255:
        raise BadRequest("choose where its token moves", {"to": "Choose where the token moves."})
    return {"task": int(task), "to": to, "to_element": None if to == SKIP else to,
            "reason": request.form.get("reason", "")[:2000]}


@bp.post("/operations/<id:instance_id>/moves/dry-run")
def move_dry_run(instance_id: int):
    _admin()
    form = _move_form()
    preview = moves.dry_run(db_session(), services().workflows, me(), instance_id, form["task"],
                            form["to_element"], now=utcnow())
    return _console(instance_id, preview=preview, proposal=form)


@bp.post("/operations/<id:instance_id>/moves")
def propose_move(instance_id: int):
    _admin()
    form = _move_form()
    move = moves.propose(db_session(), services().workflows, me(), instance_id, form["task"], form["to_element"],
                         reason=form["reason"], now=utcnow())
    flash(f"Token move {move.id} proposed: another administrator must approve it before it is made.", "success")
    return redirect(url_for("processes.operations", instance=instance_id, _anchor="moves"))


@bp.post("/operations/moves/<id:move_id>/approve")
def approve_move(move_id: int):
    _admin()
    move, _result = moves.approve(db_session(), services().workflows, me(), move_id,
                                  note=request.form.get("note", ""), now=utcnow(), mail=services().mail)
    flash(f"Token move {move_id} approved and made: instance #{move.instance_id} went on from there.", "success")
    return redirect(url_for("processes.operations", instance=move.instance_id))


@bp.post("/operations/moves/<id:move_id>/reject")
def reject_move(move_id: int):
    _admin()
    move = moves.reject(db_session(), me(), move_id, reason=request.form.get("reason", ""), now=utcnow())
    flash(f"Token move {move_id} rejected; instance #{move.instance_id} is unchanged.", "success")
    return redirect(url_for("processes.operations", _anchor="moves"))
