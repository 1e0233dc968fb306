"""Live mode as one open page knows it, without any UI: which live state is newest, when to re-read it, whether the
stand follows the leader's calls and what its chip says.

The hub's ``live`` events are small (ids and a ``seq``) and may arrive late, twice or out of order (a replay after a
reconnect, two instances): ``LiveTimeline`` orders them by ``(live_id, seq)`` and ignores anything older than what the
page shows; what it can't decide from an event (a new session's name, a ``resync``) it asks the caller to re-read from
the database. ``chip_view`` and ``follows_call`` are the follower's rules (docs/DECISIONS.md, live mode): a follower is
never dragged back, a call moves an attached stand in place. The NiceGUI side (``components.live_bar``,
``components.setlist_stand``) only wires these to sockets and renders what they return.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from .services.live import LiveState

log = logging.getLogger(__name__)
Listener = Callable[[LiveState | None, LiveState | None], None]


class Heard(enum.Enum):
    """What a page does with one ``live`` event."""

    IGNORED = "ignored"  # older than (or the same as) what the page shows
    APPLIED = "applied"  # the state changed in place
    REREAD = "reread"  # read the live state from the database (a resync, or a new session's name and start)


class LiveTimeline:
    """The newest live state this page has seen; ``on_change(old, new)`` listeners run on every change."""

    def __init__(self, state: LiveState | None) -> None:
        self.state = state
        self._live_id, self._seq = (state.live_id, state.seq) if state else (0, 0)
        self._listeners: list[Listener] = []
        self._connected_once = False

    @property
    def position(self) -> tuple[int, int]:
        """``(live_id, seq)`` of the newest event seen (a re-read may still be on its way)."""
        return self._live_id, self._seq

    def on_change(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def heard(self, payload: Mapping[str, object]) -> Heard:
        """One hub event: apply it if it is newer than what is shown, or say a re-read is needed."""
        if payload.get("resync"):
            return Heard.REREAD
        live_id, seq = _int(payload.get("live")), _int(payload.get("seq"))
        if (live_id, seq) <= (self._live_id, self._seq):
            return Heard.IGNORED
        if payload.get("kind") == "stop":
            self._set(None, live_id, seq)
            return Heard.APPLIED
        if self.state is not None and self.state.live_id == live_id:
            item, page = payload.get("item"), payload.get("page")
            self._set(replace(self.state, current_item_id=item if isinstance(item, int) else None, seq=seq,
                              turn_pages=payload.get("turns") is True, page=page if type(page) is int else 0),
                      live_id, seq)
            return Heard.APPLIED
        self._live_id, self._seq = live_id, seq  # a new session: its name and start come from the database
        return Heard.REREAD

    def reread(self, state: LiveState | None) -> None:
        """The state just read from the database: it wins unless an event newer than it was heard meanwhile."""
        if state is None:
            self._set(None, self._live_id, self._seq)
        elif (state.live_id, state.seq) >= (self._live_id, self._seq) or self.state is None:
            self._set(state, state.live_id, state.seq)

    def wrote(self, state: LiveState) -> None:
        """This page's own call (start, move): shown at once, without waiting for its event to come back."""
        self._set(state, state.live_id, state.seq)

    def connected(self) -> bool:
        """The page's socket (re)connected: True when the state must be re-read (not on the first connection of a
        page just built from fresh state)."""
        if not self._connected_once:
            self._connected_once = True
            return False
        return True

    def _set(self, new: LiveState | None, live_id: int, seq: int) -> None:
        old = self.state
        self.state, self._live_id, self._seq = new, live_id, seq
        if old == new:
            return
        for listener in self._listeners:
            try:
                listener(old, new)
            except Exception:  # one broken view must not stop the others hearing the call; logged, not swallowed
                log.exception("live listener failed")


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:  # a malformed event counts as the oldest: it is ignored
        return 0


# --- a stand following the calls ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Follower:
    """One stand's place: which setlist, which song it shows, whether its reader follows, whether it calls."""

    setlist_id: int
    shown_item: int | None
    following: bool
    drives: bool = False  # the leader on the live page: the stand's own previous/next call the songs

    def live_here(self, state: LiveState | None) -> LiveState | None:
        return state if state is not None and state.setlist_id == self.setlist_id else None

    def attached(self, state: LiveState | None) -> bool:
        here = self.live_here(state)
        return self.following and here is not None and here.current_item_id == self.shown_item


def follows_call(follower: Follower, old: LiveState | None, new: LiveState | None) -> bool:
    """Whether a change of live state moves this stand to the called song: only a follower who was attached (or a
    new session starting); one who browsed away is never dragged back."""
    if not follower.following or follower.live_here(new) is None:
        return False
    return follower.attached(old) or old is None or old.live_id != (new.live_id if new else 0)


@dataclass(frozen=True, slots=True)
class ChipView:
    """What the stand's live chip shows: ``state`` for its ``data-state`` (off, elsewhere, following, detached,
    not-following), its text and the button's action (None: no button)."""

    state: str
    text: str = ""
    action: str | None = None


def chip_view(follower: Follower, state: LiveState | None, titles: Sequence[str],
              index_of: Callable[[int | None], int | None]) -> ChipView:
    """The chip for this stand and live state; ``titles`` are the setlist's song titles in order."""
    if state is None:
        return ChipView("off")
    if state.setlist_id != follower.setlist_id:
        return ChipView("elsewhere", f"Live: {state.setlist_name}", "Follow")
    index = index_of(state.current_item_id)
    now = _at(titles, index)
    upcoming = _at(titles, index + 1) if index is not None else None
    if follower.drives and follower.shown_item == state.current_item_id:
        return ChipView("following", f"Calling: {now or '—'}" + (f" · Next: {upcoming}" if upcoming else ""))
    if follower.attached(state):  # the same on every call: nothing more to send to each follower
        return ChipView("following", "Live · following")
    if follower.following:
        return ChipView("detached", f"Live: {now or '—'}", "Back to live")
    return ChipView("not-following", f"Live: {now or '—'}", "Follow")


def _at(titles: Sequence[str], index: int | None) -> str | None:
    return titles[index] if index is not None and 0 <= index < len(titles) else None


def replanned_index(items: Sequence[int], shown_item: int | None, old_index: int) -> tuple[int, bool]:
    """Where a stand stands after its setlist changed: on the same song if it is still there (True), else near the
    old place (False: the song on the stand was removed and the reader keeps reading it)."""
    found = next((i for i, item in enumerate(items) if item == shown_item), None)
    if found is not None:
        return found, True
    return min(old_index, max(len(items) - 1, 0)), False


# --- the call, once per instance -----------------------------------------------------------------------------------
ROOM_KINDS = ("start", "move", "stop", "page", "turns")  # a call, an end, a leader's page turn, the option


def room_name(band_id: int, setlist_id: int) -> str:
    """The socket.io room of one band's live setlist. The server alone puts a page in it, after the page guard let
    the member read that setlist; no name a browser sends is ever used (a socket can't join a room by asking)."""
    return f"live:{int(band_id)}:{int(setlist_id)}"


def room_message(payload: Mapping[str, object]) -> dict[str, object] | None:
    """What a live room hears of a hub ``live`` event: the call as the stand applies it in the browser
    (``{"kind", "live", "setlist", "item", "seq", "turns", "page"}``, ids and numbers only), or None for events that
    are not a call of a setlist (a ``resync``, a malformed payload: each page re-reads the state for those and tells
    its own browser)."""
    kind, item = payload.get("kind"), payload.get("item")
    live_id, setlist_id, seq = payload.get("live"), payload.get("setlist"), payload.get("seq")
    if kind not in ROOM_KINDS or not all(type(v) is int for v in (live_id, setlist_id, seq)):
        return None
    page = payload.get("page")
    return {"kind": kind, "live": live_id, "setlist": setlist_id, "item": item if type(item) is int else None,
            "seq": seq, "turns": payload.get("turns") is True, "page": page if type(page) is int and page >= 0 else 0}


def state_message(state: LiveState | None, setlist_id: int) -> dict[str, object] | None:
    """The live state as one room message, for a page that may have missed calls (its first build, a reconnect):
    the browser applies it by the same rule and ignores it if it heard that call already."""
    if state is None or state.setlist_id != setlist_id:
        return None
    return room_message(state.payload("move"))
