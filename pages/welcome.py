"""First visit in a band: your name and what you play, so the stand opens on your part."""

from __future__ import annotations

from typing import Any

from nicegui import APIRouter, ui

from components.guard import member_page
from components.layout import page_frame
from components.member_form import member_form
from soleil_ui.access import Actor
from soleil_ui.services import members, work

router = APIRouter()


@router.page("/welcome")
@member_page
async def welcome_page(actor: Actor) -> None:

    async def save(name: str, instruments: list[dict[str, Any]], reading: dict[str, str]) -> None:
        await work.act(members.save_profile, actor, name=name, instruments=instruments, reading=reading)
        ui.navigate.to("/")

    with page_frame(actor, "Welcome", active="Home"):
        ui.label(f"Welcome to {actor.band_name}").classes("text-xl font-medium")
        ui.label("Tell your band who you are and what you play. You can change this later in your profile.") \
            .classes("text-grey-8")
        first_time_name = "" if actor.name == actor.email else actor.name
        member_form(first_time_name, list(actor.instruments), submit_label="Save and go to my band", on_submit=save)
    return None
