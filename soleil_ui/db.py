"""The one engine and session factory, for SQLite (aiosqlite) and PostgreSQL (asyncpg).

The module holds a single ``Database`` configured at start-up (``configure``); services receive an
``AsyncSession`` from ``session()`` and never build engines of their own.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from .errors import SoleilError, UpstreamUnavailable

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_local_locks: dict[int, asyncio.Lock] = {}  # db.leadership on SQLite, where there is one instance


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the sync writer
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True, pool_recycle=1800,
                               connect_args={"timeout": 10})


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@functools.cache
def head_revision() -> str | None:
    """The newest migration (read from the migration scripts once per process)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


class Database:
    """Engine + session factory. ``configure`` once per process (tests may reconfigure)."""

    def __init__(self) -> None:
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        self._on_configure: list[Callable[[], None]] = []
        self.url: str = ""

    def configure(self, url: str) -> None:
        self.url = url
        self._engine = create_engine(url)
        self._sessions = async_sessionmaker(self._engine, class_=AsyncSession, expire_on_commit=False)
        for forget in self._on_configure:  # what was read from the previous database means nothing now
            forget()

    def on_configure(self, forget: Callable[[], None]) -> None:
        """Call ``forget`` whenever the database is (re)configured: caches of what it said register here."""
        self._on_configure.append(forget)

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("database not configured; call db.configure(url) at start-up")
        return self._engine

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits when the block ends cleanly, rolls back on any error."""
        if self._sessions is None:
            raise RuntimeError("database not configured; call db.configure(url) at start-up")
        async with self._sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def migrate(self) -> str | None:
        """Bring the schema to the newest migration; returns the revision now applied."""

        def upgrade(connection: Connection) -> None:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

        try:
            current = await self.current_revision()
            if current is not None and current == head_revision():  # every restart: nothing to run
                return current
            async with self.engine.begin() as connection:
                await connection.run_sync(upgrade)
        except SoleilError:
            raise
        except (OSError, TimeoutError, DBAPIError) as exc:
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
            raise UpstreamUnavailable(f"The database at {self.safe_url} is unreachable: {reason}") from exc
        return await self.current_revision()

    async def current_revision(self) -> str | None:
        async with self.engine.connect() as connection:
            return await connection.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    @property
    def safe_url(self) -> str:
        """The URL without its password, for messages and logs."""
        return make_url(self.url).render_as_string(hide_password=True) if self.url else ""

    async def dispose(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()

    @asynccontextmanager
    async def leadership(self, key: int) -> AsyncIterator[bool]:
        """``async with db.leadership(KEY) as leading: if leading: ...``: True for exactly one process at a time.

        On PostgreSQL a session-level advisory lock on ``key`` held on a dedicated connection for the block; on
        SQLite (one instance) an in-process lock per key. Never waits: another holder means this one skips its turn.
        """
        if self.is_sqlite:
            lock = _local_locks.setdefault(key, asyncio.Lock())
            if lock.locked():
                yield False
                return
            async with lock:
                yield True
            return
        async with self.engine.connect() as connection:
            got = bool(await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}))
            await connection.commit()
            try:
                yield got
            finally:
                if got:
                    await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    await connection.commit()


db = Database()
