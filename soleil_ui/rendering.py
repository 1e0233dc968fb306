"""PDF inspection and page rendering, with a disk cache of page images.

PDFium is not thread-safe and a hostile PDF can crash it, so every PDFium call from the app runs in a
small worker *process* pool: the event loop never blocks on a render and a crash costs a worker, not the
server. The module-level functions are plain and synchronous so the workers (and tests) can call them.

Images are greyscale lossless WebP (method 4, effort 25). Measured on the 15 LilyPond fixture pages, a page
averages 33 KiB at 800 px and 68 KiB at 1600 px, against 46 KiB and 101 KiB as PNG: about 30% less for
musicians on phone data at a gig. Encoding costs more (~18 ms at 800 px and ~90 ms at 1600 px, PNG 8 and
27 ms; PDFium's raster itself is 4-6 ms), but it is paid once per page and width: results are cached and
pre-rendered after a sync. Lossless keeps staff lines and small accidentals crisp; lossy WebP (q80) was even
larger on this content (51 KiB at 800 px). Every phone browser in use decodes WebP.

Cached images are served for a year as immutable, so a damaged one (a write cut short, a bad disk block) would stay
broken on every phone that fetched it. Each image therefore carries its own check: the WebP is written in the extended
container with a last chunk (``SLck``, which decoders skip) holding a BLAKE2b digest of the chunks before it. A cache
hit is served only when that digest matches; anything else is rendered again at the same path, so page URLs stay
stable.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import multiprocessing
import os
import re
import signal
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from inspect import isawaitable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from soleil_ui.errors import BrokenFile, InvalidInput, NotFound
from soleil_ui.files import prune_lru, touch_if_stale, write_atomic

WIDTHS = (480, 800, 1200, 1600, 2400)
PRERENDER_WIDTHS = (800, 1200, 1600)  # what phones (390 CSS px at 3x asks 1200) and tablets request
MEDIA_TYPE = "image/webp"
RENDER_VERSION = 1  # bump when the image settings change, so caches and ETags start afresh
MAX_HEIGHT_RATIO = 4  # a freakishly tall page is shrunk so its image stays at most 4x as tall as wide
WEBP_OPTIONS: dict[str, Any] = {"format": "WEBP", "lossless": True, "method": 4, "quality": 25}

log = logging.getLogger(__name__)
_SEAL = b"SLck"  # our RIFF chunk: a digest of the image chunks before it (unknown chunks are ignored by decoders)
_SEAL_SIZE = 8
_DAMAGED = "The file is damaged or incomplete — re-export it"
_CHECKSUM = re.compile(r"[0-9A-Za-z_-]{2,128}")
# Magic numbers of things people save as ".pdf" by mistake, to name them in the error.
_LOOKALIKES = (
    (b"\xff\xd8\xff", "a JPEG photo"),
    (b"\x89PNG", "a PNG image"),
    (b"GIF8", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive or Word document"),
    (b"\xd0\xcf\x11\xe0", "an old Word or Excel document"),
    (b"{\\rtf", "an RTF document"),
)


@dataclass(frozen=True, slots=True)
class PdfInfo:
    """What sync stores about a chart PDF."""

    page_count: int
    title: str | None
    page_sizes: list[tuple[float, float]]  # (width, height) in PDF points, as displayed (rotation applied)


def snap_width(requested: int) -> int:
    """The smallest standard width that is at least ``requested``, so a handful of sizes serve every screen."""
    return next((width for width in WIDTHS if width >= requested), WIDTHS[-1])


def etag_for(checksum: str, page: int, width: int) -> str:
    """A strong ETag for a page image: same file bytes, page, width and render settings → same image."""
    return f'"{checksum}-p{page}-w{width}-r{RENDER_VERSION}"'


def inspect_pdf(data: bytes, *, max_bytes: int = 100 * 1024 * 1024, max_pages: int = 200) -> PdfInfo:
    """Page count, title and page sizes; raises ``BrokenFile`` saying why a file can't be used."""
    _check_size(data, max_bytes)
    with _open(data) as pdf:
        page_count = len(pdf)
        if page_count > max_pages:
            raise BrokenFile(f"The PDF has {page_count} pages; the limit is {max_pages}")
        try:
            sizes = [pdf.get_page_size(index) for index in range(page_count)]
        except pdfium.PdfiumError as exc:
            raise BrokenFile(_DAMAGED, detail=f"page size: {exc}") from exc
        title = (pdf.get_metadata_value("Title") or "").strip() or None
    return PdfInfo(page_count=page_count, title=title, page_sizes=sizes)


def render_page(data: bytes, page_index: int, width: int) -> bytes:
    """One page as a greyscale lossless WebP ``width`` pixels wide (narrower only for absurdly tall pages)."""
    if not 0 < width <= WIDTHS[-1]:
        raise InvalidInput(f"Page images are 1 to {WIDTHS[-1]} pixels wide.")
    with _open(data) as pdf:
        if not 0 <= page_index < len(pdf):
            raise NotFound("That page doesn't exist.")
        try:
            page = pdf[page_index]
            page_width, page_height = page.get_size()
            scale = min(width / page_width, MAX_HEIGHT_RATIO * width / page_height)
            image = page.render(scale=scale, grayscale=True).to_pil()
        except pdfium.PdfiumError as exc:
            raise BrokenFile(_DAMAGED, detail=f"page {page_index}: {exc}") from exc
    out = io.BytesIO()
    (image if image.mode == "L" else image.convert("L")).save(out, **WEBP_OPTIONS)
    return seal_webp(out.getvalue(), image.width, image.height)


CROP_RENDER_WIDTH = 400  # px: a pixel is 0.25 % of the page's width, ~4 ms a page in PDFium, no encoding
CROP_INK_BELOW = 192  # a pixel darker than this (0 black .. 255 white) is ink: scanner haze and light grey are not
CROP_PAD = 0.015  # of the page's width, kept white around the ink on every side (the same distance up and down)
CROP_MIN_WIDTH = 0.5  # a nearly blank page is never magnified more than 2x: the box widens about its middle
NO_CROP = (0.0, 0.0, 1.0, 1.0)


def ink_box(data: bytes, page_index: int, *, pad: float = CROP_PAD) -> tuple[float, float, float, float]:
    """Where the music is on one page: ``(left, top, right, bottom)`` as fractions of the whole page, padded by ``pad``
    (0: the ink itself, for measuring). A blank page is ``NO_CROP``. Columns and rows count as ink only with two ink
    pixels or more (a speck of dust on a scan doesn't hold the margin open)."""
    with _open(data) as pdf:
        if not 0 <= page_index < len(pdf):
            raise NotFound("That page doesn't exist.")
        return _page_ink(pdf, page_index, pad)


def _page_ink(pdf: pdfium.PdfDocument, page_index: int, pad: float = CROP_PAD) -> tuple[float, float, float, float]:
    try:
        page = pdf[page_index]
        page_width, page_height = page.get_size()
        image = page.render(scale=CROP_RENDER_WIDTH / page_width, grayscale=True).to_pil()
    except pdfium.PdfiumError as exc:
        raise BrokenFile(_DAMAGED, detail=f"page {page_index}: {exc}") from exc
    return _ink_box(image if image.mode == "L" else image.convert("L"), page_width / max(page_height, 1e-6), pad)


def _ink_box(image: Any, aspect: float, pad: float) -> tuple[float, float, float, float]:
    from PIL import Image

    ink = image.point(lambda v: 1 if v < CROP_INK_BELOW else 0).convert("F")
    width, height = ink.size
    # Box-filtered projections: the share of ink pixels in each column and row (floats, so a count of 1 or 2 shows).
    flat = Image.Resampling.BOX
    cols = [i for i, v in enumerate(ink.resize((width, 1), flat).get_flattened_data()) if v * height > 1.5]
    rows = [i for i, v in enumerate(ink.resize((1, height), flat).get_flattened_data()) if v * width > 1.5]
    if not cols or not rows:
        return NO_CROP
    left, right = cols[0] / width - pad, (cols[-1] + 1) / width + pad
    pad_y = pad * aspect  # the same distance as at the sides, as a fraction of the page's height
    top, bottom = rows[0] / height - pad_y, (rows[-1] + 1) / height + pad_y
    if right - left < CROP_MIN_WIDTH and pad:
        middle = (left + right) / 2
        left, right = middle - CROP_MIN_WIDTH / 2, middle + CROP_MIN_WIDTH / 2
        left, right = (0.0, CROP_MIN_WIDTH) if left < 0 else (1 - CROP_MIN_WIDTH, 1.0) if right > 1 else (left, right)
    box = (max(0.0, left), max(0.0, top), min(1.0, right), min(1.0, bottom))
    return (round(box[0], 4), round(box[1], 4), round(box[2], 4), round(box[3], 4))


def ink_boxes(data: bytes) -> list[tuple[float, float, float, float]]:
    """``ink_box`` of every page, in one opening of the file (the worker's job after a sync)."""
    with _open(data) as pdf:
        return [_page_ink(pdf, index) for index in range(len(pdf))]


def _digest(chunks: bytes) -> bytes:
    return hashlib.blake2b(chunks, digest_size=_SEAL_SIZE).digest()


def seal_webp(data: bytes, width: int, height: int) -> bytes:
    """The same image in WebP's extended container, ending with a chunk that holds a digest of the chunks before it.

    Pillow writes the simple container (``RIFF…WEBP`` + one ``VP8L`` chunk); unknown chunks are only allowed in the
    extended one, which starts with a ``VP8X`` chunk (no feature flags here, canvas size minus one, 24 bits each).
    """
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not a WebP image")
    chunks = data[12:]
    if chunks[:4] != b"VP8X":
        canvas = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        chunks = b"VP8X" + (10).to_bytes(4, "little") + bytes(4) + canvas + chunks
    body = b"WEBP" + chunks + _SEAL + _SEAL_SIZE.to_bytes(4, "little") + _digest(chunks)
    return b"RIFF" + len(body).to_bytes(4, "little") + body


def webp_problem(data: bytes) -> str | None:
    """Why a cached image can't be served as it is (None: it is whole, exactly as rendered)."""
    if not data:
        return "empty"
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP" or int.from_bytes(data[4:8], "little") != len(data) - 8:
        return "not a whole WebP file"
    trailer = data[-(8 + _SEAL_SIZE):]
    if data[12:16] != b"VP8X" or trailer[:4] != _SEAL or int.from_bytes(trailer[4:8], "little") != _SEAL_SIZE:
        return "written without a check (an older SOLEil)"
    if trailer[8:] != _digest(data[12:-(8 + _SEAL_SIZE)]):
        return "its digest doesn't match"
    return None


def _check_size(data: bytes, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise BrokenFile(f"The file is too large ({_mb(len(data))}); the limit is {_mb(max_bytes)}")


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


def _open(data: bytes) -> pdfium.PdfDocument:
    """Open with PDFium, turning every way a file fails to open into a reason a bandleader understands."""
    if not data:
        raise BrokenFile("The file is empty")
    if b"%PDF-" not in data[:1024]:  # PDFium, like most readers, wants the header in the first KiB
        kind = _looks_like(data)
        raise BrokenFile(f"This isn't a PDF file (it looks like {kind})" if kind else "This isn't a PDF file")
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise BrokenFile(_why_unopenable(data), detail=str(exc)) from exc


def _why_unopenable(data: bytes) -> str:
    """Ask PDFium directly: pypdfium2 also refuses a PDF with no pages, and then its error code is stale."""
    raw = pdfium_c.FPDF_LoadMemDocument64(data, len(data), None)
    if raw:
        pdfium_c.FPDF_CloseDocument(raw)
        return "The PDF has no pages"
    if pdfium_c.FPDF_GetLastError() in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
        return "The PDF is password-protected"
    return _DAMAGED


def _looks_like(data: bytes) -> str | None:
    for magic, name in _LOOKALIKES:
        if data.startswith(magic):
            return name
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<html" in head or head.startswith((b"<!doctype html", b"<head", b"<body")):
        return "HTML"  # typically a download link that returned an error or sign-in page
    if head.startswith(b"<?xml") or head.startswith(b"<svg"):
        return "an XML or SVG file"
    return None


T = TypeVar("T")
LEASE_SECONDS = 60  # how long a render claim lives (objectstore.SharedPages.claim); a waiter renders itself after 2x


class SharedPages(Protocol):
    """Page images in a store every instance reaches, and the claim to render one (``objectstore.SharedPages``)."""

    async def fetch(self, name: str) -> bytes | None: ...
    async def upload(self, name: str, data: bytes) -> None: ...
    async def claim(self, name: str) -> bool: ...
    async def release(self, name: str) -> None: ...


PageLoader = Callable[[], Awaitable[bytes]] | Callable[[], bytes]


class PageRenderer:
    """Page images on disk, rendered on demand in a worker process pool and kept until pruned.

    Cache layout: ``cache_dir/r{RENDER_VERSION}/ab/abcdef…/p{page}-w{width}.webp``. Two requests for the
    same image while it renders share one render. Widths are snapped to ``WIDTHS`` so clients can't fill
    the disk with arbitrary sizes.

    With ``shared`` (an object store every instance reaches), a miss here is first looked for in the store; a page
    nobody has yet is rendered by the one instance that claims it (a lease row in the database), served from this
    cache at once and uploaded in the background; the others wait for the upload. So a page and width is rendered
    once while the instances are up, however many members open it at once on however many instances.
    """

    def __init__(self, cache_dir: Path, workers: int | None = None, shared: SharedPages | None = None) -> None:
        self.cache_dir = Path(cache_dir)
        self.workers = workers or os.cpu_count() or 1
        self.shared = shared
        self.renders = 0  # images rendered by this renderer (not cache hits); for metrics and tests
        self._pool: ProcessPoolExecutor | None = None
        self._in_flight: dict[Path, asyncio.Future[Path]] = {}
        self._uploads: set[asyncio.Task[None]] = set()

    def cache_path(self, checksum: str, page_index: int, width: int) -> Path:
        """Where the image for this key lives (or will); the checksum must be a plain hash, never a path."""
        if not _CHECKSUM.fullmatch(checksum):
            raise InvalidInput("That isn't a file checksum.")
        return self.cache_dir / f"r{RENDER_VERSION}" / checksum[:2] / checksum / f"p{page_index}-w{width}.webp"

    async def page_image(self, checksum: str, page_index: int, width: int, load: PageLoader) -> Path:
        """The cached image file for one page, rendering it first on a miss. ``load`` gives the PDF bytes."""
        if page_index < 0:
            raise NotFound("That page doesn't exist.")
        width = snap_width(width)
        path = self.cache_path(checksum, page_index, width)
        if await asyncio.to_thread(_cache_hit, path):
            return path
        task = self._in_flight.get(path)
        if task is None:
            task = asyncio.ensure_future(self._obtain(path, page_index, width, load))
            self._in_flight[path] = task
            task.add_done_callback(lambda done: self._finished(path, done))
        # Shielded: one impatient client going away must not cancel the render others are waiting for.
        return await asyncio.shield(task)

    async def prerender(self, checksum: str, load: PageLoader, widths: Iterable[int] = PRERENDER_WIDTHS) -> list[Path]:
        """Render every page at the common widths ahead of time (after a sync), so the first view is instant."""
        data = await _call(load)
        info = await self.inspect(data)
        jobs = [
            self.page_image(checksum, page, width, lambda: data) for page in range(info.page_count) for width in widths
        ]
        return list(await asyncio.gather(*jobs))

    async def inspect(self, data: bytes, *, max_bytes: int = 100 * 1024 * 1024, max_pages: int = 200) -> PdfInfo:
        """``inspect_pdf`` in the worker pool (it is PDFium too)."""
        _check_size(data, max_bytes)  # before shipping an oversized file to a worker
        return await self._run(inspect_pdf, data, max_bytes=max_bytes, max_pages=max_pages)

    async def ink_boxes(self, data: bytes) -> list[tuple[float, float, float, float]]:
        """Every page's crop box (``ink_box``) in the worker pool: computed once per file, stored on its chart."""
        _check_size(data, 100 * 1024 * 1024)
        return await self._run(ink_boxes, data)

    async def marked_pdf(self, data: bytes, marks: list[dict[str, object]], notes: list[str]) -> bytes:
        """A chart's PDF with the pencil's marks drawn in (``pdf_marks.mark_pdf``), in the worker pool."""
        from .pdf_marks import mark_pdf

        _check_size(data, 100 * 1024 * 1024)
        return await self._run(mark_pdf, data, marks, notes)

    async def marked_svg_pdf(self, svgs: list[str], marks: list[dict[str, object]], notes: list[str],
                             title: str | None = None) -> bytes:
        """An engraved part's SVG pages as a PDF with the pencil's marks (``pdf_marks.mark_svg_pages``), in the
        worker pool (fpdf2 and PDFium are seconds of CPU for a long part)."""
        from .pdf_marks import mark_svg_pages

        return await self._run(mark_svg_pages, svgs, marks, notes, title)

    def prune(self, max_bytes: int) -> int:
        """Delete least-recently-used images until the cache fits ``max_bytes``; returns bytes freed (``prune_lru``:
        cache hits refresh a file's mtime hourly at most). Blocking file I/O: call it from a thread."""
        return prune_lru(self.cache_dir, max_bytes)

    async def start(self) -> None:
        """Start every worker now and have each import PDFium and the encoder (the server calls it at start-up):
        spawning the pool costs about 2 s, which the first chart after a restart would otherwise wait for."""
        await asyncio.gather(*(self._run(_warm) for _ in range(self.workers)))

    def close(self) -> None:
        """Stop the worker processes; the renderer starts new ones if used again."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    async def uploads_done(self) -> None:
        """Wait for the background uploads of fresh renders to the shared store (tests, benchmarks, shutdown)."""
        while self._uploads:
            await asyncio.gather(*self._uploads, return_exceptions=True)

    async def _obtain(self, path: Path, page_index: int, width: int, load: PageLoader) -> Path:
        """A local miss: the shared store's copy, else render it (once across instances, see the class doc)."""
        if self.shared is None:
            return await self._render_to(path, page_index, width, load)
        name = path.relative_to(self.cache_dir).as_posix()
        delay, waited = 0.05, 0.0
        while True:
            if await self._fetch_shared(name, path):
                return path
            if await self.shared.claim(name):
                try:
                    if await self._fetch_shared(name, path):  # uploaded between our look and the claim
                        await self.shared.release(name)
                        return path
                    await self._render_to(path, page_index, width, load)
                except BaseException:
                    await self.shared.release(name)
                    raise
                upload = asyncio.create_task(self._upload(name, path))
                self._uploads.add(upload)
                upload.add_done_callback(self._uploads.discard)
                return path
            if waited > 2 * LEASE_SECONDS:  # the store or the database is misbehaving: render rather than wait on
                return await self._render_to(path, page_index, width, load)
            await asyncio.sleep(delay)  # another instance is rendering it; its upload lands within a render's time
            waited += delay
            delay = min(delay * 2, 0.5)

    async def _fetch_shared(self, name: str, path: Path) -> bool:
        assert self.shared is not None
        data = await self.shared.fetch(name)
        if data is None:
            return False
        if (problem := webp_problem(data)) is not None:
            log.warning("shared page image %s is damaged (%s); rendering it again", name, problem)
            return False
        await asyncio.to_thread(write_atomic, path, data)
        return True

    async def _upload(self, name: str, path: Path) -> None:
        assert self.shared is not None
        try:
            await self.shared.upload(name, await asyncio.to_thread(path.read_bytes))
        except Exception:
            log.warning("could not upload page image %s to the file store", name, exc_info=True)
        finally:
            await self.shared.release(name)

    async def _render_to(self, path: Path, page_index: int, width: int, load: PageLoader) -> Path:
        data = await _call(load)
        await self._run(_render_to_file, data, page_index, width, str(path))
        self.renders += 1
        return path

    def _finished(self, path: Path, task: asyncio.Future[Path]) -> None:
        self._in_flight.pop(path, None)
        if not task.cancelled():
            task.exception()  # mark as retrieved: every waiter may have gone away

    async def _run(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Run ``fn`` in the pool. If a worker dies (PDFium crashed), retry once on a fresh pool, so the
        innocent neighbours of a poisonous file succeed and the file itself is reported broken."""
        for attempt in (1, 2):
            pool = self._ensure_pool()
            try:
                return await asyncio.wrap_future(pool.submit(fn, *args, **kwargs))
            except BrokenProcessPool as exc:
                if self._pool is pool:
                    self._pool = None
                    pool.shutdown(wait=False, cancel_futures=True)
                if attempt == 2:
                    raise BrokenFile("This PDF crashed the page renderer — re-export it", detail=str(exc)) from exc
        raise AssertionError("unreachable")

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # 'spawn': a fresh interpreter per worker, safe whatever threads the server runs (fork is not).
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_worker_init)
        return self._pool


async def _call(load: PageLoader) -> bytes:
    result = load()
    return await result if isawaitable(result) else result


def _cache_hit(path: Path) -> bool:
    """True if the cached image is whole and exactly as rendered (its digest matches); refreshes its mtime now and
    then so pruning sees it as recently used. Blocking file I/O (a read of some tens of KiB): run it in a thread."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return False
    problem = webp_problem(data)
    if problem is not None:  # a write cut short, a bad block, a stray copy: render it again in its place
        if data:
            log.warning("cached page image %s is damaged (%s); rendering it again", path, problem)
        return False
    return touch_if_stale(path)  # False if pruned meanwhile: rendered again, as a miss


def _render_to_file(data: bytes, page_index: int, width: int, target: str) -> None:
    """Worker side: render and write atomically, so the image never crosses the process pipe."""
    write_atomic(Path(target), render_page(data, page_index, width))


def _worker_init() -> None:
    """Ctrl+C goes to the server, which shuts the pool down; workers shouldn't each print a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _warm() -> None:
    """Worker side: load the WebP encoder with a one-pixel image (its first use costs tens of milliseconds)."""
    from PIL import Image

    Image.new("L", (1, 1)).save(io.BytesIO(), **WEBP_OPTIONS)
