"""Alembic environment: runs on a connection handed in by ``Database.migrate`` (async engines)."""

from alembic import context
from sqlmodel import SQLModel

from soleil_ui import models  # noqa: F401  (registers every table on the metadata)

target_metadata = SQLModel.metadata
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `soleil migrate` (Database.migrate), which supplies a connection")

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
