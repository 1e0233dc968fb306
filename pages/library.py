"""The library: every song of the band, found as you type, marked with whether my part exists."""

from __future__ import annotations

from nicegui import APIRouter, ui

from components.guard import member_page
from components.layout import page_frame
from components.live_bar import LiveBanner, LiveWatcher
from components.params import QueryText
from components.song_list import SongList
from pages.song import stand_href
from soleil_ui.access import Actor
from soleil_ui.services import library, page_data, work
from soleil_ui.services.library import SongPage

router = APIRouter()


@router.page("/library")
@member_page
async def library_page(actor: Actor, q: QueryText = "") -> None:

    async def search(text: str, offset: int, part: str = "") -> SongPage:
        return await work.act(library.search_songs, actor, text, part=part, offset=offset)

    filters, state = await page_data.library_screen(actor)
    with page_frame(actor, "Library", active="Library"):
        LiveBanner(actor, LiveWatcher(actor, state))
        songs = SongList(search, lambda row: ui.navigate.to(f"/songs/{row.song_id}"), initial=q[:200],
                         filters=filters, on_part=lambda row: ui.navigate.to(
                             stand_href(row.chart_id or 0, row.part_key, row.generated)))
        await songs.refresh()
    return None
