"""Signed-in browser sessions kept on the server (the `user_sessions` table), as services: begin one at sign-in,
find the live one a request's cookie names, end one (sign-out) or all of a user's (password change,
deactivation). Like every service these take the session and `now`; no Flask here (app/auth/pages.py holds the
cookie).

Cheap on purpose, as every signed-in request asks: one indexed lookup (the secret's sha256, its user, roles and
organisation in one statement), and `last_seen_at` written at most once a minute.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.orm import Session, joinedload

from ..audit.services import record
from ..db import unit_of_work
from .models import User, UserSession

SEEN_EVERY = timedelta(seconds=60)  # last_seen_at is written at most this often per session


@dataclass(frozen=True)
class Limits:
    idle: timedelta = timedelta(minutes=120)   # COLLABFLOW_SESSION_IDLE_MINUTES
    longest: timedelta = timedelta(hours=12)   # COLLABFLOW_SESSION_MAX_HOURS


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def begin(session: Session, user: User, *, now: datetime, user_agent: str | None = None,
          ip: str | None = None) -> str:
    """A new session for `user` -> the secret for the cookie (only its sha256 is stored). Commits."""
    with unit_of_work(session):
        _row, secret = add(session, user, now=now, user_agent=user_agent, ip=ip)
    return secret


def add(session: Session, user: User, *, now: datetime, user_agent: str | None = None,
        ip: str | None = None) -> tuple[UserSession, str]:
    """`begin` inside the caller's transaction (single sign-on adds its own row beside it) -> (row, secret)."""
    secret = secrets.token_urlsafe(32)
    row = UserSession(user_id=user.id, token_hash=digest(secret), created_at=now, last_seen_at=now,
                      user_agent=(user_agent or None) and user_agent[:300], ip=(ip or None) and ip[:64])
    session.add(row)
    session.flush()
    return row, secret


_SESSION_AND_USER = (select(UserSession, User).join(User, User.id == UserSession.user_id)
                     .where(UserSession.token_hash == bindparam("hashed")).options(joinedload(User.role_rows)))


def current(session: Session, secret: str, *, now: datetime, limits: Limits) -> User | None:
    """The user of the live session `secret` names, or None (unknown, ended, idle too long, too old, user
    deactivated). A session found idle or too old is ended here, with a `user.session_ended` event."""
    if not secret or len(secret) > 200:
        return None
    hashed = digest(secret)
    found = session.execute(_SESSION_AND_USER, {"hashed": hashed}).unique().first()
    if found is None or not hmac.compare_digest(found.UserSession.token_hash, hashed):
        return None
    row, user = found
    if row.ended_at is not None:
        return None
    reason = ("user_inactive" if not user.is_active else "expired" if now - row.created_at >= limits.longest
              else "idle" if now - row.last_seen_at >= limits.idle else None)
    if reason is not None:
        with unit_of_work(session):
            _end(session, [row], user, now=now, reason=reason)
        return None
    if now - row.last_seen_at >= SEEN_EVERY:
        with unit_of_work(session):
            session.execute(update(UserSession).where(UserSession.id == row.id).values(last_seen_at=now)
                            .execution_options(synchronize_session=False))
        row.last_seen_at = now
    return user


def end(session: Session, secret: str | None, *, now: datetime, reason: str = "signed_out") -> None:
    """End the session `secret` names, if it is live (signing out; the caller records and commits)."""
    if secret:
        session.execute(update(UserSession).where(UserSession.token_hash == digest(secret),
                                                  UserSession.ended_at.is_(None))
                        .values(ended_at=now, end_reason=reason).execution_options(synchronize_session=False))


def end_all(session: Session, user: User, *, now: datetime, reason: str, actor: User | None = None) -> int:
    """End every live session of `user` (password changed, user deactivated) -> how many; the caller commits."""
    live = list(session.scalars(select(UserSession).where(UserSession.user_id == user.id,
                                                          UserSession.ended_at.is_(None))))
    _end(session, live, user, now=now, reason=reason, actor=actor)
    return len(live)


def _end(session: Session, rows: list[UserSession], user: User, *, now: datetime, reason: str,
         actor: User | None = None) -> None:
    for row in rows:
        row.ended_at, row.end_reason = now, reason
        record(session, "user.session_ended", actor=actor or user, at=now,
               payload={"session_id": row.id, "user": user.username, "reason": reason})
    session.flush()


def live_of(session: Session, user: User, *, now: datetime, limits: Limits) -> list[UserSession]:
    """`user`'s live sessions, newest first (the account page lists them, each with an end button)."""
    rows = session.scalars(select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
                           .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc()))
    return [r for r in rows if now - r.created_at < limits.longest and now - r.last_seen_at < limits.idle]


def end_one(session: Session, user: User, session_id: int, *, now: datetime) -> bool:
    """End one of `user`'s own sessions (another's is not told to exist). Commits -> whether it was live."""
    with unit_of_work(session):
        row = session.get(UserSession, session_id)
        if row is None or row.user_id != user.id or row.ended_at is not None:
            return False
        _end(session, [row], user, now=now, reason="ended_by_user")
    return True


KEPT = timedelta(days=30)  # an ended or long-dead session row stays this long (the audit trail keeps sign-ins)


def prune(session: Session, *, now: datetime, kept: timedelta = KEPT) -> int:
    """Delete session rows that ended, or were last seen, more than `kept` ago: they can never sign anyone in
    again (idle and absolute timeouts are hours), and sign-ins and sign-outs stay in the audit trail. Commits."""
    cutoff = now - kept
    gone = session.execute(delete(UserSession).where(or_(UserSession.ended_at < cutoff,
                                                         UserSession.last_seen_at < cutoff))).rowcount
    session.commit()
    return gone
