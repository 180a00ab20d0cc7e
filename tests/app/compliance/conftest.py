"""One compliance scenario per test module that asks for it (the happy path takes seconds): a module-wide app
whose sessions share one connection and one transaction, rolled back when the module ends."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def scenario_app(migrated, test_engine):
    from tests.support.database import RolledBack, make_test_app
    application = make_test_app(migrated)
    database = RolledBack(application, test_engine)
    yield application
    database.close()


@pytest.fixture(scope="module")
def scenario_services(scenario_app):
    return scenario_app.extensions["collabflow"]


@pytest.fixture(scope="module")
def scenario_session(scenario_services):
    with scenario_services.sessions() as s:
        yield s


@pytest.fixture(scope="module")
def scenario_users(scenario_session):
    from tests.support.compliance import make_users
    return make_users(scenario_session)


@pytest.fixture(scope="module")
def scenario(scenario_session, scenario_services, scenario_users):
    """dict of facts: the happy relationship's id, the stopped one's, 'now', the policy file (support/compliance)."""
    from tests.support.compliance import build_scenario
    return build_scenario(scenario_session, scenario_services, scenario_users)
