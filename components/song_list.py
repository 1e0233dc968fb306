"""The song picker: search-as-you-type over the band's library, each row saying whether I have a part.

Rows are built for one page of results at a time (50), with "More" to page on: the list stays light at
10,000 songs. Typing updates the list after a short pause, not on every keystroke.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from soleil_ui.services.library import SongPage, SongRow

Search = Callable[[str, int], Awaitable[SongPage]]


class SongList:
    def __init__(self, search: Search, on_pick: Callable[[SongRow], None], *, placeholder: str = "Search songs",
                 initial: str = "") -> None:
        self._search, self._on_pick = search, on_pick
        self.text = initial
        self.input = ui.input(placeholder=placeholder, value=initial).props(
            'outlined clearable debounce=250 autocomplete=off aria-label="Search songs"').classes("w-full")
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

    async def _more(self) -> None:
        await self._load()

    async def _load(self) -> None:
        page = await self._search(self.text, self._offset)
        with self.rows:
            for row in page.rows:
                self._row(row)
        self._offset = page.offset + len(page.rows)
        shown = self._offset
        self.summary.text = (f"{page.total} songs" if shown >= page.total else f"{shown} of {page.total} songs") \
            if page.total else ("No songs match." if self.text else "No songs yet.")
        self.more.visible = shown < page.total

    def _row(self, row: SongRow) -> None:
        with ui.item(on_click=lambda r=row: self._on_pick(r)).props("clickable").classes("min-h-[56px]"):
            with ui.item_section():
                ui.item_label(row.title).classes("font-medium")
                ui.item_label(row.match.explanation).props("caption")
            with ui.item_section().props("side"):
                if row.playable:
                    ui.icon("music_note", color="primary").props('aria-label="Your part is here"')
                elif row.chart_id is not None:
                    ui.badge("other part", color="orange-9").props('aria-label="Not in your part"')
                else:
                    ui.badge("no part", color="grey-6").props('aria-label="No chart you can read"')
