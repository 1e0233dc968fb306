"""Setlists in and out of spreadsheets: a CSV pasted or uploaded, or a Google Sheet; and a setlist as CSV.

Importing is two steps so nothing is saved on a guess: ``preview`` matches every title to the band's library and
says which are sure, doubtful or unmatched (with candidates); the leader chooses, then ``create_from_preview`` makes
the setlist. Titles are matched with the library's own folding (``naming.search_key``: case, accents, punctuation,
"&" and "and" don't matter) and the library's own search (every word typed); a title that still finds nothing gets
near spellings of the band's titles as candidates, never an automatic pick.

A Google Sheet is read only when the band may: with the leader's own Google grant the band reads with (the leader
could open it anyway), or, through the server's shared service account, only from inside the band's *verified* Drive
folder (``library_source.ensure_readable_by_band``). Any other sheet id is refused.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .. import setlist_table
from ..access import Actor
from ..errors import Forbidden, InvalidInput, SoleilError
from ..models import LibrarySource, Setlist, Song
from ..naming import search_key
from ..runtime import get_runtime
from ..setlist_table import ImportRow, Table
from ..sources import sheets
from ..sources.factory import stored_credentials, uses_own_grant
from . import library, library_source, setlists
from .validation import clean_text

log = logging.getLogger(__name__)

MATCHED, DOUBTFUL, UNMATCHED, BREAK = "matched", "doubtful", "unmatched", "break"
MAX_CANDIDATES = 4
_NEAR = 0.6  # difflib ratio from which a title counts as a near spelling


@dataclass(frozen=True, slots=True)
class Candidate:
    song_id: int
    title: str


@dataclass(frozen=True, slots=True)
class PreviewRow:
    """One entry of the sheet and what SOLEil made of it. ``song_id`` is set only for a sure match."""

    line: int
    title: str
    status: str  # matched | doubtful | unmatched | break
    song_id: int | None = None
    candidates: tuple[Candidate, ...] = ()
    key: str | None = None
    duration_seconds: int | None = None
    notes: str = ""
    problems: tuple[str, ...] = ()  # a key or a duration the sheet has that SOLEil couldn't read (left out)


@dataclass(frozen=True, slots=True)
class Preview:
    rows: tuple[PreviewRow, ...]
    ignored: tuple[str, ...]  # columns nothing reads (Order, Status, …)
    mapping: Mapping[str, int | None] = field(default_factory=dict)

    @property
    def to_choose(self) -> list[PreviewRow]:
        return [r for r in self.rows if r.status in (DOUBTFUL, UNMATCHED)]


# --- reading ----------------------------------------------------------------------------------------------------
def read_csv(actor: Actor, data: bytes | str) -> Table:
    """A pasted or uploaded CSV (leaders only; size-limited, ``InvalidInput`` with what to do otherwise)."""
    actor.require_leader()
    return setlist_table.read_csv(data)


async def read_sheet(session: AsyncSession, actor: Actor, link: str) -> Table:
    """A Google Sheet's first sheet, if the band may read it (see the module's docstring); Forbidden otherwise."""
    actor.require_leader()
    sheet_id = sheets.parse_sheet_id(link)
    record = (await session.exec(select(LibrarySource).where(LibrarySource.band_id == actor.band_id))).first()
    if record is not None and record.kind == "drive" and record.verified_at is not None and uses_own_grant(record):
        how = "the leader's own Google grant"  # reads only what that leader's account may read anyway
    else:
        await library_source.ensure_readable_by_band(session, actor, sheet_id)
        how = "the band's verified folder"
    assert record is not None  # ensure_readable_by_band refused otherwise
    credentials = stored_credentials(record.credentials_enc)
    endpoint = get_runtime().settings.sheets_api_endpoint or None
    try:
        values = await asyncio.to_thread(sheets.read_values, sheet_id, credentials, endpoint)
    except SoleilError as exc:
        log.info("band %s: Google Sheet %s not read through %s: %s", actor.band_id, sheet_id, how, exc.detail)
        if isinstance(exc, Forbidden) or exc.status_code == 404:
            raise Forbidden(exc.user_message, detail=exc.detail) from exc
        raise
    log.info("band %s read Google Sheet %s through %s", actor.band_id, sheet_id, how)
    return setlist_table.table_from_cells(values)


async def song_choices(session: AsyncSession, actor: Actor) -> dict[int, str]:
    """Every song of the band, id → title in title order: what a leader may pick for a title that didn't match."""
    actor.require_leader()
    found = (await session.exec(select(Song.id, Song.title).where(Song.band_id == actor.band_id)
                                .order_by(col(Song.search_key)).limit(5000))).all()
    return {song_id: title for song_id, title in found if song_id is not None}


# --- matching ---------------------------------------------------------------------------------------------------
async def preview(session: AsyncSession, actor: Actor, table: Table,
                  mapping: Mapping[str, int | None] | None = None) -> Preview:
    """What importing ``table`` would make, titles matched to the band's library; nothing is saved."""
    actor.require_leader()
    mapping = setlist_table.check_mapping(table.headers, mapping or setlist_table.guess_mapping(table.headers))
    songs = (await session.exec(select(Song.id, Song.title, Song.search_key)
                                .where(Song.band_id == actor.band_id))).all()
    by_key: dict[str, list[Candidate]] = {}
    for song_id, title, key in songs:
        by_key.setdefault(key or search_key(title), []).append(Candidate(song_id or 0, title))
    rows = [await _preview_row(session, actor, row, by_key) for row in setlist_table.import_rows(table, mapping)]
    return Preview(tuple(rows), tuple(setlist_table.ignored_columns(table.headers, mapping)), mapping)


async def _preview_row(session: AsyncSession, actor: Actor, row: ImportRow,
                       by_key: Mapping[str, list[Candidate]]) -> PreviewRow:
    if row.is_break:
        return PreviewRow(row.line, row.title, BREAK)
    key, duration, problems = _key_and_duration(row)
    base: dict[str, Any] = {"line": row.line, "title": row.title, "key": key, "duration_seconds": duration,
            "notes": row.notes[:500], "problems": problems}
    folded = search_key(row.title)
    exact = by_key.get(folded, [])
    if len(exact) == 1:
        return PreviewRow(status=MATCHED, song_id=exact[0].song_id, candidates=tuple(exact), **base)
    if exact:  # two songs fold to the same title: the leader says which
        return PreviewRow(status=DOUBTFUL, candidates=tuple(exact[:MAX_CANDIDATES]), **base)
    found: list[Candidate] = []
    if folded:  # the library's own search: every word of the title in a song's title
        page = await library.search_songs(session, actor, folded[:200], limit=MAX_CANDIDATES)
        found = [Candidate(r.song_id, r.title) for r in page.rows]
    for near in difflib.get_close_matches(folded, list(by_key), n=MAX_CANDIDATES, cutoff=_NEAR):
        found += [c for c in by_key[near] if c not in found]
    if found:
        return PreviewRow(status=DOUBTFUL, candidates=tuple(found[:MAX_CANDIDATES]), **base)
    return PreviewRow(status=UNMATCHED, **base)


def _key_and_duration(row: ImportRow) -> tuple[str | None, int | None, tuple[str, ...]]:
    problems: list[str] = []
    key = duration = None
    try:
        key = setlists.clean_key(row.key)
    except InvalidInput:
        problems.append(f"key “{row.key}” not understood")
    try:
        duration = setlists.parse_duration(row.duration)
    except InvalidInput:
        problems.append(f"duration “{row.duration}” not understood")
    return key, duration, tuple(problems)


# --- creating ---------------------------------------------------------------------------------------------------
async def create_from_preview(session: AsyncSession, actor: Actor, name: str, rows: Sequence[PreviewRow],
                              choices: Mapping[int, int | None] | None = None) -> Setlist:
    """The setlist the preview describes. ``choices``: sheet line → the song the leader chose for a doubtful or
    unmatched title, or None to leave that row out. Every doubtful or unmatched row needs a choice; a sure match
    may be overridden the same way. Chosen songs must be the band's."""
    actor.require_leader()
    choices = dict(choices or {})
    clean_name = clean_text(name, "Setlist name", max_length=120)
    missing = [r.title for r in rows if r.status in (DOUBTFUL, UNMATCHED) and r.line not in choices]
    if missing:
        raise InvalidInput(f"Choose a song (or skip) for: {', '.join(missing[:5])}"
                           + ("…" if len(missing) > 5 else "") + ".")
    if len(rows) > setlists.MAX_ITEMS:
        raise InvalidInput(f"A setlist holds at most {setlists.MAX_ITEMS} entries.")
    chosen = {c for c in choices.values() if c is not None}
    if chosen:
        own = set((await session.exec(select(Song.id).where(Song.band_id == actor.band_id,
                                                            col(Song.id).in_(sorted(chosen))))).all())
        if chosen - own:
            raise InvalidInput("One of the chosen songs isn't in your library any more. Look again.")
    setlist = await setlists.create_setlist(session, actor, clean_name)
    assert setlist.id is not None
    for row in rows:
        if row.status == BREAK:
            await setlists.apply_op(session, actor, setlist.id, setlists.Op.insert_break(row.title))
            continue
        song_id = choices[row.line] if row.line in choices else row.song_id
        if song_id is None:
            continue
        await setlists.apply_op(session, actor, setlist.id, setlists.Op.insert_song(
            song_id, notes=row.notes, musical_key=row.key, duration_seconds=row.duration_seconds))
    log.info("band %s imported setlist %s (%d rows)", actor.band_id, setlist.id, len(rows))
    return setlist


# --- export -----------------------------------------------------------------------------------------------------
async def export_csv(session: AsyncSession, actor: Actor, setlist_id: int) -> tuple[str, str]:
    """The setlist as CSV (the columns bands kept: Order, Song Title, Key, Duration, Notes, plus Set break), every
    cell neutralised so a spreadsheet shows formulas as text. Returns (setlist name, CSV text)."""
    setlist = await setlists.get_setlist(session, actor, setlist_id)
    entries = await setlists.entries(session, actor, setlist_id)
    rows = [("", "", "", "", entry.notes, entry.label) if entry.is_break else
            (str(entry.number), entry.label, entry.musical_key or "",
             setlists.format_duration(entry.typed_duration or entry.duration_seconds), entry.notes, "")
            for entry in entries]
    return setlist.name, setlist_table.write_csv(setlist_table.EXPORT_HEADERS, rows)
