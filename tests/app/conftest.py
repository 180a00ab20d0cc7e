"""Fixtures for the app's tests: the bundled lifecycle started through the Driver (tests/support/driver.py),
and the API's clients (tests/support/api.py)."""

from __future__ import annotations

import pytest

from tests.support.bundles import ROOT
from tests.support.driver import START, START_TIME


@pytest.fixture
def lifecycle_version(session, wf_engine, users):
    from app.processes.services import deploy_version
    from workflows import read_directory
    files, forms = read_directory(ROOT / "bpmn", ROOT / "forms")
    version, _warnings, _ = deploy_version(session, wf_engine, files, forms, user=users["owner"],
                                           message="the bundled lifecycle", now=START_TIME)
    return version


@pytest.fixture
def start(session, services, users, lifecycle_version):
    """start(process_id="lifecycle", data=START, now=START_TIME) -> Driver"""
    from tests.support.driver import Driver

    def starter(process_id="lifecycle", data=None, now=START_TIME):
        return Driver.start(session, services, users, process_id, START if data is None else data, now=now)
    return starter


@pytest.fixture
def acme(session, wf_engine, users, lifecycle):
    """A relationship 'ACME' started on the pages' test lifecycle -> its id."""
    from app.db import utcnow
    from app.relationships import services as relationships
    return relationships.start(session, wf_engine, users["staff"], title="ACME", partner="ACME Ltd",
                               now=utcnow()).instance_id


# ------------------------------------------------------------------------------------------------ the API
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
    from tests.support.api import Api

    def client(name=None):
        return Api(app.test_client(), make_token(name) if name else None)
    return client


@pytest.fixture
def session_api(app, session, users):
    from tests.support.api import sign_in_session
    return lambda name: sign_in_session(app, session, users[name])


@pytest.fixture
def in_stage5(working_together):
    """A relationship on the bundled lifecycle driven (through the services) into stage 5 -> its id."""
    return working_together.instance_id


# ------------------------------------------------------------------------------------------------ the pages' clock
@pytest.fixture
def clock(monkeypatch):
    """The clock of the sign-in, account and administration pages, frozen at a fixed moment and moved by hand
    (`clock.now`, `clock.advance(seconds=30)`): second-factor codes are made with pyotp for `clock.now`, so no
    answer depends on the wall clock."""
    from tests.support.web import Clock
    frozen = Clock()
    for module in ("app.auth.pages", "app.account.pages", "app.admin.pages"):
        monkeypatch.setattr(f"{module}.utcnow", frozen)
    return frozen
