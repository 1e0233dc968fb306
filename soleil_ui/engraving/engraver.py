"""Engraved pages on disk: MusicXML and ChordPro parts drawn in worker processes that are killed past a time limit.

Mirrors ``soleil_ui.rendering.PageRenderer`` (disk cache, atomic writes, in-flight dedupe, width snapping) with two
differences that notation needs:

- One job lays out a whole part at one width and writes every page (verovio's layout is the cost; drawing a page
  from it is cheap), plus ``pages.json``. ``page_count`` and ``page_svg`` share the job.
- ``ProcessPoolExecutor`` can't stop a single task, and verovio can take minutes over a monster score. So each
  worker is a ``multiprocessing`` process of our own, talking over a pipe: a job past ``time_limit`` gets its
  worker SIGKILLed (a fresh one starts for the next job) and becomes ``BrokenFile("… too large to engrave …")``.
  A worker that dies (a crash in native code) is replaced and the job retried once, like ``PageRenderer``.
  Failures are remembered (a day; an hour for time-outs), so a hostile file costs one time limit, not one per
  request.

Public API (worker side, synchronous; also fine in tests):
- ``EngraveSpec``: everything besides the file, the page and the width that changes a drawing. ``to_params`` /
  ``from_params`` are the media route's query string; ``cache_key()`` names it on disk.
- ``detect_kind(data, filename)``, ``inspect_source(data, filename, hint) -> SourceInfo`` (what sync stores),
  ``engrave(data, spec, width) -> list[str]`` (SVG pages), ``pdf_for(data, spec) -> bytes`` (print).

Server side, async: ``Engraver(cache_dir, workers, time_limit)`` with ``page_svg``, ``page_count``, ``pages``,
``inspect``, ``pdf``, ``prerender``, ``prune`` and ``close``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from inspect import isawaitable
from pathlib import Path
from typing import Any, Literal, TypeVar

from soleil_ui.errors import BrokenFile, InvalidInput, NotFound, SoleilError
from soleil_ui.files import touch_if_stale, write_atomic
from soleil_ui.parts import PartRef, Role, Transposition
from soleil_ui.rendering import PRERENDER_WIDTHS, WIDTHS, snap_width

from . import chordpro, musicxml
from .theory import Clef, Key

ENGRAVE_VERSION = 2  # bump when drawings change, so caches and ETags start afresh
MEDIA_TYPE = "image/svg+xml"
DEFAULT_TIME_LIMIT = 60.0  # seconds of wall time per job
FAILURE_TTL = 24 * 3600  # how long a file that failed to engrave is refused without trying again
TIMEOUT_TTL = 3600  # ... and one that ran out of time (the server may just have been busy)
MAX_OCTAVE_SHIFT = 2
Kind = Literal["musicxml", "chordpro"]

_CHECKSUM = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-"
_TOO_LARGE = "This score is too large to engrave on the server (it took longer than {limit:g} s) — split it into parts"
_CRASHED = "This file crashed the engraver — re-export it from your notation program"


def _verovio_version() -> str:
    try:
        return version("verovio")
    except PackageNotFoundError:  # pragma: no cover - verovio is a dependency
        return "0"


CACHE_VERSION = f"e{ENGRAVE_VERSION}-v{_verovio_version()}"


@dataclass(frozen=True)
class EngraveSpec:
    """What to draw from a source file: the ``part`` (a ``PartRef``), and the options that change the drawing.

    - ``kind``: "musicxml" or "chordpro" (None: detected from the bytes; sync knows it, so pass it).
    - ``hint``: the part the file *name* names; used only when the file says nothing about its transposition.
    - ``concert_key``: the key the band plays the song in tonight ("C", "Eb"); every part follows it.
    - ``key``: a member's own written key for their part (overrides where ``concert_key`` put it).
    - ``octave_shift``: a member's octave up (+1) or down (-1) after the automatic choice.
    - ``clef``: "treble" or "bass" to override the part's clef (MusicXML, single-staff parts).
    - ``source_part``: a MusicXML staff id ("P2") to engrave, instead of the one matched to ``part``.
    Keys are normalised ("E♭" → "Eb"), so equal drawings share a cache entry. Invalid values raise InvalidInput.
    """

    part: PartRef
    kind: Kind | None = None
    hint: PartRef | None = None
    concert_key: str | None = None
    key: str | None = None
    octave_shift: int = 0
    clef: Clef | None = None
    source_part: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.part, PartRef):
            raise InvalidInput("Choose a part to show.")
        if self.kind not in (None, "musicxml", "chordpro"):
            raise InvalidInput("Unknown kind of notation file.")
        for name in ("concert_key", "key"):
            value = getattr(self, name)
            if value is not None:
                parsed = Key.try_parse(str(value))
                if parsed is None:
                    raise InvalidInput(f"“{str(value)[:20]}” isn't a key (try C, Eb, F#m).")
                object.__setattr__(self, name, parsed.name())
        if type(self.octave_shift) is not int or abs(self.octave_shift) > MAX_OCTAVE_SHIFT:
            raise InvalidInput(f"Octave shifts go from -{MAX_OCTAVE_SHIFT} to +{MAX_OCTAVE_SHIFT}.")
        if self.clef not in (None, "treble", "bass"):
            raise InvalidInput("The clef is treble or bass.")
        if self.source_part is not None and not (0 < len(self.source_part) <= 64 and self.source_part.isprintable()):
            raise InvalidInput("That isn't a part of this score.")

    def options(self) -> dict[str, Any]:
        """Keyword options for ``musicxml.plan``/``chordpro.view_for``."""
        return {"concert_key": self.concert_key, "key": self.key, "octave_shift": self.octave_shift,
                "clef": self.clef, "source_part": self.source_part}

    def to_params(self) -> dict[str, str]:
        """Query parameters for the media route (only what differs from the defaults)."""
        params = {"part": self.part.key()}
        for name, value in (("kind", self.kind), ("hint", self.hint.key() if self.hint else None),
                            ("ck", self.concert_key), ("key", self.key),
                            ("oct", str(self.octave_shift) if self.octave_shift else None), ("clef", self.clef),
                            ("src", self.source_part)):
            if value:
                params[name] = value
        return params

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> EngraveSpec:
        """Inverse of ``to_params``; junk raises InvalidInput (a 422), never a server error."""
        part = PartRef.try_from_key(params.get("part"))
        if part is None:
            raise InvalidInput("Choose a part to show.")
        hint = PartRef.try_from_key(params.get("hint")) if params.get("hint") else None
        try:
            octave = int(params.get("oct") or 0)
        except ValueError:
            raise InvalidInput("The octave shift is a whole number.") from None
        return cls(part=part, kind=params.get("kind") or None, hint=hint,  # type: ignore[arg-type]
                   concert_key=params.get("ck") or None, key=params.get("key") or None, octave_shift=octave,
                   clef=params.get("clef") or None, source_part=params.get("src") or None)  # type: ignore[arg-type]

    def cache_key(self) -> str:
        """A file-name-safe name for this spec: the part, and a hash of everything else."""
        canonical = json.dumps(self.to_params(), sort_keys=True)
        digest = hashlib.sha256(canonical.encode()).hexdigest()[:16]
        return self.part.key().replace(":", "-") + "-" + digest


@dataclass(frozen=True)
class SourceInfo:
    """What sync stores about a notation or ChordPro file."""

    kind: Kind
    title: str | None
    key: str | None  # concert key as written in the file ("Bb", "Gm")
    available: tuple[PartRef, ...]  # every part this file can serve (for ``parts.best_part``)
    default_part: PartRef  # the part the file is, as written (its page count is ``page_count``)
    parts: tuple[musicxml.ScorePart, ...] = ()  # MusicXML staves
    artists: tuple[str, ...] = ()
    capo: int = 0
    page_count: int | None = None  # pages of ``default_part`` at 800 px (``Engraver.inspect`` fills it)
    extra: dict[str, Any] = field(default_factory=dict)


def detect_kind(data: bytes, filename: str | None = None) -> Kind:
    """MusicXML or ChordPro, by file extension then content. A ``.txt`` must look like ChordPro."""
    name = (filename or "").lower()
    if name.endswith((".musicxml", ".xml", ".mxl")):
        return "musicxml"
    if name.endswith(chordpro.CHORDPRO_EXTENSIONS):
        return "chordpro"
    if name.endswith(".txt"):
        if chordpro.looks_like_chordpro(chordpro.decode_text(data[: chordpro.MAX_BYTES])):
            return "chordpro"
        raise BrokenFile("This text file isn't a ChordPro chord sheet")
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    if data[:4] == b"PK\x03\x04" or head.startswith(b"<") or head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "musicxml"
    return "chordpro"


def _default_part(info: musicxml.ScoreInfo) -> PartRef:
    lead = info.part(info.lead)
    drums = next((p.part_ref for p in info.parts if p.percussion and p.part_ref is not None), None)
    if lead is None and drums is not None:  # a drum score: the drummer's part, never a Concert part
        return drums
    if lead is None or (lead.part_ref is None and lead.transposition is None):
        return PartRef(transposition=Transposition.CONCERT)
    if len(info.parts) == 1 or lead.part_ref is None:
        return PartRef(transposition=lead.transposition or Transposition.CONCERT)
    return lead.part_ref


def inspect_source(data: bytes, filename: str | None = None, hint: PartRef | None = None,
                   kind: Kind | None = None) -> SourceInfo:
    """Title, concert key and the parts a file can serve; raises ``BrokenFile`` with a plain reason."""
    kind = kind or detect_kind(data, filename)
    if kind == "musicxml":
        info = musicxml.inspect_score(data, filename, hint)
        return SourceInfo("musicxml", info.title, info.key.name(), info.available, _default_part(info), info.parts,
                          (info.composer,) if info.composer else (),
                          extra={"measures": info.measures, "notes": info.notes, "has_chords": info.has_chords})
    song = chordpro.inspect_chordpro(data, filename, hint)
    return SourceInfo("chordpro", song.title, song.key.name() if song.key else None, song.available,
                      PartRef(role=Role.CHORDS) if song.has_chords else PartRef(role=Role.LYRICS),
                      artists=song.artists, capo=song.capo)


def engrave(data: bytes, spec: EngraveSpec, width: int) -> list[str]:
    """Every page of ``spec``'s part as SVG documents, ``width`` px wide (a standard width)."""
    kind = spec.kind or detect_kind(data)
    if kind == "musicxml":
        return musicxml.engrave_svg(data, spec.part, width, hint=spec.hint, **spec.options())
    return chordpro.engrave_svg(data, spec.part, width, hint=spec.hint, **spec.options())


def pdf_for(data: bytes, spec: EngraveSpec, title: str | None = None) -> bytes:
    """The part as a Letter PDF (the paper fallback): vector music via fpdf2, or ChordPro drawn as real text."""
    kind = spec.kind or detect_kind(data)
    if kind == "musicxml":
        return musicxml.engrave_pdf(data, spec.part, title=title, hint=spec.hint, **spec.options())
    return chordpro.engrave_pdf(data, spec.part, hint=spec.hint, **spec.options())


def etag_for(checksum: str, spec: EngraveSpec, page: int, width: int) -> str:
    """A strong ETag for an engraved page: same file, spec, page, width and engraver → same SVG."""
    return f'"{checksum}-{spec.cache_key()}-p{page}-w{width}-{CACHE_VERSION}"'


# --- Worker side -----------------------------------------------------------------------------------------------------


def _engrave_job(data: bytes, spec: EngraveSpec, width: int, target: str) -> int:
    """Worker: engrave every page into a temporary folder, then rename it into place in one step."""
    pages = engrave(data, spec, width)
    folder = Path(target)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".tmp"))
    try:
        for number, svg in enumerate(pages):
            (tmp / f"p{number}.svg").write_text(svg, encoding="utf-8")
        (tmp / "pages.json").write_text(json.dumps({"pages": len(pages), "width": width}), encoding="utf-8")
        try:
            os.rename(tmp, folder)  # readers see no folder or a complete one
        except OSError:
            if not (folder / "pages.json").exists():  # not a lost race: something is wrong
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return len(pages)


def _pdf_job(data: bytes, spec: EngraveSpec, title: str | None, target: str) -> None:
    write_atomic(Path(target), pdf_for(data, spec, title))


def _sleep_job(seconds: float) -> float:
    """A job that takes as long as asked (tests of the time limit)."""
    time.sleep(seconds)
    return seconds


def _crash_job() -> None:
    """A job that kills its worker the way a native crash would (tests of crash handling)."""
    os.kill(os.getpid(), signal.SIGKILL)


def _serve(conn: Any) -> None:
    """Worker main loop: receive ``(function, args)``, answer ``("ok", result)`` or ``("error", ...)``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the server's business
    try:
        import verovio  # load the native module before the first job's clock starts

        verovio.enableLog(verovio.LOG_OFF)
    except ImportError:  # pragma: no cover - verovio is a dependency
        pass
    conn.send(("ready", os.getpid()))
    while True:
        try:
            fn, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            result = fn(*args)
        except SoleilError as exc:
            conn.send(("error", type(exc).__name__, exc.user_message, exc.detail))
        except Exception as exc:  # a bug or a library error on odd input: the file can't be used, say so
            conn.send(("error", "BrokenFile", None, f"{type(exc).__name__}: {exc}"))
        else:
            conn.send(("ok", result))


class _TimedOut(Exception):
    pass


class _Died(Exception):
    pass


class _Worker:
    """One engraving process and the parent's end of its pipe. Used by one job at a time."""

    def __init__(self, context: Any) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child,), daemon=True, name="soleil-engraver")
        self.process.start()
        child.close()
        try:
            ready = self.conn.poll(120) and self.conn.recv()[0] == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.kill()
            raise BrokenFile("The engraver couldn't start — try again in a moment", detail="worker did not start")

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def call(self, fn: Callable[..., Any], args: tuple[Any, ...], timeout: float) -> tuple[Any, ...]:
        try:
            self.conn.send((fn, args))
            if not self.conn.poll(timeout):
                raise _TimedOut
            return self.conn.recv()
        except (EOFError, OSError, BrokenPipeError) as exc:
            raise _Died(str(exc) or "worker exited") from exc

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()


_ERRORS: dict[str, type[SoleilError]] = {"BrokenFile": BrokenFile, "NotFound": NotFound, "InvalidInput": InvalidInput}
T = TypeVar("T")
SourceLoader = Callable[[], Awaitable[bytes]] | Callable[[], bytes]


class Engraver:
    """Engraved SVG pages on disk, made on demand in worker processes and kept until pruned.

    Cache layout: ``cache_dir/{CACHE_VERSION}/ab/abcdef…/{spec.cache_key()}-w{width}/p{page}.svg`` plus
    ``pages.json``; a failure is remembered as ``….failed`` beside the folder. Widths are snapped to ``WIDTHS``.
    """

    def __init__(self, cache_dir: Path, workers: int | None = None, time_limit: float = DEFAULT_TIME_LIMIT) -> None:
        self.cache_dir = Path(cache_dir)
        self.workers = workers or max(1, (os.cpu_count() or 2) // 2)
        self.time_limit = time_limit
        self.engravings = 0  # jobs run by this engraver (not cache hits); for metrics and tests
        self._context = multiprocessing.get_context("spawn")  # fresh interpreters: safe beside server threads
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        self._in_flight: dict[Path, asyncio.Future[Any]] = {}

    # -- paths --

    def job_dir(self, checksum: str, spec: EngraveSpec, width: int) -> Path:
        """Where the pages for this key live (or will); the checksum must be a plain hash, never a path."""
        if not (2 <= len(checksum) <= 128 and all(ch in _CHECKSUM for ch in checksum)):
            raise InvalidInput("That isn't a file checksum.")
        return self.cache_dir / CACHE_VERSION / checksum[:2] / checksum / f"{spec.cache_key()}-w{width}"

    # -- public, async --

    async def page_svg(self, checksum: str, spec: EngraveSpec, page: int, width: int, load: SourceLoader) -> Path:
        """The cached SVG of one page (0-based), engraving the part first on a miss. ``load`` gives the file."""
        if page < 0:
            raise NotFound("That page doesn't exist.")
        width = snap_width(width)
        folder = self.job_dir(checksum, spec, width)
        count = await self._engraved(folder, spec, width, load)
        if page >= count:
            raise NotFound("That page doesn't exist.")
        return folder / f"p{page}.svg"

    async def page_count(self, checksum: str, spec: EngraveSpec, width: int, load: SourceLoader) -> int:
        """How many pages the part has at this width (engraving it if needed)."""
        width = snap_width(width)
        return await self._engraved(self.job_dir(checksum, spec, width), spec, width, load)

    async def pages(self, checksum: str, spec: EngraveSpec, width: int, load: SourceLoader) -> list[Path]:
        """Every page's SVG file."""
        width = snap_width(width)
        folder = self.job_dir(checksum, spec, width)
        count = await self._engraved(folder, spec, width, load)
        return [folder / f"p{n}.svg" for n in range(count)]

    async def prerender(self, checksum: str, specs: Iterable[EngraveSpec], load: SourceLoader,
                        widths: Iterable[int] = PRERENDER_WIDTHS) -> dict[tuple[EngraveSpec, int], int]:
        """Engrave parts ahead of time (after a sync); returns page counts. Failures are left for the stand to
        report (they are cached as failures anyway)."""
        data = await _call(load)
        jobs = {(spec, snap_width(w)): self.page_count(checksum, spec, w, lambda: data) for spec in specs
                for w in widths}
        results = await asyncio.gather(*jobs.values(), return_exceptions=True)
        return {key: count for key, count in zip(jobs, results, strict=True) if isinstance(count, int)}

    async def inspect(self, data: bytes, filename: str | None = None, hint: PartRef | None = None, *,
                      checksum: str | None = None, kind: Kind | None = None) -> SourceInfo:
        """``inspect_source`` in a worker (parsing is work on untrusted input). With ``checksum``, the default part
        is engraved at 800 px too (cached) and ``page_count`` filled in."""
        info: SourceInfo = await self._run(inspect_source, data, filename, hint, kind)
        if checksum is None:
            return info
        spec = EngraveSpec(info.default_part, kind=info.kind, hint=hint)
        count = await self.page_count(checksum, spec, 800, lambda: data)
        return SourceInfo(info.kind, info.title, info.key, info.available, info.default_part, info.parts,
                          info.artists, info.capo, count, info.extra)

    async def pdf(self, checksum: str, spec: EngraveSpec, load: SourceLoader, title: str | None = None) -> Path:
        """The part as a printable PDF file (cached beside the pages)."""
        path = self.job_dir(checksum, spec, 0).with_name(f"{spec.cache_key()}.pdf")
        if _fresh(path):
            return path
        task = self._in_flight.get(path)
        if task is None:
            async def run() -> Path:
                data = await _call(load)
                await self._run(_pdf_job, data, spec, title, str(path))
                return path
            task = asyncio.ensure_future(run())
            self._track(path, task)
        return await asyncio.shield(task)

    def prune(self, max_bytes: int) -> int:
        """Delete least-recently-used engravings (whole folders) until the cache fits; returns bytes freed.
        Blocking file I/O: call it from a thread or a maintenance job."""
        entries = []
        for marker in self.cache_dir.glob("*/*/*/*"):
            try:
                if marker.is_dir():
                    stat = (marker / "pages.json").stat()
                    size = sum(f.stat().st_size for f in marker.iterdir())
                else:
                    stat = marker.stat()
                    size = stat.st_size
            except FileNotFoundError:
                continue
            entries.append((stat.st_mtime, size, marker))
        entries.sort(reverse=True)
        kept = freed = 0
        for _, size, path in entries:
            if kept + size <= max_bytes:
                kept += size
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            freed += size
        return freed

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for tests and metrics)."""
        with self._lock:
            return [w.pid for w in self._all if w.pid is not None and w.process.is_alive()]

    def close(self) -> None:
        """Stop every worker; the engraver starts new ones if used again."""
        with self._lock:
            workers, self._idle, self._all = list(self._all), [], set()
        for worker in workers:
            worker.kill()

    # -- internals --

    async def _engraved(self, folder: Path, spec: EngraveSpec, width: int, load: SourceLoader) -> int:
        count = _cached_count(folder)
        if count is not None:
            return count
        task = self._in_flight.get(folder)
        if task is None:
            task = asyncio.ensure_future(self._engrave_to(folder, spec, width, load))
            self._track(folder, task)
        # Shielded: one impatient client going away must not cancel the job others are waiting for.
        return await asyncio.shield(task)

    def _track(self, key: Path, task: asyncio.Future[Any]) -> None:
        self._in_flight[key] = task

        def finished(done: asyncio.Future[Any]) -> None:
            self._in_flight.pop(key, None)
            if not done.cancelled():
                done.exception()  # retrieved: every waiter may have gone away
        task.add_done_callback(finished)

    async def _engrave_to(self, folder: Path, spec: EngraveSpec, width: int, load: SourceLoader) -> int:
        failed = folder.with_name(folder.name + ".failed")
        remembered = _failure(failed)
        if remembered is not None:
            raise BrokenFile(remembered, detail="remembered failure")
        data = await _call(load)
        try:
            count: int = await self._run(_engrave_job, data, spec, width, str(folder))
        except BrokenFile as exc:
            timed_out = exc.detail.endswith(" s") and " over " in exc.detail
            _remember_failure(failed, exc.user_message, TIMEOUT_TTL if timed_out else FAILURE_TTL)
            raise
        self.engravings += 1
        return count

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(self.workers))
        return self._slots[1]

    def _start_worker(self) -> _Worker:
        worker = _Worker(self._context)
        with self._lock:
            self._all.add(worker)
        return worker

    def _discard(self, worker: _Worker) -> None:
        with self._lock:
            self._all.discard(worker)
        worker.kill()

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` in a worker within the time limit; a crashed worker is replaced and the job retried
        once, so the innocent neighbours of a poisonous file succeed and the file itself is reported."""
        async with self._semaphore():
            for attempt in (1, 2):
                with self._lock:
                    worker = self._idle.pop() if self._idle else None
                if worker is None or not worker.process.is_alive():
                    if worker is not None:
                        self._discard(worker)
                    worker = await asyncio.to_thread(self._start_worker)
                try:
                    answer = await asyncio.to_thread(worker.call, fn, args, self.time_limit)
                except _TimedOut:
                    self._discard(worker)
                    raise BrokenFile(_TOO_LARGE.format(limit=self.time_limit),
                                     detail=f"{getattr(fn, '__name__', fn)} over {self.time_limit} s") from None
                except _Died as exc:
                    self._discard(worker)
                    if attempt == 2:
                        raise BrokenFile(_CRASHED, detail=str(exc)) from exc
                    continue
                except BaseException:
                    self._discard(worker)  # cancelled mid-job: the worker's state is unknown
                    raise
                with self._lock:
                    if worker in self._all:
                        self._idle.append(worker)
                if answer[0] == "ok":
                    return answer[1]
                _, name, message, detail = answer
                raise _ERRORS.get(name, BrokenFile)(message, detail=detail)
        raise AssertionError("unreachable")


async def _call(load: SourceLoader) -> bytes:
    result = load()
    return await result if isawaitable(result) else result


def _cached_count(folder: Path) -> int | None:
    """The page count of a finished engraving, refreshing its mtime now and then for LRU pruning."""
    marker = folder / "pages.json"
    try:
        count = int(json.loads(marker.read_text(encoding="utf-8"))["pages"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None
    return count if touch_if_stale(marker) else None  # None if pruned meanwhile: engraved again, as a miss


def _fresh(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except FileNotFoundError:
        return False


def _failure(path: Path) -> str | None:
    """The remembered reason a job failed, while it is still to be believed."""
    try:
        remembered = json.loads(path.read_text(encoding="utf-8"))
        if time.time() > float(remembered["until"]):
            return None
        return str(remembered["message"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None


def _remember_failure(path: Path, message: str, ttl: float) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"message": message, "until": time.time() + ttl}), encoding="utf-8")
    except OSError:  # a full disk must not hide the real error
        pass


__all__ = [
    "CACHE_VERSION",
    "DEFAULT_TIME_LIMIT",
    "MEDIA_TYPE",
    "WIDTHS",
    "EngraveSpec",
    "Engraver",
    "SourceInfo",
    "detect_kind",
    "engrave",
    "etag_for",
    "inspect_source",
    "pdf_for",
]
