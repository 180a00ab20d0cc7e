"""Calendar feeds: the feed a calendar app fetches by its secret URL (no browser session: the secret is the
credential), and a relationship's subscribe page. A person's own feed is made and revoked on the account page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

from ..access import services as access
from ..auth.session import me
from ..db import utcnow
from ..extensions import db_session
from . import ics
from . import services as feeds

bp = Blueprint("calendar", __name__)


def base_url() -> str:
    """The site's public address (`BASE_URL`, else the address this request came to), without a final slash."""
    return (current_app.config.get("BASE_URL") or request.host_url).rstrip("/")


def feed_url(secret: str) -> str:
    return base_url() + url_for("calendar.feed", secret=secret)


def webcal_url(url: str) -> str:
    """The same address for calendar apps that open `webcal:` links (Outlook, Apple Calendar)."""
    return "webcal://" + url.split("://", 1)[1]


def links() -> ics.Links:
    base = base_url()
    return ics.Links(host=urlsplit(base).hostname or "collabflow",
                     task=lambda task_id: base + url_for("inbox.task", task_id=task_id),
                     relationship=lambda rid: base + url_for("relationships.show", relationship_id=rid))


@bp.get("/calendar/<string(maxlength=100):secret>.ics")
def feed(secret: str):
    """The iCalendar feed the secret opens (404 once revoked, or when its owner is deactivated)."""
    now = utcnow()
    opened = feeds.open_feed(db_session(), secret, now=now)
    body = ics.document(opened, links(), now=now)
    return Response(body, content_type="text/calendar; charset=utf-8", headers={
        "Cache-Control": "private, no-cache", "Content-Disposition": 'inline; filename="collabflow.ics"'})


def _relationship_page(relationship_id: int, new_feed=None, status=200):
    session = db_session()
    relationship = access.relationship_or_404(session, relationship_id, me())
    url = feed_url(new_feed.secret) if new_feed else None
    return render_template("calendar/relationship.html", relationship=relationship,
                           feed=feeds.feed_of(session, me(), relationship_id), new_url=url,
                           new_webcal=webcal_url(url) if url else None, section="relationships"), status


@bp.get("/relationships/<id:relationship_id>/calendar")
def relationship(relationship_id: int):
    """Subscribe to the relationship's calendar: what falls due in it, as the person may see it."""
    return _relationship_page(relationship_id)


@bp.post("/relationships/<id:relationship_id>/calendar")
def create_relationship_feed(relationship_id: int):
    made = feeds.create_feed(db_session(), me(), relationship_id=relationship_id, now=utcnow())
    return _relationship_page(relationship_id, new_feed=made)  # the URL is shown on this page once, never again


@bp.post("/relationships/<id:relationship_id>/calendar/revoke")
def revoke_relationship_feed(relationship_id: int):
    session = db_session()
    access.relationship_or_404(session, relationship_id, me())
    row = feeds.feed_of(session, me(), relationship_id)
    if row is not None:
        feeds.revoke_feed(session, me(), row.id, now=utcnow())
    return redirect(url_for("calendar.relationship", relationship_id=relationship_id))
