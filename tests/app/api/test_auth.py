"""The API's authentication plumbing: malformed credentials are a 401 in the one JSON shape, and a session's unsafe
calls need the CSRF header."""

from __future__ import annotations

from tests.support.api import Api, snapshot


def test_malformed_credentials_are_401_json(app, make_token):
    client = app.test_client()
    for header in ("Basic c3RhZmY6eA==", "Bearer", "Bearer cf_not-a-token", "Bearer " + "x" * 5000, "Token abc"):
        response = client.get("/api/v1/tasks", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert set(response.get_json()) == {"code", "status", "message", "errors"}
    assert client.get("/api/v1/tasks").status_code == 401  # no credentials at all: no redirect to sign-in


def test_session_calls_need_the_csrf_header_for_unsafe_methods(session, session_api, lifecycle):
    browser = session_api("staff")
    assert browser.get("relationships").status_code == 200  # safe methods: no token needed
    without = Api(browser.client)  # the same session, no X-CSRFToken
    before = snapshot(session)
    refused = without.post("relationships", {"title": "ACME", "partner": "ACME Ltd"})
    assert refused.status_code == 400 and refused.get_json()["code"] == "csrf"
    wrong = Api(browser.client, csrf="forged").post("tokens", {"name": "x"})
    assert wrong.status_code == 400 and wrong.get_json()["code"] == "csrf"
    assert snapshot(session) == before
    assert browser.post("relationships", {"title": "ACME", "partner": "ACME Ltd"}).status_code == 201
