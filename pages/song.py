"""A song: my part first, the other parts, reference audio."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import APIRouter, ui

from components.layout import page_frame
from components.session import actor_or_none
from soleil_ui.db import db
from soleil_ui.parts import label_for_key
from soleil_ui.services import library

router = APIRouter()


@router.page("/songs/{song_id}")
async def song_page(request: Request, song_id: int) -> RedirectResponse | None:
    actor = await actor_or_none(request)
    if actor is None:
        return RedirectResponse("/login", status_code=303)
    async with db.session() as session:
        detail = await library.song_detail(session, actor, song_id)
    with page_frame(actor, detail.song.title, active="Library", back="/library"):
        ui.label(detail.match.explanation).classes("text-base")
        if detail.chart_id is not None:
            ui.button("Open my part", icon="menu_book", on_click=lambda: ui.navigate.to(
                f"/stand/{detail.chart_id}")).props("unelevated size=lg").classes("w-full")
        elif not detail.charts:
            ui.label("This song has no charts yet.").classes("text-grey-7")
        if detail.charts:
            ui.label("All parts").classes("text-sm uppercase text-grey-7 mt-2")
            with ui.list().props("separator").classes("w-full bg-white rounded-borders"):
                for chart in detail.charts:
                    label = label_for_key(chart.part_key, chart.file_name)
                    with ui.item(on_click=lambda c=chart.id: ui.navigate.to(f"/stand/{c}")).props("clickable"):
                        with ui.item_section():
                            ui.item_label(label)
                            ui.item_label(f"{chart.page_count} page{'s' if chart.page_count != 1 else ''}") \
                                .props("caption")
        if detail.audio:
            ui.label("Reference recordings").classes("text-sm uppercase text-grey-7 mt-2")
            for track in detail.audio:
                ui.label(track.file_name).classes("text-sm")
                ui.audio(f"/media/audio/{track.id}").props("preload=metadata").classes("w-full")
    return None
