"""How a request's database session ends (app.db.end_read_only): a transaction that only read ends with COMMIT,
so psycopg keeps the statements it prepared across requests; one that wrote and was not committed is still
rolled back. PostgreSQL only: SQLite has no prepared statements to keep and never takes this path."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from app.auth.models import User
from app.db import end_read_only

pytestmark = pytest.mark.commits


@pytest.fixture
def postgresql(app):
    if app.extensions["collabflow"].db_engine.dialect.name != "postgresql":
        pytest.skip("prepared statements and this ending are PostgreSQL's")


def prepared(services) -> list[str]:
    with services.db_engine.connect() as connection:
        return list(connection.scalars(text("SELECT statement FROM pg_prepared_statements")))


def test_read_only_requests_keep_their_prepared_statements(postgresql, app, services, api, users):
    services.db_engine.dispose()  # one pooled connection from here on: each request below gets it in turn
    staff = api("staff")
    for _ in range(8):  # psycopg prepares a statement on its sixth run
        assert staff.get("tasks").status_code == 200
    assert any("FROM api_tokens" in statement for statement in prepared(services)), (
        "each read-only request ended with ROLLBACK, and psycopg forgot what it had prepared")


def test_a_transaction_that_wrote_is_rolled_back_not_committed(postgresql, services, users):
    with services.sessions() as session:
        session.execute(text("UPDATE users SET display_name = 'Changed' WHERE username = 'staff'"))
        end_read_only(session)
        assert session.in_transaction()  # left to the rollback that closing sends
    with services.sessions() as session:
        assert session.scalar(select(User.display_name).where(User.username == "staff")) != "Changed"
        session.scalar(select(func.count()).select_from(User))
        end_read_only(session)
        assert not session.in_transaction()  # only read: committed
