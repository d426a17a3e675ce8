"""The shipped migrations build exactly the schema the models describe, on SQLite and PostgreSQL, and
applying them again changes nothing."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from ppcti.store import Base, Database


def test_migrations_match_the_models(db_url: str) -> None:
    db = Database(db_url)
    db.migrate()
    db.migrate()  # idempotent
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        tables = set(inspect(connection).get_table_names())
    db.dispose()
    assert diff == []
    assert {"holders", "users", "web_sessions", "api_tokens", "uploads", "jobs", "alembic_version"} <= tables
