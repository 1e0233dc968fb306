"""MCP tools for AI assistants, on the official MCP Python SDK, served by the app itself at ``/mcp``.

Streamable HTTP, stateless, JSON answers: every request stands alone and carries its bearer token, so any instance
can answer any request and nothing lives in one process's memory. ``McpEndpoint`` lets a request in through the
JSON API's own door (``calls.authorize``: 401 without a valid token, 429 over the account's budget) and hands the
``Grant`` to the tools through the request's scope; the tools are thin wrappers over ``calls``, so they follow
exactly the rules of the pages and of ``/api/v1``.
A domain error becomes a tool error whose text starts with the API's stable code ("forbidden: …").
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import ToolAnnotations
from pydantic import BaseModel
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from ..errors import SoleilError, current_request_id
from ..services import tokens
from ..services.tokens import Grant
from . import calls
from . import errors as api_errors
from .schemas import Id

log = logging.getLogger(__name__)
GRANT_KEY = "soleil.grant"
T = TypeVar("T")
READ = ToolAnnotations(readOnlyHint=True, openWorldHint=False)
CHANGE = ToolAnnotations(readOnlyHint=False, destructiveHint=False, openWorldHint=False)
INSTRUCTIONS = (
    "SOLEil is a band's book: its charts (each song in every musician's part), setlists, gigs and live mode. You act "
    "as one member of one band, with their token. Song, setlist, entry (item) and gig ids come from the listing tools. "
    "Only leaders with a write token can build or change setlists and call songs live; every change shows up at once "
    "on the band's open editors and stands, and can be undone."
)


def _grant(ctx: Context) -> Grant:
    request = ctx.request_context.request
    grant = request.scope.get(GRANT_KEY) if request is not None else None
    if not isinstance(grant, Grant):
        raise ToolError("unauthorized: " + tokens.NO_TOKEN)
    return grant


def _invalid(message: str) -> ToolError:
    """A tool error for a bad argument, with the API's ``invalid_input`` code."""
    return ToolError(f"{api_errors.INVALID_INPUT}: {message}")


async def _answer(work: Awaitable[T]) -> Any:
    """Run a call; SOLEil's errors become tool errors with the API's code, results become plain JSON."""
    try:
        result: Any = await work
    except SoleilError as exc:
        _, code = api_errors.code_for(exc)
        raise ToolError(f"{code}: {exc.user_message}") from None
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    if isinstance(result, list):
        return {"items": [r.model_dump(mode="json") if isinstance(r, BaseModel) else r for r in result]}
    if isinstance(result, dict) and "items" in result:
        return {**result, "items": [r.model_dump(mode="json") if isinstance(r, BaseModel) else r
                                    for r in result["items"]]}
    return result


def build_server() -> MCPServer:
    """The tools, described for a band; a fresh server per app start (the SDK runs each server once)."""
    server = MCPServer("SOLEil", instructions=INSTRUCTIONS, version="1")

    # --- the book ---------------------------------------------------------------------------------------------------
    @server.tool(annotations=READ)
    async def find_songs(ctx: Context, query: str = "", part: str = "", offset: int = 0,
                         limit: int = 25) -> dict[str, Any]:
        """Look tunes up in the band's book by words of the title (any order, accents and case don't matter; empty
        lists everything). Each song says which chart I'd read and whether it's really in my part. `part` narrows to
        songs that have a chart for one part (a key from `part_choices`, or "mine" for songs in my part). Long lists
        come in pages: ask again with `offset` = `next_offset`."""
        return await _answer(calls.search_songs(_grant(ctx), query, part=part, offset=offset, limit=limit))

    @server.tool(annotations=READ)
    async def part_choices(ctx: Context) -> dict[str, Any]:
        """The parts the band has charts for (trumpet 1, alto sax, chords, lead sheet…), to narrow `find_songs`."""
        return await _answer(calls.part_filters(_grant(ctx)))

    @server.tool(annotations=READ)
    async def song_details(ctx: Context, song_id: Id) -> dict[str, Any]:
        """Everything about one tune: its key and length, every part it has a chart for (PDFs and parts engraved from a
        score or chord sheet), the part I read, how many reference recordings there are, and when we last played it."""
        return await _answer(calls.song(_grant(ctx), song_id))

    @server.tool(annotations=READ)
    async def member_part(ctx: Context, song_id: Id, member_id: Id | None = None,
                          key_of_the_night: str | None = None) -> dict[str, Any]:
        """Which chart a musician puts on their stand for a tune, and why: mine, or a bandmate's (`member_id` from
        `band_members`). With `key_of_the_night` ("Eb", "F#m") it says what they'd read if we play it in that key
        (engraved parts follow the key; a PDF in another key says so)."""
        return await _answer(calls.my_part(_grant(ctx), song_id, key=key_of_the_night, member_id=member_id,
                                           pages=False))

    @server.tool(annotations=READ)
    async def band_members(ctx: Context) -> dict[str, Any]:
        """Who plays in the band, their role (leader, member, sub) and the instruments they read for."""
        return await _answer(calls.band_members(_grant(ctx)))

    @server.tool(annotations=READ)
    async def last_played(ctx: Context, song_ids: list[Id] | None = None, query: str = "",
                          part: str = "") -> dict[str, Any]:
        """When we last played tunes, at a gig or called live, and how many days ago (null: never). Give `song_ids`,
        or let it look at up to 100 songs of the book matching `query`/`part`. Use it to find tunes we haven't
        played in a while."""
        return await _answer(calls.last_played(_grant(ctx), song_ids, q=query, part=part))

    # --- setlists and gigs ------------------------------------------------------------------------------------------
    @server.tool(annotations=READ)
    async def list_setlists(ctx: Context, offset: int = 0, limit: int = 25) -> dict[str, Any]:
        """The band's setlists, the most recently changed first."""
        return await _answer(calls.list_setlists(_grant(ctx), offset=offset, limit=limit))

    @server.tool(annotations=READ)
    async def read_setlist(ctx: Context, setlist_id: Id) -> dict[str, Any]:
        """A setlist in running order: each tune (with its entry `item_id`, key of the night, notes and length) and
        each set break, plus every set's running time."""
        return await _answer(calls.get_setlist(_grant(ctx), setlist_id))

    @server.tool(annotations=READ)
    async def set_running_time(ctx: Context, setlist_id: Id) -> dict[str, Any]:
        """How long each set of a setlist runs (and the whole night), counting typed lengths, else the song's or its
        recording's. `songs_without_duration` > 0 means the real time is longer."""
        setlist = await _answer(calls.get_setlist(_grant(ctx), setlist_id))
        return {"setlist_id": setlist["id"], "name": setlist["name"], "sets": setlist["sets"],
                "total_seconds": setlist["total_seconds"]}

    @server.tool(annotations=READ)
    async def list_gigs(ctx: Context, when: str = "upcoming", offset: int = 0, limit: int = 25) -> dict[str, Any]:
        """Our gigs: `upcoming` (soonest first) or `past` (latest first), with date, venue, setlist and my answer."""
        return await _answer(calls.list_gigs(_grant(ctx), when=when, offset=offset, limit=limit))

    @server.tool(annotations=READ)
    async def read_gig(ctx: Context, gig_id: Id) -> dict[str, Any]:
        """One gig: when (downbeat, load-in, end), where, dress code, notes, its setlist, my answer; leaders also see
        who can make it."""
        return await _answer(calls.get_gig(_grant(ctx), gig_id))

    # --- building a setlist (leaders) -------------------------------------------------------------------------------
    @server.tool(annotations=CHANGE)
    async def create_setlist(ctx: Context, name: str, song_ids: list[Id] | None = None) -> dict[str, Any]:
        """Start a new setlist (leaders), optionally with tunes already in it, in the order given."""
        grant = _grant(ctx)
        made = await _answer(calls.create_setlist(grant, name))
        if song_ids:
            return (await _answer(calls.add_songs(grant, made["id"], song_ids)))["setlist"]
        return made

    @server.tool(annotations=CHANGE)
    async def add_songs(ctx: Context, setlist_id: Id, song_ids: list[Id], after_item_id: Id | None = None,
                        set_break_before: str | None = None) -> dict[str, Any]:
        """Put tunes in a setlist (leaders) in the order given: at the end, or right after entry `after_item_id`.
        `set_break_before` ("Set 2", "Encore") puts a set break in front of them."""
        return await _answer(calls.add_songs(_grant(ctx), setlist_id, song_ids, after_item_id=after_item_id,
                                             break_label=set_break_before))

    @server.tool(annotations=CHANGE)
    async def add_set_break(ctx: Context, setlist_id: Id, label: str = "Set 2",
                            after_item_id: Id | None = None) -> dict[str, Any]:
        """Put a set break ("Set 2", "Encore") in a setlist (leaders): at the end, or right after entry
        `after_item_id`. The tunes after it form the next set."""
        op = {"kind": "insert", "after_id": after_item_id, "values": {"is_break": True, "label": label}}
        return await _answer(calls.apply_ops(_grant(ctx), setlist_id, [op]))

    @server.tool(annotations=CHANGE)
    async def move_entry(ctx: Context, setlist_id: Id, item_id: Id, after_item_id: Id | None = None,
                         position: int | None = None) -> dict[str, Any]:
        """Move a tune or set break (entry `item_id`) in a setlist (leaders): right after entry `after_item_id`, or
        to `position` (0 = the top)."""
        op = {"kind": "move", "item_id": item_id, "after_id": after_item_id,
              "index": position if position is not None or after_item_id is not None else 0}
        return await _answer(calls.apply_ops(_grant(ctx), setlist_id, [op]))

    @server.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=True, openWorldHint=False))
    async def remove_entry(ctx: Context, setlist_id: Id, item_id: Id) -> dict[str, Any]:
        """Take a tune or set break out of a setlist (leaders). `undo_setlist_change` brings it back."""
        return await _answer(calls.apply_ops(_grant(ctx), setlist_id, [{"kind": "remove", "item_id": item_id}]))

    @server.tool(annotations=CHANGE)
    async def edit_entry(ctx: Context, setlist_id: Id, item_id: Id, key_of_the_night: str | None = None,
                         notes: str | None = None, duration: str | None = None,
                         break_label: str | None = None) -> dict[str, Any]:
        """Change one entry of a setlist (leaders): the key we play a tune in tonight ("Bb", "F#m"; "" for the
        chart's key), a note for the band ("slow intro", "vamp till cue"), its length ("3:45"; "" to forget it), or a
        set break's name."""
        from ..services.setlists import parse_duration

        values: dict[str, Any] = {}
        if key_of_the_night is not None:
            values["musical_key"] = key_of_the_night
        if notes is not None:
            values["notes"] = notes
        if break_label is not None:
            values["label"] = break_label
        grant = _grant(ctx)
        if duration is not None:
            try:
                values["duration_seconds"] = parse_duration(duration)
            except SoleilError as exc:
                raise _invalid(exc.user_message) from None
        if not values:
            raise _invalid("Say what to change: key_of_the_night, notes, duration or break_label.")
        return await _answer(calls.apply_ops(grant, setlist_id, [{"kind": "edit", "item_id": item_id,
                                                                  "values": values}]))

    @server.tool(annotations=CHANGE)
    async def rename_setlist(ctx: Context, setlist_id: Id, name: str) -> dict[str, Any]:
        """Give a setlist a new name (leaders): the venue and the date, say, so the band finds it on the night."""
        return await _answer(calls.apply_ops(_grant(ctx), setlist_id, [{"kind": "rename", "values": {"name": name}}]))

    @server.tool(annotations=CHANGE)
    async def undo_setlist_change(ctx: Context, setlist_id: Id) -> dict[str, Any]:
        """Take back the latest change to a setlist, whoever made it (leaders), like the editor's Undo."""
        return await _answer(calls.undo(_grant(ctx), setlist_id))

    # --- live mode --------------------------------------------------------------------------------------------------
    @server.tool(annotations=READ)
    async def live_status(ctx: Context) -> dict[str, Any]:
        """Whether the band is playing live right now, from which setlist, and which tune is called."""
        return await _answer(calls.live_state(_grant(ctx)))

    @server.tool(annotations=CHANGE)
    async def call_song(ctx: Context, item_id: Id | None = None, step: int = 0,
                        setlist_id: Id | None = None) -> dict[str, Any]:
        """Call the next tune on stage (leaders): every musician following live mode gets it on their stand. Give the
        setlist entry `item_id`, or `step` (1 = next tune, -1 = back one). If the band isn't live yet, give
        `setlist_id` to go live on that setlist (at `item_id`, else its first tune)."""
        grant = _grant(ctx)
        state = await _answer(calls.live_state(grant))
        if not state["live"] or (setlist_id is not None and state["setlist_id"] != setlist_id):
            if setlist_id is None:
                raise _invalid("The band isn't live. Give setlist_id to go live on a setlist.")
            return await _answer(calls.live_start(grant, setlist_id, item_id))
        if item_id is None and step == 0:
            raise _invalid("Say which tune to call: item_id, or step (1 next, -1 back).")
        return await _answer(calls.live_call(grant, item_id=item_id, step=step))

    @server.tool(annotations=CHANGE)
    async def stop_live(ctx: Context) -> dict[str, Any]:
        """End live mode (leaders); everyone keeps reading where they are."""
        return await _answer(calls.live_stop(_grant(ctx)))

    return server


class McpEndpoint:
    """The ``/mcp`` ASGI endpoint: token check, then the SDK's streamable HTTP session manager.

    The manager needs a task group that outlives requests; it starts with the first request on this event loop and
    ends with ``stop`` (the app's shutdown). A test run starts the app many times: a new loop gets a new server.
    """

    def __init__(self) -> None:
        self._server: MCPServer | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping: asyncio.Event | None = None
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if scope.get("method") == "GET":  # stateless JSON: no event stream to hold open (the spec's answer is 405)
            content = api_errors.body(api_errors.METHOD_NOT_ALLOWED, "This MCP server answers POST requests only.",
                                      current_request_id())
            await JSONResponse(content, status_code=405, headers={"Allow": "POST, DELETE"})(scope, receive, send)
            return
        try:
            grant = await calls.authorize(headers.get("authorization"))  # the API's door and budget
        except SoleilError as exc:
            rid = current_request_id()  # RequestIdMiddleware's, as in every other answer and log line
            log.info("[%s] %s /mcp: %s", rid, scope.get("method"), exc.detail)
            status, content = api_errors.describe(exc, rid)
            await JSONResponse(content, status_code=status, headers=api_errors.headers_for(exc))(scope, receive, send)
            return
        scope[GRANT_KEY] = grant
        server = await self._running()
        await server.session_manager.handle_request(scope, receive, send)

    async def _running(self) -> MCPServer:
        loop = asyncio.get_running_loop()
        if self._task is not None and (self._task.done() or self._task.get_loop() is not loop):
            self._server = self._task = None  # a previous app start's (tests start the app on new loops)
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        async with self._lock:
            if self._server is None or self._task is None:
                server = build_server()
                server.streamable_http_app(stateless_http=True, json_response=True, transport_security=(
                    TransportSecuritySettings(enable_dns_rebinding_protection=False)))  # tokens, not cookies
                started, stopping = asyncio.Event(), asyncio.Event()

                async def hold() -> None:
                    async with server.session_manager.run():
                        started.set()
                        await stopping.wait()

                self._task = asyncio.create_task(hold(), name="MCP session manager")
                self._stopping = stopping
                await started.wait()
                self._server = server
        assert self._server is not None
        return self._server

    async def stop(self) -> None:
        """End the session manager (app shutdown)."""
        task, self._task, self._server = self._task, None, None
        if task is not None and self._stopping is not None and not task.done() \
                and task.get_loop() is asyncio.get_running_loop():
            self._stopping.set()
            await task


endpoint = McpEndpoint()
