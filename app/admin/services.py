"""Organisations and people, administered: add organisations, invite people with a one-time link that sets their
password, send a password reset, deactivate and reactivate; which roles must sign in with a second factor, and
resetting a person's second factor (a lost phone). Every action is an audit event; a refusal names the field and
changes nothing."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..audit.services import record
from ..auth import second_factor, user_sessions
from ..auth.models import ROLES, AccountLink, Organisation, RelationshipPartner, User, UserRole
from ..auth.permissions import Permission, require
from ..auth.services import deactivate_user, set_password, weak_password
from ..db import unit_of_work
from ..errors import BadRequest, NotFound
from ..notifications.services import MailSettings, queue_email
from ..tokens.models import ApiToken

INVITE_VALID = timedelta(days=7)
RESET_VALID = timedelta(hours=24)
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class OrganisationRow:
    organisation: Organisation
    people: int
    sers: list[str]  # the active SERs, by name
    relationships: int


def organisations(session: Session, actor: User) -> list[OrganisationRow]:
    require(actor, Permission.ADMINISTER_USERS, "only administrators manage organisations")
    rows = []
    for org in session.scalars(select(Organisation).order_by(Organisation.kind.desc(), Organisation.name)):
        people = session.scalar(select(func.count()).select_from(User).where(User.organisation_id == org.id))
        sers = session.scalars(select(User.display_name).join(UserRole, UserRole.user_id == User.id).where(
            User.organisation_id == org.id, UserRole.role == "ser", User.is_active.is_(True))
            .order_by(User.display_name)).all()
        relationships = session.scalar(select(func.count()).select_from(RelationshipPartner).where(
            RelationshipPartner.organisation_id == org.id))
        rows.append(OrganisationRow(org, people, list(sers), relationships))
    return rows


def people(session: Session, actor: User) -> list[User]:
    require(actor, Permission.ADMINISTER_USERS, "only administrators manage people")
    return list(session.scalars(select(User).order_by(User.is_active.desc(), User.display_name)))


def add_organisation(session: Session, actor: User, *, name: str, kind: str, contact_email: str = "",
                     now: datetime) -> Organisation:
    require(actor, Permission.ADMINISTER_USERS, "only administrators manage organisations")
    name, contact_email = (name or "").strip(), (contact_email or "").strip()
    errors = {}
    if not name or len(name) > 200:
        errors["name"] = "Name the organisation (up to 200 characters)."
    elif session.scalar(select(Organisation.id).where(func.lower(Organisation.name) == name.lower())):
        errors["name"] = f"{name!r} exists already."
    if kind not in ("partner", "own"):
        errors["kind"] = "An organisation is ours or a partner."
    if contact_email and not EMAIL.match(contact_email):
        errors["contact_email"] = "This is not an e-mail address."
    if errors:
        raise BadRequest("the organisation was not added", errors)
    with unit_of_work(session):
        org = Organisation(name=name, kind=kind, contact_email=contact_email or None, created_at=now)
        session.add(org)
        session.flush()
        record(session, "organisation.added", actor=actor, at=now,
               payload={"organisation_id": org.id, "name": name, "kind": kind})
    return org


def set_organisation_active(session: Session, actor: User, organisation_id: int, active: bool, *,
                            now: datetime) -> Organisation:
    require(actor, Permission.ADMINISTER_USERS, "only administrators manage organisations")
    with unit_of_work(session):
        org = session.get(Organisation, organisation_id)
        if org is None:
            raise NotFound(f"organisation {organisation_id} does not exist")
        if org.kind == "own" and not active:
            raise BadRequest("our own organisation cannot be deactivated", {"active": "ours"})
        org.active = active
        record(session, "organisation.activated" if active else "organisation.deactivated", actor=actor, at=now,
               payload={"organisation_id": org.id, "name": org.name})
    return org


@dataclass
class Link:
    user: User
    url: str  # shown to the administrator once (in case the e-mail does not arrive)
    emailed: bool


def _link(session: Session, actor: User, user: User, purpose: str, now: datetime, base_url: str) -> str:
    secret = secrets.token_urlsafe(32)
    session.execute(update(AccountLink).where(AccountLink.user_id == user.id, AccountLink.used_at.is_(None))
                    .values(used_at=now))  # an earlier link stops working
    session.add(AccountLink(user_id=user.id, purpose=purpose, token_hash=_digest(secret), created_at=now,
                            expires_at=now + (INVITE_VALID if purpose == "invite" else RESET_VALID),
                            created_by_id=actor.id))
    return f"{base_url.rstrip('/')}/welcome/{secret}"


def invite(session: Session, actor: User, *, username: str, display_name: str, email: str, roles: list[str],
           organisation_id: int | None, now: datetime, mail: MailSettings | None, base_url: str) -> Link:
    """Add a person without a password and send them a one-time link to set it (valid 7 days)."""
    require(actor, Permission.ADMINISTER_USERS, "only administrators invite people")
    username, display_name, email = (username or "").strip().lower(), (display_name or "").strip(), \
        (email or "").strip()
    errors = {}
    if not USERNAME.match(username):
        errors["username"] = "2 to 80 lower-case letters, digits, dots, dashes or underscores."
    elif session.scalar(select(User.id).where(User.username == username)):
        errors["username"] = f"{username!r} is taken."
    if not display_name or len(display_name) > 200:
        errors["display_name"] = "Give the person's name (up to 200 characters)."
    if not EMAIL.match(email):
        errors["email"] = "An invitation needs an e-mail address."
    unknown = sorted(set(roles) - set(ROLES))
    if not roles or unknown:
        errors["roles"] = f"Choose one or more of: {', '.join(ROLES)}."
    org = session.get(Organisation, organisation_id) if organisation_id else None
    if org is None or not org.active:
        errors["organisation"] = "Choose an active organisation."
    elif org.kind == "partner" and set(roles) - {"ser", "jmt", "staff"}:
        errors["roles"] = "A partner's people are SERs, joint management team members or staff."
    if errors:
        raise BadRequest("the person was not invited", errors)
    with unit_of_work(session):
        user = User(username=username, display_name=display_name, email=email, organisation=org,
                    password_hash=None, created_at=now)
        user.role_rows = [UserRole(role=r) for r in sorted(set(roles))]
        session.add(user)
        session.flush()
        url = _link(session, actor, user, "invite", now, base_url)
        emailed = queue_email(session, mail, to=email, subject="You are invited to collabflow", now=now,
                              body=f"Hello {display_name},\n\n{actor.display_name} invited you to collabflow "
                                   f"({org.name}) as {', '.join(sorted(roles))}.\nSet your password here (the "
                                   f"link works once, for 7 days):\n\n{url}\n\n-- collabflow\n")
        record(session, "user.invited", actor=actor, at=now, payload={
            "user_id": user.id, "username": username, "roles": sorted(set(roles)), "organisation": org.name})
    return Link(user, url, emailed)


def send_reset(session: Session, actor: User, user_id: int, *, now: datetime, mail: MailSettings | None,
               base_url: str) -> Link:
    require(actor, Permission.ADMINISTER_USERS, "only administrators reset passwords")
    with unit_of_work(session):
        user = session.get(User, user_id)
        if user is None:
            raise NotFound(f"user {user_id} does not exist")
        if not user.is_active:
            raise BadRequest("reactivate the person first", {"user": "deactivated"})
        url = _link(session, actor, user, "reset", now, base_url)
        emailed = queue_email(session, mail, to=user.email, subject="Set a new collabflow password", now=now,
                              body=f"Hello {user.display_name},\n\nSet a new password here (the link works once, "
                                   f"for 24 hours):\n\n{url}\n\n-- collabflow\n")
        record(session, "user.password_reset_sent", actor=actor, at=now,
               payload={"user_id": user.id, "username": user.username})
    return Link(user, url, emailed)


def set_active(session: Session, actor: User, user_id: int, active: bool, *, now: datetime) -> User:
    """Deactivate (they can no longer sign in: their sessions end and their API tokens are revoked, at once) or
    reactivate a person."""
    require(actor, Permission.ADMINISTER_USERS, "only administrators deactivate people")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    if user.id == actor.id and not active:
        raise BadRequest("you cannot deactivate yourself", {"user": "yourself"})
    if not active:
        with unit_of_work(session):
            revoked = session.execute(update(ApiToken).where(ApiToken.user_id == user.id,
                                                             ApiToken.revoked_at.is_(None))
                                      .values(revoked_at=now)).rowcount
            if revoked:
                record(session, "api.tokens_revoked", actor=actor, at=now,
                       payload={"user_id": user.id, "username": user.username, "tokens_revoked": revoked})
        deactivate_user(session, user, now=now, actor=actor)  # ends every session (audited there)
        return user
    with unit_of_work(session):
        user.is_active = True
        record(session, "user.reactivated", actor=actor, at=now, payload={"user_id": user.id,
                                                                          "username": user.username})
    return user


def valid_link(session: Session, secret: str, *, now: datetime) -> AccountLink | None:
    if not secret or len(secret) > 100:
        return None
    link = session.scalar(select(AccountLink).where(AccountLink.token_hash == _digest(secret)))
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    return link


def use_link(session: Session, secret: str, new: str, confirm: str, *, now: datetime) -> User:
    """Set the password through a one-time link. Raises NotFound (unknown, used or expired), BadRequest."""
    link = valid_link(session, secret, now=now)
    if link is None:
        raise NotFound("this link is unknown, used or expired: ask an administrator for a new one")
    user = session.get(User, link.user_id)
    errors = {}
    weak = weak_password(user, new)
    if weak:
        errors["new_password"] = weak
    elif new != confirm:
        errors["confirm_password"] = "The two passwords differ."
    if not user.is_active:
        errors["new_password"] = "This account is deactivated."
    if errors:
        raise BadRequest("the password was not set", errors)
    link.used_at = now
    user.failed_logins, user.locked_until = 0, None
    record(session, "user.password_set", actor=user, at=now, payload={"username": user.username,
                                                                      "through": link.purpose})
    set_password(session, user, new, now=now, actor=user)  # one commit with the above; old sessions end
    return user


def second_factor_policy(session: Session, actor: User) -> set[str]:
    """The roles whose people must sign in with a second factor."""
    require(actor, Permission.ADMINISTER_USERS, "only administrators see the sign-in policy")
    return second_factor.required_roles(session)


def set_second_factor_policy(session: Session, actor: User, roles, *, now: datetime) -> set[str]:
    """Require a second factor for exactly `roles` (any of ROLES) -> the roles now required. Their people without
    one are sent to set it up after their password, and their browser sessions open nothing else until they have
    (API tokens they made keep working). Raises BadRequest naming an unknown role. Audited when it changes."""
    require(actor, Permission.ADMINISTER_USERS, "only administrators set the sign-in policy")
    _before, after = second_factor.set_required_roles(session, roles, actor=actor, now=now)
    return after


def reset_second_factor(session: Session, actor: User | None, user_id: int, *, now: datetime) -> User:
    """Remove a person's second factor and recovery codes (a lost phone) and end every session they have: they
    sign in with their password again, and set a new one up (at once, if their role requires it). `actor` None is
    the command line (`collabflow reset-second-factor`, for the last administrator's lost phone). Raises NotFound,
    BadRequest (they have none; or it is the administrator's own, which they turn off on their account page)."""
    require(actor, Permission.ADMINISTER_USERS, "only administrators reset a second factor")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    if actor is not None and user.id == actor.id:
        raise BadRequest("reset your own two-step sign-in on your account page, with a code",
                         {"user": "yourself"})
    with unit_of_work(session):
        if not second_factor.remove(session, user):
            raise BadRequest(f"{user.display_name} has no two-step sign-in to reset", {"user": "none"})
        ended = user_sessions.end_all(session, user, now=now, reason="second_factor_reset", actor=actor)
        record(session, "user.totp_reset", actor=actor, at=now, payload={
            "user_id": user.id, "username": user.username, "sessions_ended": ended})
    return user
