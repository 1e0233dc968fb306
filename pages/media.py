"""Page images and reference audio, served only to members of the band that owns them.

URLs carry the content checksum (``v=``), so responses are immutable and cached for a year by the
browser and the service worker; a changed file gets a new URL rather than a stale image.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from components.session import current_actor
from soleil_ui.db import db
from soleil_ui.errors import NotFound
from soleil_ui.rendering import etag_for, snap_width
from soleil_ui.runtime import get_runtime
from soleil_ui.services import library

router = APIRouter()
IMMUTABLE = "private, max-age=31536000, immutable"


def page_url(chart_id: int, checksum: str, page: int, width: int) -> str:
    return f"/media/charts/{chart_id}/pages/{page}?w={width}&v={checksum[:16]}"


@router.get("/media/charts/{chart_id}/pages/{page}")
async def chart_page(request: Request, chart_id: int, page: int, w: int = 800) -> Response:
    actor = await current_actor(request)
    async with db.session() as session:
        chart = await library.get_chart(session, actor, chart_id)
    if not 0 <= page < chart.page_count:
        raise NotFound("That page doesn't exist.")
    width = snap_width(w)
    etag = etag_for(chart.checksum, page, width)
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    runtime = get_runtime()
    path = await runtime.renderer.page_image(chart.checksum, page, width,
                                             lambda: runtime.blobs.read(chart.checksum))
    return FileResponse(path, headers=headers, media_type=_image_type(path.suffix))


def _image_type(suffix: str) -> str:
    return {".webp": "image/webp", ".png": "image/png", ".svg": "image/svg+xml"}.get(suffix, "image/png")


@router.get("/media/audio/{track_id}")
async def audio(request: Request, track_id: int) -> Response:
    """Reference audio with HTTP Range, so the player can seek without downloading the whole file."""
    actor = await current_actor(request)
    async with db.session() as session:
        track = await library.get_audio(session, actor, track_id)
    path = get_runtime().blobs.path_for(track.checksum)
    if not path.is_file():
        raise NotFound("That recording isn't stored here yet; run a library sync.")
    return FileResponse(path, media_type=track.mime_type, headers={"Cache-Control": "private, max-age=3600"})
