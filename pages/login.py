"""Sign-in: one tap per demo member in demo mode; Google (or the configured OpenID provider) otherwise.

Demo sign-in and sign-out change who is signed in, so they are POSTs carrying the session's anti-forgery token
(``components.session.require_csrf``): another site can't sign a member out, or in as a demo member. Their GET
addresses only answer a page with the button (old bookmarks, the tests' and benchmarks' way in).
"""

from __future__ import annotations

import html

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from nicegui import APIRouter, ui

from components import design
from components.layout import theme
from components.session import CSRF_FIELD, actor_or_none, csrf_for, require_csrf, sign_in, sign_out, throttle
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
            ui.icon("wb_sunny").classes("text-4xl text-primary").props("aria-hidden=true")
            design.heading("SOLEil").classes("text-3xl font-semibold")
        ui.label("Your band's charts, setlists and gigs on every stand.").classes("text-grey-8")
        if settings.google_configured:
            ui.button("Sign in with Google", icon="login", on_click=lambda: ui.navigate.to("/auth/google")) \
                .props("unelevated size=lg").classes("w-full")
        if settings.demo_enabled:
            people = await demo_people()
            token = csrf_for(request) if people else ""  # one per session: the same for every card
            ui.label("Try the demo band — tap a member to enter as them:").classes("text-base mt-2")
            with ui.column().classes("w-full gap-2"):
                for user, membership in people:
                    parts = ", ".join(INSTRUMENTS[i["instrument"]].name for i in membership.instruments
                                      if i.get("instrument") in INSTRUMENTS)
                    role = "Leader · " if membership.role == "leader" else ""
                    form = post_form(f"/auth/demo/{user.id}", token)
                    submit = f"document.getElementById('{form.html_id}').submit()"
                    # a button by role, focus and keys (Enter, Space); its name is its visible text after "Enter as"
                    with form, ui.card().tight().classes("w-full cursor-pointer").props("role=button tabindex=0") \
                            .on("click", js_handler=f"() => {submit}") \
                            .on("keydown", js_handler="(e) => { if (e.key === 'Enter' || e.key === ' ') "
                                                      f"{{ e.preventDefault(); {submit}; }} }}"):
                        with ui.row().classes("items-center p-3 gap-3 no-wrap"):
                            ui.label("Enter as").classes("soleil-sr-only")
                            ui.icon("person").classes("text-2xl text-secondary").props("aria-hidden=true")
                            with ui.column().classes("gap-0"):
                                ui.label(user.name).classes("font-medium")
                                ui.label(f"{role}{parts}").classes("text-sm text-grey-7")
            if not people:
                ui.label("The demo band is still being set up; reload in a moment.").classes("text-grey-7")
        if not settings.google_configured and not settings.demo_enabled:
            ui.label("Sign-in isn't configured on this server yet. See the README.").classes("text-negative")
    return None


def post_form(action: str, token: str) -> ui.element:
    """A form that POSTs to ``action`` with this session's anti-forgery token; its content submits it."""
    form = ui.element("form").props(f'method=post action="{action}"').classes("w-full")
    with form:
        ui.element("input").props(f'type=hidden name={CSRF_FIELD} value="{token}"')
    return form


def button_page(title: str, text: str, action: str, button: str, token: str) -> HTMLResponse:
    """A plain page with one POST button: what the GET address of a state-changing action answers."""
    return HTMLResponse(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width, initial-scale=1"><title>{html.escape(title)} · SOLEil</title></head>'
        f'<body style="font:16px/1.5 system-ui,sans-serif;max-width:480px;margin:3em auto;padding:0 16px">'
        f'<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>'
        f'<form method="post" action="{html.escape(action)}"><input type="hidden" name="{CSRF_FIELD}" '
        f'value="{html.escape(token)}"><button type="submit" '
        f'style="font-size:1.1em;padding:.6em 1.4em;min-height:48px">{html.escape(button)}</button></form>'
        f'<p><a href="/" style="display:inline-block;min-width:44px;line-height:44px">Back</a></p></body></html>',
        headers=NO_STORE)


NO_STORE = {"Cache-Control": "no-store"}


async def _demo_member(user_id: int) -> tuple[str, int]:
    """A demo member's name and band, or NotFound (demo off, no such member, or a real account)."""
    if not get_settings().demo_enabled:
        raise NotFound("Demo sign-in is off on this server.")
    for user, membership in await demo_people():
        if user.id == user_id:
            return user.name, membership.band_id
    raise NotFound("No such demo member.")


@router.get("/auth/demo/{user_id:id}")
async def demo_sign_in_page(request: Request, user_id: int) -> HTMLResponse:
    """The GET address signs nobody in: it asks (a link on another site can't switch who is signed in)."""
    name, _band = await _demo_member(user_id)
    return button_page("Demo band", f"Enter the demo band as {name}?", f"/auth/demo/{user_id}",
                       f"Enter as {name}", csrf_for(request))


@router.post("/auth/demo/{user_id:id}")
async def demo_sign_in(request: Request, user_id: int) -> RedirectResponse:
    """Demo only: enter as a demo member. Refused for any real account and whenever demo is off."""
    await require_csrf(request)
    await throttle(request, "sign_in", kind="demo")  # each demo sign-in keeps a session row for 60 days
    _name, band_id = await _demo_member(user_id)
    await sign_in(request, user_id, band_id)
    return RedirectResponse("/", status_code=303)


@router.get("/auth/logout")
async def logout_page(request: Request) -> HTMLResponse:
    return button_page("Sign out", "Sign out of SOLEil on this device?", "/auth/logout", "Sign out",
                       csrf_for(request))


@router.post("/auth/logout")
async def logout(request: Request) -> RedirectResponse:
    await require_csrf(request)
    await sign_out(request)
    return RedirectResponse("/login", status_code=303)
