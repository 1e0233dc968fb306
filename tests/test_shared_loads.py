"""The instance's shared reads (``soleil_ui/shared_loads.py``): identical reads coalesce into one load, a newer
version is loaded when asked for, and reconfiguring the database empties what was kept."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from soleil_ui.db import Database
from soleil_ui.shared_loads import SharedLoads


@dataclass(frozen=True)
class Read:
    version: int


async def test_identical_reads_share_one_load_and_a_newer_version_loads_again() -> None:
    loads: SharedLoads[Read] = SharedLoads()
    gate = asyncio.Event()
    version = 1

    async def load() -> Read:
        await gate.wait()
        return Read(version)

    waiting = [asyncio.ensure_future(loads.get("set", 1, load)) for _ in range(5)]
    await asyncio.sleep(0)  # every reader is waiting on the one load in flight
    gate.set()
    assert {r.version for r in await asyncio.gather(*waiting)} == {1} and loads.loads == 1
    assert (await loads.get("set", 0, load)).version == 1 and loads.loads == 1  # kept
    version = 2
    assert (await loads.get("set", 2, load)).version == 2 and loads.loads == 2  # wanted a newer one


async def test_reconfiguring_the_database_forgets_what_was_kept() -> None:
    database = Database()
    loads: SharedLoads[Read] = SharedLoads()
    database.on_configure(loads.clear)

    async def load() -> Read:
        return Read(7)

    await loads.get("set", 7, load)
    database.configure("sqlite+aiosqlite:///:memory:")  # a restore, or the next test's database
    await loads.get("set", 7, load)
    assert loads.loads == 2  # read again: ids in another database mean other things
    await database.dispose()
