"""The leader's call goes out once: one socket.io message per instance to the room of the live setlist.

NiceGUI's own path would be one element update per follower (a task, an outbox entry and an emit each): at 200
phones that is 200 emits per call and the collector's pauses land inside them. Here every instance relays the hub's
``live`` event to its own room (``soleil_ui.live_follow.room_name``) with one ``sio.emit``, whatever the number of
followers; the stand's browser code (``components/static/stand.js``, ``heardCall``) applies it by the follower's rule.

The room is joined by the server only: ``join`` runs after the page guard, for a setlist the guard let the member
read, on every (re)connect of the page's socket (a reconnect gets a new socket id). Nothing a browser sends names a
room. A room message can be missed (a socket cut off during the call): each page re-reads the live state after a
reconnect and sends it to its own browser (``Stand.hear_call``), which ignores a call it has already applied
(``live``, ``seq``).
"""

from __future__ import annotations

from collections.abc import Callable

from nicegui import background_tasks, core, ui

from soleil_ui.events import Event, hub
from soleil_ui.live_follow import room_message, room_name
from soleil_ui.services.live import LIVE_TOPIC

ROOM_EVENT = "soleil_live"  # the socket.io event name the stand listens to


def install() -> None:
    """Relay the hub's calls to the rooms of this instance (once, at start-up; idempotent)."""
    hub.add_relay(_relay)


def _relay(event: Event) -> None:
    if event.topic != LIVE_TOPIC:
        return
    message = room_message(event.payload)
    if message is None:
        return
    room = room_name(event.band_id, int(str(message["setlist"])))
    background_tasks.create(core.sio.emit(ROOM_EVENT, message, room=room), name="live call to its room")


def join(band_id: int, setlist_id: int, joined: Callable[[], None]) -> None:
    """Put this page's socket in the live setlist's room on every (re)connect; call after the guard.

    ``joined`` runs once the socket is in: a call made between building the page and joining went to a room this
    page was not yet in, so the page then tells its browser the live state it knows (the browser drops it if it has
    heard that call)."""
    client = ui.context.client
    room = room_name(band_id, setlist_id)

    async def enter() -> None:
        # NiceGUI's handshake put each of this client's sockets in the room named after the client
        for sid, _ in list(core.sio.manager.get_participants("/", client.id)):
            await core.sio.enter_room(sid, room)
        if not client.is_deleted:
            joined()

    client.on_connect(enter)

