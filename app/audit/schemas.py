"""The shapes of the audit API: what it accepts and what it answers (marshmallow; the OpenAPI document is made
from them)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..api.common import PageArgs, page_of


class EventArgs(PageArgs):
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    action = fields.String(load_default="", validate=validate.Length(max=80))


class EventOut(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor = fields.String()
    actor_id = fields.Integer(allow_none=True)
    action = fields.String()
    instance_id = fields.Integer(allow_none=True)
    task_id = fields.String(allow_none=True)
    payload = fields.Dict()


EventPage = page_of(EventOut)


