"""My profile: name, instruments and how I read them, and my sessions (sign out here, or everywhere)."""

from __future__ import annotations

from typing import Any

from nicegui import APIRouter, ui

from components import pwa
from components.guard import member_page
from components.layout import page_frame
from components.member_form import member_form
from components.tokens import tokens_section
from soleil_ui.access import Actor
from soleil_ui.services import members, page_data, work

router = APIRouter()


@router.page("/profile")
@member_page
async def profile_page(actor: Actor) -> None:
    bands = await page_data.my_bands(actor)

    async def save(name: str, instruments: list[dict[str, Any]], reading: dict[str, str]) -> None:
        await work.act(members.save_profile, actor, name=name, instruments=instruments, reading=reading)
        ui.notify("Saved. Your stand follows it from the next song you open.", type="positive")

    async def everywhere() -> None:
        await work.act(members.sign_out_everywhere, actor)
        pwa.sign_out()  # clears this browser's cookie and offline sets too

    with page_frame(actor, "Profile", back="/"):
        ui.label(actor.email).classes("text-grey-8")
        member_form(actor.name if actor.name != actor.email else "", list(actor.instruments),
                    reading=actor.reading, submit_label="Save", on_submit=save)
        if len(bands) > 1:
            ui.label(f"What you play is saved for {actor.band_name}; each band has its own.") \
                .classes("text-sm text-grey-7")
        await tokens_section(actor)
        ui.separator().classes("my-2")
        ui.label("Signed in").classes("text-sm uppercase text-grey-7")
        ui.button("Sign out", icon="logout", on_click=pwa.sign_out) \
            .props("outline").classes("w-full").mark("sign-out")
        with ui.dialog().props('aria-label="Sign out everywhere"') as confirm, ui.card():
            ui.label("Sign out on every phone, tablet and computer? You'll sign in again on each.")
            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=confirm.close).props("flat")
                ui.button("Sign out everywhere", on_click=everywhere).props("unelevated color=negative") \
                    .mark("confirm-everywhere")
        ui.button("Sign out everywhere", icon="devices", on_click=confirm.open).props("outline color=negative") \
            .classes("w-full").mark("sign-out-everywhere")
    return None
