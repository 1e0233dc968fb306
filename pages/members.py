"""Leaders manage the band: who is in it, who leads it, what each one plays and how they read, and invites
(links and emails)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from nicegui import APIRouter, ui

from components.guard import member_page
from components.layout import page_frame
from components.member_form import member_form
from soleil_ui.access import Actor
from soleil_ui.models import Invite, Membership, Role, User
from soleil_ui.parts import INSTRUMENTS, reading_choices
from soleil_ui.services import invites, members, work
from soleil_ui.settings import get_settings

router = APIRouter()
LIFETIMES = {1: "1 day", 7: "1 week", 30: "30 days", 90: "90 days"}


def _plays(membership: Membership) -> str:
    """ "Bass (reads chord charts first), Tuba": what they play, and how they read where they chose."""
    names = []
    for i in membership.instruments:
        key = i.get("instrument")
        if key not in INSTRUMENTS:
            continue
        reads = reading_choices(key).get((membership.reading or {}).get(key, ""), "")
        names.append(INSTRUMENTS[key].name + (f" {i['chair']}" if i.get("chair") else "")
                     + (f" (reads {reads[0].lower()}{reads[1:].split(',')[0]} first)" if reads else ""))
    return ", ".join(names) or "No instrument chosen yet"


def _invite_text(invite: Invite) -> str:
    until = f"until {invite.expires_at:%d %b %Y}"
    if invite.token_hash is None:
        return f"{invite.email} — joins on sign-in, {until}"
    who = f"only {invite.email}" if invite.email else "anyone with the link"
    return f"Link for {who}, {until} · used {invite.uses}×"


def _base_url(request: Request) -> str:
    public = get_settings().public_url
    return public.rstrip("/") if public else str(request.base_url).rstrip("/")


@router.page("/members")
@member_page
async def members_page(actor: Actor, request: Request) -> None:
    with page_frame(actor, "Members", back="/"):  # the frame explains a refusal (members.roster is leaders-only)
        await _member_list(actor)
        await _invite_section(actor, _base_url(request))
    return None


async def _member_list(actor: Actor) -> None:
    @ui.refreshable
    async def roster() -> None:
        rows = await work.act(members.roster, actor)
        ui.label(f"{len(rows)} in {actor.band_name}").classes("text-sm uppercase text-grey-7")
        with ui.list().props("separator").classes("w-full bg-white rounded-borders"):
            for membership, user in rows:
                _member_row(membership, user, actor)

    async def set_role(membership_id: int, role: str) -> None:
        await work.act(members.set_role, actor, membership_id, role)
        ui.notify("Role changed.", type="positive")
        roster.refresh()

    async def remove(membership_id: int, dialog: ui.dialog) -> None:
        dialog.close()
        await work.act(members.remove_member, actor, membership_id)
        ui.notify("Removed from the band.", type="positive")
        roster.refresh()

    def edit_playing(membership: Membership, user: User) -> None:
        """The member form for someone else: what they play and how they read (their name is theirs to change)."""
        who = user.name or user.email
        with ui.dialog().props('aria-label="Edit member"') as dialog, ui.card().classes("w-full max-w-md"):
            async def save(_name: str, instruments: list[dict[str, Any]], reading: dict[str, str]) -> None:
                await work.act(members.set_member_instruments, actor, membership.id or 0,
                               instruments=instruments, reading=reading)
                dialog.close()
                ui.notify(f"Saved what {who} plays.", type="positive")
                roster.refresh()

            member_form(None, list(membership.instruments), reading=membership.reading, whose=who,
                        submit_label="Save", on_submit=save)
            ui.button("Cancel", on_click=dialog.close).props("flat").classes("w-full")
        dialog.open()

    def _member_row(membership: Membership, user: User, actor: Actor) -> None:
        mid = membership.id
        assert mid is not None
        is_leader = membership.role == Role.LEADER
        with ui.item().classes("py-2").mark(f"member-{mid}"):
            with ui.item_section():
                ui.item_label(user.name or user.email).classes("font-medium")
                ui.item_label(user.email).props("caption")
                ui.item_label(_plays(membership)).props("caption")
            with ui.item_section().props("side"):
                with ui.row().classes("items-center gap-1 no-wrap"):
                    if is_leader:
                        ui.badge("Leader", color="secondary")
                    elif membership.role == Role.SUB:
                        ui.badge("Sub", color="accent", text_color="dark")
                    with ui.button(icon="more_vert").props(f'flat round aria-label="Manage {user.name or user.email}"'):
                        with ui.menu():
                            if membership.role != Role.MEMBER:
                                label = "Make a full member" if membership.role == Role.SUB else "Make member"
                                ui.menu_item(label, on_click=lambda m=mid: set_role(m, Role.MEMBER)) \
                                    .mark(f"make-member-{mid}")
                            if not is_leader:
                                ui.menu_item("Make leader", on_click=lambda m=mid: set_role(m, Role.LEADER)) \
                                    .mark(f"make-leader-{mid}")
                            ui.menu_item("What they play…", on_click=lambda m=membership, u=user: edit_playing(m, u)) \
                                .mark(f"playing-{mid}")
                            ui.menu_item("Remove from band", on_click=lambda: dialog.open()).mark(f"remove-{mid}")
            with ui.dialog().props('aria-label="Remove member"') as dialog, ui.card():
                ui.label(f"Remove {user.name or user.email} from {actor.band_name}? Their open pages close now; "
                         "you can invite them again later.")
                with ui.row().classes("w-full justify-end"):
                    ui.button("Cancel", on_click=dialog.close).props("flat")
                    ui.button("Remove", on_click=lambda m=mid, d=dialog: remove(m, d)) \
                        .props("unelevated color=negative").mark(f"confirm-remove-{mid}")

    await roster()


async def _invite_section(actor: Actor, base_url: str) -> None:
    ui.label("Invite people").classes("text-sm uppercase text-grey-7 mt-4")

    @ui.refreshable
    async def pending_list() -> None:
        rows = await work.act(invites.pending, actor)
        if not rows:
            ui.label("No open invites.").classes("text-grey-7")
        with ui.list().props("separator").classes("w-full bg-white rounded-borders"):
            for invite in rows:
                with ui.item():
                    with ui.item_section():
                        ui.item_label(_invite_text(invite))
                    with ui.item_section().props("side"):
                        ui.button("Withdraw", on_click=lambda i=invite.id: withdraw(i)).props("flat dense no-caps") \
                            .mark(f"withdraw-{invite.id}")

    async def withdraw(invite_id: int | None) -> None:
        await work.act(invites.revoke, actor, invite_id or 0)
        ui.notify("Invite withdrawn.", type="positive")
        pending_list.refresh()

    with ui.card().classes("w-full").props("flat bordered"):
        ui.label("Add by email").classes("font-medium")
        ui.label("Whoever signs in with this address joins the band.").classes("text-sm text-grey-7")
        email = ui.input("Email address").props("outlined dense type=email maxlength=320").classes("w-full") \
            .mark("invite-email")

        async def add_email() -> None:
            invite = await work.act(invites.invite_email, actor, email.value or "")
            ui.notify(f"{invite.email} can now sign in and join.", type="positive")
            email.value = ""
            pending_list.refresh()

        ui.button("Add", icon="person_add", on_click=add_email).props("unelevated").mark("add-email")

    with ui.card().classes("w-full").props("flat bordered"):
        ui.label("Invite link").classes("font-medium")
        ui.label("Send the link in your band's chat. Anyone with it can join until it expires, unless you tie it "
                 "to one email address.").classes("text-sm text-grey-7")
        tied = ui.input("Only for this email (optional)").props("outlined dense type=email maxlength=320") \
            .classes("w-full").mark("link-email")
        days = ui.select(LIFETIMES, value=7, label="Valid for").props("outlined dense").classes("w-40")
        shown = ui.input("Invite link").props("outlined dense readonly").classes("w-full").mark("link")
        shown.visible = False

        async def make_link() -> None:
            _invite, token = await work.act(invites.create_link, actor, email=tied.value or None,
                                            days=int(days.value or 7))
            shown.value = f"{base_url}/join/{token}"
            shown.visible = True
            ui.clipboard.write(shown.value)
            ui.notify("Link created and copied. It is shown only now.", type="positive")
            pending_list.refresh()

        ui.button("Create link", icon="link", on_click=make_link).props("unelevated").mark("create-link")

    await pending_list()
