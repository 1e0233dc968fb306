"""Sign-in: one tap per demo member in demo mode; Google (or the configured OpenID provider) otherwise."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import APIRouter, ui

from components.layout import theme
from components.session import actor_or_none, sign_in, sign_out
from soleil_ui.demo import demo_people
from soleil_ui.errors import NotFound
from soleil_ui.parts import INSTRUMENTS
from soleil_ui.settings import get_settings

router = APIRouter()


@router.page("/login")
async def login_page(request: Request) -> RedirectResponse | None:
    if await actor_or_none(request):
        return RedirectResponse("/", status_code=303)
    settings = get_settings()
    theme()
    ui.page_title("Sign in · SOLEil")
    with ui.column().classes("w-full max-w-md mx-auto p-4 gap-4"):
        with ui.row().classes("items-center gap-2"):
            ui.icon("wb_sunny").classes("text-4xl text-primary")
            ui.label("SOLEil").classes("text-3xl font-semibold")
        ui.label("Your band's charts, setlists and gigs on every stand.").classes("text-grey-8")
        if settings.google_configured:
            ui.button("Sign in with Google", icon="login", on_click=lambda: ui.navigate.to("/auth/google")) \
                .props("unelevated size=lg").classes("w-full")
        if settings.demo_enabled:
            people = await demo_people()
            ui.label("Try the demo band — tap a member to enter as them:").classes("text-base mt-2")
            with ui.column().classes("w-full gap-2"):
                for user, membership in people:
                    parts = ", ".join(INSTRUMENTS[i["instrument"]].name for i in membership.instruments
                                      if i.get("instrument") in INSTRUMENTS)
                    role = "Leader · " if membership.role == "leader" else ""
                    with ui.card().tight().classes("w-full cursor-pointer").props(
                            f'role=button aria-label="Enter as {user.name}"').on(
                            "click", lambda _e, uid=user.id: ui.navigate.to(f"/auth/demo/{uid}")):
                        with ui.row().classes("items-center p-3 gap-3 no-wrap"):
                            ui.icon("person").classes("text-2xl text-secondary")
                            with ui.column().classes("gap-0"):
                                ui.label(user.name).classes("font-medium")
                                ui.label(f"{role}{parts}").classes("text-sm text-grey-7")
            if not people:
                ui.label("The demo band is still being set up; reload in a moment.").classes("text-grey-7")
        if not settings.google_configured and not settings.demo_enabled:
            ui.label("Sign-in isn't configured on this server yet. See the README.").classes("text-negative")
    return None


@router.get("/auth/demo/{user_id}")
async def demo_sign_in(request: Request, user_id: int) -> RedirectResponse:
    """Demo only: enter as a demo member. Refused for any real account and whenever demo is off."""
    if not get_settings().demo_enabled:
        raise NotFound("Demo sign-in is off on this server.")
    for user, membership in await demo_people():
        if user.id == user_id:
            await sign_in(request, user_id, membership.band_id)
            return RedirectResponse("/", status_code=303)
    raise NotFound("No such demo member.")


@router.get("/auth/logout")
async def logout(request: Request) -> RedirectResponse:
    await sign_out(request)
    return RedirectResponse("/login", status_code=303)
