"""A setlist as one member's screen shows it: its entries, the sets' totals and, per song, my part.

One rule lives here: when a song is listed twice, **the first entry's key wins** for "my part" (a reader gets one
chart per song, and the opener is the one they play first). The screens cache these snapshots per band, setlist,
version and reader profile (``load_snapshot``, one load per instance however many pages wait); reading them is the
core's job.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..access import Actor
from ..db import db
from ..shared_loads import SharedLoads
from . import library, setlists
from .library import SongRow
from .setlists import SetlistEntry, SetSummary


@dataclass(frozen=True, slots=True)
class Snapshot:
    setlist_id: int
    name: str
    version: int
    entries: list[SetlistEntry]
    sets: list[SetSummary]
    marks: dict[int, SongRow]  # song id -> my part


def concert_keys(entries: list[SetlistEntry]) -> dict[int, str | None]:
    """The key each song is played in tonight: the first entry's key wins."""
    return {e.song_id: e.musical_key for e in reversed(entries) if e.song_id}


async def read_snapshot(actor: Actor, setlist_id: int) -> Snapshot:
    async with db.session() as session:
        setlist = await setlists.get_setlist(session, actor, setlist_id)
        listed = await setlists.entries(session, actor, setlist_id)
        marks = {row.song_id: row for row in await library.rows_for_songs(
            session, actor, [e.song_id for e in listed if e.song_id], concert_keys=concert_keys(listed))}
    return Snapshot(setlist_id, setlist.name, setlist.version, listed, setlists.sets_of(listed), marks)


def reader_profile(actor: Actor) -> str:
    """What makes "my part" differ between members: their instruments, how they read, and leading."""
    return library.reader_key(actor)


snapshots: SharedLoads[Snapshot] = SharedLoads()


async def load_snapshot(actor: Actor, setlist_id: int, wanted: int = -1, *, force: bool = False) -> Snapshot:
    """The setlist as this member reads it, at least version ``wanted``, shared by every reader of the same profile."""
    return await snapshots.get((actor.band_id, setlist_id, reader_profile(actor)), wanted,
                               lambda: read_snapshot(actor, setlist_id), force=force)
