"""Notation that SOLEil draws itself: MusicXML engraved with verovio and ChordPro chord sheets, for every part.

A PDF chart is one part; a MusicXML score or a ChordPro sheet can be every part. Sync classifies and inspects a
file with ``inspect_source`` (or ``Engraver.inspect`` in a worker); the library matches members to
``SourceInfo.available`` with ``parts.best_part``; the stand asks the media route for pages, which calls
``Engraver.page_svg(checksum, EngraveSpec.from_params(query), page, width, load)``.

Modules: ``theory`` (pitches, intervals, keys, chord symbols, ranges; pure), ``chordpro`` (parse, lay out, draw),
``musicxml`` (verovio wrapper), ``engraver`` (specs, workers with a time limit, the disk cache).
"""

from .chordpro import ChordView, Song, SongInfo, looks_like_chordpro, parse_chordpro
from .engraver import (
    CACHE_VERSION,
    MEDIA_TYPE,
    Engraver,
    EngraveSpec,
    SourceInfo,
    detect_kind,
    engrave,
    etag_for,
    inspect_source,
    pdf_for,
)
from .musicxml import ScoreInfo, ScorePart, inspect_score, list_parts
from .theory import Chord, Interval, Key, Pitch, parse_chord, transpose_chord_text

__all__ = [
    "CACHE_VERSION",
    "MEDIA_TYPE",
    "Chord",
    "ChordView",
    "EngraveSpec",
    "Engraver",
    "Interval",
    "Key",
    "Pitch",
    "ScoreInfo",
    "ScorePart",
    "Song",
    "SongInfo",
    "SourceInfo",
    "detect_kind",
    "engrave",
    "etag_for",
    "inspect_score",
    "inspect_source",
    "list_parts",
    "looks_like_chordpro",
    "parse_chord",
    "parse_chordpro",
    "pdf_for",
    "transpose_chord_text",
]
