"""Signing in and out: required everywhere, CSRF on every form, lockout after five wrong passwords, audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.signin import SignInRefused, sign_in
from app.db import utcnow
from tests.support.web import PASSWORD, Browser, set_password


def actions(session):
    return [a for (a,) in session.execute(select(AuditEvent.action).where(AuditEvent.action.like("user.%"))
                                          .order_by(AuditEvent.id))]


@pytest.mark.parametrize("path", ["/", "/inbox", "/relationships", "/tasks/1", "/evidence/1"])
def test_every_page_asks_for_sign_in(app, path):
    response = app.test_client().get(path)
    assert response.status_code == 302 and response.location.startswith("/sign-in?next=")


def test_health_and_sign_in_are_public(app):
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/sign-in").status_code == 200


def test_sign_in_and_out_are_audited_and_next_stays_on_this_site(app, session, users):
    set_password(session, users["staff"])
    client = Browser(app.test_client())
    response = client.post("/sign-in?next=/relationships", {"username": "staff", "password": PASSWORD})
    assert response.status_code == 302 and response.location == "/relationships"
    assert client.get("/inbox").status_code == 200
    client.post("/sign-out", page="/inbox")
    assert client.get("/inbox").status_code == 302
    evil = Browser(app.test_client()).post("/sign-in?next=//evil.example/x", {"username": "staff",
                                                                             "password": PASSWORD})
    assert evil.location == "/inbox"
    assert actions(session) == ["user.created"] * 10 + ["user.signed_in", "user.signed_out", "user.signed_in"]


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(session, users):
    set_password(session, users["staff"])
    now = utcnow()
    for attempt in range(4):
        with pytest.raises(SignInRefused, match=f"{4 - attempt} more failed attempt"):
            sign_in(session, "staff", "nope", now=now)
    with pytest.raises(SignInRefused, match="locked after 5 failed sign-in attempts. Try again in 15 minutes"):
        sign_in(session, "staff", "nope", now=now)
    with pytest.raises(SignInRefused, match="locked"):  # even the right password, while locked
        sign_in(session, "staff", PASSWORD, now=now + timedelta(minutes=14))
    assert sign_in(session, "staff", PASSWORD, now=now + timedelta(minutes=16)).user.username == "staff"
    trail = actions(session)[10:]
    assert trail == ["user.sign_in_failed"] * 4 + ["user.locked", "user.sign_in_failed", "user.sign_in_failed",
                                                   "user.signed_in"]
    session.refresh(users["staff"])
    assert users["staff"].failed_logins == 0 and users["staff"].locked_until is None


def test_lockout_message_on_the_page(app, session, users):
    set_password(session, users["staff"])
    client = Browser(app.test_client())
    for _ in range(5):
        response = client.post("/sign-in", {"username": "staff", "password": "nope"})
    assert response.status_code == 401
    assert "This account is locked after 5 failed sign-in attempts" in response.get_data(as_text=True)
    assert 'value="staff"' in response.get_data(as_text=True)  # the username stays typed


def test_unknown_users_get_the_same_answer(session, users):
    with pytest.raises(SignInRefused, match="^Wrong username or password.$"):
        sign_in(session, "nobody", "x", now=utcnow())


def test_forms_without_a_csrf_token_are_refused(app, session, users):
    set_password(session, users["staff"])
    client = app.test_client()
    response = client.post("/sign-in", data={"username": "staff", "password": PASSWORD})
    assert response.status_code == 400 and "did not come from this site" in response.get_data(as_text=True)


def test_session_cookie_is_httponly_and_lax(app, session, users):
    set_password(session, users["staff"])
    client = Browser(app.test_client())
    response = client.sign_in("staff")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
