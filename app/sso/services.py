"""Single sign-on as user actions: sign a person in from the provider's checked claims (find, link or create
their account; their roles follow the provider's groups), begin their session, and end it when the provider no
longer knows them. Each is one transaction with its audit events; no Flask here (app/sso/pages.py is the web side,
app/sso/provider.py talks to the provider).

A second factor is not asked of people signing in here: the provider asks for its own.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..audit.services import record
from ..auth import user_sessions
from ..auth.models import Organisation, User, UserRole, UserSession
from ..auth.services import get_or_create_organisation
from ..db import unit_of_work
from ..errors import AppError
from .models import SsoIdentity, SsoSession
from .provider import Active, OpenIdProvider, Refused, Unknown
from .settings import Settings

log = logging.getLogger(__name__)


class SsoRefused(AppError):
    """The provider signed the person in, but collabflow will not (no account, deactivated, no role)."""

    code, status = "sso_refused", 403


def groups_of(settings: Settings, claims: dict) -> list[str]:
    """The provider's groups of the person: the configured claim, a list of names (or one name)."""
    value = claims.get(settings.groups_claim)
    if isinstance(value, str):
        return [value]
    return [g for g in value if isinstance(g, str)] if isinstance(value, list) else []


def roles_for(settings: Settings, groups: list[str]) -> set[str]:
    return {role for group in groups for role in settings.group_roles.get(group, ())}


def organisation_for(settings: Settings, groups: list[str]) -> str | None:
    """The organisation of the first mapped group (in the mapping's order), else the default one."""
    for group, name in settings.group_organisations.items():
        if group in groups:
            return name
    return settings.default_organisation


def sign_in(session: Session, settings: Settings, claims: dict, *, now: datetime) -> User:
    """The user the provider's checked `claims` (ID token, then userinfo) stand for: found by (issuer, subject),
    else by a verified e-mail address when COLLABFLOW_OIDC_LINK_BY_EMAIL allows, else created when
    COLLABFLOW_OIDC_CREATE_USERS allows (roles and organisation from the mapped groups). Their roles are set from
    the groups at every sign-in. Raises SsoRefused (with an audit event) when none applies, the user is
    deactivated, or no group of theirs maps to a role. Commits."""
    issuer, subject = claims["iss"], str(claims["sub"])
    groups = groups_of(settings, claims)
    roles = roles_for(settings, groups)
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    identity = session.scalar(select(SsoIdentity).where(SsoIdentity.issuer == issuer,
                                                        SsoIdentity.subject == subject))
    created = False
    with unit_of_work(session):
        if identity is not None:
            user = session.get(User, identity.user_id)
        else:
            user = _by_email(session, settings, claims, email, now)
            if user is None and settings.create_users:
                if not roles:
                    _refuse(session, claims, now, "no mapped group",
                            f"None of your groups at {settings.provider_name} gives a role in collabflow, so no "
                            "account was made. Ask an administrator to add you to a group collabflow knows.")
                user = _create(session, settings, claims, groups, roles, email, now)
                created = True
            if user is None:
                _refuse(session, claims, now, "no account",
                        f"You signed in at {settings.provider_name}, but no collabflow account belongs to you"
                        f"{f' ({email})' if email else ''}. Ask an administrator to invite you.")
            identity = SsoIdentity(user_id=user.id, issuer=issuer, subject=subject, email=email, created_at=now)
            session.add(identity)
            if not created:
                record(session, "user.sso_linked", actor=user, at=now,
                       payload={"username": user.username, "issuer": issuer, "subject": subject, "email": email})
        if not user.is_active:
            _refuse(session, claims, now, "deactivated",
                    "Your collabflow account is deactivated. Ask an administrator if you need it again.", user=user)
        if not roles:
            _refuse(session, claims, now, "no mapped group",
                    f"None of your groups at {settings.provider_name} gives a role in collabflow any more. Ask an "
                    "administrator to add you to a group collabflow knows.", user=user)
        before = user.roles
        if before != roles:
            user.role_rows = [r for r in user.role_rows if r.role in roles] + [
                UserRole(role=r) for r in sorted(roles - before)]
            record(session, "user.roles_changed", actor=user, at=now,
                   payload={"username": user.username, "before": sorted(before), "after": sorted(roles),
                            "by": "single sign-on groups", "groups": groups[:50]})
        identity.last_sign_in_at = now
        identity.email = email
        record(session, "user.sso_signed_in", actor=user, at=now,
               payload={"issuer": issuer, "subject": subject, "roles": sorted(roles), "created": created})
    return user


def _by_email(session, settings, claims, email, now) -> User | None:
    """Only a verified address, only when allowed, and only when exactly one user has it."""
    if not settings.link_by_email or not email or claims.get("email_verified") is not True:
        return None
    found = list(session.scalars(select(User).where(func.lower(User.email) == email.strip().lower()).limit(2)))
    if len(found) > 1:
        _refuse(session, claims, now, "e-mail shared",
                f"More than one collabflow account has the address {email}, so none was chosen. Ask an "
                "administrator to sort it out.")
    return found[0] if found else None


def _create(session, settings, claims, groups, roles, email, now) -> User:
    name = organisation_for(settings, groups)
    if name is None:
        _refuse(session, claims, now, "no organisation",
                f"None of your groups at {settings.provider_name} names your organisation in collabflow, so no "
                "account was made. Ask an administrator.")
    organisation = session.scalar(select(Organisation).where(Organisation.name == name))
    organisation = organisation or get_or_create_organisation(session, name, "own")
    user = User(username=_free_username(session, claims, email), organisation=organisation, email=email,
                display_name=str(claims.get("name") or claims.get("preferred_username") or email or claims["sub"])[:200],
                password_hash=None)
    user.role_rows = [UserRole(role=r) for r in sorted(roles)]
    session.add(user)
    session.flush()
    record(session, "user.created_by_sso", actor=user, at=now,
           payload={"username": user.username, "roles": sorted(roles), "organisation": organisation.name,
                    "issuer": claims["iss"], "subject": str(claims["sub"]), "groups": groups[:50]})
    return user


def _free_username(session, claims, email) -> str:
    wanted = claims.get("preferred_username") or (email.split("@")[0] if email else None) or f"sso-{claims['sub']}"
    base = re.sub(r"[^\w.@+-]+", "-", str(wanted)).strip("-")[:70] or "sso-user"
    name, n = base, 1
    while session.scalar(select(User.id).where(User.username == name)) is not None:
        n += 1
        name = f"{base}-{n}"
    return name


def _refuse(session, claims, now, reason, message, user=None):
    """Stop: the block's unit of work rolls back what it did; the page records the refusal (`refused`) with the
    error's `errors` as its payload."""
    raise SsoRefused(message, {"issuer": claims.get("iss"), "subject": str(claims.get("sub")), "reason": reason,
                               "username": getattr(user, "username", None)})


def refused(session: Session, *, reason: str, now: datetime, payload: dict | None = None) -> None:
    """A single sign-on that signed nobody in, in the audit trail (the provider's answer failed its checks, or
    collabflow refused the person). Commits."""
    with unit_of_work(session):
        record(session, "user.sso_refused", at=now, payload={"reason": reason[:300], **(payload or {})})


def begin(session: Session, user: User, *, issuer: str, access_token: str, refresh_token: str | None,
          now: datetime, user_agent: str | None = None, ip: str | None = None) -> str:
    """A browser session for `user` that began at the provider -> the cookie's secret. Commits."""
    with unit_of_work(session):
        row, secret = user_sessions.add(session, user, now=now, user_agent=user_agent, ip=ip)
        session.add(SsoSession(user_session_id=row.id, issuer=issuer, access_token=access_token,
                               refresh_token=refresh_token, checked_at=now))
    return secret


def _of(session: Session, secret: str | None) -> SsoSession | None:
    if not secret:
        return None
    return session.scalar(select(SsoSession).join(UserSession, UserSession.id == SsoSession.user_session_id)
                          .where(UserSession.token_hash == user_sessions.digest(secret),
                                 UserSession.ended_at.is_(None)))


def began_at_provider(session: Session, secret: str | None) -> bool:
    """Did the live session `secret` names begin at the provider (so its second factor was the provider's)?"""
    return _of(session, secret) is not None


def check(session: Session, settings: Settings, provider: OpenIdProvider, user: User, secret: str | None, *,
          now: datetime) -> bool:
    """Is the person of this session still known to the provider? Asked of a session that began there at most
    once every `settings.check_every`. A refusal ends the session (a `user.session_ended` event, reason
    `provider_refused`) -> False; True otherwise (not an SSO session, checked recently, or the provider could not
    be reached: it is asked again next time). Commits what it changes."""
    row = _of(session, secret)
    if row is None or now - row.checked_at < settings.check_every:
        return True
    answer = provider.still_active(row.access_token, row.refresh_token)
    with unit_of_work(session):
        if isinstance(answer, Refused):
            user_sessions.end(session, secret, now=now, reason="provider_refused")
            record(session, "user.session_ended", actor=user, at=now,
                   payload={"session_id": row.user_session_id, "user": user.username, "reason": "provider_refused",
                            "provider": answer.reason})
            return False
        row.checked_at = now
        if isinstance(answer, Unknown):
            log.warning("single sign-on: could not ask the provider about %s (%s); asked again at the next check",
                        user.username, answer.reason)
        if isinstance(answer, Active):
            row.access_token, row.refresh_token = answer.access_token, answer.refresh_token
    return True
