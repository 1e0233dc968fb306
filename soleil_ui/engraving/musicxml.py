"""MusicXML in, engraved SVG pages (and PDF) out, with verovio. Synchronous: the engraver runs it in a worker.

Public API:
- ``inspect_score(data, filename=None, hint=None) -> ScoreInfo``: title, concert key, the staves as ``ScorePart``
  (instrument, chair, what each is written for), and ``available`` — the parts this file can serve.
- ``list_parts(data) -> list[ScorePart]``.
- ``plan_part(data, part, ...) -> Plan``: which staff, the exact interval, clef and octave a part gets (pure; tests).
- ``engrave_svg(data, part, width, ...) -> list[str]``: one SVG document per page.
- ``engrave_pdf(data, part, ...) -> bytes``: the same part on Letter paper.
- ``svg_pages_to_pdf(svgs, header=...)``: verovio SVG → vector PDF with fpdf2 (no cairo needed).

Decisions:
- Reading: ``.musicxml``/``.xml`` (partwise or timewise, any encoding the file declares) and ``.mxl`` (a zip whose
  ``META-INF/container.xml`` names the score). XML is parsed with defusedxml (no entity tricks); a DOCTYPE is fine.
- Limits, checked before verovio sees the file: 20 MB in, 50 MB of XML out of a zip, at most ``MAX_STAVES`` staves
  and ``MAX_NOTES`` notes. Anything slower than that is the engraver's time limit's job.
- What a staff is written for comes from its ``<transpose>``; when no staff in the file has one and the file has a
  single pitched staff, the part in the file name (``hint``) says; otherwise it is concert pitch.
- A full score's staves are the instruments' parts (Trumpet 2 reads the Trumpet 2 staff, as written). The generic
  parts (Concert, B♭, E♭, F, Bass clef, and Chords when there are chord symbols) are made from the *lead* staff:
  the first pitched staff with chord symbols, else the first pitched staff. Percussion staves are only ever their
  own part, never transposed.
- One staff is engraved at a time: the other parts are removed from the XML and its ``<transpose>`` dropped (we
  have accounted for it), then verovio transposes notes, key signatures and chord symbols by our interval. A staff
  whose instrument changes mid-score (a new ``<transpose>``: clarinet to alto sax) is first rewritten in its first
  instrument's writing (``_normalised``), unless the member reads that very staff as written. Chord roots are
  respelled beforehand so that verovio's letter-by-letter move lands on the part key's spelling (Fmaj7, never E♯maj7).
- Who a staff is for: a choir's voices (Soprano, Alto, Tenor 1, Basso, Canto, S.) are Vocals when one of them is
  sung (lyrics, a voice sound, a choir MIDI program), else the names mean saxophones and bass as usual; a piccolo
  trumpet is a trumpet read only when the score has no B♭ trumpet staff (``ScorePart.variant``); an unnamed
  percussion staff is Percussion, and a score with no pitched staff is the drummer's part.
- Pages are US Letter in proportion; the layout width in staff spaces depends on the requested width (``LAYOUTS``):
  a phone-width page gets a big staff and few bars per line. The SVG is vector, so the width is a layout choice,
  not a resolution: request it by CSS pixels.
"""

from __future__ import annotations

import base64
import copy
import functools
import io
import logging
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element, ParseError, SubElement, tostring

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from soleil_ui.errors import BrokenFile, NotFound
from soleil_ui.naming import parse_part
from soleil_ui.parts import INSTRUMENTS, PartRef, Role, Transposition, find_instrument, sort_parts

from .theory import (
    SOUNDING,
    UNISON,
    Chord,
    Clef,
    Interval,
    Key,
    Pitch,
    choose_octave,
    clef_for,
    key_shift,
    range_for,
    transpose_key,
    transposition_of,
    written_interval,
)

MAX_BYTES = 20 * 1024 * 1024
MAX_XML_BYTES = 50 * 1024 * 1024
MAX_STAVES = 30
MAX_NOTES = 60_000
LETTER_RATIO = 11 / 8.5
# Standard width → staff spaces across the page. A staff space is 18 verovio units.
LAYOUTS = {480: 56, 800: 80, 1200: 104, 1600: 120, 2400: 136}
STAFF_SPACE = 18
MARGIN = 45  # verovio units on every side

_DAMAGED = "The MusicXML file is damaged or incomplete — re-export it from your notation program"
_SMUFL_TEXT = str.maketrans({"\uea63": "𝄫", "\uea64": "♭", "\uea65": "♮", "\uea66": "♯", "\uea67": "𝄪"})


@dataclass(frozen=True)
class ScorePart:
    """One staff (a MusicXML ``<part>``) of a score, and what it is written for.

    ``sounding`` is the written → sounding interval (a B♭ trumpet: down a major second). ``transposition`` is the
    generic part that interval belongs to (None for keys this app has no part for, e.g. A clarinet).
    """

    id: str
    name: str
    instrument: str | None
    chair: int | None
    transposition: Transposition | None
    sounding: Interval = UNISON
    clef: str = "treble"  # treble, bass, alto, tenor, percussion, tab
    staves: int = 1
    has_chords: bool = False
    pitched: bool = True
    key: Key = field(default_factory=lambda: Key.parse("C"))  # the written key signature at the start
    variant: str | None = None  # "piccolo" for a piccolo trumpet: a trumpet, but not the section's staff

    @property
    def part_ref(self) -> PartRef | None:
        """The part a musician would call this staff: "Trumpet 2"; a generic part for "Trumpet in C"."""
        if self.instrument is not None:
            return PartRef(instrument=self.instrument, chair=self.chair)
        return None

    @property
    def percussion(self) -> bool:
        return self.clef == "percussion" or not self.pitched


@dataclass(frozen=True)
class ScoreInfo:
    """What sync stores about a MusicXML file."""

    title: str | None
    composer: str | None
    key: Key  # concert key of the lead staff
    parts: tuple[ScorePart, ...]
    lead: str | None  # the staff generic parts are made from
    measures: int
    notes: int
    has_chords: bool

    @property
    def available(self) -> tuple[PartRef, ...]:
        """Every part this file can serve: the generic parts (from the lead staff) and each staff's instrument."""
        out: list[PartRef] = []
        lead = self.part(self.lead) if self.lead else None
        if lead is not None:
            out += [PartRef(transposition=t) for t in Transposition]
            if lead.has_chords:
                out.append(PartRef(role=Role.CHORDS))
        out += [p.part_ref for p in self.parts if p.part_ref is not None]
        return sort_parts(out)

    def part(self, part_id: str | None) -> ScorePart | None:
        return next((p for p in self.parts if p.id == part_id), None)


@dataclass(frozen=True)
class Plan:
    """How one part is engraved: from which staff, moved by which interval, on which clef."""

    source: ScorePart
    part: PartRef
    interval: Interval  # verovio's transpose option is str(interval)
    clef: Clef | None  # None: keep the staff's clefs
    written_key: Key
    as_written: bool


# --- Reading --------------------------------------------------------------------------------------------------------


def read_xml(data: bytes, filename: str | None = None) -> bytes:
    """The MusicXML document inside ``data``: the file itself, or the score inside an ``.mxl`` zip."""
    if not data:
        raise BrokenFile("The file is empty")
    if len(data) > MAX_BYTES:
        raise BrokenFile(f"The file is too large ({len(data) // (1024 * 1024)} MB); the limit is "
                         f"{MAX_BYTES // (1024 * 1024)} MB")
    if data[:4] == b"PK\x03\x04":
        return _unzip(data)
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    xmlish = head.startswith(b"<") or head[:2] in (b"\xff\xfe", b"\xfe\xff")
    if filename and filename.lower().endswith(".mxl") and not xmlish:
        raise BrokenFile("This .mxl file isn't compressed MusicXML (it isn't a zip archive) — re-export it")
    if not xmlish:
        raise BrokenFile("This isn't a MusicXML file")
    return data


def _unzip(data: bytes) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            target = None
            if "META-INF/container.xml" in names:
                container = _parse(_read_member(archive, "META-INF/container.xml"), what="container")
                for rootfile in container.iter("rootfile"):
                    path = rootfile.get("full-path")
                    media = rootfile.get("media-type") or "application/vnd.recordare.musicxml+xml"
                    if path in names and "musicxml" in media:
                        target = path
                        break
            if target is None:
                target = next((n for n in names if not n.startswith("META-INF/")
                               and n.lower().endswith((".musicxml", ".xml"))), None)
            if target is None:
                raise BrokenFile("This .mxl archive has no MusicXML score inside")
            return _read_member(archive, target)
    except zipfile.BadZipFile as exc:
        raise BrokenFile("This .mxl file is damaged (the zip archive can't be opened) — re-export it",
                         detail=str(exc)) from exc


def _read_member(archive: zipfile.ZipFile, name: str) -> bytes:
    with archive.open(name) as member:
        content = member.read(MAX_XML_BYTES + 1)
    if len(content) > MAX_XML_BYTES:
        raise BrokenFile("The score inside this .mxl file is too large")
    return content


def _parse(xml: bytes, what: str = "score") -> Element:
    try:
        return SafeET.fromstring(xml, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise BrokenFile("The MusicXML file uses XML entities, which SOLEil doesn't read — re-export it",
                         detail=f"{what}: {exc}") from exc
    except ParseError as exc:
        line = getattr(exc, "position", (0, 0))[0]
        raise BrokenFile(_DAMAGED + (f" (the XML breaks off at line {line})" if line else ""),
                         detail=f"{what}: {exc}") from exc


def _timewise_to_partwise(root: Element) -> Element:
    """``score-timewise`` (measures of parts) → ``score-partwise`` (parts of measures), everything else kept."""
    out = Element("score-partwise", root.attrib)
    parts: dict[str, Element] = {}
    for child in root:
        if child.tag != "measure":
            out.append(child)
            continue
        for part in child.findall("part"):
            target = parts.get(part.get("id", ""))
            if target is None:
                target = parts[part.get("id", "")] = SubElement(out, "part", {"id": part.get("id", "")})
            measure = SubElement(target, "measure", child.attrib)
            measure.extend(list(part))
    return out


def load_tree(data: bytes, filename: str | None = None) -> Element:
    """The score as a ``score-partwise`` element tree, checked against the size limits."""
    root = _parse(read_xml(data, filename))
    if root.tag == "score-timewise":
        root = _timewise_to_partwise(root)
    if root.tag != "score-partwise":
        raise BrokenFile(f"This isn't a MusicXML score (the file is a <{root.tag[:40]}> document)")
    if root.find("part") is None:
        raise BrokenFile("The MusicXML file has no music in it")
    staves = sum(_staves(part) for part in root.findall("part"))
    if staves > MAX_STAVES:
        raise BrokenFile(f"The score has {staves} staves; SOLEil engraves up to {MAX_STAVES} — export the parts as "
                         "separate files")
    notes = sum(1 for _ in root.iter("note"))
    if notes > MAX_NOTES:
        raise BrokenFile(f"The score is too large to engrave ({notes} notes; the limit is {MAX_NOTES})")
    return root


def _staves(part: Element) -> int:
    counts = [_int(s.text, 1) for s in part.iter("staves")]
    return max(counts, default=1)


def _int(text: str | None, default: int) -> int:
    try:
        return int((text or "").strip())
    except ValueError:
        return default


def _text(element: Element | None) -> str:
    return " ".join((element.text or "").split()) if element is not None else ""


def _identify(names: Sequence[str]) -> tuple[str | None, int | None]:
    """Instrument and chair a staff's names mean ("Trumpet in B♭ 2", "Tpt. 2", "Acoustic Grand Piano")."""
    for name in names:
        part = parse_part(name.replace(".", " "))
        if part is not None and part.instrument is not None:
            return part.instrument, part.chair
    for name in names:
        words = _WORD.findall(name)
        for size in (3, 2, 1):
            for start in range(len(words) - size, -1, -1):
                instrument = find_instrument(" ".join(words[start:start + size]))
                if instrument is not None:
                    return instrument.key, None
    return None, None


_TRUMPETS = r"(?:tpt|trp|trpt|trumpet|tromba|trombe|trompete|trompette|trompeta)"
# Also matches the sound "brass.trumpet.piccolo": a staff's names include its sounds as words ("trumpet piccolo").
_PICCOLO_TRUMPET = re.compile(rf"\bpicc?(?:olo|ola)?\.?[\s-]*{_TRUMPETS}\b|\b{_TRUMPETS}\b\.?\s*\(?(?:\w+\s+)?"
                              rf"picc?(?:olo|ola)?\b", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+")  # a name's words: letters only, so "Tpt.2" and "Alto-1" split cleanly
# Words that name a singing voice. A staff named only with them (and numbers) is a choir's voice, not a
# saxophone or a bass guitar, when it or another such staff in the score has lyrics or a voice sound.
_VOICE_WORDS = frozenset(
    "soprano sopranos sopran soprani mezzo alto altos altus contralto tenor tenors tenore tenori bass basses basso "
    "bassi bassus baritone bariton baritono canto cantus quinto quintus sextus superius contratenor countertenor "
    "discantus discant s a t b sa tb satb ssa ttbb voice voices voix voce coro choir chorus chor solo i ii iii iv "
    "v vi".split())
_ALWAYS_VOICE = frozenset("canto cantus quinto quintus sextus superius contratenor countertenor discantus contralto "
                          "mezzo coro choir chorus chor satb ssa ttbb voix voce".split())
_SECTION_VOICES = frozenset("soprano sopranos alto altos tenor tenors bass basses baritone bariton s a t b sa tb"
                            .split())
_CHOIR_PROGRAMS = frozenset({"53", "54", "55"})  # General MIDI Choir Aahs, Voice Oohs, Synth Voice (1-based)


def _name_words(names: Sequence[str]) -> list[str]:
    """The lower-case words of a staff's first (main) name."""
    return _WORD.findall((names[0] if names else "").lower())


def _voice_name(names: Sequence[str]) -> bool:
    words = _name_words(names)
    return bool(words) and all(w in _VOICE_WORDS for w in words) and any(w not in ("i", "ii", "iii", "iv", "v", "vi",
                                                                                    "solo") for w in words)


def _sings(element: Element, declaration: Element | None, names: Sequence[str]) -> bool:
    """The staff itself says it is sung: lyrics, a voice sound or choir program, or a word only voices have."""
    if element.find(".//note/lyric") is not None:
        return True
    if declaration is not None:
        if any(_text(s).lower().startswith("voice.") for s in declaration.iter("instrument-sound")):
            return True
        if any(_text(p) in _CHOIR_PROGRAMS for p in declaration.iter("midi-program")):
            return True
    return any(w in _ALWAYS_VOICE for w in _name_words(names))


def _sound_name(sound: str) -> str:
    """A MusicXML instrument sound as words to look up: "wind.reed.clarinet.bflat" → "reed clarinet bflat"."""
    return " ".join(sound.split(".")[1:])


def _sounding(part: Element) -> Interval | None:
    """The written → sounding interval of a staff's first ``<transpose>``, None when it has none."""
    transpose = part.find("measure/attributes/transpose")
    return None if transpose is None else _interval_of(transpose)


def _interval_of(transpose: Element) -> Interval:
    chromatic = _int(_text(transpose.find("chromatic")), 0)
    diatonic_text = _text(transpose.find("diatonic"))
    if diatonic_text:
        diatonic = _int(diatonic_text, 0)
    else:
        diatonic = round(chromatic * 7 / 12)
    octaves = _int(_text(transpose.find("octave-change")), 0)
    if transpose.find("double") is not None:
        octaves -= 1
    return Interval(diatonic + 7 * octaves, chromatic + 12 * octaves)


_ACCIDENTAL_NAMES = {-2: "flat-flat", -1: "flat", 0: "natural", 1: "sharp", 2: "double-sharp"}


def _move_note(element: Element, step_tag: str, alter_tag: str, interval: Interval, octave_tag: str | None = None
               ) -> None:
    """Rewrite a spelled pitch (a note's ``<pitch>``, a chord symbol's ``<root>`` or ``<bass>``) moved by
    ``interval``."""
    step = _text(element.find(step_tag)).upper()
    if not step or step not in "CDEFGAB":
        return
    alter = element.find(alter_tag)
    octave = element.find(octave_tag) if octave_tag else None
    pitch = Pitch("CDEFGAB".index(step), max(-2, min(2, round(float(_text(alter) or 0)))),
                  _int(_text(octave), 4) if octave is not None else None)
    moved = pitch.transpose(interval)
    if abs(moved.alter) > 2:
        return
    for child in list(element):  # step, alter, octave in schema order
        if child.tag in (step_tag, alter_tag) or child.tag == octave_tag:
            element.remove(child)
    children = [(step_tag, moved.letter)] + ([(alter_tag, str(moved.alter))] if moved.alter else [])
    if octave is not None and octave_tag and moved.octave is not None:
        children.append((octave_tag, str(moved.octave)))
    for n, (tag, text) in enumerate(children):
        node = Element(tag)
        node.text = text
        element.insert(n, node)


def _move_key(key: Element, interval: Interval) -> None:
    fifths = key.find("fifths")
    if fifths is None:
        return
    moved = Key.from_fifths(max(-7, min(7, _int(_text(fifths), 0)))).tonic.transpose(interval)
    fifths.text = str(max(-7, min(7, Key(moved).fifths)))


def _normalised(part: Element, first: Interval) -> Element:
    """A staff whose instrument changes mid-score (a B♭ clarinet part that turns to alto sax at bar 5: a new
    ``<transpose>``) with what follows each change rewritten as the first instrument writes it, so that one interval
    moves the whole staff. The staff itself when nothing changes."""
    if all(_interval_of(t) == first for t in part.iter("transpose")):
        return part
    part = copy.deepcopy(part)
    delta = UNISON
    for measure in part.findall("measure"):
        for item in measure:
            if item.tag == "attributes":
                transpose = item.find("transpose")
                if transpose is not None:
                    delta = _interval_of(transpose) - first
                if delta != UNISON:
                    for key in item.findall("key"):
                        _move_key(key, delta)
            elif delta == UNISON:
                continue
            elif item.tag == "note" and item.find("pitch") is not None:
                pitch = item.find("pitch")
                assert pitch is not None
                _move_note(pitch, "step", "alter", delta, "octave")
                accidental = item.find("accidental")
                if accidental is not None:
                    accidental.text = _ACCIDENTAL_NAMES.get(_int(_text(pitch.find("alter")), 0), accidental.text)
            elif item.tag == "harmony":
                for root in item.findall("root"):
                    _move_note(root, "root-step", "root-alter", delta)
                for bass in item.findall("bass"):
                    _move_note(bass, "bass-step", "bass-alter", delta)
    return part


_KIND_SUFFIX = {"minor": "m", "dominant": "7", "diminished": "dim", "diminished-seventh": "dim7",
                "half-diminished": "m7b5", "augmented": "aug", "augmented-seventh": "aug7", "suspended-fourth": "sus4",
                "suspended-second": "sus2", "minor-seventh": "m7", "major-seventh": "maj7", "dominant-ninth": "9",
                "dominant-11th": "11", "dominant-13th": "13", "minor-sixth": "m6", "major-sixth": "6"}


def _respell_chords(part: Element, interval: Interval, key: Key) -> None:
    """verovio moves chord symbols letter by letter: a D♯maj7 in C, moved up a major second for a B♭ trumpet,
    would read E♯maj7. Each root (and bass) is rewritten so that, once moved, it is spelled as the part's key writes
    it (Fmaj7), by the rules of ``theory.Chord.transposed``."""
    for measure in part.findall("measure"):
        for item in measure:
            if item.tag == "attributes":
                for signature in item.findall("key"):
                    if signature.find("fifths") is not None:
                        fifths = max(-7, min(7, _int(_text(signature.find("fifths")), 0)))
                        key = transpose_key(Key.from_fifths(fifths, _text(signature.find("mode")) == "minor"),
                                            interval)[0]
            elif item.tag == "harmony":
                root, bass = item.find("root"), item.find("bass")
                step = _text(root.find("root-step")).upper() if root is not None else ""
                if root is None or not step or step not in "CDEFGAB":
                    continue
                pitch = Pitch("CDEFGAB".index(step), max(-2, min(2, _int(_text(root.find("root-alter")), 0))))
                bass_pitch = None
                bass_step = _text(bass.find("bass-step")).upper() if bass is not None else ""
                if bass is not None and bass_step and bass_step in "CDEFGAB":
                    bass_pitch = Pitch("CDEFGAB".index(bass_step),
                                       max(-2, min(2, _int(_text(bass.find("bass-alter")), 0))))
                suffix = _KIND_SUFFIX.get(_text(item.find("kind")), "")
                moved = Chord(pitch, suffix, bass_pitch).transposed(interval.semitones, key)
                _set_pitch(root, "root-step", "root-alter", moved.root.transpose(-interval))
                if bass is not None and moved.bass is not None:
                    _set_pitch(bass, "bass-step", "bass-alter", moved.bass.transpose(-interval))


def _set_pitch(element: Element, step_tag: str, alter_tag: str, pitch: Pitch) -> None:
    if abs(pitch.alter) > 2:
        return
    _move_note(element, step_tag, alter_tag, UNISON)
    step, alter = element.find(step_tag), element.find(alter_tag)
    assert step is not None
    step.text = pitch.letter
    if pitch.alter and alter is None:
        alter = Element(alter_tag)
        element.insert(list(element).index(step) + 1, alter)
    if alter is not None:
        if pitch.alter:
            alter.text = str(pitch.alter)
        else:
            element.remove(alter)


def _first_key(part: Element) -> Key:
    key = part.find("measure/attributes/key")
    if key is None or key.find("fifths") is None:
        return Key.parse("C")
    fifths = max(-7, min(7, _int(_text(key.find("fifths")), 0)))
    return Key.from_fifths(fifths, _text(key.find("mode")).lower() == "minor")


def _first_clef(part: Element) -> str:
    clef = part.find("measure/attributes/clef")
    if clef is None:
        return "treble"
    sign = _text(clef.find("sign")).upper()
    line = _int(_text(clef.find("line")), 0)
    if sign == "F":
        return "bass"
    if sign == "C":
        return "tenor" if line == 4 else "alto"
    return {"PERCUSSION": "percussion", "TAB": "tab", "NONE": "percussion"}.get(sign, "treble")


def _score_parts(root: Element, hint: PartRef | None) -> list[ScorePart]:
    declared = {sp.get("id", ""): sp for sp in root.iter("score-part")}
    elements = root.findall("part")
    any_transpose = any(_sounding(p) is not None for p in elements)
    pitched_count = sum(1 for p in elements if p.find(".//note/pitch") is not None)
    voices = _choir_voices(elements, declared)
    out = []
    for element in elements:
        part_id = element.get("id", "")
        declaration = declared.get(part_id)
        names = _names(declaration, sounds=True)
        instrument, chair = _identify(names)
        variant = None
        if any(_PICCOLO_TRUMPET.search(n) for n in names):
            instrument, variant = "trumpet", "piccolo"
        elif part_id in voices:
            instrument, chair = "vocals", None
        sounding = _sounding(element)
        pitched = element.find(".//note/pitch") is not None
        alone = not any_transpose and pitched_count == 1 and pitched and hint is not None
        if sounding is None:  # the file says nothing: the file name's part, else concert pitch
            sounding = UNISON
            if alone and hint is not None and hint.transposition is not None:
                sounding = SOUNDING[Transposition(hint.transposition)]
        if instrument is None and alone and hint is not None and hint.instrument is not None:
            instrument, chair = hint.instrument, hint.chair
        clef = _first_clef(element)
        if instrument is None and (clef == "percussion" or not pitched):  # an unnamed drum staff
            instrument = "percussion"
        transposition = transposition_of(sounding)
        if transposition is Transposition.CONCERT and clef == "bass":
            transposition = Transposition.BASS_CLEF
        if instrument is not None and INSTRUMENTS[instrument].transposition is None:
            transposition = None
        out.append(ScorePart(
            id=part_id, name=names[0] if names else part_id, instrument=instrument, chair=chair,
            transposition=transposition, sounding=sounding, clef=clef, staves=_staves(element),
            has_chords=element.find(".//harmony") is not None, pitched=pitched, key=_first_key(element),
            variant=variant,
        ))
    return out


def _names(declaration: Element | None, *, sounds: bool = False) -> list[str]:
    """A staff's names, main name first; with ``sounds``, its instrument sounds as words too (for ``_identify``)."""
    if declaration is None:
        return []
    names = [_text(declaration.find("part-name")), _text(declaration.find("part-abbreviation")),
             *(_text(i) for i in declaration.iter("instrument-name"))]
    if sounds:
        names += [_sound_name(_text(s)) for s in declaration.iter("instrument-sound")]
    return [n for n in names if n]


def _choir_voices(elements: Sequence[Element], declared: dict[str, Element]) -> set[str]:
    """The staves that are a choir's voices: named only as voices (Soprano, Alto, Tenor 1, Basso, S., Canto) and
    sung (see ``_sings``), or named like a sung one's fellow voices (Bach's chorales have words in the soprano
    only), or when Soprano, Alto, Tenor and Bass are all there. A big band's "Alto 1"/"Tenor 2" without words stay
    saxophones, even beside a singer's "Voice" staff."""
    named = {e.get("id", ""): e for e in elements if _voice_name(_names(declared.get(e.get("id", ""))))}
    sung = {pid for pid, e in named.items() if _sings(e, declared.get(pid), _names(declared.get(pid)))}
    words = {w for pid in named for w in _name_words(_names(declared.get(pid)))}
    satb = all(words & set(pair) for pair in (("soprano", "s"), ("alto", "a"), ("tenor", "t"), ("bass", "b")))
    if not satb and not any(_section_voice(_names(declared.get(pid))) for pid in sung):
        return sung  # (a saxophone quartet is soprano, alto, tenor and *baritone*)
    return sung | {pid for pid in named if _section_voice(_names(declared.get(pid)))}


def _section_voice(names: Sequence[str]) -> bool:
    """Soprano, Alto, Tenor, Bass, Baritone (or S. A. T. B.): the names a choir's voices and a band's saxes share."""
    return any(w in _SECTION_VOICES for w in _name_words(names))


def _info(root: Element, hint: PartRef | None) -> ScoreInfo:
    parts = _score_parts(root, hint)
    lead = next((p for p in parts if p.has_chords and not p.percussion), None) or next(
        (p for p in parts if not p.percussion), None)
    key = Key.parse("C")
    if lead is not None:
        key = transpose_key(lead.key, lead.sounding)[0]
    title = _text(root.find("work/work-title")) or _text(root.find("movement-title")) or None
    composer = next((_text(c) for c in root.iter("creator") if c.get("type") == "composer" and _text(c)), None)
    first = root.find("part")
    measures = len(first.findall("measure")) if first is not None else 0
    return ScoreInfo(title=title, composer=composer, key=key, parts=tuple(parts), lead=lead.id if lead else None,
                     measures=measures, notes=sum(1 for _ in root.iter("note")),
                     has_chords=any(p.has_chords for p in parts))


def inspect_score(data: bytes, filename: str | None = None, hint: PartRef | None = None) -> ScoreInfo:
    """Title, concert key, staves and available parts; raises ``BrokenFile`` saying why a file can't be used."""
    return _info(load_tree(data, filename), hint)


def list_parts(data: bytes, filename: str | None = None, hint: PartRef | None = None) -> list[ScorePart]:
    """The staves of a score as parts: ``ScorePart(id, name, instrument, chair, transposition...)``."""
    return list(inspect_score(data, filename, hint).parts)


# --- Planning a part ------------------------------------------------------------------------------------------------


def _pitches(part: Element) -> Iterator[Pitch]:
    for pitch in part.iter("pitch"):
        step = _text(pitch.find("step")).upper()
        if step and step in "CDEFGAB":
            alter = round(float(_text(pitch.find("alter")) or 0))
            yield Pitch("CDEFGAB".index(step), max(-2, min(2, alter)), _int(_text(pitch.find("octave")), 4))


def _source(info: ScoreInfo, part: PartRef, source_part: str | None) -> tuple[ScorePart, bool]:
    """The staff a part is engraved from, and whether it is that instrument's own staff."""
    if source_part is not None:
        found = info.part(source_part)
        if found is None:
            raise NotFound("That part isn't in this score.")
        return found, found.instrument is not None and found.instrument == part.instrument
    if part.instrument is not None:
        same = [p for p in info.parts if p.instrument == part.instrument]
        if same:
            want = part.chair

            usual = INSTRUMENTS[part.instrument].transposition

            def distance(p: ScorePart) -> tuple[bool, int, int]:
                # a piccolo trumpet, or a trumpet in A/D/E♭, only when the section's own staves aren't there
                odd = p.variant is not None or (usual is not None and p.transposition not in (None, usual)
                                                and not (usual is Transposition.CONCERT and p.clef == "bass"))
                if p.chair == want:
                    return (odd, 0, 0)
                if p.chair is None or want is None:
                    return (odd, 1, p.chair or 0)
                return (odd, 2 + abs(p.chair - want), p.chair)
            return min(same, key=distance), True
    lead = info.part(info.lead)
    if lead is None:
        raise BrokenFile(f"This score has no pitched staff to make a {part.label()} part from")
    return lead, False


def _target_sounding(part: PartRef, source: ScorePart, own: bool) -> Interval:
    if own:
        return source.sounding
    if part.transposition is None or part.role in (Role.CHORDS, Role.LYRICS):
        return UNISON
    return SOUNDING[Transposition(part.transposition)]


def plan(
    root: Element,
    info: ScoreInfo,
    part: PartRef,
    *,
    concert_key: str | Key | None = None,
    key: str | Key | None = None,
    octave_shift: int = 0,
    clef: Clef | None = None,
    source_part: str | None = None,
) -> Plan:
    """Decide staff, interval, clef and octave for ``part`` (see the module doc).

    The octave is chosen for the part in the file's own key, then kept when the night's key (``concert_key``) or
    the member's ``key`` moves it, unless that pushes notes out of the range: a part doesn't jump an octave
    because the band plays it a tone higher tonight.
    """
    source, own = _source(info, part, source_part)
    element = next(p for p in root.findall("part") if p.get("id", "") == source.id)
    if source.percussion:
        return Plan(source, part, UNISON, None, source.key, True)
    concert = transpose_key(source.key, source.sounding)[0]
    target_sounding = _target_sounding(part, source, own)
    base = written_interval(source.sounding, target_sounding)
    shift = UNISON
    if concert_key is not None:
        shift = key_shift(concert, concert_key if isinstance(concert_key, Key) else Key.parse(concert_key))
    if key is not None:
        wanted = key if isinstance(key, Key) else Key.parse(key)
        shift = shift + key_shift(transpose_key(source.key, base + shift)[0], wanted)

    simple = source.staves == 1 and source.clef in ("treble", "bass")
    target_clef: Clef | None = clef if simple else None
    if target_clef is None and simple and not own:
        target_clef = clef_for(part)
    reading_clef: Clef = target_clef or ("bass" if source.clef == "bass" else "treble")
    if target_clef == source.clef:
        target_clef = None

    same_family = transposition_of(source.sounding) == transposition_of(target_sounding) and (
        (source.clef == "bass") == (reading_clef == "bass"))
    as_written = own or same_family
    pitches = list(_pitches(element if own else _normalised(element, source.sounding)))
    written_range = range_for(PartRef(instrument=source.instrument, chair=source.chair)
                              if own and source.instrument else part)
    octave = 0 if as_written and base == UNISON else choose_octave(
        pitches, base, written_range, reading_clef, as_written=as_written,
        candidates=(-1, 0, 1) if as_written else (-2, -1, 0, 1, 2))
    interval = base.octaves(octave) + shift
    if shift != UNISON:
        interval = interval.octaves(choose_octave(pitches, interval, written_range, reading_clef, as_written=True,
                                                  candidates=(0, -1, 1), keep_octave=True))
    written_key, interval = transpose_key(source.key, interval)
    return Plan(source, part, interval.octaves(octave_shift), target_clef, written_key, as_written)


def plan_part(data: bytes, part: PartRef, *, filename: str | None = None, hint: PartRef | None = None,
              **options: Any) -> Plan:
    """``plan`` straight from file bytes (for tests and the API)."""
    root = load_tree(data, filename)
    return plan(root, _info(root, hint), part, **options)


def _single_part_xml(root: Element, plan: Plan) -> bytes:
    """The score reduced to one staff, its ``<transpose>`` dropped, its clef set, its name hidden."""
    root = copy.deepcopy(root)
    for other in root.findall("part"):
        if other.get("id", "") != plan.source.id:
            root.remove(other)
    for item in root.findall("credit") + root.findall("defaults"):
        root.remove(item)
    part_list = root.find("part-list")
    if part_list is not None:
        for child in list(part_list):
            if child.tag != "score-part" or child.get("id", "") != plan.source.id:
                part_list.remove(child)
        for declaration in part_list.iter("score-part"):  # the stand names the part; the staff needn't
            for name in declaration.findall("part-name"):
                name.set("print-object", "no")
            for abbreviation in declaration.findall("part-abbreviation"):
                declaration.remove(abbreviation)
    part = root.find("part")
    assert part is not None
    own = plan.as_written and plan.source.instrument is not None and plan.source.instrument == plan.part.instrument
    if not own:  # a generic part reads one instrument's writing throughout (see ``_normalised``)
        normal = _normalised(part, plan.source.sounding)
        if normal is not part:
            root.remove(part)
            root.append(normal)
            part = normal
    if plan.interval != UNISON:
        _respell_chords(part, plan.interval, plan.written_key)
    for attributes in part.iter("attributes"):
        for transpose in attributes.findall("transpose"):
            attributes.remove(transpose)
    if plan.clef is not None:
        sign, line = ("F", "4") if plan.clef == "bass" else ("G", "2")
        clefs = list(part.iter("clef"))
        if not clefs:
            measure = part.find("measure")
            if measure is not None:
                head = measure.find("attributes")
                if head is None:
                    head = Element("attributes")
                    measure.insert(0, head)
                clefs = [SubElement(head, "clef")]
        for clef in clefs:
            for child in list(clef):
                clef.remove(child)
            SubElement(clef, "sign").text = sign
            SubElement(clef, "line").text = line
    return tostring(root, encoding="utf-8", xml_declaration=True)


# --- Engraving ------------------------------------------------------------------------------------------------------


def layout_options(width: int) -> dict[str, Any]:
    """verovio page options for a standard width: Letter-shaped pages, staff size by ``LAYOUTS``."""
    spaces = LAYOUTS.get(width) or LAYOUTS[min(LAYOUTS, key=lambda w: abs(w - width))]
    page_width = spaces * STAFF_SPACE
    return {
        "pageWidth": page_width,
        "pageHeight": round(page_width * LETTER_RATIO),
        "pageMarginLeft": MARGIN, "pageMarginRight": MARGIN, "pageMarginTop": MARGIN, "pageMarginBottom": MARGIN,
        "scale": 100,
    }


def _toolkit(options: dict[str, Any]) -> Any:
    import verovio  # heavy native module: loaded only in engraving workers

    verovio.enableLog(verovio.LOG_OFF)
    toolkit = verovio.toolkit()
    toolkit.setOptions({
        "inputFrom": "musicxml", "svgViewBox": True, "footer": "none", "header": "auto", "xmlIdSeed": 1,
        "breaks": "auto", "adjustPageHeight": False, "justifyVertically": False, "svgFormatRaw": True, **options,
    })
    return toolkit


def _load(data: bytes, part: PartRef, width: int, filename: str | None, hint: PartRef | None,
          options: dict[str, Any]) -> tuple[Any, Plan]:
    root = load_tree(data, filename)
    info = _info(root, hint)
    the_plan = plan(root, info, part, **options)
    verovio_options = layout_options(width)
    if the_plan.interval != UNISON:
        verovio_options["transpose"] = str(the_plan.interval)
    toolkit = _toolkit(verovio_options)
    if not toolkit.loadData(_single_part_xml(root, the_plan).decode("utf-8")):
        raise BrokenFile(_DAMAGED, detail="verovio could not load the score")
    if toolkit.getPageCount() < 1:
        raise BrokenFile("The MusicXML file has no music in it")
    return toolkit, the_plan


_LEIPZIG_FONT = re.compile(r"<style[^>]*>@font-face\s*\{[^}]*'Leipzig'[^}]*\}\s*</style>")
_TEXT = re.compile(r"<text\b.*?</text>", re.S)
_LEAF = re.compile(r'<tspan([^>]*)>([^<]*)</tspan>')
_ACCIDENTAL_GLYPHS = {"\uea64": "♭", "\uea65": "♮", "\uea66": "♯"}
ACCIDENTAL_FONT = "SoleilAccidentals"


@functools.lru_cache(maxsize=1)
def _accidental_font() -> str:
    """♭ ♮ ♯ cut out of DejaVu Serif as a ~2 KB WOFF, base64."""
    from fontTools import subset

    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)
    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = []
    options.name_IDs = []
    font = subset.load_font(_FONT_DIR + "DejaVuSerif.ttf", options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[0x266D, 0x266E, 0x266F])
    subsetter.subset(font)
    out = io.BytesIO()
    subset.save_font(font, out, options)
    return base64.b64encode(out.getvalue()).decode("ascii")


def lighten_svg(svg: str) -> str:
    """Swap the whole Leipzig font verovio embeds (~60 KB per page) for a 2 KB one when it is only there for the
    ♭ ♮ ♯ of chord symbols; anything else drawn with it (dynamics, tempo notes) keeps the original."""
    match = _LEIPZIG_FONT.search(svg)
    if match is None:
        return svg
    runs = [text for attrs, text in _LEAF.findall(svg) if 'font-family="Leipzig"' in attrs]
    if not runs or any(ch not in _ACCIDENTAL_GLYPHS for text in runs for ch in text):
        return svg

    def fix_text(text: re.Match[str]) -> str:
        size = None

        def fix_leaf(leaf: re.Match[str]) -> str:
            nonlocal size
            attrs, content = leaf.groups()
            if 'font-family="Leipzig"' not in attrs:
                found = re.search(r'font-size="([^"]+)"', attrs)
                size = found.group(1) if found else size
                return leaf.group()
            attrs = attrs.replace('font-family="Leipzig"', f'font-family="{ACCIDENTAL_FONT}, serif"')
            if size:
                attrs = re.sub(r'font-size="[^"]*"', f'font-size="{size}"', attrs)
            return f"<tspan{attrs}>{''.join(_ACCIDENTAL_GLYPHS[ch] for ch in content)}</tspan>"
        return _LEAF.sub(fix_leaf, text.group())

    svg = _TEXT.sub(fix_text, svg)
    font = (f'<style type="text/css">@font-face {{font-family: \'{ACCIDENTAL_FONT}\'; '
            f"src: url(data:font/woff;base64,{_accidental_font()}) format('woff');}}</style>")
    return _LEIPZIG_FONT.sub(lambda _: font, svg, count=1)


def engrave_svg(
    data: bytes,
    part: PartRef,
    width: int = 800,
    *,
    filename: str | None = None,
    hint: PartRef | None = None,
    **options: Any,
) -> list[str]:
    """Every page of ``part`` as an SVG document ``width`` px wide and Letter-shaped (options: ``concert_key``,
    ``key``, ``octave_shift``, ``clef``, ``source_part``, as for ``plan``)."""
    toolkit, _ = _load(data, part, width, filename, hint, options)
    height = round(width * LETTER_RATIO)
    pages = []
    for page in range(1, toolkit.getPageCount() + 1):
        svg = lighten_svg(toolkit.renderToSVG(page))
        pages.append(svg.replace("<svg ", f'<svg width="{width}" height="{height}" ', 1))
    return pages


_MEI = "{http://www.music-encoding.org/ns/mei}"
_MEI_ACCIDENTALS = {"n": 0, "s": 1, "f": -1, "ss": 2, "x": 2, "ff": -2}


def written_pitches(data: bytes, part: PartRef, *, filename: str | None = None, hint: PartRef | None = None,
                    **options: Any) -> list[Pitch]:
    """The notes of an engraved part as verovio wrote them (after transposition), in order; for checks and tests."""
    toolkit, _ = _load(data, part, 800, filename, hint, options)
    out = []
    for note in _parse(toolkit.getMEI().encode("utf-8"), what="mei").iter(_MEI + "note"):
        if note.get("pname") is None or note.get("oct") is None:
            continue
        accidentals = [note, *note.iter(_MEI + "accid")]
        accid = next((a.get(k) for a in accidentals for k in ("accid", "accid.ges") if a.get(k)), None) or "n"
        out.append(Pitch("cdefgab".index(note.get("pname", "c")), _MEI_ACCIDENTALS.get(accid, 0),
                         int(note.get("oct", "4"))))
    return out


def engrave_pdf(data: bytes, part: PartRef, *, title: str | None = None, filename: str | None = None,
                hint: PartRef | None = None, **options: Any) -> bytes:
    """The part on Letter paper (vector PDF): the paper fallback. Laid out like the 1200 px page."""
    toolkit, the_plan = _load(data, part, 1200, filename, hint, options)
    svgs = [toolkit.renderToSVG(page) for page in range(1, toolkit.getPageCount() + 1)]
    label = part.label() + f" · {the_plan.written_key.name(unicode=True)}"
    return svg_pages_to_pdf(svgs, header=label, title=title)


# --- SVG → PDF ------------------------------------------------------------------------------------------------------

_FONT_DIR = "/usr/share/fonts/truetype/dejavu/"
_SVG = "{http://www.w3.org/2000/svg}"


def _flatten_text(text: Element) -> None:
    """fpdf2 reads ``<text>`` with one level of ``<tspan>``: inline verovio's nested spans into flat runs."""
    runs: list[tuple[str, dict[str, str]]] = []

    def walk(node: Element, inherited: dict[str, str]) -> None:
        attrs = dict(inherited)
        for name in ("font-size", "font-family", "font-weight", "font-style", "x", "y", "text-anchor"):
            if name in node.attrib:
                attrs[name] = node.attrib[name]
        if node.text and node.text.strip():
            runs.append((node.text.strip(), attrs))
            attrs = {k: v for k, v in attrs.items() if k not in ("x", "y")}
        for child in node:
            if child.tag == _SVG + "title":
                continue
            walk(child, {k: v for k, v in attrs.items()})
            attrs = {k: v for k, v in attrs.items() if k not in ("x", "y")}
    base = {k: v for k, v in text.attrib.items() if k in ("x", "y", "text-anchor", "font-size", "font-family")}
    walk(text, base)
    for child in list(text):
        text.remove(child)
    text.text = None
    size = None
    for content, attrs in runs:
        span = SubElement(text, _SVG + "tspan")
        for name, value in attrs.items():
            span.set(name, value)
        span.set("font-family", "dejavu-serif")
        span.text = content.translate(_SMUFL_TEXT)
        if span.text != content and size:  # a SMuFL accidental drawn big in the music font: text size in DejaVu
            span.set("font-size", size)
        size = attrs.get("font-size", size)
    if runs:
        size = runs[0][1].get("font-size")
        if size:
            text.set("font-size", size)


def _svg_for_pdf(svg: str) -> bytes:
    """verovio SVG made digestible for fpdf2: the nested scaling ``<svg>`` becomes a group, text flattened."""
    root = _parse(svg.encode("utf-8"), what="svg")
    view = [float(v) for v in (root.get("viewBox") or "0 0 2100 2970").split()]
    for parent in root.iter():
        for child in list(parent):
            if child.tag in (_SVG + "desc", _SVG + "style") or "placeholder" in child.get("class", "").split():
                parent.remove(child)
            elif child.tag == _SVG + "svg":
                inner = [float(v) for v in (child.get("viewBox") or "0 0 1 1").split()]
                child.tag = _SVG + "g"
                child.set("transform", f"scale({view[2] / inner[2]:.6f},{view[3] / inner[3]:.6f})")
                for name in ("viewBox", "class", "color", "font-family"):
                    child.attrib.pop(name, None)
    for text in list(root.iter(_SVG + "text")):
        _flatten_text(text)
    for node in root.iter():
        if node.get("font-family"):
            node.set("font-family", "dejavu-serif")
    root.set("width", str(view[2]))
    root.set("height", str(view[3]))
    return tostring(root, encoding="utf-8", xml_declaration=True)  # fpdf2 sniffs "<?xml " to take it as SVG


_FONT_FILES = {
    ("dejavu-serif", ""): "DejaVuSerif.ttf", ("dejavu-serif", "B"): "DejaVuSerif-Bold.ttf",
    ("dejavu-serif", "I"): "DejaVuSerif-Italic.ttf", ("dejavu-serif", "BI"): "DejaVuSerif-BoldItalic.ttf",
    ("dejavu-sans", ""): "DejaVuSans.ttf", ("dejavu-sans", "B"): "DejaVuSans-Bold.ttf",
    ("dejavu-sans", "I"): "DejaVuSans-Oblique.ttf", ("dejavu-sans", "BI"): "DejaVuSans-BoldOblique.ttf",
}


def pdf_document(fonts: Iterable[tuple[str, str]] = (("dejavu-sans", ""),)) -> Any:
    """A Letter-size fpdf2 document (points) with the given DejaVu ``(family, style)`` fonts registered (they have
    ♭ and ♯). Each font costs ~80 ms to load, so only what a page uses is registered."""
    from fpdf import FPDF

    pdf = FPDF(unit="pt", format="letter")
    pdf.set_auto_page_break(False)
    for family, style in dict.fromkeys(fonts):
        pdf.add_font(family, style=style, fname=_FONT_DIR + _FONT_FILES[family, style])
    return pdf


def _svg_fonts(svg: bytes) -> set[tuple[str, str]]:
    bold = b'font-weight="bold"' in svg
    italic = b'font-style="italic"' in svg
    styles = {"", "B" if bold else "", "I" if italic else "", "BI" if bold and italic else ""}
    return {("dejavu-serif", style) for style in styles}


def svg_pages_to_pdf(svgs: Sequence[str], *, header: str | None = None, title: str | None = None,
                     full_page: bool = False) -> bytes:
    """verovio pages as a vector PDF, one Letter page each, with the part ``header`` and page numbers; ``full_page``:
    each page drawn edge to edge, nothing added, so a point at a fraction of the SVG page is at the same fraction of
    the PDF page (the pencil's marks print there, see ``pdf_marks.mark_svg_pages``)."""
    logging.getLogger("fpdf.svg").setLevel(logging.ERROR)
    pages = [_svg_for_pdf(svg) for svg in svgs]
    pdf = pdf_document({("dejavu-sans", ""), *(font for page in pages for font in _svg_fonts(page))})
    pdf.set_title(title or header or "Part")
    top = 0.0 if full_page else 24.0
    for number, page in enumerate(pages, 1):
        pdf.add_page()
        pdf.set_font("dejavu-sans", size=9)
        if header and not full_page:
            pdf.text(36, 20, header)
        if len(svgs) > 1 and not full_page:
            label = f"{number}/{len(svgs)}"
            pdf.text(pdf.w - 36 - pdf.get_string_width(label), 20, label)
        height = pdf.h - top
        pdf.image(io.BytesIO(page), x=(pdf.w - height / LETTER_RATIO) / 2, y=top, h=height)
    return bytes(pdf.output())
