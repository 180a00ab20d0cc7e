"""Calendar feeds: make a feed address (shown once), list your feeds, revoke one (its address answers 404 at once).
The feed itself is served at the address, outside the API (`app.calendar.pages.feed`)."""

from __future__ import annotations

from ..api.common import blueprint, now, session, user
from ..calendar import pages
from ..calendar import services as feeds
from .schemas import FeedIn, FeedOut, NewFeedOut

bp = blueprint("api_calendar", "Calendar feeds (iCalendar addresses for Outlook, Google Calendar and the like)")


def _out(row, title=None) -> dict:
    return {"id": row.id, "relationship_id": row.relationship_id, "relationship": title, "prefix": row.prefix,
            "created_at": row.created_at, "last_used_at": row.last_used_at}


@bp.post("/calendar-feeds")
@bp.arguments(FeedIn)
@bp.response(201, NewFeedOut)
def create(args):
    """Make a feed address: your own (reviews, your task deadlines, gates) or a relationship's. It replaces your
    earlier feed of the same kind."""
    made = feeds.create_feed(session(), user(), relationship_id=args["relationship"], now=now())
    url = pages.feed_url(made.secret)
    titles = dict((row.id, title) for row, title in feeds.feeds_of(session(), user()))
    return {**_out(made.row, titles.get(made.row.id)), "url": url, "webcal_url": pages.webcal_url(url)}


@bp.get("/calendar-feeds")
@bp.response(200, FeedOut(many=True))
def index():
    """Your live feeds (never their addresses)."""
    return [_out(row, title) for row, title in feeds.feeds_of(session(), user())]


@bp.delete("/calendar-feeds/<id:feed_id>")
@bp.response(204)
def revoke(feed_id):
    """Revoke one of your feeds: its address answers 404 from now on."""
    feeds.revoke_feed(session(), user(), feed_id, now=now())
    return ""
