"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from soleil_ui.db import db, head_revision

pytestmark = pytest.mark.usefixtures("core")


async def test_migrated_schema_matches_models() -> None:
    async with db.engine.connect() as connection:
        diff = await connection.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c, opts={"compare_type": False}),
                                       SQLModel.metadata))
    assert diff == []
    assert await db.current_revision() == head_revision()


async def test_migrate_twice_is_a_no_op() -> None:
    first = await db.current_revision()
    assert await db.migrate() == first
