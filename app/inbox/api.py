"""Tasks: the inbox (filters, pages), one task with its form (JSON Schema, UI schema, current data),
claim, release, save a draft, complete."""

from __future__ import annotations

from flask import current_app
from marshmallow import RAISE

from ..api.common import blueprint, engine, now, session, stage_dict, user
from ..db import utcnow
from ..evidence.services import Upload as EvidenceUpload
from ..extensions import services as app_services
from ..inbox import services as inbox
from ..management.inputs import live_inputs
from ..processes.models import HumanTask
from ..stages import stage_of
from . import partner_decisions, queries, screens
from .schemas import (
    CompletedOut,
    DataIn,
    DraftOut,
    EvidenceArgs,
    EvidenceFileIn,
    EvidenceOut,
    InboxArgs,
    InboxOut,
    TaskDetailOut,
    TaskOut,
    task_dict,
)

bp = blueprint("api_tasks", "Human tasks: the inbox, forms, claiming, drafts and completion")


def _row_dict(row: HumanTask) -> dict:
    rel = queries.root_instance(session(), row.instance_id)
    assignee = queries.users_by_id(session(), [row.assignee_id]).get(row.assignee_id)
    moment = utcnow()
    return {"id": row.id, "name": row.name, "process_id": row.process_id, "stage": stage_dict(stage_of(row.process_id)),
            "role": row.role, "lane": row.lane, "relationship_id": rel.id,
            "relationship_title": rel.title or f"Relationship #{rel.id}", "assignee_id": row.assignee_id,
            "assignee_name": assignee.display_name if assignee else None, "created_at": row.created_at,
            "due_at": row.due_at, "approval_gate": row.approval_gate,
            "overdue": row.state == "ready" and row.due_at is not None and row.due_at < moment}


def _fresh(task_id: int) -> HumanTask:
    session().expire_all()
    return queries.visible_task(session(), user(), task_id)


@bp.get("/tasks")
@bp.arguments(InboxArgs, location="query", unknown=RAISE)
@bp.response(200, InboxOut)
def index(args):
    """Your inbox: tasks assigned to you and those of your roles you may claim (pages of 20)."""
    filters = queries.InboxFilters(**args)
    found = queries.inbox(session(), user(), filters, now=now(), options_cache=app_services().inbox_options)
    return {"items": [task_dict(r) for r in found.rows], "total": found.total, "page": found.page,
            "pages": found.pages, "per_page": queries.PAGE_SIZE, "counts": found.counts}


@bp.get("/tasks/<id:task_id>")
@bp.response(200, TaskDetailOut)
def show(task_id):
    """One task with its form's JSON Schema and UI schema and the data it currently holds."""
    db, me = session(), user()
    row = queries.visible_task(db, me, task_id)
    view = screens.task_view(db, engine(), me, row, inputs=live_inputs)
    form, draft, reason = view.form, view.draft, view.refusal
    instructions, data = (view.engine_task.instructions if view.engine_task else None), view.values
    out = _row_dict(row)
    out.update(state=row.state, bpmn_id=row.bpmn_id, instance_id=row.instance_id, schema=form.schema,
               ui_schema=form.ui, data=data, instructions=instructions, may_complete=reason is None,
               refusal=reason, completed_at=row.completed_at,
               draft={"data": draft.data, "updated_at": draft.updated_at} if draft is not None else None)
    standing = partner_decisions.standing(db, row)
    out["partners"] = None if standing is None else {
        "decided": [{"organisation": d.organisation, "decided_by": d.by, "decided_at": d.at} for d in standing.decided],
        "awaited": standing.awaited}
    return out


@bp.post("/tasks/<id:task_id>/claim")
@bp.response(200, TaskOut)
def claim(task_id):
    """Take the task so nobody else works on it."""
    inbox.claim(session(), user(), task_id, now=now())
    return _row_dict(_fresh(task_id))


@bp.post("/tasks/<id:task_id>/release")
@bp.response(200, TaskOut)
def release(task_id):
    """Give a claimed task back to everyone with its role (its assignee, an SER or an administrator)."""
    inbox.release(session(), user(), task_id, now=now())
    return _row_dict(_fresh(task_id))


@bp.put("/tasks/<id:task_id>/draft")
@bp.arguments(DataIn)
@bp.response(200, DraftOut)
def save_draft(args, task_id):
    """Keep unfinished form data for yourself only; nothing is validated or sent to the process."""
    draft = inbox.save_draft(session(), user(), task_id, args["data"], now=now())
    return {"data": draft.data, "updated_at": draft.updated_at}


@bp.post("/tasks/<id:task_id>/complete")
@bp.arguments(DataIn)
@bp.response(200, CompletedOut)
def complete(args, task_id):
    """Complete the task with its form data. 422: per-field errors; 409: someone was faster; 403: not yours
    (role, organisation, assignee, four eyes)."""
    db, me, moment = session(), user(), now()
    loaded = inbox.load_for_submit(db, task_id)  # one statement for all the checks and the completion
    row = queries.visible_task(db, me, task_id)
    instance_id, several = row.instance_id, partner_decisions.may_take_several(row)  # (read before it expires)
    result = inbox.submit(db, engine(), me, task_id, args["data"], now=moment, mail=app_services().mail,
                          loaded=loaded)
    # the relationship's open tasks, as the relationship shows them to everyone
    relationship_id, ready = queries.open_tasks_around(db, instance_id, now=moment)
    standing = partner_decisions.standing(db, row) if several else None
    return {"completed": task_id, "relationship_id": relationship_id, "status": result.status,
            "next_tasks": [task_dict(t) for t in ready], "next_for_you": inbox.next_for(db, me, ready),
            "awaiting_partners": standing.awaited if standing is not None else []}


@bp.post("/tasks/<id:task_id>/evidence")
@bp.arguments(EvidenceArgs, location="query", unknown=RAISE)
@bp.arguments(EvidenceFileIn, location="files")
@bp.response(201, EvidenceOut)
def attach(args, files, task_id):
    """Attach a file (multipart/form-data, field `file`) as evidence of the task and its relationship; cite its
    id in the form's evidence field when completing."""
    upload = files["file"]
    stored = inbox.attach_evidence(session(), user(), task_id, EvidenceUpload(upload.filename or "", upload.stream),
                                   field=args["field"], max_bytes=current_app.config["UPLOAD_MAX_BYTES"], now=now())
    return {"id": str(stored.id), "filename": stored.filename, "content_type": stored.content_type,
            "size": stored.size, "sha256": stored.sha256, "field": stored.field, "uploaded_at": stored.uploaded_at}
