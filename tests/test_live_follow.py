"""The live-mode state machine without NiceGUI: ordering by sequence, stale and replayed events, re-reads after a
reconnect, and a follower's attach/detach rules and chip."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from soleil_ui.events import Event, EventHub
from soleil_ui.live_follow import (
    ChipView,
    Follower,
    Heard,
    LiveTimeline,
    chip_view,
    follows_call,
    replanned_index,
    room_message,
    room_name,
    state_message,
)
from soleil_ui.services.live import LiveState

START = datetime(2026, 1, 1, tzinfo=UTC)


def state(live_id: int = 1, item: int | None = 10, seq: int = 1, setlist: int = 5) -> LiveState:
    return LiveState(live_id, setlist, "Friday", item, seq, START, None)


def recorded(timeline: LiveTimeline) -> list[tuple[LiveState | None, LiveState | None]]:
    changes: list[tuple[LiveState | None, LiveState | None]] = []
    timeline.on_change(lambda old, new: changes.append((old, new)))
    return changes


def test_newer_call_applies_in_place_and_older_or_replayed_are_ignored() -> None:
    timeline = LiveTimeline(state(seq=3))
    changes = recorded(timeline)
    assert timeline.heard({"kind": "move", "live": 1, "item": 11, "seq": 4}) is Heard.APPLIED
    assert timeline.state == state(item=11, seq=4)
    assert timeline.heard({"kind": "move", "live": 1, "item": 12, "seq": 4}) is Heard.IGNORED  # replayed seq
    assert timeline.heard({"kind": "move", "live": 1, "item": 9, "seq": 2}) is Heard.IGNORED  # late
    assert timeline.heard({"kind": "stop", "live": 0, "seq": 99}) is Heard.IGNORED  # an older session
    assert timeline.state == state(item=11, seq=4)
    assert changes == [(state(seq=3), state(item=11, seq=4))]


def test_stop_clears_and_a_new_session_asks_for_a_reread_that_an_older_read_cannot_undo() -> None:
    timeline = LiveTimeline(state(seq=2))
    assert timeline.heard({"kind": "stop", "live": 1, "seq": 3}) is Heard.APPLIED
    assert timeline.state is None
    assert timeline.heard({"kind": "start", "live": 2, "item": 20, "seq": 1}) is Heard.REREAD
    assert timeline.position == (2, 1) and timeline.state is None
    timeline.reread(state(live_id=2, item=20, seq=1))
    assert timeline.state == state(live_id=2, item=20, seq=1)
    timeline.heard({"kind": "move", "live": 2, "item": 21, "seq": 2})
    timeline.reread(state(live_id=2, item=20, seq=1))  # a read that started before the call: stale, ignored
    assert timeline.state is not None and timeline.state.current_item_id == 21
    timeline.reread(None)  # the session ended while the page slept
    assert timeline.state is None


def test_resync_and_reconnect_ask_for_a_reread_but_not_the_first_connection() -> None:
    timeline = LiveTimeline(None)
    assert timeline.heard({"resync": True}) is Heard.REREAD
    assert timeline.connected() is False  # the page was just built from fresh state
    assert timeline.connected() is True
    assert timeline.connected() is True
    timeline.reread(state(seq=7))  # nothing seen yet: whatever the database says wins
    assert timeline.state == state(seq=7)


@pytest.mark.expected_error(r"RuntimeError: boom")  # the broken listener this test installs
def test_own_write_shows_at_once_and_a_broken_listener_does_not_stop_the_others() -> None:
    timeline = LiveTimeline(None)
    seen: list[LiveState | None] = []

    def broken(_old: LiveState | None, _new: LiveState | None) -> None:
        raise RuntimeError("boom")

    timeline.on_change(broken)
    timeline.on_change(lambda _old, new: seen.append(new))
    timeline.wrote(state(seq=1))
    timeline.wrote(state(seq=1))  # the same state: no change to announce
    assert seen == [state(seq=1)]
    assert timeline.heard({"kind": "move", "live": "x", "seq": None}) is Heard.IGNORED  # malformed: oldest


def test_attached_follower_moves_with_the_call_a_detached_one_is_never_dragged_back() -> None:
    attached = Follower(5, shown_item=10, following=True)
    assert attached.attached(state(item=10))
    assert follows_call(attached, state(item=10), state(item=11, seq=2))
    detached = Follower(5, shown_item=12, following=True)
    assert not follows_call(detached, state(item=10), state(item=11, seq=2))
    assert follows_call(detached, None, state(item=11))  # going live takes every follower to the called song
    assert follows_call(detached, state(live_id=1), state(live_id=2, item=11))  # so does a new session
    assert not follows_call(Follower(5, 10, following=False), state(item=10), state(item=11, seq=2))
    assert not follows_call(attached, state(item=10), state(setlist=6))  # live on another setlist


def test_chip_states() -> None:
    titles = ["One", "Two", "Three"]

    def index_of(item: int | None) -> int | None:
        return {10: 0, 11: 1, 12: 2}.get(item or 0)

    assert chip_view(Follower(5, 10, True), None, titles, index_of) == ChipView("off")
    assert chip_view(Follower(5, 10, True), state(setlist=6), titles, index_of) == \
        ChipView("elsewhere", "Live: Friday", "Follow")
    assert chip_view(Follower(5, 10, True), state(item=10), titles, index_of) == \
        ChipView("following", "Live · following")
    assert chip_view(Follower(5, 12, True), state(item=11), titles, index_of) == \
        ChipView("detached", "Live: Two", "Back to live")
    assert chip_view(Follower(5, 10, False), state(item=12), titles, index_of) == \
        ChipView("not-following", "Live: Three", "Follow")
    assert chip_view(Follower(5, 11, False, drives=True), state(item=11), titles, index_of) == \
        ChipView("following", "Calling: Two · Next: Three")
    assert chip_view(Follower(5, 12, True), state(item=None), titles, index_of) == \
        ChipView("detached", "Live: —", "Back to live")


def test_replanned_index_keeps_the_song_or_stays_near() -> None:
    assert replanned_index([1, 2, 3], 3, 0) == (2, True)
    assert replanned_index([1, 2], 9, 5) == (1, False)
    assert replanned_index([], 9, 3) == (0, False)


# --- the call to a live room --------------------------------------------------------------------------------------
def test_a_leaders_page_turn_and_option_update_the_state_in_place() -> None:
    timeline = LiveTimeline(state(seq=3))
    assert timeline.heard({"kind": "turns", "live": 1, "item": 10, "seq": 4, "turns": True, "page": 0}) \
        is Heard.APPLIED
    assert timeline.heard({"kind": "page", "live": 1, "item": 10, "seq": 5, "turns": True, "page": 2}) \
        is Heard.APPLIED
    assert timeline.state is not None and (timeline.state.turn_pages, timeline.state.page) == (True, 2)
    assert timeline.heard({"kind": "move", "live": 1, "item": 11, "seq": 6, "turns": True, "page": "x"}) \
        is Heard.APPLIED
    assert timeline.state is not None and (timeline.state.current_item_id, timeline.state.page) == (11, 0)


def test_a_room_is_one_bands_setlist_and_its_name_never_comes_from_input() -> None:
    assert room_name(1, 5) == "live:1:5"
    assert room_name(1, 5) != room_name(2, 5)  # the same setlist id in another band is another room
    with pytest.raises(ValueError):
        room_name(1, "5; live:2:5")  # type: ignore[arg-type]  # only numbers make a room


def test_a_room_hears_ids_only_and_nothing_that_is_not_a_call() -> None:
    call = {"kind": "move", "live": 1, "setlist": 5, "item": 11, "seq": 4, "extra": "x" * 100}
    assert room_message(call) == {"kind": "move", "live": 1, "setlist": 5, "item": 11, "seq": 4, "turns": False,
                                  "page": 0}
    turned = room_message({**call, "kind": "page", "turns": True, "page": 2})
    assert turned is not None and (turned["kind"], turned["turns"], turned["page"]) == ("page", True, 2)
    assert room_message({**call, "page": -3})["page"] == 0  # type: ignore[index]
    assert room_message({**call, "kind": "stop", "item": None})["item"] is None  # type: ignore[index]
    assert room_message({"resync": True}) is None  # each page re-reads and tells its own browser
    assert room_message({**call, "kind": "edit"}) is None
    assert room_message({**call, "seq": "4"}) is None
    assert room_message({**call, "setlist": True}) is None  # a bool is no setlist id
    assert room_message({**call, "item": "<script>"})["item"] is None  # type: ignore[index]


def test_a_pages_own_catch_up_is_the_state_as_a_call_of_its_setlist_only() -> None:
    assert state_message(state(item=12, seq=7), 5) == {"kind": "move", "live": 1, "setlist": 5, "item": 12, "seq": 7,
                                                       "turns": False, "page": 0}
    assert state_message(state(setlist=6), 5) is None
    assert state_message(None, 5) is None


@pytest.mark.expected_error(r"RuntimeError: relay down")  # the broken relay this test installs
async def test_relays_hear_every_band_first_and_a_broken_one_stops_nobody() -> None:
    events = EventHub()
    heard: list[str] = []

    def broken(_event: Event) -> None:
        raise RuntimeError("relay down")

    events.add_relay(broken)
    events.add_relay(lambda e: heard.append(f"relay {e.band_id}"))
    events.add_relay(broken)  # once only
    events.subscribe(1, "live", lambda e: heard.append("page 1"))
    events.subscribe(2, "live", lambda e: heard.append("page 2"))
    await events.publish(Event(1, "live", {"kind": "move"}))
    events.deliver(Event(2, "live", {"kind": "move"}))
    assert heard == ["relay 1", "page 1", "relay 2", "page 2"]
    for n in range(30):  # a broadcast big enough to be delivered in chunks still relays first, once
        events.subscribe(3, "live", lambda e, n=n: heard.append(f"page 3.{n}"))
    heard.clear()
    await events.deliver_async(Event(3, "live", {}))
    assert heard[0] == "relay 3" and heard.count("relay 3") == 1 and len(heard) == 31
    events.remove_relay(broken)
    events.reset()  # pages go; the relay stays with the process
    heard.clear()
    events.deliver(Event(1, "live", {}))
    assert heard == ["relay 1"]
