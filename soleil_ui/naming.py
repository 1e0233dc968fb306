"""Understand a band's file names: which song, which part, what kind of file. Pure, deterministic, never raises.

Public API:
- ``parse_filename(name, folders=()) -> ParsedName``: kind, display title, grouping ``song_key``, part,
  ``audio_role``, ``score``, ``guessed`` (a low-confidence part) and, when the file can't be filed,
  ``unsorted_reason`` in plain words.
- ``describe(file, parsed) -> dict``: one ``soleil names`` line (file, title, kind, instrument, chair,
  transposition, role, unsorted_reason).
- ``parse_part(text) -> PartRef | None``: a whole text naming a part ("Tenor Sax 2", "Bb Parts", "Horn in F").
- ``choose_title(filename_title, pdf_title) -> str``: the PDF's own title when it names the same song.
- ``song_key(text)`` (grouping) and ``search_key(text)`` (accent-/case-insensitive search) fold text alike.

Decisions (why the parser reads names the way it does):
- The part is read from the end of the name ("Take Five - Bb", "TakeFive_Bb", "Take Five (Alto Sax 2)"),
  after dropping trailing Chart/Part/Score/PDF/copy/final/v2 words; then, only if the end names no part, from a
  leading chunk cut off by a spaced dash or brackets ("Bb - Take Five", "[Bb] Take Five").
- A trailing bracketed number is a second download, never a chair: "Trumpet (1).pdf" is Trumpet; write
  "Trumpet 1", "Tpt1", "Trumpet I" or "1st Trumpet" for a chair (1–9).
- Two parts in one file ("Tpt 1-2", "Bb & Eb") can't be expressed: such files go to Unsorted or keep the last.
- A name with a part and nothing else ("Bb.pdf") takes its title from the nearest song-like folder.
- The file name wins over folders; otherwise the innermost folder naming a part ("Eb", "Trumpet", "Bb Parts").
- A chart (PDF, MusicXML) with no part anywhere is Unsorted: nobody can tell whose part it is. A ChordPro file
  with no part is a Chords chart (that is what ChordPro is).
- Lead Sheet, C, C Treble, Concert Pitch, PVG/Piano-Vocal → Concert. Rhythm, Rhythm Section, Nashville → Chords.
  Vocal/Voice → the Vocals part (a vocal line; singers rank it above Lyrics). Vox/Lyrics → Lyrics (see below).
- "Lead Trumpet" is Trumpet 1; "Horn" alone is French horn; "Tenor"/"Alto"/"Bari"/"Soprano" alone are saxes.
  A key that contradicts the instrument ("C Trumpet", "Eb Clarinet") files it under that key's generic part.
- Ambiguous words (a lone C or F, Rhythm, AS, TS, Kit, Nashville) count only as their own segment and not after
  "in", "of", "got"...: "Blues in F", "Prelude in C" and "I Got Rhythm" stay titles. Bb/Eb need no separator
  ("TAKE FIVE BB.pdf").
- A leading track number is dropped when zero-padded or followed by a separator ("01 Take Five", "3 - Song"),
  never when it is the title ("26-2", "7 Steps to Heaven").
- Audio is a reference track unless named Backing/Play-along/Minus One/Karaoke/Instrumental/Click ("backing").
  A trailing segment of Original/Reference/Live/Demo/Rehearsal/Mix words, "(Live at …)" or "(1959)" is dropped
  from its title ("Big Band.mp3" keeps its name). A part in an audio name ("- Drums", a practice stem) is kept.
- Titles: CamelCase names become words only when the name has no spaces ("McCoy" in "McCoy's Blues" stays);
  all-lowercase or all-caps titles are title-cased. ``song_key`` keeps leading articles and maps "&" to "and".
- Hidden and system files (".DS_Store", "._x.pdf", "~$lock", Thumbs.db, __MACOSX) are kind "other".

Issue 11 (every rule is a row of tests/fixtures/naming/corpus.tsv):
- Instrument names and abbreviations in English, German, French, Italian and Spanish live in ``parts.INSTRUMENTS``.
  Keys after an instrument: "in B"/"in Es" (German B is B♭, H is B natural), "en Si♭"/"in Sib"/"en Mib",
  "in Fa", "in Do"/"en Ut", and a key glued to a camel-case instrument ("trumpetB1", "hornInE1").
- A key that contradicts the instrument files the part under that key's generic part ("Euphonium T.C." → B♭,
  "Eb Bass" → E♭, "Posaune in B" → B♭), except C on a bass-clef instrument ("C Trombone 1", "Tuba in C"), F on a
  tuba and E♭ on a horn or cornet (brass-band tenor horn, soprano cornet). Keys SOLEil has no part for (A, D, E,
  G, H...) and "two parts in one file" ("Bb & Eb", "Piano and Bass") are Unsorted with the reason.
- Clef marks T.C./B.C./treble/bass clef/Violinschlüssel/clé de fa...: a treble-clef trombone or euphonium part is
  B♭; a numbered or clef-marked Baritone ("1st Baritone", "1_2_baritone", "Baritone T.C.") is the baritone horn, a
  lone "Baritone" stays the bari sax; German "Bariton" needs its key or clef, else it is Unsorted.
- Chairs: "No. 2", "Nr. 2", "#2", "1.", "2e", "1º", "3°", ordinals in five languages, Roman numerals. Several
  chairs in one file ("1 & 2", "1-2", "I/II", "1.+2.", "1_2_") are the instrument's part without a chair. A plural
  ("Horns") counts only with chairs: "Horns" alone is a band's horn section.
- Score/conductor words in every language (Score, Conductor, Direktion, Partitur, Conducteur, Partition,
  Partitura, Dirección, Guion...) make a score (``Role.SCORE``) and leave the title; a part named before the word
  wins ("Bb Score", "Piano Score"); "Piano-Conductor" is a piano part.
- "Vox", "Lyrics", "Vocals lyric sheet", "Paroles", "Testo", "Letra", "Text" are lyrics sheets (never a melody
  part to transpose); "Vocal"/"Voice"/"Gesang"/"Chant"/"Voce"/"Voz" are the vocal part.
- "Bb Lead Sheet", "Lead Sheet (Eb)" are that key's part. IMSLP's "IMSLP123-PMLP456-" prefix, "(2 players)",
  a Dorico layout number ("Pavane - 04 - Oboe", "02 Alto Sax 2.pdf") and ".mscz" leave the title.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .parts import (
    INSTRUMENT_ALIASES,
    INSTRUMENTS,
    MAX_CHAIR,
    PartRef,
    Role,
    Transposition,
    camel_cuts,
    fold,
    split_camel,
)

Kind = Literal["chart", "notation", "chordpro", "audio", "other"]
AudioRole = Literal["reference", "backing"]
NameKind = Literal["part", "score", "audio", "source", "other"]

NO_PART = "No part in the file name or folder"
NO_TITLE = "No song title in the file name"
NOT_MUSIC = "Not a chart or audio file"
HIDDEN = "hidden or system file"
UNREADABLE = "Could not read this file name"  # only if the parser itself fails; tests assert it never happens
MAX_TITLE = 300  # Song.title and Song.song_key columns

_KINDS: dict[str, Kind] = {"pdf": "chart", "musicxml": "notation", "xml": "notation", "mxl": "notation",
                           **dict.fromkeys(("cho", "chordpro", "chopro", "crd"), "chordpro"),
                           **dict.fromkeys(("mp3", "m4a", "aac", "wav", "ogg", "flac"), "audio")}


def _table(spec: dict[str, str]) -> dict[tuple[str, ...], str]:
    """Comma-separated alias lists → folded word tuples, the form the matcher compares."""
    return {tuple(alias.split()): value for value, aliases in spec.items() for alias in aliases.split(",")}


_T, _R = Transposition, Role
TRANSPOSITION_ALIASES = _table({
    _T.BB: "bb,b flat,bflat,in bb,in b flat,in bflat,bb treble,bb instruments,bb inst",
    _T.EB: "eb,e flat,eflat,in eb,in e flat,in eflat,eb instruments,eb inst",
    _T.F: "f,f instruments,f inst",
    _T.CONCERT: "concert,c,c treble,treble,treble clef,concert treble,concert pitch,c concert,concert c,in concert,"
                "c instruments,c inst,lead sheet,leadsheet,lead sheets,pvg,p v g,piano vocal,piano vocal guitar,"
                "c melody sax,c melody saxophone,c melody",
    _T.BASS_CLEF: "bass clef,bassclef,bc,concert bass clef,bass clef concert,bass clef instruments,c bass clef",
})
ROLE_ALIASES = _table({
    _R.CHORDS: "chords,chord,chord chart,chord sheet,chord symbols,rhythm,rhythm section,rhythm sect,chords lyrics,"
               "lyrics chords,chords and lyrics,lyrics and chords,lyrics with chords,nashville,nashville numbers,"
               "number chart,nns,accords,grille,grille daccords,accordi,acordes,akkorde",
    _R.LYRICS: "lyrics,lyric,lyric sheet,lyrics sheet,lyrics only,lyric sheets,vox,vox sheet,vocals lyric sheet,"
               "vocal lyric sheet,vocals lyrics,paroles,texte,text,testo,letra,liedtext,songtext",
    _R.SCORE: "score,scores,full score,concert score,transposed score,conductor,conductors,conductor score,"
              "conductors score,director,directors score,condensed score,score and parts,full score and parts,"
              "direktion,partitur,partituren,dirigierpartitur,dirigent,conducteur,partition,partitions,"
              "partition complete,partition dorchestre,partitura,partitura completa,partitura general,direccion,guion",
})
_SCORE_SUFFIXES = (("concert",), ("concert", "pitch"))  # "Score (Concert Pitch)"; a key too: "Direktion in C"
_SHEET = {"lead", "sheet", "sheets", "leadsheet", "leadsheets"}  # "Bb Lead Sheet", "Lead Sheet (Eb)"
# Keys a part can be written in, as words after an instrument ("in B", "en Si♭", "in Sib", "in Es"). German B is
# B♭ (H is B natural). Keys SOLEil can't file are names for the leader's question.
_KEYS: dict[tuple[str, ...], Transposition | str] = {
    **_table({_T.BB: "bb,b flat,bflat,bbb,b bb,sib,si b,si bemol,si bemolle,b",
              _T.EB: "eb,e flat,eflat,es,mib,mi b,mi bemol,mi bemolle",
              _T.F: "f,fa", _T.CONCERT: "c,ut,do"}),
    **_table({"A": "a,la", "D": "d,re", "E": "e,mi", "G": "g,sol", "B natural": "h,b natural",
              "A♭": "ab,as,lab,la b,a flat", "D♭": "db,des,reb,re b,d flat", "G♭": "gb,ges,solb,sol b,g flat"})}
_BARE_KEYS = {k for k, v in _KEYS.items() if isinstance(v, Transposition) and k not in {("b",), ("es",), ("do",)}}
_LEAD_KEYS = {("bb",), ("b", "flat"), ("bflat",), ("bbb",), ("b", "bb"), ("eb",), ("e", "flat"), ("eflat",), ("es",),
              ("f",), ("c",)}  # a key before an instrument: "Bb Trumpet", "Es-Klarinette", "C Trombone"
_CLEFS = _table({"treble": "tc,t c,treble,treble clef,violinschlussel,violinschluessel,cle de sol,chiave di violino,"
                           "clave de sol",
                 "bass": "bc,b c,bass clef,bassschlussel,bassschluessel,cle de fa,chiave di basso,clave de fa"})
_KEY_INSTEAD = {("french_horn", _T.EB): "tenor_horn", ("cornet", _T.EB): "soprano_cornet"}  # "Horn in Es", "Eb Cornet"
_RISKY = {"c", "f", "rhythm", "as", "ts", "kit", "nashville", "treble", "bs", "sd", "bd", "bells", "chant", "canto",
          "voce", "voz", "cor", "cors", "text", "texte", "testo", "letra", "gong", "triangle", "lira", "cassa", "caja",
          "bombo", "basse", "basso", "bajo", "director", "guion", "partition", "grille", "conductor", "banjo", "kb",
          "pos", "git", "hr", "batt"}
_LINKING = {"in", "of", "the", "a", "an", "and", "my", "your", "got", "for", "to", "with", "on", "at", "by", "from",
            "is", "key"}
_ORDINALS = {w: n for n, words in enumerate((
    "1st first lead principal solo 1er 1re 1ere premier premiere primo prima 1o 1a erste",
    "2nd second 2e 2eme 2de seconde secondo seconda 2o 2a zweite",
    "3rd third 3e 3eme troisieme terzo terza 3o 3a dritte",
    "4th fourth 4e 4eme quatrieme quarto quarta 4o 4a vierte", "5th fifth 5e 5eme quinto quinta 5o 5a", "6th sixth",
    "7th seventh", "8th eighth", "9th ninth"), 1) for w in words.split()}
_ROMAN = {r: n for n, r in enumerate(("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix"), 1)}
_NUMBER_WORDS = {"no", "nr", "n", "nro", "num", "#"}  # "Trumpet No. 2", "Nr. 2", "n° 2"
_AND = {"and", "und", "et", "e", "y", "u"}  # "Trumpet 1 and 2", "1 und 2"
_CHAIR_GLUE = re.compile(r"[&+/,\-–_]")  # "1 & 2", "1-2", "I/II", "1_2_baritone": one file, several chairs
_TWO_GLUE = re.compile(r"[&+/]")
_MODIFIERS = {"alto", "bass", "contra", "kontra", "contrabass", "sopranino", "soprano", "tenor", "baritone", "piccolo",
              "baby", "treble", "sub", "subcontrabass"}  # "Alto Flute", "Bass Trumpet": a different instrument
_PERCUSSION = {"percussion", "timpani", "mallets", "drums", "vibes"}
_PLAYERS = {"players", "player", "spieler", "joueurs", "jugadores"}  # Dorico: "Percussion (2 players)"
_EXPORT_WORDS = {"mscz", "mscx", "musx", "dorico"}  # "Song.mscz-Trombone 2.pdf" (MuseScore batch export)
_STRONG_NOISE = {"chart", "charts", "part", "parts", "score", "scores", "pdf", "pdfs"}
_NOISE = _STRONG_NOISE | {"copy", "final", "new", "draft", "edit", "edited", "rev", "revised", "updated", "version",
                          "ver", "transposed", "only", "stimme"}
_REFERENCE = {"original", "orig", "reference", "ref", "live", "demo", "recording", "rec", "master", "mastered",
              "remastered", "mix", "rough", "rehearsal", "studio", "album", "version", "audio", "full", "band"}
_BACKING_WORDS = {"backing", "play", "playalong", "along", "minus", "karaoke", "instrumental", "click",
                  "accompaniment"}
_AUDIO_WORDS = _REFERENCE | _BACKING_WORDS | {"track", "tracks", "one"}
_GENERIC_FOLDERS = {"charts", "chart", "parts", "scores", "pdf", "pdfs", "music", "songs", "library", "audio",
                    "recordings", "mp3", "mp3s", "sheet music", "sheets", "files", "documents", "my drive", "shared",
                    "book", "band", "repertoire", "unsorted", "stimmen", "noten", "parties", "parti", "partes",
                    "spartiti", "partituras", "partitions", "particelle"}
_SMALL_WORDS = {"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with"}
_SYSTEM_FILES = {"thumbs.db", "desktop.ini", "icon\r"}
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_VERSION = re.compile(r"v\d{1,3}")
_YEAR = re.compile(r"(19|20)\d\d")
_T_NAMES = {_T.CONCERT: "C", _T.BB: "Bb", _T.EB: "Eb", _T.F: "F", _T.BASS_CLEF: "bass_clef"}  # ``soleil names``


@dataclass(frozen=True)
class _Refused:
    """A name that does say which part it is, but one SOLEil can't file: the leader is asked (unsorted)."""

    reason: str


_Found = PartRef | _Refused
TWO_PARTS = "Two parts in one file: split it, or place it yourself"
BARITONE = "“Bariton” can be a B♭ treble-clef or a C bass-clef part: add “in B” or “in C”, or place it yourself"
UNKNOWN_INSTRUMENT = "not an instrument SOLEil knows, so place it yourself"
TUBA_TC = "A treble-clef tuba part can be in E♭ or B♭: add the key, or place it yourself"


def _key_refused(instrument: str, key: str) -> _Refused:
    name = INSTRUMENTS[instrument].name if instrument in INSTRUMENTS else instrument
    return _Refused(f"{name} in {key}: SOLEil files parts in B♭, E♭, F, C or bass clef, so place it yourself")


@dataclass(frozen=True)
class ParsedName:
    """What a file name says. ``unsorted_reason`` is None when the file can be filed under a song (and part).

    ``score``: a full or conductor's score ("Full Score", "Direktion", "Conducteur", "Partitura"); a PDF score's
    part is ``Role.SCORE``, which no reading preference targets, so it goes to leaders and is never a member's
    best part. ``guessed``: the part is a low-confidence guess — read from a folder, or from words glued to the
    title ("TAKE FIVE BB", "Funny Bone") — so the library-files screen can ask the leader to confirm it.
    ``instrument``, ``chair``, ``transposition`` and ``role`` are the part's fields as ``soleil names`` prints them.
    """

    kind: Kind
    title: str
    song_key: str
    part: PartRef | None = None
    audio_role: AudioRole | None = None
    unsorted_reason: str | None = None
    score: bool = False
    guessed: bool = False

    @property
    def name_kind(self) -> NameKind:
        """part, score, audio, source (MusicXML/ChordPro, engraved by SOLEil) or other."""
        if self.score:
            return "score"
        return {"chart": "part", "notation": "source", "chordpro": "source"}.get(self.kind, self.kind)  # type: ignore

    @property
    def instrument(self) -> str | None:
        return self.part.instrument if self.part else None

    @property
    def chair(self) -> int | None:
        return self.part.chair if self.part else None

    @property
    def transposition(self) -> str | None:
        """"Bb", "Eb", "F", "C", "bass_clef"; None for unpitched parts (drums), roles and scores."""
        t = self.part.transposition if self.part else None
        return _T_NAMES[t] if t else None

    @property
    def role(self) -> str | None:
        """"chords" or "lyrics" (a lyrics sheet is never a melody part to transpose); else None."""
        role = self.part.role if self.part else None
        return str(role) if role in (Role.CHORDS, Role.LYRICS) else None


def describe(file: str, parsed: ParsedName) -> dict[str, Any]:
    """One ``soleil names`` line: how SOLEil reads ``file`` (the keys are documented in the README)."""
    return {"file": file, "title": parsed.title, "kind": parsed.name_kind, "instrument": parsed.instrument,
            "chair": parsed.chair, "transposition": parsed.transposition, "role": parsed.role,
            "unsorted_reason": parsed.unsorted_reason}


def search_key(text: str) -> str:
    """Fold for search: case, accents, apostrophes and punctuation don't matter ("senor" finds "Señor Blues").

    At most ``MAX_TITLE`` characters, so it always fits ``Song.search_key``."""
    folded = fold(text[:2 * MAX_TITLE].replace("&", " and ").replace("♭", "b"))
    return " ".join("".join(ch if ch.isalnum() else " " for ch in folded).split())[:MAX_TITLE].strip()


def song_key(text: str) -> str:
    """Grouping key: two file names belong to one song when their titles have the same key. Articles are kept."""
    return search_key(text)


@dataclass(frozen=True)
class _Tok:
    word: str  # folded, for matching
    start: int  # offsets into the cleaned text, for slicing the display title
    end: int
    seg: int  # segment number: punctuation or a separator between two words starts a new segment
    glue: str  # the text between the previous token and this one
    bracket: bool  # inside () [] {}


def _tokens(text: str) -> list[_Tok]:
    """Words (split at CamelCase too) with where they sit, so the title is sliced from the original text."""
    toks: list[_Tok] = []
    seg, depth, prev_end = 0, 0, 0
    for m in _WORD.finditer(text.replace("♭", "b")):
        glue = text[prev_end:m.start()]
        if glue.strip() and toks:
            seg += 1
        depth = max(0, depth + sum(glue.count(c) for c in "([{") - sum(glue.count(c) for c in ")]}"))
        cuts = [0, *camel_cuts(m.group()), len(m.group())]
        for n, (a, b) in enumerate(itertools.pairwise(cuts)):
            toks.append(_Tok(fold(m.group()[a:b]), m.start() + a, m.start() + b, seg, glue if n == 0 else "",
                             depth > 0))
        prev_end = m.end()
    return toks


def _chair(word: str) -> int | None:
    """ "2" or "ii" → 2; chairs beyond the member form's 1–9 are not chairs."""
    if word.isdecimal() and len(word) <= 2:
        return int(word) if 1 <= int(word) <= MAX_CHAIR else None
    return _ROMAN.get(word)


def _match_at(table: dict[tuple[str, ...], Any], w: tuple[str, ...], j: int) -> tuple[Any, int]:
    """The longest entry of ``table`` at ``w[j:]`` (up to three words), as (value, words used)."""
    for size in (3, 2, 1):
        if j + size <= len(w) and w[j:j + size] in table:
            return table[w[j:j + size]], size
    return None, 0


def _longest_instrument(toks: Sequence[_Tok], w: tuple[str, ...], j: int) -> tuple[str | None, int]:
    """The longest instrument alias at ``w[j:]`` ("bass trombone" before "bass"), as (key, words used); a plural
    counts ("Horns I/II"). An alias never spans "&", "+", "/" or "," ("Piccolo & Flute" is two parts). German
    "Bariton" is its own word: its clef decides (see ``_resolve``)."""
    for size in range(min(4, len(w) - j), 0, -1):
        if size > 1 and any(_TWO_GLUE.search(t.glue) or "," in t.glue for t in toks[j + 1:j + size]):
            continue
        key = INSTRUMENT_ALIASES.get(w[j:j + size])
        if key is not None:
            return key, size
    word = w[j] if j < len(w) else ""
    if word in ("bariton", "baryton"):
        return "bariton", 1
    if len(word) > 3 and word.endswith("s") and (word[:-1],) in INSTRUMENT_ALIASES:
        return "+" + INSTRUMENT_ALIASES[(word[:-1],)], 1  # "+": a plural, a part only with chairs ("Horns I+II")
    return None, 0


def _lead_number(toks: Sequence[_Tok], j: int) -> bool:
    """A chair written before the instrument: "1. Flöte", "3° Tromba", "1_2_baritone", "1.+2. Trompete"."""
    word = toks[j].word
    return (len(word) == 1 and word.isdecimal() and word != "0" and j + 1 < len(toks)
            and bool(re.search(r"[.°_&+/]", toks[j + 1].glue)))


def _instrument_phrase(toks: Sequence[_Tok], lead_ok: bool) -> _Found | None:
    """[chairs] [key] [ordinal] instrument [chairs] [in key] [clef] — "1. Trompete in B", "Bb Trumpet 2",
    "Horns I/II", "Euphonium T.C.", "trumpetB1", "3° & 4° Corno in Fa"."""
    w = tuple(t.word for t in toks)
    chairs: list[int] = []
    keys: list[str] = []
    j, clef, ordinal, joined = 0, None, None, False
    key, size = None, 0
    while j < len(w):
        key, size = _longest_instrument(toks, w, j)
        if key is not None:
            break
        if w[j] in _ORDINALS or (lead_ok and _lead_number(toks, j)):
            joined |= bool(chairs) and (bool(_CHAIR_GLUE.search(toks[j].glue)) or w[j - 1] in _AND)
            chairs.append(_ORDINALS.get(w[j]) or int(w[j]))
            ordinal = w[j] if w[j] in _ORDINALS else ordinal
            j += 1
            continue
        if chairs and w[j] in _AND:
            j += 1
            continue
        k, ks = _match_at(_KEYS, w, j)
        if k is not None and not keys and w[j:j + ks] in _LEAD_KEYS:
            keys.append(k)
            j += ks
            continue
        return None
    if key is None:
        return None
    j += size
    while j < len(w):
        word = w[j]
        chair = _chair(word)
        if chair is not None:
            joined |= bool(chairs) and (bool(_CHAIR_GLUE.search(toks[j].glue)) or w[j - 1] in _AND)
            chairs.append(chair)
            j += 1
            continue
        if word in _NUMBER_WORDS or word in _AND:
            if j + 1 < len(w) and _chair(w[j + 1]) is not None:
                j += 1
                continue
            return None
        c, cs = _match_at(_CLEFS, w, j)
        if c is not None:
            clef = c
            j += cs
            continue
        after_in = word in ("in", "en")
        camel = toks[j].glue == "" and not after_in  # "trumpetB1": a key glued to the instrument
        k, ks = _match_at(_KEYS, w, j + after_in)
        if k is not None and (after_in or camel or w[j:j + ks] in _BARE_KEYS):
            keys.append(k)
            j += ks + after_in
            continue
        if w[j:] in (("chords",), ("chord",)):  # "Guitar Chords": the guitar's own chart
            break
        return None
    if (len(chairs) > 1 and not joined) or (key[0] == "+" and not chairs):
        return None  # "Horns" alone is a band's horn section, not one part
    return _resolve(key, chairs, joined, keys, clef, ordinal, w)


def _resolve(key: str, chairs: list[int], joined: bool, keys: list[Transposition | str],
             clef: str | None, ordinal: str | None, w: tuple[str, ...]) -> _Found | None:
    """The part an instrument, its chairs, key and clef name. A key that contradicts the instrument files the part
    under that key's generic part ("C Trumpet", "Euphonium T.C."), so whoever reads that key gets it — except a C
    on a bass-clef instrument ("C Trombone", "Tuba in C"), F on a tuba (F tubas read concert pitch) and E♭ on a
    horn or cornet (brass-band tenor horn, soprano cornet). Keys SOLEil can't file are a question for the leader."""
    if len(set(keys)) > 1:
        return None
    k, key = (keys[0] if keys else None), key.lstrip("+")
    chair = chairs[0] if len(chairs) == 1 and not joined else None
    if k is not None and not isinstance(k, Transposition):
        return _key_refused(key if key != "bariton" else "Baritone", k)
    if key == "bariton":  # German/French: a B♭ treble-clef or a C bass-clef part
        if k is _T.CONCERT or clef == "bass":
            return PartRef(transposition=_T.BASS_CLEF)
        if k is not None or clef == "treble":
            return PartRef(transposition=k or _T.BB)
        return _Refused(BARITONE)
    if key == "bari_sax" and "baritone" in w and "sax" not in w and not any(x.startswith("saxo") for x in w):
        if clef == "bass":  # a numbered or clef-marked Baritone is the brass-band baritone horn, never the sax
            return PartRef(transposition=_T.BASS_CLEF)
        if clef == "treble" or chairs:
            key = "baritone_horn"
    if ordinal == "solo" and key == "french_horn":
        key = "tenor_horn"  # "Solo Horn" is a brass-band tenor horn part
    inst = INSTRUMENTS[key]
    t = inst.transposition
    if clef == "treble" and t is _T.BASS_CLEF:
        if k is None and key in ("tuba", "bass"):
            return _Refused(TUBA_TC)
        return PartRef(transposition=k or _T.BB)
    if clef == "bass":
        return PartRef(instrument=key, chair=chair) if t is _T.BASS_CLEF else PartRef(transposition=_T.BASS_CLEF)
    if k is None or k == t or t is None:
        return PartRef(instrument=key, chair=chair)
    if (k is _T.CONCERT and t is _T.BASS_CLEF) or (k is _T.F and key == "tuba"):
        return PartRef(instrument=key, chair=chair)
    if (key, k) in _KEY_INSTEAD:
        return PartRef(instrument=_KEY_INSTEAD[key, k], chair=chair)
    return PartRef(transposition=k)


def _phrase(toks: Sequence[_Tok], lead_ok: bool = True) -> _Found | None:
    """The part these words name, all of them, or None."""
    words = tuple(t.word for t in toks)
    if not words:
        return None
    if words in TRANSPOSITION_ALIASES:
        return PartRef(transposition=Transposition(TRANSPOSITION_ALIASES[words]))
    if words in ROLE_ALIASES:
        return PartRef(role=Role(ROLE_ALIASES[words]))
    for cut in range(len(words) - 1, 0, -1):  # "Direktion in C", "Partitur in B", "Score (Concert Pitch)"
        rest = words[cut:][1:] if words[cut] in ("in", "en") else words[cut:]
        if ROLE_ALIASES.get(words[:cut]) == Role.SCORE and (rest in _KEYS or rest in _SCORE_SUFFIXES):
            return PartRef(role=Role.SCORE)
    if {"sheet", "sheets", "leadsheet", "leadsheets"} & set(words) and ("lead" in words or words[0][:4] == "lead"):
        rest = tuple(word for word in words if word not in _SHEET)
        t = TRANSPOSITION_ALIASES.get(rest) if rest else _T.CONCERT
        return PartRef(transposition=Transposition(t)) if t else None
    return _instrument_phrase(toks, lead_ok)


def _risky(toks: list[_Tok], start: int) -> bool:
    """An ambiguous word (C, F, Rhythm...) never follows "in"/"got"... ("Blues in F Horn" is a horn part of
    "Blues in F"), and alone it must be its own segment ("I Got Rhythm", "Prelude in C" are titles)."""
    words = [t.word for t in toks[start:]]
    if start == 0 or words[0] not in _RISKY:
        return False
    if toks[start - 1].word in _LINKING:
        return True
    while len(words) > 1 and _chair(words[-1]) is not None:
        words.pop()
    return len(words) == 1 and toks[start].seg == toks[start - 1].seg


def _lead_ok(toks: list[_Tok], start: int) -> bool:
    """A number before an instrument is a chair only after a separator, never in "No.5_Trumpet" or "Op. 2"."""
    if start == 0:
        return True
    glue = toks[start].glue.strip()
    return glue not in ("", ".") and toks[start - 1].word not in _NUMBER_WORDS | {"op", "opus", "bwv", "kv", "hob"}


def _match_end(toks: list[_Tok]) -> tuple[int, _Found, bool] | None:
    """The part phrase ending the token list, as (where it starts, part, whether it starts a segment): the longest
    one that starts a segment ("Blues in F - F Horn" keeps its F), else the longest ("TAKE FIVE BB")."""
    found = None
    for start in range(max(0, len(toks) - 8), len(toks)):
        part = _phrase(toks[start:], _lead_ok(toks, start))
        if part is None or _risky(toks, start):
            continue
        if start == 0 or toks[start].seg != toks[start - 1].seg:
            return start, part, True
        found = found or (start, part, False)
    return found


def _duplicate(toks: list[_Tok], i: int) -> bool:
    """ "(1)": the mark a browser or Drive adds to a second download of the same file."""
    tok = toks[i]
    alone = (i == 0 or toks[i - 1].seg != tok.seg) and (i + 1 == len(toks) or toks[i + 1].seg != tok.seg)
    return tok.bracket and alone and tok.word.isdecimal() and len(tok.word) <= 2


def _is_noise(toks: list[_Tok], i: int, words: set[str]) -> bool:
    return toks[i].word in words or bool(_VERSION.fullmatch(toks[i].word)) or _duplicate(toks, i)


def _strip_noise(toks: list[_Tok], words: set[str]) -> list[_Tok]:
    while len(toks) > 1 and _is_noise(toks, len(toks) - 1, words):
        score = toks[-1].word in ("score", "scores")
        toks = toks[:-1]
        if score and len(toks) > 1 and toks[-1].word in ("full", "conductor", "conductors"):
            toks = toks[:-1]  # "(Full Score)"
    return toks


def _compatible(a: PartRef, b: PartRef) -> PartRef | None:
    """"Trumpet - Bb" names one part twice: keep the specific one."""
    if a.instrument and b.instrument is None and b.role is None and b.transposition == a.transposition:
        return a
    if b.instrument and a.instrument is None and a.role is None and a.transposition == b.transposition:
        return b
    return None


def _drop_players(toks: list[_Tok]) -> list[_Tok]:
    """Dorico's "Percussion (2 players)": how many play it, not a chair."""
    while len(toks) > 1 and toks[-1].bracket:
        last = [t for t in toks if t.seg == toks[-1].seg]
        if not {t.word for t in last} & _PLAYERS or len(last) == len(toks):
            break
        toks = toks[:-len(last)]
    return toks


def _drop_layout_number(toks: list[_Tok]) -> list[_Tok]:
    """ "Pavane - 04 - Oboe": a layout or part number between the title and the part (Dorico, librarians)."""
    if len(toks) > 1 and toks[-1].word.isdecimal() and len(toks[-1].word) <= 3 \
            and re.search(r"\s[-–—]|[-–—]\s", toks[-1].glue) and any(ch.isalpha() for t in toks[:-1] for ch in t.word):
        return toks[:-1]
    return toks


def _bracket_start(toks: list[_Tok], end: int) -> int:
    """Where the bracketed run that ``toks[end]`` sits in opens ("Timpani (4 drums)" → the index of "4")."""
    k = end
    while k > 0 and toks[k - 1].bracket and not re.search(r"[)\]}]", toks[k].glue) \
            and not re.search(r"[(\[{]", toks[k].glue):
        k -= 1
    return k


def _merge(a: PartRef, b: PartRef) -> PartRef | None:
    """Two names in one file that are still one part: the same instrument ("Bells & Chimes", "Trumpet 1 & Trumpet
    2"), or percussion instruments, which share a percussion part ("Congas & Bongos", "Timpani & Percussion")."""
    if a.instrument is not None and a.instrument == b.instrument:
        return a if a.chair == b.chair else PartRef(instrument=a.instrument)
    if {a.instrument, b.instrument} <= _PERCUSSION:
        return PartRef(instrument="percussion")
    return None


def _find_part(toks: list[_Tok]) -> tuple[list[_Tok], _Found | None, bool]:
    """Split tokens into (title tokens, part, sure): the end of the name first, then a leading segment. ``sure`` is
    False when the part had to be guessed from words glued to the title ("TAKE FIVE BB")."""
    body = _drop_players(toks)
    while len(body) > 1 and _duplicate(body, len(body) - 1):  # "Trumpet (1)" is a second download, not a chair
        body = body[:-1]
    while body:
        found = _match_end(body)
        if found is not None:
            start, part, sure = found
            if body[start].bracket and start and isinstance(part, PartRef) and part.instrument:
                # "Tuba (Sousaphone)", "Timpani (4 drums)", "English Horn (Oboe 2)": the bracket describes
                opened = _bracket_start(body, start)
                outer = _match_end(body[:opened]) if opened else None
                if outer is not None:
                    body = body[:opened]
                    start, part, sure = outer
            title = _strip_noise(body[:start], _STRONG_NOISE) if start else []
            joined = start > 0 and (bool(_TWO_GLUE.search(body[start].glue) or body[start].glue == "-")
                                    or body[start - 1].word in _AND)
            if joined and title and title[-1].word in _AND:
                title = title[:-1]  # "Piano and Bass"
            if isinstance(part, PartRef) and part.instrument and title and title[-1].seg == body[start].seg \
                    and title[-1].word in _MODIFIERS:  # "Alto Flute", "Contra Bass Clarinet", "Piccolo Trumpet"
                name = " ".join(t.word for t in body[start - 1:]).title()
                return _drop_track_number(title[:-1]), _Refused(f"{name}: {UNKNOWN_INSTRUMENT}"), True
            again = _match_end(title) if title else None
            if again and isinstance(part, PartRef) and isinstance(again[1], PartRef):
                rest = _strip_noise(title[:again[0]], _STRONG_NOISE) if again[0] else []
                if part.transposition and part.role is None and {t.word for t in title[again[0]:]} <= _SHEET:
                    title = rest  # "Lead Sheet (Eb)": the key says which lead sheet
                elif part.role is Role.SCORE and again[1].role is not Role.SCORE:  # "Bb Score", "Piano Score"
                    title, part, sure = rest, again[1], again[2]
                elif (merged := _compatible(part, again[1])) is not None:
                    title, part = rest, merged
                elif joined:  # "Bb & Eb", "Piano and Bass": two parts in one file
                    merged = _merge(part, again[1])
                    title, part = rest, merged if merged is not None else _Refused(TWO_PARTS)
            return _drop_layout_number(_drop_track_number(title)), part, sure
        if len(body) > 1 and _is_noise(body, len(body) - 1, _NOISE):
            body = body[:-1]
            continue
        if len(body) > 1 and body[-1].bracket and _bracket_start(body, len(body) - 1) > 0:
            body = body[:_bracket_start(body, len(body) - 1)]  # "Trumpet 1 (Lead)", "Piano (opt.)"
            continue
        break
    title, lead = _leading_part(_drop_track_number(_strip_noise(toks, _NOISE)))
    return (title, lead, True) if lead else (_drop_track_number(_strip_noise(toks, _STRONG_NOISE)), None, True)


def _leading_part(toks: list[_Tok]) -> tuple[list[_Tok], _Found | None]:
    """ "Bb - Take Five", "[Trumpet 2] Take Five": a first chunk cut off by a spaced dash or brackets."""
    if toks and toks[0].bracket:
        cut = next((n for n, t in enumerate(toks) if not t.bracket), 0)
    else:
        cut = next((n for n, t in enumerate(toks) if n and re.search(r"\s[-–—]|[-–—]\s", t.glue)), 0)
    if not cut:
        return toks, None
    part = _phrase(_strip_noise(toks[:cut], _NOISE))
    return (toks[cut:], part) if part is not None else (toks, None)


def _drop_prefixes(toks: list[_Tok]) -> list[_Tok]:
    """IMSLP's "IMSLP35279-PMLP01586-" and a notation program's extension inside the name ("Song.mscz-Tbn")."""
    while len(toks) > 2 and toks[0].word in ("imslp", "pmlp") and toks[1].word.isdecimal():
        toks = toks[2:]
    return [t for t in toks if t.word not in _EXPORT_WORDS] or toks


def _strip_audio(toks: list[_Tok]) -> tuple[list[_Tok], bool]:
    """Drop trailing segments that describe the recording: "_Original", " - Demo", "(Live at Newport 1958)",
    "(1959)", " - Backing Track". Returns the rest and whether it is a backing track. "Big Band" stays a title."""
    backing = False
    while len(toks) > 1:
        last = [t for t in toks if t.seg == toks[-1].seg]
        words = {t.word for t in last}
        plain = words <= _AUDIO_WORDS and bool(words & (_REFERENCE | _BACKING_WORDS))
        bracketed = last[0].bracket and (last[0].word in _REFERENCE | _BACKING_WORDS
                                         or (len(last) == 1 and bool(_YEAR.fullmatch(last[0].word))))
        if len(last) == len(toks) or not (plain or bracketed):
            break
        backing |= bool(words & _BACKING_WORDS)
        toks = toks[:-len(last)]
    return toks, backing


def _drop_track_number(toks: list[_Tok]) -> list[_Tok]:
    """ "01 Take Five", "3 - Song", "1. Song" lose the number; "26-2" and "7 Steps to Heaven" keep it."""
    if len(toks) < 2 or not toks[0].word.isdecimal() or len(toks[0].word) > 3:
        return toks
    if not any(ch.isalpha() for t in toks[1:] for ch in t.word):
        return toks
    padded = toks[0].word.startswith("0") and len(toks[0].word) > 1
    return toks[1:] if padded or toks[1].glue.strip() else toks


def _balance(text: str) -> str:
    """Drop stray closing brackets and close open ones: a title cut inside "(Live at …)" still reads well."""
    pairs, closers, out, stack = {"(": ")", "[": "]", "{": "}"}, set(")]}"), [], []
    for ch in text:
        if ch in pairs:
            stack.append(pairs[ch])
        elif ch in closers:
            if not stack or stack[-1] != ch:
                continue
            stack.pop()
        out.append(ch)
    return "".join(out) + "".join(reversed(stack))


def _titlecase(text: str) -> str:
    """ "take five" / "TAKE FIVE" → "Take Five"; mixed case is the band's choice and stays."""
    letters = [ch for ch in text if ch.isalpha()]
    caps = all(ch.isupper() for ch in letters)
    if not letters or not (caps or all(ch.islower() for ch in letters)) or (caps and " " not in text):
        return text
    words = text.lower().split(" ")
    out = [w if n and fold(w) in _SMALL_WORDS else w[:1].upper() + w[1:] for n, w in enumerate(words)]
    return " ".join(out)


def _title(text: str, toks: list[_Tok], nospace: bool) -> str:
    """The display title: the band's own spelling between the first and last title word, tidied."""
    if not toks:
        return ""
    end = toks[-1].end + (len(toks[-1].word) == 1 and text[toks[-1].end:toks[-1].end + 1] == ".")  # "Mr. P.C."
    raw = text[toks[0].start:end].replace("_", " ")
    if nospace:
        raw = split_camel(raw.replace(".", " "))
    raw = " ".join(_balance(raw).split()).strip(" -–—,;:")
    if len(raw) > MAX_TITLE:
        raw = raw[:MAX_TITLE].rsplit(" ", 1)[0]
    return _titlecase(raw)


def _clean(text: str) -> str:
    """No control or format characters (NUL, zero-width spaces), NFKC (full-width letters, ligatures)."""
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")


def _text_part(text: str) -> _Found | None:
    """The part a whole text names, including one SOLEil can't file ("Clarinet in A")."""
    toks = _tokens(_clean(text)[:200])
    toks = _strip_noise(toks, _NOISE)
    while len(toks) > 1 and toks[0].word in _STRONG_NOISE:
        toks = toks[1:]
    return _phrase(toks)


def parse_part(text: str) -> PartRef | None:
    """The part a whole text names ("Tenor Sax 2", "Bb Parts", "Horn in F", "Lead Sheet"), else None."""
    found = _text_part(text)
    return found if isinstance(found, PartRef) else None


def _folder_title(folders: Sequence[str]) -> str:
    """The innermost folder that names a song, for files named only by their part ("Take Five/Bb.pdf")."""
    for folder in reversed(folders):
        text = _clean(folder)[:200]
        toks = _strip_noise(_drop_track_number(_tokens(text)), _STRONG_NOISE)
        if toks and _text_part(text) is None and " ".join(t.word for t in toks) not in _GENERIC_FOLDERS:
            return _title(text, toks, not any(ch.isspace() for ch in text))
    return ""


def _hidden(name: str, folders: Sequence[str]) -> bool:
    """Files no musician put there: dotfiles, Office locks, macOS and Windows droppings."""
    if name.startswith((".", "~")) or name.casefold() in _SYSTEM_FILES:
        return True
    return any(f.startswith(".") or f in ("__MACOSX", "$RECYCLE.BIN") for f in folders)


def _parse(name: str, folders: Sequence[str]) -> ParsedName:
    pieces = re.split(r"[/\\]", name[-2000:]) if not folders else [name]  # Drive allows "Horns I/II.pdf"
    name, folders = pieces[-1], [f[:300] for f in [*folders, *(p for p in pieces[:-1] if p)][-16:]]
    text = _clean(name if len(name) <= 600 else name[:560] + name[-40:])
    stem, dot, ext = text.rpartition(".")
    if not dot or not stem or not (ext.isalnum() and len(ext) <= 10):
        stem, ext = text, ""
    if len(stem) > 240:
        stem = stem[:240]
    kind: Kind = _KINDS.get(ext.casefold(), "other")
    if _hidden(name, folders):
        return ParsedName("other", stem.strip(), song_key(stem), unsorted_reason=HIDDEN)
    nospace = not any(ch.isspace() for ch in stem)
    toks = _drop_prefixes(_tokens(stem))
    backing = False
    if kind == "audio":
        toks, backing = _strip_audio(toks)
    found: _Found | None
    toks, found, sure = _find_part(toks) if kind != "other" else (_drop_track_number(toks), None, True)
    if kind == "audio" and toks:
        toks, more = _strip_audio(toks)
        backing |= more
    title = _title(stem, toks, nospace)
    if not title or (len(toks) == 1 and toks[0].word.isdecimal() and len(toks[0].word) <= 3):
        title = _folder_title(folders) or title  # "Take Five/Bb.pdf", "Cute/02 Alto Sax 2.pdf" (layout number)
    if found is None and kind in ("chart", "notation"):
        found = next((p for p in map(_text_part, reversed(folders)) if p is not None), None)
        sure = found is None
    refused = found.reason if isinstance(found, _Refused) else None
    part = found if isinstance(found, PartRef) else None
    score = part is not None and part.role is Role.SCORE
    if score and kind != "chart":  # a MusicXML score still holds its parts; audio is never a score
        part, score = None, kind != "audio"
    if part is None and kind == "chordpro" and not score:
        part = PartRef(role=Role.CHORDS)
    reason = None
    if kind == "other":
        reason = NOT_MUSIC
    elif not song_key(title):
        reason = NO_TITLE
    elif refused is not None:
        reason = refused
    elif part is None and kind in ("chart", "notation") and not score:
        reason = NO_PART
    role: AudioRole | None = ("backing" if backing else "reference") if kind == "audio" else None
    return ParsedName(kind, title, song_key(title), part, role, reason, score, guessed=part is not None and not sure)


def parse_filename(name: str, folders: Sequence[str] = ()) -> ParsedName:
    """What a file's name (and the folders above it, root first) says. Pure and deterministic; never raises."""
    try:
        return _parse(str(name), [str(f) for f in folders])
    except Exception:  # a name must never stop a sync; the file lands in Unsorted instead
        return ParsedName("other", "", "", unsorted_reason=UNREADABLE)


def choose_title(filename_title: str, pdf_title: str | None) -> str:
    """The PDF's title metadata when it names the same song (it keeps accents and apostrophes: "Señor Blues",
    "Don't Get Around Much Anymore"), else the file-name title. Junk metadata ("Microsoft Word - x.doc") loses."""
    meta = " ".join(_clean(pdf_title or "").split())[:300]
    if not meta:
        return filename_title
    candidates = [meta, parse_filename(re.sub(r"[/\\]", " ", meta) + ".pdf").title]
    if not song_key(filename_title):
        return _titlecase(candidates[1] or filename_title)
    target = song_key(filename_title).replace(" ", "")
    for candidate in candidates:
        if candidate and song_key(candidate).replace(" ", "") == target:
            return _titlecase(candidate)
    return filename_title
