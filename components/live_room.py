"""The leader's call (and a mark's notice) goes out once: one socket.io message per instance to a room.

NiceGUI's own path would be one element update per follower (a task, an outbox entry and an emit each): at 200
phones that is 200 emits per call and the collector's pauses land inside them. Here every instance relays the hub's
``live`` event to its own room (``soleil_ui.live_follow.room_name``) with one ``sio.emit``, whatever the number of
followers; the stand's browser code (``components/static/stand.js``, ``heardCall``) applies it by the follower's rule.

The room is joined by the server only: ``join`` runs after the page guard, for a setlist the guard let the member
read, on every (re)connect of the page's socket (a reconnect gets a new socket id). Nothing a browser sends names a
room. Mark notices (ids only) go the same way, to the band's room for shared marks and to the author's own room for
private ones (``soleil_ui.services.annotations.notice``); the pencil fetches the strokes it shows.

A room message can be missed (a socket cut off during the call): each page re-reads the live state after a
reconnect and sends it to its own browser (``Stand.hear_call``), which ignores a call it has already applied
(``live``, ``seq``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from nicegui import background_tasks, core, ui

from soleil_ui.events import Event, hub
from soleil_ui.live_follow import room_message, room_name
from soleil_ui.services import annotations
from soleil_ui.services.live import LIVE_TOPIC

CALL_EVENT = "soleil_live"  # the socket.io event the stand listens to (static/stand.js)
MARKS_EVENT = "soleil_marks"  # the one the pencil listens to (static/pencil.js)


def install() -> None:
    """Relay the hub's calls and mark notices to the rooms of this instance (once, at start-up; idempotent)."""
    hub.add_relay(_relay)


def _relay(event: Event) -> None:
    if event.topic == LIVE_TOPIC:
        message = room_message(event.payload)
        if message is not None:
            _emit(CALL_EVENT, message, room_name(event.band_id, int(str(message["setlist"]))))
    elif event.topic == annotations.TOPIC:
        heard = annotations.notice(event.band_id, event.payload)
        if heard is not None:
            _emit(MARKS_EVENT, heard[1], heard[0])


def uninstall() -> None:
    """At shut-down: this process's rooms are gone with its server."""
    hub.remove_relay(_relay)


def _emit(name: str, message: Mapping[str, object], room: str) -> None:
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        return
    if core.loop is not running:  # no NiceGUI server on this loop (it stopped, or work runs without one): no rooms
        return
    background_tasks.create(core.sio.emit(name, dict(message), room=room), name=f"{name} to its room")


def join(band_id: int, setlist_id: int, joined: Callable[[], None]) -> None:
    """Put this page's socket in the live setlist's room on every (re)connect; call after the guard.

    ``joined`` runs once the socket is in: a call made between building the page and joining went to a room this
    page was not yet in, so the page then tells its browser the live state it knows (the browser drops it if it has
    heard that call)."""
    enter_rooms([room_name(band_id, setlist_id)], joined)


def enter_rooms(rooms: list[str], joined: Callable[[], None] | None = None) -> None:
    """Put this page's socket in ``rooms`` now and after every reconnect (a new socket id each time); the caller
    passed the page guard and chose the rooms from the signed-in member's band, never from what a browser sent."""
    client = ui.context.client

    async def enter() -> None:
        # NiceGUI's handshake put each of this client's sockets in the room named after the client
        for sid, _ in list(core.sio.manager.get_participants("/", client.id)):
            for room in rooms:
                await core.sio.enter_room(sid, room)
        if joined is not None and not client.is_deleted:
            joined()

    client.on_connect(enter)
