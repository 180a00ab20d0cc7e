"""The shapes of the agenda API: what it accepts and what it answers (marshmallow; the OpenAPI document is made
from them)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..api.common import In

HORIZONS = {"1m": 31, "3m": 92, "12m": 366}


class AgendaArgs(In):
    relationship = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))
    horizon = fields.String(load_default="3m", validate=validate.OneOf(list(HORIZONS)))


class EntryOut(Schema):
    when = fields.DateTime()
    kind = fields.String(metadata={"description": "review | timer | deadline"})
    title = fields.String()
    relationship_id = fields.Integer()
    relationship = fields.String(allow_none=True)
    instance_id = fields.Integer()
    process_id = fields.String()
    task_id = fields.Integer(allow_none=True)
    overdue = fields.Boolean()


