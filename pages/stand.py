"""The stand: one chart full screen. Opened from the library or a song (``?part=`` picks any part a MusicXML or
ChordPro file engraves; without it, my part), from a setlist (``?setlist=``: every song of the set in my part, in the
key of the night, stepping in place), and ``/live/<setlist>``: the stand following the leader's calls in live mode."""

from __future__ import annotations

import json

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import APIRouter, app, ui

from components.layout import theme
from components.live_bar import LiveWatcher
from components.params import MaybeQueryId, MaybeQueryText
from components.session import actor_or_none, guard_page
from components.setlist_stand import SetlistStand, load_stand_set
from components.stand import STAND_VIEWPORT, Stand
from soleil_ui.access import Actor
from soleil_ui.db import db
from soleil_ui.errors import NotFound
from soleil_ui.models import Chart, Song
from soleil_ui.parts import PartRef
from soleil_ui.services import chart_pages, library, live, setlists
from soleil_ui.stand_contract import StandPage

Pages = list[StandPage]

router = APIRouter()
# When a band goes live, every phone opens its stand at once: on a small box a page may then take a few seconds to
# build; a slow stand is better than NiceGUI's "not ready after 3 s" error page on a gig night.
STAND_TIMEOUT = 20.0


async def single_chart(actor: Actor, chart: Chart, part: str | None) -> tuple[str, Pages]:
    """One chart's pages and label: a PDF as it is; a generated chart in the part asked for (``?part=``, from the
    song page's list of parts), else in my part when it is the chart the library picks for me, else its own part.
    The database is read first and let go: engraving may take a moment."""
    if not library.is_generated(chart):
        label = PartRef.from_key(chart.part_key).label() if chart.part_key else ""
        return label, chart_pages.pdf_pages(chart)
    note = library.STAND_NOTES[chart.kind]
    resolved = pref = None
    if chart.song_id is not None:
        async with db.session() as session:
            if not part:
                resolved = await library.chart_for_member(session, actor, chart.song_id)
            pref = await library.member_pref(session, actor, chart.song_id)
    if resolved is not None and resolved.chart_id == chart.id and resolved.generated:
        return f"{resolved.part_label} · {note}", await chart_pages.resolved_pages(resolved, chart)
    part_key = part or chart.part_key or ""
    pages = await chart_pages.stand_pages(chart, part_key, pref=pref)
    found = PartRef.try_from_key(part_key)
    return " · ".join(x for x in (found.label() if found else "", note) if x), pages


def preload(pages: Pages) -> None:
    """Fetch and decode the first page while the page's scripts load (the stand then takes that very image, see
    ``stand.js``): on a phone the chart shows as soon as the stand is mounted, not a download and a decode later."""
    if not pages or not pages[0]["src"].startswith("/"):
        return
    first = pages[0]
    srcset = f'i.srcset = {json.dumps(first["srcset"])};' if first.get("srcset") else ""
    ui.add_head_html(
        "<script>(() => { const i = new Image(); i.decoding = 'async'; i.sizes = '100vw'; "
        f"{srcset} i.src = {json.dumps(first['src'])}; i.decode().catch(() => {{}}); "
        f"window.soleilFirstPage = {{ src: {json.dumps(first['src'])}, img: i }}; }})();</script>")


def _night_changed(on: bool) -> None:
    app.storage.user["night"] = on


def _frame(actor: Actor, title: str) -> None:
    theme()
    guard_page(actor)
    ui.page_title(f"{title} · SOLEil")
    ui.query("body").style("background: #000")


@router.page("/stand/{chart_id:id}", viewport=STAND_VIEWPORT, response_timeout=STAND_TIMEOUT)
async def stand_page(request: Request, chart_id: int, setlist: MaybeQueryId = None,
                     part: MaybeQueryText = None) -> RedirectResponse | None:
    actor = await actor_or_none(request)
    if actor is None:
        return RedirectResponse("/login", status_code=303)
    async with db.session() as session:
        chart = await library.get_chart(session, actor, chart_id)
        song = await session.get(Song, chart.song_id) if chart.song_id else None  # the title; get_chart checked
        if setlist is not None:
            version = (await setlists.get_setlist(session, actor, setlist)).version
            prefs = await library.member_prefs(session, actor)
        state = await live.current(session, actor)
    title = song.title if song else chart.file_name
    if setlist is not None and not part:
        stand_set = await load_stand_set(actor, setlist, prefs, version)
        index = stand_set.plan.index_of_chart(chart_id)
        if index is None:  # another chart of a setlist song (a PDF tonight's key set aside): open the set's one
            index = next((i for i, s in enumerate(stand_set.plan.stops) if s.song_id == chart.song_id), None)
        if index is not None:
            _frame(actor, title)
            preload(stand_set.songs[index]["pages"])
            SetlistStand(actor, stand_set, index, prefs=prefs, watcher=LiveWatcher(actor, state), following=False,
                         night=bool(app.storage.user.get("night")), on_night=_night_changed,
                         back=f"/setlists/{setlist}", live_page=False)
            return None
    # One chart on its own (or a part the setlist doesn't give this reader): no stepping through songs.
    label, pages = await single_chart(actor, chart, part)
    _frame(actor, title)
    preload(pages)
    back = f"/setlists/{setlist}" if setlist is not None else (f"/songs/{chart.song_id}" if chart.song_id else "/")
    Stand(title=title, part_label=label, pages=pages, night=bool(app.storage.user.get("night")),
          on_night_change=lambda e: _night_changed(e.night), on_close=lambda: ui.navigate.to(back))
    return None


@router.page("/live/{setlist_id:id}", viewport=STAND_VIEWPORT, response_timeout=STAND_TIMEOUT)
async def live_page(request: Request, setlist_id: int) -> RedirectResponse | None:
    """Follow the leader: the stand opens each called song in my part; I still turn my own pages."""
    actor = await actor_or_none(request)
    if actor is None:
        return RedirectResponse("/login", status_code=303)
    async with db.session() as session:
        version = (await setlists.get_setlist(session, actor, setlist_id)).version
        state = await live.current(session, actor)
        prefs = await library.member_prefs(session, actor)
    stand_set = await load_stand_set(actor, setlist_id, prefs, version)
    plan = stand_set.plan
    if not plan.stops:
        raise NotFound("This setlist has no songs yet.")
    here = state.current_item_id if state is not None and state.setlist_id == setlist_id else None
    index = plan.index_of(here) or 0
    _frame(actor, plan.name)
    preload(stand_set.songs[index]["pages"])
    SetlistStand(actor, stand_set, index, prefs=prefs, watcher=LiveWatcher(actor, state), following=True,
                 night=bool(app.storage.user.get("night")), on_night=_night_changed,
                 back=f"/setlists/{setlist_id}", live_page=True)
    return None
