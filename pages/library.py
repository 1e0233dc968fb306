"""The library: every song of the band, found as you type, marked with whether my part exists."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import APIRouter, ui

from components.layout import page_frame
from components.live_bar import LiveBanner, LiveWatcher
from components.params import QueryText
from components.session import actor_or_none
from components.song_list import SongList
from soleil_ui.db import db
from soleil_ui.services import library, live
from soleil_ui.services.library import SongPage

router = APIRouter()


@router.page("/library")
async def library_page(request: Request, q: QueryText = "") -> RedirectResponse | None:
    actor = await actor_or_none(request)
    if actor is None:
        return RedirectResponse("/login", status_code=303)

    async def search(text: str, offset: int, part: str = "") -> SongPage:
        async with db.session() as session:
            return await library.search_songs(session, actor, text, part=part, offset=offset)

    async with db.session() as session:
        filters = await library.part_filters(session, actor)
        state = await live.current(session, actor)
    with page_frame(actor, "Library", active="Library"):
        LiveBanner(actor, LiveWatcher(actor, state))
        songs = SongList(search, lambda row: ui.navigate.to(f"/songs/{row.song_id}"), initial=q[:200],
                         filters=filters)
        await songs.refresh()
    return None
