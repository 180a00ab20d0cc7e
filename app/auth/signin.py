"""Signing in with a password, and the lockout that makes guessing one slow.

Five wrong passwords in a row lock the account for fifteen minutes. Each attempt is one transaction
and leaves an audit event, so an assessor can see who tried to get in and when.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.services import record
from ..errors import AppError
from .models import User
from .services import hash_password, verify_password

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
    if user.locked_until is not None and user.locked_until > now:
        _refuse(session, user, username, now, "locked", message=locked_message(user.locked_until, now))
    if not verify_password(user.password_hash, password):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILED:
            user.failed_logins = 0
            user.locked_until = now + LOCK_FOR
            record(session, "user.locked", actor=user, at=now, payload={"until": user.locked_until.isoformat()})
            _refuse(session, user, username, now, "wrong password; account locked",
                    message=locked_message(user.locked_until, now))
        left = MAX_FAILED - user.failed_logins
        _refuse(session, user, username, now, "wrong password",
                message=f"Wrong username or password. {left} more failed attempt{'s' if left != 1 else ''} "
                        f"will lock the account for {LOCK_FOR.seconds // 60} minutes.")
    user.failed_logins = 0
    user.locked_until = None
    record(session, "user.signed_in", actor=user, at=now)
    session.commit()
    return user


def sign_out(session: Session, user: User, *, now: datetime) -> None:
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
