"""The schema is made only by migrations, and the models say exactly what the migrations made."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from app.models import metadata


def test_models_and_migrations_agree(migrated):
    engine = create_engine(migrated)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_migrations_create_every_table(migrated):
    engine = create_engine(migrated)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {t.name for t in metadata.sorted_tables} <= tables
    assert "alembic_version" in tables


def test_due_timers_and_inbox_queries_have_indexes(migrated):
    engine = create_engine(migrated)
    try:
        inspector = inspect(engine)
        timer_indexes = {tuple(i["column_names"]) for i in inspector.get_indexes("timers")}
        task_indexes = {tuple(i["column_names"]) for i in inspector.get_indexes("human_tasks")}
    finally:
        engine.dispose()
    assert ("due_at",) in timer_indexes
    assert ("state", "role") in task_indexes and ("assignee_id", "state") in task_indexes
