"""The shapes of the notifications API: what it accepts and what it answers (marshmallow; the OpenAPI document is made
from them)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..api.common import In


class ListArgs(In):
    unread = fields.Boolean(load_default=False)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class MarkIn(In):
    ids = fields.List(fields.Integer(validate=validate.Range(min=1, max=2**31 - 1)), load_default=None,
                      allow_none=True, validate=validate.Length(max=500),
                      metadata={"description": "which ones; omit to mark all read"})


class NotificationOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    body = fields.String()
    instance_id = fields.Integer(allow_none=True)
    task_id = fields.String(allow_none=True)
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)
    cleared = fields.Boolean(metadata={"description": "its task was completed, withdrawn or taken by someone else"})
    human_task_id = fields.Integer(allow_none=True, metadata={
        "description": "the task to open (GET /tasks/{id}) while it still waits for you"})
    relationship_id = fields.Integer(allow_none=True)
    relationship_title = fields.String(allow_none=True)


class ListOut(Schema):
    unread = fields.Integer(metadata={"description": "how many are unread in all"})
    items = fields.List(fields.Nested(NotificationOut))


class MarkOut(Schema):
    marked = fields.Integer()
    unread = fields.Integer()




class PreferencesIn(In):
    email = fields.String(required=True, metadata={"description": "each | digest | none"})
    muted_kinds = fields.List(fields.String(validate=validate.Length(max=40)), load_default=list,
                              validate=validate.Length(max=20),
                              metadata={"description": "kinds never e-mailed (task, approval, escalation, ...)"})
    digest_hour = fields.Integer(load_default=7, metadata={"description": "the digest's hour, 0-23 UTC"})


class PreferencesOut(Schema):
    email = fields.String()
    muted_kinds = fields.List(fields.String())
    digest_hour = fields.Integer()
