"""Home: the band, the next gig, the setlists, a way into the library."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from nicegui import APIRouter, ui

from components.guard import member_page
from components.layout import page_frame
from components.live_bar import LiveBanner, LiveWatcher
from soleil_ui.access import Actor
from soleil_ui.services import page_data

router = APIRouter()


@router.page("/")
@member_page
async def home_page(actor: Actor) -> None:
    data = await page_data.home(actor)
    band, upcoming, lists, state = data.band, data.upcoming, data.setlists, data.live
    zone = ZoneInfo(band.timezone)
    with page_frame(actor, "", active="Home"):
        LiveBanner(actor, LiveWatcher(actor, state))  # at the gig, opening the app is one tap from the stand
        ui.label(f"Hi {actor.name.split()[0]}").classes("text-xl font-medium")
        ui.label("Next gig").classes("text-sm uppercase text-grey-7 mt-2")
        if not upcoming:
            ui.label("No gigs planned yet.").classes("text-grey-7")
        for gig in upcoming:
            local = gig.starts_at.astimezone(zone)
            with ui.card().classes("w-full").props("flat bordered").on(
                    "click", lambda _e, g=gig.id: ui.navigate.to(f"/gigs/{g}")):
                ui.label(gig.title).classes("text-lg font-medium")
                ui.label(f"{local:%a %d %b, %H:%M} · {gig.venue}").classes("text-grey-8")
                if gig.load_in_at:
                    ui.label(f"Load-in {gig.load_in_at.astimezone(zone):%H:%M}").classes("text-sm text-grey-7")
        ui.label("Setlists").classes("text-sm uppercase text-grey-7 mt-2")
        if not lists:
            ui.label("No setlists yet.").classes("text-grey-7")
        for setlist in lists[:5]:
            ui.button(setlist.name, icon="queue_music", on_click=lambda _e, s=setlist.id: ui.navigate.to(
                f"/setlists/{s}")).props("flat no-caps align=left").classes("w-full")
        ui.button("Open the library", icon="library_music", on_click=lambda: ui.navigate.to("/library")) \
            .props("unelevated size=lg").classes("w-full mt-2")
    return None
