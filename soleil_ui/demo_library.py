"""The demo band's chart library: real PDFs that look like lead sheets, named the messy ways bands name files.

Everything is drawn with fpdf2 from a seed — staves, clefs, notes, chord symbols, lyrics, chord grids — so
the demo needs no bundled music and no copyrighted material: titles and composers are made up, melodies are
random walks. The set is built to exercise the app: parts named every which way, songs with no B♭ part, a
bass-clef trombone part where the bassist has no part of their own, two broken files for the leader's problem
list, and a few reference recordings.
"""

from __future__ import annotations

import io
import math
import struct
import wave
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from random import Random

from fpdf import FPDF

FIXED_DATE = datetime(2024, 1, 1, tzinfo=UTC)  # same seed → same bytes: nothing may depend on the clock
BROKEN_FILES = ("Broken - Bb.pdf", "Half Finished_Eb.pdf")  # an empty file, and a truncated one


@dataclass(frozen=True, slots=True)
class DemoPart:
    """One chart file: what the seeding code and tests expect the sync to find."""

    name: str  # as printed on the chart, e.g. "B♭ Trumpet"
    path: str  # relative to the library root, named the way a band might
    pages: int = 1


@dataclass(frozen=True, slots=True)
class DemoSong:
    """A song and its charts; ``title`` is also the PDF metadata title of every chart."""

    title: str
    composer: str
    style: str
    key: str  # concert key the chord symbols are in
    form: str  # a key of _FORMS
    parts: tuple[DemoPart, ...]
    beats: int = 4  # per bar

    def part(self, name: str) -> DemoPart | None:
        """The chart for a part name as printed ("B♭ Trumpet"), or None: the "no chart in your part" case."""
        return next((part for part in self.parts if part.name == name), None)


def _song(title: str, composer: str, style: str, key: str, form: str, *parts: tuple, beats: int = 4) -> DemoSong:
    return DemoSong(title, composer, style, key, form, tuple(DemoPart(*part) for part in parts), beats)


# fmt: off
DEMO_SONGS: tuple[DemoSong, ...] = (
    _song("Midnight Ferry", "Ana Ribeiro", "Medium Swing", "F", "rhythm",
          ("B♭ Trumpet", "MidnightFerry_Bb.pdf", 2), ("E♭ Alto Sax", "MidnightFerry_Eb.pdf", 2),
          ("Concert", "MidnightFerry_Concert.pdf", 2), ("Bass Clef", "MidnightFerry_BassClef.pdf", 2),
          ("Chords", "MidnightFerry_Chords.pdf", 1)),
    _song("Señor Sunshine", "Tomás Ferreira", "Bossa Nova", "G", "bossa",
          ("B♭ Trumpet", "Señor Sunshine - Bb.pdf", 2), ("E♭ Alto Sax", "Señor Sunshine - Eb.pdf", 2),
          ("Concert", "Señor Sunshine - Concert.pdf", 2), ("Lyrics", "Señor Sunshine - Lyrics.pdf", 1)),
    _song("Don't Stop Now", "The Hollis Brothers", "Funk", "E", "funk",
          ("E♭ Alto Sax", "Don't Stop Now (Alto Sax).pdf", 1), ("B♭ Trumpet", "Don't Stop Now - Trumpet.pdf", 1),
          ("Chords", "Don't Stop Now_Chords.pdf", 1), ("Lyrics", "Don't Stop Now_Lyrics.pdf", 2)),
    _song("Blue Harbor Blues", "M. Okafor", "Slow Blues", "Bb", "blues",
          ("B♭ Trumpet 1", "Blue Harbor Blues - Tpt 1.pdf", 1), ("B♭ Trumpet 2", "Blue Harbor Blues - Tpt 2.pdf", 1),
          ("Concert", "Blue Harbor Blues - Concert.pdf", 1), ("Bass Clef", "Blue Harbor Blues_BassClef.pdf", 1)),
    _song("Coffee at Five", "Lena Marsh", "Up-tempo Swing", "Eb", "rhythm",
          ("B♭ Trumpet", "Bb/Coffee at Five.pdf", 3), ("E♭ Alto Sax", "Eb/Coffee at Five.pdf", 3),
          ("Concert", "Concert/Coffee at Five.pdf", 3)),
    _song("Waltz for Marguerite", "Paul Delacroix", "Jazz Waltz", "C", "waltz",
          ("Concert", "Waltz for Marguerite - Concert.pdf", 2),
          ("E♭ Alto Sax", "Waltz for Marguerite (Alto Sax).pdf", 2),
          ("Lyrics", "Waltz for Marguerite_Lyrics.pdf", 1), beats=3),
    _song("Café Olé", "Rosa Quintero", "Latin", "D", "minor",
          ("Concert", "Café Olé - Concert.pdf", 2), ("Bass Clef", "Café Olé_BassClef.pdf", 1),
          ("Chords", "Café Olé_Chords.pdf", 1)),
    _song("Green Street Groove", "J. T. Banks", "Shuffle", "G", "blues",
          ("B♭ Tenor Sax", "GreenStreetGroove_Bb.pdf", 1), ("Concert", "GreenStreetGroove_Concert.pdf", 1),
          ("Chords", "GreenStreetGroove_Chords.pdf", 1), ("Trombone", "Green Street Groove - Trombone.pdf", 1)),
    _song("Slow Boat Home", "Ana Ribeiro", "Ballad", "Ab", "ballad",
          ("Chords", "SlowBoatHome_Chords.pdf", 1), ("Lyrics", "SlowBoatHome_Lyrics.pdf", 2)),
    _song("Brass Tacks", "The Hollis Brothers", "Medium Swing", "Bb", "rhythm",
          ("B♭ Trumpet", "Brass Tacks - Bb.pdf", 2), ("E♭ Alto Sax", "Brass Tacks - Eb.pdf", 2),
          ("Concert", "Brass Tacks - Concert.pdf", 2), ("Bass Clef", "Brass Tacks_BassClef.pdf", 2)),
    _song("Long Way Round", "Lena Marsh", "Ballad", "F", "ballad",
          ("B♭ Tenor Sax", "Long Way Round (Tenor Sax).pdf", 1), ("Concert", "Long Way Round - Concert.pdf", 1),
          ("Lyrics", "Long Way Round_Lyrics.pdf", 1)),
    _song("Saint Clair Shuffle", "M. Okafor", "Shuffle", "C", "blues",
          ("E♭ Alto Sax", "Saint Clair Shuffle - Eb.pdf", 1), ("Chords", "Saint Clair Shuffle_Chords.pdf", 1)),
)
# fmt: on
# Reference recordings: (song title, file name).
DEMO_AUDIO: tuple[tuple[str, str], ...] = (
    ("Midnight Ferry", "Midnight Ferry_Original.wav"),
    ("Señor Sunshine", "Señor Sunshine - Reference.wav"),
    ("Blue Harbor Blues", "Blue Harbor Blues - Reference.wav"),
)
# How long each style typically runs on a bandstand, in seconds; a song varies by up to half a minute around it.
_STYLE_LENGTHS = {"Medium Swing": 250, "Up-tempo Swing": 200, "Bossa Nova": 235, "Funk": 275, "Slow Blues": 320,
                  "Jazz Waltz": 260, "Latin": 245, "Shuffle": 225, "Ballad": 290}


def song_length(song: DemoSong) -> int:
    """A believable running time for a demo song (the demo recordings are only a few seconds of melody)."""
    return _STYLE_LENGTHS.get(song.style, 240) + _rng(f"{song.title}/length").randint(-30, 30)


_HALF_FINISHED = _song("Half Finished", "Nobody Yet", "Medium Swing", "F", "rhythm", ("E♭ Alto Sax", "", 2))

# Chord progressions in C, as (rehearsal mark, bars); transposed to each song's key and each part's instrument.
# fmt: off
_FORMS: dict[str, tuple[tuple[str, str], ...]] = {
    "rhythm": (("A", "Cmaj7 Am7 Dm7 G7 Em7 A7 Dm7 G7"), ("A", "Cmaj7 Am7 Dm7 G7 C7 F7 Cmaj7 Cmaj7"),
               ("B", "E7 E7 A7 A7 D7 D7 G7 G7"), ("A", "Cmaj7 Am7 Dm7 G7 C7 F7 Cmaj7 G7")),
    "blues": (("A", "C7 F7 C7 C7 F7 F7 C7 A7 Dm7 G7 C7 G7"),),
    "bossa": (("A", "Cmaj7 Cmaj7 D7 D7 Dm7 G7 Cmaj7 Gm7"), ("B", "Fmaj7 Fmaj7 Fm7 Bb7 Em7 A7 Dm7 G7")),
    "funk": (("A", "C7 C7 C7 C7 F7 F7 C7 C7"), ("B", "Bb7 Bb7 F7 F7 G7 F7 C7 G7")),
    "waltz": (("A", "Cmaj7 Am7 Dm7 G7 Em7 A7 Dm7 G7"), ("B", "Fmaj7 Fm7 Em7 A7 Dm7 G7 C6 C6")),
    "minor": (("A", "Cm7 Cm7 Fm7 Fm7 Dm7b5 G7 Cm7 G7"), ("B", "Abmaj7 Abmaj7 Fm7 Bb7 Ebmaj7 Dm7b5 G7 G7")),
    "ballad": (("A", "Cmaj7 A7 Dm7 G7 Em7 Ebdim7 Dm7 G7"), ("B", "Fmaj7 Fm6 Em7 A7 D7 D7 Dm7 G7")),
}
# fmt: on
_NOTES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")  # the spellings charts use most
_SEMITONE = {name: index for index, name in enumerate(_NOTES)} | {"C#": 1, "D#": 3, "Gb": 6, "G#": 8, "A#": 10}


@dataclass(frozen=True, slots=True)
class _Look:
    kind: str  # "staff", "chords" or "lyrics"
    clef: str = "treble"
    transpose: int = 0  # semitones from concert pitch to the written part


def _look(part: str) -> _Look:
    if part.startswith("B♭"):
        return _Look("staff", transpose=2)
    if part.startswith("E♭"):
        return _Look("staff", transpose=9)
    bass = _Look("staff", clef="bass")
    return {"Bass Clef": bass, "Trombone": bass, "Chords": _Look("chords"), "Lyrics": _Look("lyrics")}.get(
        part, _Look("staff")
    )


def transpose(chord: str, semitones: int) -> str:
    """``transpose("Bb7", 2) == "C7"``: the root moves, the quality stays."""
    root = _root(chord)
    return _NOTES[(_SEMITONE[root] + semitones) % 12] + chord[len(root) :]


def _root(chord: str) -> str:
    return chord[:2] if chord[1:2] in ("b", "#") else chord[:1]


def generate_demo_library(target: Path, seed: int = 1) -> list[Path]:
    """Write the demo library under ``target`` (existing files of the same names are replaced); returns the paths."""
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for song in DEMO_SONGS:
        for part in song.parts:
            written.append(_write(target / part.path, chart_pdf(song, part, seed)))
    written.append(_write(target / BROKEN_FILES[0], b""))
    half = chart_pdf(_HALF_FINISHED, _HALF_FINISHED.parts[0], seed)
    written.append(_write(target / BROKEN_FILES[1], half[: len(half) * 3 // 5]))  # the upload that never finished
    songs = {song.title: song for song in DEMO_SONGS}
    for title, name in DEMO_AUDIO:
        written.append(_write(target / name, _melody_wav(songs[title], seed)))
    return written


def _rng(key: str) -> Random:
    """A generator seeded from a string: the same on every run and machine (str seeds are hashed with SHA-512)."""
    return Random(key)  # noqa: S311 — melodies, not secrets


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# --- charts -------------------------------------------------------------------------------------------------

Point = tuple[float, float]  # (x, y) in mm from the page's top left
PAGE_W, MARGIN = 210.0, 15.0
SPACE = 2.0  # mm between staff lines
STAFF_GAP = 24.0  # mm from one staff's top line to the next
BARS_PER_STAFF = 4


def chart_pdf(song: DemoSong, part: DemoPart, seed: int = 1) -> bytes:
    """One chart as PDF bytes: title block, then staves, a chord grid or lyrics, and "n/N" page numbers."""
    look = _look(part.name)
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_title(song.title)
    pdf.set_author(song.composer)
    pdf.set_subject(part.name)
    pdf.set_creator("SOLEil demo library")
    draw = {"staff": _staff_pages, "chords": _chord_grid, "lyrics": _lyrics}[look.kind]
    draw(pdf, song, part, look, _rng(f"{seed}/{song.title}"))
    assert pdf.pages_count == part.pages, f"{part.path}: drew {pdf.pages_count} pages, numbered n/{part.pages}"
    return bytes(pdf.output())


def _new_page(pdf: FPDF, song: DemoSong, part: DemoPart) -> float:
    """Start a page; the first carries the full title block. Returns the y where content may begin."""
    pdf.add_page()
    pdf.set_font("helvetica", size=10)
    _centered(pdf, 288, f"{pdf.page}/{part.pages}")
    if pdf.page > 1:
        pdf.set_font("helvetica", "I", 9)
        _label(pdf, MARGIN, 12, f"{song.title} - {part.name}")
        return 24.0
    pdf.set_font("helvetica", "B", 24)
    _centered(pdf, 24, song.title)
    pdf.set_font("helvetica", "B", 12)
    width = _label(pdf, MARGIN + 2, 12.5, part.name, draw=False)
    pdf.set_line_width(0.3)
    pdf.rect(MARGIN, 7, width + 4, 7.5, round_corners=True, corner_radius=1.2)
    _label(pdf, MARGIN + 2, 12.5, part.name)
    pdf.set_font("helvetica", "I", 10)
    pdf.text(MARGIN, 34, song.style)
    pdf.text(PAGE_W - MARGIN - pdf.get_string_width(song.composer), 34, song.composer)
    return 48.0


def _centered(pdf: FPDF, y: float, text: str) -> None:
    pdf.text((PAGE_W - pdf.get_string_width(text)) / 2, y, text)


def _label(pdf: FPDF, x: float, y: float, text: str, *, draw: bool = True) -> float:
    """Text where "♭" is drawn as a flat sign (the PDF core fonts have none); returns the width."""
    start = x
    em = pdf.font_size  # in mm
    for index, chunk in enumerate(text.split("♭")):
        if index:
            if draw:
                _flat(pdf, x + 0.15 * em, y, em * 0.75)
            x += 0.55 * em
        if draw:
            pdf.text(x, y, chunk)
        x += pdf.get_string_width(chunk)
    return x - start


def _flat(pdf: FPDF, x: float, y: float, height: float) -> None:
    """A flat sign standing on baseline ``y``: a stem and a bowl."""
    pdf.set_line_width(height * 0.09)
    pdf.line(x, y - height, x, y)
    h = height
    _curve(pdf, h * 0.11, (x, y - h * 0.4), ((x + h * 0.35, y - h * 0.62), (x + h * 0.62, y - h * 0.35), (x, y)))


def _curve(pdf: FPDF, width: float, start: Point, *segments: tuple[Point, Point, Point]) -> None:
    """A stroked chain of cubic Béziers, drawn as a fine polyline: far cheaper in fpdf2 than a drawing path."""
    points = [start]
    for control1, control2, end in segments:
        begin = points[-1]
        for step in range(1, 9):
            t = step / 8
            weights = ((1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3)
            x, y = (sum(w * c for w, c in zip(weights, axis, strict=True))
                    for axis in zip(begin, control1, control2, end, strict=True))
            points.append((x, y))
    pdf.set_line_width(width)
    pdf.polyline(points)


def _staff_pages(pdf: FPDF, song: DemoSong, part: DemoPart, look: _Look, rng: Random) -> None:
    chords = _chords(song, look.transpose)
    bar, pages = 0, part.pages
    for page in range(pages):
        top = _new_page(pdf, song, part)
        staves = int((280 - top) // STAFF_GAP)
        if page == pages - 1 and pages > 1:
            staves = max(2, staves * 2 // 3)  # the last page is seldom full
        for line in range(staves):
            y = top + line * STAFF_GAP
            last = page == pages - 1 and line == staves - 1
            _staff(pdf, y, look.clef, song.beats if bar == 0 else None)
            x0 = MARGIN + (21 if bar == 0 else 10)
            bar_w = (PAGE_W - MARGIN - x0) / BARS_PER_STAFF
            for i in range(BARS_PER_STAFF):
                mark, chord, section_end = chords[bar % len(chords)]
                x = x0 + i * bar_w
                if mark:
                    _rehearsal(pdf, x, y, mark)
                pdf.set_font("helvetica", "B", 11)
                pdf.text(x + (6 if mark else 1.5), y - 4.5, chord)
                _bar_of_notes(pdf, x + 2.5, bar_w - 4, y, _notes(rng, song.beats), song.beats, look)
                final = last and i == BARS_PER_STAFF - 1
                _barline(pdf, x + bar_w, y, "final" if final else "double" if section_end else "single")
                bar += 1


def _sections(song: DemoSong, semitones: int) -> list[tuple[str, list[str]]]:
    """The form as (rehearsal mark, chord per bar), in the song's key, written for an instrument ``semitones`` up."""
    shift = _SEMITONE[song.key] + semitones
    return [(mark, [transpose(chord, shift) for chord in bars.split()]) for mark, bars in _FORMS[song.form]]


def _chords(song: DemoSong, semitones: int) -> list[tuple[str, str, bool]]:
    """Every bar of the form as (rehearsal mark or "", chord symbol, ends a section)."""
    return [
        (mark if index == 0 else "", chord, index == len(chords) - 1)
        for mark, chords in _sections(song, semitones)
        for index, chord in enumerate(chords)
    ]


def _staff(pdf: FPDF, top: float, clef: str, time_signature: int | None) -> None:
    pdf.set_line_width(0.15)
    for line in range(5):
        pdf.line(MARGIN, top + line * SPACE, PAGE_W - MARGIN, top + line * SPACE)
    pdf.set_line_width(0.3)
    pdf.line(MARGIN, top, MARGIN, top + 4 * SPACE)
    (_treble_clef if clef == "treble" else _bass_clef)(pdf, MARGIN + 1.5, top + 4 * SPACE)
    if time_signature:
        pdf.set_font("helvetica", "B", 15)
        for row, digit in enumerate((str(time_signature), "4")):
            pdf.text(MARGIN + 11.5, top + (2 + 2 * row) * SPACE - 0.1, digit)


def _treble_clef(pdf: FPDF, x: float, bottom: float) -> None:
    """A G clef as one stroke: spiral round the G line, loop above the staff, stem down to a hooked tail."""
    s = SPACE

    def p(px: float, py: float) -> Point:  # staff spaces (y up from the bottom line) → mm
        return x + px * s, bottom - py * s

    curves = (
        ((0.95, 1.5), (0.25, 1.55), (0.2, 1.0)),
        ((0.15, 0.35), (0.9, 0.1), (1.35, 0.45)),
        ((1.9, 0.9), (1.8, 2.0), (1.0, 2.35)),
        ((0.1, 2.8), (-0.1, 3.6), (0.55, 4.4)),
        ((1.1, 5.0), (1.35, 5.8), (1.0, 6.2)),
        ((0.75, 6.5), (0.35, 5.9), (0.5, 4.8)),
        ((0.65, 3.0), (1.0, 0.0), (1.05, -1.0)),
        ((1.1, -1.75), (0.2, -1.8), (0.2, -1.1)),
    )
    _curve(pdf, 0.45, p(0.95, 1.0), *((p(*a), p(*b), p(*c)) for a, b, c in curves))
    cx, cy = p(0.45, -1.05)
    pdf.ellipse(cx - 0.6, cy - 0.6, 1.2, 1.2, style="F")


def _bass_clef(pdf: FPDF, x: float, bottom: float) -> None:
    """An F clef: a dot on the F line, a curl down and to the left, and two dots either side of the line."""
    s = SPACE

    def p(px: float, py: float) -> Point:  # staff spaces (y up from the bottom line) → mm
        return x + px * s, bottom - py * s

    _curve(pdf, 0.6, p(0.3, 3.0), (p(0.2, 4.0), p(2.3, 4.3), p(2.4, 3.0)), (p(2.5, 1.6), p(1.4, 0.6), p(0.1, 0.1)))
    for dx, dy, r in ((0.45, 3.0, 0.75), (3.0, 3.5, 0.35), (3.0, 2.5, 0.35)):
        pdf.ellipse(x + dx * s - r, bottom - dy * s - r, 2 * r, 2 * r, style="F")


def _rehearsal(pdf: FPDF, x: float, top: float, mark: str) -> None:
    pdf.set_line_width(0.35)
    pdf.rect(x + 0.5, top - 8.5, 4.5, 5.5)
    pdf.set_font("helvetica", "B", 11)
    pdf.text(x + 1.2, top - 4.2, mark)


def _barline(pdf: FPDF, x: float, top: float, kind: str) -> None:
    bottom = top + 4 * SPACE
    pdf.set_line_width(0.25)
    if kind == "final":
        pdf.line(x - 1.6, top, x - 1.6, bottom)
        pdf.rect(x - 0.9, top, 0.9, 4 * SPACE, style="F")
    elif kind == "double":
        pdf.line(x - 0.9, top, x - 0.9, bottom)
        pdf.line(x, top, x, bottom)
    else:
        pdf.line(x, top, x, bottom)


Note = tuple[float, float, int | None]  # (start beat, length in beats, staff step or None for a rest)
_RHYTHMS = {
    4: (
        (1, 1, 1, 1),
        (2, 2),
        (0.5, 0.5, 1, 2),
        (1, 0.5, 0.5, 1, 1),
        (0.5, 0.5, 0.5, 0.5, 2),
        (2, 1, 1),
        (3, 1),
        (1.5, 0.5, 2),
        (-1, 1, 1, 1),
        (4,),
        (-4,),
    ),
    3: ((1, 1, 1), (3,), (2, 1), (0.5, 0.5, 1, 1), (1, 2), (-1, 1, 1)),
}


def _notes(rng: Random, beats: int) -> list[Note]:
    """One bar of melody: a rhythm from the stock patterns (negative = rest) and a stepwise random walk."""
    notes: list[Note] = []
    beat, step = 0.0, rng.randint(1, 8)
    for length in rng.choice(_RHYTHMS[beats]):
        if length < 0:
            notes.append((beat, -length, None))
        else:
            step = min(9, max(-2, step + rng.choice((-2, -1, -1, 0, 1, 1, 2, 3))))
            notes.append((beat, length, step))
        beat += abs(length)
    return notes


def _bar_of_notes(pdf: FPDF, x: float, width: float, top: float, notes: list[Note], beats: int, look: _Look) -> None:
    """Heads, dots, ledger lines and rests, then stems: eighths on the beat share a beam with the next eighth."""
    bottom = top + 4 * SPACE
    shift = {2: 1, 9: 5}.get(look.transpose, 0)  # written pitch moves up a diatonic step or a sixth
    pitched = [step + shift for _, _, step in notes if step is not None]
    fold = -7 if pitched and max(pitched) > 9 else 0  # too high: the bar goes down an octave, contour intact
    heads: list[tuple[float, int, float, float]] = []  # (x, staff position, length, start) of stemmed notes
    for start, length, step in notes:
        nx = x + start / beats * width + 1.5
        if step is None:
            _rest(pdf, nx, top, length, beats, x + width / 2)
            continue
        pos = step + shift + fold  # 0 is the bottom line, 8 the top line
        y = bottom - pos * SPACE / 2
        _ledgers(pdf, nx, bottom, pos)
        _head(pdf, nx, y, filled=length < 2)
        if length in (1.5, 3):
            pdf.ellipse(nx + 2.2, y - (0.75 if pos % 2 == 0 else 0) - 0.35, 0.7, 0.7, style="F")
        if length < 4:
            heads.append((nx, pos, length, start))
    index = 0
    while index < len(heads):
        nx, pos, length, start = heads[index]
        after = heads[index + 1] if index + 1 < len(heads) else None
        if length == 0.5 and start % 1 == 0 and after and after[2] == 0.5 and after[3] == start + 0.5:
            _beamed(pdf, bottom, [heads[index][:2], after[:2]])
            index += 2
            continue
        _stem(pdf, bottom, nx, pos, flag=length == 0.5)
        index += 1


def _stem(pdf: FPDF, bottom: float, x: float, pos: int, *, flag: bool = False) -> None:
    """Up on the right below the middle line, down on the left from it; a lone eighth gets a flag."""
    up, y = pos < 4, bottom - pos * SPACE / 2
    sx, end, sign = (x + 1.15, y - 7, 1) if up else (x - 1.15, y + 7, -1)
    pdf.set_line_width(0.3)
    pdf.line(sx, y, sx, end)
    if flag:
        curl = ((sx + 0.4, end + 2 * sign), (sx + 2.4, end + 2.5 * sign), (sx + 1.6, end + 5 * sign))
        _curve(pdf, 0.45, (sx, end), curl)


def _beamed(pdf: FPDF, bottom: float, pair: list[tuple[float, int]]) -> None:
    """Two eighths under one beam: stems the same way (set by their average), the beam only gently sloped."""
    up = sum(pos for _, pos in pair) / 2 < 4
    (x1, y1), (x2, y2) = ((x + (1.15 if up else -1.15), bottom - pos * SPACE / 2) for x, pos in pair)
    level = min(y1, y2) - 7 if up else max(y1, y2) + 7
    end1, end2 = level - (y2 - y1) / 8, level + (y2 - y1) / 8
    pdf.set_line_width(0.3)
    pdf.line(x1, y1, x1, end1)
    pdf.line(x2, y2, x2, end2)
    pdf.set_line_width(0.8)
    pdf.line(x1, end1, x2, end2)


def _oval(rx: float, ry: float, tilt: float = 20) -> list[Point]:
    """Outline of an oval tilted ``tilt`` degrees anticlockwise, as offsets from its centre."""
    a, turns = math.radians(tilt), [2 * math.pi * i / 20 for i in range(20)]
    return [
        (
            rx * math.cos(t) * math.cos(a) + ry * math.sin(t) * math.sin(a),
            ry * math.sin(t) * math.cos(a) - rx * math.cos(t) * math.sin(a),
        )
        for t in turns
    ]


_FILLED_HEAD, _OPEN_HEAD = _oval(1.25, 0.9), _oval(1.15, 0.8)


def _head(pdf: FPDF, x: float, y: float, filled: bool) -> None:
    """A note head: a tilted oval, filled for quarters and eighths, open for halves and wholes.

    Drawn as a polygon rather than a rotated ellipse: fpdf2's rotation context is slow, and a page has hundreds.
    """
    if filled:
        pdf.polygon([(x + dx, y + dy) for dx, dy in _FILLED_HEAD], style="F")
    else:
        pdf.set_line_width(0.45)
        pdf.polygon([(x + dx, y + dy) for dx, dy in _OPEN_HEAD])


def _ledgers(pdf: FPDF, x: float, bottom: float, pos: int) -> None:
    pdf.set_line_width(0.2)
    for ledger in range(-2, pos - 1, -2) if pos < 0 else range(10, pos + 1, 2):
        y = bottom - ledger * SPACE / 2
        pdf.line(x - 2, y, x + 2, y)


def _rest(pdf: FPDF, x: float, top: float, length: float, beats: int, middle: float) -> None:
    if length >= beats:  # whole-bar rest: a block hanging from the fourth line, centred in the bar
        pdf.rect(middle - 1.5, top + SPACE, 3, SPACE / 2, style="F")
        return
    pdf.set_line_width(0.55)  # quarter rest: a zigzag with a hook
    mid = top + 2 * SPACE
    pdf.polyline(
        [
            (x - 0.5, mid - 3),
            (x + 0.7, mid - 1.5),
            (x - 0.5, mid - 0.2),
            (x + 0.7, mid + 1.2),
            (x - 0.4, mid + 1.0),
            (x + 0.2, mid + 2.6),
        ]
    )


def _chord_grid(pdf: FPDF, song: DemoSong, part: DemoPart, look: _Look, rng: Random) -> None:
    """Rows of four bars with a chord in each, "%" for a bar that repeats the one before."""
    y = _new_page(pdf, song, part) + 2
    box_w, box_h = (PAGE_W - 2 * MARGIN - 10) / 4, 14.0
    for mark, chords in _sections(song, look.transpose):
        pdf.set_font("helvetica", "B", 13)
        pdf.set_line_width(0.4)
        pdf.rect(MARGIN, y + 3.5, 7, 7)
        pdf.text(MARGIN + 1.8, y + 9, mark)
        for index, chord in enumerate(chords):
            x = MARGIN + 10 + index % 4 * box_w
            shown = "%" if index and chord == chords[index - 1] else chord
            pdf.set_line_width(0.3)
            pdf.rect(x, y, box_w, box_h)
            pdf.set_font("helvetica", "B", 15)
            pdf.text(x + (box_w - pdf.get_string_width(shown)) / 2, y + 9.5, shown)
            if index % 4 == 3 or index == len(chords) - 1:
                y += box_h
        y += 6


_WORDS = (
    "sun moon river morning dancing slow home heart light rain road away tonight whisper golden city harbor train "
    "summer coffee window street old song every little we you I and the down by over still blue turn hold on never "
    "stop now sky open shine"
).split()


def _lyrics(pdf: FPDF, song: DemoSong, part: DemoPart, look: _Look, rng: Random) -> None:
    """Verses and choruses: each line of words with chord names above the word where the change falls."""
    chords = [chord for _, chord, _ in _chords(song, 0)]
    sections = ("Verse 1", "Chorus", "Verse 2", "Chorus", "Bridge", "Chorus")
    per_page = 3  # four lines each: what fits under the title block
    chord_index = 0
    for page in range(part.pages):
        y = _new_page(pdf, song, part)
        for section in sections[page * per_page : (page + 1) * per_page]:
            pdf.set_font("helvetica", "B", 12)
            pdf.text(MARGIN, y, section.upper() if section == "Chorus" else section)
            y += 8
            for _ in range(4):
                x = MARGIN + 4
                for word_index in range(rng.randint(5, 8)):
                    word = rng.choice(_WORDS)
                    word = word.capitalize() if word_index == 0 else word
                    if word_index % 3 == 0:
                        pdf.set_font("helvetica", "B", 11)
                        pdf.text(x, y, chords[chord_index % len(chords)])
                        chord_index += 1
                    pdf.set_font("helvetica", "", 14)
                    pdf.text(x, y + 5.5, word)
                    x += pdf.get_string_width(word + " ")
                y += 14
            y += 4


# --- audio --------------------------------------------------------------------------------------------------

RATE = 8000


def _melody_wav(song: DemoSong, seed: int, seconds: float = 3.0) -> bytes:
    """A few seconds of sine-wave melody over the song's chord roots: mono, 8 kHz, 16-bit."""
    rng = _rng(f"{seed}/{song.title}/audio")
    roots = [_SEMITONE[_root(chord)] for _, chord, _ in _chords(song, 0)]
    samples = bytearray()
    note_len = int(RATE * 0.25)
    for index in range(int(seconds * 4)):  # four notes a bar, one bar per chord
        semitone = roots[index // 4 % len(roots)] + rng.choice((0, 4, 7, 12))
        freq = 261.63 * 2 ** (semitone / 12)
        for n in range(note_len):
            envelope = min(1.0, n / 80, (note_len - n) / 400)
            samples += struct.pack("<h", int(9000 * envelope * math.sin(2 * math.pi * freq * n / RATE)))
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(bytes(samples))
    return out.getvalue()
