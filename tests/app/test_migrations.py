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


def test_0022_gives_every_relationship_with_a_partner_its_partner_row(tmp_path):
    """Migration 0022 (several partners per relationship): each existing profile with a partner organisation
    becomes that relationship's one partner row, the lead partner; a profile without one gets none."""
    from sqlalchemy import text

    from app.migrate import upgrade
    url = f"sqlite:///{tmp_path / 'before_0022.db'}"
    upgrade(url, "0021")
    engine = create_engine(url)
    try:
        with engine.begin() as db:
            db.execute(text("INSERT INTO organisations (id, name, kind, created_at, active) VALUES "
                            "(1, 'Us', 'own', '2026-01-01 00:00:00', 1), (2, 'ACME Ltd', 'partner', "
                            "'2026-01-01 00:00:00', 1)"))
            db.execute(text("INSERT INTO process_versions (id, content_hash, created_at, process_ids, spec_json) "
                            "VALUES (1, 'x', '2026-01-01 00:00:00', '[]', '{}')"))
            db.execute(text("INSERT INTO process_instances (id, process_id, status, state, state_format, revision, "
                            "data, created_at, updated_at, version_id) SELECT 10 + n, 'lifecycle', 'running', '{}', "
                            "'json', 1, '{}', '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1 "
                            "FROM (SELECT 1 AS n UNION SELECT 2)"))
            db.execute(text("INSERT INTO relationship_profiles (instance_id, partner_name, partner_organisation_id, "
                            "created_at) VALUES (11, 'ACME Ltd', 2, '2026-01-02 00:00:00'), "
                            "(12, 'Nobody yet', NULL, '2026-01-02 00:00:00')"))
        upgrade(url)
        with engine.connect() as db:
            rows = db.execute(text("SELECT instance_id, organisation_id, partner_name, position "
                                   "FROM relationship_partners")).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [(11, 2, "ACME Ltd", 0)]
