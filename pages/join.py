"""Invite links: ``/join/<token>``. Signed in: ask first, then join. Not yet: remember the link through sign-in.

A signed-in member who follows a link is asked before anything happens (who invites them to which band; joining
shows that band their name and email and switches this device to it), so a link on another site can't move anyone.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import APIRouter, ui

from components import design
from components.errors import log_error, message_for, set_page_status
from components.layout import theme
from components.session import actor_or_none, remember_invite, switch_band, throttle
from soleil_ui.access import Actor
from soleil_ui.errors import SoleilError
from soleil_ui.services import invites, work
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
        await throttle(request, "join", actor)
        band, inviter = await work.before_actor(invites.link_inviter, token)
    except SoleilError as exc:
        log_error(exc, "join")
        set_page_status(exc)
        with _frame("Invite"):
            ui.icon("link_off").classes("text-6xl text-grey-6").props("aria-hidden=true")
            design.heading(message_for(exc)).classes("text-lg font-normal").mark("message")
            target = "/" if actor is not None else "/login"
            ui.button("Continue", on_click=lambda: ui.navigate.to(target)).props("unelevated")
        return None
    invited = f"{inviter} invites you to join {band.name}" if inviter else f"You're invited to join {band.name}"
    if actor is not None:
        _ask(request, actor, token, band.name, invited)
        return None
    remember_invite(request, token)
    with _frame("Join"):
        ui.icon("groups").classes("text-6xl text-primary")
        design.heading(invited).classes("text-2xl font-medium").mark("invited")
        if get_settings().google_configured:
            ui.label("Sign in to join. Your invite is kept while you do.").classes("text-grey-8")
            ui.button("Sign in with Google", icon="login", on_click=lambda: ui.navigate.to("/auth/google")) \
                .props("unelevated size=lg").classes("w-full").mark("google")
        else:
            ui.label("Sign-in isn't configured on this server yet. Ask its administrator.").classes("text-negative")
    return None


def _ask(request: Request, actor: Actor, token: str, band_name: str, invited: str) -> None:
    """Signed in: say who invites whom to what, and join only when the member confirms."""

    async def join() -> None:
        await throttle(request, "join", actor)
        membership, new = await work.before_actor(invites.accept_link, actor.user_id, token)
        await switch_band(request, membership.band_id)
        ui.navigate.to("/welcome" if new else "/")

    with _frame("Join"):
        ui.icon("groups").classes("text-6xl text-primary")
        design.heading(invited).classes("text-2xl font-medium").mark("invited")
        ui.label(f"You're signed in as {actor.name} ({actor.email}). Joining shows {band_name} your name and email "
                 f"and switches this device to {band_name}; you stay in {actor.band_name}.").classes("text-grey-8")
        ui.button(f"Join {band_name}", icon="group_add", on_click=join).props("unelevated size=lg") \
            .classes("w-full").mark("confirm-join")
        ui.button("Not now", on_click=lambda: ui.navigate.to("/")).props("flat").classes("w-full").mark("decline-join")
