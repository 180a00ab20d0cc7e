"""Authentication: bearer tokens (create from a session, use, expire, revoke) and sessions with CSRF."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.db import utcnow
from app.tokens.models import ApiToken
from tests.support.api import Api, events, snapshot


def test_token_lifecycle_create_use_revoke(app, session, users, session_api, lifecycle):
    browser = session_api("staff")
    made = browser.post("tokens", {"name": "my laptop", "expires_in_days": 30})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    secret = body["token"]
    assert secret.startswith("cf_") and body["prefix"] == secret[:10] and body["active"] is True
    assert body["last_used_at"] is None

    # stored hashed: the secret is nowhere in the database, and listing never shows it
    row = session.scalar(select(ApiToken).where(ApiToken.id == body["id"]))
    assert row.token_hash != secret and len(row.token_hash) == 64
    listed = browser.get("tokens").get_json()
    assert [t["id"] for t in listed] == [body["id"]] and "token" not in listed[0]

    # the token works without a session and without CSRF, also for unsafe methods
    bearer = Api(app.test_client(), secret)
    assert bearer.get("tasks").status_code == 200
    started = bearer.post("relationships", {"title": "ACME", "partner": "ACME Ltd"})
    assert started.status_code == 201, started.get_json()
    assert "Set-Cookie" not in started.headers
    assert bearer.get("relationships").status_code == 200
    session.expire_all()
    assert session.get(ApiToken, body["id"]).last_used_at is not None
    assert events(session, "api.token_used") == 1  # recorded once, not per request

    # revoke: 204, then 401 with the one error shape
    assert browser.delete(f"tokens/{body['id']}").status_code == 204
    refused = bearer.get("tasks")
    assert refused.status_code == 401 and refused.get_json()["code"] == "unauthorized"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert events(session, "api.token_created") == 1 and events(session, "api.token_revoked") == 1
    assert browser.delete(f"tokens/{body['id']}").status_code == 204  # twice is harmless
    assert events(session, "api.token_revoked") == 1

    # the secret never reaches the audit trail
    payloads = [str(e.payload) for e in session.scalars(select(AuditEvent))]
    assert not any(secret in p for p in payloads)


def test_expired_tokens_are_refused(api, app, session, make_token, users):
    old = make_token("staff", days=1, now=utcnow() - timedelta(days=2))
    response = Api(app.test_client(), old).get("tasks")
    assert response.status_code == 401 and response.is_json


def test_tokens_of_inactive_users_are_refused(app, session, users, make_token):
    secret = make_token("staff")
    users["staff"].is_active = False
    session.merge(users["staff"])
    session.commit()
    assert Api(app.test_client(), secret).get("tasks").status_code == 401


def test_a_token_cannot_mint_tokens(api, session):
    client = api("staff")
    before = snapshot(session)
    response = client.post("tokens", {"name": "forever"})
    assert response.status_code == 403 and response.get_json()["code"] == "forbidden"
    assert snapshot(session) == before
    assert events(session, "api.forbidden") == 1


def test_tokens_of_others_are_not_found(api, session, session_api, make_token):
    make_token("ser")
    other = session.scalar(select(ApiToken.id))
    browser = session_api("staff")
    before = snapshot(session)
    assert browser.delete(f"tokens/{other}").status_code == 404
    assert browser.get("tokens").get_json() == []
    assert snapshot(session) == before


def test_token_validation_errors(session_api, session):
    browser = session_api("staff")
    before = snapshot(session)
    for body, field in (({}, "name"), ({"name": ""}, "name"), ({"name": "x" * 101}, "name"),
                        ({"name": "x", "expires_in_days": 0}, "expires_in_days"),
                        ({"name": "x", "expires_in_days": 366}, "expires_in_days"),
                        ({"name": "x", "expires_in_days": "soon"}, "expires_in_days"),
                        ({"name": "x", "scope": "admin"}, "scope")):
        response = browser.post("tokens", body)
        assert response.status_code == 422, body
        assert field in response.get_json()["errors"], response.get_json()
    assert snapshot(session) == before
