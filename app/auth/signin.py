"""Signing in with a password, and the lockout that makes guessing one slow.

Five wrong passwords in a row lock the account for fifteen minutes. Each attempt is one transaction
and leaves an audit event, so an assessor can see who tried to get in and when.

The lock holds under concurrency: an attempt first reserves its place in the count with one atomic UPDATE
(committed before the password is checked), and the attempt that takes the last place sets the lock at once.
So however many guesses arrive together, at most MAX_FAILED passwords are ever checked; the rest are refused
as locked without a check. A correct password then clears the count and the lock.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, literal, or_, select, update
from sqlalchemy.orm import Session

from ..audit.services import record
from ..db import UTCDateTime
from ..errors import AppError
from .models import User
from .services import hash_password, verify_password
from .user_sessions import end

MAX_FAILED = 5
LOCK_FOR = timedelta(minutes=15)
_DUMMY_HASH = hash_password("collabflow: makes unknown users take as long as known ones")


class SignInRefused(AppError):
    code, status = "sign_in_refused", 401


def sign_in(session: Session, username: str, password: str, *, now: datetime) -> User:
    """The user whose password this is. Raises SignInRefused (wrong, unknown, inactive or locked)."""
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.is_active:
        verify_password(_DUMMY_HASH, password)
        _refuse(session, None, username, now, "unknown or inactive user")
    reserved = reserve_attempt(session, user.id, now=now)
    if reserved is None:
        session.refresh(user)
        until = user.locked_until if user.locked_until is not None and user.locked_until > now else now + LOCK_FOR
        _refuse(session, user, username, now, "locked", message=locked_message(until, now))
    if not verify_password(user.password_hash, password):
        if reserved >= MAX_FAILED:
            session.refresh(user)
            record(session, "user.locked", actor=user, at=now, payload={"until": user.locked_until.isoformat()})
            _refuse(session, user, username, now, "wrong password; account locked",
                    message=locked_message(user.locked_until, now))
        left = MAX_FAILED - reserved
        _refuse(session, user, username, now, "wrong password",
                message=f"Wrong username or password. {left} more failed attempt{'s' if left != 1 else ''} "
                        f"will lock the account for {LOCK_FOR.seconds // 60} minutes.")
    session.execute(update(User).where(User.id == user.id).values(failed_logins=0, locked_until=None)
                    .execution_options(synchronize_session=False))
    session.refresh(user)
    record(session, "user.signed_in", actor=user, at=now)
    session.commit()
    return user


def reserve_attempt(session: Session, user_id: int, *, now: datetime) -> int | None:
    """Take the next place in the user's failed-attempt count, atomically, and commit: the count including this
    attempt, or None when the account is locked (no place is left). The attempt taking the last place locks the
    account at once; if its password is right, signing in clears the lock again. An expired lock starts a new
    count."""
    count = case((User.locked_until.is_(None), User.failed_logins + 1), else_=1)
    taken = session.execute(
        update(User).where(User.id == user_id, or_(User.locked_until.is_(None), User.locked_until <= now))
        .values(failed_logins=count, locked_until=case((count >= MAX_FAILED, literal(now + LOCK_FOR, UTCDateTime())),
                                                          else_=None))
        .returning(User.failed_logins).execution_options(synchronize_session=False)).scalar()
    session.commit()
    return taken


def sign_out(session: Session, user: User, *, now: datetime, secret: str | None = None) -> None:
    """Sign out: the server-side session the cookie's `secret` names ends (app/auth/user_sessions.py)."""
    end(session, secret, now=now, reason="signed_out")
    record(session, "user.signed_out", actor=user, at=now)
    session.commit()


def locked_message(until: datetime, now: datetime) -> str:
    minutes = max(1, int((until - now).total_seconds() + 59) // 60)
    return (f"This account is locked after {MAX_FAILED} failed sign-in attempts. Try again in {minutes} "
            f"minute{'s' if minutes != 1 else ''}, or ask an administrator.")


def _refuse(session, user, username, now, reason, message="Wrong username or password."):
    record(session, "user.sign_in_failed", actor=user, at=now,
           payload={"username": username[:80], "reason": reason})
    session.commit()
    raise SignInRefused(message)
