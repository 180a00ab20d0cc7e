"""Calendar feeds as services: make (the secret is returned once), list, revoke, and open a feed by its secret
for a calendar app, with what it holds.

What falls due for whom is the agenda's answer (`app.agenda.services.upcoming`), narrowed for a person's own feed
to the tasks their inbox holds (`app.inbox.queries.visible_to_work`); who sees what is `app.access`'s. Only the
sha256 of a feed's secret is stored; the secret is never stored or written to the audit trail.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from ..access import services as access
from ..agenda.services import AgendaEntry, upcoming
from ..audit.services import record
from ..auth.models import User
from ..db import unit_of_work
from ..errors import BadRequest, NotFound
from ..inbox.queries import visible_to_work
from ..processes.models import ProcessInstance
from .models import CalendarFeed

PREFIX = "cal_"
HORIZON = timedelta(days=400)  # what falls due in the next thirteen months (overdue deadlines included)
LIMIT = 1000
OWN_KINDS = frozenset({"review", "deadline"})  # a person's feed: reviews, their task deadlines and gates
LAST_USED_EVERY = timedelta(minutes=10)  # calendar apps poll; the last fetch is written at most this often


@dataclass(frozen=True)
class NewFeed:
    row: CalendarFeed
    secret: str  # shown once, never stored


@dataclass(frozen=True)
class Feed:
    """An opened feed: whose, of what, and what it holds (earliest first)."""
    row: CalendarFeed
    user: User
    name: str  # the calendar's name
    entries: list[AgendaEntry]
    changed: dict[int, datetime]  # instance id -> when it last changed (LAST-MODIFIED)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _live(user_id: int, relationship_id: int | None):
    scope = (CalendarFeed.relationship_id.is_(None) if relationship_id is None
             else CalendarFeed.relationship_id == relationship_id)
    return select(CalendarFeed).where(CalendarFeed.user_id == user_id, CalendarFeed.revoked_at.is_(None), scope)


def _payload(row: CalendarFeed) -> dict:
    return {"feed_id": row.id, "prefix": row.prefix, "relationship_id": row.relationship_id}


def create_feed(session: Session, user: User, *, relationship_id: int | None = None, now: datetime) -> NewFeed:
    """A new feed URL secret for `user`: their own feed, or a relationship's (one they may see). A live feed of
    the same kind is revoked by it (one URL per person and per relationship). Raises NotFound, BadRequest."""
    if not user.is_active:
        raise BadRequest("a deactivated account has no calendar feed")
    with unit_of_work(session):
        if relationship_id is not None:
            access.relationship_or_404(session, relationship_id, user)
        for old in session.scalars(_live(user.id, relationship_id)):
            old.revoked_at = now
            record(session, "calendar.feed_revoked", actor=user, at=now, instance_id=relationship_id,
                   payload={**_payload(old), "replaced": True})
        secret = PREFIX + secrets.token_urlsafe(32)
        row = CalendarFeed(user_id=user.id, relationship_id=relationship_id, token_hash=digest(secret),
                           prefix=secret[:10], created_at=now)
        session.add(row)
        session.flush()
        record(session, "calendar.feed_created", actor=user, at=now, instance_id=relationship_id,
               payload=_payload(row))
    return NewFeed(row, secret)


def feeds_of(session: Session, user: User) -> list[tuple[CalendarFeed, str | None]]:
    """The user's live feeds with the relationship's title (None for their own feed), their own feed first."""
    rows = session.execute(
        select(CalendarFeed, ProcessInstance.title)
        .outerjoin(ProcessInstance, ProcessInstance.id == CalendarFeed.relationship_id)
        .where(CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None))
        .order_by(CalendarFeed.relationship_id.is_not(None), CalendarFeed.created_at.desc(),
                  CalendarFeed.id.desc())).all()
    return [(feed, (title or f"Relationship #{feed.relationship_id}") if feed.relationship_id else None)
            for feed, title in rows]


def feed_of(session: Session, user: User, relationship_id: int | None = None) -> CalendarFeed | None:
    """The user's live feed of that kind, if they have one."""
    return session.scalars(_live(user.id, relationship_id).limit(1)).first()


def revoke_feed(session: Session, user: User, feed_id: int, *, now: datetime) -> CalendarFeed:
    """Revoke one of the user's own feeds: its URL answers 404 from now on (another's is not told to exist).
    Revoking twice is harmless. Raises NotFound."""
    with unit_of_work(session):
        row = session.get(CalendarFeed, feed_id)
        if row is None or row.user_id != user.id:
            raise NotFound(f"calendar feed {feed_id} does not exist")
        if row.revoked_at is None:
            row.revoked_at = now
            record(session, "calendar.feed_revoked", actor=user, at=now, instance_id=row.relationship_id,
                   payload=_payload(row))
        return row


_FEED_AND_USER = (select(CalendarFeed, User).join(User, User.id == CalendarFeed.user_id)
                  .where(CalendarFeed.token_hash == bindparam("hashed")))


def open_feed(session: Session, secret: str, *, now: datetime) -> Feed:
    """The feed a URL's secret opens, with what it holds as its owner may see it now. Raises NotFound for an
    unknown or revoked secret, a deactivated owner, or a relationship its owner may no longer see."""
    gone = NotFound("this calendar feed does not exist or was revoked")
    if not secret.startswith(PREFIX) or len(secret) > 100:
        raise gone
    hashed = digest(secret)
    found = session.execute(_FEED_AND_USER, {"hashed": hashed}).first()
    if found is None or not hmac.compare_digest(found.CalendarFeed.token_hash, hashed):
        raise gone
    row, user = found
    if row.revoked_at is not None or not user.is_active:
        raise gone
    until = now + HORIZON
    if row.relationship_id is None:
        entries = [e for e in upcoming(session, now=now, until=until, limit=LIMIT, viewer=user,
                                       tasks=visible_to_work(user)) if e.kind in OWN_KINDS]
        name = f"collabflow: {user.display_name}"
    else:
        try:
            relationship = access.relationship_or_404(session, row.relationship_id, user)
        except NotFound:
            raise gone from None
        entries = upcoming(session, now=now, until=until, limit=LIMIT, viewer=user,
                           relationship_id=row.relationship_id)
        name = f"collabflow: {relationship.title or f'Relationship #{relationship.id}'}"
    ids = {e.instance_id for e in entries}
    changed = dict(session.execute(select(ProcessInstance.id, ProcessInstance.updated_at)
                                   .where(ProcessInstance.id.in_(ids))).all()) if ids else {}
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        with unit_of_work(session):
            session.execute(update(CalendarFeed).where(CalendarFeed.id == row.id).values(last_used_at=now))
        row.last_used_at = now
    return Feed(row=row, user=user, name=name, entries=entries, changed=changed)
