"""Instruments, parts and chairs, and which chart a musician should read. Pure Python, no I/O.

A chart is written for a transposition (Concert, B♭, E♭, F, Bass clef), for a role (Chords, Lyrics), or for
one instrument and chair (Trumpet 2, Alto Sax, Drums). A member plays instruments in order, primary first.

Public API:
- ``Transposition``, ``Role``: what a generic part is written for. ``Role.OWN`` marks an instrument's own part.
- ``Instrument``, ``INSTRUMENTS`` (key → Instrument, in score order), ``find_instrument(text)``.
- ``PartRef``: one part. ``label()`` / ``noun()`` for people; ``key()`` / ``PartRef.from_key()`` (strict) /
  ``PartRef.try_from_key()`` (None on junk) for the database; ``ALL_PARTS``: every part a file can be filed as.
- ``MemberInstrument``, ``members_from_json(rows, reading)``: what a member plays and how they read
  (``Membership.instruments``, ``Membership.reading``); ``reading_choices(instrument)``: the ways one may read.
- ``best_part(member, available, leader=False) -> ChartMatch``: the chart to put on the stand, with a human explanation.
  Never raises: with nothing readable it returns quality ``"none"`` and the parts the song does have.
- ``rank_parts(member, available)``: every readable part, best first (for a "switch part" menu).
- ``readable_parts(member)`` / ``readable_keys(member)``: the preference list over all possible parts, so the
  library can ask SQL for "songs playable for me" with ``part_key IN (...)``.
- ``sort_parts(parts)``: the canonical display order; ``fold(text)``: the text folding every comparison uses;
  ``camel_cuts(word)`` / ``split_camel(text)``: where CamelCase splits words ("TakeFive" → "Take Five").

Ranking (why a part is chosen) is documented on ``best_part``.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

MAX_CHAIR = 9  # matches the member form; nobody sits in a tenth chair


class Transposition(StrEnum):
    CONCERT = "concert"  # C, treble clef
    BB = "bb"
    EB = "eb"
    F = "f"
    BASS_CLEF = "bass_clef"  # concert pitch, bass clef


class Role(StrEnum):
    CHORDS = "chords"
    LYRICS = "lyrics"
    OWN = "own"  # an instrument's own part (Trumpet 2, Drums); only ever paired with an instrument
    SCORE = "score"  # a full or conductor's score: every staff, for leaders; offered last to others


Target = Transposition | Role | str  # a fallback: a generic part, a role chart, or another instrument's own part

_T = Transposition


@dataclass(frozen=True)
class Instrument:
    """What an instrument reads. ``transposition`` is the generic part it reads as written (None: unpitched).

    ``role`` is the role chart it reads before any transposed part (Chords for the rhythm section, Lyrics for
    voice). ``family``: instruments whose own parts it plays as written (keys ↔ piano). ``fallbacks``: the
    "nearest readable" parts, in order; None means the default for its transposition (see ``best_part``).
    """

    key: str
    name: str
    transposition: Transposition | None
    aliases: tuple[str, ...] = ()
    rhythm: bool = False
    role: Role | None = None
    family: tuple[str, ...] = ()
    fallbacks: tuple[Target, ...] | None = None


def _i(key: str, name: str, t: Transposition | None, aliases: str, **kw: Any) -> Instrument:
    """Table shorthand: aliases as one comma-separated string; the rhythm section reads Chords by default."""
    rhythm = kw.pop("rhythm", False)
    role = kw.pop("role", Role.CHORDS if rhythm else None)
    return Instrument(key, name, t, tuple(a.strip() for a in aliases.split(",") if a.strip()), rhythm, role, **kw)


_CHORD_FALLBACKS: tuple[Target, ...] = (_T.CONCERT, Role.LYRICS)  # lead sheets carry the changes
# Aliases: English abbreviations first, then German, French, Italian and Spanish names (accents and case don't
# matter; see ``fold``). A word that means two instruments is in neither ("Alto" is a viola in French: the alto
# sax keeps it; German "Bariton" is read by the file-name parser, which knows its clef).
INSTRUMENTS: dict[str, Instrument] = {i.key: i for i in (
    _i("piccolo", "Piccolo", _T.CONCERT, "picc, pic, piccolo flute, piccoloflote, kleine flote, petite flute, "
       "ottavino, flautin, flautino"),
    _i("flute", "Flute", _T.CONCERT, "flutes, fl, flt, flote, floten, querflote, querfloten, grosse flote, "
       "flute traversiere, flauto, flauti, flauto traverso, flauta, flautas"),
    _i("oboe", "Oboe", _T.CONCERT, "ob, oboes, oboen, hautbois, oboi"),
    _i("english_horn", "English Horn", _T.F, "english horns, eng hn, e hn, cor anglais, coranglais, cor ang, "
       "englischhorn, corno inglese, corno ingles"),
    _i("clarinet", "Clarinet", _T.BB, "clarinets, cl, clar, clt, clarinetto piccolo, petite clarinette, "
       "klar, klarinette, klarinetten, clarinette, clarinettes, clarinetto, clarinetti, clarinete, clarinetes"),
    _i("alto_clarinet", "Alto Clarinet", _T.EB, "alto cl, alto clar, altklarinette, clarinette alto, "
       "clarinetto contralto, clarinete alto"),
    _i("bass_clarinet", "Bass Clarinet", _T.BB, "bass cl, bcl, b cl, bass clar, bassclarinet, bass clarinets, "
       "bassklarinette, clarinette basse, clarinetto basso, clarinete bajo"),
    _i("bassoon", "Bassoon", _T.BASS_CLEF, "bsn, bassoons, fagott, fagotte, basson, bassons, fagotto, fagotti, fagot"),
    _i("contrabassoon", "Contrabassoon", _T.BASS_CLEF, "cbsn, contra bassoon, double bassoon, kontrafagott, "
       "contrebasson, controfagotto, contrafagot"),
    _i("soprano_sax", "Soprano Sax", _T.BB, "soprano, sop, sop sax, ss, s sax, soprano saxophone, sopransaxophon, "
       "sopransax, saxophone soprano, sax soprano, saxofono soprano, saxofon soprano, saxo soprano"),
    _i("alto_sax", "Alto Sax", _T.EB, "alto, altos, as, a sax, asax, alto saxophone, alto saxes, altosax, "
       "altsaxophon, altsax, saxophone alto, sax alto, sax contralto, saxofono contralto, saxofon alto, saxo alto"),
    _i("tenor_sax", "Tenor Sax", _T.BB, "tenor, tenors, ts, t sax, tsax, ten sax, tenor saxophone, tenor saxes, "
       "tenorsax, tenorsaxophon, saxophone tenor, sax tenor, sax tenore, saxofono tenore, saxofon tenor, saxo tenor"),
    _i("bari_sax", "Bari Sax", _T.EB, "bari, bar sax, bari saxophone, baritone, baritone sax, baritone saxophone, "
       "barisax, bs, baritonsaxophon, baritonsax, saxophone baryton, sax baryton, sax baritono, saxofono baritono, "
       "saxofon baritono, saxo baritono",
       fallbacks=(_T.BASS_CLEF, _T.CONCERT, Role.CHORDS)),  # bass clef read as treble lands in bari's octave
    _i("french_horn", "French Horn", _T.F, "horn, hn, hrn, hr, fr hn, french horns, f horn, waldhorn, waldhorner, cor, "
       "cors, corno, corni, trompa, trompas"),
    _i("tenor_horn", "Tenor Horn", _T.EB, "tenor horns, alto horn, alto horns, althorn, ten hn, flicorno contralto"),
    _i("mellophone", "Mellophone", _T.F, "mello"),
    _i("trumpet", "Trumpet", _T.BB, "trumpets, tpt, tpts, trp, trpt, tp, trompete, trompeten, trompette, trompettes, "
       "tromba, trombe, trompeta, trompetas"),
    _i("soprano_cornet", "Soprano Cornet", _T.EB, "sop cornet, sop cnt, sop crt, soprano cnt, eb cornet"),
    _i("cornet", "Cornet", _T.BB, "cornets, crt, cnt, repiano, repiano cornet, cornet a pistons, kornett, cornetta, "
       "corneta"),
    _i("flugelhorn", "Flugelhorn", _T.BB, "flugel, flugel horn, fluegelhorn, flg, flgh, flh, flugelhorns, "
       "flugelhorner, bugle, bugles, flicorno, flicorno soprano, fliscorno"),
    _i("trombone", "Trombone", _T.BASS_CLEF, "trombones, tbn, tbne, trb, tromb, bone, bones, tenor trombone, posaune, "
       "posaunen, pos, tenorposaune, tromboni, trombon"),
    _i("bass_trombone", "Bass Trombone", _T.BASS_CLEF, "bass tbn, btbn, b tbn, bass bone, btrb, b trb, bassposaune, "
       "trombone basse, trombone basso, trombon bajo"),
    _i("baritone_horn", "Baritone Horn", _T.BB, "baritone horns, bar hn, bari horn, tenorhorn, tenorhorner, "
       "saxhorn baryton, flicorno tenore",
       fallbacks=(_T.CONCERT, "euphonium", Role.CHORDS)),  # the brass-band baritone reads treble-clef B♭
    _i("euphonium", "Euphonium", _T.BASS_CLEF, "euph, euphoniums, eufonio, eufonium, bombardino",
       fallbacks=(_T.BB, "bass", _T.CONCERT, Role.CHORDS)),  # brass-band euphs read treble-clef B♭
    _i("tuba", "Tuba", _T.BASS_CLEF, "tba, sousaphone, sousa, tubas, tuben, basstuba, bass tuba, basso tuba"),
    _i("violin", "Violin", _T.CONCERT, "violins, vln, vn, vl, fiddle, violine, violinen, geige, violon, violons, "
       "violino, violini, violines"),
    # alto clef parts are rare in a band library: violas read concert
    _i("viola", "Viola", _T.CONCERT, "vla, va, violas, bratsche, viole"),
    _i("cello", "Cello", _T.BASS_CLEF, "cellos, vc, vlc, violoncello, violoncelli, celli, violoncelle, violonchelo, "
       "chelo"),
    _i("harp", "Harp", _T.CONCERT, "harps, hp, harfe, harpe, arpa", rhythm=True, role=None,
       fallbacks=(_T.CONCERT, Role.CHORDS)),  # rhythm: never someone else's "same key" part
    _i("vibes", "Vibes", _T.CONCERT, "vibraphone, vib, vibe, vibraphon, vibrafono, vibrafon"),
    _i("mallets", "Mallets", _T.CONCERT, "mallet percussion, mallet perc, glockenspiel, glock, bells, orchestra bells, "
       "xylophone, xylophon, xilofono, xylo, marimba, marimbaphon, chimes, tubular bells, crotales, campanelli, lira",
       rhythm=True, role=None, family=("vibes",), fallbacks=("percussion", _T.CONCERT)),
    _i("timpani", "Timpani", None, "timp, timps, tymp, tympani, timpano, pauken, pauke, timbales chromatiques",
       rhythm=True, role=None, family=("percussion",), fallbacks=(_T.BASS_CLEF,)),
    _i("piano", "Piano", _T.CONCERT, "pno, pf, pianoforte, acoustic piano, klavier, piano conductor", rhythm=True,
       family=("keys", "organ"), fallbacks=_CHORD_FALLBACKS),
    _i("keys", "Keys", _T.CONCERT, "keyboard, keyboards, kbd, kbds, kb, synth, synthesizer, rhodes, electric piano, "
       "celesta, celeste, tastiera, teclado", rhythm=True, family=("piano", "organ"), fallbacks=_CHORD_FALLBACKS),
    _i("organ", "Organ", _T.CONCERT, "org, hammond, hammond organ, orgel, orgue, organo", rhythm=True,
       family=("keys", "piano"), fallbacks=_CHORD_FALLBACKS),
    _i("guitar", "Guitar", _T.CONCERT, "guitars, gtr, gtrs, guit, electric guitar, acoustic guitar, rhythm guitar, "
       "lead guitar, banjo, gitarre, git, e git, e gitarre, guitare, chitarra, guitarra", rhythm=True,
       fallbacks=_CHORD_FALLBACKS),
    _i("bass", "Bass", _T.BASS_CLEF, "upright bass, double bass, electric bass, string bass, bass guitar, el bass, "
       "e bass, acoustic bass, contrabass, fretless bass, bass gtr, kontrabass, contrebasse, contrebasse a cordes, "
       "basse, contrabbasso, basso, contrabajo, bajo, bajo electrico", rhythm=True,
       fallbacks=(_T.CONCERT, _T.BASS_CLEF)),
    _i("drums", "Drums", None, "drum, dr, drs, batt, drum set, drumset, drum kit, kit, schlagzeug, batterie, batteria, "
       "bateria", rhythm=True, fallbacks=(_T.CONCERT,)),
    _i("percussion", "Percussion", None,
       "perc, aux perc, aux percussion, auxiliary percussion, hand percussion, latin percussion, congas, "
       "percussions, percussioni, percusion, schlagwerk, snare, snare drum, sd, bass drum, bd, cymbal, "
       "cymbals, crash cymbals, suspended cymbal, triangle, tam tam, tamtam, gong, tambourine, wood block, "
       "woodblock, temple blocks, bongos, timbales, claves, cowbell, becken, kleine trommel, grosse trommel, "
       "caisse claire, grosse caisse, cymbales, piatti, cassa, tamburo, gran cassa, caja, bombo, platos, "
       "triangulo, pandereta, triangel",
       rhythm=True, family=("drums",), fallbacks=(_T.CONCERT,)),
    _i("vocals", "Vocals", _T.CONCERT, "vocal, vox, voc, voice, voices, singer, vocalist, lead vocal, lead vocals, "
       "lead vox, backing vocals, backing vox, bvs, bgv, bgvs, harmony vocals, gesang, singstimme, chant, voix, voce, "
       "canto, voz", role=Role.LYRICS, fallbacks=(Role.CHORDS, _T.CONCERT)),
)}

_INDEX = {key: n for n, key in enumerate(INSTRUMENTS)}

# "Nearest readable", by what the instrument reads (see best_part).
_DEFAULT_FALLBACKS: dict[Transposition, tuple[Target, ...]] = {
    _T.BB: (_T.CONCERT, Role.CHORDS),
    _T.EB: (_T.CONCERT, _T.BASS_CLEF, Role.CHORDS),
    _T.F: (_T.CONCERT, _T.EB, Role.CHORDS),
    _T.BASS_CLEF: ("bass", _T.CONCERT, Role.CHORDS),
    _T.CONCERT: (_T.BB, _T.EB, Role.CHORDS),
}

# How to read a part written for another key, keyed by (what you read, what the part is written for).
_HINTS: dict[tuple[Transposition | None, Transposition], str] = {
    (_T.BB, _T.CONCERT): "you'll need to transpose up a whole step",
    (_T.EB, _T.CONCERT): "you'll need to transpose down a minor third",
    (_T.F, _T.CONCERT): "you'll need to transpose up a fifth",
    (_T.F, _T.EB): "you'll need to transpose down a whole step",
    (_T.CONCERT, _T.BB): "you'll need to transpose down a whole step",
    (_T.CONCERT, _T.EB): "you'll need to transpose up a minor third",
    (_T.EB, _T.BASS_CLEF): "read it as treble clef and add three sharps",
    (_T.BASS_CLEF, _T.CONCERT): "treble clef, play it an octave down",
    (_T.BASS_CLEF, _T.BB): "read it as treble-clef B♭, an octave down",
}

_T_LABELS = {_T.CONCERT: "Concert", _T.BB: "B♭", _T.EB: "E♭", _T.F: "F", _T.BASS_CLEF: "Bass clef"}
_ROLE_LABELS = {Role.CHORDS: "Chords", Role.LYRICS: "Lyrics", Role.OWN: "Own part", Role.SCORE: "Score"}
_SPECIAL_LETTERS = str.maketrans({"ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ł": "l",
                                  "Ł": "l", "đ": "d", "Đ": "d", "ð": "d", "þ": "th", "ı": "i"})
_APOSTROPHES = dict.fromkeys(map(ord, "'’‘ʼ`´"), None)


def _accented(ch: str) -> bool:
    """Latin, Greek and Cyrillic letters lose their accents; other scripts keep their marks (ブ is not フ)."""
    return ord(ch) < 0x400 or 0x1E00 <= ord(ch) <= 0x1FFF


def fold(text: str) -> str:
    """NFKC, casefold, strip accents and apostrophes: "Señor" and "senor", "Don't" and "Dont" compare equal."""
    if text.isascii():  # the common case, and the sync folds every word of every file name: skip Unicode work
        return text.lower().translate(_APOSTROPHES)
    text = unicodedata.normalize("NFKC", text).translate(_SPECIAL_LETTERS).casefold()
    out, strip = [], False
    for ch in text:
        if unicodedata.combining(ch):
            out.append("" if strip else ch)
            continue
        parts = unicodedata.normalize("NFD", ch)
        strip = _accented(parts[0])
        out.append("".join(c for c in parts if not unicodedata.combining(c)) if strip else ch)
    return "".join(out).translate(_APOSTROPHES)


def camel_cuts(word: str) -> list[int]:
    """Where CamelCase and letter→number boundaries fall: TakeFive, ABCBlues, Route66, Tpt1 (not v2, 1ST)."""
    cuts, run = [], 0
    for i, ch in enumerate(word):
        prev, nxt = word[i - 1] if i else "", word[i + 1] if i + 1 < len(word) else ""
        ordinal = word[i:i + 2].casefold() in ("st", "nd", "rd", "th") and not word[i + 2:i + 3].islower()
        if i and ((prev.islower() and ch.isupper()) or (prev.isupper() and ch.isupper() and nxt.islower())
                  or (ch.isdecimal() and run >= 2) or (prev.isdecimal() and ch.isupper() and not ordinal)):
            cuts.append(i)
        run = run + 1 if ch.isalpha() else 0
    return cuts


def split_camel(text: str) -> str:
    """Spaces at CamelCase boundaries inside each word: "MyFunnyValentine" → "My Funny Valentine"."""
    def split(m: re.Match[str]) -> str:
        word = m.group()
        return " ".join(word[a:b] for a, b in itertools.pairwise([0, *camel_cuts(word), len(word)]))
    return re.sub(r"[^\W_]+(?:['’][^\W_]+)*", split, text)


def _alias_table() -> dict[tuple[str, ...], str]:
    """Folded words of every key, name and alias → instrument key; the first instrument to claim one wins."""
    table: dict[tuple[str, ...], str] = {}
    for inst in INSTRUMENTS.values():
        for alias in (inst.key.replace("_", " "), inst.name, *inst.aliases):
            table.setdefault(tuple(fold(alias).split()), inst.key)
    return table


INSTRUMENT_ALIASES: dict[tuple[str, ...], str] = _alias_table()  # folded words → instrument key
_NAMES = {tuple(fold(i.name).split()): i.key for i in INSTRUMENTS.values()}


def find_instrument(text: str) -> Instrument | None:
    """The instrument a name or abbreviation means ("Tpt", "Bone", "Upright Bass", "FrenchHorn"), else None.

    Case, accents, punctuation and extra spaces don't matter; the plural of a name ("Tubas") is accepted.
    """
    text = fold(split_camel(text.replace("♭", "b")))
    words = tuple("".join(ch if ch.isalnum() else " " for ch in text).split())
    key = INSTRUMENT_ALIASES.get(words)
    if key is None and words and words[-1].endswith("s"):  # "Tubas", but not "Horns" (the horn section)
        key = _NAMES.get((*words[:-1], words[-1][:-1]))
    return INSTRUMENTS[key] if key else None


@dataclass(frozen=True)
class PartRef:
    """One part. Exactly one of: a generic ``transposition``, a ``role`` (Chords/Lyrics/Score), or an ``instrument``.

    An instrument part also carries that instrument's transposition and ``Role.OWN`` (filled in when omitted),
    so a clarinet can read a Trumpet part as a B♭ part. Invalid combinations raise ValueError.
    """

    transposition: Transposition | None = None
    role: Role | None = None
    instrument: str | None = None
    chair: int | None = None

    def __post_init__(self) -> None:
        t = None if self.transposition is None else Transposition(self.transposition)
        role = None if self.role is None else Role(self.role)
        if self.chair is not None and (type(self.chair) is not int or not 1 <= self.chair <= MAX_CHAIR):
            raise ValueError(f"chair must be 1–{MAX_CHAIR}")
        if self.instrument is not None:
            inst = INSTRUMENTS.get(self.instrument)
            if inst is None:
                raise ValueError(f"unknown instrument {self.instrument!r}")
            if t not in (None, inst.transposition) or role not in (None, Role.OWN):
                raise ValueError(f"{inst.name} parts are {inst.transposition}, not {t or role}")
            t, role = inst.transposition, Role.OWN
        elif self.chair is not None or role is Role.OWN or (t is None) == (role is None):
            raise ValueError("a part is a transposition, a role, or an instrument (only instruments have chairs)")
        object.__setattr__(self, "transposition", t)
        object.__setattr__(self, "role", role)

    def label(self) -> str:
        """What a musician calls it: "B♭", "Bass clef", "Chords", "Trumpet 2", "Drums"."""
        if self.instrument is not None:
            name = INSTRUMENTS[self.instrument].name
            return f"{name} {self.chair}" if self.chair else name
        if self.role is not None:
            return _ROLE_LABELS[self.role]
        return _T_LABELS[self.transposition] if self.transposition else "?"

    def noun(self) -> str:
        """The label as a thing on the stand: "B♭ part", "Chord chart", "Lyrics sheet", "Trumpet 2 part"."""
        if self.role is Role.CHORDS:
            return "Chord chart"
        if self.role is Role.SCORE:
            return "Score"
        return "Lyrics sheet" if self.role is Role.LYRICS else f"{self.label()} part"

    def key(self) -> str:
        """Stable database string: "bb", "bass_clef", "chords", "instrument:trumpet", "instrument:trumpet:2"."""
        if self.instrument is not None:
            return f"instrument:{self.instrument}" + (f":{self.chair}" if self.chair else "")
        return str(self.role if self.role is not None else self.transposition)

    @classmethod
    def from_key(cls, key: str) -> PartRef:
        """Inverse of ``key()``; raises ValueError for a string that isn't one."""
        kind, _, rest = key.partition(":")
        if kind == "instrument":
            inst, colon, chair = rest.partition(":")
            if colon and not (chair.isascii() and chair.isdecimal() and str(int(chair)) == chair):
                raise ValueError(f"bad part key {key!r}")
            return cls(instrument=inst, chair=int(chair) if colon else None)
        if rest:
            raise ValueError(f"bad part key {key!r}")
        if kind in Role.__members__.values() and kind != Role.OWN:
            return cls(role=Role(kind))
        if kind in Transposition.__members__.values():
            return cls(transposition=Transposition(kind))
        raise ValueError(f"bad part key {key!r}")

    @classmethod
    def try_from_key(cls, key: str | None) -> PartRef | None:
        """``from_key`` for display code: None instead of an error for a missing or unknown key."""
        try:
            return cls.from_key(key) if key else None
        except (ValueError, TypeError):
            return None


def _order(part: PartRef) -> tuple[int, int, int]:
    """A total order, so lists of parts always come out the same way."""
    if part.instrument is not None:
        return (2, _INDEX[part.instrument], part.chair or 0)
    if part.role is not None:
        return (1, list(Role).index(part.role), 0)
    return (0, list(Transposition).index(part.transposition) if part.transposition else 0, 0)


def sort_parts(parts: Iterable[PartRef]) -> tuple[PartRef, ...]:
    """Deduplicated, in display order: transpositions, roles, then instruments in score order and chair."""
    return tuple(sorted(set(parts), key=_order))


@dataclass(frozen=True)
class MemberInstrument:
    """One instrument a member plays (an ``INSTRUMENTS`` key), optionally in a chair: Trumpet 2.

    ``reads``: how they like to read on it (a ``reading_choices`` key: a bassist's "chords"); None is the default.
    """

    instrument: str
    chair: int | None = None
    reads: str | None = None


# What doubles a bass line, in the order a bassist would rather read it.
_BASS_LINE = ("tuba", "bass_trombone", "cello", "bassoon", "contrabassoon", "euphonium", "trombone")
_COMPING = ("piano", "keys", "organ", "guitar")
_COMPING_READS = {"chords": "A chord chart, then a lead sheet",
                  "lead_sheet": "A lead sheet (melody and changes), then a chord chart"}
_READINGS: dict[str, dict[str, str]] = {  # instrument → how its players may read (key → label), the default first
    "bass": {"written": "A written bass part, then a bass-clef part (trombone, tuba…), then chords",
             "chords": "A chord chart, then a written bass part"},
    **{key: _COMPING_READS for key in _COMPING},
    "vocals": {"vocal": "A vocal part (melody and words), then a lyrics sheet",
               "lyrics": "A lyrics sheet, then a vocal part"},
}


def reading_choices(instrument: str) -> dict[str, str]:
    """How a member may say they read on ``instrument`` (choice key → label, the default first); {} for no choice.

    Only where musicians really differ: a bassist reads a written part or the changes, keys and guitar a chord chart
    or a lead sheet, a singer a vocal part or a lyrics sheet. Horns and strings read their own transposition.
    """
    return dict(_READINGS.get(instrument, {}))


def members_from_json(rows: Iterable[Mapping[str, Any]] | None,
                      reading: Mapping[str, Any] | None = None) -> tuple[MemberInstrument, ...]:
    """``Membership.instruments`` rows (and ``Membership.reading``, instrument → choice) → MemberInstrument,
    skipping unknown instruments, bad chairs and choices that don't fit the instrument."""
    reading = reading if isinstance(reading, Mapping) else {}
    out = []
    for row in rows or ():
        if not isinstance(row, Mapping):
            continue
        key, chair = row.get("instrument"), row.get("chair")
        if isinstance(key, str) and key in INSTRUMENTS:
            ok = type(chair) is int and 1 <= chair <= MAX_CHAIR
            reads = reading.get(key)
            out.append(MemberInstrument(str(key), chair if ok else None,
                                        reads if isinstance(reads, str) and reads in _READINGS.get(key, {}) else None))
    return tuple(out)


Quality = Literal["chair", "instrument", "transposition", "nearest", "none"]
SCORE_HINT = "Score: find your staff"


@dataclass(frozen=True)
class ChartMatch:
    """The chart for one member and song. ``instrument``: which of the member's instruments reads it."""

    part: PartRef | None
    quality: Quality
    explanation: str
    available: tuple[PartRef, ...] = ()
    instrument: str | None = None


Kind = Literal["chair", "own", "generic", "same_key"]


@dataclass(frozen=True)
class _Tier:
    quality: Quality
    kind: Kind
    inst: Instrument
    chair: int | None
    primary: bool
    target: Target
    preferred: bool = False  # put first because the member says they read this way


_Step = tuple[Quality, Kind, Target]


def _known(member: Sequence[MemberInstrument]) -> list[MemberInstrument]:
    """The member's instruments this version knows; a stale or odd entry is skipped, never an error."""
    return [m for m in member if isinstance(m, MemberInstrument) and isinstance(m.instrument, str)
            and m.instrument in INSTRUMENTS]


def _nearest(inst: Instrument) -> list[_Step]:
    """The table's "nearest readable" for an instrument (``Instrument.fallbacks``, else by its transposition)."""
    fallbacks = inst.fallbacks
    if fallbacks is None:
        fallbacks = _DEFAULT_FALLBACKS.get(inst.transposition, ()) if inst.transposition else ()
    near: list[_Step] = []
    for target in fallbacks:
        if isinstance(target, Transposition):
            near += [("nearest", "generic", target), ("nearest", "same_key", target)]
        else:
            near.append(("nearest", "generic" if isinstance(target, Role) else "own", target))
    return near


def _steps(inst: Instrument, reads: str | None) -> tuple[list[_Step], list[_Step], list[_Step]]:
    """What a player reads on ``inst``, the way they read, as (preferred, exact, nearest) steps; the chair comes
    between the preferred steps and the rest. Every instrument reads its own part (and its family's), its generic
    part (role or transposition) and other parts in its key, then the table's "nearest readable"; bass, comping and
    voice differ as ``_READINGS`` says. The bass ignores the table's fallbacks: its order is its own (``best_part``).
    """
    own: list[_Step] = [("instrument", "own", inst.key), *(("instrument", "own", k) for k in inst.family)]
    chords: list[_Step] = [("transposition", "generic", Role.CHORDS)]
    if inst.key == "bass":
        written: list[_Step] = [("transposition", "generic", _T.BASS_CLEF),
                                *(("transposition", "own", k) for k in _BASS_LINE),
                                ("transposition", "same_key", _T.BASS_CLEF)]
        lead_sheet: list[_Step] = [("nearest", "generic", _T.CONCERT)]
        if reads == "chords":
            return chords, [*own, *written], lead_sheet
        return [], [*own, *written, *chords], lead_sheet
    if inst.key in _COMPING and reads == "lead_sheet":
        lead: _Step = ("nearest", "generic", _T.CONCERT)
        return [], [*own, ("transposition", "generic", _T.CONCERT), *chords], [s for s in _nearest(inst) if s != lead]
    if inst.key == "vocals" and reads == "lyrics":
        return [("transposition", "generic", Role.LYRICS)], own, _nearest(inst)
    exact = list(own)
    generic = inst.role or inst.transposition
    if generic is not None:
        exact.append(("transposition", "generic", generic))
    if inst.role is None and inst.transposition is not None:
        exact.append(("transposition", "same_key", inst.transposition))
    return [], exact, _nearest(inst)


def _tiers(member: Sequence[MemberInstrument]) -> list[_Tier]:
    """Every instrument's exact tiers (preferred, chair, own, generic, same key), then every instrument's nearest,
    then the full score (for everyone, last)."""
    exact: list[_Tier] = []
    nearest: list[_Tier] = []
    for n, m in enumerate(_known(member)):
        inst = INSTRUMENTS[m.instrument]
        chair = m.chair if type(m.chair) is int and 1 <= m.chair <= MAX_CHAIR else None
        preferred, steps, near = _steps(inst, m.reads if isinstance(m.reads, str) else None)
        exact += [_Tier(q, kind, inst, chair, n == 0, target, True) for q, kind, target in preferred]
        if chair is not None:
            exact.append(_Tier("chair", "chair", inst, chair, n == 0, inst.key))
        exact += [_Tier(q, kind, inst, chair, n == 0, target) for q, kind, target in steps]
        nearest += [_Tier(q, kind, inst, chair, n == 0, target) for q, kind, target in near]
    if not exact:
        return []
    first = exact[0]
    return [*exact, *nearest, _Tier("nearest", "generic", first.inst, first.chair, True, Role.SCORE)]


def _chair_distance(want: int | None, got: int | None) -> int:
    """Unchaired parts suit anyone; then the nearest chair, ties to the lower (more melodic) chair."""
    if got == want:
        return 0
    if got is None:
        return 1
    if want is None:
        return got
    return 1 + 2 * abs(got - want) + (got > want)


def _match(tier: _Tier, part: PartRef) -> int | None:
    """Sub-rank of ``part`` within ``tier`` (lower is better), or None when the tier doesn't take it."""
    if tier.kind == "chair":
        return 0 if part.instrument == tier.target and part.chair == tier.chair else None
    if tier.kind == "own":
        return _chair_distance(tier.chair, part.chair) if part.instrument == tier.target else None
    if tier.kind == "generic":
        if part.instrument is None and tier.target in (part.role, part.transposition):
            return 0
        return None
    other = INSTRUMENTS.get(part.instrument or "")
    if other is None or other.rhythm or other.role is not None or other.transposition != tier.target:
        return None  # the rhythm section's parts and a singer's sheet are nobody else's key
    section = abs(_INDEX[other.key] - _INDEX[tier.inst.key])  # score order keeps sections together
    return section * 100 + _chair_distance(tier.chair, part.chair)


def _explain(tier: _Tier, part: PartRef, available: Sequence[PartRef]) -> str:
    """The stand's one-line answer to "why this chart?"."""
    want = PartRef(instrument=tier.inst.key, chair=tier.chair).label()
    on = "" if tier.primary else f"On {tier.inst.name}: "
    if part.role is Role.SCORE:
        return SCORE_HINT
    if tier.preferred:
        return f"Your {tier.inst.name} part: {part.label()}" if on else f"Your part: {part.label()}"
    if tier.kind == "chair" or (tier.kind == "own" and tier.target == tier.inst.key
                                and (part.chair is None or tier.chair is None)):
        return f"Your part: {part.label()}"
    if tier.quality == "nearest":
        if part.role is Role.CHORDS:
            hint = "play from the changes" if tier.inst.role is None else None
        elif part.transposition is not None:
            hint = _HINTS.get((tier.inst.transposition, part.transposition))
        else:
            hint = None
        return on + (f"{part.noun()} — {hint}" if hint else f"{part.noun()} (no {want} chart)")
    if tier.kind == "generic" and not any(p.instrument for p in available):
        return f"Your {tier.inst.name} part: {part.label()}" if on else f"Your part: {part.label()}"
    if tier.kind == "same_key":
        return on + f"{part.noun()} ({_T_LABELS[Transposition(tier.target)]}, no {want} chart)"
    return on + f"{part.noun()} (no {want} chart)"


def rank_parts(member: Sequence[MemberInstrument], available: Iterable[PartRef]) -> tuple[ChartMatch, ...]:
    """Every part in ``available`` this member can read, best first, each with its explanation."""
    parts = sort_parts(p for p in available if isinstance(p, PartRef))
    tiers = _tiers(member)
    ranked: list[tuple[tuple[int, int, int], ChartMatch]] = []
    for order, part in enumerate(parts):
        for n, tier in enumerate(tiers):
            sub = _match(tier, part)
            if sub is not None:
                match = ChartMatch(part, tier.quality, _explain(tier, part, parts), parts, tier.inst.key)
                ranked.append(((n, sub, order), match))
                break
    return tuple(match for _, match in sorted(ranked, key=lambda pair: pair[0]))


def best_part(member: Sequence[MemberInstrument], available: Iterable[PartRef], *,
              leader: bool = False) -> ChartMatch:
    """The chart to put on this member's stand, and a sentence saying which one they got. Never raises.

    Order, for the primary instrument first and then each secondary one:
    0. what the member says they read first (``MemberInstrument.reads``: a bassist's "chords", a singer's "lyrics");
    1. chair — their instrument and chair (Trumpet 2);
    2. instrument — their instrument, another chair (unchaired first, then the nearest chair, ties to the
       lower number), then a sibling instrument that plays the same part (Keys ↔ Piano ↔ Organ, Percussion → Drums);
    3. transposition — the generic part for what they read (B♭, E♭, F, Concert, Bass clef; Chords for the
       rhythm section, Lyrics for vocals), then another melodic instrument's part in the same key (a clarinet
       reads a Trumpet part; the nearest instrument in score order first, so the same section wins, then the
       nearest chair). Rhythm-section parts (Piano, Bass...) and a singer's Vocals part never count as someone
       else's key: nobody is asked to transpose a lyric sheet.
       A bassist reads (written, the default): Bass > Bass clef > a bass-line part (Tuba, Bass Trombone, Cello,
       Bassoon, Contrabassoon, Euphonium, Trombone, then any other bass-clef part) > Chords; (chords): Chords first.
       Keys and guitar (chords, the default): own > Chords; (lead_sheet): own > Concert > Chords. A singer (vocal,
       the default): Vocals > Lyrics; (lyrics): Lyrics > Vocals.
    Only then "nearest readable" (quality ``nearest``), again primary instrument first:
    - B♭ readers: Concert (transpose up a whole step) > Chords;
    - E♭ readers: Concert (down a minor third) > Bass clef (read as treble clef + three sharps; first for bari,
      where it lands in the right octave) > Chords;
    - F (horn): Concert (up a fifth) > E♭ (down a whole step) > Chords;
    - bass clef: the Bass player's part > Concert (treble clef, an octave down) > Chords; euphonium tries B♭
      (treble-clef euphonium) first;
    - concert (flute, violin...): B♭ (down a whole step) > E♭ (up a minor third) > Chords;
    - piano, keys, organ, guitar: Concert lead sheet (unless read first) > another concert part > Lyrics; bass:
      Concert (treble clef, an octave down); drums: own > Chords > Concert; percussion: own > Drums > Chords > Concert;
    - vocals: Chords > Concert.
    A full score comes last for everyone ("Score: find your staff") and is never a member's best part; a leader
    gets it when nothing else fits. So a doubler never transposes on sight while another instrument they play reads
    a part as written.
    """
    parts = sort_parts(p for p in available if isinstance(p, PartRef))
    ranked = [m for m in rank_parts(member, parts) if leader or m.part is None or m.part.role is not Role.SCORE]
    if ranked:
        return ranked[0]
    if not _known(member):
        return ChartMatch(None, "none", "Choose your instrument to see your part", parts)
    if not parts:
        return ChartMatch(None, "none", "No charts for this song yet", parts)
    return ChartMatch(None, "none", "No part you can read — this song has: " + ", ".join(p.label() for p in parts),
                      parts)


def _all_parts() -> tuple[PartRef, ...]:
    """Every part a file can be filed as: the universe ``readable_parts`` ranks."""
    generic = [PartRef(transposition=t) for t in Transposition]
    roles = [PartRef(role=r) for r in Role if r is not Role.OWN]
    chairs: list[int | None] = [None, *range(1, MAX_CHAIR + 1)]
    return (*generic, *roles, *(PartRef(instrument=k, chair=c) for k in INSTRUMENTS for c in chairs))


ALL_PARTS: tuple[PartRef, ...] = _all_parts()  # every part a file can be sorted into


def readable_parts(member: Sequence[MemberInstrument]) -> tuple[PartRef, ...]:
    """Every part this member can read, best first — the same order ``best_part`` uses."""
    return tuple(match.part for match in rank_parts(member, ALL_PARTS) if match.part is not None)


def readable_keys(member: Sequence[MemberInstrument]) -> tuple[str, ...]:
    """``readable_parts`` as database keys, for ``Chart.part_key IN (...)``."""
    return tuple(part.key() for part in readable_parts(member))


def label_for_key(key: str | None, fallback: str = "") -> str:
    """A stored part key as a musician reads it; ``fallback`` for a missing or unknown key (never raises)."""
    part = PartRef.try_from_key(key) if key else None
    return part.label() if part else fallback
