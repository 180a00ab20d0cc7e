"""Fixtures for the REST API: clients that call /api/v1 with a bearer token (or a signed-in session with its
CSRF token), the test lifecycle (tests/web/data) and the bundled one (bpmn/ + forms/)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.web.conftest import PASSWORD, lifecycle, set_password  # noqa: F401  (fixture re-exported)

_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


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
    from tests.web.conftest import Browser
    set_password(session, user)
    browser = Browser(app.test_client())
    assert browser.sign_in(user.username).status_code == 302
    html = browser.client.get("/api/v1/docs").get_data(as_text=True)
    return Api(browser.client, csrf=_META.search(html).group(1))


@pytest.fixture
def make_token(session, users):
    """make_token("staff", days=90) -> a bearer secret for that test user (made by the service)."""
    from app.tokens.services import create_token

    def make(name, days=90, now=None):
        from app.db import utcnow
        return create_token(session, users[name], name=f"{name} token", days=days, now=now or utcnow()).secret
    return make


@pytest.fixture
def api(app, make_token):
    """api("staff") -> an Api client calling with a fresh token of that user; api() -> no credentials."""
    def client(name=None):
        return Api(app.test_client(), make_token(name) if name else None)
    return client


@pytest.fixture
def session_api(app, session, users):
    return lambda name: sign_in_session(app, session, users[name])


@pytest.fixture
def in_stage5(working_together):
    """A relationship on the bundled lifecycle driven (through the services) into stage 5 -> its id."""
    return working_together.instance_id


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
    session.expire_all()
    return {
        "versions": count(session, ProcessVersion),
        "instances": sorted(session.execute(select(ProcessInstance.id, ProcessInstance.revision,
                                                   ProcessInstance.status)).all()),
        "tasks": sorted(session.execute(select(HumanTask.id, HumanTask.state, HumanTask.assignee_id)).all()),
        "drafts": count(session, TaskDraft),
        "unread": count(session, Notification, Notification.read_at.is_(None)),
        "tokens": sorted(session.execute(select(ApiToken.id, ApiToken.revoked_at)).all()),
    }


PASSWORD = PASSWORD
