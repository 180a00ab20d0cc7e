"""The shapes of the compliance API: what it accepts and what it answers (marshmallow; the OpenAPI document is made
from them)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..api.common import In


class MatrixEvidenceOut(Schema):
    human_task_id = fields.Integer()
    instance_id = fields.Integer()
    name = fields.String()
    completed_at = fields.DateTime()
    completed_by = fields.String(allow_none=True)


class MatrixRowOut(Schema):
    id = fields.String()
    stage = fields.String()
    stage_name = fields.String()
    kind = fields.String()
    text = fields.String()
    status = fields.String(metadata={"description": "not_started | in_progress | evidenced | review_overdue"})
    evidence = fields.List(fields.Nested(MatrixEvidenceOut))
    open_tasks = fields.List(fields.String())


class MatrixOut(Schema):
    relationship_id = fields.Integer()
    summary = fields.Dict(keys=fields.String(), values=fields.Integer())
    rows = fields.List(fields.Nested(MatrixRowOut))


class GapsOut(Schema):
    relationship_id = fields.Integer()
    stages = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(MatrixRowOut)))


class OrganisationOut(Schema):
    relationships = fields.List(fields.Dict())
    totals = fields.Dict(keys=fields.String(), values=fields.Integer())
    status = fields.Dict(metadata={"description": "requirement id -> relationship id -> status"})


class PlanEntryOut(Schema):
    task = fields.String()
    fields_ = fields.List(fields.List(fields.String()), data_key="fields")


class PlanSectionOut(Schema):
    stage = fields.Integer()
    title = fields.String()
    entries = fields.List(fields.Nested(PlanEntryOut))


class PlanVersionOut(Schema):
    number = fields.Integer()
    kind = fields.String(metadata={"description": "CRMP (stages 1-3), PRMP (stage 4) or JRMP (from stage 5)"})
    stage = fields.Integer()
    approved_at = fields.DateTime()
    approvers = fields.List(fields.String())
    changes = fields.List(fields.String())
    partners = fields.List(fields.String(), metadata={"description": "the relationship's partner organisations"})


class PlanVersionDetailOut(PlanVersionOut):
    sections = fields.List(fields.Nested(PlanSectionOut))


class PlanFormatArgs(In):
    format = fields.String(required=True, validate=validate.OneOf(["pdf", "md"]))


class PackFormatArgs(In):
    format = fields.String(required=True, validate=validate.OneOf(["pdf", "csv", "xlsx"]))


