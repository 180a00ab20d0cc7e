"""Signing in with a second factor through the pages: the password alone opens nothing (no server-side session is
made until the code is right; the cookie holds only the user's id for five minutes); a code is accepted once; a
recovery code works once; wrong codes lock the account like wrong passwords; a role the policy names is sent to set
it up after the password, and its browser session (not its API tokens) opens nothing else until it has."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import UserSession
from tests.support.web import PASSWORD, Browser, enrol_second_factor, set_password, token


def sessions_of(session, user) -> int:
    session.expire_all()
    return len(session.scalars(select(UserSession).where(UserSession.user_id == user.id,
                                                         UserSession.ended_at.is_(None))).all())


def test_the_password_alone_opens_nothing_and_the_code_signs_in_once(app, session, users, signed_in, clock):
    staff = signed_in("staff")
    totp, _codes = enrol_second_factor(staff, clock.now)
    staff.post("/sign-out", page="/inbox")
    clock.advance(seconds=30)

    browser = Browser(app.test_client())
    password = browser.post("/sign-in?next=/agenda", {"username": "staff", "password": PASSWORD})
    assert password.status_code == 302 and password.location == "/sign-in/code"
    assert sessions_of(session, users["staff"]) == 0  # nobody is signed in yet
    assert browser.get("/inbox").status_code == 302 and browser.get("/api/v1/tasks").status_code == 401
    page = browser.get("/sign-in/code")
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.get_data(as_text=True)
    for wrong_code in ("12345", "١٢٣٤٥٦"):  # too short; digits, but not ASCII ones
        wrong = browser.post("/sign-in/code", {"code": wrong_code})
        assert wrong.status_code == 401 and "wrong or used already" in wrong.get_data(as_text=True)
    code = totp.at(clock.now)
    signed = browser.post("/sign-in/code", {"code": code})
    assert signed.status_code == 302 and signed.location == "/agenda"
    assert browser.get("/inbox").status_code == 200 and sessions_of(session, users["staff"]) == 1

    replay = Browser(app.test_client())  # the same code again, a moment later, with the right password
    replay.post("/sign-in", {"username": "staff", "password": PASSWORD})
    clock.advance(seconds=5)
    refused = replay.post("/sign-in/code", {"code": code})
    assert refused.status_code == 401 and replay.get("/inbox").status_code == 302
    assert sessions_of(session, users["staff"]) == 1


def test_the_half_signed_in_state_lasts_five_minutes(app, session, users, signed_in, clock):
    staff = signed_in("staff")
    totp, _codes = enrol_second_factor(staff, clock.now)
    browser = Browser(app.test_client())
    browser.post("/sign-in", {"username": "staff", "password": PASSWORD})
    csrf = token(browser.get("/sign-in/code").get_data(as_text=True))  # the page is open; the person goes away
    clock.advance(minutes=5, seconds=1)
    late = browser.client.post("/sign-in/code", data={"csrf_token": csrf, "code": totp.at(clock.now)})
    assert late.status_code == 302 and late.location == "/sign-in"
    assert browser.get("/sign-in/code").location == "/sign-in"  # the state is gone
    assert Browser(app.test_client()).get("/sign-in/code").location == "/sign-in"  # and a stranger has none


def test_a_recovery_code_signs_in_once(app, session, users, signed_in, clock):
    staff = signed_in("staff")
    _totp, codes = enrol_second_factor(staff, clock.now)
    first = Browser(app.test_client())
    first.post("/sign-in", {"username": "staff", "password": PASSWORD})
    assert first.post("/sign-in/code", {"code": codes[0].upper()}).status_code == 302
    second = Browser(app.test_client())
    second.post("/sign-in", {"username": "staff", "password": PASSWORD})
    assert second.post("/sign-in/code", {"code": codes[0]}).status_code == 401
    assert "9 of 10 recovery codes left" in first.get("/account").get_data(as_text=True)


def test_wrong_codes_lock_the_account_like_wrong_passwords(app, session, users, signed_in, clock):
    staff = signed_in("staff")
    totp, _codes = enrol_second_factor(staff, clock.now)
    clock.advance(seconds=30)
    browser = Browser(app.test_client())
    browser.post("/sign-in", {"username": "staff", "password": PASSWORD})
    wrong = f"{(int(totp.at(clock.now)) + 1) % 1_000_000:06d}"
    for _ in range(5):
        response = browser.post("/sign-in/code", {"code": wrong})
    assert response.status_code == 401 and "This account is locked" in response.get_data(as_text=True)
    locked = browser.post("/sign-in/code", {"code": totp.at(clock.now)})
    assert locked.status_code == 401 and "locked" in locked.get_data(as_text=True)
    again = Browser(app.test_client()).post("/sign-in", {"username": "staff", "password": PASSWORD})
    assert again.status_code == 401 and "This account is locked" in again.get_data(as_text=True)
    failed = session.scalars(select(AuditEvent.action).where(AuditEvent.action.in_(
        ["user.totp_failed", "user.locked"]))).all()
    assert failed.count("user.totp_failed") == 6 and failed.count("user.locked") == 1


def test_the_policy_sends_a_required_role_to_set_it_up_first(app, session, users, signed_in, api, clock):
    administrator = signed_in("admin")
    refused = administrator.post("/admin/second-factor", {"required_roles": ["ser", "janitor"]}, page="/admin")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and 'id="required-roles-error"' in html and "janitor" in html
    assert re.search(r'value="ser" checked', html), "what was ticked stays ticked"
    saved = administrator.post("/admin/second-factor", {"required_roles": ["ser", "process_owner"]}, page="/admin")
    assert saved.status_code == 302
    assert "Two-step sign-in is required for process owner, ser." in administrator.get("/admin").get_data(
        as_text=True)
    token = api("ser")  # made before: API tokens keep working

    ser = signed_in("ser")  # the password is enough to get this far...
    for path in ("/inbox", "/relationships", "/admin", "/account/tokens"):
        response = ser.get(path)
        assert response.status_code in (302, 405) and (response.status_code == 405 or
                                                       response.location == "/account#second-factor"), path
    assert ser.post("/account/tokens", {"name": "sneaky", "days": "30"}, page="/account").location == \
        "/account#second-factor"
    page = ser.get("/account").get_data(as_text=True)
    assert 'id="second-factor-required"' in page and 'id="tokens"' not in page and 'id="password-form"' not in page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    refused = ser.client.get("/api/v1/tasks")
    assert refused.status_code == 403 and refused.get_json()["code"] == "second_factor_required"
    assert ser.client.post("/api/v1/tokens", json={"name": "x"}, headers={"X-CSRFToken": csrf}).status_code == 403
    assert token.get("tasks").status_code == 200

    staff = signed_in("staff")  # a role the policy does not name
    assert staff.get("/inbox").status_code == 200

    enrol_second_factor(ser, clock.now)
    assert ser.get("/inbox").status_code == 200 and ser.client.get("/api/v1/tasks").status_code == 200
    assert "Your role requires it" in ser.get("/account").get_data(as_text=True)
    assert 'id="totp-off-form"' not in ser.get("/account").get_data(as_text=True)


def test_an_administrator_reset_ends_the_persons_sessions(app, session, users, signed_in, clock):
    staff = signed_in("staff")
    enrol_second_factor(staff, clock.now)
    assert staff.get("/inbox").status_code == 200
    administrator = signed_in("admin")
    people = administrator.get("/admin").get_data(as_text=True)
    row = re.search(rf'<tr data-user="{users["staff"].id}".*?</tr>', people, re.S).group(0)
    assert "Reset two-step sign-in" in row and "<td data-second-factor>on</td>" in row
    reset = administrator.post(f"/admin/people/{users['staff'].id}/second-factor/reset", {}, page="/admin")
    assert reset.status_code == 302
    assert "sessions have ended" in administrator.get("/admin").get_data(as_text=True)
    assert staff.get("/inbox").status_code == 302  # signed out
    assert sessions_of(session, users["staff"]) == 0
    set_password(session, users["staff"])
    assert Browser(app.test_client()).sign_in("staff").location == "/inbox"  # the password alone, again
    again = administrator.post(f"/admin/people/{users['staff'].id}/second-factor/reset", {}, page="/admin")
    assert again.status_code == 302 and "has no two-step sign-in" in administrator.get("/admin").get_data(
        as_text=True)


@pytest.mark.commits
def test_one_code_sent_many_times_at_once_signs_in_once(app, session, users, signed_in, clock):
    staff = signed_in("staff")
    totp, _codes = enrol_second_factor(staff, clock.now)
    clock.advance(seconds=30)
    browsers = []
    for _ in range(8):  # each its own browser, its password right, on the code page
        browser = Browser(app.test_client())
        assert browser.post("/sign-in", {"username": "staff", "password": PASSWORD}).status_code == 302
        browsers.append((browser, token(browser.get("/sign-in/code").get_data(as_text=True))))
    start, code = threading.Barrier(len(browsers)), totp.at(clock.now)

    def send(browser_and_token):
        browser, csrf = browser_and_token
        start.wait()
        return browser.client.post("/sign-in/code", data={"csrf_token": csrf, "code": code}).status_code

    with ThreadPoolExecutor(len(browsers)) as pool:
        answers = sorted(pool.map(send, browsers))
    assert answers == [302] + [401] * (len(browsers) - 1)
    assert sessions_of(session, users["staff"]) == 1 + 1  # the enrolling browser's, and the one that won
