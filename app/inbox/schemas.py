"""The shapes of the inbox API: what it accepts and what it answers (marshmallow; the OpenAPI document is made
from them)."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from ..api.common import In, StageOut, stage_dict
from . import queries

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


class PartnerDecidedOut(Schema):
    organisation = fields.String()
    decided_by = fields.String()
    decided_at = fields.DateTime()


class PartnersOut(Schema):
    decided = fields.List(fields.Nested(PartnerDecidedOut))
    awaited = fields.List(fields.String(), metadata={"description": "the partner organisations still to decide"})


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
    partners = fields.Nested(PartnersOut, allow_none=True, metadata={
        "description": "a task each partner organisation's SER decides (a relationship with several partners): "
                       "who has decided and who is awaited; null for any other task"})


class CompletedOut(Schema):
    completed = fields.Integer(metadata={"description": "the completed task's id"})
    relationship_id = fields.Integer()
    status = fields.String(metadata={"description": "the instance's status after the completion"})
    next_tasks = fields.List(fields.Nested(TaskOut), metadata={
        "description": "the relationship's open tasks now (as GET /relationships/{id} lists them)"})
    next_for_you = fields.Integer(allow_none=True, metadata={"description": "the next task you may complete"})
    awaiting_partners = fields.List(fields.String(), metadata={
        "description": "a task each partner organisation's SER decides (a relationship with several partners): the "
                       "partners still to decide; empty once the task is completed"})


def task_dict(row) -> dict:
    """A queries.TaskRow as the API says it."""
    return {"id": row.id, "name": row.name, "process_id": row.process_id, "stage": stage_dict(row.stage),
            "role": row.role, "lane": row.lane, "relationship_id": row.relationship_id,
            "relationship_title": row.relationship_title, "assignee_id": row.assignee_id,
            "assignee_name": row.assignee_name, "created_at": row.created_at, "due_at": row.due_at,
            "approval_gate": row.approval_gate, "overdue": row.overdue}


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


