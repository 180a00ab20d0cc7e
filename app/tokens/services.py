"""API tokens as services: create (the secret is returned once), list, revoke, authenticate.

Only the sha256 of a token is stored; the secret itself is never stored or written to the audit trail.
Like every service, these take the session, user and `now` and never read request state.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, joinedload

from ..audit.services import record
from ..auth.models import User
from ..db import unit_of_work
from ..errors import AppError, BadRequest, NotFound
from .models import ApiToken

PREFIX = "cf_"
MAX_DAYS = 365
MAX_TOKENS_PER_USER = 50
USED_EVENT_EVERY = timedelta(hours=1)  # `api.token_used` at most once an hour per token
LAST_USED_EVERY = timedelta(seconds=60)  # last-used time written at most once a minute per token


class Unauthorized(AppError):
    code, status = "unauthorized", 401


@dataclass(frozen=True)
class NewToken:
    row: ApiToken
    secret: str  # shown once, never stored


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(session: Session, user: User, *, name: str, days: int, now: datetime) -> NewToken:
    """A new bearer token for `user`, valid for `days` days. Raises BadRequest."""
    name = (name or "").strip()
    if not name:
        raise BadRequest("give the token a name", {"name": "this field is required"})
    if not 1 <= days <= MAX_DAYS:
        raise BadRequest(f"a token lives 1 to {MAX_DAYS} days", {"expires_in_days": "out of range"})
    live = session.scalars(select(ApiToken.id).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None),
                                                     ApiToken.expires_at > now)).all()
    if len(live) >= MAX_TOKENS_PER_USER:
        raise BadRequest(f"you have {len(live)} live tokens; revoke one first")
    secret = PREFIX + secrets.token_urlsafe(32)
    with unit_of_work(session):
        row = ApiToken(user_id=user.id, name=name, token_hash=digest(secret), prefix=secret[:10], created_at=now,
                       expires_at=now + timedelta(days=days))
        session.add(row)
        session.flush()
        record(session, "api.token_created", actor=user, at=now, payload={
            "token_id": row.id, "name": name, "prefix": row.prefix, "expires_at": row.expires_at.isoformat()})
    return NewToken(row, secret)


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_token(session: Session, user: User, token_id: int, *, now: datetime) -> ApiToken:
    """Revoke one of the user's own tokens (another's is not told to exist). Revoking twice is harmless."""
    with unit_of_work(session):
        row = session.get(ApiToken, token_id)
        if row is None or row.user_id != user.id:
            raise NotFound(f"token {token_id} does not exist")
        if row.revoked_at is None:
            row.revoked_at = now
            record(session, "api.token_revoked", actor=user, at=now,
                   payload={"token_id": row.id, "name": row.name, "prefix": row.prefix})
        session.commit()
        return row


# one statement on every API call, built once: the token, its user, the organisation (joined by the model), roles
_TOKEN_AND_USER = (select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                   .where(ApiToken.token_hash == bindparam("hashed")).options(joinedload(User.role_rows)))


def authenticate(session: Session, secret: str, *, now: datetime) -> tuple[User, ApiToken]:
    """The active user a bearer secret belongs to. Raises Unauthorized (unknown, expired, revoked, inactive).

    Records the last use (at most once a minute) and an `api.token_used` event (at most once an hour)."""
    refused = Unauthorized("the API token is unknown, expired or revoked")
    if not secret.startswith(PREFIX) or len(secret) > 200:
        raise refused
    hashed = digest(secret)
    found = session.execute(_TOKEN_AND_USER, {"hashed": hashed}).unique().first()
    if found is None or not hmac.compare_digest(found.ApiToken.token_hash, hashed):
        raise refused
    row, user = found
    if row.revoked_at is not None or row.expires_at <= now:
        raise refused
    if not user.is_active:
        raise refused
    previous = row.last_used_at
    if previous is None or now - previous >= LAST_USED_EVERY:
        with unit_of_work(session):
            session.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
            if previous is None or now - previous >= USED_EVENT_EVERY:
                record(session, "api.token_used", actor=user, at=now,
                       payload={"token_id": row.id, "name": row.name, "prefix": row.prefix})
        row.last_used_at = now
    return user, row


def record_forbidden(session: Session, user: User | None, *, method: str, path: str, message: str,
                     now: datetime) -> None:
    """An `api.forbidden` event for a refused API call, in its own transaction."""
    session.rollback()
    record(session, "api.forbidden", actor=user, at=now,
           payload={"method": method, "path": path[:300], "message": message[:500]})
    session.commit()
