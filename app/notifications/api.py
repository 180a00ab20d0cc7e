"""Your notifications: list (unread only, if you like) and mark read."""

from __future__ import annotations

from marshmallow import RAISE

from ..api.common import blueprint, now, session, user
from ..notifications import services as notifications
from .schemas import ListArgs, ListOut, MarkIn, MarkOut

bp = blueprint("api_notifications", "In-app notifications: new tasks, approvals, escalations, deadlines")


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
