"""Your notifications: list (unread only, if you like) and mark read."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from ..notifications import services as notifications
from .common import In, blueprint, now, session, user

bp = blueprint("api_notifications", "In-app notifications: new tasks, approvals, escalations, deadlines")


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


class ListOut(Schema):
    unread = fields.Integer(metadata={"description": "how many are unread in all"})
    items = fields.List(fields.Nested(NotificationOut))


class MarkOut(Schema):
    marked = fields.Integer()
    unread = fields.Integer()


@bp.get("/notifications")
@bp.arguments(ListArgs, location="query", unknown=RAISE)
@bp.response(200, ListOut)
def index(args):
    """Your notifications, newest first."""
    db, me = session(), user()
    return {"unread": notifications.unread_count(db, me),
            "items": notifications.list_for(db, me, unread_only=args["unread"], limit=args["limit"])}


@bp.post("/notifications/read")
@bp.arguments(MarkIn)
@bp.response(200, MarkOut)
def mark_read(args):
    """Mark your notifications read (all, or the given ids; others' are never touched)."""
    db, me = session(), user()
    marked = notifications.mark_read(db, me, now(), args["ids"])
    return {"marked": marked, "unread": notifications.unread_count(db, me)}
