"""Live mode: a leader plays a setlist and calls the songs; followers' stands open each one in their own part.

State lives in the database (``live_session``), so any instance, and any page that reconnects after a phone
slept, can re-sync from it; changes travel as small hub events on the band's ``live`` topic
(``{"kind": "start"|"move"|"stop", "live", "setlist", "item", "seq"}``). ``seq`` counts the leader's moves so a
page that hears of two moves out of order keeps the newer one. Only leaders start, drive and stop (checked here).

Presence (who has a page open, who follows) is one ``live_presence`` row per open page, kept by the instance that
serves it (``instance``) and refreshed by ``touch_instance``; a change publishes ``{"kind": "presence"}`` on the
band's ``presence`` topic, which only leaders' consoles listen to. ``following`` on a row means the page shows the
song the leader called and will take the next call (the page decides it from what the reader chose, never from a
late report of the browser, see ``components.setlist_stand``); a connected page that doesn't is *detached* (the
reader browsed to another song, or reads the setlist page), a page whose connection dropped is *away*.

Each called song is also remembered in ``performance`` (once per live session), which is what the song page's
"last played" reads.

``sync_leadership`` lets exactly one instance run the scheduled library sync (a PostgreSQL advisory lock).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from ..access import Actor
from ..db import db
from ..errors import Conflict, InvalidInput, NotFound
from ..events import Event, hub
from ..models import (
    Gig,
    LivePresence,
    LiveSession,
    Membership,
    Performance,
    Role,
    Setlist,
    SetlistItem,
    Song,
    User,
    utcnow,
)
from . import setlists

LIVE_TOPIC = "live"
PRESENCE_TOPIC = "presence"
STALE_AFTER = timedelta(seconds=75)  # presence not refreshed for this long no longer counts
TOUCH_EVERY = 20.0  # seconds between an instance's presence refreshes
GIG_WINDOW = timedelta(hours=12)  # a live session this close to a gig of the same setlist belongs to that gig
SYNC_LOCK_KEY = 0x50_1E_11_5C  # the advisory lock id of the scheduled library sync


@dataclass(frozen=True, slots=True)
class LiveState:
    live_id: int
    setlist_id: int
    setlist_name: str
    current_item_id: int | None
    seq: int
    started_at: datetime
    gig_id: int | None
    turn_pages: bool = False  # followers turn pages with the leader (the leader's option, per session)
    page: int = 0  # the leader's page of the current song (meaningful with ``turn_pages``)

    def payload(self, kind: str) -> dict[str, Any]:
        return {"kind": kind, "live": self.live_id, "setlist": self.setlist_id, "item": self.current_item_id,
                "seq": self.seq, "turns": self.turn_pages, "page": self.page}


async def _state(session: AsyncSession, live: LiveSession) -> LiveState:
    setlist = await session.get(Setlist, live.setlist_id)
    assert live.id is not None
    return LiveState(live.id, live.setlist_id, setlist.name if setlist else "", live.current_item_id, live.seq,
                     live.started_at, live.gig_id, live.turn_pages, live.page)


async def current(session: AsyncSession, actor: Actor) -> LiveState | None:
    """The band's open live session, if any (for a substitute: only when it plays their gig's setlist)."""
    live = (await session.exec(select(LiveSession).where(LiveSession.band_id == actor.band_id,
                                                         col(LiveSession.ended_at).is_(None))
                               .order_by(col(LiveSession.id).desc()).limit(1)
                               .execution_options(populate_existing=True))).first()
    if live is None:
        return None
    if actor.is_sub:
        try:
            await setlists.get_setlist(session, actor, live.setlist_id)
        except NotFound:
            return None
    return await _state(session, live)


async def _song_ids(session: AsyncSession, band_id: int, setlist_id: int) -> list[tuple[int, int | None]]:
    """(item id, song id) of the setlist's songs in order (breaks left out: one calls songs)."""
    query = (select(SetlistItem.id, SetlistItem.song_id).where(
        SetlistItem.setlist_id == setlist_id, SetlistItem.band_id == band_id, col(SetlistItem.is_break).is_(False))
        .order_by(col(SetlistItem.position), col(SetlistItem.id)))
    return [(item_id, song_id) for item_id, song_id in (await session.exec(query)).all() if item_id is not None]


async def start(session: AsyncSession, actor: Actor, setlist_id: int, *, item_id: int | None = None,
                gig_id: int | None = None) -> LiveState:
    """Go live on a setlist (ending any other live session of the band), at ``item_id`` or the first song."""
    actor.require_leader()
    setlist = await setlists.get_setlist(session, actor, setlist_id)
    await _end_open(session, actor.band_id)
    songs = await _song_ids(session, actor.band_id, setlist_id)
    if item_id is not None and item_id not in [i for i, _ in songs]:
        raise NotFound("That song isn't in this setlist any more.")
    if gig_id is None:
        now = utcnow()
        gig_id = (await session.exec(select(Gig.id).where(
            Gig.band_id == actor.band_id, Gig.setlist_id == setlist.id, col(Gig.starts_at) >= now - GIG_WINDOW,
            col(Gig.starts_at) <= now + GIG_WINDOW).order_by(col(Gig.starts_at)).limit(1))).first()
    live = LiveSession(band_id=actor.band_id, setlist_id=setlist_id, gig_id=gig_id, started_by=actor.membership_id,
                       current_item_id=item_id if item_id is not None else (songs[0][0] if songs else None), seq=1)
    session.add(live)
    await session.flush()
    await _remember_played(session, live)
    state = await _state(session, live)
    hub.publish_after_commit(session, Event(actor.band_id, LIVE_TOPIC, state.payload("start")))
    return state


async def _end_open(session: AsyncSession, band_id: int) -> None:
    for live in (await session.exec(select(LiveSession).where(LiveSession.band_id == band_id,
                                                              col(LiveSession.ended_at).is_(None)))).all():
        live.ended_at = utcnow()
        live.seq += 1
        session.add(live)
        assert live.id is not None
        hub.publish_after_commit(session, Event(band_id, LIVE_TOPIC, {
            "kind": "stop", "live": live.id, "setlist": live.setlist_id, "item": None, "seq": live.seq}))


async def stop(session: AsyncSession, actor: Actor) -> None:
    """End the band's live session; followers keep reading where they are."""
    actor.require_leader()
    await _end_open(session, actor.band_id)


async def _lock_live(session: AsyncSession, actor: Actor, live_id: int) -> LiveSession:
    # A write first: the row lock on PostgreSQL, the write lock on SQLite; so two leaders' moves queue up.
    result = await session.exec(update(LiveSession).where(col(LiveSession.id) == live_id,
                                                          col(LiveSession.band_id) == actor.band_id,
                                                          col(LiveSession.ended_at).is_(None))
                                .values(seq=LiveSession.seq + 1))
    if not result.rowcount:
        raise Conflict("Live mode has ended.")
    live = (await session.exec(select(LiveSession).where(LiveSession.id == live_id)
                               .execution_options(populate_existing=True))).one()
    return live


async def move(session: AsyncSession, actor: Actor, live_id: int, *, item_id: int | None = None,
               step: int = 0) -> LiveState:
    """Call a song: ``item_id`` (jump), or ``step`` songs on from the current one (next = 1, previous = -1).

    Stepping past either end stays on the last/first song. A current song that was removed meanwhile steps
    from the start of the list.
    """
    actor.require_leader()
    if item_id is None and step == 0:
        raise InvalidInput("Say which song to call.")
    live = await _lock_live(session, actor, live_id)
    songs = [i for i, _ in await _song_ids(session, actor.band_id, live.setlist_id)]
    if not songs:
        raise InvalidInput("This setlist has no songs to call.")
    if item_id is not None:
        if item_id not in songs:
            raise NotFound("That song isn't in this setlist any more.")
        target = item_id
    else:
        here = songs.index(live.current_item_id) if live.current_item_id in songs else -1
        target = songs[max(0, min(len(songs) - 1, here + step))] if here >= 0 else songs[0]
    live.current_item_id, live.page = target, 0
    session.add(live)
    await session.flush()
    await _remember_played(session, live)
    state = await _state(session, live)
    hub.publish_after_commit(session, Event(actor.band_id, LIVE_TOPIC, state.payload("move")))
    return state


async def set_turn_pages(session: AsyncSession, actor: Actor, live_id: int, on: bool) -> LiveState:
    """The leader's option for this session: followers' stands turn pages with the leader's (off by default)."""
    actor.require_leader()
    live = await _lock_live(session, actor, live_id)
    live.turn_pages = bool(on)
    session.add(live)
    await session.flush()
    state = await _state(session, live)
    hub.publish_after_commit(session, Event(actor.band_id, LIVE_TOPIC, state.payload("turns")))
    return state


MAX_PAGE = 999


async def turn_page(session: AsyncSession, actor: Actor, live_id: int, item_id: int, page: int) -> LiveState | None:
    """The leader turned to ``page`` of the song ``item_id``: with ``turn_pages`` on and that song still the one
    called, every follower reading it turns there too. Otherwise nothing happens (None): a turn never calls a song."""
    actor.require_leader()
    if type(page) is not int or not 0 <= page <= MAX_PAGE:
        raise InvalidInput("That page doesn't exist.")
    live = (await session.exec(select(LiveSession).where(LiveSession.id == live_id,
                                                         LiveSession.band_id == actor.band_id,
                                                         col(LiveSession.ended_at).is_(None)))).first()
    if live is None or not live.turn_pages or live.current_item_id != item_id or live.page == page:
        return None
    live = await _lock_live(session, actor, live_id)
    if live.current_item_id != item_id:  # called away meanwhile
        return None
    live.page = page
    session.add(live)
    await session.flush()
    state = await _state(session, live)
    hub.publish_after_commit(session, Event(actor.band_id, LIVE_TOPIC, state.payload("page")))
    return state


async def _remember_played(session: AsyncSession, live: LiveSession) -> None:
    """The called song goes into the band's performance history, once per live session."""
    if live.current_item_id is None:
        return
    item = await session.get(SetlistItem, live.current_item_id)
    if item is None or item.song_id is None:
        return
    seen = (await session.exec(select(Performance.id).where(Performance.live_session_id == live.id,
                                                            Performance.song_id == item.song_id))).first()
    if seen is not None:
        return
    song = await session.get(Song, item.song_id)
    session.add(Performance(band_id=live.band_id, song_id=item.song_id, title=song.title if song else "",
                            gig_id=live.gig_id, live_session_id=live.id, position=item.position,
                            played_at=utcnow()))
    if live.gig_id is not None:  # the live calls are what was played; the planned list no longer stands in
        await session.exec(update(Gig).where(col(Gig.id) == live.gig_id).values(history_recorded_at=utcnow()))


# --- presence -------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Presence:
    membership_id: int
    name: str
    instruments: tuple[dict[str, Any], ...]
    state: str  # "following" | "detached" | "away"


def _presence_changed(session: AsyncSession, band_id: int) -> None:
    hub.publish_after_commit(session, Event(band_id, PRESENCE_TOPIC, {"kind": "presence"}))


async def join(session: AsyncSession, actor: Actor, client_key: str, *, following: bool = False,
               instance: str | None = None) -> None:
    """An open page of this member (``client_key``: the page's id), connected now."""
    key = client_key[:64]
    row = (await session.exec(select(LivePresence).where(LivePresence.client_key == key))).first()
    if row is None:
        row = LivePresence(band_id=actor.band_id, membership_id=actor.membership_id, client_key=key,
                           instance=(instance or hub.instance_id)[:64])
    elif row.band_id != actor.band_id:
        raise NotFound("That page isn't yours.")
    row.following, row.connected, row.seen_at = following, True, utcnow()
    session.add(row)
    await session.flush()
    _presence_changed(session, actor.band_id)


async def set_presence(session: AsyncSession, actor: Actor, client_key: str, *, following: bool | None = None,
                       connected: bool | None = None) -> None:
    values: dict[str, Any] = {"seen_at": utcnow()}
    if following is not None:
        values["following"] = following
    if connected is not None:
        values["connected"] = connected
    result = await session.exec(update(LivePresence).where(col(LivePresence.client_key) == client_key[:64],
                                                           col(LivePresence.band_id) == actor.band_id)
                                .values(**values))
    if result.rowcount:
        _presence_changed(session, actor.band_id)


async def leave(session: AsyncSession, actor: Actor, client_key: str) -> None:
    result = await session.exec(delete(LivePresence).where(col(LivePresence.client_key) == client_key[:64],
                                                           col(LivePresence.band_id) == actor.band_id))
    if result.rowcount:
        _presence_changed(session, actor.band_id)


async def record_presence(session: AsyncSession, actor: Actor, client_key: str, kind: str, *,
                          following: bool = False) -> None:
    """What a page's socket did: ``join`` (connected, following or not), ``away`` (disconnected), ``follow`` (the
    follow switch changed) or anything else (the page closed)."""
    if kind == "join":
        await join(session, actor, client_key, following=following)
    elif kind == "away":
        await set_presence(session, actor, client_key, connected=False)
    elif kind == "follow":
        await set_presence(session, actor, client_key, following=following)
    else:
        await leave(session, actor, client_key)


async def touch_instance(session: AsyncSession, instance: str | None = None) -> None:
    """Refresh this instance's presence rows (they are alive) and forget rows nobody refreshed for an hour."""
    now = utcnow()
    await session.exec(update(LivePresence).where(col(LivePresence.instance) == (instance or hub.instance_id))
                       .values(seen_at=now))
    await session.exec(delete(LivePresence).where(col(LivePresence.seen_at) < now - timedelta(hours=1)))


async def presence(session: AsyncSession, actor: Actor) -> list[Presence]:
    """Every member of the band (not substitutes of other gigs), with their best state across open pages."""
    actor.require_leader()
    fresh = utcnow() - STALE_AFTER
    rows = (await session.exec(select(LivePresence.membership_id, LivePresence.following, LivePresence.connected)
                               .where(LivePresence.band_id == actor.band_id, col(LivePresence.seen_at) >= fresh))
            ).all()
    best: dict[int, str] = {}
    rank = {"away": 0, "detached": 1, "following": 2}
    for membership_id, following, connected in rows:
        state = "following" if following and connected else ("detached" if connected else "away")
        if rank[state] > rank[best.get(membership_id, "away")]:
            best[membership_id] = state
    people = (await session.exec(select(Membership, User).join(User, col(User.id) == Membership.user_id)
                                 .where(Membership.band_id == actor.band_id).order_by(col(User.name)))).all()
    now = utcnow()
    result = []
    for membership, user in people:
        assert membership.id is not None
        if membership.role == Role.SUB and (membership.expires_at is not None and membership.expires_at <= now):
            continue
        result.append(Presence(membership.id, user.name or user.email, tuple(membership.instruments),
                               best.get(membership.id, "away")))
    return result


# --- one instance syncs the libraries -------------------------------------------------------------------------
@contextlib.asynccontextmanager
async def sync_leadership() -> AsyncIterator[bool]:
    """``async with sync_leadership() as leading: if leading: await sync_all()``: exactly one instance at a time
    (``db.leadership``: a PostgreSQL advisory lock, an in-process lock on SQLite). Never waits."""
    async with db.leadership(SYNC_LOCK_KEY) as leading:
        yield leading
