"""The stand stepping through a setlist in the reader's part, and following the leader's calls in live mode.

The whole setlist goes to the browser once (``Stand(songs=…)``: every song's pages in this member's part, PDF or
engraved, in the entry's key of the night and with the member's own key/octave): previous/next song happen there at
once, and a leader's call sends each follower one small ``showSong(index)`` message, however long the setlist is.
A setlist edit re-sends the list. The lists are built once per setlist version for every member who reads the same
parts (``stand_view.load_stand_set``), so a band going live costs one load, not one per phone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from html import escape
from urllib.parse import quote

from nicegui import background_tasks, ui
from nicegui.events import Handler
from sqlalchemy.exc import SQLAlchemyError

from soleil_ui.access import Actor
from soleil_ui.errors import SoleilError
from soleil_ui.events import Event
from soleil_ui.live_follow import Follower, chip_view, follows_call, replanned_index, state_message
from soleil_ui.services import live, setlists, work
from soleil_ui.services.library import KeyPref
from soleil_ui.services.live import LiveState
from soleil_ui.services.setlist_plan import StandPlan
from soleil_ui.services.stand_view import StandSet, load_stand_set
from soleil_ui.stand_contract import StandPage

from . import live_room
from .live import listen
from .live_bar import LiveWatcher, track_presence
from .stand import (
    Stand,
    StandCropChangeEventArguments,
    StandPageChangeEventArguments,
    StandSongChangeEventArguments,
)

log = logging.getLogger(__name__)
CHIP_CSS = """
#popup { display: none !important; }  /* no "connection lost" box over a chart: the chip says it quietly */
.sl-live-chip { position: fixed; z-index: 2600; top: calc(env(safe-area-inset-top) + 8px); left: 50%;
  transform: translateX(-50%); max-width: 94vw; display: flex; align-items: center; gap: 8px;
  padding: 4px 6px 4px 12px; border-radius: 18px; background: rgba(176, 0, 32, 0.92); color: #fff;
  font: 500 13px/20px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; box-shadow: 0 1px 6px #0004; }
.sl-live-chip .sl-live-text { overflow: hidden; white-space: nowrap; text-overflow: ellipsis; min-width: 0; }
.sl-live-chip button { flex: none; border: 0; border-radius: 22px; padding: 4px 14px; min-height: 44px; min-width: 44px;
  background: #fff; color: #b00020; font: 600 13px/20px system-ui, sans-serif; cursor: pointer; }
.sl-live-chip[data-state="following"] { background: rgba(58, 125, 68, 0.92); padding-right: 12px; }
.sl-stand:has(.sl-top) ~ .sl-live-chip { top: calc(env(safe-area-inset-top) + 60px); }
/* The chip has a band of its own above the chart and never covers the music: while it shows, the stand keeps that
   band free (its viewport shrinks; the stand re-measures and fits the page below). Cut off, the band is at the
   bottom. With the toolbar up, the toolbar and the chip cover the top for as long as the toolbar stays. */
.sl-stand:has(~ .sl-live-chip:not(.hidden)) { padding-top: calc(env(safe-area-inset-top) + 64px); }
.sl-stand[data-online="false"]:has(~ .sl-live-chip:not(.hidden)) { padding-top: calc(env(safe-area-inset-top) + 34px);
  padding-bottom: calc(env(safe-area-inset-bottom) + 40px); }
/* Cut off, the chip says so at once (the browser knows, the server can't tell it): grey, no action that can't work,
   and at the bottom, in the margin under the chart, away from the stand's "offline · last update…" label at the top
   and the page count at the right (with the toolbar up, that label says it alone). */
.sl-live-chip .sl-live-cut { display: none; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; }
.sl-stand[data-online="false"] ~ .sl-live-chip { top: auto; bottom: calc(env(safe-area-inset-bottom) + 8px);
  max-width: calc(100vw - 160px); padding-right: 12px; background: rgba(66, 66, 66, 0.92); font-size: 12px; }
.sl-stand[data-online="false"]:has(.sl-bottom) ~ .sl-live-chip { display: none; }
.sl-stand[data-online="false"] ~ .sl-live-chip .sl-live-cut { display: inline; }
.sl-stand[data-online="false"] ~ .sl-live-chip .sl-live-text,
.sl-stand[data-online="false"] ~ .sl-live-chip button { display: none; }
"""
CUT_TEXT = "Live · calls can't reach you"
CUT_TEXT_LEADER = "Live · your calls are paused"
PLACEHOLDER = (800, 1035)


def placeholder_page(title: str, reason: str) -> StandPage:
    """A page that says there is no chart to show, so the stand never goes blank on a song without my part."""
    width, height = PLACEHOLDER
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}"><rect width="100%" height="100%" fill="#fff"/>'
           f'<text x="400" y="470" font-size="46" font-family="sans-serif" text-anchor="middle">{escape(title[:40])}'
           f'</text><text x="400" y="540" font-size="26" font-family="sans-serif" text-anchor="middle" fill="#666">'
           f'{escape(reason[:60])}</text></svg>')
    return StandPage(src="data:image/svg+xml;charset=utf-8," + quote(svg), width=width, height=height)


def _set_prop(element: ui.element, name: str, value: str) -> None:
    """Change a prop only when it changes: every assignment sends the element to the browser."""
    if element.props.get(name) != value:
        element.props[name] = value


class SetlistStand:
    """The stand showing one setlist's songs in the reader's part: previous/next song in place for anyone, and in
    live mode the leader's calls for those who follow.

    A follower is *attached* while showing the live song; browsing to another song detaches them (they are never
    dragged back) and the chip offers "Back to live"; a new call while attached moves the stand in place. The leader
    on the live page calls songs with the stand's own previous/next buttons.
    """

    def __init__(self, actor: Actor, stand_set: StandSet, index: int, *, prefs: Mapping[int, KeyPref],
                 watcher: LiveWatcher, following: bool, night: bool, on_night: Callable[[bool], object], back: str,
                 live_page: bool, crops: Mapping[int, Mapping[str, object]] | None = None,
                 on_crop: Handler[StandCropChangeEventArguments] | None = None) -> None:
        self.actor, self.set, self.prefs = actor, stand_set, prefs
        self.index = max(0, min(index, len(self.plan.stops) - 1))
        self.shown_item = self.plan.stops[self.index].item_id if self.plan.stops else None
        self.watcher, self.following = watcher, following
        self.live_page, self.back = live_page, back
        self.drives = live_page and actor.is_leader
        self._planning = False
        self._connected_once = False
        ui.add_css(CHIP_CSS)
        title, part, pages = self._chart(self.index)
        self.stand = Stand(title=title, part_label=part, pages=pages, night=night,
                           prev_title=self._title(self.index - 1), next_title=self._title(self.index + 1),
                           songs=stand_set.songs or None, song_index=self.index, setlist_id=self.plan.setlist_id,
                           on_song_request=lambda e: self._request(e.direction), on_song_change=self._song_changed,
                           on_night_change=lambda e: on_night(e.night), on_close=lambda: ui.navigate.to(self.back),
                           crops=crops, on_crop_change=on_crop)
        with ui.element("div").classes("sl-live-chip").props('data-testid=live-chip role=status aria-live=polite') \
                as self.chip:
            self.chip.mark("live-chip")
            self.chip_text = ui.label().classes("sl-live-text").props("data-testid=live-chip-text")
            ui.label(CUT_TEXT_LEADER if self.drives else CUT_TEXT).classes("sl-live-cut").props(
                "data-testid=live-chip-cut")
            self.chip_button = ui.element("button").props("data-testid=live-chip-action type=button") \
                .mark("live-chip-action")
            with self.chip_button:
                self.chip_label = ui.label()
            self.chip_button.on("click", self._chip_action)
        self._told_attached = False
        self.presence = track_presence(actor, self._tell_attached)
        listen(actor.band_id, setlists.topic(self.plan.setlist_id), self._setlist_changed)
        watcher.on_change(self._live_changed)
        watcher.on_reread(self._reread)
        # the calls, once per instance (after the page guard); then the state, in case a call came before the join
        live_room.join(actor.band_id, self.plan.setlist_id, lambda: self._reread(self.watcher.state))
        self.stand.set_live(state_message(watcher.state, self.plan.setlist_id), self.following, drives=self.drives)
        if self.drives:
            self.stand.on_page_change(self._page_turned)
        client = ui.context.client
        client.on_connect(lambda: self._connection(True))
        client.on_disconnect(lambda: self._connection(False))
        if self.following and self._live_here() is not None:
            self._attach(jump=False)
        self._render_chip()

    @property
    def plan(self) -> StandPlan:
        return self.set.plan

    # --- what is shown -----------------------------------------------------------------------------------------
    def _title(self, index: int) -> str | None:
        return self.plan.stops[index].title if 0 <= index < len(self.plan.stops) else None

    def _chart(self, index: int) -> tuple[str, str, list[StandPage]]:
        if not self.plan.stops:
            return self.plan.name, "", [placeholder_page(self.plan.name, "This setlist has no songs yet.")]
        song = self.set.songs[index]
        pages = song["pages"] or [placeholder_page(song["title"], song["explanation"])]
        return song["title"], song["part_label"], pages

    def show(self, index: int, *, send: bool = True) -> None:
        """Move to the setlist's song at ``index`` in place (the stand stays mounted; only the index is sent).
        ``send=False``: the browser moved itself (a call heard in the live room); only remember it."""
        if not self.plan.stops:
            return
        self.index = max(0, min(index, len(self.plan.stops) - 1))
        self.shown_item = self.plan.stops[self.index].item_id
        if send:
            self.stand.show_song(self.index)
        else:
            self.stand.follow_song(self.index)
        self._render_chip()

    def current_item(self) -> int | None:
        return self.shown_item

    async def _song_changed(self, e: StandSongChangeEventArguments) -> None:
        """The reader chose another song in the browser (``Stand`` passes on only the reader's own choices); the
        leader on the live page calls it, unless it was chosen while cut off (a call is never sent late)."""
        self.index, self.shown_item = e.index, e.item_id
        live_state = self._live_here()
        if self.drives and not e.resync and live_state is not None and e.item_id is not None \
                and live_state.current_item_id != e.item_id:
            new = await work.act(live.move, self.actor, live_state.live_id, item_id=e.item_id)
            self.watcher.wrote(new)
        self._render_chip()

    async def _request(self, direction: str) -> None:
        """Previous/next asked of the server (a stand without the song list: it was empty when the page opened)."""
        step = 1 if direction == "next" else -1
        live_state = self._live_here()
        if self.drives and live_state is not None:  # the leader's next/previous call the song for everyone
            new = await work.act(live.move, self.actor, live_state.live_id, step=step)
            self.watcher.wrote(new)
            return
        self.show(self.index + step)

    async def _page_turned(self, e: StandPageChangeEventArguments) -> None:
        """The leader turned a page on the live stand: with the session's "turn their pages with mine" on, the
        followers reading this song turn there too (``live.turn_page`` decides; a turn never calls a song)."""
        state = self._live_here()
        if state is None or not state.turn_pages or self.shown_item != state.current_item_id \
                or self.shown_item is None:
            return
        new = await work.act(live.turn_page, self.actor, state.live_id, self.shown_item, e.page)
        if new is not None:
            self.watcher.wrote(new)

    # --- live mode ---------------------------------------------------------------------------------------------
    def _follower(self) -> Follower:
        return Follower(self.plan.setlist_id, self.current_item(), self.following, self.drives)

    def _live_here(self) -> LiveState | None:
        return self._follower().live_here(self.watcher.state)

    def attached(self) -> bool:
        return self._follower().attached(self.watcher.state)

    def _attach(self, *, jump: bool = True, send: bool = True) -> None:
        state = self._live_here()
        target = self.plan.index_of(state.current_item_id) if state is not None else None
        if target is not None and (jump or target != self.index or self.shown_item != state.current_item_id):
            self.show(target, send=send)

    def _live_changed(self, old: LiveState | None, new: LiveState | None) -> None:
        """A call: the browser applies it from the live room by the same rule (``heardCall``); the server follows."""
        if follows_call(self._follower(), old, new):
            self._attach(jump=False, send=False)
        self._render_chip()

    def _reread(self, state: LiveState | None) -> None:
        """The live state re-read (a reconnect, a resync): this browser may have missed calls in the room."""
        if not self.stand.is_deleted:
            self.stand.hear_call(state_message(state, self.plan.setlist_id))

    def _chip_action(self) -> None:
        state = self.watcher.state
        if state is None:
            return
        if state.setlist_id != self.plan.setlist_id:
            ui.navigate.to(f"/live/{state.setlist_id}")
            return
        if not self.following:
            self.following = True
            self.stand.set_live(state_message(state, self.plan.setlist_id), True, drives=self.drives)
            if not self.live_page and not self.actor.is_leader:  # a reload (say after a long cut) keeps following
                # (a leader's /live page calls the songs: a leader's setlist stand stays a stand)
                ui.run_javascript(f"history.replaceState(history.state, '', '/live/{self.plan.setlist_id}')")
        self._attach(jump=False)
        self._render_chip()

    def _tell_attached(self) -> bool:
        """For the leader's console: this page follows the calls (shows the called song, takes the next)."""
        self._told_attached = self.attached()
        return self._told_attached

    def _render_chip(self) -> None:
        if self.attached() != self._told_attached:  # the console hears of every change, once
            self._told_attached = not self._told_attached
            self.presence()
        state = self.watcher.state
        view = chip_view(self._follower(), state, [stop.title for stop in self.plan.stops], self.plan.index_of)
        self.chip.set_visibility(state is not None)
        _set_prop(self.chip, "data-state", view.state)
        if state is None:
            return
        self.chip_text.set_text(view.text)
        self.chip_button.set_visibility(view.action is not None)
        if view.action:
            self.chip_label.set_text(view.action)

    # --- staying current ---------------------------------------------------------------------------------------
    def _setlist_changed(self, event: Event) -> None:
        if event.payload.get("deleted") or self._planning:
            return
        self._planning = True
        background_tasks.create(self._replan(int(event.payload.get("version", self.plan.version + 1)),
                                             bool(event.payload.get("resync"))), name="re-plan stand")

    async def _replan(self, wanted: int, force: bool) -> None:
        try:
            fresh = await load_stand_set(self.actor, self.plan.setlist_id, self.prefs, wanted, force=force)
        except (SoleilError, SQLAlchemyError):  # deleted, no longer readable, or the database is away: the stand
            log.warning("could not re-plan the stand", exc_info=True)  # keeps what it shows; the next change retries
            return
        finally:
            self._planning = False
        if self.stand.is_deleted or fresh.version < self.plan.version:
            return
        self.set = fresh
        self.index, found = replanned_index([stop.item_id for stop in fresh.plan.stops], self.shown_item, self.index)
        if not found and fresh.plan.stops:  # the song on the stand was removed: keep reading it, neighbours near
            self.stand.set_neighbours(self._title(self.index - 1) if self.index > 0 else None,
                                      self._title(self.index))
        else:
            self.stand.set_neighbours(self._title(self.index - 1), self._title(self.index + 1))
        self.stand.set_songs(fresh.songs or None, self.index if found else None)
        self._render_chip()

    def _connection(self, up: bool) -> None:
        if up and not self._connected_once:  # the first connection of a page built from fresh state
            self._connected_once = True
            return
        if up:  # back from a sleep or a network drop: where is the reader (after the replay of what the page missed)?
            self.stand.ask_place()  # catch up on the setlist too; the watcher re-reads the live state
            self._planning = True
            background_tasks.create(self._replan(self.plan.version, True), name="re-plan after reconnect")
