"""The song picker: search-as-you-type over the band's library, each row saying whether I have a part.

Rows are built for one page of results at a time (50), with "More" to page on: the list stays light at
10,000 songs. Typing updates the list after a short pause, not on every keystroke.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from soleil_ui.services.library import SongPage, SongRow

Search = Callable[..., Awaitable[SongPage]]  # search(text, offset), plus part=… when filters are offered


class SongList:
    def __init__(self, search: Search, on_pick: Callable[[SongRow], None], *, placeholder: str = "Search songs",
                 initial: str = "", filters: dict[str, str] | None = None,
                 on_part: Callable[[SongRow], None] | None = None) -> None:
        """``on_part``: when given, tapping a row that has my part opens it (one tap to the stand); the row's info
        button then opens the song (``on_pick``). Rows without my part open the song either way."""
        self._search, self._on_pick, self._on_part = search, on_pick, on_part
        self.text, self.part = initial, ""
        with ui.row().classes("w-full gap-2 no-wrap items-center"):
            self.input = ui.input(placeholder=placeholder, value=initial).props(
                'outlined clearable debounce=250 autocomplete=off aria-label="Search songs"').classes("grow")
            if filters:
                self.filter = ui.select(filters, value="").props('outlined dense options-dense aria-label="Part"') \
                    .classes("w-36")
                self.filter.on_value_change(lambda e: self._set_part(e.value or ""))
        self.input.on_value_change(lambda e: self.refresh(e.value or ""))
        self.summary = ui.label().classes("text-sm text-grey-7")
        self.rows = ui.list().props("separator").classes("w-full bg-white rounded-borders")
        self.more = ui.button("More", on_click=self._more).props("flat").classes("w-full")
        self._offset = 0

    async def refresh(self, text: str | None = None) -> None:
        if text is not None:
            self.text = text
        self._offset = 0
        self.rows.clear()
        await self._load()

    async def _set_part(self, part: str) -> None:
        self.part = part
        await self.refresh()

    async def _more(self) -> None:
        await self._load()

    async def _load(self) -> None:
        page = await (self._search(self.text, self._offset, part=self.part) if self.part else
                      self._search(self.text, self._offset))
        with self.rows:
            for row in page.rows:
                self._row(row)
        self._offset = page.offset + len(page.rows)
        shown = self._offset
        self.summary.text = (f"{page.total} songs" if shown >= page.total else f"{shown} of {page.total} songs") \
            if page.total else ("No songs match." if self.text else "No songs yet.")
        self.more.visible = shown < page.total

    def _row(self, row: SongRow) -> None:
        if self._on_part is not None and row.playable:
            self._part_row(row, self._on_part)
            return
        with ui.item(on_click=lambda r=row: self._on_pick(r)).props(f'clickable data-song-id="{row.song_id}"') \
                .classes("min-h-[56px]").mark(f"song-row-{row.song_id}"):
            self._title(row)
            with ui.item_section().props("side"):
                if row.playable:
                    ui.icon("music_note", color="primary").props('aria-label="Your part is here"')
                elif row.chart_id is not None:
                    ui.badge("other part", color="other-part").props('aria-label="Not in your part"')
                else:
                    ui.badge("no part", color="grey-8").props('aria-label="No chart you can read"')

    def _part_row(self, row: SongRow, open_part: Callable[[SongRow], None]) -> None:
        """A row with my part: the row opens the part on the stand, its own button beside it the song page (two
        targets side by side, so a tap on one never reaches the other)."""
        with ui.item().props(f'data-song-id="{row.song_id}"').classes("min-h-[56px] p-0").mark(
                f"song-row-{row.song_id}"):
            # one list item holding two controls: the opener is a link-like div, not a nested item (a list item
            # inside a list item has no list for a screen reader)
            with ui.element("div").props(f'role=link tabindex=0 data-open-part="{row.song_id}"').classes(
                    "row no-wrap items-center grow min-h-[56px] cursor-pointer q-px-md").on(
                    "click", lambda r=row: open_part(r)).on(
                    "keydown.enter", lambda r=row: open_part(r)).mark(f"open-part-{row.song_id}"):
                # named by what it shows (title, part) and its icon ("Opens your part"): no label hiding the text
                self._title(row)
                with ui.item_section().props("side"):
                    ui.icon("music_note", color="primary").props('aria-label="Opens your part"')
            with ui.item_section().props("side").classes("pr-2"):
                info = ui.button(icon="info", on_click=lambda r=row: self._on_pick(r)).props(
                    "flat round color=secondary").mark(f"song-page-{row.song_id}")
                info.props["aria-label"] = f"Song page: {row.title}"

    @staticmethod
    def _title(row: SongRow) -> None:
        with ui.item_section():
            ui.item_label(row.title).classes("font-medium")
            ui.item_label(row.match.explanation).props("caption")
