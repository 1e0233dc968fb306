"""The stand: one chart full screen. Opened from the library, a song, or a setlist (then it can step songs)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import APIRouter, app, ui

from components.layout import theme
from components.session import actor_or_none
from components.stand import STAND_VIEWPORT, Stand
from pages.media import page_url
from soleil_ui.db import db
from soleil_ui.models import Chart
from soleil_ui.parts import label_for_key
from soleil_ui.rendering import WIDTHS
from soleil_ui.services import library, setlists

router = APIRouter()
BASE_WIDTH = 800


def stand_pages(chart: Chart) -> list[dict[str, object]]:
    """Image sources for each page, with every standard width in ``srcset`` so the phone picks its size."""
    assert chart.id is not None
    pages = []
    for index in range(chart.page_count):
        width_pt, height_pt = (chart.page_sizes[index] if index < len(chart.page_sizes) else (612.0, 792.0))
        srcset = ", ".join(f"{page_url(chart.id, chart.checksum, index, w)} {w}w" for w in WIDTHS)
        pages.append({"src": page_url(chart.id, chart.checksum, index, BASE_WIDTH), "srcset": srcset,
                      "width": BASE_WIDTH, "height": round(BASE_WIDTH * height_pt / max(width_pt, 1))})
    return pages


@router.page("/stand/{chart_id}", viewport=STAND_VIEWPORT)
async def stand_page(request: Request, chart_id: int, setlist: int | None = None) -> RedirectResponse | None:
    actor = await actor_or_none(request)
    if actor is None:
        return RedirectResponse("/login", status_code=303)
    neighbours: dict[str, tuple[str, str] | None] = {"prev": None, "next": None}
    async with db.session() as session:
        chart = await library.get_chart(session, actor, chart_id)
        detail = await library.song_detail(session, actor, chart.song_id) if chart.song_id else None
        if setlist is not None:
            entries = [e for e in await setlists.entries(session, actor, setlist) if e.song_id]
            rows = await library.rows_for_songs(session, actor, [e.song_id for e in entries if e.song_id])
            here = next((i for i, r in enumerate(rows) if r.song_id == chart.song_id), None)
            if here is not None:
                neighbours["prev"] = next(((r.title, f"/stand/{r.chart_id}?setlist={setlist}")
                                           for r in reversed(rows[:here]) if r.chart_id), None)
                neighbours["next"] = next(((r.title, f"/stand/{r.chart_id}?setlist={setlist}")
                                           for r in rows[here + 1:] if r.chart_id), None)
    theme()
    title = detail.song.title if detail else chart.file_name
    part = label_for_key(chart.part_key)
    ui.page_title(f"{title} · SOLEil")
    ui.query("body").style("background: #000")
    back = f"/setlists/{setlist}" if setlist is not None else (f"/songs/{chart.song_id}" if chart.song_id else "/")

    def song_request(direction: str) -> None:
        target = neighbours["next" if direction == "next" else "prev"]
        if target:
            ui.navigate.to(target[1])

    def night_changed(on: bool) -> None:
        app.storage.user["night"] = on

    Stand(title=title, part_label=part, pages=stand_pages(chart), night=bool(app.storage.user.get("night")),
          prev_title=neighbours["prev"][0] if neighbours["prev"] else None,
          next_title=neighbours["next"][0] if neighbours["next"] else None,
          on_song_request=lambda e: song_request(e.direction), on_night_change=lambda e: night_changed(e.night),
          on_close=lambda: ui.navigate.to(back))
    return None
