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
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial

import sqlalchemy as sa
from sqlmodel import col, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..access import Actor
from ..engraving import EngraveSpec
from ..engraving.engraver import MAX_OCTAVE_SHIFT, Kind
from ..engraving.theory import Key
from ..errors import InvalidInput, NotFound
from ..models import AudioTrack, Chart, ChartStatus, MemberSongPref, Song, utcnow
from ..naming import NO_PART, ParsedName, choose_title, parse_filename, search_key
from ..parts import (
    ALL_PARTS,
    INSTRUMENTS,
    ChartMatch,
    MemberInstrument,
    PartRef,
    Role,
    best_part,
    members_from_json,
    rank_parts,
    sort_parts,
)
from .validation import clean_text

PAGE_SIZE = 50
IN_MY_PART = frozenset({"chair", "instrument", "transposition"})
GENERATED_KINDS = frozenset({"notation", "chordpro"})  # Chart.kind of files engraved for every part
ENGRAVE_KINDS: dict[str, Kind] = {"notation": "musicxml", "chordpro": "chordpro"}
SOURCE_LABELS = {"notation": "Generated from the MusicXML score", "chordpro": "Generated from the chord sheet"}


def member_instruments(actor: Actor) -> tuple[MemberInstrument, ...]:
    """What this member plays, and how they read on each instrument (their reading preferences)."""
    return members_from_json(actor.instruments, actor.reading)


def reader_key(actor: Actor) -> str:
    """What makes "my part" differ between members (instruments, how they read, leading): members with the same key
    get the same charts, so a setlist's stand is built once for all of them."""
    return json.dumps([actor.instruments, actor.reading, actor.is_leader], sort_keys=True, default=str)


def is_generated(chart: Chart) -> bool:
    return chart.kind in GENERATED_KINDS


def served_parts(chart: Chart) -> tuple[str, ...]:
    """The part keys a chart can be opened in: a PDF its own part; a MusicXML/ChordPro file every part it serves."""
    keys = {chart.part_key} if chart.part_key else set()
    if is_generated(chart):
        keys.update(k for k in chart.parts or () if isinstance(k, str))
    return tuple(p.key() for p in sort_parts(p for p in map(PartRef.try_from_key, keys) if p is not None))


def source_label(chart: Chart | None) -> str | None:
    """ "Generated from the MusicXML score" / "… from the chord sheet"; None for a PDF."""
    return SOURCE_LABELS.get(chart.kind) if chart is not None else None


def parsed_name(chart: Chart, *, folders: bool = True) -> ParsedName:
    """What the chart's file name (and its folders, unless ``folders`` is false) say, read the way sync reads it."""
    name = chart.file_name
    if chart.kind == "chordpro" and name.lower().endswith(".txt"):
        name = name[:-4] + ".cho"  # a .txt chord sheet is named like a .cho one
    return parse_filename(name, [f for f in chart.folder.split("/") if f] if folders else [])


def named_part(parsed: ParsedName, generated: bool) -> PartRef | None:
    """The part a file's name gives it. A MusicXML or ChordPro file named a score is filed by its own staves instead:
    it is engraved for every part, and "score" is no part to engrave."""
    if generated and parsed.part is not None and parsed.part.role is Role.SCORE:
        return None
    return parsed.part


def filing_problem(parsed: ParsedName, part: PartRef | None, generated: bool) -> str | None:
    """Why a file can't be filed by what it says (it goes to Unsorted with this reason), or None. A MusicXML or
    ChordPro file with no part in its name is filed under the part its own staves give (``part``)."""
    reason = parsed.unsorted_reason
    if generated and reason == NO_PART and part is not None:
        reason = None
    if reason is None and part is None:
        reason = NO_PART
    return reason


def file_hint(chart: Chart) -> PartRef | None:
    """The part a generated chart's *file name* names: what sync passed to the engraver as ``hint`` (a leader's
    manual assignment stands in for it). The same on every call, so drawings and cache keys stay stable."""
    if chart.manual:
        return PartRef.try_from_key(chart.part_key)
    return named_part(parsed_name(chart), True)


def same_key(a: str | None, b: str | None) -> bool:
    """Whether two key names are the same key ("Bb" and "B♭" and "A#"; a minor key is not its relative major)."""
    ka, kb = Key.try_parse(a), Key.try_parse(b)
    return ka is not None and kb is not None and ka.tonic.pc == kb.tonic.pc and ka.minor == kb.minor


def key_label(key: str | None) -> str:
    parsed = Key.try_parse(key)
    return parsed.name(unicode=True) if parsed else (key or "")


@dataclass(frozen=True, slots=True)
class KeyPref:
    """A member's own way of reading a song's generated part (``MemberSongPref``)."""

    musical_key: str | None = None  # the written key of my part ("D"); None: as engraved
    octave_shift: int = 0

    @property
    def is_default(self) -> bool:
        return self.musical_key is None and self.octave_shift == 0


def engrave_spec(chart: Chart, part_key: str, *, concert_key: str | None = None,
                 pref: KeyPref | None = None) -> EngraveSpec:
    """The drawing of ``part_key`` from a generated chart: the night's key (dropped when it is the file's own key,
    so equal drawings share a cache entry), then the member's octave, and their key unless the night sets one."""
    part = PartRef.try_from_key(part_key)
    if part is None or not is_generated(chart):
        raise InvalidInput("Choose a part to show.")
    if concert_key is not None and (Key.try_parse(concert_key) is None or same_key(concert_key, chart.source_key)):
        concert_key = None
    pref = pref or KeyPref()
    return EngraveSpec(part, kind=ENGRAVE_KINDS[chart.kind], hint=file_hint(chart), concert_key=concert_key,
                       key=pref.musical_key if concert_key is None else None, octave_shift=pref.octave_shift)


@dataclass(frozen=True, slots=True)
class ResolvedChart:
    """What to put on a member's stand for one song: which chart, which part of it, drawn how, and why.

    ``part_key`` is the part to open: a PDF's own part, or the part a generated chart is engraved for (maybe the
    member's instrument: "instrument:trumpet"). ``spec_params`` are ``EngraveSpec.to_params()`` for a generated part
    (the media routes' query, with the night's key and the member's preference), empty for a PDF.
    """

    chart_id: int | None
    part_key: str | None
    generated: bool
    spec_params: dict[str, str]
    explanation: str
    match: ChartMatch
    kind: str | None = None  # Chart.kind of the chart to open
    concert_key: str | None = None  # the key of the night this was resolved for
    source_label: str | None = None  # "Generated from the MusicXML score", for a generated part
    stand_note: str = ""  # what the stand says of it: "engraved from the score", "this PDF is in F"

    @property
    def playable(self) -> bool:
        return self.chart_id is not None and self.match.quality in IN_MY_PART

    @property
    def part_label(self) -> str:
        part = PartRef.try_from_key(self.part_key)
        return part.label() if part else ""


@dataclass(frozen=True, slots=True)
class _Pick:
    match: ChartMatch  # explanation already final
    chart: Chart | None
    part_key: str | None
    generated: bool
    pdf_key: str | None = None  # a PDF in my part was set aside for tonight's key: the key it is in


def engraved_part(match: ChartMatch, chart: Chart) -> PartRef | None:
    """A lead sheet's generic part read through the member's own transposition is engraved for their instrument."""
    part = match.part
    if part is None or chart.kind != "notation" or match.quality != "transposition" or match.instrument is None:
        return part
    if part.instrument is not None or part.role is not None:
        return part
    inst = INSTRUMENTS.get(match.instrument)
    if inst is None or inst.transposition != part.transposition or inst.role is not None:
        return part
    return PartRef(instrument=inst.key)


def _generated_for(key: str, generated: Sequence[Chart]) -> Chart | None:
    """The generated chart to engrave ``key`` from: a ChordPro sheet first for Chords and Lyrics, a score first for
    everything else (real notation); then by id, so the choice is stable."""
    part = PartRef.try_from_key(key)
    wants_sheet = part is not None and part.role in (Role.CHORDS, Role.LYRICS)
    order = sorted(generated, key=lambda c: ((c.kind == "chordpro") != wants_sheet, c.id or 0))
    return next((c for c in order if key in served_parts(c)), None)


def _pick(member: Sequence[MemberInstrument], charts: Iterable[Chart], *, concert_key: str | None = None,
          song_key: str | None = None, leader: bool = False) -> _Pick:
    """The chart and part for one member and song (see the module doc for the rules). Pure: no database. A full score
    is only ever a leader's pick (``leader``), and only when nothing else fits."""
    charts = list(charts)
    best = partial(best_part, member, leader=leader)
    pdfs = {c.part_key: c for c in charts if not is_generated(c) and c.part_key}
    generated = [c for c in charts if is_generated(c)]
    gen_keys = {k for c in generated for k in served_parts(c)}
    pdf_parts = [p for p in map(PartRef.try_from_key, sorted(pdfs)) if p is not None]
    pdf_match = best(pdf_parts)
    if not generated:
        chart = pdfs.get(pdf_match.part.key()) if pdf_match.part is not None else None
        return _Pick(_night_note(pdf_match, concert_key, song_key), chart, chart.part_key if chart else None, False)
    everything = best([*pdf_parts, *(p for p in map(PartRef.try_from_key, gen_keys) if p is not None)])
    if pdf_match.quality in IN_MY_PART:
        choice = pdf_match
    else:
        choice = everything
    if choice.part is not None and choice.part.key() in pdfs:
        pdf = pdfs[choice.part.key()]
        tonight_moved = concert_key is not None and song_key is not None and not same_key(concert_key, song_key)
        if tonight_moved:
            gen_match = best([p for p in map(PartRef.try_from_key, gen_keys) if p is not None])
            if gen_match.part is not None and gen_match.quality in IN_MY_PART:
                source = _generated_for(gen_match.part.key(), generated)
                if source is not None:
                    return replace(_generated_pick(gen_match, source, concert_key,
                                                   f" (the PDF is in {key_label(song_key)})"), pdf_key=song_key)
        return _Pick(_night_note(choice, concert_key, song_key), pdf, pdf.part_key, False)
    if choice.part is None:
        return _Pick(choice, None, None, False)
    source = _generated_for(choice.part.key(), generated)
    if source is None:  # pragma: no cover - every generated key comes from a generated chart
        return _Pick(choice, None, None, False)
    return _generated_pick(choice, source, concert_key)


def _generated_pick(match: ChartMatch, chart: Chart, concert_key: str | None, why: str = "") -> _Pick:
    part = engraved_part(match, chart) or match.part
    assert part is not None
    if part != match.part and match.quality in IN_MY_PART:
        said = f"Your part: {part.label()}"
    else:
        said = match.explanation
    label = SOURCE_LABELS[chart.kind]
    tonight = ""
    if concert_key and Key.try_parse(concert_key) is not None and not same_key(concert_key, chart.source_key):
        tonight = f", in {key_label(concert_key)} for tonight" + why
    explanation = f"{said} — {label[0].lower()}{label[1:]}{tonight}"
    return _Pick(replace(match, explanation=explanation), chart, part.key(), True)


def _night_note(match: ChartMatch, concert_key: str | None, song_key: str | None) -> ChartMatch:
    """A PDF can't move: when tonight's key isn't the chart's, say so on the stand."""
    if match.part is None or not concert_key or not song_key or same_key(concert_key, song_key) \
            or Key.try_parse(concert_key) is None:
        return match
    return replace(match, explanation=f"{match.explanation} — tonight in {key_label(concert_key)}, this chart is in "
                                      f"{key_label(song_key)}")


def _song_key(song: Song | None, charts: Iterable[Chart]) -> str | None:
    """The key the song's PDFs are taken to be in: the song's own key, else what its MusicXML/ChordPro file says."""
    if song is not None and song.musical_key:
        return song.musical_key
    return next((c.source_key for c in sorted(charts, key=lambda c: (c.kind != "notation", c.id or 0))
                 if is_generated(c) and c.source_key), None)


@dataclass(frozen=True, slots=True)
class SongRow:
    song_id: int
    title: str
    match: ChartMatch  # the explanation says "generated from the MusicXML score" when it is
    chart_id: int | None  # the chart this member should open, if any (maybe a nearest part)
    part_key: str | None = None  # the part of it to open (a generated chart serves many)
    generated: bool = False

    @property
    def playable(self) -> bool:
        """A chart in my part (my chair, my instrument or my transposition), not just something I could read."""
        return self.chart_id is not None and self.match.quality in IN_MY_PART


@dataclass(frozen=True, slots=True)
class SongPage:
    rows: list[SongRow]
    total: int
    offset: int


def _row(actor: Actor, song: Song, charts: list[Chart], concert_key: str | None = None) -> SongRow:
    assert song.id is not None
    pick = _pick(member_instruments(actor), charts, concert_key=concert_key, song_key=_song_key(song, charts),
                 leader=actor.is_leader)
    return SongRow(song.id, song.title, pick.match, pick.chart.id if pick.chart else None, pick.part_key,
                   pick.generated)


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
    return sa.exists().where(Chart.band_id == band_id, Chart.song_id == Song.id, Chart.status == ChartStatus.OK,
                             or_(col(Chart.part_key).in_(list(keys)), generated))


MINE = "mine"  # the part filter meaning "songs with a chart in my part"
NOT_IN_LIBRARY = "That song isn't in your library."


async def song_scope(session: AsyncSession, actor: Actor) -> set[int] | None:
    """The songs this member may open: a substitute only their gig's setlist; None (everything) for the band."""
    if not actor.is_sub:
        return None
    from .setlists import sub_song_ids  # setlists asks the library what "my part" is: import here, not at the top

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
    rows = [_row(actor, song, charts.get(song.id or 0, [])) for song in songs]
    return SongPage(rows, int(total), offset)


async def rows_for_songs(session: AsyncSession, actor: Actor, song_ids: list[int], *,
                         concert_keys: Mapping[int, str | None] | None = None) -> list[SongRow]:
    """My part for each of these songs (a setlist's entries), in the order given. ``concert_keys``: song id → the
    key of the night (``SetlistItem.musical_key``), which moves generated parts and may prefer them over a PDF."""
    songs = {s.id: s for s in (await session.exec(select(Song).where(
        Song.band_id == actor.band_id, col(Song.id).in_(song_ids)))).all()} if song_ids else {}
    charts = await _charts_by_song(session, actor.band_id, list(songs))
    keys = concert_keys or {}
    return [_row(actor, songs[song_id], charts.get(song_id, []), keys.get(song_id))
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
        chart = _generated_for(part.key(), generated)
        if chart is None or chart.id is None:
            continue
        count = chart.page_count if part.key() == chart.part_key else None
        options.append(PartOption(chart.id, part.key(), part.label(), True, chart.kind, count,
                                  SOURCE_LABELS[chart.kind], chart.file_name))
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
    song_key = _song_key(song, charts)
    pick = _pick(member_instruments(actor), charts, concert_key=concert_key, song_key=song_key,
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
    charts = await _charts_by_song(session, actor.band_id, list(songs))
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
