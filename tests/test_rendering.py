"""PDF inspection, page rendering and the page-image cache, on real LilyPond charts and generated bad files."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from fpdf import FPDF
from PIL import Image

from soleil_ui.errors import BrokenFile, InvalidInput, NotFound
from soleil_ui.rendering import (
    WIDTHS,
    PageRenderer,
    PdfInfo,
    etag_for,
    inspect_pdf,
    render_page,
    snap_width,
)

CHARTS = Path(__file__).parent / "fixtures" / "charts"
ONE_PAGE = CHARTS / "All of Me - Eb.pdf"
TWO_PAGES = CHARTS / "BlueTrain_Bass.pdf"


def _checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _pdf(pages: int = 1, *, title: str | None = None, user_password: str | None = None, owner: bool = False) -> bytes:
    pdf = FPDF()
    if title is not None:
        pdf.set_title(title)
    if user_password is not None or owner:
        pdf.set_encryption(owner_password="owner-secret", user_password=user_password)
    for page in range(pages):
        pdf.add_page()
        pdf.set_font("helvetica", size=24)
        pdf.text(20, 30, f"Page {page + 1}")
    return bytes(pdf.output())


def _no_pages() -> bytes:
    out = io.BytesIO()
    pdfium.PdfDocument.new().save(out)
    return out.getvalue()


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "orange").save(out, format="JPEG")
    return out.getvalue()


@contextmanager
def broken(reason: str) -> Iterator[None]:
    """Expect ``BrokenFile`` whose message for people (not the log detail) contains ``reason``."""
    with pytest.raises(BrokenFile) as caught:
        yield
    assert reason in caught.value.user_message


def _ink(image: Image.Image) -> tuple[float, float]:
    """Fractions of dark (< 128) and white-ish (> 200) pixels in a greyscale image."""
    histogram = image.histogram()
    total = sum(histogram)
    return sum(histogram[:128]) / total, sum(histogram[201:]) / total


def _assert_greyscale_chart(image: Image.Image) -> None:
    bands = image.split()
    assert all(band.tobytes() == bands[0].tobytes() for band in bands), "colour crept into a greyscale render"
    dark, white = _ink(image.convert("L"))
    assert 0.005 < dark < 0.3, f"expected some ink, got {dark:.1%} dark pixels"
    assert white > 0.6, f"expected mostly paper, got {white:.1%} white pixels"


# --- inspect_pdf ------------------------------------------------------------------------------------------


def test_inspect_reads_page_count_title_and_sizes() -> None:
    info = inspect_pdf(TWO_PAGES.read_bytes())
    assert info == PdfInfo(page_count=2, title="Blue Train", page_sizes=info.page_sizes)
    assert [(round(w), round(h)) for w, h in info.page_sizes] == [(595, 842), (595, 842)]  # A4 in points


@pytest.mark.parametrize("title", [None, "", "   "])
def test_inspect_reports_a_missing_or_blank_title_as_none(title: str | None) -> None:
    assert inspect_pdf(_pdf(title=title)).title is None


def test_inspect_strips_the_title() -> None:
    assert inspect_pdf(_pdf(title="  Señor Sunshine \n")).title == "Señor Sunshine"


def test_a_pdf_that_only_restricts_printing_is_fine() -> None:
    """Owner-password-only encryption opens without a password, like in every PDF viewer."""
    assert inspect_pdf(_pdf(owner=True)).page_count == 1


BROKEN = {
    "empty": (lambda: b"", "The file is empty"),
    "truncated": (lambda: ONE_PAGE.read_bytes()[: ONE_PAGE.stat().st_size // 2], "damaged or incomplete"),
    "cut short at the end": (lambda: _pdf(3)[:-200], "damaged or incomplete"),
    "garbage after the header": (lambda: b"%PDF-1.7\n" + bytes(range(256)) * 20, "damaged or incomplete"),
    "html error page": (
        lambda: b"<!DOCTYPE html>\n<html><head><title>403 Forbidden</title></head><body>Nope</body></html>",
        "This isn't a PDF file (it looks like HTML)",
    ),
    "jpeg renamed": (_jpeg, "This isn't a PDF file (it looks like a JPEG photo)"),
    "word document": (lambda: b"PK\x03\x04" + b"\0" * 100, "(it looks like a ZIP archive or Word document)"),
    "plain text": (lambda: b"Autumn Leaves, trumpet part, page 1", "This isn't a PDF file"),
    "password-protected": (lambda: _pdf(user_password="letmein"), "The PDF is password-protected"),
    "no pages": (_no_pages, "The PDF has no pages"),
}


@pytest.mark.parametrize("kind", BROKEN)
def test_inspect_names_the_reason_a_file_is_broken(kind: str) -> None:
    make, reason = BROKEN[kind]
    with broken(reason):
        inspect_pdf(make())


def test_inspect_refuses_too_many_bytes_and_says_the_limit() -> None:
    with broken("too large (77 KB); the limit is 50 KB"):
        inspect_pdf(ONE_PAGE.read_bytes(), max_bytes=50 * 1024)


def test_inspect_refuses_too_many_pages_and_says_the_limit() -> None:
    with broken("The PDF has 3 pages; the limit is 2"):
        inspect_pdf(_pdf(3), max_pages=2)


# --- render_page, snap_width, etag_for ----------------------------------------------------------------------


def test_render_page_gives_a_greyscale_image_of_the_requested_width() -> None:
    image = Image.open(io.BytesIO(render_page(ONE_PAGE.read_bytes(), 0, 800)))
    assert image.format == "WEBP"
    assert image.width == 800
    assert image.height == pytest.approx(800 * 842 / 595, abs=1)
    _assert_greyscale_chart(image)


@pytest.mark.parametrize("page", [-1, 1, 99])
def test_render_page_out_of_range_is_not_found(page: int) -> None:
    with pytest.raises(NotFound):
        render_page(ONE_PAGE.read_bytes(), page, 800)


@pytest.mark.parametrize("width", [0, -5, WIDTHS[-1] + 1])
def test_render_page_refuses_silly_widths(width: int) -> None:
    with pytest.raises(InvalidInput):
        render_page(ONE_PAGE.read_bytes(), 0, width)


def test_render_page_of_a_broken_file_says_why() -> None:
    with broken("password-protected"):
        render_page(_pdf(user_password="x"), 0, 800)


@pytest.mark.parametrize(
    ("requested", "snapped"), [(1, 480), (480, 480), (481, 800), (800, 800), (1000, 1200), (1601, 2400), (9999, 2400)]
)
def test_snap_width_picks_the_smallest_standard_width_that_is_wide_enough(requested: int, snapped: int) -> None:
    assert snap_width(requested) == snapped


def test_etag_is_a_quoted_strong_tag_that_changes_with_every_part_of_the_key() -> None:
    tag = etag_for("abc123", 0, 800)
    assert tag.startswith('"') and tag.endswith('"') and not tag.startswith("W/")
    assert len({tag, etag_for("abc124", 0, 800), etag_for("abc123", 1, 800), etag_for("abc123", 0, 1600)}) == 4
    assert etag_for("abc123", 0, 800) == tag


# --- PageRenderer -------------------------------------------------------------------------------------------


@pytest.fixture
def renderer(tmp_path: Path):
    renderer = PageRenderer(tmp_path / "cache", workers=2)
    yield renderer
    renderer.close()


async def test_start_has_every_worker_running_before_the_first_page(renderer: PageRenderer) -> None:
    await renderer.start()
    pool = renderer._pool
    assert pool is not None and len(pool._processes) == renderer.workers  # started, not waiting for a chart
    assert all(p.is_alive() for p in pool._processes.values())
    data = ONE_PAGE.read_bytes()
    await renderer.page_image(_checksum(data), 0, 800, lambda: data)
    assert renderer._pool is pool and renderer.renders == 1  # the first page used the running pool


async def test_page_image_renders_into_the_cache(renderer: PageRenderer) -> None:
    data = ONE_PAGE.read_bytes()
    path = await renderer.page_image(_checksum(data), 0, 800, lambda: data)
    assert path.is_relative_to(renderer.cache_dir)
    assert path.name == "p0-w800.webp"
    assert renderer.renders == 1
    with Image.open(path) as image:
        assert image.width == 800
        _assert_greyscale_chart(image)
    assert not list(path.parent.glob("*.tmp")), "the temporary file was left behind"


async def test_a_cache_hit_returns_the_same_file_without_rendering_or_loading(renderer: PageRenderer) -> None:
    data = ONE_PAGE.read_bytes()
    first = await renderer.page_image(_checksum(data), 0, 800, lambda: data)
    written = first.stat().st_mtime_ns

    def must_not_load() -> bytes:
        raise AssertionError("a cache hit must not fetch the PDF")

    again = await renderer.page_image(_checksum(data), 0, 800, must_not_load)
    assert again == first
    assert first.stat().st_mtime_ns == written
    assert renderer.renders == 1


async def test_widths_snap_to_the_standard_sizes(renderer: PageRenderer) -> None:
    data = ONE_PAGE.read_bytes()
    path = await renderer.page_image(_checksum(data), 0, 700, lambda: data)
    assert path.name == "p0-w800.webp"
    assert await renderer.page_image(_checksum(data), 0, 790, lambda: data) == path
    assert renderer.renders == 1


async def test_an_async_loader_works_too(renderer: PageRenderer) -> None:
    data = ONE_PAGE.read_bytes()

    async def load() -> bytes:
        return data

    assert (await renderer.page_image(_checksum(data), 0, 480, load)).is_file()


async def test_concurrent_requests_for_one_image_share_one_render(renderer: PageRenderer) -> None:
    data = TWO_PAGES.read_bytes()
    loads = 0

    def load() -> bytes:
        nonlocal loads
        loads += 1
        return data

    paths = await asyncio.gather(*(renderer.page_image(_checksum(data), 1, 1200, load) for _ in range(5)))
    assert len(set(paths)) == 1
    assert loads == 1
    assert renderer.renders == 1


async def test_a_waiter_giving_up_does_not_cancel_the_render_for_others(renderer: PageRenderer) -> None:
    data = ONE_PAGE.read_bytes()
    loading = asyncio.Event()

    def load() -> bytes:
        loading.set()  # the shared render has started, so both requests have joined it
        return data

    impatient = asyncio.create_task(renderer.page_image(_checksum(data), 0, 1600, load))
    patient = asyncio.create_task(renderer.page_image(_checksum(data), 0, 1600, load))
    await loading.wait()
    impatient.cancel()
    assert (await patient).is_file()
    assert renderer.renders == 1


async def test_rendering_does_not_block_the_event_loop(renderer: PageRenderer) -> None:
    data = TWO_PAGES.read_bytes()
    render_started, other_task_ran = asyncio.Event(), asyncio.Event()

    def load() -> bytes:
        render_started.set()  # rendering begins as soon as the bytes are back
        return data

    async def other_work() -> None:
        other_task_ran.set()

    render = asyncio.create_task(renderer.page_image(_checksum(data), 0, 2400, load))
    await render_started.wait()
    other = asyncio.create_task(other_work())
    await other_task_ran.wait()
    # Had the render run on the loop thread, it would have finished before this task or the other got a turn.
    assert not render.done()
    assert (await render).is_file()
    await other


async def test_prerender_renders_every_page_at_the_common_widths(renderer: PageRenderer) -> None:
    data = TWO_PAGES.read_bytes()
    paths = await renderer.prerender(_checksum(data), lambda: data)
    assert sorted(path.name for path in paths) == [
        "p0-w1200.webp", "p0-w1600.webp", "p0-w800.webp", "p1-w1200.webp", "p1-w1600.webp", "p1-w800.webp"]
    assert all(path.is_file() for path in paths)
    assert renderer.renders == 6
    await renderer.page_image(_checksum(data), 1, 800, lambda: data)
    assert renderer.renders == 6


async def test_inspect_runs_in_the_pool_and_keeps_the_plain_words_reason(renderer: PageRenderer) -> None:
    assert await renderer.inspect(TWO_PAGES.read_bytes()) == inspect_pdf(TWO_PAGES.read_bytes())
    with broken("The PDF is password-protected"):
        await renderer.inspect(_pdf(user_password="secret"))
    with broken("the limit is 1 KB"):
        await renderer.inspect(TWO_PAGES.read_bytes(), max_bytes=1024)


async def test_page_out_of_range_is_not_found(renderer: PageRenderer) -> None:
    data = ONE_PAGE.read_bytes()
    for page in (1, -1):
        with pytest.raises(NotFound):
            await renderer.page_image(_checksum(data), page, 800, lambda: data)
    assert not list(renderer.cache_dir.rglob("*.webp"))


async def test_a_broken_file_fails_with_its_reason_and_caches_nothing(renderer: PageRenderer) -> None:
    data = ONE_PAGE.read_bytes()[:5000]
    with broken("damaged or incomplete"):
        await renderer.page_image(_checksum(data), 0, 800, lambda: data)
    assert not [path for path in renderer.cache_dir.rglob("*") if path.is_file()]


async def test_a_checksum_cannot_escape_the_cache_directory(renderer: PageRenderer) -> None:
    with pytest.raises(InvalidInput):
        await renderer.page_image("../../etc", 0, 800, ONE_PAGE.read_bytes)


async def test_a_crashed_worker_is_replaced(renderer: PageRenderer) -> None:
    """A PDF that kills PDFium takes its worker down; the file is reported broken and rendering carries on."""
    with broken("crashed the page renderer"):
        await renderer._run(os._exit, 1)  # what a segfault inside PDFium looks like from here
    data = ONE_PAGE.read_bytes()
    assert (await renderer.page_image(_checksum(data), 0, 480, lambda: data)).is_file()


async def test_close_then_use_again_starts_a_new_pool(renderer: PageRenderer) -> None:
    data = ONE_PAGE.read_bytes()
    await renderer.inspect(data)
    renderer.close()
    assert (await renderer.page_image(_checksum(data), 0, 480, lambda: data)).is_file()


def _cache_file(renderer: PageRenderer, name: str, size: int, age_hours: float) -> Path:
    path = renderer.cache_path("ab" + name, 0, 800)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    stamp = time.time() - age_hours * 3600
    os.utime(path, (stamp, stamp))
    return path


def test_prune_removes_least_recently_used_files_beyond_the_budget(renderer: PageRenderer) -> None:
    old = _cache_file(renderer, "old", 1000, age_hours=5)
    older = _cache_file(renderer, "older", 1000, age_hours=9)
    newest = _cache_file(renderer, "new", 1000, age_hours=1)
    assert renderer.prune(2500) == 1000
    assert newest.exists() and old.exists() and not older.exists()
    assert not older.parent.exists(), "empty folders should go too"
    assert renderer.prune(10_000) == 0
    assert renderer.prune(0) == 2000
    assert not [path for path in renderer.cache_dir.rglob("*") if path.is_file()]


async def test_a_cache_hit_counts_as_use_for_pruning(renderer: PageRenderer) -> None:
    data = ONE_PAGE.read_bytes()
    viewed = await renderer.page_image(_checksum(data), 0, 800, lambda: data)
    stamp = time.time() - 10 * 3600
    os.utime(viewed, (stamp, stamp))
    unviewed = _cache_file(renderer, "other", viewed.stat().st_size, age_hours=2)

    await renderer.page_image(_checksum(data), 0, 800, lambda: data)  # a hit, ten hours after the render
    renderer.prune(viewed.stat().st_size)
    assert viewed.exists() and not unviewed.exists()


# --- a damaged cached image is never served -----------------------------------------------------------------------


def _flip_middle(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + 16]) + data[middle + 16:]


def _unsealed(data: bytes) -> bytes:
    """The same page as an older SOLEil cached it: Pillow's plain lossless WebP, no digest."""
    out = io.BytesIO()
    with Image.open(io.BytesIO(data)) as image:
        image.convert("L").save(out, format="WEBP", lossless=True)
    return out.getvalue()


@pytest.mark.parametrize("damage", [_flip_middle, lambda d: d[: len(d) * 2 // 3], lambda d: bytes(len(d)),
                                    lambda d: b"<html>proxy error</html>", _unsealed],
                         ids=["bits-flipped", "truncated", "zero-filled", "not-an-image", "older-unsealed"])
async def test_a_damaged_cached_image_is_rendered_again_in_place(
        renderer: PageRenderer, damage, caplog: pytest.LogCaptureFixture) -> None:
    data = ONE_PAGE.read_bytes()
    path = await renderer.page_image(_checksum(data), 0, 800, lambda: data)
    good = path.read_bytes()
    path.write_bytes(damage(good))
    assert path.read_bytes() != good

    again = await renderer.page_image(_checksum(data), 0, 800, lambda: data)
    assert again == path, "the same cache path, so the page URL and ETag stay the same"
    assert renderer.renders == 2
    assert again.read_bytes() == good  # rendering is deterministic: exactly the image first cached
    with Image.open(again) as image:
        image.load()
        assert image.width == 800
    if damage is not _unsealed:
        assert "is damaged" in caplog.text and str(path) in caplog.text


def test_a_rendered_page_carries_a_digest_that_verifies() -> None:
    from soleil_ui.rendering import webp_problem

    image = render_page(ONE_PAGE.read_bytes(), 0, 480)
    assert webp_problem(image) is None
    assert webp_problem(_flip_middle(image)) == "its digest doesn't match"
    assert webp_problem(image[:-1]) == "not a whole WebP file"
    assert webp_problem(b"") == "empty"
