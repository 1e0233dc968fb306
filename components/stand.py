"""The music stand: a full-screen chart reader for one musician's part.

Everything a musician does on stage happens in the browser (``static/stand.js``) without a server round trip:
page turns by tap, swipe, keyboard or Bluetooth pedal, preloading, zoom, two pages side by side, night mode and the
screen wake lock. The server only *hears* about it afterwards (``page_change`` is debounced and fire-and-forget) and
*tells* it what to show (``set_chart``, ``set_night``, ``set_neighbours``).

Pages need their intrinsic size so the layout never jumps while an image loads::

    Stand(title='Autumn Leaves', part_label='Trumpet in B♭', pages=[
        {'src': '/charts/7/p0?w=800', 'srcset': '/charts/7/p0?w=480 480w, /charts/7/p0?w=800 800w',
         'width': 800, 'height': 1035},
    ], on_page_change=lambda e: remember(e.page))

The page that shows the stand should use ``viewport=STAND_VIEWPORT`` so the safe-area insets of notched phones apply.

The contract with ``stand.js``. Props: ``title``, ``part_label``, ``pages``, ``night``, ``start_page``,
``chart_key`` (bumped by ``set_chart``: the browser then reloads the chart at ``start_page``), ``prev_title``,
``next_title``, ``songs``, ``song_index``, ``setlist_id``, ``recording``, ``crops``. Events: ``page_change``
``{"page", "pages"}``, ``song_request`` ``{"direction": "next"|"prev"}``, ``song_change`` ``{"index", "item_id",
"chart_id", "choice", "resync"}``, ``night_change`` ``{"night"}``, ``crop_change`` ``{"chart_id", "mode",
"margins"}``, ``close``. JS methods: ``goTo(index)``, ``showSong(index, page, choice)``, ``resync()``. Fit-to-width and
"force one page" are the reader's own choices, kept in the browser's localStorage.

**Who moved the stand.** The reader's own song moves are numbered in the browser (``choice``); ``show_song`` sends the
last number the server heard, and the browser drops a move older than the reader's latest choice (a call replayed
after a network cut must not undo browsing away). A ``song_change`` whose number the server already heard is a late
or repeated report, not a choice: it is dropped here, so handlers only ever hear what the reader chose. After a
reconnect the page calls ``resync()`` (``ask_place``): the browser reports where it is, flagged ``resync``.

**A whole setlist in the browser** (``songs``): every song of the setlist in the reader's part
(``[{"title", "part_label", "pages", "item_id", "chart_id", "explanation"}]``, e.g. from
``soleil_ui.services.offline.OfflineSet.to_json()["songs"]``). Previous/next song then switch in the browser at
once, with or without a connection, and the server *hears* ``song_change`` afterwards (sent again on reconnect);
``set_chart`` still works and selects the matching song. Without ``songs``, previous/next song are
``song_request`` events for the server to answer; while the socket is down, a setlist the member made available
offline stands in (``components/static/offline.js``). Either way the reader's place (song and page) is kept in
localStorage, so a reload within half an hour, or the offline stand (``/offline``), opens right there; while the
socket is down a small "offline · last update 3 min ago" label shows, and NiceGUI's "Connection lost" box is hidden.

**The reader's own stand** (kept per device in localStorage, also on the offline stand, which runs this same
``stand.js``): the keys their Bluetooth pedal sends ("Pedal keys" learns a forward and a back key; the default keys
keep working; nothing typed into an input turns a page), and half-page turns ("Half": "next" first shows the next
page's top half over this page's bottom half, the next "next" completes the turn; one page at a time only, a song
always opens whole). **The song's reference recording** (``recording``, or each song's ``recording``): a headphones
button in the top bar opens a small player in a band of its own at the bottom; the pages lay out above it.

For the keyboard and screen readers: the keys pedals send turn pages as always; "t" (not a pedal key) shows and
hides the toolbar, and so does a "Stand controls" button, first in the tab order and drawn only while it has the focus.
The song is the page's (visually hidden) level-one heading and the document's title; a polite live region
(``data-testid="stand-announce"``) says "Now: Brass Tacks, your B♭ part" when the song changes (a leader's call or the
reader's own move), and "Offline: pages still turn" / "Back online".

**Crop.** A PDF page with a measured ink box (``crop`` in its page dict, ``soleil_ui.services.crops``) shows only
that region, filling the width: the slot is the region's size and clips; the image (and whatever else the slot holds,
the pencil's canvas) is laid out at the whole page's size, shifted, so page coordinates (0..1 of the whole page) land
on the same music cropped or not. The reader picks auto / off / manual margins per chart from the toolbar ("Crop");
the choice goes to the server (``crop_change``, kept per member and chart) and to localStorage (the offline stand).

Browser test hooks on the root element (``data-testid="stand"``): ``data-page`` (first visible page index),
``data-pages``, ``data-per-view`` (1 or 2), ``data-half`` (1 between two pages), ``data-pedal`` (``next|prev``
keys learnt, else empty), ``data-zoom``, ``data-ready`` (indices of decoded pages in the preload
cache) and ``data-wake-lock`` (pending/active/released/denied/unsupported).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from nicegui import ui
from nicegui.client import Client
from nicegui.events import GenericEventArguments, Handler, UiEventArguments, handle_event

from soleil_ui.crop import valid_box, valid_margins
from soleil_ui.stand_contract import StandPage, StandSong

STAND_CSS = Path(__file__).parent / "static" / "stand.css"
STAND_VIEWPORT = "width=device-width, initial-scale=1, viewport-fit=cover"
DEFAULT_PAGE_SIZE = (800, 1035)  # US Letter at 800 px wide, used when a page has no size

_styled_clients: weakref.WeakSet[Client] = weakref.WeakSet()


@dataclass(kw_only=True, slots=True)
class StandPageChangeEventArguments(UiEventArguments):
    page: int
    """Index of the first visible page."""
    pages: int


@dataclass(kw_only=True, slots=True)
class StandSongRequestEventArguments(UiEventArguments):
    direction: Literal["next", "prev"]


@dataclass(kw_only=True, slots=True)
class StandSongChangeEventArguments(UiEventArguments):
    index: int
    """Index into ``songs``."""
    item_id: int | None
    chart_id: int | None
    resync: bool = False
    """Told because the server asked after a reconnect (the choice was made while the page was cut off)."""


@dataclass(kw_only=True, slots=True)
class StandNightChangeEventArguments(UiEventArguments):
    night: bool


@dataclass(kw_only=True, slots=True)
class StandCropChangeEventArguments(UiEventArguments):
    chart_id: int
    mode: str
    """``auto``, ``off`` or ``manual``."""
    margins: list[float]
    """Manual margins ``[left, top, right, bottom]`` in fractions of the page ([] unless manual)."""


def normalize_pages(pages: Sequence[Mapping[str, Any]]) -> list[StandPage]:
    """Keep what the browser needs of each page: ``src``, optional ``srcset``, positive ``width``/``height``."""
    result: list[StandPage] = []
    for number, page in enumerate(pages):
        src = page.get("src")
        if not src:
            raise ValueError(f"page {number} has no src")
        width, height = page.get("width") or DEFAULT_PAGE_SIZE[0], page.get("height") or DEFAULT_PAGE_SIZE[1]
        if int(width) <= 0 or int(height) <= 0:
            raise ValueError(f"page {number} has a bad size {width}×{height}")
        item = StandPage(src=str(src), width=int(width), height=int(height))
        if page.get("srcset"):
            item["srcset"] = str(page["srcset"])
        if (crop := valid_box(page.get("crop"))) is not None:
            item["crop"] = list(crop)
        result.append(item)
    return result


def normalize_songs(songs: Sequence[Mapping[str, Any]]) -> list[StandSong]:
    """Keep what the browser needs of each song; a song with no chart gets no pages (the stand says why)."""
    result: list[StandSong] = []
    for song in songs:
        pages = song.get("pages") or []
        item = StandSong(title=str(song.get("title") or ""), part_label=str(song.get("part_label") or ""),
                         pages=normalize_pages(pages) if pages else [],
                         item_id=song.get("item_id"), chart_id=song.get("chart_id"),
                         explanation=str(song.get("explanation") or ""))
        if song.get("recording"):
            item["recording"] = str(song["recording"])
        result.append(item)
    return result


class Stand(ui.element, component="static/stand.js"):
    def __init__(
        self,
        *,
        title: str,
        part_label: str = "",
        pages: Sequence[StandPage],
        night: bool = False,
        start_page: int = 0,
        prev_title: str | None = None,
        next_title: str | None = None,
        songs: Sequence[StandSong] | None = None,
        song_index: int = 0,
        setlist_id: int | None = None,
        recording: str | None = None,
        crops: Mapping[int, Mapping[str, object]] | None = None,
        on_page_change: Handler[StandPageChangeEventArguments] | None = None,
        on_song_request: Handler[StandSongRequestEventArguments] | None = None,
        on_song_change: Handler[StandSongChangeEventArguments] | None = None,
        on_night_change: Handler[StandNightChangeEventArguments] | None = None,
        on_close: Handler[UiEventArguments] | None = None,
        on_crop_change: Handler[StandCropChangeEventArguments] | None = None,
    ) -> None:
        """A full-screen music stand showing one chart.

        :param title: song title (toolbar, aria-label "Chart: <title>", image alt texts)
        :param part_label: the musician's part, e.g. "Trumpet in B♭"
        :param pages: ``[{"src", "srcset" (optional), "width", "height"}]`` in reading order
        :param night: light notes on a dark background
        :param start_page: page index to open at (clamped)
        :param prev_title: title of the previous song in the setlist (shows a "previous song" button)
        :param next_title: title of the next song in the setlist (shows a "next song" button)
        :param songs: the whole setlist in the reader's part, for previous/next song in the browser (see above)
        :param song_index: which of ``songs`` is shown first (when ``pages`` isn't one of them)
        :param setlist_id: the setlist being read (its offline copy and the reader's place); else taken from the URL
        :param recording: the URL of the song's reference recording (``/media/audio/…``): a player on the stand
        :param on_page_change: the reader settled on another page (debounced in the browser)
        :param on_song_request: the reader asked for the previous/next song (no ``songs``, or a chart not in them)
        :param on_song_change: the reader moved to another of ``songs`` in the browser
        :param on_night_change: the reader toggled night mode
        :param crops: the reader's own crop per chart id, ``{"mode", "margins"}`` (absent: automatic)
        :param on_close: the reader pressed the back button
        :param on_crop_change: the reader chose another crop for a chart (auto, off, manual margins)
        """
        super().__init__()
        self._page_change_handlers: list[Handler[StandPageChangeEventArguments]] = []
        self._song_request_handlers: list[Handler[StandSongRequestEventArguments]] = []
        self._song_change_handlers: list[Handler[StandSongChangeEventArguments]] = []
        self._night_change_handlers: list[Handler[StandNightChangeEventArguments]] = []
        self._close_handlers: list[Handler[UiEventArguments]] = []
        self._crop_change_handlers: list[Handler[StandCropChangeEventArguments]] = []
        self._props["crops"] = {str(chart): dict(choice) for chart, choice in (crops or {}).items()}
        self._props["chart_key"] = 0
        self._props["night"] = bool(night)
        self._set_chart_props(title, part_label, pages, start_page, prev_title, next_title)
        self._props["songs"] = normalize_songs(songs) if songs else None
        self._props["song_index"] = max(0, int(song_index))
        self._props["setlist_id"] = setlist_id
        self._props["recording"] = recording or ""
        self._song_index: int | None = self._props["song_index"] if songs else None
        self._song_pages: list[StandPage] | None = None  # the selected song's pages (see ``_select_song``)
        self._choice = 0  # the reader's latest song move heard from the browser (see "Who moved the stand")
        self.page = self._props["start_page"]
        """Index of the first visible page, as last reported by the browser."""

        if self.client not in _styled_clients:
            _styled_clients.add(self.client)
            ui.add_css(STAND_CSS)

        self.on("page_change", self._handle_page_change)
        self.on("song_request", self._handle_song_request)
        self.on("song_change", self._handle_song_change)
        self.on("night_change", self._handle_night_change)
        self.on("close", self._handle_close)
        self.on("crop_change", self._handle_crop_change)
        if on_page_change:
            self.on_page_change(on_page_change)
        if on_song_request:
            self.on_song_request(on_song_request)
        if on_song_change:
            self.on_song_change(on_song_change)
        if on_night_change:
            self.on_night_change(on_night_change)
        if on_close:
            self.on_close(on_close)
        if on_crop_change:
            self.on_crop_change(on_crop_change)

    # --- what the server tells the stand -----------------------------------------------------------------------
    def set_chart(
        self,
        title: str,
        part_label: str,
        pages: Sequence[StandPage],
        start_page: int = 0,
        *,
        prev_title: str | None = None,
        next_title: str | None = None,
        recording: str | None = None,
    ) -> None:
        """Swap to another chart in place (zoom and preload cache reset, the stand stays mounted)."""
        self._song_pages = None
        with self._props.suspend_updates():
            self._set_chart_props(title, part_label, pages, start_page, prev_title, next_title)
            self._props["recording"] = recording or ""
            self._props["chart_key"] += 1
        self.page = self._props["start_page"]
        self.update()

    def show_song(self, index: int, start_page: int = 0) -> None:
        """Open ``songs[index]`` (the leader's call): the browser already has every song, so only the index is sent
        (one small message per follower, however long the setlist is)."""
        songs = self._props.get("songs") or []
        if not 0 <= index < len(songs):
            raise IndexError(f"no song {index} in a setlist of {len(songs)}")
        self._select_song(index, start_page)
        self.run_method("showSong", index, self.page, self._choice)

    def follow_song(self, index: int) -> None:
        """The browser moved itself to ``songs[index]`` on the leader's call (the live room's message,
        ``components.live_room``): remember it, send nothing."""
        songs = self._props.get("songs") or []
        if 0 <= index < len(songs):
            self._select_song(index)

    def hear_call(self, message: Mapping[str, Any] | None) -> None:
        """The live state for this browser alone, as a room message (it may have missed calls while cut off); the
        browser applies it by the follower's rule, or ignores it if it heard that call already."""
        if message is not None:
            self.run_method("heardCall", dict(message))

    def set_live(self, message: Mapping[str, Any] | None, following: bool, *, drives: bool = False) -> None:
        """Whether this stand follows the calls (and, ``drives``, makes them: its own page turns are the leader's),
        and the live state it starts from (set while the page is built, or when the reader chooses to follow)."""
        with self._props.suspend_updates():
            self._props["live"] = dict(message) if message is not None else None
            self._props["drives"] = drives
        self._props["following"] = following
        self.update()

    def ask_place(self) -> None:
        """After a reconnect: the browser tells where the reader is (``song_change`` with ``resync``, if it changed)."""
        self.run_method("resync")

    def _select_song(self, index: int, start_page: int = 0) -> None:
        """Remember, silently, which song of ``songs`` the browser shows: its title and neighbours in the props (so a
        later re-render agrees), its pages by reference (copying them into the observable props costs more than the
        whole message on a gig with hundreds of followers)."""
        songs = self._props["songs"]
        song = songs[index]
        self._song_pages = song["pages"]
        with self._props.suspend_updates():
            self._props["title"] = song["title"]
            self._props["part_label"] = song.get("part_label", "")
            self._props["prev_title"] = songs[index - 1]["title"] if index > 0 else None
            self._props["next_title"] = songs[index + 1]["title"] if index + 1 < len(songs) else None
            self._props["start_page"] = max(0, min(int(start_page), len(self._song_pages) - 1))
            self._props["song_index"] = index
        self._song_index, self.page = index, self._props["start_page"]

    def set_neighbours(self, prev_title: str | None, next_title: str | None) -> None:
        """Show (or hide, with ``None``) the previous/next song buttons."""
        with self._props.suspend_updates():
            self._props["prev_title"] = prev_title
            self._props["next_title"] = next_title
        self.update()

    def set_songs(self, songs: Sequence[StandSong] | None, song_index: int | None = None) -> None:
        """Replace the setlist the browser steps through (e.g. after a leader's edit); the chart shown stays."""
        with self._props.suspend_updates():
            self._props["songs"] = normalize_songs(songs) if songs else None
            if song_index is not None:
                self._props["song_index"] = max(0, int(song_index))
        listed = self._props["songs"] or []
        if song_index is not None and 0 <= song_index < len(listed) and self._song_pages is not None:
            self._song_pages = listed[song_index]["pages"]  # the same song, from the new list
        self.update()

    @property
    def song_index(self) -> int | None:
        """Which of ``songs`` the browser shows, as last reported (None: no songs, or a chart not among them)."""
        return self._song_index

    def set_night(self, on: bool) -> None:
        self._props["night"] = bool(on)
        self.update()

    @property
    def recording(self) -> str:
        """The recording the stand offers for the song shown (empty: no player button)."""
        if self._song_index is not None:
            songs = self._props.get("songs") or []
            if 0 <= self._song_index < len(songs):
                return str(songs[self._song_index].get("recording") or "")
        return str(self._props["recording"])

    @property
    def night(self) -> bool:
        return bool(self._props["night"])

    @property
    def pages(self) -> list[StandPage]:
        """The pages of the chart shown (a song of ``songs`` once one was selected)."""
        return list(self._song_pages if self._song_pages is not None else self._props["pages"])

    # --- what the stand tells the server -----------------------------------------------------------------------
    def on_page_change(self, handler: Handler[StandPageChangeEventArguments]) -> Stand:
        self._page_change_handlers.append(handler)
        return self

    def on_song_request(self, handler: Handler[StandSongRequestEventArguments]) -> Stand:
        self._song_request_handlers.append(handler)
        return self

    def on_song_change(self, handler: Handler[StandSongChangeEventArguments]) -> Stand:
        self._song_change_handlers.append(handler)
        return self

    def on_night_change(self, handler: Handler[StandNightChangeEventArguments]) -> Stand:
        self._night_change_handlers.append(handler)
        return self

    def on_close(self, handler: Handler[UiEventArguments]) -> Stand:
        self._close_handlers.append(handler)
        return self

    def on_crop_change(self, handler: Handler[StandCropChangeEventArguments]) -> Stand:
        self._crop_change_handlers.append(handler)
        return self

    def _set_chart_props(
        self,
        title: str,
        part_label: str,
        pages: Sequence[StandPage],
        start_page: int,
        prev_title: str | None,
        next_title: str | None,
    ) -> None:
        normalized = normalize_pages(pages)
        self._props["title"] = title
        self._props["part_label"] = part_label
        self._props["pages"] = normalized
        self._props["start_page"] = max(0, min(int(start_page), len(normalized) - 1))
        self._props["prev_title"] = prev_title
        self._props["next_title"] = next_title

    def _handle_page_change(self, e: GenericEventArguments) -> None:
        args = e.args if isinstance(e.args, dict) else {}
        try:
            page = int(args["page"])
        except (KeyError, TypeError, ValueError):
            return
        pages = len(self._song_pages if self._song_pages is not None else self._props["pages"])
        if not 0 <= page < max(pages, 1):
            return
        self.page = page
        # Silently (no update) so a later re-render opens at the same place without moving the reader now.
        with self._props.suspend_updates():
            self._props["start_page"] = page
        arguments = StandPageChangeEventArguments(sender=self, client=self.client, page=page, pages=pages)
        for handler in self._page_change_handlers:
            handle_event(handler, arguments)

    def _handle_song_request(self, e: GenericEventArguments) -> None:
        direction = e.args.get("direction") if isinstance(e.args, dict) else None
        if direction not in ("next", "prev"):
            return
        arguments = StandSongRequestEventArguments(sender=self, client=self.client, direction=direction)
        for handler in self._song_request_handlers:
            handle_event(handler, arguments)

    def _handle_song_change(self, e: GenericEventArguments) -> None:
        args = e.args if isinstance(e.args, dict) else {}
        songs = self._props.get("songs") or []
        index, choice = args.get("index"), args.get("choice")
        if type(index) is not int or not 0 <= index < len(songs):
            return
        if type(choice) is int:
            if choice <= self._choice:
                return  # late or repeated: the server knows this choice (and may have moved the stand since)
            self._choice = choice
        song = songs[index]
        self._select_song(index)  # the browser already shows it
        arguments = StandSongChangeEventArguments(sender=self, client=self.client, index=index,
                                                  item_id=song.get("item_id"), chart_id=song.get("chart_id"),
                                                  resync=args.get("resync") is True)
        for handler in self._song_change_handlers:
            handle_event(handler, arguments)

    def _handle_night_change(self, e: GenericEventArguments) -> None:
        night = bool(e.args.get("night")) if isinstance(e.args, dict) else False
        with self._props.suspend_updates():  # silently: the browser already shows it
            self._props["night"] = night
        arguments = StandNightChangeEventArguments(sender=self, client=self.client, night=night)
        for handler in self._night_change_handlers:
            handle_event(handler, arguments)

    def _handle_crop_change(self, e: GenericEventArguments) -> None:
        args = e.args if isinstance(e.args, dict) else {}
        chart, mode, margins = args.get("chart_id"), args.get("mode"), args.get("margins")
        if type(chart) is not int or mode not in ("auto", "off", "manual"):
            return
        kept = valid_margins(margins) if mode == "manual" else ()
        if kept is None:
            return
        with self._props.suspend_updates():  # silently: the browser already shows it
            self._props["crops"][str(chart)] = {"mode": mode, "margins": list(kept)}
        arguments = StandCropChangeEventArguments(sender=self, client=self.client, chart_id=chart, mode=mode,
                                                  margins=list(kept))
        for handler in self._crop_change_handlers:
            handle_event(handler, arguments)

    def _handle_close(self, _: GenericEventArguments) -> None:
        arguments = UiEventArguments(sender=self, client=self.client)
        for handler in self._close_handlers:
            handle_event(handler, arguments)
