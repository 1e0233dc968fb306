"""A ``limits`` storage on our own database table, for several instances sharing PostgreSQL and no Redis.

Only the fixed-window strategy is supported (``incr``/``get``/``get_expiry``): one row per limit key, updated by a
single atomic upsert, so concurrent instances never lose a hit. An expired row is restarted by the next hit and
``sweep`` (the hourly job) deletes the ones nobody hit again. Works on SQLite too (tests, a single box).
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from limits.aio.storage import Storage
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from .db import Database, db
from .models import RateLimit

TABLE = RateLimit.__table__  # type: ignore[attr-defined]


class DatabaseStorage(Storage):
    """Fixed-window counters in the ``rate_limit`` table."""

    STORAGE_SCHEME = ["soleil+database"]  # noqa: RUF012 (the limits registry reads this attribute)

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, database: Database = db,
                 **options: float | str | bool) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.database = database

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return (SQLAlchemyError, OSError)

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count ``amount`` hits in the key's window, starting a new window when the old one is over."""
        now = time.time()
        dialect = sqlite if self.database.is_sqlite else postgresql
        insert = dialect.insert(TABLE).values(key=key, count=amount, expires_at=now + expiry)
        expired = TABLE.c.expires_at <= now
        statement = insert.on_conflict_do_update(index_elements=[TABLE.c.key], set_={
            "count": sa.case((expired, amount), else_=TABLE.c.count + amount),
            "expires_at": sa.case((expired, now + expiry), else_=TABLE.c.expires_at),
        }).returning(TABLE.c.count)
        async with self.database.engine.begin() as connection:
            return int((await connection.execute(statement)).scalar_one())

    async def _live(self, key: str) -> tuple[int, float] | None:
        async with self.database.engine.begin() as connection:
            row = (await connection.execute(sa.select(TABLE.c.count, TABLE.c.expires_at).where(
                TABLE.c.key == key, TABLE.c.expires_at > time.time()))).first()
        return (int(row[0]), float(row[1])) if row is not None else None

    async def get(self, key: str) -> int:
        found = await self._live(key)
        return found[0] if found else 0

    async def get_expiry(self, key: str) -> float:
        found = await self._live(key)
        return found[1] if found else time.time()

    async def check(self) -> bool:
        try:
            await self.database.ping()
        except (SQLAlchemyError, OSError):
            return False
        return True

    async def reset(self) -> int | None:
        async with self.database.engine.begin() as connection:
            return (await connection.execute(sa.delete(TABLE))).rowcount

    async def clear(self, key: str) -> None:
        async with self.database.engine.begin() as connection:
            await connection.execute(sa.delete(TABLE).where(TABLE.c.key == key))

    async def sweep(self) -> int:
        """Delete windows that are over (the next hit would restart them anyway)."""
        async with self.database.engine.begin() as connection:
            result = await connection.execute(sa.delete(TABLE).where(TABLE.c.expires_at <= time.time()))
            return int(result.rowcount)
