"""Live mode through the service layer, on SQLite and PostgreSQL: leaders drive, members follow, two bands live at
once never hear each other, presence, and what was played."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import update

from soleil_ui.access import Actor
from soleil_ui.db import db
from soleil_ui.errors import Conflict, Forbidden, InvalidInput, NotFound
from soleil_ui.events import Event, hub
from soleil_ui.models import LivePresence, utcnow
from soleil_ui.services import gigs, live, setlists
from soleil_ui.services.setlists import Op
from tests.factories import apply_op, band_with_songs, member_of, new_setlist

pytestmark = pytest.mark.usefixtures("core")


async def _setlist_with_songs(leader: Actor, songs: list[int], name: str = "Gig") -> tuple[int, list[int]]:
    setlist_id = await new_setlist(leader, name)
    await apply_op(leader, setlist_id, Op.insert_break("Set 1"))
    items = [(await apply_op(leader, setlist_id, Op.insert_song(song))).item_id or 0 for song in songs]
    return setlist_id, items


async def test_leader_calls_songs_and_everyone_hears_in_order() -> None:
    leader, songs, _ = await band_with_songs("Live Band", songs=4)
    member = await member_of(leader, "ava@live.org")
    setlist_id, items = await _setlist_with_songs(leader, songs)
    heard: list[Event] = []
    hub.subscribe(leader.band_id, live.LIVE_TOPIC, heard.append)
    async with db.session() as session:
        state = await live.start(session, leader, setlist_id)
    assert (state.current_item_id, state.seq, state.setlist_name) == (items[0], 1, "Gig")
    moves = []
    for step in (1, 1, -1, 5, -9):
        async with db.session() as session:
            moves.append((await live.move(session, leader, state.live_id, step=step)).current_item_id)
    assert moves == [items[1], items[2], items[1], items[3], items[0]]  # clamped at both ends
    async with db.session() as session:
        jumped = await live.move(session, leader, state.live_id, item_id=items[2])
        assert (await live.current(session, member)) == jumped
    await hub.drain()
    assert [e.payload["kind"] for e in heard] == ["start"] + ["move"] * 6
    assert [e.payload["seq"] for e in heard] == list(range(1, 8))
    assert heard[-1].payload == {"kind": "move", "live": state.live_id, "setlist": setlist_id, "item": items[2],
                                 "seq": 7, "turns": False, "page": 0}
    async with db.session() as session:
        await live.stop(session, leader)
    await hub.drain()
    assert heard[-1].payload["kind"] == "stop"
    async with db.session() as session:
        assert await live.current(session, member) is None
        with pytest.raises(Conflict):
            await live.move(session, leader, state.live_id, step=1)


async def test_followers_turn_with_the_leader_only_when_the_leader_chose_it() -> None:
    leader, songs, _ = await band_with_songs("Turns", songs=3)
    member = await member_of(leader, "t@turns.org")
    other, _, _ = await band_with_songs("Elsewhere", songs=1)
    setlist_id, items = await _setlist_with_songs(leader, songs)
    heard: list[Event] = []
    hub.subscribe(leader.band_id, live.LIVE_TOPIC, heard.append)
    async with db.session() as session:
        state = await live.start(session, leader, setlist_id)
        assert await live.turn_page(session, leader, state.live_id, items[0], 1) is None  # off by default
    async with db.session() as session:
        with pytest.raises(Forbidden):
            await live.set_turn_pages(session, member, state.live_id, True)
        with pytest.raises(Forbidden):
            await live.turn_page(session, member, state.live_id, items[0], 1)
        with pytest.raises(Conflict):  # another band's leader can't touch this session
            await live.set_turn_pages(session, other, state.live_id, True)
        assert (await live.set_turn_pages(session, leader, state.live_id, True)).turn_pages is True
    async with db.session() as session:
        turned = await live.turn_page(session, leader, state.live_id, items[0], 2)
        assert turned is not None and (turned.page, turned.seq) == (2, 3)
        assert await live.turn_page(session, leader, state.live_id, items[0], 2) is None  # the same page: no news
        assert await live.turn_page(session, leader, state.live_id, items[1], 1) is None  # not the called song
        assert await live.turn_page(session, other, state.live_id, items[0], 1) is None
        with pytest.raises(InvalidInput):
            await live.turn_page(session, leader, state.live_id, items[0], 10**30)
        assert (await live.current(session, member)) == turned
    async with db.session() as session:
        moved = await live.move(session, leader, state.live_id, step=1)
        assert (moved.page, moved.turn_pages) == (0, True)  # a new song opens at its first page
    await hub.drain()
    assert [(e.payload["kind"], e.payload["page"]) for e in heard] == [
        ("start", 0), ("turns", 0), ("page", 2), ("move", 0)]


async def test_only_leaders_drive_and_bad_calls_are_refused() -> None:
    leader, songs, _ = await band_with_songs("Drive", songs=2)
    member = await member_of(leader, "m@drive.org")
    setlist_id, _ = await _setlist_with_songs(leader, songs)
    async with db.session() as session:
        with pytest.raises(Forbidden):
            await live.start(session, member, setlist_id)
        state = await live.start(session, leader, setlist_id)
    async with db.session() as session:
        with pytest.raises(Forbidden):
            await live.move(session, member, state.live_id, step=1)
        with pytest.raises(Forbidden):
            await live.stop(session, member)
        with pytest.raises(Forbidden):
            await live.presence(session, member)
        with pytest.raises(InvalidInput):
            await live.move(session, leader, state.live_id)
        with pytest.raises(NotFound):
            await live.move(session, leader, state.live_id, item_id=123456)
        with pytest.raises(NotFound):
            await live.start(session, leader, setlist_id, item_id=123456)


async def test_two_bands_live_at_once_never_hear_each_other() -> None:
    band_a, songs_a, _ = await band_with_songs("Alpha", songs=3)
    band_b, songs_b, _ = await band_with_songs("Beta", songs=3)
    list_a, items_a = await _setlist_with_songs(band_a, songs_a)
    list_b, items_b = await _setlist_with_songs(band_b, songs_b)
    heard_a: list[Event] = []
    heard_b: list[Event] = []
    hub.subscribe(band_a.band_id, live.LIVE_TOPIC, heard_a.append)
    hub.subscribe(band_b.band_id, live.LIVE_TOPIC, heard_b.append)
    async with db.session() as session:
        state_a = await live.start(session, band_a, list_a)
        state_b = await live.start(session, band_b, list_b)
    for _ in range(2):
        async with db.session() as session:
            await live.move(session, band_a, state_a.live_id, step=1)
            await live.move(session, band_b, state_b.live_id, step=1)
    await hub.drain()
    assert {e.payload["item"] for e in heard_a} == set(items_a)
    assert {e.payload["item"] for e in heard_b} == set(items_b)
    assert {e.band_id for e in heard_a} == {band_a.band_id} and {e.band_id for e in heard_b} == {band_b.band_id}
    async with db.session() as session:  # neither leader can drive or see the other band's live session
        with pytest.raises(Conflict):
            await live.move(session, band_a, state_b.live_id, step=1)
        with pytest.raises(NotFound):
            await live.start(session, band_a, list_b)
        assert (await live.current(session, band_a)).setlist_id == list_a  # type: ignore[union-attr]


async def test_going_live_on_another_setlist_ends_the_first() -> None:
    leader, songs, _ = await band_with_songs("Twice", songs=2)
    first, _ = await _setlist_with_songs(leader, songs, "First")
    second, items = await _setlist_with_songs(leader, songs, "Second")
    async with db.session() as session:
        old = await live.start(session, leader, first)
    async with db.session() as session:
        new = await live.start(session, leader, second, item_id=items[1])
    async with db.session() as session:
        assert (await live.current(session, leader)) == new
        with pytest.raises(Conflict):
            await live.move(session, leader, old.live_id, step=1)
    assert new.current_item_id == items[1]


async def test_a_removed_live_song_steps_from_the_top() -> None:
    leader, songs, _ = await band_with_songs("Removed", songs=3)
    setlist_id, items = await _setlist_with_songs(leader, songs)
    async with db.session() as session:
        state = await live.start(session, leader, setlist_id, item_id=items[1])
    await apply_op(leader, setlist_id, Op.remove(items[1]))
    async with db.session() as session:
        assert (await live.move(session, leader, state.live_id, step=1)).current_item_id == items[0]


async def test_presence_shows_who_is_connected_and_who_follows() -> None:
    leader, _, _ = await band_with_songs("Presence", songs=1)
    ava = await member_of(leader, "ava@presence.org")
    luis = await member_of(leader, "luis@presence.org")
    async with db.session() as session:
        await live.join(session, ava, "page-1", following=True)
        await live.join(session, ava, "page-2")
        await live.join(session, luis, "page-3")
    async with db.session() as session:
        await live.set_presence(session, luis, "page-3", connected=False)
    async with db.session() as session:
        states = {p.membership_id: p.state for p in await live.presence(session, leader)}
    assert (states[ava.membership_id], states[luis.membership_id], states[leader.membership_id]) == (
        "following", "away", "away")
    async with db.session() as session:
        await live.leave(session, ava, "page-1")
        await live.set_presence(session, luis, "page-3", connected=True, following=True)
        await session.exec(update(LivePresence).where(LivePresence.client_key == "page-2")  # type: ignore[arg-type]
                           .values(seen_at=utcnow() - timedelta(minutes=5)))  # its instance died
    async with db.session() as session:
        states = {p.membership_id: p.state for p in await live.presence(session, leader)}
    assert (states[ava.membership_id], states[luis.membership_id]) == ("away", "following")
    async with db.session() as session:
        await live.touch_instance(session)
        states = {p.membership_id: p.state for p in await live.presence(session, leader)}
    assert states[ava.membership_id] == "detached"  # its instance is alive after all, on a page not following
    other, _, _ = await band_with_songs("Elsewhere", songs=1)
    async with db.session() as session:
        with pytest.raises(NotFound):
            await live.join(session, other, "page-3")  # another band can't take over a page id


async def test_live_calls_become_the_gigs_history() -> None:
    leader, songs, _ = await band_with_songs("History", songs=3)
    setlist_id, items = await _setlist_with_songs(leader, songs)
    async with db.session() as session:
        gig = await gigs.create_gig(session, leader, title="Tonight", starts_at=utcnow() + timedelta(hours=1),
                                    setlist_id=setlist_id)
        state = await live.start(session, leader, setlist_id)
    assert state.gig_id == gig.id
    for target in (items[2], items[0], items[2]):  # the leader skips ahead, then back: each song counted once
        async with db.session() as session:
            await live.move(session, leader, state.live_id, item_id=target)
    async with db.session() as session:
        played = await gigs.played_at_gig(session, leader, gig.id or 0)
        assert [p.song_id for p in played] == [songs[0], songs[2]]
        assert await gigs.last_played(session, leader, songs[2]) is not None
        assert await gigs.last_played(session, leader, songs[1]) is None


async def test_setlist_events_carry_only_ids_and_versions() -> None:
    leader, songs, _ = await band_with_songs("Small", songs=1)
    setlist_id = await new_setlist(leader)
    heard: list[Event] = []
    hub.subscribe(leader.band_id, setlists.topic(setlist_id), heard.append)
    await apply_op(leader, setlist_id, Op.insert_song(songs[0], notes="n" * 500))
    await hub.drain()
    assert heard[0].payload == {"version": 1}
