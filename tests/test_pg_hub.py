"""The event hub: chunked in-order delivery, LISTEN/NOTIFY between instances (PostgreSQL), reconnection after the
listening connection is lost, band isolation across instances, and one sync leader at a time."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from soleil_ui.db import db
from soleil_ui.events import CHUNK, Event, EventHub, PgNotifyTransport, asyncpg_dsn, configure_hub, hub
from soleil_ui.services.live import sync_leadership


class Heard:
    """Collects events and lets a test await the n-th one instead of sleeping."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Event()

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        self._changed.set()

    async def count(self, n: int, timeout: float = 10) -> list[Event]:
        async def wait() -> None:
            while len(self.events) < n:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(wait(), timeout)
        return self.events


async def test_big_broadcasts_yield_to_the_loop_and_keep_their_order() -> None:
    events = EventHub()
    seen: list[list[int]] = [[] for _ in range(CHUNK * 4)]
    for n in range(len(seen)):
        events.subscribe(7, "live", lambda e, n=n: seen[n].append(e.payload["seq"]))
    progress: list[int] = []

    async def meanwhile() -> None:  # another client's work, scheduled while the broadcast runs
        progress.append(sum(len(s) for s in seen))

    first = asyncio.ensure_future(events.publish(Event(7, "live", {"seq": 1})))
    second = asyncio.ensure_future(events.publish(Event(7, "live", {"seq": 2})))
    other = asyncio.ensure_future(meanwhile())
    await asyncio.gather(first, second, other)
    assert all(s == [1, 2] for s in seen)
    assert 0 < progress[0] < 2 * len(seen)  # the loop ran in between: no broadcast holds it from start to end
    with pytest.raises(ValueError, match="send ids"):
        await events.publish(Event(7, "live", {"list": "x" * 9000}))


async def test_sqlite_and_unknown_urls_keep_the_in_process_hub() -> None:
    assert configure_hub("sqlite+aiosqlite:///x.db") is hub and not hub.is_distributed
    assert asyncpg_dsn("postgresql+asyncpg://u:p@h:5/d?ssl=require") == "postgresql://u:p@h:5/d?ssl=require"


@pytest.fixture
async def instances(pg_database: str | None) -> list[EventHub]:
    """Two hubs as two app instances would have them, on the test run's PostgreSQL database."""
    if pg_database is None:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    hubs = []
    for _ in range(2):
        instance = EventHub()
        instance.use_transport(PgNotifyTransport(asyncpg_dsn(pg_database)))
        await instance.start()
        hubs.append(instance)
    yield hubs
    for instance in hubs:
        await instance.stop()


async def test_events_cross_instances_once_and_never_cross_bands(instances: list[EventHub]) -> None:
    one, two = instances
    here, there, other_band, echo = Heard(), Heard(), Heard(), Heard()
    one.subscribe(1, "setlist:5", here)
    two.subscribe(1, "setlist:5", there)
    two.subscribe(2, "setlist:5", other_band)
    one.subscribe(2, "setlist:5", echo)
    await one.publish(Event(1, "setlist:5", {"version": 3}))
    await one.publish(Event(1, "setlist:5", {"version": 4}))
    await two.publish(Event(2, "setlist:5", {"version": 9}))
    assert [e.payload["version"] for e in await there.count(2)] == [3, 4]  # in order
    assert [e.payload for e in await echo.count(1)] == [{"version": 9}]
    await asyncio.wait_for(two.drain(), 5)
    assert [e.payload["version"] for e in here.events] == [3, 4]  # its own, delivered locally, not echoed back
    assert [e.payload for e in other_band.events] == [{"version": 9}]  # band 2's subscriber: band 2 only
    assert all(e.band_id == 1 for e in there.events)


async def test_the_listener_reconnects_and_pages_resync(instances: list[EventHub], pg_database: str) -> None:
    one, two = instances
    heard = Heard()
    two.subscribe(1, "live", heard)
    transport = two._transport
    assert transport is not None
    pid = transport._listener.get_server_pid()
    admin = await asyncpg.connect(asyncpg_dsn(pg_database))
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    events = await heard.count(1)  # after reconnecting, every subscriber is told to re-read
    assert events[0].payload == {"resync": True}
    assert transport.reconnects == 1 and transport._listener.get_server_pid() != pid
    await one.publish(Event(1, "live", {"seq": 5}))
    assert (await heard.count(2))[1].payload == {"seq": 5}


async def test_publishing_survives_a_lost_sending_connection(instances: list[EventHub], pg_database: str) -> None:
    one, two = instances
    heard = Heard()
    two.subscribe(3, "live", heard)
    await one.publish(Event(3, "live", {"seq": 1}))
    await heard.count(1)
    transport = one._transport
    assert transport is not None and transport._sender is not None
    transport._sender.terminate()  # the next send finds it closed and reconnects
    await one.publish(Event(3, "live", {"seq": 2}))
    assert [e.payload["seq"] for e in await heard.count(2)] == [1, 2]


@pytest.mark.usefixtures("core")
async def test_only_one_instance_leads_the_scheduled_sync() -> None:
    async with sync_leadership() as first:
        async with sync_leadership() as second:  # another instance (another connection) at the same moment
            assert (first, second) == (True, False)
    async with sync_leadership() as again:
        assert again
    assert db.url
