"""Live mode on screen: the band's live state on every page that shows it, the "Follow" prompt, the leader's
console (call songs, who is connected and who follows), and each open page's presence.

``LiveWatcher`` is a page's view of the band's live session: read once when the page is built, then kept current
by the hub's ``live`` events (small: ids and a ``seq``; an older ``seq`` than the one shown is ignored) and re-read
from the database whenever the page's socket (re)connects, so a phone that slept catches up silently.
Everything here changes existing elements in place; nothing is rebuilt on an event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from nicegui import background_tasks, ui

from soleil_ui.access import Actor
from soleil_ui.db import db
from soleil_ui.events import Event, hub
from soleil_ui.models import Chart
from soleil_ui.parts import PartRef
from soleil_ui.services import live, setlists
from soleil_ui.services.live import LiveState
from soleil_ui.services.setlists import StandPlan

from .live import listen
from .setlist_editor import SharedLoads, Snapshot, load_snapshot, profile
from .stand import Stand

log = logging.getLogger(__name__)
Listener = Callable[[LiveState | None, LiveState | None], None]


class LiveWatcher:
    """The band's live session as this page knows it; ``on_change(old, new)`` runs on every change."""

    def __init__(self, actor: Actor, state: LiveState | None) -> None:
        self.actor, self.state = actor, state
        self._listeners: list[Listener] = []
        self._seq = state.seq if state else 0
        self._live_id = state.live_id if state else 0
        listen(actor.band_id, live.LIVE_TOPIC, self._heard)
        client = ui.context.client
        self._first = True

        def connected() -> None:
            if self._first:  # the page was just built from fresh state
                self._first = False
                return
            background_tasks.create(self.reread(), name="live re-sync after reconnect")

        client.on_connect(connected)

    def on_change(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _heard(self, event: Event) -> None:
        payload = event.payload
        if payload.get("resync"):
            background_tasks.create(self.reread(), name="live re-sync")
            return
        live_id, seq = int(payload.get("live", 0)), int(payload.get("seq", 0))
        if live_id < self._live_id or (live_id == self._live_id and seq <= self._seq):
            return  # older than what this page shows
        if payload.get("kind") == "stop":
            self._set(None, live_id, seq)
            return
        if self.state is not None and self.state.live_id == live_id:
            new = LiveState(live_id, self.state.setlist_id, self.state.setlist_name, payload.get("item"), seq,
                            self.state.started_at, self.state.gig_id)
            self._set(new, live_id, seq)
        else:  # a new live session: its name and start come from the database
            self._live_id, self._seq = live_id, seq
            background_tasks.create(self.reread(), name="read new live session")

    async def reread(self) -> None:
        try:
            async with db.session() as session:
                state = await live.current(session, self.actor)
        except Exception:
            log.warning("could not re-read live state", exc_info=True)
            return
        if state is None:
            self._set(None, self._live_id, self._seq)
        elif (state.live_id, state.seq) >= (self._live_id, self._seq) or self.state is None:
            self._set(state, state.live_id, state.seq)

    def _set(self, new: LiveState | None, live_id: int, seq: int) -> None:
        old = self.state
        self.state, self._live_id, self._seq = new, live_id, seq
        if old == new:
            return
        for listener in self._listeners:
            try:
                listener(old, new)
            except Exception:
                log.exception("live listener failed")


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
                    self.heading = ui.label().classes("font-semibold truncate w-full").mark("live-heading")
                    self.now = ui.label().classes("text-sm truncate w-full").mark("live-now")
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
        with contextlib.suppress(Exception):
            self.snapshot = await load_snapshot(self.actor, state.setlist_id)
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
    """The leader's controls on the setlist page: go live, call songs, end; and who is with the band."""

    def __init__(self, actor: Actor, setlist_id: int, watcher: LiveWatcher,
                 snapshot: Callable[[], Snapshot]) -> None:
        self.actor, self.setlist_id, self.watcher, self._snapshot = actor, setlist_id, watcher, snapshot
        with ui.card().classes("w-full").props("flat bordered") as self.card:
            with ui.row().classes("w-full items-center gap-2"):
                self.status = ui.label().classes("font-semibold grow").mark("console-status")
                self.start_button = ui.button("Go live", icon="sensors", on_click=self.start).props(
                    "unelevated color=negative").mark("go-live")
                self.stop_button = ui.button("End", icon="stop", on_click=self.stop).props("flat").mark("end-live")
            self.now = ui.label().classes("text-sm").mark("console-now")
            with ui.row().classes("w-full gap-2") as self.calls:
                ui.button("Previous", icon="skip_previous", on_click=lambda: self.move(step=-1)).props(
                    "outline").classes("grow").mark("live-prev")
                ui.button("Next song", icon="skip_next", on_click=lambda: self.move(step=1)).props(
                    "unelevated").classes("grow").mark("live-next")
            self.people = ui.row().classes("w-full gap-1").mark("presence")
        self._chips: dict[int, ui.chip] = {}
        self._presence_pending = False
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
        if not here:
            self.status.set_text("Live on another setlist: " + state.setlist_name if state else "Not live")
            self.now.set_text("Go live to call the songs on everyone's stand.")
            return
        assert state is not None
        current, upcoming = titles(self._snapshot(), state.current_item_id)
        self.status.set_text("Live")
        self.now.set_text((f"Now: {current}" if current else "No song called yet")
                          + (f" · Next: {upcoming}" if upcoming else ""))
        if not self._chips:  # just went live: who is here? (later, presence events keep it current)
            self._want_presence()

    async def start(self, item_id: int | None = None) -> None:
        async with db.session() as session:
            state = await live.start(session, self.actor, self.setlist_id, item_id=item_id)
        self.watcher._set(state, state.live_id, state.seq)

    async def stop(self) -> None:
        async with db.session() as session:
            await live.stop(session, self.actor)
        await self.watcher.reread()

    async def move(self, *, step: int = 0, item_id: int | None = None) -> None:
        state = self.watcher.state
        if not self.mine(state):
            await self.start(item_id)
            return
        assert state is not None
        async with db.session() as session:
            new = await live.move(session, self.actor, state.live_id, step=step, item_id=item_id)
        self.watcher._set(new, new.live_id, new.seq)

    def _want_presence(self) -> None:
        if self._presence_pending or not self.mine(self.watcher.state):
            return
        self._presence_pending = True
        background_tasks.create(self._presence(), name="leader presence")

    async def _presence(self) -> None:
        try:
            await asyncio.sleep(0.3)  # many pages join at once when a gig starts: one read for the burst
            self._presence_pending = False
            async with db.session() as session:
                people = await live.presence(session, self.actor)
        except Exception:
            self._presence_pending = False
            return
        if self.people.is_deleted:
            return
        icons = {"following": ("play_circle", "positive"), "connected": ("visibility", "primary"),
                 "away": ("cloud_off", "grey-5")}
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
            chip.props["aria-label"] = f"{person.name}: {person.state}"


# --- presence of open pages ------------------------------------------------------------------------------------
_touching: set[asyncio.AbstractEventLoop] = set()


def track_presence(actor: Actor, following: Callable[[], bool]) -> Callable[[], None]:
    """Count this page as one of the member's open pages for the leader's console; returns ``changed()`` to call
    when ``following()`` changes. Connect, disconnect and the page's end are recorded as they happen."""
    client = ui.context.client
    key = client.id

    async def write(kind: str) -> None:
        try:
            async with db.session() as session:
                if kind == "join":
                    await live.join(session, actor, key, following=following())
                elif kind == "away":
                    await live.set_presence(session, actor, key, connected=False)
                elif kind == "follow":
                    await live.set_presence(session, actor, key, following=following())
                else:
                    await live.leave(session, actor, key)
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
                async with db.session() as session:
                    await live.touch_instance(session, hub.instance_id)
            except Exception:
                log.warning("could not refresh presence", exc_info=True)

    background_tasks.create(touch(), name="presence keep-alive")


# --- the stand, stepping through a setlist and following live mode ------------------------------------------------
CHIP_CSS = """
#popup { display: none !important; }  /* no "connection lost" box over a chart: the chip says it quietly */
.sl-live-chip { position: fixed; z-index: 2600; top: calc(env(safe-area-inset-top) + 8px); left: 50%;
  transform: translateX(-50%); max-width: 94vw; display: flex; align-items: center; gap: 8px;
  padding: 4px 6px 4px 12px; border-radius: 18px; background: rgba(176, 0, 32, 0.92); color: #fff;
  font: 500 13px/20px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; box-shadow: 0 1px 6px #0004; }
.sl-live-chip .sl-live-text { overflow: hidden; white-space: nowrap; text-overflow: ellipsis; min-width: 0; }
.sl-live-chip button { flex: none; border: 0; border-radius: 14px; padding: 4px 12px; min-height: 32px;
  background: #fff; color: #b00020; font: 600 13px/20px system-ui, sans-serif; cursor: pointer; }
.sl-live-chip[data-state="following"] { background: rgba(58, 125, 68, 0.92); padding-right: 12px; }
.sl-live-chip[data-offline="true"] { opacity: 0.55; }
.sl-stand:has(.sl-top) ~ .sl-live-chip { top: calc(env(safe-area-inset-top) + 60px); }
"""
PLACEHOLDER = (800, 1035)


def placeholder_page(title: str, reason: str) -> dict[str, object]:
    """A page that says there is no chart to show, so the stand never goes blank on a song without my part."""
    from html import escape
    from urllib.parse import quote

    width, height = PLACEHOLDER
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}"><rect width="100%" height="100%" fill="#fff"/>'
           f'<text x="400" y="470" font-size="46" font-family="sans-serif" text-anchor="middle">{escape(title[:40])}'
           f'</text><text x="400" y="540" font-size="26" font-family="sans-serif" text-anchor="middle" fill="#666">'
           f'{escape(reason[:60])}</text></svg>')
    return {"src": "data:image/svg+xml;charset=utf-8," + quote(svg), "width": width, "height": height}


plans: SharedLoads[StandPlan] = SharedLoads()


async def load_plan(actor: Actor, setlist_id: int, wanted: int = -1, *, force: bool = False) -> StandPlan:
    async def load() -> StandPlan:
        async with db.session() as session:
            return await setlists.stand_plan(session, actor, setlist_id)

    return await plans.get(("plan", actor.band_id, setlist_id, profile(actor)), wanted, load, force=force)


class SetlistStand:
    """The stand showing one setlist's songs in the reader's part: previous/next song in place for anyone, and in
    live mode the leader's calls for those who follow.

    A follower is *attached* while showing the live song; browsing to another song detaches them (they are never
    dragged back) and the chip offers "Back to live"; a new call while attached swaps the chart in place. The leader
    on the live page calls songs with the stand's own previous/next buttons.
    """

    def __init__(self, actor: Actor, plan: StandPlan, index: int, *, watcher: LiveWatcher, following: bool,
                 pages_for: Callable[[Chart], list[dict[str, object]]], night: bool,
                 on_night: Callable[[bool], None], back: str, live_page: bool) -> None:
        self.actor, self.plan, self.index = actor, plan, max(0, min(index, len(plan.stops) - 1))
        self.watcher, self.following, self.pages_for = watcher, following, pages_for
        self.live_page, self.back = live_page, back
        self.drives = live_page and actor.is_leader
        self._planning = False
        self._connected_once = False
        ui.add_css(CHIP_CSS)
        title, part, pages = self._chart(self.index)
        self.stand = Stand(title=title, part_label=part, pages=pages, night=night,
                           prev_title=self._title(self.index - 1), next_title=self._title(self.index + 1),
                           on_song_request=lambda e: self._request(e.direction),
                           on_night_change=lambda e: on_night(e.night), on_close=lambda: ui.navigate.to(self.back))
        with ui.element("div").classes("sl-live-chip").props('data-testid=live-chip role=status aria-live=polite') \
                as self.chip:
            self.chip.mark("live-chip")
            self.chip_text = ui.label().classes("sl-live-text").props("data-testid=live-chip-text")
            self.chip_button = ui.element("button").props("data-testid=live-chip-action type=button") \
                .mark("live-chip-action")
            with self.chip_button:
                self.chip_label = ui.label()
            self.chip_button.on("click", self._chip_action)
        self.presence = track_presence(actor, lambda: self.following)
        listen(actor.band_id, setlists.topic(plan.setlist_id), self._setlist_changed)
        watcher.on_change(self._live_changed)
        client = ui.context.client
        client.on_connect(lambda: self._connection(True))
        client.on_disconnect(lambda: self._connection(False))
        if self.following and self._live_here() is not None:
            self._attach(jump=False)
        self._render_chip()

    # --- what is shown -----------------------------------------------------------------------------------------
    def _title(self, index: int) -> str | None:
        return self.plan.stops[index].title if 0 <= index < len(self.plan.stops) else None

    def _chart(self, index: int) -> tuple[str, str, list[dict[str, object]]]:
        if not self.plan.stops:
            return self.plan.name, "", [placeholder_page(self.plan.name, "This setlist has no songs yet.")]
        stop = self.plan.stops[index]
        details = [stop.musical_key and f"Key {stop.musical_key}", stop.notes]
        if stop.chart is None:
            return stop.title, " · ".join(d for d in details if d), [placeholder_page(stop.title, stop.explanation)]
        part = PartRef.from_key(stop.chart.part_key).label() if stop.chart.part_key else ""
        return stop.title, " · ".join(d for d in (part, *details) if d), self.pages_for(stop.chart)

    def show(self, index: int) -> None:
        """Swap to the setlist's song at ``index`` in place (the stand stays mounted)."""
        if not self.plan.stops:
            return
        self.index = max(0, min(index, len(self.plan.stops) - 1))
        title, part, pages = self._chart(self.index)
        self.stand.set_chart(title, part, pages, 0, prev_title=self._title(self.index - 1),
                             next_title=self._title(self.index + 1))
        stop = self.plan.stops[self.index]
        if not self.live_page and stop.chart is not None:  # a reload opens where the reader is
            self.stand.client.run_javascript(
                f"history.replaceState(null, '', '/stand/{stop.chart.id}?setlist={self.plan.setlist_id}')")
        self._render_chip()

    def current_item(self) -> int | None:
        return self.plan.stops[self.index].item_id if self.plan.stops else None

    async def _request(self, direction: str) -> None:
        step = 1 if direction == "next" else -1
        live_state = self._live_here()
        if self.drives and live_state is not None:  # the leader's next/previous call the song for everyone
            async with db.session() as session:
                new = await live.move(session, self.actor, live_state.live_id, step=step)
            self.watcher._set(new, new.live_id, new.seq)
            return
        self.show(self.index + step)

    # --- live mode ---------------------------------------------------------------------------------------------
    def _live_here(self) -> LiveState | None:
        state = self.watcher.state
        return state if state is not None and state.setlist_id == self.plan.setlist_id else None

    def attached(self) -> bool:
        state = self._live_here()
        return self.following and state is not None and state.current_item_id == self.current_item()

    def _attach(self, *, jump: bool = True) -> None:
        state = self._live_here()
        target = self.plan.index_of(state.current_item_id) if state is not None else None
        if target is not None and (jump or target != self.index):
            self.show(target)

    def _live_changed(self, old: LiveState | None, new: LiveState | None) -> None:
        was_attached = (self.following and old is not None and old.setlist_id == self.plan.setlist_id
                        and old.current_item_id == self.current_item())
        if self.following and new is not None and new.setlist_id == self.plan.setlist_id and (
                was_attached or old is None or old.live_id != new.live_id):
            self._attach(jump=False)
        self._render_chip()

    def _chip_action(self) -> None:
        state = self.watcher.state
        if state is None:
            return
        if state.setlist_id != self.plan.setlist_id:
            ui.navigate.to(f"/live/{state.setlist_id}")
            return
        if not self.following:
            self.following = True
            self.presence()
        self._attach(jump=False)
        self._render_chip()

    def _render_chip(self) -> None:
        state = self.watcher.state
        self.chip.set_visibility(state is not None)
        if state is None:
            self.chip.props["data-state"] = "off"
            return
        if state.setlist_id != self.plan.setlist_id:
            self.chip.props["data-state"] = "elsewhere"
            self.chip_text.set_text(f"Live: {state.setlist_name}")
            self.chip_label.set_text("Follow")
            self.chip_button.set_visibility(True)
            return
        index = self.plan.index_of(state.current_item_id)
        now = self._title(index) if index is not None else None
        upcoming = self._title(index + 1) if index is not None else None
        if self.drives:
            text, state_name, action = f"Calling: {now or '—'}" + (f" · Next: {upcoming}" if upcoming else ""), \
                "following", None
        elif self.attached():
            text, state_name, action = "Live · following" + (f" · Next: {upcoming}" if upcoming else ""), \
                "following", None
        elif self.following:
            text, state_name, action = f"Live: {now or '—'}", "detached", "Back to live"
        else:
            text, state_name, action = f"Live: {now or '—'}", "not-following", "Follow"
        self.chip.props["data-state"] = state_name
        self.chip_text.set_text(text)
        self.chip_button.set_visibility(action is not None)
        if action:
            self.chip_label.set_text(action)

    # --- staying current ---------------------------------------------------------------------------------------
    def _setlist_changed(self, event: Event) -> None:
        if event.payload.get("deleted") or self._planning:
            return
        self._planning = True
        background_tasks.create(self._replan(int(event.payload.get("version", self.plan.version + 1)),
                                             bool(event.payload.get("resync"))), name="re-plan stand")

    async def _replan(self, wanted: int, force: bool) -> None:
        try:
            plan = await load_plan(self.actor, self.plan.setlist_id, wanted, force=force)
        except Exception:
            return
        finally:
            self._planning = False
        if self.stand.is_deleted or plan.version < self.plan.version:
            return
        shown = self.current_item()
        old_index = self.index
        self.plan = plan
        found = plan.index_of(shown)
        self.index = found if found is not None else min(old_index, max(len(plan.stops) - 1, 0))
        if found is None and plan.stops:  # the song on the stand was removed: keep reading it, neighbours nearby
            self.stand.set_neighbours(self._title(self.index - 1) if self.index > 0 else None,
                                      self._title(self.index))
        else:
            self.stand.set_neighbours(self._title(self.index - 1), self._title(self.index + 1))
        self._render_chip()

    def _connection(self, up: bool) -> None:
        self.chip.props["data-offline"] = "false" if up else "true"
        if up and not self._connected_once:  # the first connection of a page built from fresh state
            self._connected_once = True
            return
        if up:  # back from a sleep or a network drop: catch up on the setlist; the watcher re-reads live state
            self._planning = True
            background_tasks.create(self._replan(self.plan.version, True), name="re-plan after reconnect")
