"""Finding and opening tunes: the library as one member sees it, in their part.

Search folds case and accents ("senor" finds "Señor Blues") and matches every typed word anywhere in the
title, in SQL over an indexed folded key, so it stays fast at 10,000 songs; only the page of results on
screen is matched against the member's parts.

One library, two kinds of chart: a PDF is one part; a MusicXML score or a ChordPro sheet (``GENERATED_KINDS``) is
engraved for every part in ``Chart.parts``. Matching (``resolve``) ranks them together:

- a PDF in my part (chair, instrument or transposition) wins over a generated part; otherwise the best part on
  offer wins, and a PDF wins a tie with a generated part of the same part;
- with the key of the night (``concert_key``, a setlist entry's key), a PDF in another key gives way to a generated
  part in my part, and the explanation says so; a PDF that stays says which key it is in;
- a generated part a member reads through their instrument's transposition (a lead sheet's B♭ part for a trumpet)
  is engraved for that instrument (its range and clef: a trombone reads bass clef, an alto sax the right octave);
- a member's own key/octave for a song (``MemberSongPref``) applies to generated parts only; the key of the night
  sets their key aside (the band plays it in that key), the octave stays.

``SongRow``/``SongDetail``/``ResolvedChart`` say which chart *and* which part key to open, and whether it is
generated. ``chart_for_member`` gives the full engraving spec (``spec_params``) for the stand and the media routes.

The rules themselves (no database) are in ``matching`` and re-exported here; which songs a substitute may open is
``song_scope``'s, shared with the setlists without either importing the other.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import col, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..access import Actor
from ..engraving.engraver import MAX_OCTAVE_SHIFT
from ..engraving.theory import Key
from ..errors import InvalidInput, NotFound
from ..models import AudioTrack, Chart, ChartStatus, MemberSongPref, Song, utcnow
from ..naming import choose_title, parse_filename, search_key
from ..parts import (
    ALL_PARTS,
    ChartMatch,
    PartRef,
    Role,
    rank_parts,
    sort_parts,
)
from .matching import (
    ENGRAVE_KINDS as ENGRAVE_KINDS,
)
from .matching import (
    GENERATED_KINDS as GENERATED_KINDS,
)
from .matching import (
    IN_MY_PART as IN_MY_PART,
)
from .matching import (
    SOURCE_LABELS as SOURCE_LABELS,
)
from .matching import (
    KeyPref as KeyPref,
)
from .matching import (
    ResolvedChart as ResolvedChart,
)
from .matching import (
    SongPage as SongPage,
)
from .matching import (
    SongRow as SongRow,
)
from .matching import (
    engrave_spec as engrave_spec,
)
from .matching import (
    engraved_part as engraved_part,
)
from .matching import (
    file_hint as file_hint,
)
from .matching import (
    filing_problem as filing_problem,
)
from .matching import (
    generated_for as generated_for,
)
from .matching import (
    is_generated as is_generated,
)
from .matching import (
    key_label as key_label,
)
from .matching import (
    member_instruments as member_instruments,
)
from .matching import (
    named_part as named_part,
)
from .matching import (
    parsed_name as parsed_name,
)
from .matching import (
    pick_chart as pick_chart,
)
from .matching import (
    reader_key as reader_key,
)
from .matching import (
    same_key as same_key,
)
from .matching import (
    served_parts as served_parts,
)
from .matching import (
    song_key_of as song_key_of,
)
from .matching import (
    song_row as song_row,
)
from .matching import (
    source_label as source_label,
)
from .song_scope import sub_song_ids
from .validation import clean_text

PAGE_SIZE = 50
async def _charts_by_song(session: AsyncSession, band_id: int, song_ids: list[int]) -> dict[int, list[Chart]]:
    grouped: dict[int, list[Chart]] = defaultdict(list)
    if song_ids:
        query = select(Chart).where(Chart.band_id == band_id, col(Chart.song_id).in_(song_ids),
                                    Chart.status == ChartStatus.OK).order_by(col(Chart.id))
        for chart in (await session.exec(query)).all():
            grouped[chart.song_id or 0].append(chart)
    return grouped


def _serves_any(band_id: int, keys: Sequence[str]) -> sa.Exists:
    """SQL: the song has a chart (status OK) that can be opened in one of ``keys`` — its own part, or one of a
    generated file's parts (matched in the JSON text, portable across SQLite and PostgreSQL). A correlated EXISTS,
    probed through the (band, song) index: a page of results in title order stops after 50 songs instead of first
    collecting every chart of the band in those parts (10x-100x slower at 10,000 songs on SQLite)."""
    parts_text = sa.cast(col(Chart.parts), sa.Text)
    in_parts = [parts_text.like("%" + json.dumps(k).replace("\\", "\\\\").replace("%", "\\%")
                                .replace("_", "\\_") + "%", escape="\\") for k in keys]
    generated = sa.and_(col(Chart.kind).in_(sorted(GENERATED_KINDS)), or_(*in_parts)) if in_parts else sa.false()
    return sa.exists().where(col(Chart.band_id) == band_id, col(Chart.song_id) == col(Song.id),
                             col(Chart.status) == ChartStatus.OK,
                             or_(col(Chart.part_key).in_(list(keys)), generated))


MINE = "mine"  # the part filter meaning "songs with a chart in my part"
NOT_IN_LIBRARY = "That song isn't in your library."


async def song_scope(session: AsyncSession, actor: Actor) -> set[int] | None:
    """The songs this member may open: a substitute only their gig's setlist; None (everything) for the band."""
    if not actor.is_sub:
        return None
    return await sub_song_ids(session, actor)


async def _band_song(session: AsyncSession, actor: Actor, song_id: int | None) -> Song:
    """A song of the member's band they may open (NotFound otherwise: another band's, or outside a sub's gig)."""
    song = await session.get(Song, song_id) if song_id is not None else None
    if song is None or song.band_id != actor.band_id:
        raise NotFound(NOT_IN_LIBRARY)
    scope = await song_scope(session, actor)
    if scope is not None and song.id not in scope:
        raise NotFound(NOT_IN_LIBRARY)
    return song


def my_part_keys(actor: Actor) -> list[str]:
    """Part keys that are *my part* (my chair, instrument or transposition), for filtering in SQL."""
    ranked = rank_parts(member_instruments(actor), ALL_PARTS)
    return [m.part.key() for m in ranked if m.part is not None and m.quality in IN_MY_PART]


async def part_filters(session: AsyncSession, actor: Actor) -> dict[str, str]:
    """The filter choices the library offers: everything, my part, and each part the band has charts for
    (a MusicXML or ChordPro file counts for every part it serves)."""
    keys = set((await session.exec(select(Chart.part_key).distinct().where(
        Chart.band_id == actor.band_id, Chart.status == ChartStatus.OK, col(Chart.part_key).is_not(None)))).all())
    listed = (await session.exec(select(sa.cast(col(Chart.parts), sa.Text)).distinct().where(
        Chart.band_id == actor.band_id, Chart.status == ChartStatus.OK,
        col(Chart.kind).in_(sorted(GENERATED_KINDS))))).all()
    for text in listed:
        try:
            keys.update(k for k in json.loads(text or "[]") if isinstance(k, str))
        except (TypeError, ValueError):
            continue
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
    scope = await song_scope(session, actor)
    if scope is not None:
        query = query.where(col(Song.id).in_(sorted(scope) or [-1]))
    if part:
        keys = my_part_keys(actor) if part == MINE else [part]
        query = query.where(_serves_any(actor.band_id, keys))
    for word in search_key(text).split():
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(col(Song.search_key).like(f"%{escaped}%", escape="\\"))
    total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
    songs = (await session.exec(query.order_by(col(Song.search_key)).offset(max(offset, 0))
                                .limit(min(max(limit, 1), 200)))).all()
    charts = await _charts_by_song(session, actor.band_id, [s.id for s in songs if s.id is not None])
    rows = [song_row(actor, song, charts.get(song.id or 0, [])) for song in songs]
    return SongPage(rows, int(total), offset)


async def rows_for_songs(session: AsyncSession, actor: Actor, song_ids: list[int], *,
                         concert_keys: Mapping[int, str | None] | None = None) -> list[SongRow]:
    """My part for each of these songs (a setlist's entries), in the order given. ``concert_keys``: song id → the
    key of the night (``SetlistItem.musical_key``), which moves generated parts and may prefer them over a PDF."""
    songs = {s.id: s for s in (await session.exec(select(Song).where(
        Song.band_id == actor.band_id, col(Song.id).in_(song_ids)))).all()} if song_ids else {}
    charts = await _charts_by_song(session, actor.band_id, [i for i in songs if i is not None])
    keys = concert_keys or {}
    return [song_row(actor, songs[song_id], charts.get(song_id, []), keys.get(song_id))
            for song_id in song_ids if song_id in songs]


@dataclass(frozen=True, slots=True)
class PartOption:
    """One part a song can be opened in, for the song page's list: a PDF, or a part engraved from a source."""

    chart_id: int
    part_key: str
    label: str
    generated: bool
    kind: str
    page_count: int | None  # known for PDFs (and a generated file's own part); None: counted when engraved
    source_label: str | None
    file_name: str


@dataclass(frozen=True, slots=True)
class SongDetail:
    song: Song
    charts: list[Chart]
    audio: list[AudioTrack]
    match: ChartMatch
    chart_id: int | None
    part_key: str | None = None  # the part of ``chart_id`` to open (see ``ResolvedChart``)
    generated: bool = False
    resolved: ResolvedChart | None = None  # my part, with my key/octave preference applied
    parts: list[PartOption] = field(default_factory=list)  # every part on offer: PDFs, then generated parts
    pref: KeyPref = field(default_factory=KeyPref)  # my preference for this song


def part_options(charts: Iterable[Chart]) -> list[PartOption]:
    """Every part a member may open: each PDF, and each part a MusicXML/ChordPro file serves that no PDF has."""
    charts = list(charts)
    options = []
    pdf_keys = set()
    for chart in sorted((c for c in charts if not is_generated(c)), key=lambda c: (c.part_key or "", c.id or 0)):
        if chart.id is None:
            continue
        pdf_keys.add(chart.part_key)
        part = PartRef.try_from_key(chart.part_key)
        options.append(PartOption(chart.id, chart.part_key or "", part.label() if part else chart.file_name, False,
                                  chart.kind, chart.page_count, None, chart.file_name))
    generated = [c for c in charts if is_generated(c)]
    keys = {k for c in generated for k in served_parts(c)} - pdf_keys
    for part in sort_parts(p for p in map(PartRef.try_from_key, keys) if p is not None):
        made = generated_for(part.key(), generated)
        if made is None or made.id is None:
            continue
        count = made.page_count if part.key() == made.part_key else None
        options.append(PartOption(made.id, part.key(), part.label(), True, made.kind, count,
                                  SOURCE_LABELS[made.kind], made.file_name))
    return options


async def song_detail(session: AsyncSession, actor: Actor, song_id: int, *,
                      concert_key: str | None = None) -> SongDetail:
    song = await _band_song(session, actor, song_id)
    charts = (await _charts_by_song(session, actor.band_id, [song_id])).get(song_id, [])
    audio = (await session.exec(select(AudioTrack).where(AudioTrack.band_id == actor.band_id,
                                                         AudioTrack.song_id == song_id))).all()
    pref = await member_pref(session, actor, song_id)
    resolved = _resolved(actor, song, charts, concert_key, pref)
    return SongDetail(song, sorted(charts, key=lambda c: c.part_key or ""), list(audio), resolved.match,
                      resolved.chart_id, resolved.part_key, resolved.generated, resolved, part_options(charts), pref)


STAND_NOTES = {"notation": "engraved from the score", "chordpro": "from the chord sheet"}


def _resolved(actor: Actor, song: Song, charts: list[Chart], concert_key: str | None, pref: KeyPref) -> ResolvedChart:
    song_key = song_key_of(song, charts)
    pick = pick_chart(member_instruments(actor), charts, concert_key=concert_key, song_key=song_key,
                       leader=actor.is_leader)
    chart = pick.chart
    params: dict[str, str] = {}
    note = ""
    if chart is not None and pick.generated and pick.part_key:
        params = engrave_spec(chart, pick.part_key, concert_key=concert_key, pref=pref).to_params()
        note = STAND_NOTES[chart.kind] + (f" (the PDF is in {key_label(pick.pdf_key)})" if pick.pdf_key else "")
    elif chart is not None and concert_key and song_key and Key.try_parse(concert_key) is not None \
            and not same_key(concert_key, song_key):
        note = f"this PDF is in {key_label(song_key)}"
    return ResolvedChart(chart.id if chart else None, pick.part_key, pick.generated, params, pick.match.explanation,
                         pick.match, chart.kind if chart else None, concert_key,
                         source_label(chart) if pick.generated else None, note)


async def chart_for_member(session: AsyncSession, actor: Actor, song_id: int, concert_key: str | None = None
                           ) -> ResolvedChart:
    """The chart, part and drawing for this member and song; ``concert_key`` is the key of the night (a setlist
    entry's ``musical_key``). NotFound for a song of another band."""
    song = await _band_song(session, actor, song_id)
    charts = (await _charts_by_song(session, actor.band_id, [song_id])).get(song_id, [])
    return _resolved(actor, song, charts, concert_key, await member_pref(session, actor, song_id))


async def resolve_songs(session: AsyncSession, actor: Actor, wanted: Sequence[tuple[int, str | None]],
                        prefs: Mapping[int, KeyPref] | None = None) -> list[ResolvedChart | None]:
    """``chart_for_member`` for many (song id, key of the night) pairs at once (a setlist's entries, in order), with
    one query for the songs and one for their charts; ``prefs`` are the member's (``member_prefs``). None for a
    song that isn't the band's."""
    ids = sorted({song_id for song_id, _ in wanted})
    songs = {s.id: s for s in (await session.exec(select(Song).where(
        Song.band_id == actor.band_id, col(Song.id).in_(ids)))).all()} if ids else {}
    charts = await _charts_by_song(session, actor.band_id, [i for i in songs if i is not None])
    prefs = prefs or {}
    return [_resolved(actor, songs[song_id], charts.get(song_id, []), concert_key, prefs.get(song_id, KeyPref()))
            if song_id in songs else None for song_id, concert_key in wanted]


# --- a member's own key and octave for a song -------------------------------------------------------------------------


async def member_prefs(session: AsyncSession, actor: Actor) -> dict[int, KeyPref]:
    """Every song this member reads their own way (song id → key/octave); most members have none."""
    rows = (await session.exec(select(MemberSongPref).where(
        MemberSongPref.band_id == actor.band_id, MemberSongPref.membership_id == actor.membership_id))).all()
    return {row.song_id: KeyPref(row.musical_key, row.octave_shift) for row in rows}


async def member_pref(session: AsyncSession, actor: Actor, song_id: int) -> KeyPref:
    """This member's key/octave for this song (the default when they never set one)."""
    row = (await session.exec(select(MemberSongPref).where(
        MemberSongPref.band_id == actor.band_id, MemberSongPref.membership_id == actor.membership_id,
        MemberSongPref.song_id == song_id))).first()
    return KeyPref(row.musical_key, row.octave_shift) if row is not None else KeyPref()


async def set_member_pref(session: AsyncSession, actor: Actor, song_id: int, *, musical_key: str | None = None,
                          octave_shift: int = 0) -> KeyPref:
    """Remember how this member wants their generated part of this song: a written key ("D", "E♭"; empty: as
    engraved) and an octave shift (-2..+2). Back to the defaults forgets the preference."""
    await _band_song(session, actor, song_id)
    key = None
    if musical_key is not None and str(musical_key).strip():
        parsed = Key.try_parse(str(musical_key).strip()[:20])
        if parsed is None:
            raise InvalidInput(f"“{str(musical_key)[:20]}” isn't a key (try C, Eb, F#m).")
        key = parsed.name()
    if type(octave_shift) is not int or abs(octave_shift) > MAX_OCTAVE_SHIFT:
        raise InvalidInput(f"Octave shifts go from -{MAX_OCTAVE_SHIFT} to +{MAX_OCTAVE_SHIFT}.")
    row = (await session.exec(select(MemberSongPref).where(
        MemberSongPref.membership_id == actor.membership_id, MemberSongPref.song_id == song_id))).first()
    pref = KeyPref(key, octave_shift)
    if pref.is_default:
        if row is not None:
            await session.delete(row)
        return pref
    row = row or MemberSongPref(band_id=actor.band_id, membership_id=actor.membership_id, song_id=song_id)
    row.musical_key, row.octave_shift, row.updated_at = key, octave_shift, utcnow()
    session.add(row)
    return pref


async def get_chart(session: AsyncSession, actor: Actor, chart_id: int) -> Chart:
    """A chart of the actor's band (any member may open any part: sometimes you read the piano chart)."""
    chart = await session.get(Chart, chart_id)
    if chart is None or chart.band_id != actor.band_id or chart.status != ChartStatus.OK:
        raise NotFound("That chart isn't in your library.")
    scope = await song_scope(session, actor)
    if scope is not None and chart.song_id not in scope:
        raise NotFound("That chart isn't in your library.")
    return chart


async def chart_to_print(session: AsyncSession, actor: Actor, chart_id: int) -> tuple[Chart, str]:
    """A chart of the actor's band and the title its printout carries (its song's, else the file's name)."""
    chart = await get_chart(session, actor, chart_id)
    song = await session.get(Song, chart.song_id) if chart.song_id else None
    return chart, song.title if song is not None else chart.file_name.rsplit(".", 1)[0]


async def get_audio(session: AsyncSession, actor: Actor, track_id: int) -> AudioTrack:
    track = await session.get(AudioTrack, track_id)
    if track is None or track.band_id != actor.band_id:
        raise NotFound("That recording isn't in your library.")
    scope = await song_scope(session, actor)
    if scope is not None and track.song_id not in scope:
        raise NotFound("That recording isn't in your library.")
    return track


async def problem_files(session: AsyncSession, actor: Actor) -> list[Chart]:
    """Broken and unsorted files, for the leader to fix or assign."""
    actor.require_leader()
    query = (select(Chart).where(Chart.band_id == actor.band_id, col(Chart.status).in_(
        [ChartStatus.BROKEN, ChartStatus.UNSORTED])).order_by(col(Chart.status), col(Chart.file_name)))
    return list((await session.exec(query)).all())


async def band_chart(session: AsyncSession, actor: Actor, chart_id: int) -> Chart:
    """Any file of the leader's band (broken and unsorted ones too), for correcting it. Leaders only."""
    actor.require_leader()
    chart = await session.get(Chart, chart_id)
    if chart is None or chart.band_id != actor.band_id:
        raise NotFound("That file isn't in your library.")
    return chart


async def song_titled(session: AsyncSession, band_id: int, title: str, key: str | None = None) -> Song:
    """The band's song with this title (grouped the way file names are: "Take Five" = "TAKE FIVE"), created if new."""
    key = (key or parse_filename(f"{title}.pdf").song_key or search_key(title))[:300]
    song = (await session.exec(select(Song).where(Song.band_id == band_id, Song.song_key == key))).first()
    if song is None:
        song = Song(band_id=band_id, title=title[:300], song_key=key, search_key=search_key(title))
        session.add(song)
        await session.flush()
    return song


async def assign_chart(session: AsyncSession, actor: Actor, chart_id: int, *, song_title: str, part_key: str) -> Chart:
    """A leader says which song and part any file is — an unsorted one, or one the name misled: its title, its part
    and chair (``part_key`` "instrument:trumpet:2"), or that it is a full score ("score") or a lyrics sheet
    ("lyrics"). The correction (``Chart.manual``) survives every later sync, renames and moves of the file
    included, until ``undo_correction``."""
    chart = await band_chart(session, actor, chart_id)
    if chart.status == ChartStatus.BROKEN:
        raise InvalidInput("This file can't be read, so it can't be assigned. Fix the file and sync again.")
    title = clean_text(song_title, "Song title", max_length=300)
    try:
        part = PartRef.from_key(part_key)
    except (ValueError, KeyError, TypeError):
        raise InvalidInput("Choose a part.") from None
    if part.role is Role.SCORE and is_generated(chart):
        raise InvalidInput("A MusicXML or ChordPro file is already engraved for every part; choose the part it is "
                           "filed under instead of Score.")
    song = await song_titled(session, actor.band_id, title)
    chart.song_id, chart.part_key, chart.status, chart.problem, chart.manual = (
        song.id, part.key(), ChartStatus.OK, None, True)
    session.add(chart)
    return chart


async def undo_correction(session: AsyncSession, actor: Actor, chart_id: int) -> Chart:
    """Back to what the file itself says: the parser's title and part (a MusicXML file's own staves when its name
    names none), or Unsorted with the reason. Leaders only; a file nobody corrected is left as it is."""
    chart = await band_chart(session, actor, chart_id)
    if not chart.manual:
        return chart
    parsed = parsed_name(chart)
    part = PartRef.try_from_key(chart.parsed_part_key) or named_part(parsed, is_generated(chart))
    chart.manual = False
    if chart.status != ChartStatus.BROKEN:
        reason = filing_problem(parsed, part, is_generated(chart))
        if reason is not None or part is None:
            chart.status, chart.problem, chart.song_id, chart.part_key = ChartStatus.UNSORTED, reason, None, None
        else:
            song = await song_titled(session, actor.band_id, choose_title(parsed.title, chart.pdf_title),
                                     parsed.song_key)
            chart.status, chart.problem, chart.song_id, chart.part_key = ChartStatus.OK, None, song.id, part.key()
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
