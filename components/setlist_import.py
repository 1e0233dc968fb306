"""Bringing a setlist in from a spreadsheet: paste or upload a CSV, or read a Google Sheet; map the columns; look at
what matched; choose the doubtful and unmatched titles; then create. Nothing is saved before "Create setlist".

The rules (size limits, which sheets a band may read, how titles match) are ``services.setlist_import``'s.
"""

from __future__ import annotations

from nicegui import events, ui

from soleil_ui import setlist_table
from soleil_ui.access import Actor
from soleil_ui.errors import InvalidInput, SoleilError
from soleil_ui.services import setlist_import, work
from soleil_ui.services.setlist_import import BREAK, DOUBTFUL, MATCHED, UNMATCHED, Preview, PreviewRow
from soleil_ui.services.setlists import format_duration
from soleil_ui.setlist_table import Table

from . import errors

SKIP = 0  # the "leave this row out" choice (song ids start at 1)
_STATUS = {MATCHED: ("check_circle", "positive", "In the library"),
           DOUBTFUL: ("help", "warning", "Which song is it?"),
           UNMATCHED: ("error", "negative", "Not found in the library"),
           BREAK: ("more_horiz", "grey-7", "Set break")}


class ImportView:
    """The import screen for one leader; holds what was read until it is created or read again."""

    def __init__(self, actor: Actor, songs: dict[int, str]) -> None:
        self.actor = actor
        self.songs = songs  # the band's songs, id → title, for choosing any of them
        self.table: Table | None = None
        self.preview: Preview | None = None
        self.choices: dict[int, int | None] = {}
        with ui.card().classes("w-full").props("flat bordered"):
            ui.label("From a spreadsheet").classes("text-subtitle1 font-medium")
            ui.label("The first row names the columns, e.g. Order, Song Title, Key, Duration, Notes. A row such as "
                     "“Set 2” or “Encore” starts a new set.").classes("text-sm text-grey-8")
            self.paste = ui.textarea("Paste CSV", placeholder="Song Title,Key,Duration\nBlue Harbor,Bb,3:45") \
                .props("outlined autogrow").classes("w-full").mark("import-paste")
            ui.button("Read pasted text", icon="content_paste_go", on_click=self.read_paste) \
                .props("unelevated").mark("import-read-paste")
            # Quasar's uploader box names neither its add button nor its file input (and nests one in the other):
            # it stays hidden and does the upload; a plain, named button opens its file chooser, in the browser,
            # within the tap (a chooser needs the tap's user activation)
            upload = ui.upload(auto_upload=True, on_upload=self.read_upload,
                               max_file_size=setlist_table.MAX_CSV_BYTES,
                               on_rejected=lambda: self.fail(InvalidInput(
                                   "That file is too big; the most SOLEil reads is "
                                   f"{setlist_table.MAX_CSV_BYTES // 1024} kB."))
                               ).props("accept=.csv,.tsv,.txt,text/csv").classes("hidden").mark("import-upload")
            ui.button("Or upload a CSV file", icon="upload_file").props("outline").on(
                "click", js_handler=f"() => getElement({upload.id}).$refs.qRef.pickFiles()").mark("import-upload-pick")
            self.link = ui.input("Or a Google Sheet link", placeholder="https://docs.google.com/spreadsheets/d/…") \
                .props("outlined").classes("w-full").mark("import-sheet-link")
            ui.button("Read the sheet", icon="table_view", on_click=self.read_sheet).props("unelevated") \
                .mark("import-read-sheet")
            ui.label("SOLEil reads a Google Sheet from the band's verified Drive folder, or through your own "
                     "Google connection.").classes("text-xs text-grey-7")
            self.problem = ui.label("").classes("text-negative text-sm").mark("import-problem")
            self.problem.set_visibility(False)
        self.result = ui.column().classes("w-full gap-2").mark("import-preview")

    # ---- reading ---------------------------------------------------------------------------------------------
    def fail(self, exc: SoleilError) -> None:
        errors.log_error(exc, "import")
        self.problem.text = exc.user_message
        self.problem.set_visibility(True)

    async def read_paste(self) -> None:
        try:
            await self.show(setlist_import.read_csv(self.actor, self.paste.value or ""))
        except SoleilError as exc:
            self.fail(exc)

    async def read_upload(self, event: events.UploadEventArguments) -> None:
        try:
            if event.file.size() > setlist_table.MAX_CSV_BYTES:
                setlist_table.read_csv(b"x" * (setlist_table.MAX_CSV_BYTES + 1))  # raises the one size message
            await self.show(setlist_import.read_csv(self.actor, await event.file.read()))
        except SoleilError as exc:
            self.fail(exc)

    async def read_sheet(self) -> None:
        try:
            table = await work.act(setlist_import.read_sheet, self.actor, self.link.value or "")
            await self.show(table)
        except SoleilError as exc:
            self.fail(exc)

    # ---- preview ---------------------------------------------------------------------------------------------
    async def show(self, table: Table, mapping: dict[str, int | None] | None = None) -> None:
        preview = await work.act(setlist_import.preview, self.actor, table, mapping)
        self.problem.set_visibility(False)
        self.table, self.preview = table, preview
        self.choices = {}
        self.result.clear()
        with self.result:
            self._mapping(table, preview)
            self._rows(preview)
            self.name = ui.input("Setlist name", value="Imported setlist").props("outlined maxlength=120") \
                .classes("w-full").mark("import-name")
            ui.button("Create setlist", icon="playlist_add_check", on_click=self.create).props("unelevated") \
                .classes("w-full").mark("import-create")

    def _mapping(self, table: Table, preview: Preview) -> None:
        columns = {-1: "—", **{i: h or f"Column {i + 1}" for i, h in enumerate(table.headers)}}
        with ui.card().classes("w-full").props("flat bordered"):
            ui.label("Columns").classes("text-subtitle1 font-medium")
            with ui.row().classes("w-full gap-2"):
                for field in setlist_table.FIELDS:
                    current = preview.mapping.get(field)
                    ui.select(columns, value=-1 if current is None else current,
                              label=setlist_table.FIELD_LABELS[field],
                              on_change=lambda e, f=field: self.remap(f, e.value)) \
                        .props("outlined").classes("min-w-[9rem] grow").mark(f"import-map-{field}")
            if preview.ignored:
                ui.label("Not imported: " + ", ".join(preview.ignored)).classes("text-sm text-grey-8") \
                    .mark("import-ignored")

    async def remap(self, field: str, column: int) -> None:
        if self.table is None or self.preview is None:
            return
        mapping = dict(self.preview.mapping)
        mapping[field] = None if column is None or column < 0 else column
        try:
            await self.show(self.table, mapping)
        except SoleilError as exc:
            self.fail(exc)

    def _rows(self, preview: Preview) -> None:
        counts = {s: sum(r.status == s for r in preview.rows) for s in (MATCHED, DOUBTFUL, UNMATCHED)}
        ui.label(f"{counts[MATCHED]} found · {counts[DOUBTFUL]} to check · {counts[UNMATCHED]} not found") \
            .classes("text-body2 font-medium").mark("import-counts")
        with ui.list().props("separator").classes("w-full bg-white rounded-borders"):
            for row in preview.rows:
                self._row(row)

    def _row(self, row: PreviewRow) -> None:
        icon, colour, text = _STATUS[row.status]
        with ui.item().classes("items-start").mark(f"import-row-{row.line}") \
                .props(f'data-status="{row.status}" data-line="{row.line}"'):
            with ui.item_section().props("avatar"):
                ui.icon(icon, color=colour).props(f'aria-label="{text}"')
            with ui.item_section():
                ui.item_label(row.title).classes("font-medium" if row.status != BREAK else "uppercase text-grey-8")
                details = [d for d in (row.key or "", format_duration(row.duration_seconds),
                                       row.notes) if d]
                if details:
                    ui.item_label(" · ".join(details)).props("caption")
                for problem in row.problems:
                    ui.item_label(problem).props("caption").classes("text-warning")
                if row.status in (DOUBTFUL, UNMATCHED):
                    ui.item_label(text).props("caption").classes(f"text-{colour}")
                    options = {c.song_id: c.title for c in row.candidates}
                    options |= {i: t for i, t in self.songs.items() if i not in options}
                    ui.select({SKIP: "Leave it out", **options}, label="Song", with_input=True,
                              on_change=lambda e, line=row.line: self.choose(line, e.value)) \
                        .props("outlined").classes("w-full").mark(f"import-choose-{row.line}")

    def choose(self, line: int, song_id: int | None) -> None:
        self.choices[line] = None if not song_id else int(song_id)

    async def create(self) -> None:
        if self.preview is None:
            return
        try:
            setlist = await work.act(setlist_import.create_from_preview, self.actor, self.name.value or "",
                                     self.preview.rows, self.choices)
        except SoleilError as exc:
            self.fail(exc)
            ui.notify(exc.user_message, type="warning")
            return
        ui.navigate.to(f"/setlists/{setlist.id}")
