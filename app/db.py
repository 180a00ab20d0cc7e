"""SQLAlchemy plumbing: the declarative base, column types, and engine/session factories.

SQLite is the embedded default: WAL, a busy timeout and foreign keys are switched on for every
connection so that concurrent writers wait and then fail cleanly on the revision check, instead of
erroring with "database is locked".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every database (SQLite would hand back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str, *, pool_size: int | None = None, **kwargs) -> Engine:
    """`pool_size`: PostgreSQL connections kept open (SQLite's are files opened in-process: the default pool)."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if pool_size:
        kwargs["pool_size"] = pool_size
    engine = create_engine(url, **kwargs)
    _note_writes(engine)
    return engine


def _note_writes(engine: Engine) -> None:
    """Mark a connection's transaction as written as soon as it runs anything but a compiled SELECT (a text
    statement counts as a write: `SELECT pg_notify` is one). `end_read_only` reads the mark."""
    @event.listens_for(engine, "begin")
    def _began(connection):
        connection.info["wrote"] = False

    @event.listens_for(engine, "before_cursor_execute")
    def _executing(connection, _cursor, _statement, _parameters, context, _many):
        compiled = getattr(context, "compiled", None)
        if compiled is None or not getattr(compiled.statement, "is_select", False):
            connection.info["wrote"] = True


def end_read_only(session: Session) -> None:
    """End a request's transaction that only read with COMMIT rather than the ROLLBACK closing would send: the
    same for the database, but psycopg forgets its prepared statements on every ROLLBACK (and sends DEALLOCATE
    ALL), so each request's statements were parsed afresh and cost an extra round trip. Anything that wrote, or
    an unknown engine, is left to the rollback."""
    if not session.in_transaction():
        return
    connection = session.connection()
    if connection.info.get("wrote", True) is False and not (session.new or session.dirty or session.deleted):
        session.commit()


def make_session_factory(engine: Engine) -> sessionmaker:
    """Sessions carry no settings: what a service needs besides the session is given to it as an argument."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@contextmanager
def unit_of_work(session: Session) -> Iterator[Session]:
    """One user action: everything in the block commits together at its end, or rolls back on any error.

    A service that must commit earlier (to publish something once its rows are safe) may still call
    `session.commit()` inside the block; the closing commit then has nothing left to do.
    """
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
