"""ChordPro sheets: parse, transpose per part, lay out as chords over lyrics, draw as SVG pages or a PDF.

Public API:
- ``looks_like_chordpro(text)``: is this ``.txt`` a ChordPro sheet? ``decode_text(data)``: bytes → text.
- ``parse_chordpro(data) -> Song``: title, key, capo, sections of lines of ``Segment(chord, lyric)``; raises
  ``BrokenFile`` for unbalanced ``[ ]`` or ``{ }`` (saying which line).
- ``inspect_chordpro(data, hint=None) -> SongInfo``: what sync stores (title, concert key, capo, parts).
- ``view_for(song, part, concert_key=None, key=None, hint=None) -> ChordView``: what a part shows (chords or not,
  moved by how much, spelled in which key).
- ``render_svg(song, view, width) -> list[str]`` and ``render_pdf(song, view) -> bytes``; ``engrave_svg`` /
  ``engrave_pdf`` do all of it from file bytes.

Decisions:
- The key is what the file says (``{key:}``), else what the file name's part implies (a "Bb" sheet without a key is
  written for B♭ instruments), else inferred from the chords. ``{capo: n}`` follows the ChordPro spec: the chords
  are guitar shapes and the music sounds n semitones higher; the Chords part shows sounding chords and says
  "Capo n (G shapes)".
- Parts: B♭, E♭ and F parts get their written chords; Concert, Bass clef, Chords, drums and vocals get concert
  chords; Lyrics shows the words alone (lines with no words, tabs and grids are left out). Every chord is spelled
  for the key it lands in (``theory.Key.spell``).
- Also read: chord-over-lyrics text (a line of chord names above a line of words), common in ``.crd`` and ``.txt``
  files; brackets ``[*Coda]`` are annotations (shown, never transposed). Tab lines ("E|--3--") and chord-diagram
  legends ("Am=x02210") are kept as monospaced text, never read as chords.
- As the reference implementation (ChordPro/chordpro, whose test songs are in tests/fixtures) writes it:
  ``{transpose: n}`` adds to the transposition in force (an empty one undoes the last) and the chords after it are
  moved; ``{new_song}`` starts another song (``parse_songbook``; ``songbook``: sync files each one);
  ``%{key}``-style placeholders are filled in from the metadata and ``{+config.lines}``; directives for one
  instrument (``{c-guitar: …}``) are skipped, negated ones (``{c-guitar!: …}``) kept; ABC, LilyPond and SVG blocks
  are replaced by a note. Only an unclosed ``[`` or ``{`` refuses a sheet.
- Note names: German (H, and B for B♭), Dutch (Bes, Cis, Es) and Latin (Do, Re, Mi, Fa, Sol, La, Si) are detected
  per sheet (``detect_notation``) and chords are written back in them.
- Layout: Letter-shaped pages ``width`` px wide; type size by width (``TYPE_SIZES``), larger relative to the page on
  narrow (phone) widths. Text is measured with DejaVu Sans (Pillow) and each run carries ``textLength``, so the
  chords stay over their syllables in whatever font the browser substitutes. Pure black on white (night mode is the
  stand's CSS invert).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal
from xml.sax.saxutils import escape, quoteattr

from soleil_ui.errors import BrokenFile
from soleil_ui.parts import PartRef, Role, Transposition, sort_parts

from .theory import (
    SOUNDING,
    Chord,
    Key,
    infer_key,
    key_shift,
    parse_chord,
    root_name,
    semitone_interval,
    transpose_chord_text,
    transpose_key,
)

if TYPE_CHECKING:
    from PIL.ImageFont import FreeTypeFont

CHORDPRO_EXTENSIONS = (".cho", ".chordpro", ".chopro", ".crd", ".pro")
MAX_BYTES = 1024 * 1024
MAX_LINES = 5000
LETTER_RATIO = 11 / 8.5
TYPE_SIZES = {480: 22, 800: 28, 1200: 32, 1600: 36, 2400: 46}  # lyric font size in px, per standard width
PDF_TYPE_SIZE = 13.0  # points, on a 612 pt wide Letter page
FONT_FAMILY = "'DejaVu Sans', Verdana, 'Bitstream Vera Sans', Geneva, 'Segoe UI', Arial, sans-serif"
MONO_FAMILY = "'DejaVu Sans Mono', Menlo, Consolas, 'Courier New', monospace"
FONT_DIR = "/usr/share/fonts/truetype/dejavu/"

LineKind = Literal["lyrics", "comment", "tab", "grid", "chorus_ref", "new_page", "empty"]
_DIRECTIVE = re.compile(r"\{\s*([A-Za-z_]+\w*(?:-\w+!?)?)\s*(?:[:\s]\s*(.*?))?\s*\}")
_UG_MARKUP = re.compile(r"\[/?(?:ch|tab)\]")
_NEW_SONG = re.compile(r"\{\s*(?:new_song|ns)\s*(?::[^}]*)?\}", re.IGNORECASE)
_NOT_DRAWN = {"abc": "ABC music", "ly": "LilyPond music", "svg": "A drawing", "musicxml": "Music notation",
              "image": "An image"}
_TAB = re.compile(r"\s*[A-Ga-g][#b]?\s?[|:]?[-\d|hpbrsx/\\~().^*<>\s]*-{2,}[-\d|hpbrsx/\\~().^*<>\s]*")
_FRETS = re.compile(r"(?<![\w'])'?\(?(?=[xXoO\d-]*\d)(?:[xXoO\d]{4,7}|(?:[xXoO\d]{1,2}-){3,6}[xXoO\d]{1,2})\)?(?![\w])")
_ALIASES = {
    "t": "title", "st": "subtitle", "c": "comment", "ci": "comment_italic", "cb": "comment_box",
    "soc": "start_of_chorus", "eoc": "end_of_chorus", "sov": "start_of_verse", "eov": "end_of_verse",
    "sob": "start_of_bridge", "eob": "end_of_bridge", "sot": "start_of_tab", "eot": "end_of_tab",
    "sog": "start_of_grid", "eog": "end_of_grid", "np": "new_page", "npp": "new_physical_page",
    "highlight": "comment", "colb": "column_break", "ns": "new_song",
}
_KNOWN = {"title", "subtitle", "artist", "composer", "lyricist", "album", "year", "key", "capo", "tempo", "time",
          "duration", "comment", "comment_italic", "comment_box", "start_of_chorus", "end_of_chorus", "chorus",
          "start_of_verse", "end_of_verse", "start_of_bridge", "end_of_bridge", "start_of_tab", "end_of_tab",
          "start_of_grid", "end_of_grid", "new_page", "new_physical_page", "meta", "transpose", "copyright",
          "new_song", "start_of_abc", "start_of_ly", "start_of_textblock", "define", "chord"}
_NOT_CHORDS = {"|", "||", "|:", ":|", "/", "%", "-", "x2", "x3", "x4", "2x", "3x", "4x", "n.c.", "nc", "(", ")"}


@dataclass(frozen=True)
class Segment:
    """A chord (as written in the brackets; None for the words before the first chord) and the words after it."""

    chord: str | None
    lyric: str

    @property
    def parsed(self) -> Chord | None:
        return parse_chord(self.chord) if self.chord and not self.chord.startswith("*") else None


@dataclass(frozen=True)
class Line:
    kind: LineKind
    segments: tuple[Segment, ...] = ()
    text: str = ""
    style: str = ""  # comments: "", "italic" or "box"

    @property
    def has_chords(self) -> bool:
        return any(s.chord for s in self.segments)


@dataclass(frozen=True)
class Section:
    kind: str  # "" (no section), "verse", "chorus", "bridge", "tab", "grid", or a custom name
    label: str
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Song:
    title: str | None
    subtitle: str | None = None
    artists: tuple[str, ...] = ()
    key: Key | None = None  # as the file says ({key:}); the chords are written in it
    capo: int = 0
    tempo: str | None = None
    time: str | None = None
    sections: tuple[Section, ...] = ()
    meta: dict[str, str] = field(default_factory=dict)
    notation: str = ""  # the note names the chords are written in (``theory.NOTATIONS``)

    def chords(self) -> list[Chord]:
        """Every chord symbol, in order (annotations and unreadable chords left out)."""
        out = []
        for section in self.sections:
            for line in section.lines:
                texts = [s.chord for s in line.segments if s.chord and not s.chord.startswith("*")]
                if line.kind == "grid":
                    texts += line.text.split()
                out += [c for c in (parse_chord(t.removeprefix("(").removesuffix(")"), self.notation) for t in texts)
                        if c is not None]
        return out

    @property
    def written_key(self) -> Key | None:
        """The key the chords are written in: the file's ``{key:}``, else inferred from the chords."""
        return self.key or infer_key(self.chords())


@dataclass(frozen=True)
class SongInfo:
    """What sync stores about a ChordPro file."""

    title: str | None
    artists: tuple[str, ...]
    key: Key | None  # concert (sounding) key
    written_key: Key | None
    capo: int
    has_chords: bool
    available: tuple[PartRef, ...]


@dataclass(frozen=True)
class ChordView:
    """How one part shows a song: chords or not, moved by ``semitones``, spelled for ``key``."""

    show_chords: bool
    semitones: int
    key: Key | None  # the key the part reads in (chords are spelled for it)
    label: str
    note: str | None = None  # e.g. "Capo 2 (G shapes)"
    notation: str = ""  # the sheet's note names, kept for the part ("H7" stays German)

    def chord(self, text: str) -> str:
        """A chord as this part shows it (♭ and ♯ glyphs); annotations and non-chords unchanged."""
        if text.startswith("*"):
            return text[1:]
        if len(text) > 2 and text[0] == "(" and text[-1] == ")":  # an optional chord: "(E)"
            return f"({self.chord(text[1:-1])})"
        chord = parse_chord(text, self.notation)
        if chord is None:
            return text
        return chord.transposed(self.semitones, self.key).text(unicode=True)


# --- Reading -----------------------------------------------------------------------------------------------------


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252: what chord sheets are saved as."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _chord_line(line: str) -> bool:
    """A line of chord names only ("G    D/F#   Em7"), as in chord-over-lyrics sheets."""
    tokens = line.split()
    chords = [t for t in tokens if t.lower() not in _NOT_CHORDS]
    return bool(chords) and all(parse_chord(t.strip("()")) is not None for t in chords)


def looks_like_chordpro(text: str) -> bool:
    """True for ChordPro: a known ``{directive}`` on a line of its own, or at least two lines with ``[Chord]``s and
    (nearly) every bracket a chord. Prose with footnotes "[1]" or Markdown links is not ChordPro."""
    chord_lines = 0
    brackets = chords = 0
    for raw in text.splitlines()[:MAX_LINES]:
        line = raw.strip()
        match = _DIRECTIVE.fullmatch(line)
        if match:
            name = match.group(1).lower().split("-")[0]
            if _ALIASES.get(name, name) in _KNOWN:
                return True
            continue
        found = re.findall(r"\[([^\[\]]*)\]", line)
        if re.search(r"\]\((?:https?:|mailto:|/|#|\.)", line):  # a Markdown link
            return False
        brackets += len(found)
        good = sum(1 for f in found if f.startswith("*") or parse_chord(f) is not None)
        chords += good
        chord_lines += 1 if good else 0
    return chord_lines >= 2 and chords >= 0.8 * brackets


def _segments(line: str, number: int) -> tuple[Segment, ...]:
    """ "A[G]mazing [G7/B]grace" → ("", "A"), ("G", "mazing "), ("G7/B", "grace")."""
    out: list[Segment] = []
    chord: str | None = None
    text: list[str] = []
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "[":
            close = line.find("]", i + 1)
            nested = line.find("[", i + 1)
            if close < 0 or (0 <= nested < close):
                snippet = line[i:i + 12].strip()
                raise BrokenFile(f"Line {number} has a chord bracket that isn't closed (“{snippet}”) — fix the file")
            if text or chord is not None:
                out.append(Segment(chord, "".join(text)))
            chord, text = line[i + 1:close].strip() or None, []
            i = close + 1
            continue
        if ch == "]":
            raise BrokenFile(f"Line {number} has a “]” without its “[” — fix the file")
        text.append(ch)
        i += 1
    if text or chord is not None:
        out.append(Segment(chord, "".join(text)))
    return tuple(out)


def _over_lyrics(chords: str, words: str) -> tuple[Segment, ...]:
    """A chord line above a lyric line → segments, each chord at the column it stands over."""
    positions = [(m.start(), m.group()) for m in re.finditer(r"\S+", chords)]
    words = words.ljust(max((p + 1 for p, _ in positions), default=0))
    out: list[Segment] = []
    if positions and positions[0][0] > 0:
        out.append(Segment(None, words[:positions[0][0]]))
    for n, (pos, chord) in enumerate(positions):
        end = positions[n + 1][0] if n + 1 < len(positions) else len(words)
        out.append(Segment(chord, words[pos:end]))
    if not positions:
        out.append(Segment(None, words))
    return tuple(s if s.lyric.strip() or s.chord else Segment(s.chord, "") for s in out)


def _lines(data: bytes | str) -> list[str]:
    text = decode_text(data) if isinstance(data, bytes) else data
    if len(text) > MAX_BYTES:
        raise BrokenFile("The chord sheet is too large (the limit is 1 MB)")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if len(lines) > MAX_LINES:
        raise BrokenFile(f"The chord sheet has {len(lines)} lines; the limit is {MAX_LINES}")
    if "[ch]" in text or "[tab]" in text:  # Ultimate Guitar's export: "[ch]G[/ch]" marks a chord over the words
        lines = [_UG_MARKUP.sub("", line) for line in lines]
    return lines


def _song_chunks(lines: list[str]) -> list[tuple[int, list[str]]]:
    """A songbook's songs: the lines between ``{new_song}`` directives (``{ns}``), with the number of the line
    each starts after. Chunks with nothing in them (a file that starts with ``{new_song}``) are dropped."""
    chunks: list[tuple[int, list[str]]] = [(0, [])]
    for number, line in enumerate(lines):
        if _NEW_SONG.fullmatch(line.strip()):
            chunks.append((number + 1, []))
        else:
            chunks[-1][1].append(line)
    full = [c for c in chunks if any(x.strip() and not x.strip().startswith("#") for x in c[1])]
    return full or [(0, [])]


def split_songbook(data: bytes | str) -> list[str]:
    """The songs of a songbook file as ChordPro texts of their own (a file of one song: that song). Each starts
    with as many empty lines as come before it in the file, so a broken line is reported by its line in the file."""
    return ["\n" * offset + "\n".join(chunk) for offset, chunk in _song_chunks(_lines(data))]


def songbook(data: bytes | str) -> list[tuple[str, str | None]]:
    """Each song of a songbook file as ``split_songbook`` gives it, with its ``{title}`` (None when it has none or
    can't be read: its own chart then says why). One read of the file, for sync to file each song under its title.
    Raises ``BrokenFile`` only when the file as a whole can't be read (too large, too many lines)."""
    songs = []
    for offset, chunk in _song_chunks(_lines(data)):
        try:
            title = _parse_song(chunk, offset).title
        except BrokenFile:
            title = None
        songs.append(("\n" * offset + "\n".join(chunk), title))
    return songs


def parse_songbook(data: bytes | str) -> list[Song]:
    """Every song in a ChordPro file (``{new_song}`` starts the next one)."""
    return [_parse_song(chunk, offset) for offset, chunk in _song_chunks(_lines(data))]


def parse_chordpro(data: bytes | str) -> Song:
    """Read a ChordPro sheet (see the module doc): the first song of a songbook. Raises ``BrokenFile`` with the line
    number when it can't."""
    offset, chunk = _song_chunks(_lines(data))[0]
    return _parse_song(chunk, offset)


def detect_notation(lines: Iterable[str]) -> str:
    """The note names a sheet's chords are written in: "german" when any root is H (then B is B♭), "latin" for
    solfège, "dutch" for Bes/Cis/Es, else "" (English letters)."""
    found: set[str] = set()
    for line in lines:
        key = re.fullmatch(r"\s*\{\s*key\s*:\s*([^}]*)\}\s*", line, re.IGNORECASE)  # {key: H} says German too
        if line.lstrip().startswith(("{", "#")) and not key:
            continue
        tokens = [key.group(1)] if key else \
            re.findall(r"\[([^\[\]]*)\]", line) or (line.split() if _chord_line(line) else [])
        for token in tokens:
            chord = parse_chord(token)
            if chord is not None and chord.notation:
                found.add(chord.notation)
    return next((n for n in ("german", "latin", "dutch") if n in found), "")


def _directive(stripped: str, number: int) -> tuple[str, str, str | None, bool]:
    """``{name-selector!: value}`` → (name, value, selector, negated); "+config.path" names are config lines."""
    close = stripped.rfind("}")
    if close < 0:
        raise BrokenFile(f"Line {number} has a “{{” directive that isn't closed with “}}” — fix the file")
    inner = stripped[1:close].strip()
    match = re.match(r"(\+?[A-Za-z_][\w.]*)(?:-(\w+)(!)?)?(?:\s*:\s*|\s+|$)", inner)
    if not match:
        return "", "", None, False
    name = match.group(1).lower()
    return _ALIASES.get(name, name), inner[match.end():].strip(), match.group(2), bool(match.group(3))


def substitute(text: str, meta: dict[str, str]) -> str:
    """ChordPro's metadata placeholders: ``%{title}``, ``%{key|in %{}|no key}`` (``%{}`` is the value), and
    ``%{name=value|then|else}``; unknown names are empty. Never raises (an unclosed ``%{`` stays as written)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        start = text.find("%{", i)
        if start < 0:
            out.append(text[i:])
            break
        out.append(text[i:start])
        depth, j = 1, start + 2
        while j < len(text) and depth:
            if text.startswith("%{", j):
                depth, j = depth + 1, j + 2
                continue
            depth -= text[j] == "}"
            j += 1
        if depth:
            out.append(text[start:])
            break
        out.append(_placeholder(text[start + 2:j - 1], meta))
        i = j
    return "".join(out)


def _placeholder(body: str, meta: dict[str, str]) -> str:
    parts: list[str] = []
    piece: list[str] = []
    depth = 0
    for ch in body:  # split on "|" outside nested placeholders
        if ch == "|" and depth == 0:
            parts.append("".join(piece))
            piece = []
            continue
        depth += ch == "{"
        depth -= ch == "}"
        piece.append(ch)
    parts.append("".join(piece))
    name, _, wanted = parts[0].strip().partition("=")
    value = meta.get(name.lower(), "")
    hit = (value == wanted) if wanted else bool(value)
    if len(parts) == 1:
        return value if name else ""
    chosen = parts[1] if hit else (parts[2] if len(parts) > 2 else "")
    return substitute(chosen.replace("%{}", value), meta)


def _tab_line(line: str) -> bool:
    """A line of guitar tablature ("E|---0--3--|", "  B|-1h2---"), outside a ``{start_of_tab}`` block."""
    return bool(_TAB.fullmatch(line))


def _legend_line(line: str) -> bool:
    """A chord-diagram legend ("Am=x02210", "G: 320003  C: x32010", "Am6=004210 or 002212"): fingerings, not chords
    to play."""
    frets = _FRETS.findall(line)
    if not frets:
        return False
    rest = re.sub(r"[=:'|]", " ", _FRETS.sub(" ", line)).split()
    rest = [t.strip("()") for t in rest if t.lower() not in ("or", "alt", "(", ")")]
    return all(parse_chord(t) is not None or re.fullmatch(r"\(?[IVX]+\)?", t) for t in rest if t)


def _parse_song(lines: list[str], offset: int = 0) -> Song:
    meta: dict[str, str] = {}
    artists: list[str] = []
    sections: list[Section] = []
    current: list[Line] = []
    kind, label = "", ""
    notation = detect_notation(lines)
    for line in lines:  # config lines ({+instrument.type guitar}) count wherever they are, for %{placeholders}
        if line.lstrip().startswith("{+") and "}" in line:
            name, value = _directive(line.strip(), 0)[:2]
            meta.setdefault(name[1:], value)
    transpose = 0
    stack: list[int] = []
    key_transpose: int | None = None  # the {transpose} in force at the first chord: the key the chords are in
    skipping: str | None = None  # the end directive of a block not drawn (another instrument's, ABC music...)
    memory: dict[str, list[str]] = {}  # each section kind's first chords, for "[^]" in the next ones
    recording: set[str] = set()
    position = 0

    def close_section() -> None:
        nonlocal current
        while current and current[-1].kind == "empty":
            current.pop()
        if current:
            sections.append(Section(kind, label, tuple(current)))
        current = []

    def moved_key() -> Key | None:
        key = _file_key(meta.get("key"), notation)
        return _move(key, transpose) if key is not None else None

    def lyrics(segments: tuple[Segment, ...]) -> Line:
        nonlocal key_transpose, position
        if kind and any(s.chord for s in segments):  # "[^]": the chord at this place in the first such section
            recalled = []
            for segment in segments:
                chord = segment.chord
                if chord == "^":
                    chords = memory.get(kind, [])
                    chord = chords[position] if position < len(chords) and kind not in recording else None
                elif chord and kind in recording:
                    memory[kind].append(chord)
                position += 1 if segment.chord else 0
                recalled.append(Segment(chord, segment.lyric))
            segments = tuple(recalled)
        if any(s.chord for s in segments):
            if key_transpose is None:
                key_transpose = transpose
            if transpose:
                key = moved_key()
                segments = tuple(Segment(transpose_chord_text(s.chord, transpose, key, notation=notation)
                                         if s.chord else None, s.lyric) for s in segments)
        return Line("lyrics", segments)

    pending_chords: str | None = None
    for number, raw in enumerate(lines, offset + 1):
        line = raw.rstrip()
        stripped = line.strip()
        if skipping is not None:
            if stripped.startswith("{") and _directive(stripped, number)[0] == skipping:
                skipping = None
            continue
        if pending_chords is not None:
            chord_text = pending_chords
            pending_chords = None
            if stripped and not stripped.startswith(("{", "#")) and "[" not in stripped and not _chord_line(line) \
                    and not _tab_line(line) and not _legend_line(line):
                current.append(lyrics(_over_lyrics(chord_text, line)))
                continue
            current.append(lyrics(_over_lyrics(chord_text, "")))
        if stripped.startswith("#"):
            continue
        if kind in ("tab",) and not stripped.startswith("{"):
            current.append(Line("tab", text=line))
            continue
        if stripped.startswith("{"):
            name, value, selector, negated = _directive(stripped, number)
            if name.startswith("+"):  # a config line ({+pdf.fonts.title: ...}): kept for %{placeholders} only
                meta.setdefault(name[1:], value)
                continue
            if selector is not None and not negated:  # for one instrument or user ({c-guitar: ...}): not ours
                if name.startswith("start_of_"):
                    skipping = "end_of_" + name[len("start_of_"):]
                continue
            value = substitute(value, meta)
            if name in ("title", "subtitle", "key", "capo", "tempo", "time", "album", "year", "duration",
                        "copyright") and name not in meta:
                meta[name] = value
                if name == "key":
                    meta.update({"key.print": value, "key.sound": value, "key_actual": value})
            elif name in ("artist", "composer", "lyricist"):
                artists.append(value)
                meta.setdefault(name, value)
            elif name == "meta":
                meta_name, _, meta_value = value.partition(" ")
                meta.setdefault(meta_name.lower(), meta_value.strip())
                if meta_name.lower() == "artist":
                    artists.append(meta_value.strip())
            elif name == "transpose":  # adds to the transposition in force; without a value, undoes the last one
                amount = value.strip().lstrip("+")
                if re.fullmatch(r"-?\d{1,3}", amount):
                    stack.append(transpose)
                    transpose = (transpose + int(amount) + 6) % 12 - 6
                elif not amount:
                    transpose = stack.pop() if stack else 0
                shown = moved_key()
                for placeholder in ("key.print", "key.sound", "key_actual"):
                    meta[placeholder] = shown.name() if shown is not None else ""
            elif name in ("comment", "comment_italic", "comment_box"):
                style = {"comment": "", "comment_italic": "italic", "comment_box": "box"}[name]
                current.append(Line("comment", text=value, style=style))
            elif name.startswith("start_of_") and name[len("start_of_"):] in _NOT_DRAWN:
                what = _NOT_DRAWN[name[len("start_of_"):]]
                current.append(Line("comment", text=f"({what} not shown here)", style="italic"))
                skipping = "end_of_" + name[len("start_of_"):]
            elif name.startswith("start_of_"):
                close_section()
                kind = name[len("start_of_"):]
                position = 0
                if kind not in memory:
                    memory[kind] = []
                    recording.add(kind)
                found = re.search(r'label\s*=\s*"([^"]*)"', value)
                label = found.group(1) if found else ("" if "=" in value else value)
            elif name.startswith("end_of_"):
                close_section()
                recording.discard(kind)
                kind, label = "", ""
            elif name == "chorus":
                current.append(Line("chorus_ref", text=value or "Chorus"))
            elif name in ("new_page", "new_physical_page"):
                current.append(Line("new_page"))
            continue
        if not stripped:
            if current and current[-1].kind != "empty":
                current.append(Line("empty"))
            continue
        if kind == "grid":
            chords = stripped.split()
            if transpose:
                chords = [transpose_chord_text(c, transpose, moved_key(), notation=notation) for c in chords]
            current.append(Line("grid", text=" ".join(chords)))
            continue
        if "[" not in line and "]" not in line and (_tab_line(line) or _legend_line(line)):
            current.append(Line("tab", text=line))
            continue
        if "[" not in line and "]" not in line and _chord_line(line):
            pending_chords = line
            continue
        current.append(lyrics(_segments(line, number)))
    if pending_chords is not None:
        current.append(lyrics(_over_lyrics(pending_chords, "")))
    close_section()
    capo = meta.get("capo", "").strip()
    key = _file_key(meta.get("key"), notation)
    if key is not None and key_transpose:
        key = _move(key, key_transpose)
    return Song(
        title=meta.get("title") or meta.get("meta_title") or None,
        subtitle=meta.get("subtitle") or None,
        artists=tuple(dict.fromkeys(a for a in artists if a)),
        key=key,
        capo=int(capo) % 12 if capo.isdigit() else 0,
        tempo=meta.get("tempo") or None,
        time=meta.get("time") or None,
        sections=tuple(sections),
        meta=meta,
        notation=notation,
    )


def _file_key(text: str | None, notation: str = "") -> Key | None:
    """``{key: ...}`` in any note names ("Bb", "H", "Fism", "Sol", "Am")."""
    key = Key.try_parse(text) if notation in ("", "dutch") or not text else None
    if key is None and text:
        chord = parse_chord(text.strip(), notation)
        if chord is not None and chord.bass is None and chord.quality in ("major", "minor"):
            key = Key(chord.root, chord.quality == "minor")
    return key


def _file_sounding(song: Song, hint: PartRef | None) -> int:
    """Semitones from what the file writes to what sounds: the capo, or the file name's part when the file has no
    ``{key:}`` (a "Bb" sheet is written a tone above concert)."""
    semitones = song.capo
    if song.key is None and hint is not None and hint.transposition is not None and hint.role is not Role.CHORDS:
        semitones += SOUNDING[Transposition(hint.transposition)].semitones
    return semitones


def _move(key: Key | None, semitones: int) -> Key | None:
    if key is None:
        return None
    return transpose_key(key, semitone_interval(semitones % 12))[0]


def concert_key(song: Song, hint: PartRef | None = None) -> Key | None:
    """The key the song sounds in, as written in this file."""
    return _move(song.written_key, _file_sounding(song, hint))


def view_for(song: Song, part: PartRef, *, concert_key: str | Key | None = None, key: str | Key | None = None,
             hint: PartRef | None = None) -> ChordView:
    """What ``part`` shows: Lyrics hide the chords; B♭/E♭/F parts (and their instruments) read transposed chords;
    everything else concert chords. ``concert_key`` is the key the band plays it in tonight; ``key`` a member's
    own written key (both move the chords from the file's key)."""
    written = song.written_key
    sounding = _file_sounding(song, hint)
    if concert_key is not None and written is not None:
        tonight = concert_key if isinstance(concert_key, Key) else Key.parse(concert_key)
        sounding += key_shift(_move(written, sounding) or written, tonight).semitones
    target = 0
    if part.role not in (Role.CHORDS, Role.LYRICS) and part.transposition is not None:
        target = SOUNDING[Transposition(part.transposition)].semitones
    semitones = sounding - target
    if key is not None and written is not None:
        wanted = key if isinstance(key, Key) else Key.parse(key)
        semitones += key_shift(_move(written, semitones) or written, wanted).semitones
    semitones = (semitones + 6) % 12 - 6
    part_key = _move(written, semitones)
    note = None
    guitar = part.role is Role.CHORDS or part.instrument == "guitar"
    if song.capo and guitar:
        shapes = _move(part_key, -song.capo)
        note = f"Capo {song.capo} ({key_name(shapes, song.notation)} shapes)" if shapes else f"Capo {song.capo}"
    return ChordView(part.role is not Role.LYRICS, semitones, part_key, part.label(), note, song.notation)


def key_name(key: Key, notation: str = "") -> str:
    """A key as the sheet names its notes: "B♭", "Fm"; "H" on a German sheet, "Sol" on a Latin one."""
    return root_name(key.tonic, notation, unicode=True) + ("m" if key.minor else "")


def inspect_chordpro(data: bytes | str, filename: str | None = None, hint: PartRef | None = None) -> SongInfo:
    """Title, artists, keys and capo; every part can be served (see ``available_parts``)."""
    song = parse_chordpro(data)
    chords = song.chords()
    return SongInfo(song.title, song.artists, concert_key(song, hint), song.written_key, song.capo, bool(chords),
                    available_parts(bool(chords)))


def available_parts(has_chords: bool = True) -> tuple[PartRef, ...]:
    """A chord sheet serves every generic part and both roles (a sheet without chords: Lyrics only)."""
    if not has_chords:
        return (PartRef(role=Role.LYRICS),)
    return sort_parts([*(PartRef(transposition=t) for t in Transposition), PartRef(role=Role.CHORDS),
                       PartRef(role=Role.LYRICS)])


# --- Measuring ---------------------------------------------------------------------------------------------------

_FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf",
               "M": "DejaVuSansMono.ttf", "BI": "DejaVuSans-BoldOblique.ttf"}


@functools.lru_cache(maxsize=8)
def _font(style: str) -> FreeTypeFont:
    from PIL import ImageFont

    return ImageFont.truetype(FONT_DIR + _FONT_FILES[style], 1000)


@functools.lru_cache(maxsize=8192)
def _width_1000(text: str, style: str) -> float:
    return float(_font(style).getlength(text))


def text_width(text: str, size: float, style: str = "") -> float:
    """Advance width of ``text`` in DejaVu Sans at ``size`` (style "", "B", "I", "BI" or "M" for mono)."""
    return _width_1000(text, style) * size / 1000


# --- Layout ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # baseline
    text: str
    size: float
    style: str = ""  # "", "B", "I", "BI", "M"
    role: str = "lyric"  # lyric, chord, title, meta, label, comment, tab, page

    @property
    def width(self) -> float:
        return text_width(self.text, self.size, self.style)


@dataclass(frozen=True)
class Rule:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: float


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float
    stroke: float


Op = Text | Rule | Box


@dataclass(frozen=True)
class _Metrics:
    width: float
    height: float
    size: float  # lyrics and chords

    @property
    def margin(self) -> float:
        return self.width * 0.06

    @property
    def content(self) -> float:
        return self.width - 2 * self.margin


@dataclass
class _Block:
    """A run of ops laid out from y = 0, placed on a page as a unit."""

    ops: list[Op]
    height: float
    keep_with_next: bool = False
    page_break: bool = False


def _shift(op: Op, dx: float, dy: float) -> Op:
    if isinstance(op, Text):
        return Text(op.x + dx, op.y + dy, op.text, op.size, op.style, op.role)
    if isinstance(op, Rule):
        return Rule(op.x1 + dx, op.y1 + dy, op.x2 + dx, op.y2 + dy, op.stroke)
    return Box(op.x + dx, op.y + dy, op.w, op.h, op.stroke)


def _pieces(segments: Sequence[Segment]) -> list[tuple[str | None, str]]:
    """Segments cut at word boundaries, the chord on the first piece: wrapping happens between pieces."""
    out: list[tuple[str | None, str]] = []
    for segment in segments:
        words = re.findall(r"\s*\S+\s*|\s+", segment.lyric) or [""]
        for n, word in enumerate(words):
            out.append((segment.chord if n == 0 else None, word))
    return out


def _lyric_rows(line: Line, view: ChordView, m: _Metrics, indent: float) -> list[_Block]:
    """One lyric line → one or more visual rows of chords over words."""
    size = m.size
    gap = size * 0.45
    pieces = [(view.chord(c) if c and view.show_chords else None, w) for c, w in _pieces(line.segments)]
    show_chord_row = view.show_chords and any(c for c, _ in pieces)
    if not any(w.strip() for _, w in pieces) and not show_chord_row:
        return []
    # words: pieces with no space between them wrap together ("a[C]maz[G]ing" is one word)
    groups: list[list[tuple[str | None, str]]] = []
    for piece in pieces:
        if groups and not groups[-1][-1][1][-1:].isspace() and not piece[1][:1].isspace():
            groups[-1].append(piece)
        else:
            groups.append([piece])
    available = m.content - indent
    rows: list[list[tuple[str | None, str]]] = [[]]
    x = 0.0
    for group in groups:
        width = _advance(group, size, gap)
        if rows[-1] and x + width > available:
            rows.append([])
            x = 0.0
        rows[-1].extend(group)
        x += width
    chord_y = size * 0.95
    lyric_y = (chord_y + size * 1.2) if show_chord_row else size * 0.95
    blocks = []
    for row in rows:
        if row and not row[0][0]:
            row[0] = (row[0][0], row[0][1].lstrip())
        ops: list[Op] = []
        x = indent
        for n, (chord, word) in enumerate(row):
            last = n == len(row) - 1
            word_width = text_width(word.rstrip() if last else word, size)
            chord_width = text_width(chord, size, "B") if chord else 0.0
            advance = max(word_width, chord_width + (0 if last else gap)) if chord else word_width
            if chord:
                ops.append(Text(x, chord_y, chord, size, "B", "chord"))
            if word.strip():
                ops.append(Text(x, lyric_y, word.rstrip() if last else word.rstrip(" \t"), size, "", "lyric"))
            # a word stretched under a long chord gets a hyphen in the gap ("A - mazing")
            nxt = None if last else row[n + 1]
            if nxt is not None and word.strip() and not word[-1:].isspace() and nxt[1][:1].strip() \
                    and advance - word_width > size * 0.9:
                ops.append(Text(x + (word_width + advance) / 2 - size * 0.17, lyric_y, "-", size, "", "lyric"))
            x += advance
        height = lyric_y + size * 0.35
        if not any(word.strip() for _, word in row):  # a row of chords alone (an intro, a wrapped ending)
            height = chord_y + size * 0.45
            ops = [op for op in ops if not (isinstance(op, Text) and op.role == "lyric")]
        blocks.append(_Block(ops, height))
    return blocks


def _advance(group: Sequence[tuple[str | None, str]], size: float, gap: float) -> float:
    total = 0.0
    for chord, word in group:
        word_width = text_width(word, size)
        chord_width = text_width(chord, size, "B") + gap if chord else 0.0
        total += max(word_width, chord_width) if chord else word_width
    return total


def _wrap(text: str, size: float, style: str, width: float) -> list[str]:
    rows: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and text_width(candidate, size, style) > width:
            rows.append(current)
            current = word
        else:
            current = candidate
    return [*rows, current] if current else rows


def _comment_block(line: Line, m: _Metrics, indent: float) -> _Block:
    size = m.size * 0.85
    style = "I" if line.style == "italic" else "BI" if line.style == "box" else "I"
    pad = size * 0.35 if line.style == "box" else 0.0
    rows = _wrap(line.text, size, style, m.content - indent - 2 * pad) or [""]
    ops: list[Op] = []
    y = pad + size
    for row in rows:
        ops.append(Text(indent + pad, y, row, size, style, "comment"))
        y += size * 1.25
    height = y - size * 0.25 + pad
    if line.style == "box":
        width = max(text_width(r, size, style) for r in rows) + 2 * pad
        ops.insert(0, Box(indent, size * 0.1, width, height - size * 0.1, max(1.0, m.size / 14)))
    return _Block(ops, height + size * 0.35)


def _mono_block(text: str, m: _Metrics, indent: float, role: str) -> _Block:
    size = m.size * 0.8
    while size > 6 and text_width(text, size, "M") > m.content - indent:
        size *= 0.92
    return _Block([Text(indent, size, text, size, "M", role)], size * 1.3)


def _header(song: Song, view: ChordView, m: _Metrics) -> list[_Block]:
    blocks: list[_Block] = []
    title_size = m.size * 1.45
    for row in _wrap(song.title or "Untitled", title_size, "B", m.content) or ["Untitled"]:
        blocks.append(_Block([Text(m.margin, title_size, row, title_size, "B", "title")], title_size * 1.25))
    meta_size = m.size * 0.72
    byline = " · ".join(x for x in (song.subtitle, ", ".join(song.artists)) if x)
    if byline:
        for row in _wrap(byline, meta_size, "", m.content):
            blocks.append(_Block([Text(m.margin, meta_size, row, meta_size, "", "meta")], meta_size * 1.4))
    facts = []
    if view.key is not None and view.show_chords:
        facts.append(f"Key {key_name(view.key, view.notation)}")
    if view.note:
        facts.append(view.note)
    if song.tempo:
        facts.append(f"♩ = {song.tempo}" if song.tempo.strip().isdigit() else song.tempo)
    if song.time:
        facts.append(song.time)
    line = " · ".join(facts)
    label_width = text_width(view.label, meta_size, "B")
    ops: list[Op] = [Text(m.margin + m.content - label_width, meta_size, view.label, meta_size, "B", "part")]
    if line:
        ops.append(Text(m.margin, meta_size, line, meta_size, "", "meta"))
    blocks.append(_Block(ops, meta_size * 1.6))
    blocks.append(_Block([Rule(m.margin, 0, m.margin + m.content, 0, max(1.0, m.size / 16))], m.size * 0.8))
    return blocks


_SECTION_NAMES = {"chorus": "Chorus", "verse": "Verse", "bridge": "Bridge", "tab": "Tab", "grid": "Grid"}


def _body(song: Song, view: ChordView, m: _Metrics) -> list[_Block]:
    blocks: list[_Block] = []
    for section in song.sections:
        if section.kind in ("tab", "grid") and not view.show_chords:
            continue
        indent = m.size * 0.9 if section.kind == "chorus" else 0.0
        name = section.label or (_SECTION_NAMES.get(section.kind, section.kind.replace("_", " ").title())
                                 if section.kind not in ("", "verse") else "")
        label_size = m.size * 0.72
        section_blocks: list[_Block] = []
        for line in section.lines:
            if line.kind == "lyrics":
                section_blocks += _lyric_rows(line, view, m, indent)
            elif line.kind == "comment":
                section_blocks.append(_comment_block(line, m, indent))
            elif line.kind == "tab" and view.show_chords:  # tablature and fingerings: not for the Lyrics sheet
                section_blocks.append(_mono_block(line.text, m, indent, "tab"))
            elif line.kind == "grid":
                text = " ".join(view.chord(t) for t in line.text.split())
                section_blocks.append(_mono_block(text, m, indent, "grid"))
            elif line.kind == "chorus_ref":
                size = m.size * 0.85
                section_blocks.append(_Block([Text(indent, size, line.text, size, "BI", "comment")], size * 1.6))
            elif line.kind == "new_page":
                section_blocks.append(_Block([], 0, page_break=True))
            elif line.kind == "empty" and section_blocks:
                section_blocks.append(_Block([], m.size * 0.7))
        if not any(block.ops for block in section_blocks):
            continue  # nothing to show for this part (a chord-only intro on the Lyrics sheet)
        if name:
            blocks.append(_Block([Text(m.margin, label_size, name.upper(), label_size, "B", "label")],
                                 label_size * 1.5, keep_with_next=True))
        if section.kind == "chorus":  # a bar down the left of the chorus, block by block
            for block in section_blocks:
                if block.height and block.ops:
                    block.ops.insert(0, Rule(m.margin + m.size * 0.25, 0, m.margin + m.size * 0.25, block.height,
                                             max(1.5, m.size / 10)))
        blocks += [_Block([_shift(op, m.margin, 0) if not isinstance(op, Rule) else op for op in b.ops], b.height,
                          b.keep_with_next, b.page_break) for b in section_blocks]
        blocks.append(_Block([], m.size * 0.9))
    return blocks


def layout(song: Song, view: ChordView, width: float, height: float, size: float) -> list[list[Op]]:
    """The song as pages of drawing operations, ``width`` × ``height`` units with lyrics ``size`` units tall."""
    m = _Metrics(width, height, size)
    top, bottom = m.margin * 0.8, height - m.margin * 0.8
    pages: list[list[Op]] = [[]]
    y = top
    blocks = _header(song, view, m) + _body(song, view, m)
    continuation = size * 1.6
    for n, block in enumerate(blocks):
        if block.page_break:
            if pages[-1]:
                pages.append([])
                y = top + continuation
            continue
        needed = block.height
        if block.keep_with_next and n + 1 < len(blocks):
            needed += blocks[n + 1].height
        if y + needed > bottom and y > top + continuation + 1:
            if not block.ops and not block.keep_with_next:
                continue  # spacing at the foot of a page is dropped
            pages.append([])
            y = top + continuation
        pages[-1] += [_shift(op, 0, y) for op in block.ops]
        y += block.height
    total = len(pages)
    if total > 1:
        small = size * 0.62
        for number, page in enumerate(pages, 1):
            label = f"{number}/{total}"
            page.append(Text(m.margin + m.content - text_width(label, small), top + small, label, small, "", "page"))
            if number > 1:
                page.append(Text(m.margin, top + small, song.title or "", small, "I", "page"))
    return pages


# --- Drawing -----------------------------------------------------------------------------------------------------


def _svg_text(op: Text) -> str:
    family = MONO_FAMILY if op.style == "M" else None
    attrs = [f'x="{op.x:.1f}"', f'y="{op.y:.1f}"', f'font-size="{op.size:.1f}"', f'class="{op.role}"']
    if "B" in op.style:
        attrs.append('font-weight="bold"')
    if "I" in op.style:
        attrs.append('font-style="italic"')
    if family:
        attrs.append(f"font-family={quoteattr(family)}")
    width = op.width
    if width > 0 and op.text.strip():
        attrs.append(f'textLength="{width:.1f}" lengthAdjust="spacingAndGlyphs"')
    return f"<text {' '.join(attrs)}>{escape(op.text)}</text>"


def _svg(ops: Iterable[Op], width: int, height: int) -> str:
    body = []
    for op in ops:
        if isinstance(op, Text):
            body.append(_svg_text(op))
        elif isinstance(op, Rule):
            body.append(f'<line x1="{op.x1:.1f}" y1="{op.y1:.1f}" x2="{op.x2:.1f}" y2="{op.y2:.1f}" '
                        f'stroke="#000" stroke-width="{op.stroke:.1f}"/>')
        else:
            body.append(f'<rect x="{op.x:.1f}" y="{op.y:.1f}" width="{op.w:.1f}" height="{op.h:.1f}" fill="none" '
                        f'stroke="#000" stroke-width="{op.stroke:.1f}"/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" xml:space="preserve" font-family={quoteattr(FONT_FAMILY)} '
            f'fill="#000"><rect width="{width}" height="{height}" fill="#fff"/>' + "".join(body) + "</svg>")


def type_size(width: int) -> float:
    """Lyric type size for a page width: the standard widths' table, proportional in between."""
    if width in TYPE_SIZES:
        return TYPE_SIZES[width]
    nearest = min(TYPE_SIZES, key=lambda w: abs(w - width))
    return TYPE_SIZES[nearest] * width / nearest


def render_svg(song: Song, view: ChordView, width: int = 800) -> list[str]:
    """Every page as an SVG document ``width`` px wide, Letter-shaped."""
    height = round(width * LETTER_RATIO)
    return [_svg(page, width, height) for page in layout(song, view, width, height, type_size(width))]


def render_pdf(song: Song, view: ChordView) -> bytes:
    """The sheet on Letter paper, drawn directly with fpdf2 (real text, DejaVu Sans)."""
    from .musicxml import pdf_document

    pages = layout(song, view, 612, 792, PDF_TYPE_SIZE)
    styles = {op.style for page in pages for op in page if isinstance(op, Text)}
    fonts = {("dejavu-sans", s) for s in styles if s != "M"}
    pdf = pdf_document(fonts | {("dejavu-sans", "")})
    if "M" in styles:
        pdf.add_font("dejavu-mono", fname=FONT_DIR + "DejaVuSansMono.ttf")
    pdf.set_title(song.title or "Chord sheet")
    for page in pages:
        pdf.add_page()
        for op in page:
            if isinstance(op, Text):
                if op.style == "M":
                    pdf.set_font("dejavu-mono", size=op.size)
                else:
                    pdf.set_font("dejavu-sans", style=op.style, size=op.size)
                pdf.text(op.x, op.y, op.text)
            elif isinstance(op, Rule):
                pdf.set_line_width(op.stroke * 0.75)
                pdf.line(op.x1, op.y1, op.x2, op.y2)
            else:
                pdf.set_line_width(op.stroke * 0.75)
                pdf.rect(op.x, op.y, op.w, op.h)
    return bytes(pdf.output())


def engrave_svg(data: bytes | str, part: PartRef, width: int = 800, *, hint: PartRef | None = None,
                concert_key: str | None = None, key: str | None = None, **_: object) -> list[str]:
    """Parse and draw ``part`` in one go (what the engraver's worker calls)."""
    song = parse_chordpro(data)
    return render_svg(song, view_for(song, part, concert_key=concert_key, key=key, hint=hint), width)


def engrave_pdf(data: bytes | str, part: PartRef, *, hint: PartRef | None = None, concert_key: str | None = None,
                key: str | None = None, **_: object) -> bytes:
    song = parse_chordpro(data)
    return render_pdf(song, view_for(song, part, concert_key=concert_key, key=key, hint=hint))


def iter_chords(pages: Iterable[str]) -> Iterator[str]:
    """The chord symbols drawn on SVG pages, in order (for tests and checks)."""
    for page in pages:
        yield from (re.sub("&amp;", "&", m) for m in re.findall(r'class="chord"[^>]*>([^<]*)</text>', page))
