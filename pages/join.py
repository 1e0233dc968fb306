"""Invite links: ``/join/<token>``. Signed in: join now. Not yet: remember the link through sign-in."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import APIRouter, ui

from components.errors import log_error, message_for
from components.layout import theme
from components.session import actor_or_none, remember_invite, switch_band
from soleil_ui.db import db
from soleil_ui.errors import SoleilError
from soleil_ui.services import invites
from soleil_ui.settings import get_settings

router = APIRouter()


def _frame(title: str) -> ui.column:
    theme()
    ui.page_title(f"{title} · SOLEil")
    return ui.column().classes("w-full max-w-md mx-auto p-6 gap-4 items-center text-center")


@router.page("/join/{token}")
async def join_page(request: Request, token: str) -> RedirectResponse | None:
    actor = await actor_or_none(request)
    try:
        if actor is not None:
            async with db.session() as session:
                membership, new = await invites.accept_link(session, actor.user_id, token)
            await switch_band(request, membership.band_id)
            return RedirectResponse("/welcome" if new else "/", status_code=303)
        async with db.session() as session:
            band = await invites.link_band(session, token)
    except SoleilError as exc:
        log_error(exc, "join")
        with _frame("Invite"):
            ui.icon("link_off").classes("text-6xl text-grey-6")
            ui.label(message_for(exc)).classes("text-lg").mark("message")
            target = "/" if actor is not None else "/login"
            ui.button("Continue", on_click=lambda: ui.navigate.to(target)).props("unelevated")
        return None
    remember_invite(request, token)
    with _frame("Join"):
        ui.icon("groups").classes("text-6xl text-primary")
        ui.label(f"You're invited to join {band.name}").classes("text-2xl font-medium").mark("invited")
        if get_settings().google_configured:
            ui.label("Sign in to join. Your invite is kept while you do.").classes("text-grey-8")
            ui.button("Sign in with Google", icon="login", on_click=lambda: ui.navigate.to("/auth/google")) \
                .props("unelevated size=lg").classes("w-full").mark("google")
        else:
            ui.label("Sign-in isn't configured on this server yet. Ask its administrator.").classes("text-negative")
    return None
