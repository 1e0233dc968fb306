"""My bands: switch between them, and (for the server's administrators) create a new one."""

from __future__ import annotations

import zoneinfo
from functools import cache

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import APIRouter, ui

from components import design
from components.guard import member_page
from components.layout import page_frame, theme
from components.session import actor_or_none, switch_band, token_of
from soleil_ui.access import Actor
from soleil_ui.errors import NotSignedIn
from soleil_ui.services import members, page_data, work

router = APIRouter()


@cache
def _zones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


@router.page("/bands")
@member_page
async def bands_page(actor: Actor, request: Request) -> None:
    bands = await page_data.my_bands(actor)

    async def switch(band_id: int) -> None:
        await switch_band(request, band_id)
        ui.navigate.to("/")

    with page_frame(actor, "Your bands", back="/"):
        with ui.list().props("separator").classes("w-full bg-white rounded-borders"):
            for band in bands:
                current = band.id == actor.band_id
                with ui.item(on_click=None if current else (lambda b=band.id: switch(b or 0))) \
                        .props("" if current else "clickable").mark(f"band-{band.id}"):
                    with ui.item_section().props("avatar"):
                        ui.icon("check_circle" if current else "groups")
                    with ui.item_section():
                        ui.item_label(band.name).classes("font-medium")
                        if current:
                            ui.item_label("You're looking at this band").props("caption")
        if members.is_admin(actor.email):
            ui.button("New band", icon="add", on_click=lambda: ui.navigate.to("/bands/new")) \
                .props("unelevated").classes("w-full")
    return None


@router.page("/bands/new")
async def new_band_page(request: Request) -> RedirectResponse | None:
    """Administrators (SOLEIL_ADMIN_EMAILS) create a band and lead it; they may have no band yet."""
    actor = await actor_or_none(request)
    try:
        user = await work.before_actor(members.signed_in_user, token_of(request))
    except NotSignedIn:
        return RedirectResponse("/login", status_code=303)
    assert user.id is not None
    user_id = user.id
    allowed = members.is_admin(user.email)

    def form() -> None:
        if not allowed:
            ui.label("Only this server's administrators can create bands. Ask your band leader for an invite.") \
                .classes("text-lg").mark("refusal")
            return
        ui.label("You'll lead the new band and can invite its members next.").classes("text-grey-8")
        name = ui.input("Band name").props("outlined maxlength=120").classes("w-full").mark("band-name")
        zone = ui.select(_zones(), value="UTC", label="Time zone (for gig times)", with_input=True) \
            .props("outlined").classes("w-full").mark("band-zone")

        async def create() -> None:
            band = await work.before_actor(members.found_band, user_id, name.value or "", timezone=zone.value or "UTC")
            assert band.id is not None
            await switch_band(request, band.id)
            ui.navigate.to("/welcome")

        ui.button("Create band", icon="add", on_click=create).props("unelevated size=lg").classes("w-full") \
            .mark("create-band")

    if actor is not None:
        with page_frame(actor, "New band", back="/bands"):
            form()
    else:
        theme()
        ui.page_title("New band · SOLEil")
        with ui.column().classes("w-full max-w-md mx-auto p-4 gap-4"):
            design.heading("Create your band").classes("text-2xl font-medium")
            form()
    return None
