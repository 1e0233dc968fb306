"""The pencil on the stand: a pen mode drawn over the stand's pages (``static/pencil.js``), next to ``Stand``.

The browser does the drawing, keeps what it drew on the device (localStorage) and sends it with ``fetch`` to
``POST /annotations/<chart>`` (``pages/annotations.py``), so marks made with the network cut are sent when it comes
back. The server side only relays the hub: an ``annotations`` event (stroke ids, never strokes) for a chart reaches
the browser once per instance through a socket.io room (``components.live_room``) and becomes ``changed({chart,
part, ids})`` there, which fetches those strokes if it shows that chart. Private marks' notices go to their author's
room only; a ``resync`` (the hub lost events) makes the page re-read.

It finds the stand in the page (``[data-testid=stand]``) and adds a canvas to each page slot, so it needs nothing
from ``Stand`` and never changes how pages turn: outside pen mode its canvases let every touch through.

Browser test hooks on its root (``data-testid="pencil"``): ``data-mode`` (``off``/``pen``/``highlighter``/
``eraser``), ``data-ids`` (the ids of the marks drawn on the pages shown), ``data-pending`` (batches not yet sent).
"""

from __future__ import annotations

from pathlib import Path

from nicegui import ui

from soleil_ui.access import Actor
from soleil_ui.events import Event
from soleil_ui.services import annotations

from . import live_room
from .live import listen
from .session import csrf_for

PENCIL_CSS = Path(__file__).parent / "static" / "pencil.css"


class Pencil(ui.element, component="static/pencil.js"):
    def __init__(self, actor: Actor) -> None:
        """The pen mode for ``actor``: which layers they may write (substitutes only their own; leaders the band's)."""
        super().__init__()
        request = self.client.request
        self._props["csrf"] = csrf_for(request) if request is not None else ""
        self._props["layers"] = ["mine"] if actor.is_sub else (
            ["mine", "part", "band"] if actor.is_leader else ["mine", "part"])
        self._props["leader"] = actor.is_leader
        ui.add_css(PENCIL_CSS)
        # notices reach the browser through the band's marks room, and the member's own for private marks (one emit
        # per instance, components/live_room.py); the hub's resync (events may be lost) is this page's own business
        live_room.enter_rooms([annotations.notice_room(actor.band_id),
                               annotations.notice_room(actor.band_id, actor.membership_id)])
        listen(actor.band_id, annotations.TOPIC, self._heard)

    def _heard(self, event: Event) -> None:
        if event.payload.get("resync"):
            self.run_method("reload")
