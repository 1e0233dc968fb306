"""The JSON API under ``/api/v1``, its documentation at ``/api/docs``, and the MCP endpoint at ``/mcp``.

Routes are thin: each resolves the bearer token to a ``Grant`` (``Depends(grant)``) and calls ``soleil_ui.api.calls``,
the same operations the MCP tools use, on the same services as the pages. Only ``Authorization: Bearer`` counts: the
session cookie is never read here, so there is no CSRF path, and no CORS headers are sent.

Errors come back in one shape (``soleil_ui.api.errors``), from one place: ``ApiRoute`` catches every error a route
raises (domain errors, bad parameters, surprises) and answers ``{"error": {"code", "message", "request_id"}}``.

Rate limiting: every route depends on ``grant`` (through the router), which is ``calls.authorize``, the one door
(token check and per-account budget) the MCP endpoint passes too; a route that needs its own budget adds its own
dependency.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute, APIRouter
from fastapi.security import HTTPBearer
from starlette.routing import Route

from components import chart_media
from components.errors import log_error, reference_for
from components.params import MaybeQueryId, PathId, PathInt, QueryInt
from soleil_ui.api import calls, mcp_server
from soleil_ui.api import errors as api_errors
from soleil_ui.api import schemas as s
from soleil_ui.errors import InvalidInput, NotFound
from soleil_ui.services.tokens import Grant

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent.parent / "components" / "static"
DOCS_ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css",
               "swagger-init.js": "text/javascript"}
TITLE = "SOLEil API"
VERSION = "1"


def _error(status: int, content: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(content, status_code=status, headers=headers)


class ApiRoute(APIRoute):
    """An API route whose every failure is answered in the API's one error shape (never HTML, never plain text)."""

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                details = [{"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
                           for e in exc.errors()]
                rid = reference_for(exc)
                log.info("[%s] %s %s: invalid parameters", rid, request.method, request.url.path)
                message = "Some parameters aren't valid."
                return _error(422, api_errors.body(api_errors.INVALID_INPUT, message, rid, details))
            except Exception as exc:
                rid = log_error(exc, f"{request.method} {request.url.path}")
                return _error(*api_errors.describe(exc, rid), api_errors.headers_for(exc))

        return handle


_bearer_scheme = HTTPBearer(auto_error=False, description="A personal access token from your profile page.")


async def grant(request: Request, _: Annotated[Any, Depends(_bearer_scheme)] = None) -> Grant:
    """Every API route passes here first (through the router): the member and scope behind the request's bearer
    token (401 without one; cookies don't count here), counted as one request of the token's account under
    ``SOLEIL_LIMIT_API`` (shared with ``/mcp``; 429 ``rate_limited`` with Retry-After when over). FastAPI caches
    it for the route's own ``Auth``, so a request is resolved and counted once."""
    return await calls.authorize(request.headers.get("authorization"))


Auth = Annotated[Grant, Depends(grant)]
Offset = Annotated[int, Query(ge=0, description="Skip this many items.")]
Limit = Annotated[int, Query(ge=1, le=s.MAX_LIMIT, description=f"At most this many items (≤ {s.MAX_LIMIT}).")]
v1 = APIRouter(prefix="/api/v1", route_class=ApiRoute, dependencies=[Depends(grant)])
router = APIRouter(route_class=ApiRoute)  # what main.py includes: v1, the docs, /mcp, and /api's 404


# --- who am I -----------------------------------------------------------------------------------------------------
@v1.get("/me", response_model=s.Me, tags=["me"])
async def me(auth: Auth) -> s.Me:
    """The member this token acts for, their band, role and the token's scope."""
    return await calls.me(auth)


@v1.get("/members", response_model=list[s.Member], tags=["me"])
async def band_members(auth: Auth) -> list[s.Member]:
    """Who plays in the band, and what."""
    return await calls.band_members(auth)


# --- library ------------------------------------------------------------------------------------------------------
@v1.get("/parts", response_model=list[s.PartFilter], tags=["library"])
async def parts(auth: Auth) -> list[s.PartFilter]:
    """The parts the band has charts for: values for ``part`` in ``/songs`` (plus ``mine``)."""
    return await calls.part_filters(auth)


@v1.get("/songs", response_model=s.Paged[s.SongSummary], tags=["library"])
async def songs(auth: Auth, q: Annotated[str, Query(max_length=200)] = "",
                part: Annotated[str, Query(max_length=64)] = "", offset: Offset = 0,
                limit: Limit = s.DEFAULT_LIMIT) -> dict[str, Any]:
    """Search the library (every word anywhere in the title, accents and case ignored), with each song's part for
    this member. ``part``: a part key from ``/parts``, or ``mine`` for songs with a chart in my part."""
    return await calls.search_songs(auth, q, part=part, offset=offset, limit=limit)


@v1.get("/songs/last-played", response_model=list[s.LastPlayed], tags=["library"])
async def last_played(auth: Auth, song_id: Annotated[list[s.Id] | None, Query(max_length=100)] = None,
                      q: Annotated[str, Query(max_length=200)] = "",
                      part: Annotated[str, Query(max_length=64)] = "") -> list[s.LastPlayed]:
    """When songs were last played (at a gig, or called live): the ``song_id``s given, else up to 100 songs
    matching ``q``/``part``."""
    return await calls.last_played(auth, song_id, q=q, part=part)


@v1.get("/songs/{song_id}", response_model=s.Song, tags=["library"])
async def song(auth: Auth, song_id: PathId) -> s.Song:
    """A song: its key and length, every part it can be opened in, this member's part, and when it was last played."""
    return await calls.song(auth, song_id)


@v1.get("/songs/{song_id}/my-part", response_model=s.MyPart, tags=["library"])
async def my_part(auth: Auth, song_id: PathId, key: Annotated[str | None, Query(max_length=8)] = None,
                  member_id: MaybeQueryId = None, w: Annotated[int, Query(ge=100, le=4000)] = 800) -> s.MyPart:
    """The chart and part this member (or band member ``member_id``) reads, in ``key`` (the key of the night), with
    its page image URLs (fetch them with the same token)."""
    return await calls.my_part(auth, song_id, key=key, member_id=member_id, width=w)


@v1.get("/songs/{song_id}/history", response_model=list[s.Played], tags=["library"])
async def history(auth: Auth, song_id: PathId, limit: Annotated[int, Query(ge=1, le=100)] = 10) -> list[s.Played]:
    """When and where the song was played, newest first."""
    return await calls.play_history(auth, song_id, limit=limit)


@v1.get("/media/charts/{chart_id}/pages/{page}", tags=["library"], response_class=FileResponse)
async def chart_page(request: Request, auth: Auth, chart_id: PathId, page: PathInt, w: QueryInt = 800) -> Response:
    """One page of a PDF chart as an image (WebP), ``w`` pixels wide; 304 to an ``If-None-Match`` of its ETag."""
    chart = await calls.chart(auth, chart_id)
    return await chart_media.page_image(request, chart, page, w, prefix=calls.API_PREFIX)


@v1.get("/media/charts/{chart_id}/svg/{page}", tags=["library"], response_class=FileResponse)
async def chart_svg(request: Request, auth: Auth, chart_id: PathId, page: PathInt, w: QueryInt = 800) -> Response:
    """One engraved page (SVG) of a MusicXML or ChordPro chart, in the part and key the query asks for; 304 to an
    ``If-None-Match`` of its ETag."""
    chart = await calls.chart(auth, chart_id)
    return await chart_media.engraved_page(request, chart, page, w)


# --- setlists -----------------------------------------------------------------------------------------------------
@v1.get("/setlists", response_model=s.Paged[s.SetlistSummary], tags=["setlists"])
async def setlist_list(auth: Auth, offset: Offset = 0, limit: Limit = s.DEFAULT_LIMIT) -> dict[str, Any]:
    """The band's setlists, most recently changed first."""
    return await calls.list_setlists(auth, offset=offset, limit=limit)


@v1.post("/setlists", response_model=s.Setlist, status_code=201, tags=["setlists"])
async def setlist_create(auth: Auth, body: s.SetlistIn) -> s.Setlist:
    """A new, empty setlist (leaders, write token)."""
    return await calls.create_setlist(auth, body.name)


@v1.get("/setlists/{setlist_id}", response_model=s.Setlist, tags=["setlists"])
async def setlist_read(auth: Auth, setlist_id: PathId) -> s.Setlist:
    """A setlist's songs and breaks in order, with each set's running time."""
    return await calls.get_setlist(auth, setlist_id)


@v1.post("/setlists/{setlist_id}/ops", response_model=s.OpsOut, tags=["setlists"])
async def setlist_ops(auth: Auth, setlist_id: PathId, body: s.OpsIn) -> s.OpsOut:
    """Edit a setlist with the editor's own operations (all or none); open editors show the change at once."""
    return await calls.apply_ops(auth, setlist_id, body.ops)


@v1.post("/setlists/{setlist_id}/undo", response_model=s.Setlist, tags=["setlists"])
async def setlist_undo(auth: Auth, setlist_id: PathId) -> s.Setlist:
    """Take back the latest change to the setlist, whoever made it."""
    return await calls.undo(auth, setlist_id)


# --- gigs ---------------------------------------------------------------------------------------------------------
@v1.get("/gigs", response_model=s.Paged[s.Gig], tags=["gigs"])
async def gig_list(auth: Auth, when: Annotated[str, Query(pattern="^(upcoming|past)$")] = "upcoming",
                   offset: Offset = 0, limit: Limit = s.DEFAULT_LIMIT) -> dict[str, Any]:
    """Upcoming gigs (soonest first) or past ones (latest first), with my answer. ``total`` counts the gigs up to
    one past this page; follow ``next_offset`` until it is null."""
    return await calls.list_gigs(auth, when=when, offset=offset, limit=limit)


@v1.get("/gigs/{gig_id}", response_model=s.GigDetail, tags=["gigs"])
async def gig_read(auth: Auth, gig_id: PathId) -> s.GigDetail:
    """A gig; leaders also get everyone's availability."""
    return await calls.get_gig(auth, gig_id)


@v1.put("/gigs/{gig_id}/availability", response_model=s.GigDetail, tags=["gigs"])
async def gig_availability(auth: Auth, gig_id: PathId, body: s.AvailabilityIn) -> s.GigDetail:
    """My answer for a gig: yes, no or maybe (write token)."""
    return await calls.set_availability(auth, gig_id, body.status)


# --- live mode ----------------------------------------------------------------------------------------------------
@v1.get("/live", response_model=s.Live, tags=["live"])
async def live_read(auth: Auth) -> s.Live:
    """Whether the band is live, on which setlist, and the song called."""
    return await calls.live_state(auth)


@v1.post("/live", response_model=s.Live, tags=["live"])
async def live_start(auth: Auth, body: s.LiveStartIn) -> s.Live:
    """Go live on a setlist (leaders, write token): followers' stands open its first song (or ``item_id``)."""
    return await calls.live_start(auth, body.setlist_id, body.item_id)


@v1.post("/live/call", response_model=s.Live, tags=["live"])
async def live_call(auth: Auth, body: s.CallIn) -> s.Live:
    """Call a song (leaders, write token): every follower's stand turns to it."""
    if body.item_id is None and body.step == 0:
        raise InvalidInput("Say which song to call: item_id, or step (1 next, -1 back).")
    return await calls.live_call(auth, item_id=body.item_id, step=body.step)


@v1.delete("/live", response_model=s.Live, tags=["live"])
async def live_stop(auth: Auth) -> s.Live:
    """End live mode; followers keep reading where they are."""
    return await calls.live_stop(auth)


# --- documentation, the MCP endpoint, and everything else under /api --------------------------------------------
def openapi_document() -> dict[str, Any]:
    return get_openapi(title=TITLE, version=VERSION, routes=[r for r in v1.routes if isinstance(r, APIRoute)],
                       description="Bands' charts, setlists and gigs for programs. Authenticate with "
                                   "`Authorization: Bearer <token>` (make a token on your profile page).")


@router.get("/api/v1/openapi.json", include_in_schema=False)
async def openapi() -> JSONResponse:
    return JSONResponse(openapi_document())


DOCS_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>SOLEil API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/api/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div><script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api/docs/swagger-init.js"></script></body></html>"""


@router.get("/api/docs", include_in_schema=False)
async def docs_page() -> HTMLResponse:
    """Swagger UI from the app's own files: works offline and needs no outside host."""
    return HTMLResponse(DOCS_PAGE)


@router.get("/api/docs/{name}", include_in_schema=False)
async def docs_asset(name: str) -> Response:
    if name not in DOCS_ASSETS:
        raise NotFound("There's no such file.")
    return FileResponse(STATIC / name, media_type=DOCS_ASSETS[name], headers={"Cache-Control": "public, max-age=86400"})


router.include_router(v1)


@router.api_route("/api/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
async def unknown(rest: str) -> Response:
    """Anything else under /api is the API's 404 (never a page)."""
    raise NotFound("There's no such API endpoint. See /api/docs.")


router.routes.append(Route("/mcp", mcp_server.endpoint, methods=["GET", "POST", "DELETE"], include_in_schema=False))


async def shutdown() -> None:
    """Stop the MCP session manager (the app's shutdown)."""
    await mcp_server.endpoint.stop()
