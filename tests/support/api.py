"""The REST API's test client (a bearer token, or a signed-in session with its CSRF token) and the counters a
refused request must leave unchanged. The fixtures that make these clients are in tests/app/conftest.py."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.support.web import Browser, set_password

_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
ERROR_KEYS = {"code", "status", "message", "errors"}  # the one JSON shape of every error answer


class Api:
    """The Flask test client speaking JSON to /api/v1, with a bearer token (or none: a session client)."""

    def __init__(self, client, token: str | None = None, csrf: str | None = None):
        self.client, self.token, self.csrf = client, token, csrf

    def headers(self, extra=None):
        headers = {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.csrf:
            headers["X-CSRFToken"] = self.csrf
        headers.update(extra or {})
        return headers

    def call(self, method, path, json=None, *, headers=None, **kwargs):
        url = path if path.startswith("/") else f"/api/v1/{path}"
        return self.client.open(url, method=method, json=json, headers=self.headers(headers), **kwargs)

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.call("POST", path, json, **kwargs)

    def put(self, path, json=None, **kwargs):
        return self.call("PUT", path, json, **kwargs)

    def delete(self, path, **kwargs):
        return self.call("DELETE", path, **kwargs)


def sign_in_session(app, session, user) -> Api:
    """A browser-like client: signed in through the sign-in page, CSRF token read from the API page."""
    set_password(session, user)
    browser = Browser(app.test_client())
    assert browser.sign_in(user.username).status_code == 302
    html = browser.client.get("/api/v1/docs").get_data(as_text=True)
    return Api(browser.client, csrf=_META.search(html).group(1))


def count(session, model, *where) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where))


def events(session, action=None) -> int:
    from app.audit.models import AuditEvent
    return count(session, AuditEvent, *([AuditEvent.action == action] if action else []))


def snapshot(session) -> dict:
    """What a refused request must leave unchanged: rows and revisions (audit events aside)."""
    from app.inbox.models import TaskDraft
    from app.notifications.models import Notification
    from app.processes.models import HumanTask, ProcessInstance, ProcessVersion
    from app.tokens.models import ApiToken
    from app.webhooks.models import WebhookSubscription
    session.expire_all()
    return {
        "versions": count(session, ProcessVersion),
        "instances": sorted(session.execute(select(ProcessInstance.id, ProcessInstance.revision,
                                                   ProcessInstance.status)).all()),
        "tasks": sorted(session.execute(select(HumanTask.id, HumanTask.state, HumanTask.assignee_id)).all()),
        "drafts": count(session, TaskDraft),
        "unread": count(session, Notification, Notification.read_at.is_(None)),
        "tokens": sorted(session.execute(select(ApiToken.id, ApiToken.revoked_at)).all()),
        "webhooks": count(session, WebhookSubscription),
    }


def start_relationship(client: Api, title="ACME") -> dict:
    """Start a relationship through the API (on whatever lifecycle is deployed) -> its JSON."""
    response = client.post("relationships", {"title": title, "partner": f"{title} Ltd"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()
