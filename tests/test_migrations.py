"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from soleil_ui.db import Database, db, head_revision
from tests.conftest import _pg_admin


@pytest.mark.usefixtures("core")
async def test_migrated_schema_matches_models() -> None:
    async with db.engine.connect() as connection:
        diff = await connection.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c, opts={"compare_type": False}),
                                       SQLModel.metadata))
    assert diff == []
    assert await db.current_revision() == head_revision()


@pytest.mark.usefixtures("core")
async def test_migrate_twice_is_a_no_op() -> None:
    first = await db.current_revision()
    assert await db.migrate() == first


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_migrations_build_the_schema_from_an_empty_database(kind: str, tmp_path: Path,
                                                                  pg_database: str | None) -> None:
    """What ``soleil run`` does on a new install (the other tests start from a migrated copy)."""
    name = f"soleil_empty_{uuid.uuid4().hex[:8]}"
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    elif pg_database is None:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    else:
        await _pg_admin(f'CREATE DATABASE "{name}"')
        url = pg_database.rsplit("/", 1)[0] + "/" + name
    fresh = Database()
    fresh.configure(url)
    try:
        assert await fresh.current_revision() is None
        assert await fresh.migrate() == head_revision()
        async with fresh.engine.connect() as connection:
            diff = await connection.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c, opts={"compare_type": False}),
                                           SQLModel.metadata))
        assert diff == []
    finally:
        await fresh.dispose()
        if kind == "postgres":
            await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
