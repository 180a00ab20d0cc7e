"""The test database plumbing behind tests/conftest.py's fixtures (plain functions, no fixtures).

Two ways for a test to use the database:
- rolled back (the default): the app's sessions are bound to one connection of the session-wide test engine,
  inside a transaction begun by the test; each `session.commit()` in the app releases a SAVEPOINT, and the
  test's transaction is rolled back when it ends. Nothing a test writes is ever seen by another test.
  One difference from separate transactions: the test's own session and the app's request sessions nest their
  SAVEPOINTs on the one connection, so `session.rollback()` in a test undoes what requests committed since that
  session's transaction began. End a test's read with `session.commit()` (or expire_all) instead.
- committed (tests marked `commits`, or using `live_server`): the app keeps its own engine, so other threads,
  connections and processes see what it commits; every table is emptied when the test ends.
"""

from __future__ import annotations

import time

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine

from tests.support.bundles import DATA


def make_test_app(database_url: str, **config):
    """The real app with the test settings (the engine's test bundle as its BPMN and forms directories)."""
    from app import create_app
    return create_app({"DATABASE_URL": database_url, "TESTING": True, "SECRET_KEY": "test",
                       "BPMN_DIR": str(DATA), "FORMS_DIR": str(DATA / "forms"), **config})


def make_rollback_engine(url: str) -> Engine:
    """The session-wide engine whose connections carry each test's outer transaction. On SQLite, pysqlite's
    own transaction handling is switched off so that SAVEPOINT works (SQLAlchemy's documented recipe)."""
    from app.db import make_engine
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _no_pysqlite_transactions(dbapi_connection, _record):
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(connection):
            connection.exec_driver_sql("BEGIN")
    return engine


class RolledBack:
    """An app whose sessions all work inside one outer transaction on `connection`; `close()` rolls it back."""

    def __init__(self, application, engine: Engine):
        self.connection: Connection = engine.connect()
        self.outer = self.connection.begin()
        services = application.extensions["collabflow"]
        services.db_engine.dispose()  # the app's own engine is never used: its sessions use our connection,
        services.db_engine = engine   # and what looks at the app's engine (events, dialect) sees this one
        services.sessions.configure(bind=self.connection, join_transaction_mode="create_savepoint")

    def close(self):
        if self.outer.is_active:
            self.outer.rollback()
        self.connection.close()


class Committed:
    """An app on its own engine (commits are real); `close()` empties every table."""

    def __init__(self, application):
        self.engine = application.extensions["collabflow"].db_engine

    def close(self):
        wait_for_checked_out_connections(self.engine)
        empty_tables(self.engine)
        self.engine.dispose()


def wait_for_checked_out_connections(engine: Engine, timeout: float = 60.0):
    """Wait until every connection is back in the pool: a live server's request (the browser's last fetch) may
    still be running when the test ends. Disposing the engine under it would leave its connection to be
    garbage-collected unclosed later, in whichever test is running then (psycopg's ResourceWarning), and
    emptying the tables could wait on its locks. A request that never finishes is a failure of this test."""
    checked_out = getattr(engine.pool, "checkedout", None)
    if checked_out is None:
        return
    deadline = time.monotonic() + timeout
    while checked_out() > 0:
        if time.monotonic() > deadline:
            raise AssertionError(f"{checked_out()} database connection(s) still in use {timeout:.0f} s after the "
                                 "test ended: a request or thread of the app never finished")
        time.sleep(0.01)


def empty_tables(engine: Engine):
    from app.models import metadata
    tables = list(reversed(metadata.sorted_tables))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("TRUNCATE " + ", ".join(t.name for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())
