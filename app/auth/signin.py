"""Signing in: a password, then (for whoever has one on) a code from the second factor; and the lockout that makes
guessing either slow (app/auth/lockout.py: wrong passwords and wrong codes share one count, taken atomically).

Each attempt is one transaction and leaves an audit event, so an assessor can see who tried to get in and when.
A right password of a user with a second factor on signs nobody in: it says a code is due (`SignIn.code_due`),
and only `sign_in_with_code` completes the sign-in, once a current TOTP code or an unused recovery code is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.services import record
from ..errors import AppError
from . import lockout, second_factor
from .lockout import LOCK_FOR, MAX_FAILED, locked_message, reserve_attempt  # noqa: F401  (this module's surface)
from .models import User
from .services import hash_password, verify_password
from .user_sessions import end

_DUMMY_HASH = hash_password("collabflow: makes unknown users take as long as known ones")


class SignInRefused(AppError):
    code, status = "sign_in_refused", 401


@dataclass(frozen=True)
class SignIn:
    """The password was right. `code_due`: the user has a second factor on, so nobody is signed in yet."""

    user: User
    code_due: bool = False


def sign_in(session: Session, username: str, password: str, *, now: datetime,
            own_passwords_off: str | None = None) -> SignIn:
    """Check `username`'s password. `own_passwords_off`: the single sign-on provider's name when our own
    organisation's people must sign in there (partners' people keep their passwords). Raises SignInRefused (wrong,
    unknown, inactive, locked, or a password of our organisation while they are off)."""
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.is_active:
        verify_password(_DUMMY_HASH, password)
        _refuse(session, None, username, now, "unknown or inactive user")
    if own_passwords_off and not user.is_partner:
        _refuse(session, user, username, now, "password sign-in is off for our organisation",
                message=f"{user.organisation.name} signs in with {own_passwords_off}: use the "
                        f"\u201cSign in with {own_passwords_off}\u201d button. Passwords are for partners' people only.")
    reserved = reserve_attempt(session, user.id, now=now)
    if reserved is None:
        until = lockout.locked_until(session, user, now)
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
    if second_factor.enabled(session, user):
        lockout.give_back(session, user.id)  # earlier failures still count toward guessing the code
        session.refresh(user)
        record(session, "user.password_accepted", actor=user, at=now, payload={"code_due": True})
        session.commit()
        return SignIn(user, code_due=True)
    lockout.clear(session, user.id)
    session.refresh(user)
    record(session, "user.signed_in", actor=user, at=now)
    session.commit()
    return SignIn(user)


def sign_in_with_code(session: Session, user_id: int, code: str, *, now: datetime) -> User:
    """The second step, for the user whose password was right: a current TOTP code (accepted once) or an unused
    recovery code (used up). Wrong codes count toward the lockout like wrong passwords. Raises SignInRefused."""
    user = session.get(User, user_id)
    if user is None or not user.is_active or not second_factor.enabled(session, user):
        raise SignInRefused("Sign in again.")
    reserved = reserve_attempt(session, user.id, now=now)
    if reserved is None:
        until = lockout.locked_until(session, user, now)
        _refuse_code(session, user, now, "locked", locked_message(until, now))
    method = second_factor.use_code(session, user, code, now=now)
    if method is None:
        if reserved >= MAX_FAILED:
            until = lockout.locked_until(session, user, now)
            record(session, "user.locked", actor=user, at=now, payload={"until": until.isoformat()})
            _refuse_code(session, user, now, "wrong code; account locked", locked_message(until, now))
        left = MAX_FAILED - reserved
        _refuse_code(session, user, now, "wrong code",
                     f"This code is wrong or used already. {left} more failed attempt{'s' if left != 1 else ''} "
                     f"will lock the account for {LOCK_FOR.seconds // 60} minutes.")
    lockout.clear(session, user.id)
    session.refresh(user)
    record(session, "user.signed_in", actor=user, at=now, payload={"second_factor": method})
    session.commit()
    return user


def sign_out(session: Session, user: User, *, now: datetime, secret: str | None = None) -> None:
    """Sign out: the server-side session the cookie's `secret` names ends (app/auth/user_sessions.py)."""
    end(session, secret, now=now, reason="signed_out")
    record(session, "user.signed_out", actor=user, at=now)
    session.commit()


def _refuse(session, user, username, now, reason, message="Wrong username or password."):
    record(session, "user.sign_in_failed", actor=user, at=now,
           payload={"username": username[:80], "reason": reason})
    session.commit()
    raise SignInRefused(message)


def _refuse_code(session, user, now, reason, message):
    record(session, "user.totp_failed", actor=user, at=now, payload={"username": user.username, "reason": reason})
    session.commit()
    raise SignInRefused(message)
