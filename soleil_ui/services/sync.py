"""Library sync: the band's source folder into songs, charts and audio tracks.

Idempotent and incremental: a file whose checksum is unchanged costs nothing; a renamed or moved file keeps
its id on Drive, and locally is recognised by its checksum, so a leader's manual assignment follows it.
One broken file is recorded with its reason and never stops the others. Blocking work (listing, fetching,
PDFium, verovio) runs in threads, the renderer's process pool or the engraver's workers; the event loop only does
bookkeeping.

MusicXML (.musicxml/.xml/.mxl) and ChordPro (.cho/.chordpro/.chopro/.crd, and a .txt whose content is ChordPro)
are inspected by the engraver instead of PDFium: their title, concert key and every part they can serve are
recorded (``Chart.parts``, ``Chart.source_key``), and their page count is that of the chart's own part. A score
with no part in its name is filed under the part it is written as (its own staves say what they are), not left
Unsorted. A .txt that isn't ChordPro is not a library file, like any other document.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..db import db
from ..engraving import detect_kind
from ..engraving.chordpro import MAX_BYTES as CHORDPRO_MAX_BYTES
from ..engraving.chordpro import songbook
from ..errors import BrokenFile, SoleilError, UpstreamUnavailable
from ..events import Event, hub
from ..models import (
    AudioTrack,
    Chart,
    ChartStatus,
    LibrarySource,
    Membership,
    Role,
    SetlistItem,
    Song,
    SyncState,
    utcnow,
)
from ..naming import MAX_TITLE, NOT_MUSIC, ParsedName, choose_title, parse_filename, search_key, song_key
from ..parts import PartRef, best_part, members_from_json, sort_parts
from ..runtime import Runtime, get_runtime
from ..sources.base import ChartSource, SourceFile
from .library import (
    ENGRAVE_KINDS,
    GENERATED_KINDS,
    engrave_spec,
    engraved_part,
    file_hint,
    filing_problem,
    named_part,
)

log = logging.getLogger(__name__)
CHART_KINDS = {"chart", "notation", "chordpro"}
GENERATED_WIDTH = 800  # the stand's layout width for engraved parts: what the page count and pre-rendering use
SONGBOOK_SONG = "#song"  # a songbook's second song is the chart of source file "<id>#song2"
_NOT_CHORDPRO: dict[str, None] = {}  # checksums of .txt files that aren't chord sheets (not fetched again)
_NOT_CHORDPRO_MAX = 10_000


@dataclass
class SyncProgress:
    """What a leader watches: shared per band while a sync runs, published on the hub topic ``library``."""

    band_id: int
    running: bool = False
    phase: str = "idle"
    total: int = 0
    done: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    broken: int = 0
    unsorted: int = 0
    error: str | None = None
    seconds: float = 0.0
    new_checksums: list[str] = field(default_factory=list)
    new_generated: list[int] = field(default_factory=list)  # chart ids of new MusicXML/ChordPro files

    def as_payload(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k not in ("new_checksums", "new_generated")}


_locks: dict[int, asyncio.Lock] = {}
_prerendering: dict[int, asyncio.Task[None]] = {}  # kept referenced so the loop can't collect them mid-way
SYNC_STALE = timedelta(hours=2)  # a "running" sync not heard of for this long died with its instance
CRASHED = "The sync stopped unexpectedly. Charts already synced still work."


async def read_progress(session: AsyncSession, band_id: int) -> SyncProgress:
    """The band's sync as last shared (``SyncState``), whichever instance runs it."""
    row = await session.get(SyncState, band_id)
    if row is None:
        return SyncProgress(band_id)
    known = {k: v for k, v in row.progress.items() if k in SyncProgress.__dataclass_fields__ and k != "band_id"}
    progress = SyncProgress(band_id, **known)
    if progress.running and row.updated_at < utcnow() - SYNC_STALE:
        progress.running, progress.phase, progress.error = False, "failed", CRASHED
    return progress


async def progress_of(band_id: int) -> SyncProgress:
    async with db.session() as session:
        return await read_progress(session, band_id)


def _publish(progress: SyncProgress) -> None:
    """A file done: this instance's pages move their bar (other instances hear of each phase, ``_share``)."""
    hub.deliver(Event(progress.band_id, "library", {"sync": progress.as_payload()}))


async def _share(progress: SyncProgress) -> None:
    """A phase change: kept in the database and announced to every instance (the hub delivers it here too)."""
    payload = progress.as_payload()
    try:
        async with db.session() as session:
            row = await session.get(SyncState, progress.band_id) or SyncState(band_id=progress.band_id)
            row.progress, row.updated_at = payload, utcnow()
            session.add(row)
        await hub.publish(Event(progress.band_id, "library", {"sync": payload}))
    except (SQLAlchemyError, OSError):  # the sync goes on; pages elsewhere catch up at its next phase
        log.warning("could not share the sync progress of band %s", progress.band_id, exc_info=True)


async def sync_band(band_id: int, source: ChartSource, *, prerender: bool = True,
                    on_progress: Callable[[SyncProgress], None] | None = None) -> SyncProgress:
    """Sync one band's library from ``source``. Concurrent calls for the same band wait for the running one.

    A Drive source is listed in full once and then follows the changes feed (its state is kept in the
    band's ``LibrarySource.state``); any other source is listed in full every time.
    """
    lock = _locks.setdefault(band_id, asyncio.Lock())
    async with lock:
        progress = SyncProgress(band_id, running=True, phase="listing")
        started = time.monotonic()

        def report() -> None:
            _publish(progress)
            if on_progress:
                on_progress(progress)

        async def phase() -> None:
            await _share(progress)
            if on_progress:
                on_progress(progress)

        await phase()
        try:
            listing = await _listing(band_id, source)
            progress.total, progress.phase = len(listing.files), "reading"
            await phase()
            await _apply(band_id, source, listing, progress, report)
            if listing.state is not None:
                await _save_state(band_id, listing.state)
            progress.phase = "done"
        except SoleilError as exc:
            progress.error, progress.phase = exc.user_message, "failed"
            log.warning("library sync for band %s failed: %s", band_id, exc.detail)
        except Exception:
            progress.error = CRASHED
            progress.phase = "failed"
            log.exception("library sync for band %s crashed", band_id)
        finally:
            progress.running = False
            progress.seconds = round(time.monotonic() - started, 3)
            await _record_outcome(band_id, progress.error)
            await phase()
        if prerender and (progress.new_checksums or progress.new_generated):
            _prerendering[band_id] = asyncio.get_running_loop().create_task(
                _prerender(progress.new_checksums, band_id, progress.new_generated))
        return progress


async def prerendered(band_id: int) -> None:
    """Wait until the pages of the band's last sync are rendered ahead (tests, benchmarks, `soleil sync`)."""
    task = _prerendering.get(band_id)
    if task is not None:
        await asyncio.shield(task)


async def _record_outcome(band_id: int, error: str | None) -> None:
    async with db.session() as session:
        record = (await session.exec(select(LibrarySource).where(LibrarySource.band_id == band_id))).first()
        if record is not None:
            record.last_error = error
            if error is None:
                record.last_sync_at = utcnow()
            session.add(record)


async def _prerender(checksums: list[str], band_id: int | None = None, generated: list[int] | None = None) -> None:
    """Render the common widths ahead of time so a musician's first open is a cache hit; engrave the parts the
    band's members will open from new MusicXML/ChordPro files."""
    runtime = get_runtime()
    for checksum in checksums:
        try:
            await runtime.renderer.prerender(checksum, lambda c=checksum: runtime.blobs.read(c))
        except Exception:
            log.warning("pre-rendering %s failed", checksum, exc_info=True)
    if band_id is not None and generated:
        try:
            await _prerender_generated(band_id, generated)
        except Exception:
            log.warning("engraving ahead for band %s failed", band_id, exc_info=True)


async def _prerender_generated(band_id: int, chart_ids: list[int]) -> None:
    """Each member's part (their best match, engraved for their instrument) of each new generated chart, at the
    stand's width. A part that fails is left for the stand to report (the engraver remembers the failure)."""
    runtime = get_runtime()
    async with db.session() as session:
        charts = (await session.exec(select(Chart).where(Chart.band_id == band_id, col(Chart.id).in_(chart_ids),
                                                         Chart.status == ChartStatus.OK))).all()
        rows = (await session.exec(select(Membership.instruments, Membership.reading, Membership.role)
                                   .where(Membership.band_id == band_id))).all()
    members = [(members_from_json(instruments, reading), role == Role.LEADER) for instruments, reading, role in rows]
    for chart in charts:
        keys = {chart.part_key or ""}
        available = [p for p in map(PartRef.try_from_key, chart.parts or ()) if p is not None]
        for member, leader in members:
            match = best_part(member, available, leader=leader)
            part = engraved_part(match, chart) if match.part is not None else None
            if part is not None:
                keys.add(part.key())
        specs = [engrave_spec(chart, k) for k in sorted(keys) if PartRef.try_from_key(k) is not None]
        await runtime.engraver.prerender(chart.checksum, specs, lambda c=chart.checksum: runtime.blobs.read(c),
                                         widths=(GENERATED_WIDTH,))


@dataclass
class _Listing:
    """What changed at the source: every file (``complete``), or the changed ones and the removed ids."""

    files: list[SourceFile]
    complete: bool = True
    removed_ids: list[str] = field(default_factory=list)
    state: dict[str, Any] | None = None  # the source's cursor to keep after a successful sync


async def _listing(band_id: int, source: ChartSource) -> _Listing:
    from ..sources.drive import DriveAccessError, DriveSource, DriveState

    if not isinstance(source, DriveSource):
        return _Listing(await asyncio.to_thread(source.list_files))
    async with db.session() as session:
        record = (await session.exec(select(LibrarySource).where(LibrarySource.band_id == band_id))).first()
    saved = (record.state or {}).get("drive") if record else None
    if saved and saved.get("root_id") == source.folder_id:
        try:
            changes = await asyncio.to_thread(source.changes_since, DriveState.from_dict(saved))
            return _Listing(changes.upserts, complete=False, removed_ids=changes.removed_ids,
                            state={"drive": changes.state.to_dict()})
        except (DriveAccessError, UpstreamUnavailable):
            raise
        except SoleilError as exc:  # e.g. an expired page token: start again from a full listing
            log.warning("Drive changes feed for band %s unusable (%s); listing the folder again", band_id, exc.detail)
    files, state = await asyncio.to_thread(source.snapshot)
    return _Listing(files, state={"drive": state.to_dict()})


async def _save_state(band_id: int, state: dict[str, Any]) -> None:
    async with db.session() as session:
        record = (await session.exec(select(LibrarySource).where(LibrarySource.band_id == band_id))).first()
        if record is not None:
            record.state = {**(record.state or {}), **state}
            session.add(record)


async def _apply(band_id: int, source: ChartSource, listing: _Listing, progress: SyncProgress,
                 report: Callable[[], None]) -> None:
    runtime = get_runtime()
    files = listing.files
    listed = {f.id for f in files}
    async with db.session() as session:
        # What an unchanged file needs compared, without loading (and JSON-decoding) every chart: a re-sync of an
        # unchanged folder then costs little more than listing it.
        known = {row[0]: row for row in (await session.exec(select(  # type: ignore[call-overload]
            Chart.source_file_id, Chart.checksum, Chart.file_name, Chart.folder, Chart.kind, Chart.status)
            .where(Chart.band_id == band_id))).all()}
        tracks = {t.source_file_id: t for t in
                  (await session.exec(select(AudioTrack).where(AudioTrack.band_id == band_id)))}
        unchanged = {f.id: known[f.id][5] for f in files if f.id in known and _same_chart(known[f.id], f)}
        gone_ids = {fid for fid in {*known, *tracks} if fid not in listed} if listing.complete else \
            set(listing.removed_ids) - listed
        charts: dict[str, Chart] = {}
        songs: dict[str, Song] = {}
        if gone_ids or any(f.id not in unchanged for f in files):
            charts = {c.source_file_id: c for c in (await session.exec(select(Chart).where(
                Chart.band_id == band_id)))}
            songs = {s.song_key: s for s in (await session.exec(select(Song).where(Song.band_id == band_id)))}

    seen: set[str] = set()
    gone_ids |= {fid for fid in charts if fid.partition(SONGBOOK_SONG)[0] in gone_ids}  # a songbook's songs go with it
    gone_by_checksum = {c.checksum: c for fid, c in charts.items() if fid in gone_ids}
    last_report = time.monotonic()
    for index, file in enumerate(files):
        if file.id in unchanged:  # the same file under the same name: nothing to read, parse or write
            seen.add(file.id)
            status = unchanged[file.id]
            progress.unchanged += 1
            progress.broken += status == ChartStatus.BROKEN
            progress.unsorted += status == ChartStatus.UNSORTED
            progress.done = index + 1
            continue
        parsed = parse_filename(file.name, file.folder)
        prefetched = None
        if _maybe_chord_sheet(file, parsed):
            chords, prefetched = await _text_chord_sheet(file, charts.get(file.id), source)
            if chords is None:  # not ChordPro: not a library file (and no longer one, if it used to be)
                gone_ids.add(file.id)
                progress.done = index + 1
                continue
            parsed = chords
        seen.add(file.id)
        more: list[tuple[SourceFile, ParsedName, bytes]] = []
        if parsed.kind == "chordpro":
            parsed, prefetched, more = await _songbook(file, parsed, charts, source, prefetched, seen, gone_ids)
        if parsed.kind == "audio":
            await _sync_audio(band_id, source, file, parsed, tracks.get(file.id), songs, progress, runtime)
        elif parsed.kind in CHART_KINDS:
            await _sync_chart(band_id, source, file, parsed, charts.get(file.id), gone_by_checksum, songs,
                              progress, runtime, prefetched)
        for song_file, song_parsed, data in more:  # a songbook's further songs, each a chart of its own
            seen.add(song_file.id)
            await _sync_chart(band_id, source, song_file, song_parsed, charts.get(song_file.id), gone_by_checksum,
                              songs, progress, runtime, data)
        progress.done = index + 1
        if time.monotonic() - last_report > 0.25:
            report()
            last_report = time.monotonic()

    progress.phase = "cleaning up"
    async with db.session() as session:
        stale_charts = [c.id for fid, c in charts.items() if fid in gone_ids and fid not in seen]
        stale_tracks = [t.id for fid, t in tracks.items() if fid in gone_ids and fid not in seen]
        if stale_charts:
            await session.exec(delete(Chart).where(col(Chart.id).in_(stale_charts)))
        if stale_tracks:
            await session.exec(delete(AudioTrack).where(col(AudioTrack.id).in_(stale_tracks)))
        progress.removed = len(stale_charts) + len(stale_tracks)
        await _drop_empty_songs(session, band_id)


def _maybe_chord_sheet(file: SourceFile, parsed: ParsedName) -> bool:
    """A .txt document might be a ChordPro sheet: only its content can tell."""
    return parsed.kind == "other" and parsed.unsorted_reason == NOT_MUSIC and file.name.lower().endswith(".txt")


def _as_chord_sheet(file: SourceFile) -> ParsedName:
    """A .txt chord sheet's name read like a .cho one's (no part named: the Chords part)."""
    return parse_filename(file.name[:-4] + ".cho", file.folder)


async def _text_chord_sheet(file: SourceFile, existing: Chart | None, source: ChartSource
                            ) -> tuple[ParsedName | None, bytes | None]:
    """A .txt that is ChordPro, parsed as one (with its bytes, when they had to be fetched to tell); else None."""
    if existing is not None and existing.checksum == file.checksum:
        return _as_chord_sheet(file), None  # recognised before and unchanged
    if (file.checksum and file.checksum in _NOT_CHORDPRO) or file.size > CHORDPRO_MAX_BYTES:
        return None, None
    try:
        data = await asyncio.to_thread(source.fetch, file.id)
        kind = await asyncio.to_thread(detect_kind, data, file.name)
    except BrokenFile:  # "This text file isn't a ChordPro chord sheet"
        kind = None
    except SoleilError as exc:
        log.warning("could not read %s: %s", file.name, exc.detail)
        return None, None
    if kind != "chordpro":
        if file.checksum:
            _NOT_CHORDPRO[file.checksum] = None
            while len(_NOT_CHORDPRO) > _NOT_CHORDPRO_MAX:
                _NOT_CHORDPRO.pop(next(iter(_NOT_CHORDPRO)))
        return None, None
    return _as_chord_sheet(file), data


async def _songbook(file: SourceFile, parsed: ParsedName, charts: dict[str, Chart], source: ChartSource,
                    prefetched: bytes | None, seen: set[str], gone_ids: set[str]
                    ) -> tuple[ParsedName, bytes | None, list[tuple[SourceFile, ParsedName, bytes]]]:
    """A ChordPro file with several songs (``{new_song}``): the file's own chart is its first song, each further
    song a chart of its own (source id "<file id>#song2", its text stored under its own checksum). Each is filed
    under its ``{title}``. An unchanged file keeps the songs it had; one that can't be read is left to
    ``_sync_chart`` (which records it broken)."""
    existing = charts.get(file.id)
    before = {fid for fid in charts if fid.startswith(file.id + SONGBOOK_SONG)}
    if existing is not None and existing.checksum == file.checksum:
        seen.update(before)
        return parsed, prefetched, []
    gone_ids.update(before)  # songs no longer in the file go (those still there are seen again below)
    try:
        data = prefetched if prefetched is not None else await asyncio.to_thread(source.fetch, file.id)
        songs = await asyncio.to_thread(songbook, data)
    except SoleilError:
        return parsed, prefetched, []
    if len(songs) < 2:
        return parsed, data, []
    stem = file.name.rpartition(".")[0] or file.name

    def titled(title: str | None, number: int) -> ParsedName:  # what the name said, under the song's own title
        title = " ".join((title or f"{parsed.title or stem} {number}").split())[:MAX_TITLE]
        return replace(parsed, title=title, song_key=song_key(title) or parsed.song_key)

    more = []
    for number, (text, title) in enumerate(songs[1:], 2):
        body = text.encode("utf-8")
        song_file = replace(file, id=f"{file.id}{SONGBOOK_SONG}{number}", size=len(body),
                            checksum=hashlib.sha256(body).hexdigest())
        more.append((song_file, titled(title, number), body))
    return titled(songs[0][1], 1), data, more


async def _drop_empty_songs(session: AsyncSession, band_id: int) -> None:
    """A song with no files left goes, unless a setlist still names it (its entries must survive)."""
    has_chart = select(Chart.song_id).where(Chart.band_id == band_id, col(Chart.song_id).is_not(None))
    has_audio = select(AudioTrack.song_id).where(AudioTrack.band_id == band_id,
                                                 col(AudioTrack.song_id).is_not(None))
    in_setlist = select(SetlistItem.song_id).where(SetlistItem.band_id == band_id,
                                                   col(SetlistItem.song_id).is_not(None))
    await session.exec(delete(Song).where(col(Song.band_id) == band_id, col(Song.title_locked).is_(False),
                                          col(Song.id).not_in(has_chart), col(Song.id).not_in(has_audio),
                                          col(Song.id).not_in(in_setlist)))


def _same_chart(known: Any, file: SourceFile) -> bool:
    """Whether a listed file is the chart row ``known`` (source id, checksum, name, folder, kind, status) unchanged:
    what ``_sync_chart`` counts as unchanged, checked before parsing the name. A ChordPro file may be a songbook
    whose songs are charts of their own, so it always takes the full path."""
    _fid, checksum, name, folder, kind, _status = known
    return kind != "chordpro" and checksum == file.checksum and name == file.name and folder == "/".join(file.folder)


async def _song_for(band_id: int, parsed: ParsedName, pdf_title: str | None, songs: dict[str, Song]) -> Song:
    async with db.session() as session:
        song = songs.get(parsed.song_key)
        title = choose_title(parsed.title, pdf_title)
        if song is None:
            song = Song(band_id=band_id, title=title[:MAX_TITLE], song_key=parsed.song_key[:MAX_TITLE],
                        search_key=search_key(title))
        elif not song.title_locked and pdf_title and title != song.title:
            song.title, song.search_key = title[:MAX_TITLE], search_key(title)
        else:
            return song
        session.add(song)
        await session.flush()
        songs[parsed.song_key] = song
        return song


async def _sync_chart(band_id: int, source: ChartSource, file: SourceFile, parsed: ParsedName,
                      existing: Chart | None, gone_by_checksum: dict[str, Chart], songs: dict[str, Song],
                      progress: SyncProgress, runtime: Runtime, prefetched: bytes | None = None) -> None:
    if existing and existing.checksum == file.checksum and existing.file_name == file.name \
            and existing.folder == "/".join(file.folder):
        progress.unchanged += 1
        # broken and unsorted count files in that state now, not files that changed: a re-sync reports them too
        progress.broken += existing.status == ChartStatus.BROKEN
        progress.unsorted += existing.status == ChartStatus.UNSORTED
        return
    moved_from = gone_by_checksum.pop(file.checksum, None) if existing is None else None
    chart = existing or Chart(band_id=band_id, source_file_id=file.id, file_name=file.name)
    carried = moved_from or existing
    chart.file_name, chart.folder, chart.mime_type = file.name[:512], "/".join(file.folder)[:1024], file.mime_type
    chart.kind, chart.size, chart.modified_at, chart.synced_at = parsed.kind, file.size, file.modified, utcnow()
    generated = parsed.kind in GENERATED_KINDS
    part = own = named_part(parsed, generated)
    if generated and carried is not None and carried.manual:  # the leader's part stands in for the name's
        chart.manual, chart.part_key = True, carried.part_key
        part = PartRef.try_from_key(carried.part_key) or part
    if not generated and carried is not None and carried.checksum == file.checksum \
            and carried.status != ChartStatus.BROKEN:
        chart.page_count, chart.pdf_title, chart.status, chart.problem, chart.page_sizes = (
            carried.page_count, carried.pdf_title, carried.status, carried.problem, carried.page_sizes)
        chart.page_crops = carried.page_crops
    elif generated:  # re-read even when only renamed: the part its name gives may change what it serves
        part = await _read_generated(chart, source, file, parsed, part, runtime, progress, prefetched)
    else:
        await _read_chart(chart, source, file, parsed, runtime, progress)
    chart.checksum = file.checksum
    reason = filing_problem(parsed, part, generated)
    if carried is not None and carried.manual:
        chart.manual, chart.song_id, chart.part_key = True, carried.song_id, carried.part_key
        chart.status = ChartStatus.OK if chart.status != ChartStatus.BROKEN else chart.status
        # What the file says, for undoing. A generated file was read with the leader's part as its hint: its name's
        # part if it names one, else what its staves said before the correction.
        if generated:
            chart.parsed_part_key = own.key() if own is not None else carried.parsed_part_key
        else:
            chart.parsed_part_key = part.key() if part is not None and reason is None else None
    elif chart.status != ChartStatus.BROKEN:
        chart.parsed_part_key = part.key() if part is not None and reason is None else None
        if reason or part is None:
            chart.status, chart.problem = ChartStatus.UNSORTED, reason
            chart.song_id, chart.part_key = None, None
        else:
            song = await _song_for(band_id, parsed, chart.pdf_title, songs)
            chart.song_id, chart.part_key = song.id, part.key()
            chart.status, chart.problem = ChartStatus.OK, None
    if chart.status == ChartStatus.BROKEN:
        progress.broken += 1
    elif chart.status == ChartStatus.UNSORTED:
        progress.unsorted += 1
    async with db.session() as session:
        if moved_from is not None:
            await session.exec(delete(Chart).where(col(Chart.id) == moved_from.id))
        session.add(chart)
    if generated and chart.status == ChartStatus.OK and chart.id is not None:
        progress.new_generated.append(chart.id)
    if existing is None and moved_from is None:
        progress.added += 1
    else:
        progress.updated += 1


async def _read_chart(chart: Chart, source: ChartSource, file: SourceFile, parsed: ParsedName,
                      runtime: Runtime, progress: SyncProgress) -> None:
    """Fetch, store and inspect a changed file; a broken one is recorded with its reason, never raised."""
    try:
        data = await asyncio.to_thread(source.fetch, file.id)
        if parsed.kind == "chart":
            info = await runtime.renderer.inspect(data)
            chart.page_count, chart.pdf_title = info.page_count, (info.title or None)
            chart.page_sizes = [[round(w, 1), round(h, 1)] for w, h in info.page_sizes]
            chart.page_crops = [list(box) for box in await runtime.renderer.ink_boxes(data)]  # the stand's crop
        await runtime.blobs.put(file.checksum, data)
        chart.status, chart.problem = ChartStatus.OK, None
        if parsed.kind == "chart":
            progress.new_checksums.append(file.checksum)
    except BrokenFile as exc:
        chart.status, chart.problem, chart.page_count = ChartStatus.BROKEN, exc.user_message, 0
    except SoleilError as exc:
        chart.status, chart.problem = ChartStatus.BROKEN, exc.user_message
        log.warning("could not read %s: %s", file.name, exc.detail)


async def _read_generated(chart: Chart, source: ChartSource, file: SourceFile, parsed: ParsedName,
                          part: PartRef | None, runtime: Runtime, progress: SyncProgress,
                          prefetched: bytes | None) -> PartRef | None:
    """Fetch (or reuse the stored copy), store and inspect a MusicXML or ChordPro file; count the pages of the part
    it will be filed under. Returns that part (the one its name gives, else the one it is written as). A file that
    can't be used is recorded broken with the engraver's reason, never raised."""
    kind = ENGRAVE_KINDS[parsed.kind]
    try:
        data = prefetched
        if data is None and await runtime.blobs.has(file.checksum):
            data = await runtime.blobs.read(file.checksum)
        if data is None:
            data = await asyncio.to_thread(source.fetch, file.id)
        chart.kind, chart.checksum = parsed.kind, file.checksum
        info = await runtime.engraver.inspect(data, file.name, file_hint(chart), kind=kind)
        part = part or info.default_part
        chart.part_key = part.key()  # what engrave_spec reads
        count = await runtime.engraver.page_count(file.checksum, engrave_spec(chart, part.key()), GENERATED_WIDTH,
                                                  lambda: data)
        await runtime.blobs.put(file.checksum, data)
        chart.page_count, chart.page_sizes, chart.page_crops = count, [], []
        chart.pdf_title, chart.source_key = (info.title or None), info.key
        chart.parts = [p.key() for p in sort_parts({*info.available, part})]
        chart.status, chart.problem = ChartStatus.OK, None
        return part
    except BrokenFile as exc:
        chart.status, chart.problem, chart.page_count, chart.parts = ChartStatus.BROKEN, exc.user_message, 0, []
    except SoleilError as exc:
        chart.status, chart.problem, chart.parts = ChartStatus.BROKEN, exc.user_message, []
        log.warning("could not read %s: %s", file.name, exc.detail)
    return part


async def _sync_audio(band_id: int, source: ChartSource, file: SourceFile, parsed: ParsedName,
                      existing: AudioTrack | None, songs: dict[str, Song], progress: SyncProgress,
                      runtime: Runtime) -> None:
    if existing and existing.checksum == file.checksum and existing.file_name == file.name:
        progress.unchanged += 1
        return
    if not await runtime.blobs.has(file.checksum):
        try:
            await runtime.blobs.put(file.checksum, await asyncio.to_thread(source.fetch, file.id))
        except SoleilError as exc:
            log.warning("could not read audio %s: %s", file.name, exc.detail)
            return
    track = existing or AudioTrack(band_id=band_id, source_file_id=file.id, file_name=file.name)
    track.file_name, track.mime_type, track.size = file.name[:512], file.mime_type, file.size
    track.synced_at = utcnow()
    track.checksum = file.checksum
    if not track.manual:
        track.song_id = (await _song_for(band_id, parsed, None, songs)).id
    async with db.session() as session:
        session.add(track)
    if existing is None:
        progress.added += 1
    else:
        progress.updated += 1


async def sync_configured(band_id: int, *, prerender: bool = True) -> SyncProgress:
    """Sync a band from the source recorded for it (what "Sync now", the schedule and `soleil sync` call)."""
    from ..errors import NotFound
    from ..sources.factory import source_for
    from .library_source import foreign_folders

    async with db.session() as session:
        record = (await session.exec(select(LibrarySource).where(LibrarySource.band_id == band_id))).first()
        foreign = await foreign_folders(session, band_id) if record is not None and record.kind == "drive" else None
    if record is None:
        raise NotFound("This band has no library folder connected yet.")
    return await sync_band(band_id, source_for(record, foreign=foreign or frozenset()), prerender=prerender)


async def sync_all(*, prerender: bool = True) -> list[SyncProgress]:
    async with db.session() as session:
        band_ids = list((await session.exec(select(LibrarySource.band_id))).all())
    return [await sync_configured(band_id, prerender=prerender) for band_id in band_ids]
