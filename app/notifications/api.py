"""Your notifications: list (unread only, if you like) and mark read."""

from __future__ import annotations

from marshmallow import RAISE

from ..api.common import blueprint, now, session, user
from ..notifications import preferences
from ..notifications import services as notifications
from .schemas import ListArgs, ListOut, MarkIn, MarkOut, PreferencesIn, PreferencesOut

bp = blueprint("api_notifications", "In-app notifications: new tasks, approvals, escalations, deadlines")


@bp.get("/notifications")
@bp.arguments(ListArgs, location="query", unknown=RAISE)
@bp.response(200, ListOut)
def index(args):
    """Your notifications, newest first."""
    db, me = session(), user()
    return {"unread": notifications.unread_count(db, me),
            "items": [_item(v) for v in notifications.list_for(db, me, unread_only=args["unread"],
                                                               limit=args["limit"])]}


def _item(view) -> dict:
    n = view.notification
    return {"id": n.id, "kind": n.kind, "title": n.title, "body": n.body, "instance_id": n.instance_id,
            "task_id": n.task_id, "created_at": n.created_at, "read_at": n.read_at, "cleared": view.cleared,
            "human_task_id": view.task, "relationship_id": view.relationship_id,
            "relationship_title": view.relationship_title}


@bp.post("/notifications/read")
@bp.arguments(MarkIn)
@bp.response(200, MarkOut)
def mark_read(args):
    """Mark your notifications read (all, or the given ids; others' are never touched)."""
    db, me = session(), user()
    marked = notifications.mark_read(db, me, now(), args["ids"])
    return {"marked": marked, "unread": notifications.unread_count(db, me)}


@bp.get("/notifications/preferences")
@bp.response(200, PreferencesOut)
def get_preferences():
    """How you hear by e-mail: each notification, a daily digest, or none; and the kinds never e-mailed."""
    found = preferences.of(session(), user())
    return {"email": found.email, "muted_kinds": list(found.muted_kinds), "digest_hour": found.digest_hour}


@bp.put("/notifications/preferences")
@bp.arguments(PreferencesIn)
@bp.response(200, PreferencesOut)
def put_preferences(args):
    """Change how you hear by e-mail (422/400 naming the field; nothing changes then)."""
    saved = preferences.save(session(), user(), email=args["email"], muted_kinds=args["muted_kinds"],
                             digest_hour=args["digest_hour"], now=now())
    return {"email": saved.email, "muted_kinds": list(saved.muted_kinds), "digest_hour": saved.digest_hour}
