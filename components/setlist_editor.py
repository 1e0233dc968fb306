"""A setlist on screen: read-only for members (each song marked with whether my part exists), editable for leaders.

Live edits are pushed, never rebuilt: every row is built once and then *changed in place* (its texts, badge and
position) when the setlist's version moves on, so an edit reaches 200 open pages without re-rendering any of them,
a reader's scroll position stays where it was, and an open dialog stays open. A page hears ``setlist:{id}`` on the
hub, then fetches the new state through ``setlist_view.load_snapshot`` — one query per instance, version and
instrument profile, shared by every page waiting for it — and applies it.

Leaders edit with operations (``services.setlists.Op``): drag a row by its handle (SortableJS, bundled with NiceGUI,
works with a finger), the up/down buttons, a row's menu (key, note, duration, remove), "Add songs" (the library's
song picker) and "Add break"; "Undo" reverses the latest change, whoever made it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from nicegui import background_tasks, ui
from nicegui.events import SortableEventArguments

from soleil_ui.access import Actor
from soleil_ui.events import Event
from soleil_ui.services import library, setlists, work
from soleil_ui.services.library import SongPage, SongRow
from soleil_ui.services.setlist_view import Snapshot, load_snapshot
from soleil_ui.services.setlists import Op, SetlistEntry, SetSummary, format_duration, parse_duration

from .live import listen
from .song_list import SongList


def caption_for(entry: SetlistEntry, mark: SongRow | None, *, leader: bool) -> str:
    parts = [entry.musical_key or "", format_duration(entry.duration_seconds), entry.notes]
    if not leader:
        parts.append(mark.match.explanation if mark else "No chart for this song yet.")
    return " · ".join(p for p in parts if p)


def set_caption(summary: SetSummary | None) -> str:
    if summary is None or not summary.songs:
        return "No songs yet"
    text = f"{summary.songs} song{'s' if summary.songs != 1 else ''} · {format_duration(summary.seconds) or '0:00'}"
    return text + (f" (+{summary.unknown} untimed)" if summary.unknown else "")


class _Row:
    """One entry's row; built once, then updated in place."""

    def __init__(self, view: SetlistView, entry: SetlistEntry) -> None:
        self.view, self.item_id, self.is_break = view, entry.item_id, entry.is_break
        self.entry = entry
        leader = view.actor.is_leader
        self.element = ui.row().classes("sl-row w-full items-center no-wrap gap-1 px-2 py-1 bg-white "
                                        "rounded-borders min-h-[52px]").props(f'data-item-id="{entry.item_id}"')
        self.element.mark(f"row-{entry.item_id}")
        with self.element:
            if leader:
                # focusable too: on the keyboard, the arrow keys move the row as the up/down buttons do
                with ui.element("span").classes("sl-drag cursor-grab inline-flex items-center justify-center "
                                                "rounded-borders min-w-[44px] min-h-[44px]").props(
                        'role=button tabindex=0 aria-label="Drag to reorder" aria-keyshortcuts="ArrowUp ArrowDown" '
                        'data-testid=drag-handle') \
                        .on("keydown.up.prevent", lambda: view.key_step(self, -1)) \
                        .on("keydown.down.prevent", lambda: view.key_step(self, 1)):
                    ui.icon("drag_indicator", size="22px").classes("text-grey-7")
            if entry.is_break:
                self.number = None
                with ui.column().classes("gap-0 grow min-w-0"):
                    self.title = ui.label(entry.label).classes("text-primary font-semibold uppercase text-sm")
                    self.caption = ui.label().classes("text-xs text-grey-7")
                self.badge = None
            else:
                self.number = ui.label().classes("w-6 text-right text-grey-7 text-sm shrink-0")
                # the way a reader opens the song: a link by role, reached by Tab, opened with Enter or Space
                with ui.column().classes("gap-0 grow min-w-0 cursor-pointer rounded-borders") \
                        .props("role=link tabindex=0 data-testid=open-song").on("click", self._open) \
                        .on("keydown.enter.prevent", self._open).on("keydown.space.prevent", self._open) \
                        .mark(f"open-{entry.item_id}"):
                    self.title = ui.label(entry.label).classes("font-medium truncate w-full")
                    self.caption = ui.label().classes("text-xs text-grey-7 w-full")
                self.badge = ui.badge("", color="grey-8").classes("shrink-0").props("rounded")
                if leader:
                    self.badge.set_visibility(False)
            if leader:
                ui.button(icon="arrow_upward", on_click=lambda: view.step(self, -1)).props(
                    'flat round dense size=sm aria-label="Move up"').mark(f"up-{entry.item_id}")
                ui.button(icon="arrow_downward", on_click=lambda: view.step(self, 1)).props(
                    'flat round dense size=sm aria-label="Move down"').mark(f"down-{entry.item_id}")
                with ui.button(icon="more_vert").props('flat round dense size=sm aria-label="More"'):
                    with ui.menu():
                        if entry.is_break:
                            ui.menu_item("Rename", on_click=lambda: view.edit_break(self))
                            ui.menu_item("Add songs to this set", on_click=lambda: view.pick_songs(self))
                        else:
                            ui.menu_item("Key, note, duration", on_click=lambda: view.edit_song(self)) \
                                .mark(f"edit-{entry.item_id}")
                            self.call = ui.menu_item("Call this song live", on_click=lambda: view.call(self))
                        ui.menu_item("Remove", on_click=lambda: view.remove(self)).mark(f"remove-{entry.item_id}")

    def update(self, entry: SetlistEntry, mark: SongRow | None, summary: SetSummary | None) -> None:
        self.entry = entry
        leader = self.view.actor.is_leader
        _set(self.title, entry.label)
        if self.is_break:
            _set(self.caption, set_caption(summary))
            return
        assert self.number is not None and self.badge is not None
        _set(self.number, str(entry.number))
        _set(self.caption, caption_for(entry, mark, leader=leader))
        if not leader:
            text, color = ("your part", "primary") if mark and mark.playable else (
                ("other part", "other-part") if mark and mark.chart_id else ("no part", "grey-8"))
            if self.badge.text != text:
                self.badge.set_text(text)
                self.badge.props(f"color={color}")

    def _open(self) -> None:
        mark = self.view.snapshot.marks.get(self.entry.song_id or 0)
        if mark and mark.chart_id:
            ui.navigate.to(f"/stand/{mark.chart_id}?setlist={self.view.setlist_id}")
        elif self.entry.song_id:
            ui.navigate.to(f"/songs/{self.entry.song_id}")


def _set(label: ui.label, text: str) -> None:
    if label.text != text:
        label.set_text(text)


class SetlistView:
    """The whole setlist screen body below the page frame. ``snapshot``: the state it was built from."""

    def __init__(self, actor: Actor, snapshot: Snapshot, *, on_call: Callable[[int], Awaitable[None]] | None = None
                 ) -> None:
        self.actor, self.snapshot, self.setlist_id = actor, snapshot, snapshot.setlist_id
        self.on_call = on_call
        self.rows: dict[int, _Row] = {}
        self._refreshing = False
        self._again = False
        self._wanted = snapshot.version
        self.live_item: int | None = None
        with ui.row().classes("w-full items-center gap-2"):
            with ui.column().classes("gap-0 grow min-w-0"):
                self.name = ui.label(snapshot.name).classes("text-xl font-medium").mark("setlist-name")
                self.summary = ui.label().classes("text-sm text-grey-7").mark("setlist-summary")
            if actor.is_leader:
                self._leader_tools()
        self.gone = ui.label("This setlist was deleted.").classes("text-negative")
        self.gone.set_visibility(False)
        self.empty = ui.label("No songs yet." + (" Add some from the library." if actor.is_leader else "")) \
            .classes("text-grey-7")
        self.list = ui.column().classes("w-full gap-1").mark("setlist-rows")
        if actor.is_leader:
            self.list.make_sortable(handle=".sl-drag", on_end=self._dropped, animation=0.15,
                                    options={"forceFallback": True, "fallbackTolerance": 3, "delay": 0})
        with self.list:
            for entry in snapshot.entries:
                self.rows[entry.item_id] = _Row(self, entry)
        self._apply(snapshot)
        listen(actor.band_id, setlists.topic(self.setlist_id), self._heard)

    # --- staying current ---------------------------------------------------------------------------------------
    def _heard(self, event: Event) -> None:
        if event.payload.get("deleted"):
            self.gone.set_visibility(True)
            self.list.set_visibility(False)
            return
        self.want(int(event.payload.get("version", self.snapshot.version + 1)), force=bool(event.payload.get("resync")))

    def want(self, version: int, *, force: bool = False) -> None:
        """Catch up to ``version`` (at once if nothing is loading, else right after the load in progress)."""
        self._wanted = max(self._wanted, version)
        if force:
            self._wanted = max(self._wanted, self.snapshot.version)
        if self._refreshing:
            self._again = True
            return
        if self._wanted > self.snapshot.version or force:
            self._refreshing = True
            background_tasks.create(self._refresh(force), name=f"refresh setlist {self.setlist_id}")

    async def _refresh(self, force: bool) -> None:
        try:
            while True:
                self._again = False
                snapshot = await load_snapshot(self.actor, self.setlist_id, self._wanted, force=force)
                force = False
                if self.list.is_deleted:
                    return
                if snapshot.version >= self.snapshot.version:
                    self._apply(snapshot)
                if not self._again and self.snapshot.version >= self._wanted:
                    return
        except Exception:  # the setlist vanished or the database hiccuped: the next event tries again
            return
        finally:
            self._refreshing = False

    def _apply(self, snapshot: Snapshot) -> None:
        """Bring the rows to ``snapshot`` in place: update texts, add and remove rows, move rows that moved."""
        self.snapshot = snapshot
        _set(self.name, snapshot.name)
        songs = [e for e in snapshot.entries if not e.is_break]
        total = sum(e.duration_seconds or 0 for e in songs)
        untimed = sum(1 for e in songs if e.duration_seconds is None)
        _set(self.summary, f"{len(songs)} song{'s' if len(songs) != 1 else ''}"
             + (f" · {format_duration(total)}" if total else "") + (f" · {untimed} untimed" if untimed and total
                                                                     else ""))
        present = {e.item_id for e in snapshot.entries}
        for item_id in [i for i in self.rows if i not in present]:
            self.rows.pop(item_id).element.delete()
        summaries = {s.break_item_id: s for s in snapshot.sets}
        for index, entry in enumerate(snapshot.entries):
            row = self.rows.get(entry.item_id)
            if row is None:
                with self.list:
                    row = self.rows[entry.item_id] = _Row(self, entry)
            children = self.list.default_slot.children
            if index >= len(children) or children[index] is not row.element:
                row.element.move(self.list, target_index=index)
            row.update(entry, snapshot.marks.get(entry.song_id or 0),
                       summaries.get(entry.item_id) if entry.is_break else None)
        self.empty.set_visibility(not snapshot.entries)
        self.mark_live(self.live_item)

    def mark_live(self, item_id: int | None) -> None:
        """Highlight the song being played (live mode) for everyone."""
        if self.live_item in self.rows and self.live_item != item_id:
            self.rows[self.live_item].element.classes(remove="sl-live bg-amber-2")
        self.live_item = item_id
        if item_id in self.rows:
            self.rows[item_id].element.classes(add="sl-live bg-amber-2")

    # --- leader's edits ----------------------------------------------------------------------------------------
    async def apply(self, op: Op, done: str | None = None) -> setlists.OpResult:
        result = await work.act(setlists.apply_op, self.actor, self.setlist_id, op)
        if not result.effective and op.kind in ("move", "remove", "edit"):
            self._say("That entry changed meanwhile; the list is up to date now.")
        elif done:
            self._say(done)
        self.want(result.version)
        return result

    def _say(self, text: str) -> None:
        """A confirmation in the tab that made the change, also from a task that runs outside any slot (a pick in
        the song picker): said from the view's own element, so it reaches this tab's client; dropped only once
        the tab has closed (its elements are then deleted)."""
        if self.list.is_deleted:
            return
        with self.list:
            ui.notify(text, position="top")

    def _order(self) -> list[int]:
        return [e.item_id for e in self.snapshot.entries]

    async def step(self, row: _Row, delta: int) -> None:
        order = self._order()
        if row.item_id not in order:
            return
        here = order.index(row.item_id)
        target = max(0, min(len(order) - 1, here + delta))
        if target == here:
            return
        rest = [i for i in order if i != row.item_id]
        after = rest[target - 1] if target > 0 else None
        await self.apply(Op.move(row.item_id, after_id=after, index=target, key=_key()))

    async def key_step(self, row: _Row, delta: int) -> None:
        """A move by arrow key on the row's handle; the handle keeps the focus where the row went."""
        await self.step(row, delta)
        ui.run_javascript(f"document.querySelector('[data-item-id=\"{row.item_id}\"] [data-testid=drag-handle]')"
                          "?.focus()")

    async def _dropped(self, e: SortableEventArguments) -> None:
        """A drag ended: the row is already where the finger left it; tell the server as "after the row above"."""
        rows = {r.element.id: r for r in self.rows.values()}
        moved = rows.get(e.item.id)
        if moved is None or e.old_index == e.new_index:
            return
        above = self.list.default_slot.children[e.new_index - 1] if e.new_index > 0 else None
        after = rows[above.id].item_id if above is not None and above.id in rows else None
        await self.apply(Op.move(moved.item_id, after_id=after, index=e.new_index, key=_key()))

    async def remove(self, row: _Row) -> None:
        await self.apply(Op.remove(row.item_id, key=_key()), f"Removed {row.entry.label}. Undo brings it back.")

    async def undo(self) -> None:
        result = await work.act(setlists.undo, self.actor, self.setlist_id, key=_key())
        if result is None:
            ui.notify("Nothing left to undo.", position="top")
            return
        ui.notify("Undone.", position="top")
        self.want(result.version)

    async def add_break(self) -> None:
        sets = sum(1 for e in self.snapshot.entries if e.is_break)
        await self.apply(Op.insert_break(f"Set {sets + 1}" if sets else "Set 1", key=_key()))

    def edit_song(self, row: _Row) -> None:
        entry = row.entry
        with ui.dialog().props('aria-label="Key, note, duration"') as dialog, ui.card().classes("w-full max-w-md"):
            ui.label(entry.label).classes("text-lg font-medium")
            key = ui.input("Key the band plays it in", value=entry.musical_key or "",
                           placeholder="e.g. B♭ or F#m").props("outlined dense").classes("w-full").mark("edit-key")
            duration = ui.input("Duration", value=format_duration(entry.typed_duration),
                                placeholder=format_duration(entry.duration_seconds) or "3:45").props(
                "outlined dense").classes("w-full").mark("edit-duration")
            notes = ui.textarea("Note (tempo, solos, segue…)", value=entry.notes).props(
                "outlined dense autogrow maxlength=500").classes("w-full").mark("edit-notes")

            async def save() -> None:
                changes = {"musical_key": key.value, "duration_seconds": parse_duration(duration.value),
                           "notes": notes.value}
                await self.apply(Op.edit(row.item_id, key=_key(), **changes))
                dialog.close()

            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat")
                ui.button("Save", on_click=save).props("unelevated").mark("edit-save")
        dialog.open()

    def edit_break(self, row: _Row) -> None:
        with ui.dialog().props('aria-label="Rename set"') as dialog, ui.card().classes("w-full max-w-md"):
            label = ui.input("Set name", value=row.entry.label).props("outlined dense maxlength=120") \
                .classes("w-full")

            async def save() -> None:
                await self.apply(Op.edit(row.item_id, label=label.value, key=_key()))
                dialog.close()

            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat")
                ui.button("Save", on_click=save).props("unelevated")
        dialog.open()

    def rename(self) -> None:
        with ui.dialog().props('aria-label="Rename setlist"') as dialog, ui.card().classes("w-full max-w-md"):
            name = ui.input("Setlist name", value=self.snapshot.name).props("outlined dense maxlength=120") \
                .classes("w-full").mark("rename-input")

            async def save() -> None:
                await self.apply(Op.rename(name.value, key=_key()))
                dialog.close()

            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat")
                ui.button("Save", on_click=save).props("unelevated").mark("rename-save")
        dialog.open()

    def pick_songs(self, at: _Row | None = None) -> None:
        """The library's song picker; each tap adds the song (at the end, or at the end of ``at``'s set)."""
        state: dict[str, int | None] = {"after": None}
        if at is not None:
            order = self.snapshot.entries
            start = next(i for i, e in enumerate(order) if e.item_id == at.item_id)
            end = next((i for i in range(start + 1, len(order)) if order[i].is_break), len(order))
            state["after"] = order[end - 1].item_id

        async def search(text: str, offset: int) -> SongPage:
            return await work.act(library.search_songs, self.actor, text, offset=offset)

        async def picked(song: SongRow) -> None:
            after = state["after"]
            op = Op.insert_song(song.song_id, after_id=after, index=None if after is None else 0, key=_key())
            result = await self.apply(op, f"Added {song.title}")
            if after is not None:
                state["after"] = result.item_id  # the next pick lands after this one

        with ui.dialog().props('aria-label="Add songs"') as dialog, ui.card().classes("w-full max-w-lg h-[80vh]"):
            with ui.row().classes("w-full items-center"):
                ui.label("Add songs" if at is None else f"Add songs to {at.entry.label}").classes(
                    "text-lg font-medium grow")
                ui.button(icon="close", on_click=dialog.close).props('flat round aria-label="Done"')
            with ui.scroll_area().classes("w-full grow"):
                # the pick's coroutine goes back to NiceGUI, which awaits it in the tapped item's slot: a failure
                # then becomes a message in this tab like any handler's
                picker = SongList(search, picked, placeholder="Search the library")  # type: ignore[arg-type]
        dialog.open()
        background_tasks.create(picker.refresh(), name="load song picker")

    async def call(self, row: _Row) -> None:
        if self.on_call is not None:
            await self.on_call(row.item_id)

    async def show_history(self) -> None:
        recent = await work.act(setlists.history, self.actor, self.setlist_id, limit=30)
        with ui.dialog().props('aria-label="Changes"') as dialog, ui.card().classes("w-full max-w-lg"):
            ui.label("Changes").classes("text-lg font-medium")
            if not recent:
                ui.label("No changes yet.").classes("text-grey-7")
            with ui.list().props("dense separator").classes("w-full"):
                for change in recent:
                    with ui.item():
                        with ui.item_section():
                            ui.item_label(change.summary).classes("line-through" if change.undone else "")
                            ui.item_label(f"{change.who} · {change.at:%d %b %H:%M}").props("caption")
            with ui.row().classes("w-full justify-end"):
                ui.button("Undo the last change", icon="undo", on_click=self.undo).props("flat")
                ui.button("Close", on_click=dialog.close).props("unelevated")
        dialog.open()

    async def duplicate(self) -> None:
        copy = await work.act(setlists.duplicate_setlist, self.actor, self.setlist_id)
        ui.navigate.to(f"/setlists/{copy.id}")

    def confirm_delete(self) -> None:
        with ui.dialog().props('aria-label="Delete setlist"') as dialog, ui.card():
            ui.label(f"Delete {self.snapshot.name}?").classes("text-lg font-medium")
            ui.label("Its songs stay in the library. Gigs playing it keep their date.").classes("text-grey-8")

            async def delete() -> None:
                await work.act(setlists.delete_setlist, self.actor, self.setlist_id)
                dialog.close()
                ui.navigate.to("/setlists")

            with ui.row().classes("w-full justify-end"):
                ui.button("Keep it", on_click=dialog.close).props("flat")
                ui.button("Delete", on_click=delete).props("unelevated color=negative").mark("delete-confirm")
        dialog.open()

    def _leader_tools(self) -> None:
        ui.button(icon="undo", on_click=self.undo).props('flat round aria-label="Undo the last change"') \
            .mark("undo").tooltip("Undo the last change")
        with ui.button(icon="more_vert").props('flat round aria-label="Setlist actions"'):
            with ui.menu():
                ui.menu_item("Rename", on_click=self.rename).mark("rename")
                ui.menu_item("Duplicate", on_click=self.duplicate).mark("duplicate")
                ui.menu_item("Changes", on_click=self.show_history).mark("history")
                ui.menu_item("Stage print (PDF)", on_click=lambda: ui.navigate.to(
                    f"/setlists/{self.setlist_id}/print.pdf", new_tab=True))
                ui.menu_item("Stage print without song notes", on_click=lambda: ui.navigate.to(
                    f"/setlists/{self.setlist_id}/print.pdf?marks=0", new_tab=True)).mark("print-no-marks")
                ui.menu_item("Delete", on_click=self.confirm_delete).mark("delete")

    def add_buttons(self) -> None:
        """The leader's "Add songs" and "Add break" (placed by the page, under the list)."""
        with ui.row().classes("w-full gap-2"):
            ui.button("Add songs", icon="playlist_add", on_click=lambda: self.pick_songs()).props(
                "unelevated").classes("grow").mark("add-songs")
            ui.button("Add break", icon="horizontal_rule", on_click=self.add_break).props("outline") \
                .mark("add-break")


def _key() -> str:
    """An id for one tap, so a retried request is applied once."""
    return uuid.uuid4().hex
