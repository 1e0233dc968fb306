"""Understand a band's file names: which song, which part, what kind of file. Pure, deterministic, never raises.

Public API:
- ``parse_filename(name, folders=()) -> ParsedName``: kind, display title, grouping ``song_key``, part,
  ``audio_role`` and, when the file can't be filed, ``unsorted_reason`` in plain words.
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
  Vocal/Vox/Voice → the Vocals part (usually a vocal lead sheet; singers rank it above Lyrics). Lyrics → Lyrics.
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
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .parts import INSTRUMENT_ALIASES, MAX_CHAIR, PartRef, Role, Transposition, camel_cuts, fold, split_camel

Kind = Literal["chart", "notation", "chordpro", "audio", "other"]
AudioRole = Literal["reference", "backing"]

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
                "c instruments,c inst,lead sheet,leadsheet,lead sheets,pvg,p v g,piano vocal,piano vocal guitar",
    _T.BASS_CLEF: "bass clef,bassclef,bc,concert bass clef,bass clef concert,bass clef instruments,c bass clef",
})
ROLE_ALIASES = _table({
    _R.CHORDS: "chords,chord,chord chart,chord sheet,chord symbols,rhythm,rhythm section,rhythm sect,chords lyrics,"
               "lyrics chords,chords and lyrics,lyrics and chords,lyrics with chords,nashville,nashville numbers,"
               "number chart,nns",
    _R.LYRICS: "lyrics,lyric,lyric sheet,lyrics sheet,lyrics only",
})
_KEY_WORDS = {**{k: v for k, v in TRANSPOSITION_ALIASES.items() if k[-1] in ("bb", "flat", "bflat", "eb", "eflat",
                                                                              "f", "c", "concert")},
              ("in", "f"): _T.F, ("in", "c"): _T.CONCERT}  # a key next to an instrument: "Bb Trumpet", "Horn in F"
_RISKY = {"c", "f", "rhythm", "as", "ts", "kit", "nashville", "treble"}
_LINKING = {"in", "of", "the", "a", "an", "and", "my", "your", "got", "for", "to", "with", "on", "at", "by", "from",
            "is", "key"}
_ORDINALS = {w: n for n, words in enumerate(("1st first lead principal", "2nd second", "3rd third", "4th fourth",
                                             "5th fifth", "6th sixth", "7th seventh", "8th eighth", "9th ninth"), 1)
             for w in words.split()}
_ROMAN = {r: n for n, r in enumerate(("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix"), 1)}
_STRONG_NOISE = {"chart", "charts", "part", "parts", "score", "scores", "pdf", "pdfs"}
_NOISE = _STRONG_NOISE | {"copy", "final", "new", "draft", "edit", "edited", "rev", "revised", "updated", "version",
                          "ver", "transposed", "only"}
_REFERENCE = {"original", "orig", "reference", "ref", "live", "demo", "recording", "rec", "master", "mastered",
              "remastered", "mix", "rough", "rehearsal", "studio", "album", "version", "audio", "full", "band"}
_BACKING_WORDS = {"backing", "play", "playalong", "along", "minus", "karaoke", "instrumental", "click",
                  "accompaniment"}
_AUDIO_WORDS = _REFERENCE | _BACKING_WORDS | {"track", "tracks", "one"}
_GENERIC_FOLDERS = {"charts", "chart", "parts", "scores", "pdf", "pdfs", "music", "songs", "library", "audio",
                    "recordings", "mp3", "mp3s", "sheet music", "sheets", "files", "documents", "my drive", "shared",
                    "book", "band", "repertoire", "unsorted"}
_SMALL_WORDS = {"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with"}
_SYSTEM_FILES = {"thumbs.db", "desktop.ini", "icon\r"}
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_VERSION = re.compile(r"v\d{1,3}")
_YEAR = re.compile(r"(19|20)\d\d")


@dataclass(frozen=True)
class ParsedName:
    """What a file name says. ``unsorted_reason`` is None when the file can be filed under a song (and part)."""

    kind: Kind
    title: str
    song_key: str
    part: PartRef | None = None
    audio_role: AudioRole | None = None
    unsorted_reason: str | None = None


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


def _instrument_phrase(w: tuple[str, ...]) -> PartRef | None:
    """[key] [ordinal] instrument [chair] [in key] — "Bb Trumpet", "1st Tpt", "Alto Sax 2", "Horn in F"."""
    j, keys, chair = 0, [], None
    for size in (2, 1):
        if len(w) > size and w[:size] in _KEY_WORDS and w[0] != "in":
            keys.append(_KEY_WORDS[w[:size]])
            j = size
            break
    key, size = _longest_instrument(w, j)
    if key is None and j < len(w) and w[j] in _ORDINALS:
        chair = _ORDINALS[w[j]]
        key, size = _longest_instrument(w, j + 1)
        j += 1
    if key is None:
        return None
    j += size
    while j < len(w):
        for size in (3, 2, 1):
            if w[j:j + size] in _KEY_WORDS:
                keys.append(_KEY_WORDS[w[j:j + size]])
                j += size
                break
        else:
            if w[j:] in (("chords",), ("chord",)):  # "Guitar Chords": the guitar's own chart
                break
            if chair is not None or _chair(w[j]) is None:
                return None
            chair = _chair(w[j])
            j += 1
    if len(set(keys)) > 1:
        return None
    inst_key = PartRef(instrument=key).transposition
    if keys and keys[0] != inst_key:
        return PartRef(transposition=Transposition(keys[0]))  # "C Trumpet", "Eb Clarinet": file by the key
    return PartRef(instrument=key, chair=chair)


def _longest_instrument(w: tuple[str, ...], j: int) -> tuple[str | None, int]:
    """The longest instrument alias at ``w[j:]`` ("bass trombone" before "bass"), as (key, words used)."""
    for size in range(min(4, len(w) - j), 0, -1):
        key = INSTRUMENT_ALIASES.get(w[j:j + size])
        if key is not None:
            return key, size
    return None, 0


def _phrase(words: tuple[str, ...]) -> PartRef | None:
    """The part these words name, all of them, or None."""
    if words in TRANSPOSITION_ALIASES:
        return PartRef(transposition=Transposition(TRANSPOSITION_ALIASES[words]))
    if words in ROLE_ALIASES:
        return PartRef(role=Role(ROLE_ALIASES[words]))
    return _instrument_phrase(words) if words else None


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


def _match_end(toks: list[_Tok]) -> tuple[int, PartRef] | None:
    """The part phrase ending the token list, as (where it starts, part): the longest one that starts a segment
    ("Blues in F - F Horn" keeps its F), else the longest ("TAKE FIVE BB")."""
    found = None
    for start in range(max(0, len(toks) - 7), len(toks)):
        part = _phrase(tuple(t.word for t in toks[start:]))
        if part is None or _risky(toks, start):
            continue
        if start == 0 or toks[start].seg != toks[start - 1].seg:
            return start, part
        found = found or (start, part)
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


def _find_part(toks: list[_Tok]) -> tuple[list[_Tok], PartRef | None]:
    """Split tokens into (title tokens, part): the end of the name first, then a leading segment."""
    body = toks
    while len(body) > 1 and _duplicate(body, len(body) - 1):  # "Trumpet (1)" is a second download, not a chair
        body = body[:-1]
    while body:
        found = _match_end(body)
        if found is not None:
            start, part = found
            title = _strip_noise(body[:start], _STRONG_NOISE) if start else []
            again = _match_end(title)
            merged = _compatible(part, again[1]) if again else None
            if again and merged:
                title, part = _strip_noise(title[:again[0]], _STRONG_NOISE) if again[0] else [], merged
            return _drop_track_number(title), part
        if len(body) > 1 and _is_noise(body, len(body) - 1, _NOISE):
            body = body[:-1]
            continue
        break
    title, part = _leading_part(_drop_track_number(_strip_noise(toks, _NOISE)))
    return (title, part) if part else (_drop_track_number(_strip_noise(toks, _STRONG_NOISE)), None)


def _leading_part(toks: list[_Tok]) -> tuple[list[_Tok], PartRef | None]:
    """ "Bb - Take Five", "[Trumpet 2] Take Five": a first chunk cut off by a spaced dash or brackets."""
    if toks and toks[0].bracket:
        cut = next((n for n, t in enumerate(toks) if not t.bracket), 0)
    else:
        cut = next((n for n, t in enumerate(toks) if n and re.search(r"\s[-–—]|[-–—]\s", t.glue)), 0)
    if not cut:
        return toks, None
    part = _phrase(tuple(t.word for t in _strip_noise(toks[:cut], _NOISE)))
    return (toks[cut:], part) if part is not None else (toks, None)


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


def parse_part(text: str) -> PartRef | None:
    """The part a whole text names ("Tenor Sax 2", "Bb Parts", "Horn in F", "Lead Sheet"), else None."""
    toks = _tokens(_clean(text)[:200])
    toks = _strip_noise(toks, _NOISE)
    while len(toks) > 1 and toks[0].word in _STRONG_NOISE:
        toks = toks[1:]
    return _phrase(tuple(t.word for t in toks))


def _folder_title(folders: Sequence[str]) -> str:
    """The innermost folder that names a song, for files named only by their part ("Take Five/Bb.pdf")."""
    for folder in reversed(folders):
        text = _clean(folder)[:200]
        toks = _strip_noise(_drop_track_number(_tokens(text)), _STRONG_NOISE)
        if toks and parse_part(text) is None and " ".join(t.word for t in toks) not in _GENERIC_FOLDERS:
            return _title(text, toks, not any(ch.isspace() for ch in text))
    return ""


def _hidden(name: str, folders: Sequence[str]) -> bool:
    """Files no musician put there: dotfiles, Office locks, macOS and Windows droppings."""
    if name.startswith((".", "~")) or name.casefold() in _SYSTEM_FILES:
        return True
    return any(f.startswith(".") or f in ("__MACOSX", "$RECYCLE.BIN") for f in folders)


def _parse(name: str, folders: Sequence[str]) -> ParsedName:
    pieces = re.split(r"[/\\]", name[-2000:])
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
    toks = _tokens(stem)
    backing = False
    if kind == "audio":
        toks, backing = _strip_audio(toks)
    toks, part = _find_part(toks) if kind != "other" else (_drop_track_number(toks), None)
    if kind == "audio" and toks:
        toks, more = _strip_audio(toks)
        backing |= more
    title = _title(stem, toks, nospace) or _folder_title(folders)
    if part is None and kind in ("chart", "notation"):
        part = next((p for p in map(parse_part, reversed(folders)) if p is not None), None)
    if part is None and kind == "chordpro":
        part = PartRef(role=Role.CHORDS)
    reason = None
    if kind == "other":
        reason = NOT_MUSIC
    elif not song_key(title):
        reason = NO_TITLE
    elif part is None and kind in ("chart", "notation"):
        reason = NO_PART
    role: AudioRole | None = ("backing" if backing else "reference") if kind == "audio" else None
    return ParsedName(kind, title, song_key(title), part, role, reason)


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
