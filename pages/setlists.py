"""Setlists: the band's lists; one list (leaders edit it live, members read it in their part); the stage print."""

from __future__ import annotations

import asyncio
import re

from fastapi import Request
from fastapi.responses import Response
from nicegui import APIRouter, background_tasks, ui

from components import pwa
from components.guard import SignedIn, leader_page, member_page
from components.layout import page_frame
from components.live import listen
from components.live_bar import LiveBanner, LiveConsole, LiveWatcher, track_presence
from components.params import MaybeQueryText
from components.session import throttle
from components.setlist_editor import SetlistView
from components.setlist_import import ImportView
from soleil_ui import stage_print
from soleil_ui.access import Actor
from soleil_ui.services import annotations, live, page_data, setlist_import, setlist_plan, setlists, work
from soleil_ui.services.setlist_view import load_snapshot
from soleil_ui.services.setlists import format_duration

router = APIRouter()


@router.page("/setlists")
@member_page
async def setlists_page(actor: Actor) -> None:
    first = await page_data.setlist_list(actor)
    lists, state = first.setlists, first.live
    with page_frame(actor, "Setlists", active="Setlists"):
        LiveBanner(actor, LiveWatcher(actor, state))
        if actor.is_leader:
            with ui.row().classes("gap-2"):
                ui.button("New setlist", icon="add", on_click=lambda: _new_setlist(actor)).props("unelevated") \
                    .mark("new-setlist")
                ui.button("Import", icon="upload_file", on_click=lambda: ui.navigate.to("/setlists/import")) \
                    .props("outline").mark("import-setlist")
        holder = ui.column().classes("w-full gap-0")

        def show(found: list[setlists.Setlist]) -> None:
            holder.clear()
            with holder:
                if not found:
                    ui.label("No setlists yet.").classes("text-grey-7")
                    return
                with ui.list().props("separator").classes("w-full bg-white rounded-borders"):
                    for setlist in found:
                        with ui.item(on_click=lambda s=setlist.id: ui.navigate.to(f"/setlists/{s}")) \
                                .props("clickable"):
                            with ui.item_section():
                                ui.item_label(setlist.name).classes("font-medium")
                                ui.item_label(f"Updated {setlist.updated_at:%d %b %Y}").props("caption")

        async def reload() -> None:
            show(await work.act(setlists.list_setlists, actor))

        show(lists)
        # A handful of rows that change only when a leader creates, renames or deletes a list: rebuilt on change.
        listen(actor.band_id, setlists.LIST_TOPIC, lambda _e: background_tasks.create(reload(), name="setlists"))
    return None


def _new_setlist(actor: Actor) -> None:
    with ui.dialog().props('aria-label="New setlist"') as dialog, ui.card().classes("w-full max-w-md"):
        name = ui.input("Name", placeholder="Friday at the Blue Room").props(
            "outlined autofocus maxlength=120").classes("w-full").mark("new-setlist-name")

        async def create() -> None:
            setlist = await work.act(setlists.create_setlist, actor, name.value)
            dialog.close()
            ui.navigate.to(f"/setlists/{setlist.id}")

        name.on("keydown.enter", create)
        with ui.row().classes("w-full justify-end"):
            ui.button("Cancel", on_click=dialog.close).props("flat")
            ui.button("Create", on_click=create).props("unelevated").mark("new-setlist-create")
    dialog.open()


@router.page("/setlists/import")
@leader_page
async def import_page(actor: Actor) -> None:
    """A setlist from a CSV or a Google Sheet, previewed and matched to the library before it is made."""
    songs = await work.act(setlist_import.song_choices, actor)
    with page_frame(actor, "Import a setlist", active="Setlists", back="/setlists"):
        ImportView(actor, songs)
    return None


@router.page("/setlists/{setlist_id:id}")
@member_page
async def setlist_page(actor: Actor, setlist_id: int) -> None:
    data = await page_data.setlist(actor, setlist_id)
    setlist, state = data.setlist, data.live
    snapshot = await load_snapshot(actor, setlist_id, setlist.version)
    with page_frame(actor, setlist.name, active="Setlists", back="/setlists"):
        watcher = LiveWatcher(actor, state)
        console: LiveConsole | None = None

        async def call(item_id: int) -> None:
            if console is not None:
                await console.move(item_id=item_id)

        if actor.is_leader:
            views: list[SetlistView] = []  # the console comes first on screen and reads titles before the view exists
            console = LiveConsole(actor, setlist_id, watcher, lambda: views[0].snapshot if views else snapshot)
            view = SetlistView(actor, snapshot, on_call=call)
            views.append(view)
            view.add_buttons()
        else:
            LiveBanner(actor, watcher)
            view = SetlistView(actor, snapshot)

        def live_changed(_old: live.LiveState | None, new: live.LiveState | None) -> None:
            view.mark_live(new.current_item_id if new is not None and new.setlist_id == setlist_id else None)

        watcher.on_change(live_changed)
        live_changed(None, state)
        track_presence(actor, lambda: False)
        with ui.card().classes("w-full").props("flat bordered"):  # for the gig: the set on this device, offline
            pwa.offline_button(setlist_id, setlist.name)
            pwa.prepare_button(actor, setlist_id, setlist.name)
            ui.button("Export as CSV", icon="download",
                      on_click=lambda: ui.download.from_url(f"/setlists/{setlist_id}/export.csv")) \
                .props("outline").mark("export-csv")
    return None


@router.get("/setlists/{setlist_id:id}/export.csv")
async def export_csv(request: Request, actor: SignedIn, setlist_id: int) -> Response:
    """The setlist as a CSV a spreadsheet opens safely (formulas typed into notes show as text)."""
    await throttle(request, "work", actor)
    name, text = await work.act(setlist_import.export_csv, actor, setlist_id)
    filename = re.sub(r"[^A-Za-z0-9 _-]+", "", name).strip() or "setlist"
    return Response(text.encode("utf-8-sig"), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{filename}.csv"', "Cache-Control": "private, no-store"})


@router.get("/setlists/{setlist_id:id}/print.pdf")
async def stage_print_pdf(request: Request, actor: SignedIn, setlist_id: int,
                          marks: MaybeQueryText = None) -> Response:
    """The stage print: big type, one page per set, for the band's members only; the leaders' song notes (the
    pencil's "cut to letter C") under each title, unless ``marks=0``."""
    await throttle(request, "work", actor)
    setlist, sets = await work.act(setlist_plan.print_sets, actor, setlist_id)
    song_ids = [song.song_id for part in sets for song in part.songs if song.song_id]
    notes = await work.act(annotations.song_notes, actor, song_ids) if marks not in ("0", "no", "false") else {}
    pages = [stage_print.PrintPage(part.label, [
        stage_print.PrintSong(song.number, song.label, song.musical_key, song.notes,
                              format_duration(song.duration_seconds), notes.get(song.song_id or 0, ()))
        for song in part.songs],
        format_duration(part.seconds) + ("+" if part.unknown and part.seconds else ""))
        for part in sets]
    pdf = await asyncio.to_thread(stage_print.render, setlist.name, pages)  # reportlab: off the event loop
    filename = re.sub(r"[^A-Za-z0-9 _-]+", "", setlist.name).strip() or "setlist"
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{filename}.pdf"', "Cache-Control": "private, no-store"})
