"""The answers for a chart's page images and engraved pages, once for the pages' ``/media`` routes and the API's
``/api/v1/media`` routes (they had drifted apart: the API sent no ETag and never answered 304).

Both answers are immutable and carry a strong ETag, so a browser, the service worker or a script asking again with
``If-None-Match`` gets a 304 without the image being rendered or read. Engraved pages (SVG) also carry ``nosniff``
and a Content-Security-Policy that lets an SVG opened on its own run nothing. The caller has already checked that
the member may open the chart (``library.get_chart``) and counted the request against its budget.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from soleil_ui.engraving import MEDIA_TYPE
from soleil_ui.engraving import etag_for as engraved_etag
from soleil_ui.errors import NotFound
from soleil_ui.models import Chart
from soleil_ui.rendering import etag_for, snap_width
from soleil_ui.runtime import get_runtime
from soleil_ui.services import chart_pages, library

IMMUTABLE = "private, max-age=31536000, immutable"
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; font-src data:; img-src data:"
IMAGE_TYPES = {".webp": "image/webp", ".png": "image/png", ".svg": "image/svg+xml"}


def loader(chart: Chart) -> Callable[[], Awaitable[bytes]]:
    """Reads the chart's file from the blob store, only if a renderer needs it (a cached image doesn't)."""
    checksum = chart.checksum

    async def load() -> bytes:
        return await get_runtime().blobs.read(checksum)
    return load


def not_modified(request: Request, headers: dict[str, str]) -> Response | None:
    """A 304 when the client already holds this exact answer (its ``If-None-Match`` is our ETag)."""
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    return None


async def page_image(request: Request, chart: Chart, page: int, w: int, *, prefix: str = "") -> Response:
    """One page of a PDF chart as an image, ``w`` (snapped) pixels wide. A generated chart asked for as a PDF page
    is sent (303) to its own part's engraved page at the counted width, under ``prefix`` (the API's ``/api/v1``)."""
    if not 0 <= page < chart.page_count:
        raise NotFound("That page doesn't exist.")
    if library.is_generated(chart):
        assert chart.id is not None
        spec = library.engrave_spec(chart, chart.part_key or "")
        url = chart_pages.svg_url(chart.id, chart.checksum, page, chart_pages.BASE_WIDTH, spec)
        return RedirectResponse(prefix + url, status_code=303)
    width = snap_width(w)
    headers = {"ETag": etag_for(chart.checksum, page, width), "Cache-Control": IMMUTABLE}
    if (cached := not_modified(request, headers)) is not None:
        return cached
    path = await get_runtime().renderer.page_image(chart.checksum, page, width, loader(chart))
    return FileResponse(path, headers=headers, media_type=IMAGE_TYPES.get(path.suffix, "image/png"))


async def engraved_page(request: Request, chart: Chart, page: int, w: int) -> Response:
    """One engraved page (SVG) of a MusicXML or ChordPro chart, in the part and key the query asks for."""
    if not library.is_generated(chart):
        raise NotFound("That chart has no engraved pages.")
    spec = chart_pages.spec_from_params(chart, request.query_params)
    width = snap_width(w)
    headers = {"ETag": engraved_etag(chart.checksum, spec, page, width), "Cache-Control": IMMUTABLE,
               "X-Content-Type-Options": "nosniff", "Content-Security-Policy": SVG_POLICY}
    if (cached := not_modified(request, headers)) is not None:
        return cached
    path = await get_runtime().engraver.page_svg(chart.checksum, spec, page, width, loader(chart))
    return FileResponse(path, headers=headers, media_type=MEDIA_TYPE)
