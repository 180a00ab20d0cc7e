"""The second factor: a TOTP authenticator app (RFC 6238, 30-second steps, a step either side accepted) with ten
single-use recovery codes, and the administrator's policy naming the roles that must use it.

Enrolling: `start` makes a secret (shown as a QR code and as text), `confirm` switches it on once a current code
is typed, and hands out the recovery codes, shown once (only hashes are kept). Turning it off and renewing the
recovery codes need a current code (or, to turn it off, a recovery code), and wrong ones count toward the account's
lockout (app/auth/lockout.py) like wrong passwords. Signing in with it: app/auth/signin.py.

A code is accepted once: the step it belongs to is written with one conditional UPDATE, so a code replayed (or
sent twice at the same moment) within its step is refused, and so is a code older than the last one used.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from ..audit.services import record
from ..db import unit_of_work
from ..errors import BadRequest
from . import lockout
from .models import ROLES, RecoveryCode, SecondFactorRole, TotpCredential, User

ISSUER = "collabflow"
WINDOW = 1  # steps either side of now: a phone's clock may be 30 seconds off
RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper without doubt


@dataclass(frozen=True)
class Enrolment:
    """A secret waiting for its first code: what the account page shows."""

    secret: str
    uri: str   # otpauth://totp/collabflow:<username>?secret=...&issuer=collabflow
    qr_svg: str  # the URI as an inline SVG QR code

    @property
    def grouped(self) -> str:
        """The secret in groups of four, to type into an app by hand."""
        return " ".join(self.secret[i:i + 4] for i in range(0, len(self.secret), 4))


@dataclass(frozen=True)
class State:
    enabled_at: datetime | None
    enrolment: Enrolment | None   # set while an enrolment waits for its first code
    codes_left: int


# ------------------------------------------------------------------------------------------------------ reading
def credential(session: Session, user: User) -> TotpCredential | None:
    return session.get(TotpCredential, user.id)


def enabled(session: Session, user: User) -> bool:
    row = credential(session, user)
    return row is not None and row.enabled_at is not None


def state(session: Session, user: User) -> State:
    row = credential(session, user)
    if row is None:
        return State(None, None, 0)
    if row.enabled_at is None:
        return State(None, _enrolment(user, row.secret), 0)
    return State(row.enabled_at, None, codes_left(session, user))


def codes_left(session: Session, user: User) -> int:
    return session.scalar(select(func.count()).select_from(RecoveryCode)
                          .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)))


def enabled_user_ids(session: Session) -> set[int]:
    """Who has a second factor switched on (the administration page's list)."""
    return set(session.scalars(select(TotpCredential.user_id).where(TotpCredential.enabled_at.is_not(None))))


def _enrolment(user: User, secret: str) -> Enrolment:
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
    svg = segno.make(uri, error="m").svg_inline(scale=4, title=f"QR code for {ISSUER}: {user.username}",
                                                svgclass="qr", lineclass=None)
    return Enrolment(secret, uri, svg)


# ------------------------------------------------------------------------------------------------------ policy
def required_roles(session: Session) -> set[str]:
    return set(session.scalars(select(SecondFactorRole.role)))


def required_for(session: Session, user: User) -> bool:
    """Does the policy require a second factor of `user` (one of their roles is named)?"""
    roles = user.roles
    return bool(roles) and session.scalar(select(SecondFactorRole.role)
                                          .where(SecondFactorRole.role.in_(roles)).limit(1)) is not None


def must_enrol(session: Session, user: User) -> bool:
    """The policy requires a second factor of `user` and they have none switched on: until they set one up,
    their browser session opens nothing but the enrolment (app/auth/pages.py)."""
    return required_for(session, user) and not enabled(session, user)


def set_required_roles(session: Session, roles, *, actor: User, now: datetime) -> tuple[set[str], set[str]]:
    """Require a second factor for exactly `roles` -> (before, after). Raises BadRequest for an unknown role.
    The caller checks the actor may; commits, with a `security.policy_changed` event when anything changed."""
    wanted = set(roles)
    unknown = sorted(wanted - set(ROLES))
    if unknown:
        raise BadRequest(f"unknown role(s) {', '.join(unknown)}; roles are {', '.join(ROLES)}",
                         {"required_roles": f"unknown: {', '.join(unknown)}"})
    with unit_of_work(session):
        before = required_roles(session)
        if wanted != before:
            session.execute(delete(SecondFactorRole).where(SecondFactorRole.role.in_(before - wanted)))
            session.add_all(SecondFactorRole(role=r, required_at=now, required_by_id=actor.id)
                            for r in sorted(wanted - before))
            record(session, "security.policy_changed", actor=actor, at=now, payload={
                "policy": "second_factor_roles", "before": sorted(before), "after": sorted(wanted)})
    return before, wanted


# ------------------------------------------------------------------------------------------------------ codes
def _normal(code: str) -> str:
    """A typed code as it is checked: ASCII letters (lower case) and digits only; spaces, dashes and anything
    else dropped."""
    return "".join(ch for ch in (code or "").lower()[:64] if ch in _ASCII)


_ASCII = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def _step_of(secret: str, code: str, now: datetime) -> int | None:
    """The time step (within WINDOW of now) whose code `code` is, or None."""
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now)
    found = None
    for offset in range(-WINDOW, WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step + offset), code):
            found = step + offset  # no early exit: every candidate is compared
    return found


def _take_step(session: Session, user: User, step: int) -> bool:
    """Accept `step` for `user` unless a code of this step (or a later one) was accepted before: atomic."""
    taken = session.execute(update(TotpCredential).where(
        TotpCredential.user_id == user.id, TotpCredential.enabled_at.is_not(None),
        or_(TotpCredential.last_step.is_(None), TotpCredential.last_step < step))
        .values(last_step=step).execution_options(synchronize_session=False)).rowcount
    return taken == 1


def _code_hash(user: User, code: str) -> str:
    return hashlib.sha256(f"{user.id}:{_normal(code)}".encode()).hexdigest()


def _use_recovery_code(session: Session, user: User, code: str, now: datetime) -> bool:
    used = session.execute(update(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _code_hash(user, code),
        RecoveryCode.used_at.is_(None)).values(used_at=now).execution_options(synchronize_session=False)).rowcount
    return used == 1


def use_code(session: Session, user: User, code: str, *, now: datetime, recovery: bool = True) -> str | None:
    """Check a code typed by `user` and use it up: "totp" (a current TOTP code, never accepted twice),
    "recovery_code" (one of their unused recovery codes, now used; `recovery=False` refuses them), or None.
    Records `user.recovery_code_used`; the caller commits."""
    row = credential(session, user)
    if row is None or row.enabled_at is None:
        return None
    typed = _normal(code)
    step = _step_of(row.secret, typed, now)
    if step is not None:
        return "totp" if _take_step(session, user, step) else None
    if recovery and len(typed) == 16 and _use_recovery_code(session, user, typed, now):
        record(session, "user.recovery_code_used", actor=user, at=now,
               payload={"username": user.username, "codes_left": codes_left(session, user)})
        return "recovery_code"
    return None


def _new_recovery_codes(session: Session, user: User, now: datetime) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(_ALPHABET) for _ in range(16)) for _ in range(RECOVERY_CODES)]
    session.add_all(RecoveryCode(user_id=user.id, code_hash=_code_hash(user, c), created_at=now) for c in codes)
    return ["-".join(c[i:i + 4] for i in range(0, 16, 4)) for c in codes]


# ------------------------------------------------------------------------------------------------------ actions
def start(session: Session, user: User, *, now: datetime) -> Enrolment:
    """A new secret for `user`, waiting for its first code (a waiting one is replaced). Raises BadRequest when
    a second factor is on already. Commits."""
    with unit_of_work(session):
        row = credential(session, user)
        if row is not None and row.enabled_at is not None:
            raise BadRequest("two-step sign-in is on already", {"totp": "on already"})
        secret = pyotp.random_base32()  # 32 base32 characters: 160 bits, as RFC 4226 recommends
        if row is None:
            session.add(TotpCredential(user_id=user.id, secret=secret, created_at=now))
        else:
            row.secret, row.created_at, row.last_step = secret, now, None
        record(session, "user.totp_setup_started", actor=user, at=now, payload={"username": user.username})
    return _enrolment(user, secret)


def cancel(session: Session, user: User, *, now: datetime) -> None:
    """Drop an enrolment that waits for its first code (a second factor that is on stays on). Commits."""
    with unit_of_work(session):
        dropped = session.execute(delete(TotpCredential).where(TotpCredential.user_id == user.id,
                                                               TotpCredential.enabled_at.is_(None))).rowcount
        if dropped:
            record(session, "user.totp_setup_cancelled", actor=user, at=now, payload={"username": user.username})


def confirm(session: Session, user: User, code: str, *, now: datetime) -> list[str]:
    """Switch the waiting secret on with a current code from the app -> the ten recovery codes, to show once.
    Raises BadRequest (no enrolment waiting, or the code is not the app's current one: nothing changes). Commits."""
    row = credential(session, user)
    if row is None or row.enabled_at is not None:
        raise BadRequest("start setting up two-step sign-in first", {"code": "nothing is waiting for a code"})
    step = _step_of(row.secret, _normal(code), now)
    if step is None:
        raise BadRequest("the code was not accepted", {"code": "This is not the code your app shows now: check "
                                                               "that the phone's clock is right, then type the "
                                                               "code shown."})
    with unit_of_work(session):
        row.enabled_at, row.last_step = now, step
        codes = _new_recovery_codes(session, user, now)
        record(session, "user.totp_enabled", actor=user, at=now, payload={"username": user.username})
    return codes


def _checked(session: Session, user: User, code: str, *, now: datetime, field: str, purpose: str,
             recovery: bool) -> str:
    """A code the user typed to confirm an account change, counted like a sign-in attempt -> how it was proven.
    Raises BadRequest naming `field` (wrong, locked); a wrong one is recorded as `user.totp_failed`."""
    if not enabled(session, user):
        raise BadRequest("two-step sign-in is not on", {field: "Two-step sign-in is not on."})
    reserved = lockout.reserve_attempt(session, user.id, now=now)
    if reserved is None:
        until = lockout.locked_until(session, user, now)
        raise BadRequest("locked", {field: lockout.locked_message(until, now)})
    method = use_code(session, user, code, now=now, recovery=recovery)
    if method is None:
        record(session, "user.totp_failed", actor=user, at=now, payload={"username": user.username,
                                                                        "purpose": purpose})
        message = "This code is wrong or used already."
        if reserved >= lockout.MAX_FAILED:
            until = lockout.locked_until(session, user, now)
            record(session, "user.locked", actor=user, at=now, payload={"until": until.isoformat()})
            message = lockout.locked_message(until, now)
        session.commit()
        raise BadRequest("the code was not accepted", {field: message})
    lockout.clear(session, user.id)
    return method


def disable(session: Session, user: User, code: str, *, now: datetime) -> None:
    """Switch the second factor off, proven with a current code or a recovery code; the recovery codes go too.
    Raises BadRequest (wrong code, locked, or the policy requires it for one of the user's roles). Commits."""
    if required_for(session, user):
        raise BadRequest("your role requires two-step sign-in",
                         {"off_code": "Your role requires two-step sign-in, so it stays on. Lost your phone? "
                                      "Use a recovery code to sign in, or ask an administrator to reset it."})
    method = _checked(session, user, code, now=now, field="off_code", purpose="disable", recovery=True)
    with unit_of_work(session):
        remove(session, user)
        record(session, "user.totp_disabled", actor=user, at=now, payload={"username": user.username,
                                                                          "proven_with": method})


def renew_recovery_codes(session: Session, user: User, code: str, *, now: datetime) -> list[str]:
    """Ten new recovery codes in place of the old ones, proven with a current TOTP code -> the codes, to show
    once. Raises BadRequest (wrong code, locked). Commits."""
    _checked(session, user, code, now=now, field="renew_code", purpose="renew_recovery_codes", recovery=False)
    with unit_of_work(session):
        codes = _new_recovery_codes(session, user, now)
        record(session, "user.recovery_codes_renewed", actor=user, at=now, payload={"username": user.username})
    return codes


def remove(session: Session, user: User) -> bool:
    """Delete `user`'s second factor and recovery codes -> whether they had one (on or waiting). The caller
    records and commits."""
    had = session.execute(delete(TotpCredential).where(TotpCredential.user_id == user.id)).rowcount
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    return bool(had)
