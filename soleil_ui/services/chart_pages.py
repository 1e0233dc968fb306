"""The one place that turns a chart and a part into the stand's page list, for PDFs and engraved parts alike.

``stand_pages(chart, part_key, concert_key=..., pref=..., width=...)`` returns ``[{src, srcset?, width, height}]``,
what ``components.stand.Stand`` takes, in reading order:

- a PDF: one image URL per page (``/media/charts/{id}/pages/{n}?w=800&v=<checksum16>``) with every standard width
  in ``srcset`` (the browser picks its size), the height from the PDF's own page size and the page's measured crop
  box (``crop``, see ``services.crops``; the async functions measure a chart that has none yet, once);
- a MusicXML or ChordPro part: one SVG URL per page (``/media/charts/{id}/svg/{n}?w=800&part=…&v=<checksum16>``,
  the query being ``EngraveSpec.to_params()``), no ``srcset`` (a width is a layout, not a resolution: each width
  has its own line breaks and page count), Letter-shaped. Counting the pages engraves the part (a cache hit after
  the first time, and after sync's pre-rendering for the band's own parts); an unusable file raises ``BrokenFile``.

For a setlist, ``stand_songs(plan)`` lists every song the way the stand's ``songs`` takes them (pages, the part and
what it is drawn from in ``stand_label``), so the stand and offline sets show the same thing.

URLs carry the file's checksum, so the media routes answer them ``immutable`` and the service worker can keep them:
a changed file gets new URLs. ``resolved_pages`` does the same for a ``library.ResolvedChart`` (its ``spec_params``
already hold the night's key and the member's preference). Plain async functions, no UI: the stand page, the offline
service and the print routes share them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import replace
from urllib.parse import urlencode

from ..engraving import EngraveSpec
from ..engraving.musicxml import LETTER_RATIO
from ..engraving.theory import Interval, Key, transpose_key
from ..errors import SoleilError
from ..models import Chart
from ..parts import PartRef, Transposition
from ..rendering import WIDTHS, snap_width
from ..runtime import get_runtime
from ..stand_contract import StandPage, StandSong
from .crops import ensure_crops, stored_crops
from .library import (
    ENGRAVE_KINDS,
    KeyPref,
    ResolvedChart,
    engrave_spec,
    file_hint,
    is_generated,
    key_label,
    same_key,
)
from .setlist_plan import StandPlan, StandStop

BASE_WIDTH = 800  # the stand's ``src`` width: a phone's, and what sync pre-renders
DEFAULT_PAGE_PT = (612.0, 792.0)  # US Letter, for a PDF whose page sizes are unknown
Page = StandPage
Song = StandSong
log = logging.getLogger(__name__)


def page_url(chart_id: int, checksum: str, page: int, width: int) -> str:
    """A PDF page image (``pages.media.chart_page``)."""
    return f"/media/charts/{chart_id}/pages/{page}?w={width}&v={checksum[:16]}"


def svg_url(chart_id: int, checksum: str, page: int, width: int, spec: EngraveSpec) -> str:
    """An engraved page (``pages.media.chart_svg``)."""
    return f"/media/charts/{chart_id}/svg/{page}?" + urlencode({"w": width, **spec.to_params(), "v": checksum[:16]})


def print_url(chart: Chart, part_key: str | None = None, *, concert_key: str | None = None,
              pref: KeyPref | None = None) -> str:
    """The paper fallback (``pages.media.chart_print``): a PDF's own file, or the part engraved as a PDF."""
    assert chart.id is not None
    if not is_generated(chart):
        return f"/media/charts/{chart.id}/print.pdf?v={chart.checksum[:16]}"
    spec = engrave_spec(chart, part_key or chart.part_key or "", concert_key=concert_key, pref=pref)
    return f"/media/charts/{chart.id}/print.pdf?" + urlencode({**spec.to_params(), "v": chart.checksum[:16]})


def spec_from_params(chart: Chart, params: Mapping[str, str]) -> EngraveSpec:
    """The drawing a media request asks for, with what only the server knows put back: the file's kind, the part
    its name names, and the night's key dropped when it is the file's own (so equal drawings share a cache entry).
    A request without ``part`` gets the file's own part. Junk raises ``InvalidInput`` (a 422)."""
    query = dict(params)
    query.setdefault("part", chart.part_key or "")
    spec = EngraveSpec.from_params(query)
    concert = spec.concert_key if spec.concert_key and not same_key(spec.concert_key, chart.source_key) else None
    return replace(spec, kind=ENGRAVE_KINDS[chart.kind], hint=file_hint(chart), concert_key=concert)


def page_height(chart: Chart, index: int, width: int = BASE_WIDTH) -> int:
    """A PDF page's height laid out ``width`` wide, from the PDF's own page size (Letter when unknown)."""
    width_pt, height_pt = chart.page_sizes[index] if index < len(chart.page_sizes) else DEFAULT_PAGE_PT
    return round(width * height_pt / max(width_pt, 1))


def pdf_pages(chart: Chart, width: int = BASE_WIDTH) -> list[Page]:
    """A PDF's pages: image URLs with every standard width in ``srcset``, heights from the PDF's page sizes."""
    assert chart.id is not None
    pages: list[Page] = []
    crops = stored_crops(chart)
    for index in range(chart.page_count):
        srcset = ", ".join(f"{page_url(chart.id, chart.checksum, index, w)} {w}w" for w in WIDTHS)
        page: Page = {"src": page_url(chart.id, chart.checksum, index, width), "srcset": srcset,
                      "width": width, "height": page_height(chart, index, width)}
        if crops is not None and crops[index] != [0.0, 0.0, 1.0, 1.0]:
            page["crop"] = crops[index]
        pages.append(page)
    return pages


async def engraved_pages(chart: Chart, spec: EngraveSpec, width: int = BASE_WIDTH) -> list[Page]:
    """An engraved part's pages at one layout width (engraving it first if the cache doesn't have it)."""
    assert chart.id is not None
    runtime = get_runtime()
    width = snap_width(width)
    checksum = chart.checksum

    async def load() -> bytes:
        return await runtime.blobs.read(checksum)

    count = await runtime.engraver.page_count(checksum, spec, width, load)
    height = round(width * LETTER_RATIO)
    return [{"src": svg_url(chart.id, checksum, n, width, spec), "width": width, "height": height}
            for n in range(count)]


async def stand_pages(chart: Chart, part_key: str | None = None, *, concert_key: str | None = None,
                      pref: KeyPref | None = None, width: int = BASE_WIDTH) -> list[Page]:
    """The stand's page list for ``chart`` opened in ``part_key`` (default: the chart's own part).

    A PDF is its pages whatever the part, key or preference (it can't be redrawn). A MusicXML/ChordPro chart is
    engraved for the part, in ``concert_key`` (the key of the night) and with the member's ``pref`` (their key,
    set aside when the night has one, and octave), laid out ``width`` CSS pixels wide.
    """
    if not is_generated(chart):
        await ensure_crops(chart)
        return pdf_pages(chart, width if width in WIDTHS else BASE_WIDTH)
    spec = engrave_spec(chart, part_key or chart.part_key or "", concert_key=concert_key, pref=pref)
    return await engraved_pages(chart, spec, width)


async def resolved_pages(resolved: ResolvedChart, chart: Chart, *, width: int = BASE_WIDTH) -> list[Page]:
    """``stand_pages`` for what ``library.chart_for_member`` resolved (``chart`` is ``resolved.chart_id``'s row)."""
    if chart.id != resolved.chart_id:
        raise ValueError("the chart isn't the resolved one")
    if not resolved.generated or not is_generated(chart):
        await ensure_crops(chart)
        return pdf_pages(chart, width if width in WIDTHS else BASE_WIDTH)
    return await engraved_pages(chart, spec_from_params(chart, resolved.spec_params), width)


_READS = {Transposition.BB: (Interval(1, 2), "B♭"), Transposition.EB: (Interval(5, 9), "E♭"),
          Transposition.F: (Interval(4, 7), "F")}  # what a transposing part reads above concert pitch


def tonight_key(stop: StandStop) -> str:
    """Tonight's key said so nobody wonders whether it is concert or written: "Tonight: concert E♭ · your B♭ part
    reads F · this PDF is not transposed" (an engraved part is drawn in the key: "engraved in F for you")."""
    concert = Key.try_parse(stop.musical_key)
    if concert is None:
        return ""
    said = [f"Tonight: concert {key_label(stop.musical_key)}"]
    part = PartRef.try_from_key(stop.resolved.part_key if stop.resolved is not None and stop.resolved.part_key
                                else stop.chart.part_key if stop.chart is not None else None)
    transposition = part.transposition if part is not None else None
    written = concert.name(unicode=True)
    if transposition in _READS:
        interval, name = _READS[Transposition(transposition)]
        written = transpose_key(concert, interval)[0].name(unicode=True)
        said.append(f"your {name} part reads {written}")
    if stop.chart is not None:
        said.append(f"engraved in {written} for you" if stop.generated else "this PDF is not transposed")
    return " · ".join(said)


def stand_label(stop: StandStop) -> str:
    """The stand's line under the title: my part, what it is drawn from or which key a PDF is in, the key of the night
    (concert, and what my part reads) and the leader's note ("Trumpet in B♭ · engraved from the score · Tonight:
    concert E♭ · your B♭ part reads F · engraved in F for you · slow intro")."""
    note = stop.resolved.stand_note if stop.resolved is not None and stop.chart is not None else ""
    return " · ".join(x for x in (stop.part_label, note, tonight_key(stop), stop.notes) if x)


async def stop_pages(stop: StandStop, width: int = BASE_WIDTH) -> list[Page]:
    """A setlist stop's pages as this member's stand shows them ([] without a chart); an unusable generated file
    raises ``BrokenFile``."""
    if stop.chart is None:
        return []
    if stop.resolved is None:
        await ensure_crops(stop.chart)
        return pdf_pages(stop.chart, width if width in WIDTHS else BASE_WIDTH)
    return await resolved_pages(stop.resolved, stop.chart, width=width)


async def stand_songs(plan: StandPlan, width: int = BASE_WIDTH) -> list[Song]:
    """Every song of a setlist for the stand's ``songs`` (``{title, part_label, pages, item_id, chart_id,
    explanation}``), engraving generated parts as needed: previous/next song and the leader's calls then only say
    *which* song. A file that can't be engraved gets no pages and its reason (the stand shows it, the set goes on)."""
    found = await asyncio.gather(*(stop_pages(stop, width) for stop in plan.stops), return_exceptions=True)
    songs: list[Song] = []
    for stop, pages in zip(plan.stops, found, strict=True):  # engraved side by side: the engraver has workers
        explanation = stop.explanation
        if isinstance(pages, SoleilError):
            log.warning("setlist %s: %s can't be shown: %s", plan.setlist_id, stop.title, pages)
            explanation = pages.user_message
            pages = []
        elif isinstance(pages, BaseException):
            raise pages
        songs.append({"title": stop.title, "part_label": stand_label(stop), "pages": pages, "item_id": stop.item_id,
                      "chart_id": stop.chart.id if stop.chart is not None else None, "explanation": explanation,
                      "song_id": stop.song_id})
    return songs


__all__ = [
    "BASE_WIDTH",
    "engraved_pages",
    "page_height",
    "page_url",
    "pdf_pages",
    "print_url",
    "resolved_pages",
    "spec_from_params",
    "stand_label",
    "stand_pages",
    "stand_songs",
    "stop_pages",
    "svg_url",
]
