"""Setlists: ordered songs and set breaks. Every change bumps ``Setlist.version`` and is published on the hub."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..access import Actor
from ..errors import NotFound
from ..events import Event, hub
from ..models import Setlist, SetlistItem, Song, utcnow
from .validation import clean_text


@dataclass(frozen=True, slots=True)
class SetlistEntry:
    item_id: int
    position: int
    is_break: bool
    label: str  # song title, or the break's label
    song_id: int | None
    notes: str
    musical_key: str | None


async def list_setlists(session: AsyncSession, actor: Actor) -> list[Setlist]:
    query = select(Setlist).where(Setlist.band_id == actor.band_id).order_by(col(Setlist.updated_at).desc())
    return list((await session.exec(query)).all())


async def get_setlist(session: AsyncSession, actor: Actor, setlist_id: int) -> Setlist:
    setlist = await session.get(Setlist, setlist_id)
    if setlist is None or setlist.band_id != actor.band_id:
        raise NotFound("That setlist doesn't exist.")
    return setlist


async def create_setlist(session: AsyncSession, actor: Actor, name: str) -> Setlist:
    actor.require_leader()
    setlist = Setlist(band_id=actor.band_id, name=clean_text(name, "Setlist name", max_length=120))
    session.add(setlist)
    await session.flush()
    return setlist


async def entries(session: AsyncSession, actor: Actor, setlist_id: int) -> list[SetlistEntry]:
    await get_setlist(session, actor, setlist_id)
    query = (select(SetlistItem, Song).join(Song, col(Song.id) == SetlistItem.song_id, isouter=True)
             .where(SetlistItem.setlist_id == setlist_id, SetlistItem.band_id == actor.band_id)
             .order_by(col(SetlistItem.position)))
    result = []
    for item, song in (await session.exec(query)).all():
        assert item.id is not None
        label = item.label if item.is_break else (song.title if song else "(removed song)")
        result.append(SetlistEntry(item.id, item.position, item.is_break, label, item.song_id, item.notes,
                                   item.musical_key))
    return result


async def _append(session: AsyncSession, actor: Actor, setlist_id: int, item: SetlistItem) -> SetlistItem:
    setlist = await get_setlist(session, actor, setlist_id)
    last = (await session.exec(select(func.max(SetlistItem.position)).where(SetlistItem.setlist_id == setlist_id)))
    item.position = (last.first() or 0) + 1
    session.add(item)
    setlist.version += 1
    setlist.updated_at = utcnow()
    session.add(setlist)
    await session.flush()
    await hub.publish(Event(actor.band_id, f"setlist:{setlist_id}", {"version": setlist.version}))
    return item


async def add_song(session: AsyncSession, actor: Actor, setlist_id: int, song_id: int, *, notes: str = "",
                   musical_key: str | None = None) -> SetlistItem:
    actor.require_leader()
    song = await session.get(Song, song_id)
    if song is None or song.band_id != actor.band_id:
        raise NotFound("That song isn't in your library.")
    item = SetlistItem(setlist_id=setlist_id, band_id=actor.band_id, song_id=song_id,
                       notes=clean_text(notes, "Note", max_length=500, required=False), musical_key=musical_key)
    return await _append(session, actor, setlist_id, item)


async def add_break(session: AsyncSession, actor: Actor, setlist_id: int, label: str) -> SetlistItem:
    actor.require_leader()
    item = SetlistItem(setlist_id=setlist_id, band_id=actor.band_id, is_break=True,
                       label=clean_text(label, "Set name", max_length=120))
    return await _append(session, actor, setlist_id, item)
