"""What every benchmark needs first: an empty database at the latest schema and an app bound to it."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def fresh_app(database_url: str | None, name: str, **config):
    """(app, url): a new SQLite file, or the given PostgreSQL database emptied (its public schema is dropped)."""
    from sqlalchemy import create_engine, text

    workdir = tempfile.mkdtemp(prefix=f"collabflow-bench-{name}-")
    url = database_url or f"sqlite:///{workdir}/bench.sqlite3"
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    os.environ["COLLABFLOW_INSTANCE"] = workdir
    from app import create_app
    from app.migrate import upgrade
    upgrade(url)
    return create_app({"DATABASE_URL": url, **config}), url
