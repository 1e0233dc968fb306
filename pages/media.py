"""Page images, engraved pages, printable parts and reference audio, served only to members of the band that owns
them (another band's chart is a 404, exactly like a missing one).

URLs carry the content checksum (``v=``), so responses are immutable and cached for a year by the
browser and the service worker; a changed file gets a new URL rather than a stale image.

Engraved pages (MusicXML and ChordPro parts) are SVG: ``/media/charts/{id}/svg/{page}?w=800&part=…`` with the rest
of ``EngraveSpec.to_params()`` in the query (see ``soleil_ui.services.chart_pages``). They are answered with a strong
ETag (``engraving.etag_for``), ``nosniff`` and a Content-Security-Policy that lets an SVG opened on its own run
nothing (``components.chart_media``, shared with the API's routes); NiceGUI's gzip middleware compresses them
on the way out (verovio's SVG shrinks about 4×).
``/media/charts/{id}/print.pdf?part=…&ck=…`` is the paper fallback for any part: a PDF chart's own file, or the
part engraved as a PDF.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from components import chart_media
from components.guard import SignedIn
from components.params import QueryInt
from components.session import throttle
from soleil_ui.engraving import CACHE_VERSION
from soleil_ui.parts import label_for_key
from soleil_ui.runtime import get_runtime
from soleil_ui.services import chart_pages, library, work

router = APIRouter()


@router.get("/media/charts/{chart_id:id}/pages/{page:id}")
async def chart_page(request: Request, actor: SignedIn, chart_id: int, page: int, w: QueryInt = 800) -> Response:
    await throttle(request, "media", actor)
    chart = await work.act(library.get_chart, actor, chart_id)
    return await chart_media.page_image(request, chart, page, w)


@router.get("/media/charts/{chart_id:id}/svg/{page:id}")
async def chart_svg(request: Request, actor: SignedIn, chart_id: int, page: int,
                    w: QueryInt = chart_pages.BASE_WIDTH) -> Response:
    """One engraved page of a MusicXML or ChordPro chart, in the part and key the query asks for."""
    await throttle(request, "media", actor)
    chart = await work.act(library.get_chart, actor, chart_id)
    return await chart_media.engraved_page(request, chart, page, w)


@router.get("/media/charts/{chart_id:id}/print.pdf")
async def chart_print(request: Request, actor: SignedIn, chart_id: int) -> Response:
    """Any part as a PDF to print or keep: a PDF chart's own bytes; a generated part engraved on Letter paper."""
    await throttle(request, "media", actor)
    chart, title = await work.act(library.chart_to_print, actor, chart_id)
    runtime = get_runtime()
    if not library.is_generated(chart):
        path = await runtime.blobs.local_path(chart.checksum)
        part = label_for_key(chart.part_key)
        etag = f'"{chart.checksum}-pdf"'
    else:
        spec = chart_pages.spec_from_params(chart, request.query_params)
        part = spec.part.label() + (f" in {library.key_label(spec.concert_key)}" if spec.concert_key else "")
        etag = f'"{chart.checksum}-{spec.cache_key()}-pdf-{CACHE_VERSION}"'
        path = None
    headers = {"ETag": etag, "Cache-Control": chart_media.IMMUTABLE, "X-Content-Type-Options": "nosniff"}
    if (cached := chart_media.not_modified(request, headers)) is not None:
        return cached
    if path is None:
        path = await runtime.engraver.pdf(chart.checksum, spec, chart_media.loader(chart), title=title)
    name = f"{title} - {part}.pdf" if part else f"{title}.pdf"
    return FileResponse(path, headers=headers, media_type="application/pdf", filename=_safe_name(name),
                        content_disposition_type="attachment")


def _safe_name(name: str) -> str:
    """A download name without path separators or control characters."""
    cleaned = "".join(" " if ch in '/\\"' or ord(ch) < 32 else ch for ch in name)
    return " ".join(cleaned.split())[:150] or "chart.pdf"


@router.get("/media/audio/{track_id:id}")
async def audio(request: Request, actor: SignedIn, track_id: int) -> Response:
    """Reference audio with HTTP Range, so the player can seek without downloading the whole file."""
    await throttle(request, "media", actor)
    track = await work.act(library.get_audio, actor, track_id)
    path = await get_runtime().blobs.local_path(track.checksum)  # this instance's copy: Range is served from disk
    return FileResponse(path, media_type=track.mime_type, headers={"Cache-Control": "private, max-age=3600"})
