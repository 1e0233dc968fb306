"""The profile's "Tokens" section: personal access tokens for scripts and AI assistants (the JSON API and MCP).

A new token's secret is shown once, right after it is made; the list shows each token's name, scope, expiry and last
use, with Revoke. Substitutes get a sentence instead (they can't make tokens). The rules are ``services.tokens``'.
"""

from __future__ import annotations

from datetime import datetime

from nicegui import ui

from soleil_ui.access import Actor
from soleil_ui.services import tokens, work

LIFETIMES = {30: "30 days", 90: "90 days", 365: "A year"}


def _when(at: datetime | None) -> str:
    return at.strftime("%d %b %Y") if at else "never"


async def tokens_section(actor: Actor) -> None:
    """Render the section for ``actor`` (the profile page calls this once)."""
    ui.separator().classes("my-2")
    ui.label("Tokens for apps and assistants").classes("text-sm uppercase text-grey-7")
    scopes = tokens.scopes_for(actor)
    if not scopes:
        ui.label("Substitutes can't make tokens; your gig is all here in SOLEil.").classes("text-sm text-grey-7") \
            .mark("tokens-sub")
        return
    ui.label("A token lets a script or an AI assistant act as you in " + actor.band_name + ": see /api/docs, or "
             "connect an MCP client to /mcp. Keep it secret, like a password.").classes("text-sm text-grey-8")
    shown = ui.column().classes("w-full gap-1")
    listing = ui.column().classes("w-full gap-1").mark("token-list")

    async def refresh() -> None:
        mine = await work.act(tokens.list_tokens, actor)
        listing.clear()
        with listing:
            if not mine:
                ui.label("No tokens yet.").classes("text-sm text-grey-7")
            for info in mine:
                with ui.row().classes("w-full items-center justify-between no-wrap").mark(f"token-{info.id}"):
                    with ui.column().classes("gap-0"):
                        ui.label(f"{info.name} · {info.scope}").classes("text-body2")
                        ui.label(f"{info.prefix}… · expires {_when(info.expires_at)} · last used "
                                 f"{_when(info.last_used_at)}").classes("text-xs text-grey-7")
                    ui.button("Revoke", on_click=lambda i=info.id: revoke(i)).props("flat dense color=negative") \
                        .mark(f"revoke-{info.id}")

    async def revoke(token_id: int) -> None:
        await work.act(tokens.revoke_token, actor, token_id)
        ui.notify("Token revoked: programs using it are turned away from now on.")
        await refresh()

    async def create() -> None:
        info, secret = await work.act(tokens.create_token, actor, name.value or "", scope=scope.value,
                                      days=int(days.value))
        name.value = ""
        shown.clear()
        with shown:
            ui.label(f"Your token “{info.name}”. Copy it now: it is shown only this once.").classes("text-sm")
            ui.input(value=secret).props("readonly outlined dense").classes("w-full font-mono").mark("token-secret")
            ui.button("Copy", icon="content_copy", on_click=lambda: ui.clipboard.write(secret)).props("flat")
        await refresh()

    with ui.row().classes("w-full items-end gap-2"):
        name = ui.input("Token name", placeholder="Band website calendar").props("dense outlined maxlength=80") \
            .classes("grow").mark("token-name")
        scope = ui.select({s: {"read": "Read", "write": "Read and change"}[s] for s in scopes}, value=tokens.READ,
                          label="Access").props("dense outlined").mark("token-scope")
        days = ui.select(LIFETIMES, value=tokens.DEFAULT_DAYS, label="Lasts").props("dense outlined") \
            .mark("token-days")
    ui.button("Create token", icon="key", on_click=create).props("unelevated").mark("token-create")
    await refresh()
