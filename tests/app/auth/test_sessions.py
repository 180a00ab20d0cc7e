"""Issue 18: signing out ends the session on the server. The cookie carries only a random secret naming a
`user_sessions` row, and a request is signed in only while that row is live: a copy of the cookie taken before
signing out (or before a password change, a deactivation, a timeout, signing in again) opens nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from app.audit.models import AuditEvent
from app.auth import user_sessions
from app.auth.models import UserSession
from app.auth.services import hash_password
from app.db import utcnow

T0 = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

PASSWORD = "a passphrase long enough"


@pytest.fixture
def sign_in(app, session, users):
    """sign_in("staff") -> a test client signed in through the sign-in page (its cookie is the session)."""
    def signed(name):
        users[name].password_hash = hash_password(PASSWORD)
        session.merge(users[name])
        session.commit()
        client = app.test_client()
        csrf = CSRF.search(client.get("/sign-in").get_data(as_text=True))
        response = client.post("/sign-in", data={"csrf_token": csrf.group(1), "username": name,
                                                 "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        return client
    return signed


def replay(app, cookie_value):
    """A new browser holding a copy of someone's session cookie -> (status of /inbox, of /api/v1/tasks)."""
    thief = app.test_client()
    thief.set_cookie("session", cookie_value)
    return thief.get("/inbox").status_code, thief.get("/api/v1/tasks").status_code


def csrf_of(client) -> str:
    return CSRF.search(client.get("/inbox").get_data(as_text=True)).group(1)


def live_rows(session, user):
    session.expire_all()
    return list(session.scalars(select(UserSession).where(UserSession.user_id == user.id,
                                                          UserSession.ended_at.is_(None))))


def test_a_cookie_copied_before_sign_out_opens_nothing_after_it(app, session, users, sign_in, lifecycle):
    client = sign_in("staff")
    copied = client.get_cookie("session").value
    assert replay(app, copied) == (200, 200)  # the copy works while the session lives (that is what it is)
    assert client.post("/sign-out", data={"csrf_token": csrf_of(client)}).status_code == 302
    inbox, api = replay(app, copied)
    assert (inbox, api) == (302, 401)
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/inbox").headers["Location"].startswith("/sign-in")
    ended = session.scalars(select(UserSession).where(UserSession.user_id == users["staff"].id)).one()
    assert ended.ended_at is not None and ended.end_reason == "signed_out"
    assert len(ended.token_hash) == 64 and ended.token_hash not in copied  # only a hash is stored


def test_signing_in_starts_a_new_session_and_ends_the_old_one(app, session, users, sign_in, lifecycle):
    client = sign_in("staff")
    anonymous = app.test_client()
    anonymous.get("/sign-in")
    before_sign_in = anonymous.get_cookie("session").value  # a cookie fixed before signing in...
    first = client.get_cookie("session").value
    csrf = CSRF.search(client.get("/relationships").get_data(as_text=True))
    again = client.post("/sign-in", data={"csrf_token": csrf.group(1), "username": "staff", "password": PASSWORD})
    assert again.status_code == 302
    second = client.get_cookie("session").value
    assert second != first
    assert replay(app, first) == (302, 401)           # the session before is over
    assert replay(app, before_sign_in) == (302, 401)  # ...is useless after it
    assert replay(app, second) == (200, 200)
    assert [r.end_reason for r in session.scalars(select(UserSession).order_by(UserSession.id))] == \
        ["replaced", None]


def test_idle_and_absolute_timeouts_end_the_session(app, session, users, sign_in, lifecycle):
    client = sign_in("staff")
    cookie = client.get_cookie("session").value
    row = live_rows(session, users["staff"])[0]
    row.last_seen_at = utcnow() - timedelta(minutes=121)  # two hours and a minute without a request
    session.commit()
    assert replay(app, cookie) == (302, 401)
    session.expire_all()
    assert session.get(UserSession, row.id).end_reason == "idle"
    assert session.scalar(select(AuditEvent.payload).where(AuditEvent.action == "user.session_ended"))[
        "reason"] == "idle"

    client = sign_in("staff")
    row = live_rows(session, users["staff"])[0]
    row.created_at = utcnow() - timedelta(hours=12, minutes=1)  # busy all along, but signed in too long ago
    session.commit()
    assert client.get("/inbox").status_code == 302
    session.expire_all()
    assert session.get(UserSession, row.id).end_reason == "expired"


def test_the_timeouts_are_settings(app, session, users, sign_in, lifecycle):
    app.config["SESSION_IDLE_MINUTES"] = 5
    client = sign_in("staff")
    row = live_rows(session, users["staff"])[0]
    row.last_seen_at = utcnow() - timedelta(minutes=6)
    session.commit()
    assert client.get("/inbox").status_code == 302


def test_with_a_controlled_clock(session, users):
    """The service takes `now`: the timeouts to the second, and last_seen_at written at most once a minute."""
    limits = user_sessions.Limits(idle=timedelta(minutes=120), longest=timedelta(hours=12))
    secret = user_sessions.begin(session, users["staff"], now=T0)
    assert user_sessions.current(session, secret, now=T0 + timedelta(seconds=59), limits=limits).username == "staff"
    row = session.scalars(select(UserSession)).one()
    assert row.last_seen_at == T0  # under a minute: not written
    assert user_sessions.current(session, secret, now=T0 + timedelta(minutes=100), limits=limits) is not None
    session.expire_all()
    assert session.get(UserSession, row.id).last_seen_at == T0 + timedelta(minutes=100)
    last = T0 + timedelta(minutes=100)
    assert user_sessions.current(session, secret, now=last + timedelta(minutes=119, seconds=59),
                                 limits=limits) is not None
    assert user_sessions.current(session, secret, now=last + timedelta(minutes=119, seconds=59)
                                 + timedelta(minutes=120), limits=limits) is None
    assert user_sessions.current(session, secret, now=last, limits=limits) is None  # ended stays ended
    other = user_sessions.begin(session, users["staff"], now=T0)
    assert user_sessions.current(session, other, now=T0 + timedelta(hours=12), limits=limits) is None
    assert user_sessions.current(session, "not a secret", now=T0, limits=limits) is None


def test_a_password_change_and_a_deactivation_end_every_session(app, session, users, sign_in, lifecycle):
    from app.auth.services import deactivate_user, set_password
    phone, laptop = sign_in("staff"), sign_in("staff")
    copies = [c.get_cookie("session").value for c in (phone, laptop)]
    assert len(live_rows(session, users["staff"])) == 2
    assert set_password(session, users["staff"], "a brand new passphrase", now=utcnow()) == 2
    assert [replay(app, c) for c in copies] == [(302, 401)] * 2
    assert len(live_rows(session, users["staff"])) == 0

    ser = sign_in("ser")
    copied = ser.get_cookie("session").value
    assert deactivate_user(session, users["ser"], now=utcnow(), actor=users["admin"]) == 1
    assert replay(app, copied) == (302, 401)
    reasons = [e["reason"] for e in session.scalars(select(AuditEvent.payload).where(
        AuditEvent.action == "user.session_ended"))]
    assert sorted(reasons) == ["password_changed", "password_changed", "user_deactivated"]


def test_a_user_deactivated_in_the_database_is_signed_out(app, session, users, sign_in, lifecycle):
    client = sign_in("staff")
    users["staff"].is_active = False
    session.merge(users["staff"])
    session.commit()
    assert client.get("/inbox").status_code == 302
    session.expire_all()
    assert session.scalars(select(UserSession)).one().end_reason == "user_inactive"


def test_one_session_lookup_per_request_and_no_write_within_a_minute(app, services, session, users, sign_in,
                                                                     lifecycle):
    client = sign_in("staff")
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        if "user_sessions" in statement:
            statements.append(statement.split()[0].upper())

    event.listen(services.db_engine, "before_cursor_execute", seen)
    try:
        for _ in range(3):
            assert client.get("/api/v1/tasks").status_code == 200
            assert client.get("/inbox").status_code == 200
    finally:
        event.remove(services.db_engine, "before_cursor_execute", seen)
    assert statements == ["SELECT"] * 6  # one lookup per request; last_seen_at was written at sign-in


def test_dead_sessions_are_pruned_after_thirty_days_and_live_ones_kept(session, users):
    now = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    live = user_sessions.begin(session, users["staff"], now=now - timedelta(hours=1))
    ended = user_sessions.begin(session, users["staff"], now=now - timedelta(days=40))
    user_sessions.end(session, ended, now=now - timedelta(days=31))
    recently = user_sessions.begin(session, users["ser"], now=now - timedelta(days=2))
    user_sessions.end(session, recently, now=now - timedelta(days=1))
    forgotten = user_sessions.begin(session, users["ser"], now=now - timedelta(days=45))  # never signed out
    session.commit()
    assert user_sessions.prune(session, now=now) == 2
    kept = {row.token_hash for row in session.scalars(select(UserSession))}
    assert kept == {user_sessions.digest(live), user_sessions.digest(recently)}
    assert user_sessions.digest(forgotten) not in kept
