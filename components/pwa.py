"""The installable app and offline sets, as widgets pages compose.

``head()`` (called by ``layout.theme()``, so on every page) adds the web app manifest, the theme colour, the
Apple touch icon and ``static/offline.js``, which registers the service worker (``static/sw.js``, served at
``/sw.js`` by ``pages/pwa.py``). On a signed-in page it also listens for a leader's "prepare this set" call.

Widgets (all the work happens in the browser, in ``offline.js``; the server only renders them):

* ``offline_button(setlist_id, name)``: "Make available offline" for a setlist (or a gig's setlist), with
  progress, size and state (``data-state``: none, downloading, ready, stale, error, unsupported).
* ``offline_status()``: a quiet "Offline" chip while the page's connection is down.
* ``offline_storage()``: how many sets this device keeps and the space they take.
* ``prepare_button(actor, setlist_id, name)``: a leader asks every member's device to get the set ready.
* ``sign_out()``: the account menu's Sign out: clears this device's offline data, then signs out.

A leader's request (``soleil_ui.services.prepare``: a row and a hub event, so every instance knows it) reaches
devices open now as the hub event (``PREPARE_TOPIC``) and devices opened later through ``/pwa/scope``.
"""

from __future__ import annotations

import json
import logging
import weakref

from nicegui import Client, background_tasks, ui
from sqlalchemy.exc import SQLAlchemyError

from soleil_ui.access import Actor
from soleil_ui.events import Event
from soleil_ui.services import prepare, work
from soleil_ui.services.prepare import PREPARE_TOPIC

from . import design
from .live import listen
from .session import actor_or_none, csrf_for, token_of

log = logging.getLogger(__name__)
THEME_COLOR = design.SECONDARY  # the installed app's bar and icon
ACCENT_COLOR = design.PRIMARY

HEAD_HTML = f"""
<link rel="manifest" href="/manifest.webmanifest">
<meta name="theme-color" content="{THEME_COLOR}">
<meta name="mobile-web-app-capable" content="yes">
<meta name="apple-mobile-web-app-capable" content="yes">
<meta name="apple-mobile-web-app-status-bar-style" content="black">
<meta name="apple-mobile-web-app-title" content="SOLEil">
<link rel="apple-touch-icon" href="/pwa/icons/apple-touch-icon.png">
<script src="/pwa/offline.js" defer></script>
"""

# Clear this device's offline data (service worker caches, the reader's place), then sign out (a POST with the
# session's anti-forgery token, so no other site can sign anyone out); never hangs.
SIGN_OUT_JS = """
(window.SoleilOffline ? window.SoleilOffline.clear() : Promise.resolve())
  .catch(() => {}).finally(() => {
    const form = document.createElement('form');
    form.method = 'post'; form.action = '/auth/logout';
    const field = document.createElement('input');
    field.type = 'hidden'; field.name = 'csrf'; field.value = __TOKEN__;
    form.appendChild(field); document.body.appendChild(form); form.submit();
  });
"""

_with_head: weakref.WeakSet[Client] = weakref.WeakSet()


def head(actor: Actor | None = None) -> None:
    """Manifest, theme colour, icons and the offline script; once per page. Signed in: hear leaders' requests (for
    ``actor``, the member the page's guard found; a page that has none looks the session up once, in the background)."""
    client = ui.context.client
    if client in _with_head:
        return
    _with_head.add(client)
    ui.add_head_html(HEAD_HTML)
    if actor is not None:
        _listen(client, actor)
    elif token_of(client.request):
        background_tasks.create(_listen_for_requests(client), name="listen for offline requests")


async def _listen_for_requests(client: Client) -> None:
    try:
        actor = await actor_or_none(client.request)
    except Exception:
        log.warning("could not resolve the page's member for offline requests", exc_info=True)
        return
    if actor is not None and not client.is_deleted:
        _listen(client, actor)


def _listen(client: Client, actor: Actor) -> None:
    """The leader's "Ask every device" reaches this page while it is open."""

    def heard(event: Event) -> None:
        if event.payload.get("cancelled"):  # withdrawn: a set already made ready stays
            return
        setlist_id, audio = int(event.payload.get("setlist", 0)), bool(event.payload.get("audio"))
        name = json.dumps(str(event.payload.get("name", "")))
        client.run_javascript(f"window.SoleilOffline && window.SoleilOffline.prepare({setlist_id}, "
                              f"{'true' if audio else 'false'}, {name})")

    with client:
        listen(actor.band_id, PREPARE_TOPIC, heard)


def sign_out() -> None:
    """The account menu's "Sign out": the device forgets this person's offline sets first."""
    request = ui.context.client.request
    ui.run_javascript(SIGN_OUT_JS.replace("__TOKEN__", json.dumps(csrf_for(request))))


def offline_button(setlist_id: int, name: str = "", *, audio: bool = True) -> ui.element:
    """Make a setlist available offline on this device; shows progress, size and whether it is ready or stale."""
    head()
    element = ui.element("soleil-offline-set").classes("w-full")
    element._props.update({"setlist": str(setlist_id), "name": name, "data-testid": f"offline-set-{setlist_id}"})
    if not audio:
        element._props["no-audio"] = ""
    return element


def offline_status() -> ui.element:
    """A small "Offline" chip, visible only while this page's connection to the server is down."""
    head()
    return ui.element("soleil-offline-status").props('data-testid="offline-status"')


def offline_storage() -> ui.element:
    """How many sets this device keeps offline, the space they take and what is left."""
    head()
    return ui.element("soleil-offline-storage").classes("text-sm text-grey-8").props(
        'data-testid="offline-storage"')


# --- a leader's request to every member's device --------------------------------------------------------------------
def prepare_button(actor: Actor, setlist_id: int, name: str = "") -> ui.element | None:
    """For leaders: "Ask everyone's devices to get this set ready", whether it was asked already (kept current by the
    hub, whichever instance or leader asked), and withdrawing the request."""
    if not actor.is_leader:
        return None
    with ui.row().classes("w-full items-center gap-2 no-wrap") as row:
        note = ui.label().classes("text-xs text-grey-7 grow")
        audio = ui.checkbox("with recordings").props("dense").classes("text-xs")
        button = ui.button("Ask every device", icon="campaign").props(
            'flat dense no-caps aria-label="Ask every device to prepare"')
        button.mark(f"prepare-{setlist_id}")
        withdraw = ui.button(icon="close").props('flat dense round aria-label="Withdraw the request"')
        withdraw.mark(f"prepare-cancel-{setlist_id}")

    async def show() -> None:
        try:
            request = (await work.act(prepare.standing, actor)).get(setlist_id)
        except SQLAlchemyError:  # the database is away: the next event or visit shows it
            log.warning("could not read the prepare requests", exc_info=True)
            return
        if row.is_deleted:
            return
        withdraw.set_visibility(request is not None)
        if request:
            note.set_text(f"Everyone's devices were asked to prepare it ({request.at.strftime('%d %b %H:%M UTC')}).")
            button.props("color=positive")
        else:
            note.set_text("Ask every member's device to prepare it for the gig")
            button.props("color=primary")

    async def ask() -> None:
        await work.act(prepare.ask, actor, setlist_id, audio=bool(audio.value))
        await show()
        ui.notify(f"Asked every device to get “{name or 'the set'}” ready offline.", type="positive")

    async def cancel() -> None:
        await work.act(prepare.cancel, actor, setlist_id)
        await show()

    def heard(event: Event) -> None:
        if int(event.payload.get("setlist", 0)) == setlist_id:
            background_tasks.create(show(), name="prepare request changed")

    button.on_click(ask)
    withdraw.on_click(cancel)
    withdraw.set_visibility(False)
    listen(actor.band_id, PREPARE_TOPIC, heard)
    background_tasks.create(show(), name="prepare request")
    return row
