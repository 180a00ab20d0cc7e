"""Tasks: the inbox (filters, pages), one task with its form (JSON Schema, UI schema, current data),
claim, release, save a draft, complete."""

from __future__ import annotations

from flask import current_app
from flask_smorest.fields import Upload
from marshmallow import RAISE, Schema, fields, validate

from ..access import services as access
from ..db import utcnow
from ..evidence.services import Upload as EvidenceUpload
from ..inbox import pages, queries
from ..inbox import services as inbox
from ..inbox.binding import declared
from ..inbox.stages import stage_of
from ..processes.models import HumanTask
from ..processes.store import SqlInstanceStore
from .common import In, StageOut, blueprint, engine, now, session, stage_dict, user

bp = blueprint("api_tasks", "Human tasks: the inbox, forms, claiming, drafts and completion")

FORM_DATA = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=200)), load_default=dict,
                        metadata={"description": "the form's fields, as its JSON Schema declares them"})


class InboxArgs(In):
    scope = fields.String(load_default="", validate=validate.OneOf(["", "mine", "claimable"]))
    relationship = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))
    stage = fields.String(load_default="", validate=validate.Length(max=255))
    role = fields.String(load_default="", validate=validate.OneOf(["", "staff", "ser", "jmt"]))
    overdue = fields.Boolean(load_default=False)
    sort = fields.String(load_default="due", validate=validate.OneOf(list(queries.SORTS)))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))


class DataIn(In):
    data = FORM_DATA


class TaskOut(Schema):
    id = fields.Integer()
    name = fields.String()
    process_id = fields.String()
    stage = fields.Nested(StageOut)
    role = fields.String(allow_none=True)
    lane = fields.String(allow_none=True)
    relationship_id = fields.Integer()
    relationship_title = fields.String()
    assignee_id = fields.Integer(allow_none=True)
    assignee_name = fields.String(allow_none=True)
    created_at = fields.DateTime()
    due_at = fields.DateTime(allow_none=True)
    approval_gate = fields.Boolean()
    overdue = fields.Boolean()


class InboxOut(Schema):
    items = fields.List(fields.Nested(TaskOut))
    total = fields.Integer()
    page = fields.Integer()
    pages = fields.Integer()
    per_page = fields.Integer()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "mine, claimable, overdue, all: the whole inbox"})


class DraftOut(Schema):
    data = fields.Dict()
    updated_at = fields.DateTime()


class TaskDetailOut(TaskOut):
    state = fields.String()
    bpmn_id = fields.String()
    instance_id = fields.Integer()
    schema = fields.Dict(allow_none=True, metadata={"description": "the form's JSON Schema"})
    ui_schema = fields.Dict(allow_none=True, metadata={"description": "the form's UI schema"})
    data = fields.Dict(metadata={"description": "current values: your draft, else the process's, else submitted"})
    draft = fields.Nested(DraftOut, allow_none=True)
    instructions = fields.String(allow_none=True, metadata={"description": "Markdown"})
    may_complete = fields.Boolean()
    refusal = fields.String(allow_none=True, metadata={"description": "why you may not complete it now"})
    completed_at = fields.DateTime(allow_none=True)


class CompletedOut(Schema):
    completed = fields.Integer(metadata={"description": "the completed task's id"})
    relationship_id = fields.Integer()
    status = fields.String(metadata={"description": "the instance's status after the completion"})
    next_tasks = fields.List(fields.Nested(TaskOut), metadata={
        "description": "the relationship's open tasks now (as GET /relationships/{id} lists them)"})
    next_for_you = fields.Integer(allow_none=True, metadata={"description": "the next task you may complete"})


def task_dict(row) -> dict:
    """A queries.TaskRow as the API says it."""
    return {"id": row.id, "name": row.name, "process_id": row.process_id, "stage": stage_dict(row.stage),
            "role": row.role, "lane": row.lane, "relationship_id": row.relationship_id,
            "relationship_title": row.relationship_title, "assignee_id": row.assignee_id,
            "assignee_name": row.assignee_name, "created_at": row.created_at, "due_at": row.due_at,
            "approval_gate": row.approval_gate, "overdue": row.overdue}


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
    found = queries.inbox(session(), user(), filters, now=now())
    return {"items": [task_dict(r) for r in found.rows], "total": found.total, "page": found.page,
            "pages": found.pages, "per_page": queries.PAGE_SIZE, "counts": found.counts}


@bp.get("/tasks/<id:task_id>")
@bp.response(200, TaskDetailOut)
def show(task_id):
    """One task with its form's JSON Schema and UI schema and the data it currently holds."""
    db, me = session(), user()
    row = queries.visible_task(db, me, task_id)
    form = pages.task_form(db, row)
    draft = queries.draft_of(db, me, row.id)
    instructions, data = None, {}
    if row.state == "ready":
        task = engine().using(SqlInstanceStore(db)).get_task(row.instance_id, row.task_id)
        instructions = task.instructions
        data = draft.data if draft is not None else declared(form.schema, task.data)
    else:
        data = row.submitted or {}
    data = access.redact(data, me)  # a partner never reads withheld knowledge
    reason = queries.refusal(db, me, row)
    out = _row_dict(row)
    out.update(state=row.state, bpmn_id=row.bpmn_id, instance_id=row.instance_id, schema=form.schema,
               ui_schema=form.ui, data=data, instructions=instructions, may_complete=reason is None,
               refusal=reason, completed_at=row.completed_at,
               draft={"data": draft.data, "updated_at": draft.updated_at} if draft is not None else None)
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
    row = queries.visible_task(db, me, task_id)
    instance_id = row.instance_id
    result = inbox.submit(db, engine(), me, task_id, args["data"], now=moment)
    # the relationship's open tasks, as the relationship shows them to everyone
    relationship_id, ready = queries.open_tasks_around(db, instance_id, now=moment)
    return {"completed": task_id, "relationship_id": relationship_id, "status": result.status,
            "next_tasks": [task_dict(t) for t in ready], "next_for_you": inbox.next_for(db, me, ready)}


class EvidenceFileIn(In):
    file = Upload(required=True, metadata={"description": "the file (PDF, office documents, images, text)"})


class EvidenceArgs(In):
    field = fields.String(load_default=None, validate=validate.Length(min=1, max=255),
                          metadata={"description": "the form field it is for, e.g. `policy_document`"})


class EvidenceOut(Schema):
    id = fields.String(metadata={"description": "put this in the form's evidence field"})
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    field = fields.String(allow_none=True)
    uploaded_at = fields.DateTime()


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
