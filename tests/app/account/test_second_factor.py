"""Two-step sign-in on the account page: set up with a QR code (and the key as text), switched on only by a current
code, ten recovery codes shown once; new recovery codes and turning it off need a code; a refusal names its field,
never 500s, and changes nothing."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth import second_factor
from tests.support.web import enrol_second_factor


def test_setting_it_up_needs_the_apps_current_code_and_shows_the_recovery_codes_once(session, users, signed_in,
                                                                                     clock):
    staff = signed_in("staff")
    page = staff.get("/account").get_data(as_text=True)
    assert 'id="second-factor"' in page and "Set up two-step sign-in" in page
    started = staff.post("/account/second-factor", {}, page="/account")
    assert started.status_code == 302 and started.location.endswith("/account#second-factor")
    page = staff.get("/account").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([^<]+)<', page).group(1).replace(" ", "")
    assert re.search(r'<div class="qr" id="totp-qr"><svg [^>]*class="qr"', page) and "<script" not in page.split(
        'id="totp-qr"')[1][:3000]
    import pyotp
    totp = pyotp.TOTP(secret)
    wrong = f"{(int(totp.at(clock.now)) + 1) % 1_000_000:06d}"
    refused = staff.post("/account/second-factor/confirm", {"code": wrong}, page="/account")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and 'id="confirm-code-error"' in html
    assert secret in html.replace(" ", "")  # still waiting, the same key shown again
    assert not second_factor.enabled(session, users["staff"])
    for silly in ("", "12345\u200b6", "x" * 5000, "😀😀😀", "١٢٣٤٥٦", "１２３４５６"):
        assert staff.post("/account/second-factor/confirm", {"code": silly}, page="/account").status_code == 400

    done = staff.post("/account/second-factor/confirm", {"code": totp.at(clock.now)}, page="/account")
    html = done.get_data(as_text=True)
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", html)
    assert done.status_code == 200 and len(codes) == 10 and done.headers["Cache-Control"] == "no-store"
    again = staff.get("/account").get_data(as_text=True)
    assert not any(code in again for code in codes), "shown once"
    assert "<strong>On</strong>" in again and "10 of 10 recovery codes left" in again
    assert session.scalar(select(AuditEvent.action).where(AuditEvent.action == "user.totp_enabled"))


def test_a_waiting_set_up_can_be_cancelled(session, users, signed_in):
    staff = signed_in("staff")
    staff.post("/account/second-factor", {}, page="/account")
    assert 'id="totp-secret"' in staff.get("/account").get_data(as_text=True)
    assert staff.post("/account/second-factor/cancel", {}, page="/account").status_code == 302
    assert "Set up two-step sign-in" in staff.get("/account").get_data(as_text=True)


def test_new_recovery_codes_and_turning_it_off_need_a_code(session, users, signed_in, clock):
    staff = signed_in("staff")
    totp, codes = enrol_second_factor(staff, clock.now)
    clock.advance(seconds=30)
    refused = staff.post("/account/second-factor/recovery-codes", {"code": "000000"}, page="/account")
    assert refused.status_code == 400 and 'id="renew-code-error"' in refused.get_data(as_text=True)
    renewed = staff.post("/account/second-factor/recovery-codes", {"code": totp.at(clock.now)}, page="/account")
    new = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", renewed.get_data(as_text=True))
    assert renewed.status_code == 200 and len(new) == 10 and not set(new) & set(codes)

    off = staff.post("/account/second-factor/off", {"code": codes[0]}, page="/account")  # an old code: gone
    assert off.status_code == 400 and 'id="off-code-error"' in off.get_data(as_text=True)
    assert second_factor.enabled(session, users["staff"])
    off = staff.post("/account/second-factor/off", {"code": new[0]}, page="/account")
    assert off.status_code == 302
    assert "Two-step sign-in is off" in staff.get("/account").get_data(as_text=True)
    assert not second_factor.enabled(session, users["staff"])
    trail = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("user.%")).where(
        AuditEvent.action.not_in(["user.created", "user.signed_in"])).order_by(AuditEvent.id)).all()
    assert trail == ["user.totp_setup_started", "user.totp_enabled", "user.totp_failed", "user.recovery_codes_renewed", "user.totp_failed",
                     "user.recovery_code_used", "user.totp_disabled"]
