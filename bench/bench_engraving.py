"""Engraving MusicXML and ChordPro parts, beside rendering a PDF page of comparable music.

Measured per page at the stand's 800 px layout, for a one-page lead sheet (tests/fixtures/notation/Tune.musicxml,
engraved as the trumpet part: transposed, like most parts members open), a four-page chart (Long Chart.musicxml) and
a ChordPro sheet (Amazing Grace), against the fixture chart PDFs (tests/fixtures/charts, LilyPond engravings):

- *in process*: ``engraving.engrave`` (verovio layout + SVG) vs ``rendering.render_page`` (PDFium raster + lossless
  WebP): the work itself, no cache, no worker;
- *cold*: the app's ``Engraver`` with an empty cache (worker already started) asked for every page of the part, vs
  the app's ``PageRenderer`` with an empty cache asked for every page — what the first member to open a part waits
  for when sync hasn't engraved it ahead;
- *cached*: the same requests again (a disk-cache hit: what nearly every open is).

Sizes: an engraved page's SVG, raw and gzipped (the media route is gzipped by NiceGUI), against the WebP page.
Usage: ``python -m bench engraving`` (these pages, then the real-file corpus of ``bench_engraving_corpus``);
``python -m bench engraving pages`` or ``python -m bench engraving corpus [PATH ...]`` for one of them;
``BENCH_ENGRAVING_ROUNDS`` (default 15) rounds per measure.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import os
import sys
import time
from pathlib import Path

from bench.common import REPO_ROOT, Report, Target, ratio, summary, temp_dir

NOTATION = REPO_ROOT / "tests" / "fixtures" / "notation"
CHARTS = REPO_ROOT / "tests" / "fixtures" / "charts"
ROUNDS = int(os.environ.get("BENCH_ENGRAVING_ROUNDS", "15"))
WIDTH = 800


def _ms(seconds: float) -> float:
    return seconds * 1000


def _sources() -> list[tuple[str, bytes, object]]:
    from soleil_ui.engraving import EngraveSpec
    from soleil_ui.parts import PartRef

    trumpet = PartRef(instrument="trumpet")
    return [
        ("lead sheet (Tune, 1 page)", (NOTATION / "Tune.musicxml").read_bytes(),
         EngraveSpec(trumpet, kind="musicxml")),
        ("chart (Long Chart, 4 pages)", (NOTATION / "Long Chart.musicxml").read_bytes(),
         EngraveSpec(trumpet, kind="musicxml")),
        ("chord sheet (Amazing Grace)", (NOTATION / "Amazing Grace_Chords.cho").read_bytes(),
         EngraveSpec(trumpet, kind="chordpro")),
    ]


def _pdfs() -> list[tuple[str, bytes, int]]:
    import pypdfium2 as pdfium

    out = []
    for path in sorted(CHARTS.glob("*.pdf")):
        data = path.read_bytes()
        out.append((path.name, data, len(pdfium.PdfDocument(data))))
    return out


def _in_process(sources: list[tuple[str, bytes, object]], pdfs: list[tuple[str, bytes, int]]
                ) -> tuple[dict[str, list[float]], list[float], dict[str, int]]:
    """ms per page, engraving each source and rendering every PDF page, in this process."""
    from soleil_ui.engraving import engrave
    from soleil_ui.rendering import render_page

    pages: dict[str, int] = {}
    engraved: dict[str, list[float]] = {name: [] for name, _, _ in sources}
    for name, data, spec in sources:  # warm-up: verovio and fonts loaded
        pages[name] = len(engrave(data, spec, WIDTH))  # type: ignore[arg-type]
    render_page(pdfs[0][1], 0, WIDTH)
    rendered: list[float] = []
    for _ in range(ROUNDS):
        for name, data, spec in sources:
            start = time.perf_counter()
            engrave(data, spec, WIDTH)  # type: ignore[arg-type]
            engraved[name].append(_ms(time.perf_counter() - start) / pages[name])
        for _pdf_name, data, count in pdfs:
            for index in range(count):
                start = time.perf_counter()
                render_page(data, index, WIDTH)
                rendered.append(_ms(time.perf_counter() - start))
    return engraved, rendered, pages


async def _through_the_app(sources: list[tuple[str, bytes, object]], pdfs: list[tuple[str, bytes, int]]
                           ) -> tuple[dict[str, list[float]], dict[str, list[float]], dict[str, list[float]],
                                      list[float], list[float], dict[str, int], int]:
    """ms per page through the Engraver and the PageRenderer: cold (empty cache, warm workers), then cached."""
    from soleil_ui.engraving import Engraver, EngraveSpec
    from soleil_ui.parts import PartRef
    from soleil_ui.rendering import PageRenderer

    cold: dict[str, list[float]] = {name: [] for name, _, _ in sources}
    cached: dict[str, list[float]] = {name: [] for name, _, _ in sources}
    first_wait: dict[str, list[float]] = {name: [] for name, _, _ in sources}
    pdf_cold: list[float] = []
    pdf_cached: list[float] = []
    svg_bytes: dict[str, int] = {}
    webp_bytes = 0
    with temp_dir("soleil-bench-engraving-") as tmp:
        for round_no in range(ROUNDS):
            engraver = Engraver(tmp / f"engraved-{round_no}", workers=1)
            renderer = PageRenderer(tmp / f"pages-{round_no}", workers=1)
            try:
                warm = EngraveSpec(PartRef(role="lyrics"), kind="chordpro")  # start the worker outside the clock
                await engraver.page_count("warm", warm, 480, lambda: sources[-1][1])
                await renderer.page_image("warm", 0, 480, lambda: pdfs[0][1])
                for name, data, spec in sources:
                    checksum = hashlib.sha256(data).hexdigest()
                    start = time.perf_counter()
                    count = await engraver.page_count(checksum, spec, WIDTH, lambda d=data: d)  # type: ignore[arg-type]
                    paths = [await engraver.page_svg(checksum, spec, n, WIDTH, lambda d=data: d)  # type: ignore
                             for n in range(count)]
                    cold[name].append(_ms(time.perf_counter() - start) / count)
                    first_wait[name].append(cold[name][-1] * count)
                    start = time.perf_counter()
                    for n in range(count):
                        await engraver.page_svg(checksum, spec, n, WIDTH, lambda d=data: d)  # type: ignore[arg-type]
                    cached[name].append(_ms(time.perf_counter() - start) / count)
                    if round_no == 0:
                        svg_bytes[name] = paths[0].stat().st_size
                        svg_bytes[name + " gz"] = len(gzip.compress(paths[0].read_bytes(), 6))
                for pdf_name, data, count in pdfs:
                    checksum = hashlib.sha256(data).hexdigest()
                    for index in range(count):
                        start = time.perf_counter()
                        path = await renderer.page_image(checksum, index, WIDTH, lambda d=data: d)
                        pdf_cold.append(_ms(time.perf_counter() - start))
                        start = time.perf_counter()
                        await renderer.page_image(checksum, index, WIDTH, lambda d=data: d)
                        pdf_cached.append(_ms(time.perf_counter() - start))
                        if round_no == 0 and pdf_name == pdfs[0][0] and index == 0:
                            webp_bytes = path.stat().st_size
            finally:
                engraver.close()
                renderer.close()
    return cold, cached, first_wait, pdf_cold, pdf_cached, svg_bytes, webp_bytes


async def bench_engraving() -> None:
    sources = _sources()
    pdfs = _pdfs()
    report = Report("engraving", "Engraving parts (MusicXML, ChordPro) per page at 800 px, beside a PDF page render")
    engraved, rendered, pages = _in_process(sources, pdfs)
    cold, cached, first_wait, pdf_cold, pdf_cached, sizes, webp_bytes = await _through_the_app(sources, pdfs)
    pdf_in = summary(rendered)["p50"]
    pdf_c = summary(pdf_cold)["p50"]
    pdf_h = summary(pdf_cached)["p50"]
    figures: dict[str, object] = {
        "width": WIDTH, "rounds": ROUNDS, "pdf_pages": sum(c for _, _, c in pdfs),
        "pdf_render_page_ms_per_page": summary(rendered),
        "pdf_renderer_cold_ms_per_page": summary(pdf_cold),
        "pdf_renderer_cached_ms_per_page": summary(pdf_cached),
        "webp_page_bytes": webp_bytes,
        "sources": {},
    }
    report.row("PDF page: render_page in process p50", pdf_in, unit=" ms")
    report.row("PDF page: PageRenderer cold p50", pdf_c, pdf_in, " ms", (pdf_c, pdf_in))
    report.row("PDF page: PageRenderer cached p50", pdf_h, pdf_c, " ms", (pdf_h, pdf_c))
    for name, _, _ in sources:
        inproc, c, h = summary(engraved[name])["p50"], summary(cold[name])["p50"], summary(cached[name])["p50"]
        figures["sources"][name] = {  # type: ignore[index]
            "pages": pages[name],
            "engrave_in_process_ms_per_page": summary(engraved[name]),
            "engraver_cold_ms_per_page": summary(cold[name]),
            "engraver_cold_first_page_wait_ms": summary(first_wait[name]),
            "engraver_cached_ms_per_page": summary(cached[name]),
            "svg_page_bytes": sizes.get(name), "svg_page_bytes_gzip": sizes.get(name + " gz"),
            "ratio_in_process_vs_pdf_render_page": ratio(inproc, pdf_in),
            "ratio_cold_vs_pdf_cold": ratio(c, pdf_c),
            "ratio_cached_vs_pdf_cached": ratio(h, pdf_h),
        }
        report.row(f"{name}: engrave in process p50", inproc, pdf_in, " ms", (inproc, pdf_in))
        report.row(f"{name}: Engraver cold p50", c, pdf_c, " ms", (c, pdf_c))
        report.row(f"{name}: Engraver cached p50", h, pdf_h, " ms", (h, pdf_h))
        if pages[name] > 1:
            wait = summary(first_wait[name])["p50"]
            report.row(f"{name}: cold wait for page 1 (whole job) p50", wait, pdf_c, " ms", (wait, pdf_c))
        report.row(f"{name}: SVG page KiB (gzip)", f"{(sizes.get(name) or 0) / 1024:.1f} "
                   f"({(sizes.get(name + ' gz') or 0) / 1024:.1f})", f"{webp_bytes / 1024:.1f} webp")
    report.figures = figures
    lead = figures["sources"]["lead sheet (Tune, 1 page)"]  # type: ignore[index]
    chart = figures["sources"]["chart (Long Chart, 4 pages)"]  # type: ignore[index]
    report.targets = [
        Target("lead sheet: Engraver cold per page / PDF PageRenderer cold per page", lead["ratio_cold_vs_pdf_cold"],
               "<=", 3.0, "×", source="proposed"),
        Target("4-page chart: Engraver cold per page / PDF PageRenderer cold per page",
               chart["ratio_cold_vs_pdf_cold"], "<=", 3.0, "×", source="proposed"),
        Target("lead sheet: Engraver cached / PDF PageRenderer cached", lead["ratio_cached_vs_pdf_cached"], "<=", 2.0,
               "×", source="proposed"),
    ]
    report.notes.append("no engraving target in the issue; the proposed ones ask that a first (cold) engraved page "
                        "cost at most 3× a first rendered PDF page, and a cached one at most 2× a cached PDF page")
    report.notes.append("an engraving job lays out the whole part at once, so the cold cost of a multi-page chart is "
                        "paid by its first page; per-page figures divide the job by its page count")
    report.save()
    report.show()


def main(argv: list[str]) -> int:
    """No parts: the pages above, then the corpus (``bench_engraving_corpus``); ``pages`` or ``corpus [PATH ...]``
    for one of them."""
    sys.path.insert(0, str(Path(REPO_ROOT)))
    from bench import bench_engraving_corpus

    if argv[:1] not in ([], ["pages"], ["corpus"]):
        raise SystemExit("bench_engraving parts: pages, corpus [PATH ...] [--no-save]")
    if argv[:1] != ["corpus"]:
        asyncio.run(bench_engraving())
    if argv[:1] != ["pages"]:
        bench_engraving_corpus.main(argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
