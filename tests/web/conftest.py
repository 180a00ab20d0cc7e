"""Fixtures for the pages: a deployed test lifecycle (tests/web/data, with layout for bpmn-js), users who can
sign in, and a client that behaves like a browser (CSRF tokens are read from the rendered page)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import T0

WEB_DATA = Path(__file__).parent / "data"
PASSWORD = "correct horse battery staple"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def read_web_bundle():
    from workflows import read_directory
    return read_directory(WEB_DATA, WEB_DATA / "forms")


@pytest.fixture
def lifecycle(session, wf_engine, users):
    """The test lifecycle (stage 1 with an SER gate, stage 2) deployed as the latest version."""
    from app.processes.services import deploy_version
    files, forms = read_web_bundle()
    deployed, _warnings, _created = deploy_version(session, wf_engine, files, forms, user=users["owner"],
                                                   message="web test bundle", now=T0)
    return deployed


def set_password(session, user, password=PASSWORD):
    from app.auth.services import hash_password
    user.password_hash = hash_password(password)
    session.merge(user)
    session.commit()


def token(html: str) -> str:
    found = _TOKEN.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


class Browser:
    """Flask's test client driven like a person: read a page, take its CSRF token, post its form."""

    def __init__(self, client):
        self.client = client
        self.last = None

    def get(self, url, **kwargs):
        self.last = self.client.get(url, **kwargs)
        return self.last

    def post(self, url, data=None, *, page=None, **kwargs):
        html = self.client.get(page or url).get_data(as_text=True)
        payload = {"csrf_token": token(html), **(data or {})}
        self.last = self.client.post(url, data=payload, **kwargs)
        return self.last

    def sign_in(self, username, password=PASSWORD):
        return self.post("/sign-in", {"username": username, "password": password})


@pytest.fixture
def browser_client(app):
    return Browser(app.test_client())


@pytest.fixture
def signed_in(app, session, users):
    """signed_in("staff") -> a Browser signed in as that test user."""
    def sign_in(name):
        set_password(session, users[name])
        client = Browser(app.test_client())
        response = client.sign_in(name)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client
    return sign_in


