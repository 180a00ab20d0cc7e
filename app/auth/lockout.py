"""The lockout that makes guessing slow: wrong passwords and wrong second-factor codes share one count.

Five failures in a row lock the account for fifteen minutes. The lock holds under concurrency: an attempt first
reserves its place in the count with one atomic UPDATE (committed before the password or code is checked), and the
attempt that takes the last place sets the lock at once. So however many guesses arrive together, at most
MAX_FAILED are ever checked; the rest are refused as locked without a check. Success clears the count and the lock;
a right password that must still be followed by a code only gives its own place back (`give_back`), so knowing
the password does not reset the count for guessing codes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, literal, or_, update
from sqlalchemy.orm import Session

from ..db import UTCDateTime
from .models import User

MAX_FAILED = 5
LOCK_FOR = timedelta(minutes=15)


def reserve_attempt(session: Session, user_id: int, *, now: datetime) -> int | None:
    """Take the next place in the user's failed-attempt count, atomically, and commit: the count including this
    attempt, or None when the account is locked (no place is left). The attempt taking the last place locks the
    account at once; if it succeeds, `clear` (or `give_back`) lifts the lock again. An expired lock starts a new
    count."""
    count = case((User.locked_until.is_(None), User.failed_logins + 1), else_=1)
    taken = session.execute(
        update(User).where(User.id == user_id, or_(User.locked_until.is_(None), User.locked_until <= now))
        .values(failed_logins=count, locked_until=case((count >= MAX_FAILED, literal(now + LOCK_FOR, UTCDateTime())),
                                                          else_=None))
        .returning(User.failed_logins).execution_options(synchronize_session=False)).scalar()
    session.commit()
    return taken


def clear(session: Session, user_id: int) -> None:
    """The attempt succeeded: the count starts again and any lock is lifted (the caller commits)."""
    session.execute(update(User).where(User.id == user_id).values(failed_logins=0, locked_until=None)
                    .execution_options(synchronize_session=False))


def give_back(session: Session, user_id: int) -> None:
    """A right password that a second factor must follow: its own place in the count is returned (and the lock it
    may have set with the last place lifted), the failures before it stay (the caller commits)."""
    left = case((User.failed_logins > 0, User.failed_logins - 1), else_=0)
    session.execute(update(User).where(User.id == user_id)
                    .values(failed_logins=left, locked_until=case((left >= MAX_FAILED, User.locked_until), else_=None))
                    .execution_options(synchronize_session=False))


def locked_message(until: datetime, now: datetime) -> str:
    minutes = max(1, int((until - now).total_seconds() + 59) // 60)
    return (f"This account is locked after {MAX_FAILED} failed sign-in attempts. Try again in {minutes} "
            f"minute{'s' if minutes != 1 else ''}, or ask an administrator.")


def locked_until(session: Session, user: User, now: datetime) -> datetime:
    """When the lock on `user` ends (a refused attempt found it locked)."""
    session.refresh(user)
    return user.locked_until if user.locked_until is not None and user.locked_until > now else now + LOCK_FOR
