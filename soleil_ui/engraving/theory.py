"""Pitches, intervals, keys, enharmonic spelling, chord symbols and written ranges. Pure Python, no I/O.

Public API:
- ``Pitch``: a spelled note (letter, accidental, optional octave). ``Pitch.parse("Bb")``, ``.pc``, ``.midi``,
  ``.transpose(interval)``, ``.name(unicode=True)``.
- ``Interval``: diatonic steps + semitones, so a major second and a diminished third differ. ``Interval.parse("-m3")``;
  ``str(interval)`` is verovio's ``transpose`` syntax ("+M2", "-m3", "P1", "+P8").
- ``Key``: a tonic and a mode. ``Key.parse("Eb")``, ``Key.parse("F#m")``, ``.fifths``, ``.spell(pc)`` (how this key
  writes a pitch class), ``transpose_key(key, interval)`` (with enharmonic simplification: never 7+ sharps or flats).
- ``Chord``/``parse_chord(text, notation="")``: chord symbols (root, suffix as written, slash bass).
  ``Chord.transposed(semitones, key)`` respells for the target key; ``transpose_chord_text`` keeps anything that
  isn't a chord ("N.C."). Roots are read in English letters and, failing that, in the other note names chord sheets
  use (``NOTATIONS``): German (H is B, B is B♭), Dutch/German suffixes (Bes, Es, As, Cis, Fis) and Latin solfège (Do,
  Re, Mi, Fa, Sol, La, Si); a chord remembers its ``notation`` and is written back in it. ``notation="german"`` or
  ``"latin"`` reads a whole sheet that way (then "B" is B♭, "Do" is C, not D°).
- ``infer_key(chords)``: the key a list of chord symbols is most likely in (for ChordPro files without ``{key:}``).
- Transposing instruments: ``SOUNDING`` (written → sounding interval per ``Transposition``), ``written_interval``,
  ``key_shift``; written ranges ``RANGES``/``range_for(part)``; clefs, ``ledger_lines`` and ``choose_octave``.

Spelling decisions (why a chord is written the way it is):
- A root whose pitch class belongs to the target key takes the key's spelling: B♭ (not A♯) in F major, F♯ (not G♭)
  in D major, whatever the source wrote.
- A chromatic root is written as the borrowed degree players expect: ♭II, ♭III, ♯IV, ♭VI, ♭VII in major; ♭II, ♮III,
  ♯IV, ♮VI, ♮VII in minor. Diminished and half-diminished chords lean sharp (they lead upward: C♯°7 in C, F♯ø7);
  a major or dominant chord on the tritone is ♭V (the tritone substitute G♭7 in C), not ♯IV.
- A slash bass is spelled from its chord's root (A/C♯, D/F♯, C/B♭), falling back to the key when that would take a
  double accidental.
- Keys themselves are simplified: transposing E major up an augmented unison gives F major, never E♯ major; six sharps
  or six flats keep the spelling the interval gives (F♯ and G♭ are both fine).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from soleil_ui.parts import INSTRUMENTS, PartRef, Role, Transposition

LETTERS = "CDEFGAB"
_NATURAL_PC = (0, 2, 4, 5, 7, 9, 11)
_FLAT_CHARS = {"b": -1, "♭": -1, "-": -1}
_SHARP_CHARS = {"#": 1, "♯": 1}
_ACCIDENTAL_TEXT = {-2: "bb", -1: "b", 0: "", 1: "#", 2: "##"}
_ACCIDENTAL_GLYPH = {-2: "𝄫", -1: "♭", 0: "", 1: "♯", 2: "𝄪"}
_PITCH = re.compile(r"([A-Ga-g])(bb|b|♭♭|♭|𝄫|##|#|♯♯|♯|𝄪|x)?(-?\d)?")


def _accidental(text: str | None) -> int:
    if not text:
        return 0
    if text in ("𝄫",):
        return -2
    if text in ("𝄪", "x"):
        return 2
    return sum(_FLAT_CHARS.get(ch, 0) + _SHARP_CHARS.get(ch, 0) for ch in text)


@dataclass(frozen=True, order=True)
class Pitch:
    """A spelled note: ``step`` 0-6 is C-B, ``alter`` -2..2 semitones, ``octave`` in scientific notation (C4 =
    middle C) or None for a pitch class."""

    step: int
    alter: int = 0
    octave: int | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.step <= 6:
            raise ValueError(f"step must be 0-6, not {self.step}")

    @classmethod
    def parse(cls, text: str) -> Pitch:
        """ "Bb", "B♭", "F#", "c##", "Ebb4", "C4"; raises ValueError for anything else."""
        match = _PITCH.fullmatch(text.strip())
        if not match:
            raise ValueError(f"not a note name: {text!r}")
        letter, acc, octave = match.groups()
        return cls(LETTERS.index(letter.upper()), _accidental(acc), int(octave) if octave else None)

    @property
    def letter(self) -> str:
        return LETTERS[self.step]

    @property
    def pc(self) -> int:
        """Pitch class, 0 = C."""
        return (_NATURAL_PC[self.step] + self.alter) % 12

    @property
    def midi(self) -> int:
        """MIDI note number (C4 = 60); the pitch needs an octave."""
        if self.octave is None:
            raise ValueError("a pitch class has no MIDI number")
        return 12 * (self.octave + 1) + _NATURAL_PC[self.step] + self.alter

    @property
    def diatonic(self) -> int:
        """Diatonic position (7 per octave, C0 = 0): what decides a note's line or space on the staff."""
        if self.octave is None:
            raise ValueError("a pitch class has no staff position")
        return self.octave * 7 + self.step

    def name(self, unicode: bool = False) -> str:
        """ "Bb" (ASCII, what chord charts are typed with) or "B♭"; the octave is never included."""
        table = _ACCIDENTAL_GLYPH if unicode else _ACCIDENTAL_TEXT
        return self.letter + table.get(self.alter, "?")

    def __str__(self) -> str:
        return self.name() + ("" if self.octave is None else str(self.octave))

    def transpose(self, interval: Interval) -> Pitch:
        """Move by an interval, keeping the spelling the interval implies (C up a major second is D, not E♭♭)."""
        total = self.step + interval.steps
        step, octave_change = total % 7, total // 7
        natural = _NATURAL_PC[step] + 12 * octave_change
        alter = _NATURAL_PC[self.step] + self.alter + interval.semitones - natural
        octave = None if self.octave is None else self.octave + octave_change
        if self.octave is None:
            alter = (alter + 6) % 12 - 6  # pitch classes: an octave is nothing
        return Pitch(step, alter, octave)

    def simplest(self) -> Pitch:
        """The same sounding pitch with at most one accidental and no E♯, B♯, F♭ or C♭ (keeps a sensible one)."""
        if not _odd(self):
            return self
        direction = 1 if self.alter > 0 else -1
        options = []
        for step in range(7):
            alter = (self.pc - _NATURAL_PC[step] + 6) % 12 - 6
            candidate = Pitch(step, alter)
            if not _odd(candidate):
                options.append((abs(alter), alter != direction, candidate))
        best = min(options)[2]
        if self.octave is None:
            return best
        octave = (self.midi - _NATURAL_PC[best.step] - best.alter) // 12 - 1
        return Pitch(best.step, best.alter, octave)


_ODD = {(5, 1), (0, 1), (4, -1), (11, -1)}  # E♯ (pc 5), B♯ (pc 0), F♭ (pc 4), C♭ (pc 11)


def _odd(p: Pitch) -> bool:
    """E♯, B♯, F♭, C♭ and any double accidental: spellings a chord chart should avoid unless the key has them."""
    return abs(p.alter) > 1 or (p.pc, p.alter) in _ODD


_QUALITY_OFFSETS_PERFECT = {"dd": -2, "d": -1, "P": 0, "A": 1, "AA": 2}
_QUALITY_OFFSETS_IMPERFECT = {"dd": -3, "d": -2, "m": -1, "M": 0, "A": 1, "AA": 2}
_INTERVAL = re.compile(r"([+-]?)(dd|d|D|DD|P|p|m|M|A|a|AA|aa)(\d{1,2})")


@dataclass(frozen=True)
class Interval:
    """A musical interval: signed diatonic ``steps`` (a second is 1, an octave 7) and signed ``semitones``.

    ``str()`` gives verovio's syntax ("+M2", "-m3", "P1", "-P8"); ``Interval.parse`` reads it back.
    """

    steps: int
    semitones: int

    @classmethod
    def parse(cls, text: str) -> Interval:
        match = _INTERVAL.fullmatch(text.strip())
        if not match:
            raise ValueError(f"not an interval: {text!r}")
        sign, quality, number = match.groups()
        if quality not in ("m", "M"):
            quality = quality.upper() if quality.upper() in ("P", "A", "AA") else quality.lower()
        size = int(number)
        if size < 1:
            raise ValueError(f"not an interval: {text!r}")
        steps = size - 1
        simple, octaves = steps % 7, steps // 7
        perfect = simple in (0, 3, 4)
        table = _QUALITY_OFFSETS_PERFECT if perfect else _QUALITY_OFFSETS_IMPERFECT
        if quality not in table:
            raise ValueError(f"not an interval: {text!r}")
        semitones = _NATURAL_PC[simple] + 12 * octaves + table[quality]
        direction = -1 if sign == "-" else 1
        return cls(direction * steps, direction * semitones)

    @classmethod
    def between(cls, low: Pitch, high: Pitch) -> Interval:
        """From ``low`` to ``high``. With octaves it is exact; for pitch classes it is the upward interval within
        an octave (C → B♭ is a minor seventh up, C → D♭♭ a diminished second)."""
        if low.octave is not None and high.octave is not None:
            return cls(high.diatonic - low.diatonic, high.midi - low.midi)
        steps = (high.step - low.step) % 7
        semitones = (high.pc - low.pc) % 12
        semitones = min((semitones - 12, semitones, semitones + 12), key=lambda s: abs(s - _NATURAL_PC[steps]))
        return cls(steps, semitones)

    @classmethod
    def nearest(cls, low: Pitch, high: Pitch) -> Interval:
        """The smaller way from one pitch class to the other: B♭ → C is up a major second, B♭ → G down a minor
        third. A tritone goes up."""
        up = cls.between(low, high)
        down = up - OCTAVE
        return up if up.semitones <= 6 else down

    def __add__(self, other: Interval) -> Interval:
        return Interval(self.steps + other.steps, self.semitones + other.semitones)

    def __sub__(self, other: Interval) -> Interval:
        return Interval(self.steps - other.steps, self.semitones - other.semitones)

    def __neg__(self) -> Interval:
        return Interval(-self.steps, -self.semitones)

    def octaves(self, count: int) -> Interval:
        """This interval moved by ``count`` octaves (a major sixth down an octave is a minor third down)."""
        return self + Interval(7 * count, 12 * count)

    @property
    def descending(self) -> bool:
        return self.steps < 0 or (self.steps == 0 and self.semitones < 0)

    @property
    def quality(self) -> str:
        """ "P", "M", "m", "A", "d", "AA", "dd"...; "?" for nonsense such as a second of ten semitones."""
        steps, semitones = (-self.steps, -self.semitones) if self.descending else (self.steps, self.semitones)
        simple, octaves = steps % 7, steps // 7
        offset = semitones - _NATURAL_PC[simple] - 12 * octaves
        table = _QUALITY_OFFSETS_PERFECT if simple in (0, 3, 4) else _QUALITY_OFFSETS_IMPERFECT
        return next((name for name, value in table.items() if value == offset), "?")

    def __str__(self) -> str:
        steps = abs(self.steps)
        if steps == 0 and self.semitones == 0:
            return "P1"
        return ("-" if self.descending else "+") + self.quality + str(steps + 1)

    def name(self) -> str:
        """Words for people: "up a major second", "down a minor third"."""
        if self.steps == 0 and self.semitones == 0:
            return "as written"
        words = {"P": "perfect", "M": "major", "m": "minor", "A": "augmented", "d": "diminished",
                 "AA": "doubly augmented", "dd": "doubly diminished"}.get(self.quality, "odd")
        steps = abs(self.steps)
        number = {0: "unison", 1: "second", 2: "third", 3: "fourth", 4: "fifth", 5: "sixth", 6: "seventh",
                  7: "octave", 8: "ninth", 9: "tenth", 11: "twelfth", 14: "two octaves"}.get(steps, f"{steps + 1}th")
        if steps in (7, 14) and self.quality == "P":
            words, number = "", number
        return f"{'down' if self.descending else 'up'} {'an' if (words or number)[0] in 'aeiou' else 'a'} " + \
            f"{words} {number}".strip()


UNISON = Interval(0, 0)
OCTAVE = Interval(7, 12)


def semitone_interval(semitones: int, prefer_sharps: bool = True) -> Interval:
    """The usual interval for a semitone count (6 is an augmented fourth with sharps, a diminished fifth with
    flats); octaves are kept."""
    octaves, simple = divmod(semitones, 12)
    steps = {0: 0, 1: 1, 2: 1, 3: 2, 4: 2, 5: 3, 6: 3 if prefer_sharps else 4, 7: 4, 8: 5, 9: 5, 10: 6, 11: 6}[simple]
    return Interval(steps + 7 * octaves, semitones)


_MAJOR_FIFTHS = {0: 0, 1: 2, 2: 4, 3: -1, 4: 1, 5: 3, 6: 5}  # C D E F G A B major → sharps (+) / flats (-)
_KEY = re.compile(
    r"\s*([A-Ga-g])\s*(bb|b|♭|#|♯|-?flat|-?sharp|\s+flat|\s+sharp)?\s*"
    r"(m|min|minor|mi|-|maj|major|ma|M|dur|moll)?\s*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Key:
    """A key: its tonic (a pitch class) and mode. Minor keys share their relative major's key signature."""

    tonic: Pitch
    minor: bool = False

    def __post_init__(self) -> None:
        if self.tonic.octave is not None:
            object.__setattr__(self, "tonic", Pitch(self.tonic.step, self.tonic.alter))

    @classmethod
    def parse(cls, text: str) -> Key:
        """ "Eb", "E♭", "Ebm", "E-flat minor", "Bb major", "F#m", "c" (lower case alone is still major)."""
        match = _KEY.fullmatch(text or "")
        if not match:
            raise ValueError(f"not a key: {text!r}")
        letter, acc, mode = match.groups()
        acc = (acc or "").strip().lower().lstrip("-")
        alter = {"flat": -1, "sharp": 1}.get(acc, _accidental(acc))
        minor = bool(mode) and mode.lower() in ("m", "min", "minor", "mi", "-", "moll") and mode != "M"
        return cls(Pitch(LETTERS.index(letter.upper()), alter), minor)

    @classmethod
    def try_parse(cls, text: str | None) -> Key | None:
        try:
            return cls.parse(text) if text and text.strip() else None
        except ValueError:
            return None

    @classmethod
    def from_fifths(cls, fifths: int, minor: bool = False) -> Key:
        """The key with this many sharps (positive) or flats (negative): 0 → C major (A minor), -2 → B♭ major."""
        tonic = C.transpose(Interval(4 * fifths, 7 * fifths))  # up a fifth per sharp
        tonic = Pitch(tonic.step, tonic.alter)
        if minor:
            tonic = tonic.transpose(Interval(-2, -3))
        return cls(tonic, minor)

    @property
    def fifths(self) -> int:
        """Sharps (positive) or flats (negative) in the key signature."""
        major_tonic = self.tonic.transpose(Interval(2, 3)) if self.minor else self.tonic
        return _MAJOR_FIFTHS[major_tonic.step] + 7 * major_tonic.alter

    @property
    def scale(self) -> tuple[Pitch, ...]:
        """The seven notes of the key (natural minor for minor keys)."""
        steps = (0, 2, 3, 5, 7, 8, 10) if self.minor else (0, 2, 4, 5, 7, 9, 11)
        return tuple(self.tonic.transpose(Interval(i, s)) for i, s in enumerate(steps))

    def name(self, unicode: bool = False) -> str:
        """ "Bb", "Gm", "F♯m"."""
        return self.tonic.name(unicode) + ("m" if self.minor else "")

    def __str__(self) -> str:
        return self.name()

    def spell(self, pc: int, *, lean: int = 0) -> Pitch:
        """How this key writes a pitch class: its own scale note, or the usual chromatic degree (see module doc).
        ``lean`` +1 prefers the raised degree (diminished chords lead upward), -1 the lowered one."""
        pc %= 12
        scale = self.scale
        for note in scale:
            if note.pc == pc:
                return note
        degree = (pc - self.tonic.pc) % 12
        raised = {1: False, 3: False, 6: True, 8: False, 10: False}
        if self.minor:
            raised = {1: False, 4: True, 6: True, 9: True, 11: True}
        up = raised.get(degree, True) if lean == 0 else lean > 0
        below = next(n for n in scale if (n.pc + 1) % 12 == pc) if any((n.pc + 1) % 12 == pc for n in scale) else None
        above = next(n for n in scale if (n.pc - 1) % 12 == pc) if any((n.pc - 1) % 12 == pc for n in scale) else None
        options = []
        if below is not None:
            options.append((not up, Pitch(below.step, below.alter + 1)))
        if above is not None:
            options.append((up, Pitch(above.step, above.alter - 1)))
        options.sort(key=lambda o: (abs(o[1].alter) > 1, _odd(o[1]), o[0]))
        return options[0][1] if options else Pitch(0).transpose(Interval(0, pc)).simplest()

    def contains(self, pitch: Pitch) -> bool:
        return any(note.pc == pitch.pc for note in self.scale)


C = Pitch(0)


def transpose_key(key: Key, interval: Interval) -> tuple[Key, Interval]:
    """The key moved by ``interval``, and the interval actually used: when the plain result would need seven or
    more sharps or flats, it is respelled (C♯ major → D♭ major) and the interval adjusted to match (A1 → m2), so
    notes and chords follow the simpler key."""
    best = interval
    result = Key(key.tonic.transpose(interval), key.minor)
    if abs(result.fifths) > 6:
        for delta in (1, -1):
            candidate = Interval(interval.steps + delta, interval.semitones)
            other = Key(key.tonic.transpose(candidate), key.minor)
            if abs(other.fifths) < abs(result.fifths) and abs(other.tonic.alter) <= 1:
                best, result = candidate, other
    return result, best


def key_shift(source: Key, target: Key) -> Interval:
    """The nearest way from one key's tonic to another's (up to a tritone either way), spelled as written:
    B♭ → C is up a major second, B♭ → G down a minor third."""
    return Interval.nearest(source.tonic, target.tonic)


# --- Chord symbols --------------------------------------------------------------------------------------------------

_ROOT = re.compile(r"([A-G])(bb|b|♭|##|#|♯)?")
_SUFFIX_PIECES = (
    r"maj|Maj|MAJ|ma|Ma|M|Δ|∆|△|\^|min|mi|m|-|dim|°|o|ø|Ø|aug|\+|sus|add|alt|omit|no|[#b♯♭]|\d{1,2}|\(|\)|,|/(?=\d)|\s"
)
_SUFFIX = re.compile(rf"(?:{_SUFFIX_PIECES})*")


NOTATIONS = ("", "german", "dutch", "latin")  # English letters; H/B; Bes/Cis/Es; Do/Re/Mi
_SOLFEGE = {"do": 0, "ut": 0, "re": 1, "ré": 1, "mi": 2, "fa": 3, "sol": 4, "so": 4, "la": 5, "si": 6, "ti": 6}
_SOLFEGE_NAMES = ("Do", "Re", "Mi", "Fa", "Sol", "La", "Si")
_LATIN_DO = re.compile(r"Do(?:[#b♯♭]|m(?!aj))")  # "Do#", "Dob", "Dom7": Latin C, never an English D°
_OTHER_ROOT = re.compile(r"(Do|Ut|Ré|Re|Mi|Fa|Sol|La|Si)(bb|b|♭|##|#|♯)?|(H|[A-G])(eses|isis|es|is|s)?")


def _other_root(text: str, notation: str) -> tuple[Pitch, str, int] | None:
    """A root in German, Dutch or Latin note names at the start of ``text``: (pitch, notation, length)."""
    match = _OTHER_ROOT.match(text)
    if not match:
        return None
    if match.group(1):
        step = _SOLFEGE[match.group(1).lower()]
        return Pitch(step, _accidental(match.group(2))), "latin", match.end()
    letter, ending = match.group(3), match.group(4) or ""
    if ending == "s" and letter not in "AE":  # "As", "Es" only; "Bs", "Cs" are nothing
        return None
    alter = {"": 0, "es": -1, "s": -1, "eses": -2, "is": 1, "isis": 2}[ending]
    if letter == "H":
        return Pitch(6, alter), "german", match.end()
    if letter == "B" and notation == "german" and not ending:
        return Pitch(6, -1), "german", match.end()
    if not ending:
        return None
    return Pitch(LETTERS.index(letter), alter), "german" if notation == "german" else "dutch", match.end()


def root_name(pitch: Pitch, notation: str = "", unicode: bool = False) -> str:
    """A chord root in a sheet's note names: "B♭" (English), "B" (German), "Bes" (Dutch), "Sib" (Latin)."""
    if notation == "latin":
        return _SOLFEGE_NAMES[pitch.step] + (_ACCIDENTAL_GLYPH if unicode else _ACCIDENTAL_TEXT).get(pitch.alter, "?")
    if notation in ("german", "dutch"):
        if notation == "german" and pitch.step == 6 and pitch.alter in (0, -1):
            return "H" if pitch.alter == 0 else "B"
        if pitch.alter == 0:
            return pitch.letter
        if pitch.alter > 0:
            return pitch.letter + "is" * pitch.alter
        if pitch.letter in "AE" and pitch.alter == -1:
            return pitch.letter + "s"
        return pitch.letter + "es" * -pitch.alter
    return pitch.name(unicode)


@dataclass(frozen=True)
class Chord:
    """A chord symbol: ``root``, the rest as written (``suffix``: "m7b5", "7#9b13", "(maj7)"), a slash bass, and the
    note names it was written in (``notation``, see ``NOTATIONS``)."""

    root: Pitch
    suffix: str = ""
    bass: Pitch | None = None
    notation: str = ""

    def text(self, unicode: bool = False) -> str:
        """ "Bb7/D" or, for display, "B♭7/D" (flats and sharps in the extensions become ♭ and ♯ too); a German, Dutch
        or Latin chord in its own note names ("H7", "Fism", "Sib7")."""
        suffix = self.suffix
        if unicode:
            suffix = re.sub(r"b(?=\d)", "♭", re.sub(r"#(?=\d)", "♯", suffix))
        bass = "/" + root_name(self.bass, self.notation, unicode) if self.bass is not None else ""
        return root_name(self.root, self.notation, unicode) + suffix + bass

    def __str__(self) -> str:
        return self.text()

    @property
    def quality(self) -> str:
        """ "major", "minor", "dominant", "diminished", "half-diminished", "augmented" or "sus" (for spelling and
        tests; the suffix itself is never rewritten)."""
        s = self.suffix.replace(" ", "")
        if s.startswith(("ø", "Ø")) or re.match(r"(m|mi|min|-)7?\(?(b|♭)5", s):
            return "half-diminished"
        if s.startswith(("dim", "°", "o")):
            return "diminished"
        if s.startswith(("aug", "+")) or re.match(r"\d*(#|♯)5", s):
            return "augmented"
        if re.match(r"(m|mi|min|-)(?!a)", s) and not s.startswith(("maj", "ma", "Maj")):
            return "minor"
        if "sus" in s:
            return "sus"
        if re.match(r"(7|9|11|13)", s):
            return "dominant"
        return "major"

    def transposed(self, semitones: int, key: Key | None = None) -> Chord:
        """Moved by ``semitones`` and spelled for ``key`` (the target key; without one, the simplest spelling)."""
        pc = (self.root.pc + semitones) % 12
        if key is not None:
            root = key.spell(pc, lean=self._lean(key, pc))
        else:
            root = self.root.transpose(semitone_interval(semitones % 12)).simplest()
            root = Pitch(root.step, root.alter)
        bass = None
        if self.bass is not None:
            bass = _spell_bass(root, (self.bass.pc - self.root.pc) % 12, key)
        return Chord(root, self.suffix, bass, self.notation)

    def _lean(self, key: Key, pc: int) -> int:
        """Diminished chords lead upward (C♯°7, F♯ø7: sharps); a dominant or major chord a tritone from the tonic
        is the ♭V (a tritone substitute: G♭7 in C), not ♯IV."""
        if self.quality in ("diminished", "half-diminished"):
            return 1
        if (pc - key.tonic.pc) % 12 == 6 and self.quality in ("dominant", "major", "augmented", "sus"):
            return -1
        return 0


def _spell_bass(root: Pitch, semitones: int, key: Key | None) -> Pitch:
    """A slash bass spelled as the chord tone it is (A/C♯, C/B♭), else by the key."""
    bass = root.transpose(semitone_interval(semitones, prefer_sharps=False if semitones == 6 else True))
    bass = Pitch(bass.step, bass.alter)
    if _odd(bass) and not (key is not None and key.contains(bass) and bass in key.scale):
        return key.spell(bass.pc) if key is not None else bass.simplest()
    if key is not None and key.contains(bass) and bass not in key.scale:
        return key.spell(bass.pc)
    return bass


def parse_chord(text: str, notation: str = "") -> Chord | None:
    """A chord symbol ("Bb7", "Am7b5", "C7#9b13", "Em(maj7)", "D7sus4", "G7/B", "C6/9", "C△7"), else None ("N.C.",
    "Chorus", "x2"). English letters first, then German, Dutch and Latin note names ("H7", "Bes", "Fism", "Solm7");
    with ``notation`` "german" a plain B is B♭, with "latin" solfège is read first ("Do" is C, not D°)."""
    text = text.strip()
    if notation in ("german", "latin") or _LATIN_DO.match(text):
        found = _parse_chord(text, notation, first=True)
        if found is not None:
            return found
    return _parse_chord(text, notation, first=False)


def _root(text: str, notation: str, english: bool) -> tuple[Pitch, str, int] | None:
    if english:
        match = _ROOT.match(text)
        return (Pitch(LETTERS.index(match.group(1)), _accidental(match.group(2))), "", match.end()) if match else None
    return _other_root(text, notation)


def _parse_chord(text: str, notation: str, *, first: bool) -> Chord | None:
    for english in ((False,) if first else (True, False)):
        root = _root(text, notation, english)
        if root is None:
            continue
        pitch, found, end = root
        rest = text[end:]
        bass = None
        slash = rest.rfind("/")
        if slash >= 0 and not rest[slash + 1:slash + 2].isdigit():
            bass_text = rest[slash + 1:].strip()
            bass_root = next((r for r in (_root(bass_text, found or notation, e) for e in (english, not english))
                              if r is not None and r[2] == len(bass_text)), None)
            if bass_root is None:
                continue
            bass = bass_root[0]
            rest = rest[:slash]
        if not _SUFFIX.fullmatch(rest) or rest.strip() != rest:
            continue
        return Chord(pitch, rest, bass, found or notation)
    return None


def transpose_chord_text(text: str, semitones: int, key: Key | None = None, *, unicode: bool = False,
                         notation: str = "") -> str:
    """A chord symbol moved and respelled; text that isn't a chord symbol ("N.C.", a ChordPro "*annotation") is
    returned unchanged. ``notation`` is the song's note naming, as for ``parse_chord`` (a German "B" is B♭)."""
    chord = parse_chord(text, notation)
    if chord is None:
        return text
    return chord.transposed(semitones, key).text(unicode)


def infer_key(chords: Iterable[Chord]) -> Key | None:
    """The major or minor key whose diatonic chords best cover these chord roots; the first and last chords break
    ties (songs usually start or end on the tonic). None without chords."""
    chords = list(chords)
    if not chords:
        return None
    counts: dict[int, int] = {}
    for chord in chords:
        counts[chord.root.pc] = counts.get(chord.root.pc, 0) + 1
    first, last = chords[0], chords[-1]
    best: tuple[tuple[float, ...], Key] | None = None
    for fifths in range(-6, 7):
        for minor in (False, True):
            key = Key.from_fifths(fifths, minor)
            scale_pcs = {n.pc for n in key.scale}
            covered = sum(n for pc, n in counts.items() if pc in scale_pcs)
            tonic_bonus = sum(0.75 for c in (first, last) if c.root.pc == key.tonic.pc
                              and (c.quality in ("minor", "half-diminished")) == minor)
            score = (covered + tonic_bonus, -abs(fifths), not minor)
            if best is None or score > best[0]:
                best = (score, key)
    assert best is not None
    return best[1]


# --- Transposing instruments, ranges, clefs, octaves ----------------------------------------------------------------

Clef = Literal["treble", "bass"]

# Written → sounding: a B♭ trumpet's written D sounds C (down a major second). Octaves are left to ``choose_octave``.
SOUNDING: dict[Transposition, Interval] = {
    Transposition.CONCERT: UNISON,
    Transposition.BB: Interval.parse("-M2"),
    Transposition.EB: Interval.parse("-M6"),
    Transposition.F: Interval.parse("-P5"),
    Transposition.BASS_CLEF: UNISON,
}


def transposition_of(sounding: Interval) -> Transposition | None:
    """The generic part a written → sounding interval belongs to (-M2 or -M9: B♭); None for A, D or E♭ clarinet
    style keys this app has no generic part for."""
    return {0: Transposition.CONCERT, 10: Transposition.BB, 3: Transposition.EB, 5: Transposition.F}.get(
        sounding.semitones % 12)


def written_interval(staff_sounding: Interval, target_sounding: Interval, shift: Interval = UNISON) -> Interval:
    """What to move a staff's written notes by so that a target instrument reads them: to sounding pitch, by the
    night's key ``shift``, then to the target's written pitch. Concert → B♭ is up a major second."""
    return staff_sounding + shift - target_sounding


@dataclass(frozen=True)
class Range:
    """A comfortable written range, as MIDI note numbers (C4 = 60)."""

    low: int
    high: int

    def outside(self, midi: int) -> int:
        """Semitones beyond the range (0 inside)."""
        return max(0, self.low - midi, midi - self.high)


# Written ranges a section player reads comfortably, not the extremes of the instrument.
RANGES: dict[Transposition, Range] = {
    Transposition.CONCERT: Range(55, 84),  # G3-C6: flute, violin, voice, keys lead sheets
    Transposition.BB: Range(55, 84),  # G3-C6 written: trumpet, clarinet, tenor and soprano sax
    Transposition.EB: Range(58, 89),  # B♭3-F6 written: alto and bari sax
    Transposition.F: Range(53, 79),  # F3-G5 written: horn
    Transposition.BASS_CLEF: Range(40, 70),  # E2-B♭4: trombone, euphonium, cello, bassoon
}
INSTRUMENT_RANGES: dict[str, Range] = {
    "piccolo": Range(62, 93), "flute": Range(60, 93), "oboe": Range(58, 89), "clarinet": Range(52, 91),
    "bass_clarinet": Range(52, 84), "bassoon": Range(34, 72), "soprano_sax": Range(58, 89),
    "alto_sax": Range(58, 89), "tenor_sax": Range(58, 89), "bari_sax": Range(58, 89),
    "french_horn": Range(53, 79), "mellophone": Range(54, 82), "trumpet": Range(54, 84),
    "flugelhorn": Range(54, 81), "cornet": Range(54, 82), "trombone": Range(40, 72), "bass_trombone": Range(34, 65),
    "euphonium": Range(40, 72), "tuba": Range(28, 58), "violin": Range(55, 93), "viola": Range(53, 84),
    "cello": Range(36, 72), "vibes": Range(53, 89), "piano": Range(36, 96), "keys": Range(36, 96),
    "organ": Range(36, 96), "guitar": Range(52, 86), "bass": Range(40, 67), "vocals": Range(55, 81),
    "english_horn": Range(59, 86), "alto_clarinet": Range(52, 86), "contrabassoon": Range(34, 67),
    "tenor_horn": Range(54, 82), "soprano_cornet": Range(54, 82), "baritone_horn": Range(54, 82),
    "harp": Range(36, 96), "mallets": Range(53, 89), "timpani": Range(38, 57),
}
# Read in bass clef: every instrument the instrument table (``parts.INSTRUMENTS``, the one source of truth) files
# under Bass clef, and timpani, which are written in bass clef but have no generic part to be filed under. A
# baritone horn reads B♭ treble clef (its bass-clef parts are filed as Euphonium/Bass clef by the name parser).
BASS_CLEF_INSTRUMENTS = frozenset(
    {key for key, inst in INSTRUMENTS.items() if inst.transposition is Transposition.BASS_CLEF} | {"timpani"})


def range_for(part: PartRef) -> Range:
    """The written range to aim for when generating ``part``."""
    if part.instrument is not None and part.instrument in INSTRUMENT_RANGES:
        return INSTRUMENT_RANGES[part.instrument]
    if part.role is not None and part.role is not Role.OWN:
        return RANGES[Transposition.CONCERT]
    return RANGES.get(Transposition(part.transposition), RANGES[Transposition.CONCERT]) if part.transposition \
        else RANGES[Transposition.CONCERT]


def clef_for(part: PartRef) -> Clef:
    """The clef a part is read in: bass for Bass clef parts and bass-clef instruments, else treble."""
    if part.instrument is not None:
        return "bass" if part.instrument in BASS_CLEF_INSTRUMENTS else "treble"
    return "bass" if part.transposition == Transposition.BASS_CLEF and part.role is None else "treble"


_STAFF = {"treble": (30, 38), "bass": (18, 26)}  # diatonic positions of the bottom and top lines (E4-F5, G2-A3)


KEEP_OCTAVE_SLACK = 3  # semitones a key change may push a part past its comfortable range before it changes octave


def ledger_lines(pitch: Pitch, clef: Clef) -> int:
    """Ledger lines a written note needs on this clef (C4 on treble: 1; A5: 1; C6: 2; D4: 0)."""
    bottom, top = _STAFF[clef]
    d = pitch.diatonic
    return max(0, (bottom - d) // 2, (d - top) // 2)


def choose_octave(
    pitches: Sequence[Pitch],
    interval: Interval,
    written: Range,
    clef: Clef,
    *,
    as_written: bool = False,
    candidates: Iterable[int] = (-2, -1, 0, 1, 2),
    keep_octave: bool = False,
) -> int:
    """How many octaves to add to ``interval`` so the written notes sit best: first inside the ``written`` range
    (fewest semitones outside it), then with the fewest ledger lines on ``clef``, then the smallest move.

    ``as_written`` (a part read as written, e.g. Trumpet 2 from its own staff, or Concert from a concert staff)
    skips the ledger-line criterion: the octave only changes when notes would leave the range; ties go to the
    smallest move. ``keep_octave`` is stricter still: no octave is added unless a note leaves the range by more
    than ``KEEP_OCTAVE_SLACK`` semitones and all fit in another octave (for the night's key: a part that was
    playable doesn't jump an octave because the band plays it a tone higher).
    """
    if keep_octave:
        def worst(k: int) -> int:
            return max((written.outside(p.transpose(interval.octaves(k)).midi) for p in pitches), default=0)
        if worst(0) <= KEEP_OCTAVE_SLACK:
            return 0
        fitting = [k for k in candidates if k and worst(k) == 0]
        return min(fitting, key=abs) if fitting else 0
    best: tuple[tuple[int, int, int], int] | None = None
    for k in candidates:
        moved = interval.octaves(k)
        out = ledgers = 0
        for p in pitches:
            q = p.transpose(moved)
            out += written.outside(q.midi)
            ledgers += 0 if as_written else ledger_lines(q, clef)
        score = (out, ledgers, abs(moved.semitones))
        if best is None or score < best[0]:
            best = (score, k)
    return best[1] if best is not None else 0
