"""The leader's list of library files: how each file was understood, which guesses are doubtful, and a dialog to
correct any file (title, part and chair, or "a full score" / "a lyrics sheet" / "a chord chart") or undo a correction.

Rendering only: ``services.library_files`` lists and judges, ``services.library`` corrects and undoes.
"""

from __future__ import annotations

from nicegui import ui

from soleil_ui.access import Actor
from soleil_ui.models import ChartStatus
from soleil_ui.parts import ALL_PARTS, MAX_CHAIR, PartRef, Role
from soleil_ui.services import library, library_files, work
from soleil_ui.services.library_files import FileRow

WHAT = {"part": "A part", "score": "A full score", "lyrics": "A lyrics sheet", "chords": "A chord chart"}
PARTS = {p.key(): p.label() for p in ALL_PARTS if p.role in (None, Role.OWN) and p.chair is None}  # unchaired
CHAIRS = {0: "No chair", **{n: f"Chair {n}" for n in range(1, MAX_CHAIR + 1)}}


def split_part(key: str | None) -> tuple[str, str | None, int]:
    """A stored part key as the dialog's three choices: (what it is, which part, chair)."""
    part = PartRef.try_from_key(key)
    if part is None:
        return "part", None, 0
    if part.role is not None and part.role is not Role.OWN:
        return str(part.role), None, 0
    if part.instrument is not None:
        return "part", PartRef(instrument=part.instrument).key(), part.chair or 0
    return "part", part.key(), 0


def join_part(what: str, part_key: str | None, chair: int) -> str:
    """The dialog's choices as a part key ("" when no part is chosen: the service says so)."""
    if what != "part":
        return what
    part = PartRef.try_from_key(part_key)
    if part is None:
        return ""
    return PartRef(instrument=part.instrument, chair=chair or None).key() if part.instrument else part.key()


class FilesView:
    """Search, a filter, one page of files at a time ("Show more" for the next)."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self.limit = library_files.PAGE_SIZE

    async def build(self) -> None:
        ui.label("Files").classes("text-sm uppercase text-grey-7 mt-2")
        with ui.row().classes("w-full gap-2 no-wrap"):
            self.search = ui.input("Find a file", on_change=self._filter).props(
                "outlined dense clearable debounce=300 maxlength=200").classes("grow").mark("file-search")
            self.filter = ui.select(library_files.SHOW, value="all", on_change=self._filter) \
                .props("outlined dense").classes("w-44").mark("file-filter")
        self.box = ui.column().classes("w-full gap-2")
        await self.show()

    async def _filter(self) -> None:
        self.limit = library_files.PAGE_SIZE
        await self.show()

    async def show(self) -> None:
        page = await work.act(library_files.library_files, self.actor, text=self.search.value or "",
                              show=self.filter.value or "all", limit=self.limit)
        self.box.clear()
        with self.box:
            ui.label(f"{page.total} files").classes("text-sm text-grey-7").mark("file-count")
            if not page.rows and self.filter.value == "check":
                ui.label("Every file in the library is understood and readable.").classes("text-positive")
            for row in page.rows:
                self._row(row)
            if len(page.rows) < page.total:
                ui.button("Show more", on_click=self._more).props("flat no-caps").mark("more-files")

    async def _more(self) -> None:
        self.limit += library_files.PAGE_SIZE
        await self.show()

    def _row(self, row: FileRow) -> None:
        chart = row.chart
        with ui.card().classes("w-full").props("flat bordered").mark(f"file-{row.chart_id}"):
            with ui.row().classes("w-full items-start no-wrap gap-2"):
                ui.label(chart.file_name).classes("font-medium break-all grow")
                if row.corrected:
                    ui.badge("Corrected", color="secondary").mark(f"corrected-{row.chart_id}")
            if chart.folder:
                ui.label(f"in {chart.folder}").classes("text-xs text-grey-7 break-all")
            if chart.status == ChartStatus.BROKEN:
                ui.label(f"Can't be read: {chart.problem or ''}").classes("text-sm text-negative")
                return
            if chart.status == ChartStatus.UNSORTED:
                ui.label(f"Unsorted: {chart.problem or ''}").classes("text-sm text-grey-8")
            else:
                ui.label(f"{row.title} · {row.part_label} · {row.what}").classes("text-sm") \
                    .mark(f"filed-{row.chart_id}")
            if row.corrected:
                ui.label(f"The file name says: {row.understood}").classes("text-xs text-grey-7")
            if row.doubt and chart.status == ChartStatus.OK:
                with ui.row().classes("items-center gap-1 no-wrap"):
                    ui.icon("help_outline", color="warning").props('aria-label="Doubtful guess"')
                    ui.label(row.doubt).classes("text-sm text-warning").mark(f"doubt-{row.chart_id}")
            with ui.row().classes("gap-1"):
                ui.button("Correct…", icon="edit", on_click=lambda r=row: self._correct(r)) \
                    .props("flat dense no-caps").mark(f"correct-{row.chart_id}")
                if row.corrected:
                    ui.button("Undo correction", icon="undo", on_click=lambda r=row: self._undo(r)) \
                        .props("flat dense no-caps").mark(f"undo-{row.chart_id}")

    async def _undo(self, row: FileRow) -> None:
        await work.act(library.undo_correction, self.actor, row.chart_id)
        ui.notify("Back to what the file name says.", type="positive")
        await self.show()

    def _correct(self, row: FileRow) -> None:
        """The correction dialog; Save corrects and closes it (an error leaves it open with the message)."""
        what, part, chair = split_part(row.chart.part_key if row.chart.status == ChartStatus.OK else None)
        title_text = row.title or library.parsed_name(row.chart).title
        with ui.dialog().props('aria-label="Correct a file"') as dialog, ui.card().classes("w-full max-w-md"):
            ui.label(f"What is “{row.chart.file_name}”?").classes("break-all")
            title = ui.input("Song title", value=title_text).props("outlined maxlength=300").classes("w-full") \
                .mark("correct-title")
            kind = ui.select(WHAT, value=what, label="It is").props("outlined").classes("w-full").mark("correct-what")
            with ui.row().classes("w-full no-wrap gap-2") as part_row:
                which = ui.select(PARTS, value=part, label="Part", with_input=True).props("outlined") \
                    .classes("grow").mark("correct-part")
                seat = ui.select(CHAIRS, value=chair, label="Chair").props("outlined").classes("w-28") \
                    .mark("correct-chair")
            part_row.bind_visibility_from(kind, "value", backward=lambda v: v == "part")
            seat.bind_visibility_from(which, "value", backward=lambda v: str(v or "").startswith("instrument:"))

            async def save() -> None:
                await work.act(library.assign_chart, self.actor, row.chart_id, song_title=title.value or "",
                               part_key=join_part(kind.value, which.value, int(seat.value or 0)))
                dialog.close()
                ui.notify("Corrected. It stays so through later syncs; undo it any time.", type="positive")
                await self.show()

            with ui.row().classes("justify-end w-full"):
                ui.button("Cancel", on_click=dialog.close).props("flat")
                ui.button("Save", on_click=save).props("unelevated").mark("correct-save")
        dialog.open()
