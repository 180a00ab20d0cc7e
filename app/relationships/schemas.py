"""The shapes of the relationships API: what it accepts and what it answers (marshmallow; the OpenAPI document is made
from them)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..api.common import (
    NAME_MAX,
    TEXT_MAX,
    In,
    PageArgs,
    StageOut,
    page_of,
)
from ..inbox.schemas import TaskOut


class ListArgs(PageArgs):
    status = fields.String(load_default="", validate=validate.OneOf(["", "running", "completed", "cancelled"]))
    stage = fields.Integer(load_default=None, validate=validate.Range(min=1, max=8))


class StartIn(In):
    title = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX))
    partner = fields.String(load_default="", validate=validate.Length(max=200), metadata={
        "description": "the partner organisation (the lead partner when `partners` names more)"})
    partners = fields.List(fields.String(validate=validate.Length(max=200)), load_default=list,
                           validate=validate.Length(max=20), metadata={
        "description": "several partner organisations (an alliance): each one's users see the joint parts and "
                       "each one's SER decides the joint gates; a new name creates the partner organisation"})


    @validates_schema(skip_on_field_errors=False)
    def a_partner_is_named(self, data, **_kwargs):
        if not (data.get("partner") or "").strip() and not any((n or "").strip() for n in data.get("partners") or []):
            raise ValidationError("Name the partner organisation (`partner`, or `partners` for several).", "partner")


class PartnerIn(In):
    partner = fields.String(required=True, validate=validate.Length(min=1, max=200), metadata={
        "description": "the partner organisation to add (a new name creates it)"})


class IssueIn(In):
    title = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX))
    description = fields.String(load_default="", validate=validate.Length(max=TEXT_MAX))


class ExitTriggerIn(In):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=TEXT_MAX))


class ProgressOut(Schema):
    stage = fields.Integer(allow_none=True, metadata={"description": "the stage being worked, or the last one"})
    label = fields.String()
    status = fields.String()
    outcome = fields.String(allow_none=True)


class RelationshipOut(Schema):
    id = fields.Integer()
    title = fields.String()
    partner = fields.String(allow_none=True, metadata={"description": "the lead partner organisation"})
    partners = fields.List(fields.String(), metadata={"description": "every partner organisation, the lead first"})
    status = fields.String()
    version_id = fields.Integer()
    created_at = fields.DateTime()
    progress = fields.Nested(ProgressOut)
    open_tasks = fields.Integer()
    overdue = fields.Integer()
    next_review = fields.DateTime(allow_none=True)


RelationshipPage = page_of(RelationshipOut)


class IssueOut(Schema):
    id = fields.Integer()
    title = fields.String()
    status = fields.String()
    level = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)


class RelationshipDetailOut(RelationshipOut):
    tasks = fields.List(fields.Nested(TaskOut), metadata={"description": "open tasks, linked instances included"})
    issues = fields.List(fields.Nested(IssueOut))
    linked = fields.List(fields.Dict(), metadata={"description": "linked instances (reviews, issues)"})
    event_count = fields.Integer()
    partner_without_ser = fields.String(allow_none=True, metadata={
        "description": "the partner's name while it has no active SER: the joint gates from stage 5 would wait "
                       "(null when it has one, and always for the partner's own users)"})


class ActionOut(Schema):
    relationship_id = fields.Integer()
    instance_id = fields.Integer(metadata={"description": "the instance the action started or changed"})
    status = fields.String()
    tasks = fields.List(fields.Nested(TaskOut), metadata={"description": "the relationship's open tasks now"})
    stage = fields.Nested(StageOut, allow_none=True)


