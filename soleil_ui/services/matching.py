"""Which chart and part a member reads: the matching rules of the library, with no database in sight.

A PDF is one part; a MusicXML score or a ChordPro sheet (``GENERATED_KINDS``) is engraved for every part it serves.
``pick_chart`` ranks them together for a member's instruments (see ``library``'s docstring for the rules, and the key of
the night); ``ResolvedChart`` says which chart and part key to open and how to draw it (``engrave_spec``). The
library's queries, the setlist plan and the media routes all ask here, so the rules live in one place.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import partial

from ..access import Actor
from ..engraving import EngraveSpec
from ..engraving.engraver import Kind
from ..engraving.theory import Key
from ..errors import InvalidInput
from ..models import Chart, Song
from ..naming import NO_PART, ParsedName, parse_filename
from ..parts import (
    INSTRUMENTS,
    ChartMatch,
    MemberInstrument,
    PartRef,
    Role,
    best_part,
    members_from_json,
    sort_parts,
)

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


def generated_for(key: str, generated: Sequence[Chart]) -> Chart | None:
    """The generated chart to engrave ``key`` from: a ChordPro sheet first for Chords and Lyrics, a score first for
    everything else (real notation); then by id, so the choice is stable."""
    part = PartRef.try_from_key(key)
    wants_sheet = part is not None and part.role in (Role.CHORDS, Role.LYRICS)
    order = sorted(generated, key=lambda c: ((c.kind == "chordpro") != wants_sheet, c.id or 0))
    return next((c for c in order if key in served_parts(c)), None)


def pick_chart(member: Sequence[MemberInstrument], charts: Iterable[Chart], *, concert_key: str | None = None,
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
                source = generated_for(gen_match.part.key(), generated)
                if source is not None:
                    return replace(_generated_pick(gen_match, source, concert_key,
                                                   f" (the PDF is in {key_label(song_key)})"), pdf_key=song_key)
        return _Pick(_night_note(choice, concert_key, song_key), pdf, pdf.part_key, False)
    if choice.part is None:
        return _Pick(choice, None, None, False)
    source = generated_for(choice.part.key(), generated)
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


def song_key_of(song: Song | None, charts: Iterable[Chart]) -> str | None:
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


def song_row(actor: Actor, song: Song, charts: list[Chart], concert_key: str | None = None) -> SongRow:
    assert song.id is not None
    pick = pick_chart(member_instruments(actor), charts, concert_key=concert_key, song_key=song_key_of(song, charts),
                       leader=actor.is_leader)
    return SongRow(song.id, song.title, pick.match, pick.chart.id if pick.chart else None, pick.part_key,
                   pick.generated)
