"""Shared fixtures: a real database (SQLite file, or PostgreSQL when COLLABFLOW_TEST_DATABASE_URL is set),
the real app, the real engine. Each test starts from empty tables with the schema made by migrations."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

DATA = Path(__file__).parent / "workflows" / "data"
T0 = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)


def pytest_report_header(config):
    return f"database: {_database_kind()}"


def _database_kind():
    url = os.environ.get("COLLABFLOW_TEST_DATABASE_URL")
    return url.split(":", 1)[0] if url else "sqlite (temporary file)"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = os.environ.get("COLLABFLOW_TEST_DATABASE_URL")
    if url is None:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    from sqlalchemy import create_engine
    engine = create_engine(url)
    with engine.begin() as connection:  # a clean schema: drop what an earlier run left
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def migrated(database_url):
    from app.migrate import upgrade
    upgrade(database_url)
    return database_url


@pytest.fixture
def app(migrated, tmp_path):
    from app import create_app
    application = create_app({"DATABASE_URL": migrated, "TESTING": True, "SECRET_KEY": "test",
                              "BPMN_DIR": str(DATA), "FORMS_DIR": str(DATA / "forms")})
    yield application
    services = application.extensions["collabflow"]
    _empty_tables(services.db_engine)
    services.db_engine.dispose()


def _empty_tables(engine):
    from app.models import metadata
    tables = list(reversed(metadata.sorted_tables))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("TRUNCATE " + ", ".join(t.name for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture
def services(app):
    return app.extensions["collabflow"]


@pytest.fixture
def session(services):
    with services.sessions() as s:
        yield s


@pytest.fixture
def wf_engine(services):
    return services.workflows


@pytest.fixture
def users(session):
    from app.auth.services import create_user
    spec = {
        "staff": (["staff"], "own"), "staff2": (["staff"], "own"), "ser": (["ser"], "own"),
        "ser2": (["ser"], "own"), "jmt": (["jmt"], "own"), "owner": (["process_owner"], "own"),
        "assessor": (["assessor"], "own"), "admin": (["admin"], "own"), "pser": (["ser"], "partner"),
    }
    made = {}
    for name, (roles, kind) in spec.items():
        made[name] = create_user(session, name, password=None, roles=roles,
                                 organisation="Partner Ltd" if kind == "partner" else "Us", organisation_kind=kind)
    return made


def read_test_bundle():
    from workflows import read_directory
    return read_directory(DATA, DATA / "forms")


@pytest.fixture
def version(session, wf_engine, users):
    from app.processes.services import deploy_version
    files, forms = read_test_bundle()
    deployed, _warnings, _created = deploy_version(session, wf_engine, files, forms, user=users["owner"],
                                                   message="test bundle", now=T0)
    return deployed


@pytest.fixture
def bundled(session, wf_engine, users):
    """The real bundled lifecycle (bpmn/ + forms/) deployed as the latest version."""
    from app.config import ROOT
    from app.processes.services import deploy_version
    from workflows import read_directory
    files, forms = read_directory(ROOT / "bpmn", ROOT / "forms")
    deployed, _warnings, _created = deploy_version(session, wf_engine, files, forms, user=users["owner"],
                                                   message="the bundled lifecycle", now=T0)
    return deployed


@pytest.fixture
def working_together(session, services, users, bundled):
    """A relationship on the bundled lifecycle, driven by real people's tasks into stage 5 -> its Driver."""
    from app.db import utcnow
    from app.lifecycle.services import current_stage
    from app.relationships import services as relationships
    from tests.app.lifecycle.driver import Driver
    now = utcnow()
    started = relationships.start(session, services.workflows, users["staff"], title="Tailspin partnership",
                                  partner="Partner Ltd", now=now)
    driver = Driver(session, services, users, started.instance_id, now)
    driver.drive(until=lambda d: (current_stage(session, d.instance_id) or 0) >= 5)
    assert current_stage(session, driver.instance_id) == 5
    return driver
