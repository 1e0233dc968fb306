"""The stand: one chart full screen. Opened from the library or a song (``?part=`` picks any part a MusicXML or
ChordPro file engraves; without it, my part), from a setlist (``?setlist=``: every song of the set in my part, in the
key of the night, stepping in place), and ``/live/<setlist>``: the stand following the leader's calls in live mode."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping

from nicegui import APIRouter, ui

from components.guard import member_page
from components.layout import theme
from components.live_bar import LiveWatcher
from components.params import MaybeQueryId, MaybeQueryText
from components.pencil import Pencil
from components.session import guard_page
from components.setlist_stand import SetlistStand
from components.stand import STAND_VIEWPORT, Stand, StandCropChangeEventArguments
from soleil_ui.access import Actor
from soleil_ui.crop import WHOLE, shown_box
from soleil_ui.errors import NotFound, SoleilError
from soleil_ui.services import stand_view
from soleil_ui.services.stand_view import load_stand_set
from soleil_ui.stand_contract import StandPage

Pages = list[StandPage]

router = APIRouter()
# When a band goes live, every phone opens its stand at once: on a small box a page may then take a few seconds to
# build; a slow stand is better than NiceGUI's "not ready after 3 s" error page on a gig night.
STAND_TIMEOUT = 20.0


def preload(pages: Pages, night: bool = False, crop: Mapping[str, object] | None = None) -> None:
    """The first page before the framework: the page's <head> starts fetching and decoding it, and the server's HTML
    shows it full screen (``#sl-first``, styled like the stand, inverted at night, cropped as the stand will crop it:
    ``crop`` is the reader's choice for the chart) as soon as it arrives, while NiceGUI's scripts load. The stand then
    takes that very <img> over (see ``stand.js``), so nothing flashes."""
    if not pages or not pages[0]["src"].startswith("/"):
        return
    first = pages[0]
    srcset = f'i.srcset = {json.dumps(first["srcset"])};' if first.get("srcset") else ""
    ui.add_head_html(
        "<script>(() => { const i = new Image(); i.decoding = 'async'; i.sizes = '100vw'; "
        f"{srcset} i.src = {json.dumps(first['src'])}; i.decode().catch(() => {{}}); "
        f"window.soleilFirstPage = {{ src: {json.dumps(first['src'])}, img: i }}; }})();</script>")
    ui.add_body_html(
        f'<div id="sl-first" class="sl-first{" sl-first-night" if night else ""}" aria-hidden="true"'
        f"{_first_crop(first, crop)}</div>"
        "<script>(() => { const f = window.soleilFirstPage, d = document.getElementById('sl-first'); "
        "if (f && d) { f.img.className = 'sl-first-img'; f.img.alt = ''; "
        "(d.querySelector('.sl-first-crop') || d).appendChild(f.img); } })();</script>")


def _first_crop(page: StandPage, choice: Mapping[str, object] | None) -> str:
    """The rest of ``#sl-first``'s tag: for a cropped page, the region's shape and the image's place in it (stand.css
    ``.sl-first-crop``), and the box the image goes in."""
    left, top, right, bottom = shown_box(page.get("crop"), choice)
    if (left, top, right, bottom) == WHOLE:
        return ">"
    width, height = right - left, bottom - top
    ratio = page["width"] * width / (page["height"] * height)
    return (f' style="--sl-fr: {ratio:.4f}; --sl-fl: {-left / width * 100:.3f}%; --sl-ft: {-top / height * 100:.3f}%; '
            f'--sl-fw: {100 / width:.3f}%; --sl-fh: {100 / height:.3f}%"><div class="sl-first-crop"></div>')


def _choice(crops: Mapping[int, Mapping[str, object]] | None, chart_id: int | None) -> Mapping[str, object] | None:
    return (crops or {}).get(chart_id) if chart_id is not None else None


def _night_saver(actor: Actor) -> Callable[[bool], Awaitable[None]]:
    """Night mode is the reader's, in the database (any instance may serve their next page)."""
    async def save(on: bool) -> None:
        await stand_view.save_night(actor, on)
    return save


def _crop_saver(actor: Actor) -> Callable[[StandCropChangeEventArguments], Awaitable[None]]:
    """The reader's crop of a chart is theirs on every device (the database); a bad one is refused quietly (the
    stand already shows it, and the event carries nothing a reader typed)."""
    async def save(e: StandCropChangeEventArguments) -> None:
        try:
            await stand_view.save_crop(actor, e.chart_id, e.mode, e.margins)
        except SoleilError as exc:
            ui.notify(exc.user_message, type="warning")
    return save


def _frame(actor: Actor, title: str) -> None:
    theme(actor)
    guard_page(actor)
    ui.page_title(f"{title} · SOLEil")
    ui.query("body").style("background: #000")
    Pencil(actor)  # the pen over whichever chart the stand shows (finds the stand in the page)


@router.page("/stand/{chart_id:id}", viewport=STAND_VIEWPORT, response_timeout=STAND_TIMEOUT)
@member_page
async def stand_page(actor: Actor, chart_id: int, setlist: MaybeQueryId = None,
                     part: MaybeQueryText = None) -> None:
    opening = await stand_view.open_chart(actor, chart_id, setlist)
    chart, title, state, prefs, night = opening.chart, opening.title, opening.state, opening.prefs, opening.night
    if setlist is not None and not part and prefs is not None and opening.setlist_version is not None:
        stand_set = await load_stand_set(actor, setlist, prefs, opening.setlist_version)
        index = stand_set.plan.index_of_chart(chart_id)
        if index is None:  # another chart of a setlist song (a PDF tonight's key set aside): open the set's one
            index = next((i for i, s in enumerate(stand_set.plan.stops) if s.song_id == chart.song_id), None)
        if index is not None:
            _frame(actor, title)
            preload(stand_set.songs[index]["pages"], night, _choice(opening.crops, stand_set.songs[index]["chart_id"]))
            SetlistStand(actor, stand_set, index, prefs=prefs, watcher=LiveWatcher(actor, state), following=False,
                         night=night, on_night=_night_saver(actor),
                         back=f"/setlists/{setlist}", live_page=False,
                         crops=opening.crops, on_crop=_crop_saver(actor))
            return None
    # One chart on its own (or a part the setlist doesn't give this reader): no stepping through songs.
    label, pages = await stand_view.single_chart(actor, chart, part)
    _frame(actor, title)
    preload(pages, night, _choice(opening.crops, chart.id))
    back = f"/setlists/{setlist}" if setlist is not None else (f"/songs/{chart.song_id}" if chart.song_id else "/")
    Stand(title=title, part_label=label, pages=pages, night=night, recording=opening.recording, crops=opening.crops,
          on_night_change=lambda e: _night_saver(actor)(e.night), on_close=lambda: ui.navigate.to(back),
          on_crop_change=_crop_saver(actor))
    return None


@router.page("/live/{setlist_id:id}", viewport=STAND_VIEWPORT, response_timeout=STAND_TIMEOUT)
@member_page
async def live_page(actor: Actor, setlist_id: int) -> None:
    """Follow the leader: the stand opens each called song in my part; I still turn my own pages."""
    opening = await stand_view.open_live(actor, setlist_id)
    state, prefs, version, night = opening.state, opening.prefs, opening.setlist_version, opening.night
    stand_set = await load_stand_set(actor, setlist_id, prefs, version)
    plan = stand_set.plan
    if not plan.stops:
        raise NotFound("This setlist has no songs yet.")
    here = state.current_item_id if state is not None and state.setlist_id == setlist_id else None
    index = plan.index_of(here) or 0
    _frame(actor, plan.name)
    preload(stand_set.songs[index]["pages"], night, _choice(opening.crops, stand_set.songs[index]["chart_id"]))
    SetlistStand(actor, stand_set, index, prefs=prefs, watcher=LiveWatcher(actor, state), following=True,
                 night=night, on_night=_night_saver(actor),
                 back=f"/setlists/{setlist_id}", live_page=True,
                 crops=opening.crops, on_crop=_crop_saver(actor))
    return None
