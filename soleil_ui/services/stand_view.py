"""What the stand page needs to open, read for the acting member: the chart, its title, the set it is opened from,
my key preferences and the live state; and the part a lone chart shows in.

The stand page only renders: which part a reader gets is a rule of the core (a wrong part on stage is worse than a
question), so it is decided here, where tests drive it without a browser. Each loader reads the database in one
short session and lets go before any engraving. A setlist on the stand (``load_stand_set``) is built once per
version for every member who reads the same parts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from ..access import Actor
from ..db import db
from ..models import Chart, Song
from ..parts import PartRef
from ..shared_loads import SharedLoads
from ..stand_contract import StandSong
from . import chart_pages, crops, library, live, members, recordings, setlist_plan, setlist_view, setlists
from .chart_pages import Page
from .library import KeyPref
from .live import LiveState
from .setlist_plan import StandPlan


@dataclass(frozen=True)
class ChartOpening:
    """A chart opened on the stand (``get_chart`` has checked it is the member's band's)."""

    chart: Chart
    title: str
    state: LiveState | None
    setlist_version: int | None = None  # set when opened from a setlist
    prefs: dict[int, KeyPref] | None = None  # my key preferences, when opened from a setlist
    night: bool = False  # the reader's night mode (in the database: any instance may serve their next page)
    recording: str | None = None  # the song's reference recording, for the stand's player
    crops: dict[int, dict[str, object]] | None = None  # my own crop per chart (``crops.member_crops``)


@dataclass(frozen=True)
class LiveOpening:
    """A setlist opened to follow the leader."""

    setlist_version: int
    state: LiveState | None
    prefs: dict[int, KeyPref]
    night: bool = False
    crops: dict[int, dict[str, object]] | None = None


async def open_chart(actor: Actor, chart_id: int, setlist_id: int | None = None) -> ChartOpening:
    async with db.session() as session:
        chart = await library.get_chart(session, actor, chart_id)
        song = await session.get(Song, chart.song_id) if chart.song_id else None  # the title; get_chart checked
        version = prefs = None
        if setlist_id is not None:
            version = (await setlists.get_setlist(session, actor, setlist_id)).version
            prefs = await library.member_prefs(session, actor)
        state = await live.current(session, actor)
        night = await members.night_mode(session, actor)
        recording = None
        if song is not None and song.id is not None:
            found = await recordings.recording_urls(session, actor.band_id, [song.id],
                                                    await library.song_scope(session, actor))
            recording = found.get(song.id)
        mine = await crops.member_crops(session, actor)
    return ChartOpening(chart, song.title if song else chart.file_name, state, version, prefs, night, recording,
                        mine)


async def open_live(actor: Actor, setlist_id: int) -> LiveOpening:
    async with db.session() as session:
        version = (await setlists.get_setlist(session, actor, setlist_id)).version
        state = await live.current(session, actor)
        prefs = await library.member_prefs(session, actor)
        night = await members.night_mode(session, actor)
        mine = await crops.member_crops(session, actor)
    return LiveOpening(version, state, prefs, night, mine)


async def save_night(actor: Actor, on: bool) -> None:
    """The reader switched night mode on the stand: kept for their next page, on whichever instance serves it."""
    async with db.session() as session:
        await members.set_night_mode(session, actor, on)


async def save_crop(actor: Actor, chart_id: int, mode: object, margins: object) -> None:
    """The reader chose how to crop a chart on the stand: kept for them on every device. Two of their devices saving
    a first choice at once: the second finds the first's row and updates it."""
    try:
        async with db.session() as session:
            await crops.save_crop(session, actor, chart_id, mode, margins)
    except IntegrityError:
        async with db.session() as session:
            await crops.save_crop(session, actor, chart_id, mode, margins)


async def single_chart(actor: Actor, chart: Chart, part: str | None) -> tuple[str, list[Page]]:
    """One chart's pages and label: a PDF as it is; a generated chart in the part asked for (``?part=``, from the
    song page's list of parts), else in my part when it is the chart the library picks for me, else its own part.
    The database is read first and let go: engraving may take a moment."""
    if not library.is_generated(chart):
        label = PartRef.from_key(chart.part_key).label() if chart.part_key else ""
        await crops.ensure_crops(chart)
        return label, chart_pages.pdf_pages(chart)
    note = library.STAND_NOTES[chart.kind]
    resolved = pref = None
    if chart.song_id is not None:
        async with db.session() as session:
            if not part:
                resolved = await library.chart_for_member(session, actor, chart.song_id)
            pref = await library.member_pref(session, actor, chart.song_id)
    if resolved is not None and resolved.chart_id == chart.id and resolved.generated:
        return f"{resolved.part_label} · {note}", await chart_pages.resolved_pages(resolved, chart)
    part_key = part or chart.part_key or ""
    pages = await chart_pages.stand_pages(chart, part_key, pref=pref)
    found = PartRef.try_from_key(part_key)
    return " · ".join(x for x in (found.label() if found else "", note) if x), pages


@dataclass(frozen=True, slots=True)
class StandSet:
    """A setlist as one kind of reader sees it: the plan and the stand's ``songs`` (shared, never mutated)."""

    plan: StandPlan
    songs: list[StandSong]

    @property
    def version(self) -> int:
        return self.plan.version


stand_sets: SharedLoads[StandSet] = SharedLoads()


def prefs_key(prefs: Mapping[int, KeyPref]) -> str:
    return json.dumps(sorted((song, p.musical_key, p.octave_shift) for song, p in prefs.items()))


async def load_stand_set(actor: Actor, setlist_id: int, prefs: Mapping[int, KeyPref], wanted: int = -1, *,
                         force: bool = False) -> StandSet:
    """The setlist for this reader, at least version ``wanted``; the caller has checked they may see it."""
    async def load() -> StandSet:
        async with db.session() as session:
            plan = await setlist_plan.stand_plan(session, actor, setlist_id, prefs)
            # every reader of this set may open its songs (a substitute's scope is their gig's set)
            found = await recordings.recording_urls(
                session, actor.band_id, {s.song_id for s in plan.stops if s.song_id is not None})
        songs = await chart_pages.stand_songs(plan)
        for song in songs:
            if (url := found.get(song.get("song_id") or 0)) is not None:
                song["recording"] = url
        return StandSet(plan, songs)

    key = ("stand", actor.band_id, setlist_id, setlist_view.reader_profile(actor), prefs_key(prefs))
    return await stand_sets.get(key, wanted, load, force=force)
