"""The stand's pencil over HTTP, for the signed-in member's band only (another band's chart is a 404).

``GET /annotations/{chart}?part=&page=&ids=a,b&layout=`` answers the strokes the member sees
(``services.annotations``): the stand fetches a page's marks, or, told by a hub event, just the ids it names;
``layout`` is an engraved page's query as the stand shows it (marks drawn on another layout come flagged).
``POST /annotations/{chart}`` takes ``{"part", "layout", "add": [stroke…], "move": [{id, to, page, dx, dy}…],
"delete": [id…]}`` as JSON with the session's anti-forgery token in ``X-CSRF-Token``
(a script's POST; another site can make a browser post, not read the token), rate-limited per account. A device
sends what it drew offline the same way when it reconnects: adding is idempotent and deletions win.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.requests import ClientDisconnect

from components.guard import SignedIn
from components.params import MaybeQueryText
from components.session import require_csrf_header, throttle
from soleil_ui.errors import InvalidInput
from soleil_ui.services import annotations, work

router = APIRouter()
MAX_BODY = 2_000_000  # bytes: a full batch of long strokes fits with room to spare
NO_STORE = {"Cache-Control": "no-store"}


def _page(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdigit() or len(value) > 6:
        raise InvalidInput("The page must be a number.")
    return int(value)


@router.get("/annotations/{chart_id:id}")
async def strokes(request: Request, actor: SignedIn, chart_id: int, part: MaybeQueryText = None,
                  page: MaybeQueryText = None, ids: MaybeQueryText = None,
                  layout: MaybeQueryText = None) -> JSONResponse:
    await throttle(request, "media", actor)
    wanted = [i for i in ids.split(",") if i] if ids is not None else None
    listed = await work.act(annotations.list_strokes, actor, chart_id, part, page=_page(page), ids=wanted,
                            layout=layout)
    return JSONResponse(listed, headers=NO_STORE)


@router.post("/annotations/{chart_id:id}")
async def push(request: Request, actor: SignedIn, chart_id: int) -> JSONResponse:
    require_csrf_header(request)
    await throttle(request, "annotations", actor)
    body = await _json(request)
    part, layout = body.get("part"), body.get("layout")
    add, delete, move = body.get("add") or [], body.get("delete") or [], body.get("move") or []
    if not all(v is None or isinstance(v, str) for v in (part, layout)) \
            or not all(isinstance(v, list) for v in (add, delete, move)):
        raise InvalidInput("Send {part, layout, add: [...], move: [...], delete: [...]}.")
    result = await work.act(annotations.apply, actor, chart_id, part, add=add, delete=delete, move=move,
                            layout=layout)
    return JSONResponse(result, headers=NO_STORE)


@router.get("/annotations/{chart_id:id}/print.pdf")
async def print_marked(request: Request, actor: SignedIn, chart_id: int, part: MaybeQueryText = None,
                       layout: MaybeQueryText = None, marks: MaybeQueryText = None) -> Response:
    """The chart to print with the marks I see (mine and the shared ones) drawn in, and the song's notes on page 1;
    an engraved part laid out as the stand showed it (``layout``); ``marks=0`` prints it without them. Marks flagged
    "from an earlier version" stay out: their place on this file is unknown."""
    await throttle(request, "work", actor)
    with_marks = marks not in ("0", "no", "false")
    data, title = await annotations.marked_pdf(actor, chart_id, part, layout=layout, marks=with_marks)
    suffix = "with marks" if with_marks else "without marks"
    name = "".join(" " if ch in '/\\"' or ord(ch) < 32 else ch for ch in f"{title} - {suffix}.pdf")[:150]
    return Response(data, media_type="application/pdf", headers={
        **NO_STORE, "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


async def _json(request: Request) -> dict[str, Any]:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise InvalidInput("That is too many marks at once; send fewer.")
    raw = b""
    try:
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_BODY:
                raise InvalidInput("That is too many marks at once; send fewer.")
    except ClientDisconnect:  # the phone lost the network mid-send: its queue keeps the marks and sends them again
        raise InvalidInput("The marks didn't arrive whole; your device sends them again.") from None
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("Send the marks as JSON.") from None
    if not isinstance(body, dict):
        raise InvalidInput("Send {part, add: [...], delete: [...]}.")
    return body
