"""Users, organisations and passwords (argon2)."""

from __future__ import annotations

from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.services import record
from ..db import unit_of_work
from ..errors import BadRequest
from . import user_sessions
from .models import ROLES, Organisation, User, UserRole

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def get_or_create_organisation(session: Session, name: str, kind: str = "own") -> Organisation:
    org = session.scalar(select(Organisation).where(Organisation.name == name))
    if org is None:
        if kind not in ("own", "partner"):
            raise BadRequest(f"organisation kind must be 'own' or 'partner', not {kind!r}", {"kind": kind})
        org = Organisation(name=name, kind=kind)
        session.add(org)
        session.flush()
    return org


def create_user(session: Session, username: str, *, password: str | None, roles: list[str] | tuple[str, ...],
                organisation: str = "Our organisation", organisation_kind: str = "own",
                display_name: str | None = None, email: str | None = None, actor=None) -> User:
    """Create a user with roles. Raises BadRequest for an unknown role or a taken username. Commits."""
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise BadRequest(f"unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}", {"roles": unknown})
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise BadRequest(f"the username {username!r} is taken", {"username": username})
    org = get_or_create_organisation(session, organisation, organisation_kind)
    user = User(username=username, display_name=display_name or username, email=email, organisation=org,
                password_hash=hash_password(password) if password else None)
    user.role_rows = [UserRole(role=r) for r in sorted(set(roles))]
    session.add(user)
    session.flush()
    record(session, "user.created", actor=actor, payload={"username": username, "roles": sorted(set(roles)),
                                                          "organisation": org.name})
    session.commit()
    return user


def get_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def set_password(session: Session, user: User, password: str, *, now: datetime, actor: User | None = None) -> int:
    """Give `user` a new password and end every session signed in with the old one -> how many ended."""
    if not password:
        raise BadRequest("give a password", {"password": "this field is required"})
    with unit_of_work(session):
        user.password_hash = hash_password(password)
        session.add(user)
        ended = user_sessions.end_all(session, user, now=now, reason="password_changed", actor=actor)
        record(session, "user.password_changed", actor=actor or user, at=now,
               payload={"username": user.username, "sessions_ended": ended})
    return ended


def deactivate_user(session: Session, user: User, *, now: datetime, actor: User | None = None) -> int:
    """Stop `user` signing in, and end every session they have -> how many ended. (Their API tokens stop
    working too: app/tokens refuses an inactive user.)"""
    with unit_of_work(session):
        user.is_active = False
        session.add(user)
        ended = user_sessions.end_all(session, user, now=now, reason="user_deactivated", actor=actor)
        record(session, "user.deactivated", actor=actor, at=now,
               payload={"username": user.username, "sessions_ended": ended})
    return ended


PASSWORD_MIN = 10


def weak_password(user: User, new: str) -> str | None:
    """Why `new` cannot be `user`'s password (too short, their username), or None: the one rule for every way a
    person sets a password (the account page, an invitation or a reset link)."""
    if len(new or "") < PASSWORD_MIN:
        return f"Use at least {PASSWORD_MIN} characters."
    if new.strip().lower() == user.username.lower():
        return "Your password cannot be your username."
    return None


def change_password(session: Session, user: User, current: str, new: str, confirm: str, *, now) -> None:
    """Change one's own password: the current one is required, the new one must be long enough, not the
    username, and typed twice alike. Raises BadRequest naming the field; nothing changes then. Commits."""
    errors = {}
    if not verify_password(user.password_hash, current or ""):
        errors["current_password"] = "This is not your current password."
    weak = weak_password(user, new)
    if weak:
        errors["new_password"] = weak
    elif new == current:
        errors["new_password"] = "Choose a password different from the current one."
    if not errors and new != confirm:
        errors["confirm_password"] = "The two new passwords differ."
    if errors:
        raise BadRequest("the password was not changed", errors)
    set_password(session, user, new, now=now)  # every session signed in with the old one ends, this one too
