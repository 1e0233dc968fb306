"""State every instance shares, kept in the database and announced on the hub. A leader's "ask every device": leaders
only, scoped to the band, replaced when asked again, withdrawn by a leader, lapsed after ``PREPARE_DAYS``. A library
sync's progress: read from the database, a dead sync not shown running. Two instances on one PostgreSQL (each with
its own engine and hub) agree on both."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from soleil_ui.access import Actor
from soleil_ui.db import db
from soleil_ui.errors import Forbidden, NotFound
from soleil_ui.events import Event, EventHub, PgNotifyTransport, asyncpg_dsn, hub
from soleil_ui.models import PrepareRequest, Role, SyncState, utcnow
from soleil_ui.services import prepare, setlists, sync
from tests.library_helpers import band_with_member, real_library

pytestmark = pytest.mark.usefixtures("core")


async def _leader_with_setlist(band: str = "Swing Band") -> tuple[Actor, int]:
    leader = await band_with_member(band, [], role=Role.LEADER)
    async with db.session() as session:
        setlist = await setlists.create_setlist(session, leader, "Friday")
    return leader, setlist.id or 0


def _as_member(leader: Actor) -> Actor:
    return type(leader)(leader.user_id, leader.band_id, leader.membership_id, Role.MEMBER, leader.name, leader.email)


async def test_a_leader_asks_again_withdraws_and_members_only_read() -> None:
    leader, setlist_id = await _leader_with_setlist()
    member = _as_member(leader)
    async with db.session() as session:
        with pytest.raises(Forbidden):
            await prepare.ask(session, member, setlist_id)
        with pytest.raises(NotFound):
            await prepare.ask(session, leader, 999_999)
    async with db.session() as session:
        first = await prepare.ask(session, leader, setlist_id)
    async with db.session() as session:
        again = await prepare.ask(session, leader, setlist_id, audio=True)
    async with db.session() as session:
        standing = await prepare.standing(session, member)
        rows = (await session.exec(select(PrepareRequest))).all()
    assert len(rows) == 1 and again.at >= first.at  # asking again replaces the request
    assert list(standing) == [setlist_id] and standing[setlist_id].audio and standing[setlist_id].name == "Friday"
    assert standing[setlist_id].to_json()["setlist_id"] == setlist_id
    async with db.session() as session:
        with pytest.raises(Forbidden):
            await prepare.cancel(session, member, setlist_id)
        assert await prepare.cancel(session, leader, setlist_id)
    async with db.session() as session:
        assert await prepare.standing(session, member) == {}
        assert not await prepare.cancel(session, leader, setlist_id)  # nothing left to withdraw


async def test_requests_stay_in_their_band_and_lapse() -> None:
    leader, setlist_id = await _leader_with_setlist()
    other, other_setlist = await _leader_with_setlist("Brass Band")
    async with db.session() as session:
        await prepare.ask(session, leader, setlist_id)
        with pytest.raises(NotFound):  # another band's setlist
            await prepare.ask(session, other, setlist_id)
    async with db.session() as session:
        assert await prepare.standing(session, other) == {}
        assert not await prepare.cancel(session, other, setlist_id)
        row = (await session.exec(select(PrepareRequest))).one()
        row.asked_at -= timedelta(days=prepare.PREPARE_DAYS + 1)
        session.add(row)
    async with db.session() as session:
        assert await prepare.standing(session, leader) == {}  # lapsed
        await prepare.ask(session, other, other_setlist)  # asking purges the band's lapsed requests only
    async with db.session() as session:
        assert len((await session.exec(select(PrepareRequest))).all()) == 2


@pytest.fixture
async def second_instance(database_url: str) -> AsyncIterator[tuple[EventHub, AsyncSession]]:
    """Another app instance on the same PostgreSQL database: its own hub and its own engine (this process's global
    hub and ``db`` are the first instance)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("two instances share PostgreSQL")
    await hub.stop()
    hub.use_transport(PgNotifyTransport(asyncpg_dsn(database_url)))
    await hub.start()
    other = EventHub()
    other.use_transport(PgNotifyTransport(asyncpg_dsn(database_url)))
    await other.start()
    engine = create_async_engine(database_url)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        yield other, session
    await engine.dispose()
    await other.stop()
    await hub.stop()
    hub.use_transport(None)


async def test_two_instances_agree_on_requests(second_instance: tuple[EventHub, AsyncSession]) -> None:
    other, other_db = second_instance
    leader, setlist_id = await _leader_with_setlist()
    heard: asyncio.Queue[Event] = asyncio.Queue()
    other.subscribe(leader.band_id, prepare.PREPARE_TOPIC, heard.put_nowait)
    async with db.session() as session:  # the leader's page is served by the first instance
        await prepare.ask(session, leader, setlist_id, audio=True)
    event = await asyncio.wait_for(heard.get(), 10)  # a device open on the second instance hears it
    assert event.payload == {"setlist": setlist_id, "audio": True, "name": "Friday"}
    standing = await prepare.standing(other_db, _as_member(leader))  # one opened there later reads it
    assert [(r.setlist_id, r.audio) for r in standing.values()] == [(setlist_id, True)]
    assert await prepare.cancel(other_db, leader, setlist_id)  # withdrawn through the second instance
    await other_db.commit()
    async with db.session() as session:
        assert await prepare.standing(session, leader) == {}


async def test_sync_progress_is_read_from_the_database_and_a_dead_sync_is_not_running() -> None:
    leader = await band_with_member("Swing Band", [], role=Role.LEADER)
    assert (await sync.progress_of(leader.band_id)).phase == "idle"
    async with db.session() as session:
        session.add(SyncState(band_id=leader.band_id, progress={"running": True, "phase": "reading", "total": 9,
                                                                 "done": 3, "band_id": 999, "stray": 1},
                              updated_at=utcnow() - sync.SYNC_STALE - timedelta(minutes=1)))
    progress = await sync.progress_of(leader.band_id)  # its instance died mid-way: not running for ever
    assert (progress.band_id, progress.running, progress.phase, progress.error, progress.total) == \
        (leader.band_id, False, "failed", sync.CRASHED, 9)


async def test_two_instances_agree_on_sync_progress(second_instance: tuple[EventHub, AsyncSession],
                                                    tmp_path: Path) -> None:
    other, other_db = second_instance
    leader = await band_with_member("Swing Band", [{"instrument": "trumpet", "chair": 1}], role=Role.LEADER,
                                    library=real_library(tmp_path / "lib"))
    heard: asyncio.Queue[Event] = asyncio.Queue()
    other.subscribe(leader.band_id, "library", heard.put_nowait)
    progress = await sync.sync_configured(leader.band_id, prerender=False)  # run by the first instance
    assert progress.error is None and progress.added > 0
    phases = []
    while not phases or phases[-1] != "done":  # the second instance hears every phase (not every file)
        phases.append((await asyncio.wait_for(heard.get(), 10)).payload["sync"]["phase"])
    assert phases == ["listing", "reading", "done"]
    shared = await sync.read_progress(other_db, leader.band_id)  # a page it serves shows the same
    assert (shared.running, shared.phase, shared.total, shared.added) == (False, "done", progress.total,
                                                                          progress.added)
