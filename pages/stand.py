"""The stand: one chart full screen. Opened from the library, a song, or a setlist (then it steps through the
setlist's songs in place), and ``/live/<setlist>``: the stand following the leader's calls in live mode."""

from __future__ import annotations

import json

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import APIRouter, app, ui

from components.layout import theme
from components.live_bar import LiveWatcher, SetlistStand, load_plan
from components.session import actor_or_none, guard_page
from components.stand import STAND_VIEWPORT, Stand
from soleil_ui.access import Actor
from soleil_ui.db import db
from soleil_ui.errors import NotFound
from soleil_ui.models import Chart
from soleil_ui.parts import PartRef
from soleil_ui.services import chart_pages, library, live, setlists

router = APIRouter()
BASE_WIDTH = 800


def stand_pages(chart: Chart) -> list[dict[str, object]]:
    """Image sources for each page, with every standard width in ``srcset`` so the phone picks its size.

    Cached per chart version: in live mode hundreds of followers swap to the same charts at once.
    """
    assert chart.id is not None
    key = (chart.id, chart.checksum, chart.page_count, json.dumps(chart.page_sizes))
    cached = _pages_cache.get(key)
    if cached is None:
        cached = _pages_cache[key] = _build_pages(chart)
        while len(_pages_cache) > 2048:
            _pages_cache.pop(next(iter(_pages_cache)))
    return [dict(page) for page in cached]


_pages_cache: dict[tuple[object, ...], list[dict[str, object]]] = {}


def _build_pages(chart: Chart) -> list[dict[str, object]]:
    return [dict(page) for page in chart_pages.pdf_pages(chart)]


def _night_changed(on: bool) -> None:
    app.storage.user["night"] = on


def _frame(actor: Actor, title: str) -> None:
    theme()
    guard_page(actor)
    ui.page_title(f"{title} · SOLEil")
    ui.query("body").style("background: #000")


@router.page("/stand/{chart_id}", viewport=STAND_VIEWPORT)
async def stand_page(request: Request, chart_id: int, setlist: int | None = None) -> RedirectResponse | None:
    actor = await actor_or_none(request)
    if actor is None:
        return RedirectResponse("/login", status_code=303)
    async with db.session() as session:
        chart = await library.get_chart(session, actor, chart_id)
        detail = await library.song_detail(session, actor, chart.song_id) if chart.song_id else None
        if setlist is not None:
            version = (await setlists.get_setlist(session, actor, setlist)).version
        state = await live.current(session, actor)
    title = detail.song.title if detail else chart.file_name
    night = bool(app.storage.user.get("night"))
    if setlist is not None:
        plan = await load_plan(actor, setlist, version)
        index = plan.index_of_chart(chart_id)
        if index is None:  # another part of a setlist song: start from that song
            index = next((i for i, s in enumerate(plan.stops) if s.song_id == chart.song_id), None)
        if index is not None and plan.stops[index].chart is not None \
                and plan.stops[index].chart.id == chart_id:  # type: ignore[union-attr]
            _frame(actor, title)
            SetlistStand(actor, plan, index, watcher=LiveWatcher(actor, state), following=False,
                         pages_for=stand_pages, night=night, on_night=_night_changed,
                         back=f"/setlists/{setlist}", live_page=False)
            return None
    # One chart on its own (or a part the setlist doesn't give this reader): no stepping through songs.
    _frame(actor, title)
    part = PartRef.from_key(chart.part_key).label() if chart.part_key else ""
    back = f"/setlists/{setlist}" if setlist is not None else (f"/songs/{chart.song_id}" if chart.song_id else "/")
    Stand(title=title, part_label=part, pages=stand_pages(chart), night=night,
          on_night_change=lambda e: _night_changed(e.night), on_close=lambda: ui.navigate.to(back))
    return None


@router.page("/live/{setlist_id}", viewport=STAND_VIEWPORT)
async def live_page(request: Request, setlist_id: int) -> RedirectResponse | None:
    """Follow the leader: the stand opens each called song in my part; I still turn my own pages."""
    actor = await actor_or_none(request)
    if actor is None:
        return RedirectResponse("/login", status_code=303)
    async with db.session() as session:
        version = (await setlists.get_setlist(session, actor, setlist_id)).version
        state = await live.current(session, actor)
    plan = await load_plan(actor, setlist_id, version)
    if not plan.stops:
        raise NotFound("This setlist has no songs yet.")
    here = state.current_item_id if state is not None and state.setlist_id == setlist_id else None
    _frame(actor, plan.name)
    SetlistStand(actor, plan, plan.index_of(here) or 0, watcher=LiveWatcher(actor, state), following=True,
                 pages_for=stand_pages, night=bool(app.storage.user.get("night")), on_night=_night_changed,
                 back=f"/setlists/{setlist_id}", live_page=True)
    return None
