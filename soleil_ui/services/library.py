"""Finding and opening tunes: the library as one member sees it, in their part.

Search folds case and accents ("senor" finds "Señor Blues") and matches every typed word anywhere in the
title, in SQL over an indexed folded key, so it stays fast at 10,000 songs; only the page of results on
screen is matched against the member's parts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..access import Actor
from ..errors import InvalidInput, NotFound
from ..models import AudioTrack, Chart, ChartStatus, Song
from ..naming import search_key
from ..parts import (
    ALL_PARTS,
    ChartMatch,
    MemberInstrument,
    PartRef,
    best_part,
    members_from_json,
    rank_parts,
    sort_parts,
)
from .validation import clean_text

PAGE_SIZE = 50
IN_MY_PART = frozenset({"chair", "instrument", "transposition"})


def member_instruments(actor: Actor) -> tuple[MemberInstrument, ...]:
    return members_from_json(actor.instruments)


@dataclass(frozen=True, slots=True)
class SongRow:
    song_id: int
    title: str
    match: ChartMatch
    chart_id: int | None  # the chart this member should open, if any (maybe a nearest part)

    @property
    def playable(self) -> bool:
        """A chart in my part (my chair, my instrument or my transposition), not just something I could read."""
        return self.chart_id is not None and self.match.quality in IN_MY_PART


@dataclass(frozen=True, slots=True)
class SongPage:
    rows: list[SongRow]
    total: int
    offset: int


def _match_for(actor: Actor, charts: list[Chart]) -> tuple[ChartMatch, int | None]:
    by_key = {c.part_key: c for c in charts if c.part_key}
    available = [PartRef.from_key(k) for k in sorted(by_key)]
    match = best_part(member_instruments(actor), available)
    chart = by_key.get(match.part.key()) if match.part is not None else None
    return match, (chart.id if chart else None)


async def _charts_by_song(session: AsyncSession, band_id: int, song_ids: list[int]) -> dict[int, list[Chart]]:
    grouped: dict[int, list[Chart]] = defaultdict(list)
    if song_ids:
        query = select(Chart).where(Chart.band_id == band_id, col(Chart.song_id).in_(song_ids),
                                    Chart.status == ChartStatus.OK)
        for chart in (await session.exec(query)).all():
            grouped[chart.song_id or 0].append(chart)
    return grouped


MINE = "mine"  # the part filter meaning "songs with a chart in my part"


def my_part_keys(actor: Actor) -> list[str]:
    """Part keys that are *my part* (my chair, instrument or transposition), for filtering in SQL."""
    ranked = rank_parts(member_instruments(actor), ALL_PARTS)
    return [m.part.key() for m in ranked if m.part is not None and m.quality in IN_MY_PART]


async def part_filters(session: AsyncSession, actor: Actor) -> dict[str, str]:
    """The filter choices the library offers: everything, my part, and each part the band has charts for."""
    keys = (await session.exec(select(Chart.part_key).distinct().where(
        Chart.band_id == actor.band_id, Chart.status == ChartStatus.OK, col(Chart.part_key).is_not(None)))).all()
    parts = sort_parts(p for p in (PartRef.try_from_key(k) for k in keys if k) if p is not None)
    return {"": "All songs", MINE: "In my part", **{p.key(): p.label() for p in parts}}


async def search_songs(session: AsyncSession, actor: Actor, text: str = "", *, part: str = "", offset: int = 0,
                       limit: int = PAGE_SIZE) -> SongPage:
    """One page of the band's songs whose title contains every word typed, in title order.

    ``part`` narrows to songs with a chart in that part (a part key), or in my part (``MINE``).
    """
    if len(text) > 200:
        raise InvalidInput("Search text is too long.")
    query = select(Song).where(Song.band_id == actor.band_id)
    if part:
        keys = my_part_keys(actor) if part == MINE else [part]
        query = query.where(col(Song.id).in_(select(Chart.song_id).where(
            Chart.band_id == actor.band_id, Chart.status == ChartStatus.OK, col(Chart.part_key).in_(keys))))
    for word in search_key(text).split():
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(col(Song.search_key).like(f"%{escaped}%", escape="\\"))
    total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
    songs = (await session.exec(query.order_by(col(Song.search_key)).offset(max(offset, 0))
                                .limit(min(max(limit, 1), 200)))).all()
    charts = await _charts_by_song(session, actor.band_id, [s.id for s in songs if s.id is not None])
    rows = []
    for song in songs:
        assert song.id is not None
        match, chart_id = _match_for(actor, charts.get(song.id, []))
        rows.append(SongRow(song.id, song.title, match, chart_id))
    return SongPage(rows, int(total), offset)


async def rows_for_songs(session: AsyncSession, actor: Actor, song_ids: list[int]) -> list[SongRow]:
    """My part for each of these songs (a setlist's entries), in the order given."""
    songs = {s.id: s for s in (await session.exec(select(Song).where(
        Song.band_id == actor.band_id, col(Song.id).in_(song_ids)))).all()} if song_ids else {}
    charts = await _charts_by_song(session, actor.band_id, list(songs))
    rows = []
    for song_id in song_ids:
        if song_id in songs:
            match, chart_id = _match_for(actor, charts.get(song_id, []))
            rows.append(SongRow(song_id, songs[song_id].title, match, chart_id))
    return rows


@dataclass(frozen=True, slots=True)
class SongDetail:
    song: Song
    charts: list[Chart]
    audio: list[AudioTrack]
    match: ChartMatch
    chart_id: int | None


async def song_detail(session: AsyncSession, actor: Actor, song_id: int) -> SongDetail:
    song = await session.get(Song, song_id)
    if song is None or song.band_id != actor.band_id:
        raise NotFound("That song isn't in your library.")
    charts = (await _charts_by_song(session, actor.band_id, [song_id])).get(song_id, [])
    audio = (await session.exec(select(AudioTrack).where(AudioTrack.band_id == actor.band_id,
                                                         AudioTrack.song_id == song_id))).all()
    match, chart_id = _match_for(actor, charts)
    return SongDetail(song, sorted(charts, key=lambda c: c.part_key or ""), list(audio), match, chart_id)


async def get_chart(session: AsyncSession, actor: Actor, chart_id: int) -> Chart:
    """A chart of the actor's band (any member may open any part: sometimes you read the piano chart)."""
    chart = await session.get(Chart, chart_id)
    if chart is None or chart.band_id != actor.band_id or chart.status != ChartStatus.OK:
        raise NotFound("That chart isn't in your library.")
    return chart


async def get_audio(session: AsyncSession, actor: Actor, track_id: int) -> AudioTrack:
    track = await session.get(AudioTrack, track_id)
    if track is None or track.band_id != actor.band_id:
        raise NotFound("That recording isn't in your library.")
    return track


async def problem_files(session: AsyncSession, actor: Actor) -> list[Chart]:
    """Broken and unsorted files, for the leader to fix or assign."""
    actor.require_leader()
    query = (select(Chart).where(Chart.band_id == actor.band_id, col(Chart.status).in_(
        [ChartStatus.BROKEN, ChartStatus.UNSORTED])).order_by(col(Chart.status), col(Chart.file_name)))
    return list((await session.exec(query)).all())


async def assign_chart(session: AsyncSession, actor: Actor, chart_id: int, *, song_title: str, part_key: str) -> Chart:
    """A leader says which song and part an unsorted file is; the choice survives every later sync."""
    from ..naming import parse_filename

    actor.require_leader()
    chart = await session.get(Chart, chart_id)
    if chart is None or chart.band_id != actor.band_id:
        raise NotFound("That file isn't in your library.")
    if chart.status == ChartStatus.BROKEN:
        raise InvalidInput("This file can't be read, so it can't be assigned. Fix the file and sync again.")
    title = clean_text(song_title, "Song title", max_length=300)
    try:
        part = PartRef.from_key(part_key)
    except (ValueError, KeyError):
        raise InvalidInput("Choose a part.") from None
    key = parse_filename(f"{title}.pdf").song_key or search_key(title)
    song = (await session.exec(select(Song).where(Song.band_id == actor.band_id, Song.song_key == key))).first()
    if song is None:
        song = Song(band_id=actor.band_id, title=title, song_key=key, search_key=search_key(title))
        session.add(song)
        await session.flush()
    chart.song_id, chart.part_key, chart.status, chart.problem, chart.manual = (
        song.id, part.key(), ChartStatus.OK, None, True)
    session.add(chart)
    return chart


async def rename_song(session: AsyncSession, actor: Actor, song_id: int, title: str) -> Song:
    actor.require_leader()
    song = await session.get(Song, song_id)
    if song is None or song.band_id != actor.band_id:
        raise NotFound("That song isn't in your library.")
    song.title = clean_text(title, "Song title", max_length=300)
    song.search_key, song.title_locked = search_key(song.title), True
    session.add(song)
    return song
