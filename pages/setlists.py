"""Setlists: the band's lists, and one list read as a musician sees it (my part marked per song)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import APIRouter, ui

from components.layout import page_frame
from components.session import actor_or_none
from soleil_ui.db import db
from soleil_ui.services import library, setlists

router = APIRouter()


@router.page("/setlists")
async def setlists_page(request: Request) -> RedirectResponse | None:
    actor = await actor_or_none(request)
    if actor is None:
        return RedirectResponse("/login", status_code=303)
    async with db.session() as session:
        lists = await setlists.list_setlists(session, actor)
    with page_frame(actor, "Setlists", active="Setlists"):
        if not lists:
            ui.label("No setlists yet.").classes("text-grey-7")
        with ui.list().props("separator").classes("w-full bg-white rounded-borders"):
            for setlist in lists:
                with ui.item(on_click=lambda s=setlist.id: ui.navigate.to(f"/setlists/{s}")).props("clickable"):
                    with ui.item_section():
                        ui.item_label(setlist.name).classes("font-medium")
                        ui.item_label(f"Updated {setlist.updated_at:%d %b %Y}").props("caption")
    return None


@router.page("/setlists/{setlist_id}")
async def setlist_page(request: Request, setlist_id: int) -> RedirectResponse | None:
    actor = await actor_or_none(request)
    if actor is None:
        return RedirectResponse("/login", status_code=303)
    async with db.session() as session:
        setlist = await setlists.get_setlist(session, actor, setlist_id)
        entries = await setlists.entries(session, actor, setlist_id)
        song_ids = [e.song_id for e in entries if e.song_id]
        mine = {row.song_id: row for row in await library.rows_for_songs(session, actor, song_ids)}
    with page_frame(actor, setlist.name, active="Setlists", back="/setlists"):
        with ui.list().classes("w-full bg-white rounded-borders"):
            number = 0
            for entry in entries:
                if entry.is_break:
                    ui.item_label(entry.label).props("header").classes("text-primary font-medium")
                    continue
                number += 1
                row = mine.get(entry.song_id or 0)
                target = f"/stand/{row.chart_id}?setlist={setlist_id}" if row and row.chart_id else \
                    f"/songs/{entry.song_id}"
                with ui.item(on_click=lambda t=target: ui.navigate.to(t)).props("clickable"):
                    with ui.item_section().props("avatar"):
                        ui.label(str(number)).classes("text-grey-7")
                    with ui.item_section():
                        ui.item_label(entry.label).classes("font-medium")
                        caption = row.match.explanation if row else ""
                        if entry.notes:
                            caption = f"{entry.notes} · {caption}" if caption else entry.notes
                        ui.item_label(caption).props("caption")
                    with ui.item_section().props("side"):
                        if row and row.playable:
                            ui.icon("music_note", color="primary").props('aria-label="Your part is here"')
                        elif row and row.chart_id:
                            ui.badge("other part", color="orange-9")
                        else:
                            ui.badge("no part", color="grey-6")
    return None
