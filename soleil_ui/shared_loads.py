"""Coalesced reads shared by every page of an instance: one load per key in flight, and the newest result kept.

A setlist edit reaches every open page as a version number on the hub; each page then asks here for "at least that
version", so 200 open pages cost one query per reader profile. What is kept is a cache of what the database said:
it is emptied whenever the database is (re)configured (``db.on_configure``: a restore, the next test), because ids
then mean other things. The truth stays in the database; this only saves repeating a read.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, Protocol, TypeVar

from .db import db


class Versioned(Protocol):
    @property
    def version(self) -> int: ...


T = TypeVar("T", bound=Versioned)


class SharedLoads(Generic[T]):
    """``get(key, wanted, load)`` returns a result whose ``version`` is at least ``wanted``, starting a load only
    when neither the kept result nor the one in flight can be it."""

    def __init__(self, size: int = 256) -> None:
        self._kept: OrderedDict[Hashable, T] = OrderedDict()
        self._flying: dict[Hashable, asyncio.Future[T]] = {}
        self._size = size
        self.loads = 0  # how many loads actually ran (tests, benchmarks)
        db.on_configure(self.clear)

    def clear(self) -> None:
        """Forget everything kept and in flight (the database changed under us)."""
        self._kept.clear()
        self._flying.clear()

    async def get(self, key: Hashable, wanted: int, load: Callable[[], Awaitable[T]], *, force: bool = False) -> T:
        result: T | None = None
        for _ in range(3):
            kept = self._kept.get(key)
            if kept is not None and kept.version >= wanted and not force:
                return kept
            flying = self._flying.get(key)
            if flying is None or flying.get_loop() is not asyncio.get_running_loop():
                flying = asyncio.ensure_future(self._load(key, load))
                self._flying[key] = flying
            result = await asyncio.shield(flying)
            force = False
            if result.version >= wanted:
                return result
        assert result is not None
        return result

    async def _load(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        try:
            self.loads += 1
            result = await load()
            kept = self._kept.get(key)
            if kept is None or kept.version <= result.version:
                self._kept[key] = result
                self._kept.move_to_end(key)
                while len(self._kept) > self._size:
                    self._kept.popitem(last=False)
            return result
        finally:
            self._flying.pop(key, None)

    def forget(self, key: Hashable) -> None:
        self._kept.pop(key, None)
