"""Notifications page: what happened that concerns me; unread count in the header; mark read."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from ..auth.session import me
from ..db import utcnow
from ..extensions import db_session
from ..notifications import services

bp = Blueprint("notifications", __name__)


@bp.app_context_processor
def _unread():
    return {"unread_count": lambda: services.unread_count(db_session(), me())}


@bp.get("/notifications")
def index():
    unread_only = request.args.get("show") == "unread"
    items = services.list_for(db_session(), me(), unread_only=unread_only, limit=200)
    return render_template("notifications/index.html", items=items, unread_only=unread_only)


@bp.post("/notifications/read")
def mark_read():
    ids = [int(i) for i in request.form.getlist("id") if i.isdigit()] or None
    services.mark_read(db_session(), me(), utcnow(), ids=ids)
    return redirect(url_for("notifications.index", show=request.form.get("show") or None))
