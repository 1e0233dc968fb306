"""The frame every signed-in screen shares: a top bar with the band, and a bottom tab bar for thumbs.

Phone first: nothing wider than the viewport, tap targets of 48 px, a bottom navigation a thumb reaches.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import ui

from soleil_ui.access import Actor
from soleil_ui.errors import SoleilError

from . import design, errors, pwa
from .session import band_switcher, guard_page

NAV = [("home", "Home", "/"), ("library_music", "Library", "/library"), ("queue_music", "Setlists", "/setlists"),
       ("event", "Gigs", "/gigs")]


def theme(actor: Actor | None = None) -> None:
    """Colours and base CSS; called by every page, signed in or not (a guarded page passes its member, so nothing
    looks the member up a second time)."""
    design.apply()
    ui.on_exception(errors.notify_error)
    pwa.head(actor)  # manifest, theme colour, icons, the service worker: installable, offline sets


@contextmanager
def page_frame(actor: Actor, title: str, *, active: str = "", back: str | None = None) -> Iterator[ui.column]:
    theme(actor)
    guard_page(actor)
    ui.page_title(f"{title} · SOLEil" if title else "SOLEil")
    with ui.header(elevated=True).classes("items-center gap-2 px-2 py-1 bg-secondary"):
        if back:
            ui.button(icon="arrow_back", on_click=lambda: ui.navigate.to(back)).props(
                'flat round color=white aria-label="Back"')
        with ui.column().classes("gap-0 grow min-w-0"):
            design.heading(title or actor.band_name).classes("truncate")
            if title:
                ui.label(actor.band_name).classes("text-xs opacity-80 truncate")
        with ui.button(icon="account_circle").props('flat round color=white aria-label="Account"'):
            with ui.menu():
                ui.menu_item(f"{actor.name}").props("disable")
                ui.menu_item("Profile", on_click=lambda: ui.navigate.to("/profile"))
                ui.menu_item("Offline sets", on_click=lambda: ui.navigate.to("/offline-sets")).mark("menu-offline")
                if actor.is_leader:
                    ui.menu_item("Members and invites", on_click=lambda: ui.navigate.to("/members"))
                    ui.menu_item("Library files", on_click=lambda: ui.navigate.to("/library/files"))
                band_switcher(actor)
                ui.menu_item("Sign out", on_click=pwa.sign_out)  # clears this device's offline sets first
    with ui.footer().classes("bg-white text-secondary p-0 border-t"):
        tabs = ui.tabs(value=active).classes("w-full")
        with tabs.props("dense no-caps active-color=primary indicator-color=primary"):
            for icon, label, href in NAV:
                ui.tab(label, label=label, icon=icon).on("click", lambda _e, h=href: ui.navigate.to(h))
    with ui.column().classes("soleil-main gap-3 p-3") as main:
        try:
            yield main
        except SoleilError as exc:  # a refusal or a missing thing: explain it inside the frame
            errors.log_error(exc, "page")
            errors.set_page_status(exc)
            main.clear()
            with main:
                errors.error_content(exc)
