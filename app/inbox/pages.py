"""Pages: the inbox, a task (its form, or an SER's approval), and the small actions on a task."""

from __future__ import annotations

from datetime import UTC, datetime, time

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from workflows import Conflict, InvalidData, TaskNotReady

from ..auth.session import me
from ..db import utcnow
from ..errors import BadRequest, Forbidden, Suspended
from ..evidence.services import ACCEPT, Upload
from ..extensions import db_session, services
from ..management.inputs import live_inputs
from ..processes.models import ProcessInstance
from ..processes.services import suspended
from ..stages import stage_of_process
from . import partner_decisions, queries, screens
from . import services as tasks
from .binding import add_row, check, evidence_field_names, path_of, read_form

bp = Blueprint("inbox", __name__)

RELOAD = ("Someone else completed or changed this task while you were working on it. Nothing of yours was "
          "saved to the process; your answers are still below. Reload the task to see its current state.")


@bp.app_context_processor
def _inbox_count():
    return {"inbox_count": lambda: queries.inbox_count(db_session(), me())}


@bp.get("/inbox")
def index():
    filters = queries.InboxFilters.parse(request.args)
    page = queries.inbox(db_session(), me(), filters, now=utcnow(), options_cache=services().inbox_options)
    return render_template("inbox/index.html", page=page, filters=filters, sorts=queries.SORTS, now=utcnow())


@bp.get("/tasks/<id:task_id>")
def task(task_id: int):
    session = db_session()
    row = queries.visible_task(session, me(), task_id)
    return _render(row)


@bp.post("/tasks/<id:task_id>")
def submit(task_id: int):
    """One form, several buttons: complete, save draft, add or remove a repeatable row."""
    session, user, now = db_session(), me(), utcnow()
    row = queries.visible_task(session, user, task_id)
    form = screens.live_form(session, services().workflows, row)
    action = request.form.get("action", "complete")
    evidence_ids, upload_errors = _store_uploads(row, form)
    skip = {action.split(":", 1)[1]} if action.startswith("remove:") else set()
    data = read_form(form.schema, form.ui, request.form, evidence_ids, skip_rows=skip)
    if action.startswith("add:"):
        return _render(row, values=add_row(data, action.split(":", 1)[1]), errors=upload_errors)
    if action.startswith("remove:"):
        return _render(row, values=data, errors=upload_errors)
    if action == "draft":
        tasks.save_draft(session, user, row.id, data, now=now)
        flash("Draft saved. Only you can see it; the task is not completed yet.", "success")
        return redirect(url_for("inbox.task", task_id=row.id))
    errors = {**check(form.schema, data), **upload_errors}
    if errors:
        return _render(row, values=data, errors=errors, status=422)
    try:
        tasks.submit(session, services().workflows, user, row.id, data, now=now, mail=services().mail)
    except InvalidData as exc:
        return _render(row, values=data, errors=exc.details.get("errors") or {"(form)": exc.message}, status=422)
    except BadRequest as exc:
        return _render(row, values=data, errors=exc.errors or {"(form)": exc.message}, status=400)
    except Forbidden as exc:
        return _render(row, values=data, refusal=exc.message, status=403)
    except Suspended as exc:  # an administrator holds the instance still: what was typed is kept
        return _render(row, values=data, refusal=exc.message, status=409)
    except (Conflict, TaskNotReady):
        return _render(row, values=data, notice=RELOAD, status=409)
    standing = partner_decisions.standing(session, row)
    if standing is not None and standing.awaited:
        flash(f"Your organisation's decision is recorded. The task waits for {', '.join(standing.awaited)}: it "
              "completes once every partner organisation has decided.", "success")
        return redirect(url_for("inbox.index"))
    flash(_confirmation(row, data, form), "success")
    following = tasks.next_task_for(session, user, row.id, now=now)
    if following is not None:
        flash("This is the next task of the same relationship for you.", "info")
        return redirect(url_for("inbox.task", task_id=following))
    return redirect(url_for("inbox.index"))


GATE_DECISIONS = {
    "approve": "Approved: {gate}.",
    "rework": "Sent back for rework: {reopened}. Whoever redoes them reads your reason on them.",
    "stop": "Stopped: {gate}. The relationship ends here with the outcome you recorded.",
    "no_suitable_partner": "No suitable partner: {gate}. The relationship ends here; your reasons are kept with it.",
}


STAYING_TOGETHER = {  # stage 7's gate asks whether the relationship goes on or has run its course
    "exit": "Moving to exit: {gate}. Stage 8 begins once both SERs say so: the relationship has run its course.",
    "another_cycle": "Another management cycle: {gate}. The stage 7 tasks are open again.",
}


def _confirmation(row, data: dict, form) -> str:
    """What the person just did, in their words: an SER gate says approved, sent back (naming the tasks it
    reopened) or stopped (stage 7: moving to exit, or another management cycle)."""
    decision = data.get("decision", data.get("partner_decision")) if row.approval_gate else None
    words = STAYING_TOGETHER if stage_of_process(row.process_id) == 7 else GATE_DECISIONS
    if decision in words:
        return words[decision].format(gate=row.name, reopened=_reopened(data, form) or row.name)
    return f"Completed: {row.name}."


def _reopened(data: dict, form) -> str:
    """The names of the tasks a rework decision reopens, as the gate form lists them."""
    field = "reopen_tasks" if "reopen_tasks" in data else "partner_reopen_tasks"
    picked = data.get(field) or []
    choices = ((form.schema or {}).get("properties", {}).get(field, {}).get("items", {}).get("enum") or [])
    names = ((form.ui or {}).get(field, {}).get("items", {}).get("ui:enumNames") or [])
    label = dict(zip(choices, names, strict=False))
    return ", ".join(label.get(task, task) for task in picked if isinstance(task, str))


@bp.post("/tasks/<id:task_id>/claim")
def claim(task_id: int):
    return _act(task_id, lambda s, u, now: tasks.claim(s, u, task_id, now=now), "You claimed this task.")


@bp.post("/tasks/<id:task_id>/release")
def release(task_id: int):
    return _act(task_id, lambda s, u, now: tasks.release(s, u, task_id, now=now),
                "Released: everyone with the role can take it again.")


@bp.post("/tasks/<id:task_id>/reassign")
def reassign(task_id: int):
    target = request.form.get("assignee", "")
    if not target.isdigit() or len(target) > 9:
        return _act(task_id, None, None, error="Choose a person to give the task to.")
    return _act(task_id, lambda s, u, now: tasks.reassign(s, u, task_id, int(target), now=now),
                "Reassigned.")


@bp.post("/tasks/<id:task_id>/due")
def set_due(task_id: int):
    raw = request.form.get("due", "").strip()
    try:
        due = datetime.combine(datetime.strptime(raw, "%Y-%m-%d").date(), time(17, 0), UTC) if raw else None
    except ValueError:
        return _act(task_id, None, None, error="Enter the due date as YYYY-MM-DD.")
    return _act(task_id, lambda s, u, now: tasks.set_due(s, u, task_id, due, now=now),
                "Due date set." if due else "Due date cleared.")


@bp.post("/tasks/<id:task_id>/draft/discard")
def discard_draft(task_id: int):
    return _act(task_id, lambda s, u, now: tasks.discard_draft(s, u, task_id, now=now), "Draft discarded.")


@bp.post("/tasks/<id:task_id>/comments")
def comment(task_id: int):
    body = request.form.get("comment", "")
    return _act(task_id, lambda s, u, now: tasks.add_comment(s, u, task_id, body, now=now), "Comment added.",
                anchor="comments")


@bp.post("/tasks/<id:task_id>/evidence")
def attach(task_id: int):
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _act(task_id, None, None, error="Choose a file to attach.")
    return _act(task_id, lambda s, u, now: tasks.attach_evidence(
        s, u, task_id, Upload(upload.filename, upload.stream), field=None,
        max_bytes=current_app.config["UPLOAD_MAX_BYTES"], now=now), "File attached as evidence.", anchor="files")


# ------------------------------------------------------------------------------ helpers
def _act(task_id, action, done, *, error=None, anchor=None):
    """Run a small task action and come back to the task page with a message (post/redirect/get)."""
    session = db_session()
    queries.visible_task(session, me(), task_id)  # 404 before anything else
    if error is None:
        try:
            action(session, me(), utcnow())
            flash(done, "success")
        except (Forbidden, BadRequest) as exc:
            flash(exc.message[:1].upper() + exc.message[1:], "error")
        except (Conflict, TaskNotReady) as exc:
            flash(exc.message[:1].upper() + exc.message[1:], "error")
    else:
        flash(error, "error")
    if request.form.get("next") == "inbox":
        return redirect(request.referrer if _same_site(request.referrer) else url_for("inbox.index"))
    return redirect(url_for("inbox.task", task_id=task_id, _anchor=anchor))


def _same_site(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url + "inbox")


def _store_uploads(row, form) -> tuple[dict[str, str], dict[str, str]]:
    """Files chosen in evidence fields are stored first, so a refused form never loses them."""
    stored, errors = {}, {}
    for name in evidence_field_names(form.schema, form.ui, request.form):
        upload = request.files.get(f"{name}.__file")
        if upload is None or not upload.filename:
            continue
        try:
            evidence = tasks.attach_evidence(
                db_session(), me(), row.id, Upload(upload.filename, upload.stream), field=path_of(name),
                max_bytes=current_app.config["UPLOAD_MAX_BYTES"], now=utcnow())
            stored[name] = str(evidence.id)
        except (BadRequest, Forbidden, TaskNotReady) as exc:
            errors[path_of(name)] = exc.message[:1].upper() + exc.message[1:] + "."
    return stored, errors


def _render(row, *, values=None, errors=None, refusal=None, notice=None, status=200):
    page = screens.task_page(db_session(), services().workflows, me(), row, values=values, errors=errors,
                             now=utcnow(), inputs=live_inputs)
    if refusal:
        page.refusal = refusal
    instance = db_session().get(ProcessInstance, row.instance_id)
    if page.refusal is None and row.state == "ready" and instance.suspended_at is not None:
        page.refusal = suspended(instance, "its tasks cannot be completed").message
    page.notice = notice
    return render_template("inbox/task.html", page=page, accept=ACCEPT, now=utcnow(),
                           max_upload=current_app.config["UPLOAD_MAX_BYTES"]), status
