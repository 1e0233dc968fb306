"""Gigs: when, where, call times, and the setlist for the night."""

from __future__ import annotations

from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import APIRouter, ui

from components.layout import page_frame
from components.session import actor_or_none
from soleil_ui.db import db
from soleil_ui.services import gigs, members

router = APIRouter()


@router.page("/gigs")
async def gigs_page(request: Request) -> RedirectResponse | None:
    actor = await actor_or_none(request)
    if actor is None:
        return RedirectResponse("/login", status_code=303)
    async with db.session() as session:
        zone = ZoneInfo((await members.get_band(session, actor)).timezone)
        upcoming = await gigs.upcoming(session, actor, limit=50)
    with page_frame(actor, "Gigs", active="Gigs"):
        if not upcoming:
            ui.label("No gigs planned yet.").classes("text-grey-7")
        with ui.list().props("separator").classes("w-full bg-white rounded-borders"):
            for gig in upcoming:
                with ui.item(on_click=lambda g=gig.id: ui.navigate.to(f"/gigs/{g}")).props("clickable"):
                    with ui.item_section():
                        ui.item_label(gig.title).classes("font-medium")
                        ui.item_label(f"{gig.starts_at.astimezone(zone):%a %d %b, %H:%M} · {gig.venue}") \
                            .props("caption")
    return None


@router.page("/gigs/{gig_id}")
async def gig_page(request: Request, gig_id: int) -> RedirectResponse | None:
    actor = await actor_or_none(request)
    if actor is None:
        return RedirectResponse("/login", status_code=303)
    async with db.session() as session:
        zone = ZoneInfo((await members.get_band(session, actor)).timezone)
        gig = await gigs.get_gig(session, actor, gig_id)
    with page_frame(actor, gig.title, active="Gigs", back="/gigs"):
        with ui.card().classes("w-full").props("flat bordered"):
            ui.label(f"{gig.starts_at.astimezone(zone):%A %d %B %Y}").classes("text-lg font-medium")
            if gig.load_in_at:
                ui.label(f"Load-in {gig.load_in_at.astimezone(zone):%H:%M}")
            ui.label(f"Downbeat {gig.starts_at.astimezone(zone):%H:%M}")
            if gig.venue or gig.address:
                ui.label(", ".join(x for x in (gig.venue, gig.address) if x))
                query = quote_plus(", ".join(x for x in (gig.venue, gig.address) if x))
                ui.link("Open in maps", f"https://www.google.com/maps/search/?api=1&query={query}", new_tab=True)
            if gig.dress_code:
                ui.label(f"Dress: {gig.dress_code}")
            if gig.notes:
                ui.label(gig.notes).classes("whitespace-pre-line text-grey-8")
        if gig.setlist_id:
            ui.button("Setlist for the night", icon="queue_music",
                      on_click=lambda: ui.navigate.to(f"/setlists/{gig.setlist_id}")).props("unelevated") \
                .classes("w-full")
    return None
