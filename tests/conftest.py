"""Shared fixtures: a real database (SQLite file, or PostgreSQL when COLLABFLOW_TEST_DATABASE_URL is set),
the real app, the real engine. The schema is made once by migrations; each test runs inside a transaction
that is rolled back when it ends (tests/support/database.py), except tests marked `commits` (threads, other
processes or a real server must see what they commit), which keep the app on its own engine and empty every
table afterwards."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from tests.support.bundles import T0, read_test_bundle, read_web_bundle


@pytest.fixture(scope="session")
def worker_id(request):
    """pytest-xdist's worker name ("gw0", ...), or "master" when the suite runs in one process."""
    return getattr(request.config, "workerinput", {}).get("workerid", "master")


def pytest_report_header(config):
    return f"database: {_database_kind()}"


def _database_kind():
    url = os.environ.get("COLLABFLOW_TEST_DATABASE_URL")
    return url.split(":", 1)[0] if url else "sqlite (temporary file)"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, worker_id):
    """SQLite: a file per run (per worker with pytest-xdist). PostgreSQL: the given database, or with several
    workers one database per worker beside it (`test_gw0`, ...), made when missing."""
    url = os.environ.get("COLLABFLOW_TEST_DATABASE_URL")
    if url is None:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    if worker_id != "master":
        base = make_url(url)
        name = f"{base.database}_{worker_id}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            if not connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}):
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = base.set(database=name).render_as_string(hide_password=False)
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


@pytest.fixture(scope="session")
def test_engine(migrated):
    """One engine for the whole run: each rolled-back test borrows one of its connections."""
    from tests.support.database import make_rollback_engine
    engine = make_rollback_engine(migrated)
    yield engine
    engine.dispose()


def commits(request) -> bool:
    """Does this test need real commits (marked `commits`, or serving the app to a browser)?"""
    return request.node.get_closest_marker("commits") is not None or "live_server" in request.fixturenames


@pytest.fixture
def make_app(request, migrated, test_engine):
    """make_app(**config) -> the real app with the test settings (and `config`), in this test's rolled-back
    transaction, or on its own engine for a `commits` test; closed when the test ends."""
    from tests.support.database import Committed, RolledBack, make_test_app
    made = []

    def make(**config):
        application = make_test_app(migrated, **config)
        made.append(Committed(application) if commits(request) else RolledBack(application, test_engine))
        return application
    yield make
    for database in reversed(made):
        database.close()


@pytest.fixture
def app(make_app):
    return make_app()


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
        "assessor": (["assessor"], "own"), "admin": (["admin"], "own"), "top": (["top_management"], "own"),
        "pser": (["ser"], "partner"),
    }
    made = {}
    for name, (roles, kind) in spec.items():
        made[name] = create_user(session, name, password=None, roles=roles,
                                 organisation="Partner Ltd" if kind == "partner" else "Us", organisation_kind=kind)
    return made


@pytest.fixture
def version(session, wf_engine, users):
    from app.processes.services import deploy_version
    files, forms = read_test_bundle()
    deployed, _warnings, _created = deploy_version(session, wf_engine, files, forms, user=users["owner"],
                                                   message="test bundle", now=T0)
    return deployed


@pytest.fixture
def lifecycle(session, wf_engine, users):
    """The pages' test lifecycle (tests/support/web_data: stage 1 with an SER gate, stage 2) deployed as the
    latest version."""
    from app.processes.services import deploy_version
    files, forms = read_web_bundle()
    deployed, _warnings, _created = deploy_version(session, wf_engine, files, forms, user=users["owner"],
                                                   message="web test bundle", now=T0)
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
    from tests.support.driver import Driver
    now = utcnow()
    started = relationships.start(session, services.workflows, users["staff"], title="Tailspin partnership",
                                  partner="Partner Ltd", now=now)
    driver = Driver(session, services, users, started.instance_id, now)
    driver.drive(until=lambda d: (current_stage(session, d.instance_id) or 0) >= 5)
    assert current_stage(session, driver.instance_id) == 5
    return driver


@pytest.fixture
def browser_client(app):
    from tests.support.web import Browser
    return Browser(app.test_client())


@pytest.fixture
def signed_in(app, session, users):
    """signed_in("staff") -> a Browser (tests/support/web.py) signed in as that test user."""
    from tests.support.web import Browser, set_password

    def sign_in(name):
        set_password(session, users[name])
        client = Browser(app.test_client())
        response = client.sign_in(name)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client
    return sign_in


@pytest.fixture
def oidc_provider():
    """A real OpenID Connect provider on 127.0.0.1 (tests/support/oidc_provider.py), stopped when the test ends;
    it accepts the test client's callback address, and a live server's once the test allows it."""
    from tests.support.oidc_provider import LocalProvider
    provider = LocalProvider().start()
    provider.allow_redirect("http://localhost/sign-in/sso/callback")
    yield provider
    provider.stop()
