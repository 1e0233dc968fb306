"""Live mode on screen: the band's live state on every page that shows it, the "Follow" prompt, the leader's
console (call songs, who is connected and who follows), and each open page's presence (the stand that follows the
calls is ``components.setlist_stand``).

``LiveWatcher`` is a page's view of the band's live session: read once when the page is built, then kept current
by the hub's ``live`` events (small: ids and a ``seq``; an older ``seq`` than the one shown is ignored) and re-read
from the database whenever the page's socket (re)connects, so a phone that slept catches up silently.
Everything here changes existing elements in place; nothing is rebuilt on an event.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from nicegui import background_tasks, ui
from nicegui.events import ValueChangeEventArguments
from sqlalchemy.exc import SQLAlchemyError

from soleil_ui.access import Actor
from soleil_ui.errors import SoleilError
from soleil_ui.events import Event, hub
from soleil_ui.live_follow import Heard, Listener, LiveTimeline
from soleil_ui.models import utcnow
from soleil_ui.services import live, work
from soleil_ui.services.live import LiveState
from soleil_ui.services.setlist_view import Snapshot, load_snapshot
from soleil_ui.services.setlists import format_duration

from .live import listen

log = logging.getLogger(__name__)

# The leader's console while its socket is down: the browser knows at once (the server can't tell it), so the buttons
# that call, start or end are disabled there and say why, and nothing tapped meanwhile is sent when the link returns
# (socket.io would otherwise queue it and deliver a stale call after the drop).
CONSOLE_JS = """<script>(() => {
  const wire = () => {
    const socket = window.socket;
    if (!socket) return setTimeout(wire, 100);
    socket.io.reconnectionDelayMax(2000);  // back within ~2 s of the network (socket.io's default grows to 7.5 s)
    const send = socket.emit;
    socket.emit = function (name, ...args) {
      if (name === "event" && !socket.connected) return this;
      return send.call(this, name, ...args);
    };
    const mark = (up) => {
      document.documentElement.classList.toggle("sl-cut", !up);
      document.querySelectorAll("[data-live-call]").forEach((b) => { b.disabled = !up; b.ariaDisabled = String(!up); });
    };
    socket.on("connect", () => mark(true));
    socket.on("disconnect", () => mark(false));
    const late = new MutationObserver(() => !socket.connected && mark(false));  // buttons shown while cut
    late.observe(document.body, { childList: true, subtree: true });
    if (!socket.connected && window.did_handshake) mark(false);
  };
  wire();
})();</script>"""
CONSOLE_CSS = """
.sl-console-cut { display: none; }
html.sl-cut .sl-console-cut { display: flex; }
html.sl-cut [data-live-call] { opacity: 0.45; pointer-events: none; }
.sl-console-song { min-height: 56px; border-radius: 8px; background: #fff; border: 1px solid #e0ddd6; }
.sl-console-song.sl-now { background: #ffe9b3; border-color: #b3541e; font-weight: 600; }
/* 7:1 on the called row's #ffe9b3 (Quasar's 54 % black gave 4.4:1) */
.sl-console-song .q-item__label--caption { color: #4a4a4a; }
.sl-console-bar { position: fixed; left: 0; right: 0; bottom: calc(env(safe-area-inset-bottom) + 64px); z-index: 5;
  max-width: 960px; margin: 0 auto; padding: 8px 12px; background: #fffffff2; box-shadow: 0 -2px 8px #0002; }
/* the page scrolls far enough that what is at its end clears the held buttons */
body:has(.sl-console-bar:not(.hidden)) .soleil-main { padding-bottom: 96px; }
.sl-console-bar .q-btn { min-height: 64px; font-size: 1.05rem; }
"""
UNDO_SECONDS = 6  # how long "Called … · Undo" stays: long enough to catch a slip, never in the way of the next call


class LiveWatcher:
    """The band's live session as this page knows it (``soleil_ui.live_follow.LiveTimeline`` decides), wired to the
    hub and to this page's socket; ``on_change(old, new)`` runs on every change."""

    def __init__(self, actor: Actor, state: LiveState | None) -> None:
        self.actor = actor
        self.timeline = LiveTimeline(state)
        self._reread_listeners: list[Callable[[LiveState | None], None]] = []
        listen(actor.band_id, live.LIVE_TOPIC, self._heard)
        ui.context.client.on_connect(self._connected)

    @property
    def state(self) -> LiveState | None:
        return self.timeline.state

    def on_change(self, listener: Listener) -> None:
        self.timeline.on_change(listener)

    def on_reread(self, listener: Callable[[LiveState | None], None]) -> None:
        """``listener(state)`` after every re-read from the database (a reconnect, a resync, a new session): the
        live state as it is now, whether or not it changed for this page (its browser may have missed calls)."""
        self._reread_listeners.append(listener)

    def wrote(self, state: LiveState) -> None:
        """This page's own call, shown at once."""
        self.timeline.wrote(state)

    def _connected(self) -> None:
        if self.timeline.connected():
            background_tasks.create(self.reread(), name="live re-sync after reconnect")

    def _heard(self, event: Event) -> None:
        if self.timeline.heard(event.payload) is Heard.REREAD:
            background_tasks.create(self.reread(), name="live re-sync")

    async def reread(self) -> None:
        try:
            state = await work.act(live.current, self.actor)
        except (SQLAlchemyError, OSError):  # the database is away: the next reconnect or event tries again
            log.warning("could not re-read live state", exc_info=True)
            return
        self.timeline.reread(state)
        for listener in self._reread_listeners:
            listener(self.timeline.state)


def titles(snapshot: Snapshot | None, item_id: int | None) -> tuple[str, str]:
    """The current song's title and the next one's, from a setlist snapshot."""
    if snapshot is None:
        return "", ""
    songs = [e for e in snapshot.entries if not e.is_break]
    here = next((i for i, e in enumerate(songs) if e.item_id == item_id), None)
    if here is None:
        return "", songs[0].label if songs else ""
    return songs[here].label, songs[here + 1].label if here + 1 < len(songs) else ""


class LiveBanner:
    """The prominent prompt on a page while the band is live: what is playing, what is next, and Follow."""

    def __init__(self, actor: Actor, watcher: LiveWatcher) -> None:
        self.actor, self.watcher = actor, watcher
        self.snapshot: Snapshot | None = None
        with ui.card().classes("w-full bg-red-1").props("flat bordered") as self.card:
            with ui.row().classes("w-full items-center no-wrap gap-3"):
                ui.icon("sensors", size="28px").classes("text-negative shrink-0")
                with ui.column().classes("gap-0 grow min-w-0"):
                    # wrapped, never cut: "Live now: Friday a…" hid the very song people look for
                    self.heading = ui.label().classes("font-semibold w-full break-words").mark("live-heading")
                    self.now = ui.label().classes("text-sm w-full break-words").mark("live-now")
                self.follow = ui.button("Follow", icon="play_arrow", on_click=self._go).props(
                    "unelevated color=negative").classes("shrink-0").mark("live-follow")
        self.card.mark("live-banner")
        watcher.on_change(lambda _old, new: self.show(new))
        self.show(watcher.state)

    def show(self, state: LiveState | None) -> None:
        self.card.set_visibility(state is not None)
        if state is None:
            return
        self.heading.set_text(f"Live now: {state.setlist_name}")
        self.follow.set_text("Console" if self.actor.is_leader else "Follow")
        if self.snapshot is None or self.snapshot.setlist_id != state.setlist_id:
            background_tasks.create(self._load(state), name="live banner titles")
        self._titles(state)

    async def _load(self, state: LiveState) -> None:
        try:
            self.snapshot = await load_snapshot(self.actor, state.setlist_id)
        except (SoleilError, SQLAlchemyError):  # gone or not readable: the banner keeps "Starting…", Follow works
            log.warning("could not load the live setlist's titles", exc_info=True)
            return
        if not self.card.is_deleted and self.watcher.state is not None:
            self._titles(self.watcher.state)

    def _titles(self, state: LiveState) -> None:
        current, upcoming = titles(self.snapshot, state.current_item_id)
        text = f"Now: {current}" if current else "Starting…"
        self.now.set_text(text + (f" · Next: {upcoming}" if upcoming else ""))

    def _go(self) -> None:
        state = self.watcher.state
        if state is not None:
            ui.navigate.to(f"/setlists/{state.setlist_id}" if self.actor.is_leader else f"/live/{state.setlist_id}")


class LiveConsole:
    """The leader's controls on the setlist page, for one thumb: go live; the set in big rows, one tap calls a song
    (at once; a short "Undo" catches a slip without slowing the next call); Previous/Next as large buttons held at
    the bottom of the screen; who is following at a glance; the set's elapsed and remaining time; end."""

    def __init__(self, actor: Actor, setlist_id: int, watcher: LiveWatcher,
                 snapshot: Callable[[], Snapshot]) -> None:
        self.actor, self.setlist_id, self.watcher, self._snapshot = actor, setlist_id, watcher, snapshot
        ui.add_css(CONSOLE_CSS)
        ui.add_body_html(CONSOLE_JS)
        with ui.card().classes("w-full").props("flat bordered") as self.card:
            with ui.row().classes("w-full items-center gap-2"):
                self.status = ui.label().classes("font-semibold grow").mark("console-status")
                self.start_button = ui.button("Go live", icon="sensors", on_click=self.start).props(
                    "unelevated color=negative data-live-call data-testid=go-live").mark("go-live")
                self.stop_button = ui.button("End", icon="stop", on_click=self.stop).props(
                    "flat data-live-call data-testid=end-live").mark("end-live")
            with ui.row().classes("sl-console-cut w-full items-center gap-2 text-negative").props(
                    "role=status data-testid=console-cut"):
                ui.icon("cloud_off")
                ui.label("Offline: calls are paused until the connection returns. Nothing you tap now is sent.") \
                    .classes("text-sm")
            self.now = ui.label().classes("text-sm").props("data-testid=console-now").mark("console-now")
            with ui.row().classes("w-full items-center gap-3 text-sm") as self.glance:
                self.following = ui.label().classes("font-medium").props(
                    "data-testid=console-following").mark("console-following")
                self.clock = ui.label().props("data-testid=console-clock").mark("console-clock")
                # the leader's option for this session: the followers' stands turn pages with the leader's stand
                self.turns = ui.switch("Turn their pages with mine", on_change=self._turns_changed).props(
                    "data-live-call data-testid=console-turn-pages").mark("console-turn-pages")
            self.people = ui.row().classes("w-full gap-1").mark("presence")
            self.set_rows = ui.list().classes("w-full column gap-1").props(  # a list: its rows are list items
                "data-testid=console-set").mark("console-set")
            with ui.row().classes("w-full items-center gap-2 no-wrap").props(
                    "role=status data-testid=console-undo-bar") as self.undo_bar:
                self.undo_text = ui.label().classes("grow text-sm break-words").mark("console-called")
                ui.button("Undo", icon="undo", on_click=self.undo).props(
                    "outline data-live-call data-testid=console-undo").mark("console-undo")
            with ui.row().classes("w-full gap-2 no-wrap sl-console-bar") as self.calls:
                ui.button("Previous", icon="skip_previous", on_click=lambda: self.move(step=-1)).props(
                    "outline data-live-call data-testid=live-prev").classes("grow basis-0").mark("live-prev")
                ui.button("Next song", icon="skip_next", on_click=lambda: self.move(step=1)).props(
                    "unelevated data-live-call data-testid=live-next").classes("grow basis-0").mark("live-next")
        self._chips: dict[int, ui.chip] = {}
        self._showing_turns = False
        self._presence_stale = False
        self._presence_reader: asyncio.Task[None] | None = None
        self._rows: dict[int, ui.item] = {}
        self._rows_version: int | None = None
        self._undo_to: int | None = None
        self._undo_seq = 0
        self.undo_bar.set_visibility(False)
        ui.timer(5.0, self._tick)  # the elapsed time, on this leader's page only
        listen(actor.band_id, live.PRESENCE_TOPIC, lambda _e: self._want_presence())
        watcher.on_change(lambda _old, new: self.show(new))
        self.show(watcher.state)

    def mine(self, state: LiveState | None) -> bool:
        return state is not None and state.setlist_id == self.setlist_id

    def show(self, state: LiveState | None) -> None:
        here = self.mine(state)
        self.start_button.set_visibility(not here)
        self.stop_button.set_visibility(here)
        self.calls.set_visibility(here)
        self.people.set_visibility(here)
        self.glance.set_visibility(here)
        self.set_rows.set_visibility(here)
        if not here:
            self.undo_bar.set_visibility(False)
            self.status.set_text("Live on another setlist: " + state.setlist_name if state else "Not live")
            self.now.set_text("Go live to call the songs on everyone's stand.")
            return
        assert state is not None
        current, upcoming = titles(self._snapshot(), state.current_item_id)
        self._showing_turns = True
        self.turns.set_value(state.turn_pages)  # another leader's choice, or a reload, shows here too
        self._showing_turns = False
        self.status.set_text("Live")
        self.now.set_text((f"Now: {current}" if current else "No song called yet")
                          + (f" · Next: {upcoming}" if upcoming else ""))
        self._show_set(state.current_item_id)
        self._tick()
        if not self._chips:  # just went live: who is here? (later, presence events keep it current)
            self._want_presence()

    async def _turns_changed(self, e: ValueChangeEventArguments) -> None:
        state = self.watcher.state
        if self._showing_turns or not self.mine(state) or state is None or bool(e.value) == state.turn_pages:
            return
        self.watcher.wrote(await work.act(live.set_turn_pages, self.actor, state.live_id, bool(e.value)))

    async def start(self, item_id: int | None = None) -> None:
        state = await work.act(live.start, self.actor, self.setlist_id, item_id=item_id)
        self.watcher.wrote(state)

    async def stop(self) -> None:
        await work.act(live.stop, self.actor)
        await self.watcher.reread()

    async def move(self, *, step: int = 0, item_id: int | None = None, undoable: bool = True) -> None:
        state = self.watcher.state
        if not self.mine(state):
            await self.start(item_id)
            return
        assert state is not None
        before = state.current_item_id
        new = await work.act(live.move, self.actor, state.live_id, step=step, item_id=item_id)
        self.watcher.wrote(new)
        if undoable and new is not None and new.current_item_id != before and before is not None:
            self._offer_undo(before, titles(self._snapshot(), new.current_item_id)[0])

    async def undo(self) -> None:
        """Back to the song called before the last call (itself a call; nothing else is undone)."""
        target, self._undo_to = self._undo_to, None
        self.undo_bar.set_visibility(False)
        if target is not None:
            await self.move(item_id=target, undoable=False)

    def _offer_undo(self, previous: int, called: str) -> None:
        self._undo_to, self._undo_seq = previous, self._undo_seq + 1
        self.undo_text.set_text(f"Called: {called}" if called else "Called")
        self.undo_bar.set_visibility(True)
        seq = self._undo_seq
        ui.timer(UNDO_SECONDS, lambda: self._hide_undo(seq), once=True)

    def _hide_undo(self, seq: int) -> None:
        if seq == self._undo_seq and not self.undo_bar.is_deleted:
            self.undo_bar.set_visibility(False)
            self._undo_to = None

    def _show_set(self, current: int | None) -> None:
        """The set as big rows (built once per version of the list), the song being played marked in place."""
        snapshot = self._snapshot()
        if snapshot.version != self._rows_version:
            self._rows_version, self._rows = snapshot.version, {}
            self.set_rows.clear()
            with self.set_rows:
                for entry in snapshot.entries:
                    if entry.is_break:
                        ui.label(entry.label).classes("text-xs uppercase text-grey-8 pt-2")
                        continue
                    facts = " · ".join(x for x in (entry.musical_key or "",
                                                   format_duration(entry.duration_seconds)) if x)
                    with ui.item(on_click=lambda i=entry.item_id: self.move(item_id=i)).props(
                            f'clickable data-live-call data-item-id="{entry.item_id}"').classes(
                            "w-full sl-console-song").mark(f"console-song-{entry.item_id}") as row:
                        row.props["aria-label"] = f"Call {entry.number}. {entry.label}"  # a title may hold quotes
                        with ui.item_section().props("avatar"):
                            ui.label(str(entry.number)).classes("text-grey-8")
                        with ui.item_section():
                            ui.item_label(entry.label).classes("text-base break-words")
                        if facts:
                            with ui.item_section().props("side"):
                                ui.item_label(facts).props("caption")
                    self._rows[entry.item_id] = row
        for item_id, row in self._rows.items():
            row.classes(add="sl-now") if item_id == current else row.classes(remove="sl-now")

    def _tick(self) -> None:
        """Elapsed since the band went live, and what the set has left (the current song and those after it)."""
        state = self.watcher.state
        if not self.mine(state) or self.clock.is_deleted:
            return
        assert state is not None
        elapsed = max(0, int((utcnow() - state.started_at).total_seconds()))
        songs = [e for e in self._snapshot().entries if not e.is_break]
        here = next((i for i, e in enumerate(songs) if e.item_id == state.current_item_id), 0)
        left = songs[here:]
        seconds = sum(e.duration_seconds or 0 for e in left)
        unknown = any(e.duration_seconds is None for e in left)
        text = f"Elapsed {format_duration(elapsed) or '0:00'} · {format_duration(seconds) or '0:00'}" \
               f"{'+' if unknown and seconds else ''} to go"
        if self.clock.text != text:
            self.clock.set_text(text)

    def _want_presence(self) -> None:
        if not self.mine(self.watcher.state):
            return
        self._presence_stale = True
        if self._presence_reader is None or self._presence_reader.done():  # one reader at a time, in order
            self._presence_reader = background_tasks.create(self._presence(), name="leader presence")

    async def _presence(self) -> None:
        """Read until no event came during the read: a slow read never lands after a newer one."""
        while self._presence_stale and not self.people.is_deleted:
            await asyncio.sleep(0.3)  # many pages join at once when a gig starts: one read for the burst
            self._presence_stale = False
            try:
                people = await work.act(live.presence, self.actor)
            except SQLAlchemyError:  # the next presence event reads again
                log.warning("could not read presence", exc_info=True)
                return
            if not self.people.is_deleted:
                self._show_presence(people)

    def _show_presence(self, people: list[live.Presence]) -> None:
        following = sum(p.state == "following" for p in people)
        self.following.set_text(f"{following} of {len(people)} following")
        icons = {"following": ("play_circle", "positive"), "detached": ("visibility", "primary"),
                 "away": ("cloud_off", "grey-8")}
        for person in people:
            icon, color = icons[person.state]
            chip = self._chips.get(person.membership_id)
            if chip is None:
                with self.people:
                    chip = self._chips[person.membership_id] = ui.chip(person.name.split()[0], icon=icon,
                                                                       color=color, text_color="white").props(
                        "dense square").mark(f"presence-{person.membership_id}")
            if chip.props.get("icon") != icon:  # Props is observable: assigning sends the change
                chip.props["icon"], chip.props["color"] = icon, color
            if chip.props.get("aria-label") != f"{person.name}: {person.state}":
                chip.props["aria-label"] = f"{person.name}: {person.state}"
            if chip.props.get("data-state") != person.state:
                chip.props["data-state"] = person.state


# --- presence of open pages ------------------------------------------------------------------------------------
_touching: set[asyncio.AbstractEventLoop] = set()


def track_presence(actor: Actor, following: Callable[[], bool]) -> Callable[[], None]:
    """Count this page as one of the member's open pages for the leader's console; returns ``changed()`` to call
    when ``following()`` changes. Connect, disconnect and the page's end are recorded as they happen."""
    client = ui.context.client
    key = client.id
    in_order = asyncio.Lock()  # one write at a time, as they happened: a join committed after a later change
    # (each in its own session) would bring back the state the page had left

    async def write(kind: str) -> None:
        try:
            async with in_order:
                await work.act(live.record_presence, actor, key, kind, following=following())
        except Exception:
            log.warning("could not record presence (%s)", kind, exc_info=True)

    client.on_connect(lambda: background_tasks.create(write("join"), name="presence join"))
    client.on_disconnect(lambda: background_tasks.create(write("away"), name="presence away"))
    client.on_delete(lambda: background_tasks.create(write("leave"), name="presence leave"))
    _keep_alive()
    return lambda: background_tasks.create(write("follow"), name="presence follow")


def _keep_alive() -> None:
    """One loop per process refreshes this instance's presence rows, so the console knows it is alive."""
    loop = asyncio.get_running_loop()
    if loop in _touching:
        return
    _touching.add(loop)

    async def touch() -> None:
        while True:
            await asyncio.sleep(live.TOUCH_EVERY)
            try:
                await work.before_actor(live.touch_instance, hub.instance_id)
            except Exception:
                log.warning("could not refresh presence", exc_info=True)

    background_tasks.create(touch(), name="presence keep-alive")
