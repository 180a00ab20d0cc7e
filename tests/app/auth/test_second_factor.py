"""Issue 18: the second factor as services, on an explicit clock (codes made with pyotp for that moment, `now=`
given to every service): enrolling needs a current code and hands out ten single-use recovery codes; signing in
asks for a code after the password; a code is accepted once; wrong codes count toward the password lockout; the
policy requires it for roles; an administrator resets it and the person's sessions end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import select

from app.admin import services as admin
from app.audit.models import AuditEvent
from app.auth import second_factor, user_sessions
from app.auth.models import RecoveryCode, TotpCredential, User, UserSession
from app.auth.signin import MAX_FAILED, SignInRefused, sign_in, sign_in_with_code
from app.errors import BadRequest, Forbidden
from tests.support.web import PASSWORD, set_password

T0 = datetime(2026, 3, 2, 9, 0, 10, tzinfo=UTC)  # 10 s into a 30-second step
STEP = timedelta(seconds=30)


def enrol(session, user, now=T0) -> tuple[pyotp.TOTP, list[str]]:
    """Switch `user`'s second factor on through the services -> (their authenticator, their recovery codes)."""
    enrolment = second_factor.start(session, user, now=now)
    totp = pyotp.TOTP(enrolment.secret)
    return totp, second_factor.confirm(session, user, totp.at(now), now=now)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def actions(session, prefix="user.totp") -> list[str]:
    return list(session.scalars(select(AuditEvent.action).where(AuditEvent.action.like(f"{prefix}%"))
                                .order_by(AuditEvent.id)))


@pytest.fixture
def staff(session, users):
    set_password(session, users["staff"])
    return users["staff"]


def test_enrolling_needs_a_current_code_and_hands_out_ten_recovery_codes_once(session, staff):
    enrolment = second_factor.start(session, staff, now=T0)
    assert enrolment.uri.startswith("otpauth://totp/collabflow:staff?secret=") and enrolment.secret in enrolment.uri
    assert enrolment.qr_svg.startswith("<svg") and "<path" in enrolment.qr_svg
    assert enrolment.grouped.replace(" ", "") == enrolment.secret
    totp = pyotp.TOTP(enrolment.secret)
    with pytest.raises(BadRequest) as refused:
        second_factor.confirm(session, staff, wrong(totp.at(T0)), now=T0)
    assert "code" in refused.value.errors
    with pytest.raises(BadRequest):  # a code from five minutes ago is not the app's current one
        second_factor.confirm(session, staff, totp.at(T0 - 10 * STEP), now=T0)
    assert not second_factor.enabled(session, staff)
    assert sign_in(session, "staff", PASSWORD, now=T0).code_due is False  # waiting is not on

    codes = second_factor.confirm(session, staff, totp.at(T0 + STEP), now=T0)  # a phone 30 s ahead: accepted
    assert second_factor.enabled(session, staff) and len(codes) == len(set(codes)) == 10
    stored = session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == staff.id)).all()
    assert len(stored) == 10 and not set(stored) & set(codes) and not {c.replace("-", "") for c in codes} & set(stored)
    assert second_factor.state(session, staff).codes_left == 10
    with pytest.raises(BadRequest):  # on already: no second secret
        second_factor.start(session, staff, now=T0)
    assert actions(session) == ["user.totp_setup_started", "user.totp_enabled"]


def test_a_waiting_enrolment_can_be_cancelled_or_started_again(session, staff):
    first = second_factor.start(session, staff, now=T0)
    second = second_factor.start(session, staff, now=T0)
    assert first.secret != second.secret
    with pytest.raises(BadRequest):  # the first secret was replaced
        second_factor.confirm(session, staff, pyotp.TOTP(first.secret).at(T0), now=T0)
    second_factor.cancel(session, staff, now=T0)
    assert session.get(TotpCredential, staff.id) is None
    assert actions(session) == ["user.totp_setup_started"] * 2 + ["user.totp_setup_cancelled"]


def test_signing_in_asks_for_a_code_after_the_password_and_accepts_each_code_once(session, staff):
    totp, _codes = enrol(session, staff)
    later = T0 + 2 * STEP
    result = sign_in(session, "staff", PASSWORD, now=later)
    assert result.code_due and result.user.id == staff.id
    assert "user.signed_in" not in actions(session, "user.")
    with pytest.raises(SignInRefused, match="wrong or used already"):
        sign_in_with_code(session, staff.id, wrong(totp.at(later)), now=later)
    assert sign_in_with_code(session, staff.id, totp.at(later), now=later).id == staff.id
    with pytest.raises(SignInRefused, match="wrong or used already"):  # replayed in its own step
        sign_in_with_code(session, staff.id, totp.at(later), now=later + timedelta(seconds=5))
    with pytest.raises(SignInRefused):  # still inside the window a step later: still used
        sign_in_with_code(session, staff.id, totp.at(later), now=later + STEP)
    with pytest.raises(SignInRefused):  # an older code, though inside the window
        sign_in_with_code(session, staff.id, totp.at(later - STEP), now=later)
    assert sign_in_with_code(session, staff.id, totp.at(later + STEP), now=later + STEP).id == staff.id
    signed = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.signed_in")).all()
    assert [e.payload for e in signed] == [{"second_factor": "totp"}] * 2
    assert actions(session) == ["user.totp_setup_started", "user.totp_enabled"] + ["user.totp_failed"] * 4


def test_the_code_enrolment_accepted_signs_nobody_in_again(session, staff):
    totp, _codes = enrol(session, staff)
    sign_in(session, "staff", PASSWORD, now=T0)
    with pytest.raises(SignInRefused):
        sign_in_with_code(session, staff.id, totp.at(T0), now=T0)


def test_a_recovery_code_signs_in_once(session, staff):
    _totp, codes = enrol(session, staff)
    code = codes[3]
    sign_in(session, "staff", PASSWORD, now=T0)
    assert sign_in_with_code(session, staff.id, code.upper().replace("-", " "), now=T0).id == staff.id
    with pytest.raises(SignInRefused, match="wrong or used already"):
        sign_in_with_code(session, staff.id, code, now=T0 + STEP)
    assert second_factor.state(session, staff).codes_left == 9
    used = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.recovery_code_used")).one()
    assert used.payload == {"username": "staff", "codes_left": 9}
    signed = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.signed_in")).one()
    assert signed.payload == {"second_factor": "recovery_code"}


def test_wrong_codes_lock_the_account_like_wrong_passwords(session, staff):
    totp, _codes = enrol(session, staff)
    assert sign_in(session, "staff", PASSWORD, now=T0).code_due
    for attempt in range(MAX_FAILED - 1):
        with pytest.raises(SignInRefused, match=f"{MAX_FAILED - 1 - attempt} more failed attempt"):
            sign_in_with_code(session, staff.id, "000000" if totp.at(T0) != "000000" else "111111", now=T0)
    assert sign_in(session, "staff", PASSWORD, now=T0).code_due  # the right password does not reset the count
    with pytest.raises(SignInRefused, match="locked after 5 failed sign-in attempts. Try again in 15 minutes"):
        sign_in_with_code(session, staff.id, wrong(totp.at(T0)), now=T0)
    with pytest.raises(SignInRefused, match="locked"):  # the right code, while locked: not even checked
        sign_in_with_code(session, staff.id, totp.at(T0 + STEP), now=T0 + STEP)
    with pytest.raises(SignInRefused, match="locked"):  # and the right password neither
        sign_in(session, "staff", PASSWORD, now=T0 + timedelta(minutes=14))
    unlocked = T0 + timedelta(minutes=16)
    assert sign_in(session, "staff", PASSWORD, now=unlocked).code_due
    assert sign_in_with_code(session, staff.id, totp.at(unlocked), now=unlocked).id == staff.id
    session.refresh(staff)
    assert staff.failed_logins == 0 and staff.locked_until is None
    assert "user.locked" in actions(session, "user.")


def test_wrong_passwords_and_wrong_codes_share_one_count(session, staff):
    totp, _codes = enrol(session, staff)
    for _ in range(2):
        with pytest.raises(SignInRefused):
            sign_in(session, "staff", "not it", now=T0)
    assert sign_in(session, "staff", PASSWORD, now=T0).code_due
    session.refresh(staff)
    assert staff.failed_logins == 2  # the right password gave its own place back, not the others'
    for _ in range(2):
        with pytest.raises(SignInRefused, match="more failed attempt"):
            sign_in_with_code(session, staff.id, wrong(totp.at(T0)), now=T0)
    with pytest.raises(SignInRefused, match="locked"):
        sign_in_with_code(session, staff.id, wrong(totp.at(T0)), now=T0)


def test_a_right_password_on_the_last_place_leaves_room_for_the_code(session, staff):
    totp, _codes = enrol(session, staff)
    for _ in range(MAX_FAILED - 1):
        with pytest.raises(SignInRefused):
            sign_in(session, "staff", "not it", now=T0)
    assert sign_in(session, "staff", PASSWORD, now=T0).code_due  # took the last place, then gave it back
    later = T0 + STEP
    assert sign_in_with_code(session, staff.id, totp.at(later), now=later).id == staff.id


def test_turning_it_off_needs_a_code_or_a_recovery_code(session, staff):
    totp, codes = enrol(session, staff)
    with pytest.raises(BadRequest) as refused:
        second_factor.disable(session, staff, wrong(totp.at(T0 + STEP)), now=T0 + STEP)
    assert "off_code" in refused.value.errors and second_factor.enabled(session, staff)
    second_factor.disable(session, staff, codes[0], now=T0 + STEP)
    assert not second_factor.enabled(session, staff)
    assert session.scalar(select(RecoveryCode.id).where(RecoveryCode.user_id == staff.id)) is None
    assert sign_in(session, "staff", PASSWORD, now=T0 + STEP).code_due is False
    assert actions(session) == ["user.totp_setup_started", "user.totp_enabled", "user.totp_failed",
                                "user.totp_disabled"]


def test_new_recovery_codes_need_a_current_code_and_replace_the_old_ones(session, staff):
    totp, old = enrol(session, staff)
    later = T0 + STEP
    with pytest.raises(BadRequest) as refused:  # a recovery code does not renew the recovery codes
        second_factor.renew_recovery_codes(session, staff, old[0], now=later)
    assert "renew_code" in refused.value.errors
    new = second_factor.renew_recovery_codes(session, staff, totp.at(later), now=later)
    assert len(new) == 10 and not set(new) & set(old)
    sign_in(session, "staff", PASSWORD, now=later)
    with pytest.raises(SignInRefused):
        sign_in_with_code(session, staff.id, old[1], now=later)
    assert sign_in_with_code(session, staff.id, new[1], now=later).id == staff.id
    assert "user.recovery_codes_renewed" in actions(session, "user.")


def test_the_policy_requires_a_second_factor_for_the_roles_it_names(session, users):
    with pytest.raises(Forbidden):
        admin.set_second_factor_policy(session, users["ser"], ["ser"], now=T0)
    with pytest.raises(BadRequest) as refused:
        admin.set_second_factor_policy(session, users["admin"], ["ser", "janitor"], now=T0)
    assert "janitor" in refused.value.errors["required_roles"]
    assert admin.second_factor_policy(session, users["admin"]) == set()
    assert admin.set_second_factor_policy(session, users["admin"], ["ser", "process_owner", "admin"],
                                          now=T0) == {"ser", "process_owner", "admin"}
    admin.set_second_factor_policy(session, users["admin"], ["ser", "process_owner", "admin"], now=T0)  # no change
    assert second_factor.must_enrol(session, users["ser"]) and second_factor.must_enrol(session, users["owner"])
    assert second_factor.must_enrol(session, users["pser"])  # a partner's SER is an SER
    assert not second_factor.must_enrol(session, users["staff"]) and not second_factor.must_enrol(session,
                                                                                                users["assessor"])
    enrol(session, users["ser"])
    assert not second_factor.must_enrol(session, users["ser"])
    with pytest.raises(BadRequest, match="requires"):  # required: it stays on
        second_factor.disable(session, users["ser"], "whatever", now=T0)
    changed = session.scalars(select(AuditEvent).where(AuditEvent.action == "security.policy_changed")).one()
    assert changed.payload == {"policy": "second_factor_roles", "before": [],
                               "after": ["admin", "process_owner", "ser"]}
    admin.set_second_factor_policy(session, users["admin"], [], now=T0)
    assert not second_factor.must_enrol(session, users["owner"])


def test_an_administrator_resets_a_lost_second_factor_and_the_sessions_end(session, users, staff):
    totp, _codes = enrol(session, staff)
    secret = user_sessions.begin(session, staff, now=T0)
    limits = user_sessions.Limits()
    assert user_sessions.current(session, secret, now=T0, limits=limits).id == staff.id
    with pytest.raises(Forbidden):
        admin.reset_second_factor(session, users["ser"], staff.id, now=T0)
    with pytest.raises(BadRequest):
        admin.reset_second_factor(session, users["admin"], users["admin"].id, now=T0)
    admin.reset_second_factor(session, users["admin"], staff.id, now=T0 + STEP)
    assert user_sessions.current(session, secret, now=T0 + STEP, limits=limits) is None
    ended = session.scalars(select(UserSession).where(UserSession.user_id == staff.id)).one()
    assert ended.end_reason == "second_factor_reset"
    assert not second_factor.enabled(session, staff) and second_factor.state(session, staff).codes_left == 0
    assert sign_in(session, "staff", PASSWORD, now=T0 + STEP).code_due is False
    reset = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.totp_reset")).one()
    assert reset.actor == "admin" and reset.payload["username"] == "staff" and reset.payload["sessions_ended"] == 1
    with pytest.raises(BadRequest):  # nothing left to reset
        admin.reset_second_factor(session, users["admin"], staff.id, now=T0 + STEP)
    assert session.get(User, staff.id).is_active
