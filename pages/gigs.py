"""Gigs: when, where, call times, the setlist for the night; who can make it; substitutes; the calendar feed."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

from fastapi import Request
from nicegui import APIRouter, ui

from components import pwa
from components.guard import leader_page, member_page
from components.layout import page_frame
from components.live_bar import LiveBanner, LiveWatcher
from components.member_form import CHAIR_OPTIONS, INSTRUMENT_OPTIONS
from soleil_ui.access import Actor
from soleil_ui.errors import InvalidInput
from soleil_ui.models import Gig
from soleil_ui.services import gigs, page_data, work
from soleil_ui.settings import get_settings

router = APIRouter()
ANSWERS = {"yes": "Yes", "maybe": "Maybe", "no": "No"}


def _when(gig: Gig, zone: ZoneInfo) -> str:
    return f"{gig.starts_at.astimezone(zone):%a %d %b %Y, %H:%M}"


def availability_toggle(actor: Actor, gig_id: int, value: str | None) -> None:
    """My answer for a gig, saved as I tap it."""
    async def answer(status: str | None) -> None:
        if status:
            await work.act(gigs.set_availability, actor, gig_id, status)
            ui.notify(f"Saved: {ANSWERS[status].lower()}", position="top")

    ui.toggle(ANSWERS, value=value, on_change=lambda e: answer(e.value)).props(
        "dense unelevated no-caps toggle-color=primary").mark(f"answer-{gig_id}")


@router.page("/gigs")
@member_page
async def gigs_page(actor: Actor, request: Request) -> None:
    data = await page_data.gig_list(actor)
    zone, upcoming, played, mine, feed, state = data.zone, data.upcoming, data.played, data.mine, data.feed, data.live
    with page_frame(actor, "Gigs", active="Gigs"):
        LiveBanner(actor, LiveWatcher(actor, state))
        if actor.is_leader:
            ui.button("New gig", icon="add", on_click=lambda: ui.navigate.to("/gigs/new")).props("unelevated") \
                .mark("new-gig")
        if not upcoming:
            ui.label("No gigs planned yet.").classes("text-grey-7")
        for gig in upcoming:
            assert gig.id is not None
            with ui.card().classes("w-full").props("flat bordered"):
                with ui.column().classes("gap-0 w-full cursor-pointer").on(
                        "click", lambda _e, g=gig.id: ui.navigate.to(f"/gigs/{g}")):
                    ui.label(gig.title).classes("text-lg font-medium")
                    ui.label(f"{_when(gig, zone)} · {gig.venue}" if gig.venue else _when(gig, zone)) \
                        .classes("text-grey-8")
                if not actor.is_sub:
                    with ui.row().classes("items-center gap-2"):
                        ui.label("Can you play?").classes("text-sm text-grey-7")
                        availability_toggle(actor, gig.id, mine.get(gig.id))
        if played:
            with ui.expansion("Past gigs", icon="history").classes("w-full bg-white rounded-borders"):
                for gig in played:
                    ui.link(f"{gig.title} · {_when(gig, zone)}", f"/gigs/{gig.id}").classes("block py-1")
        if not actor.is_sub:
            calendar_card(actor, feed is not None, feed.created_at if feed else None, zone,
                          get_settings().public_url or str(request.base_url))
            if actor.is_leader:
                await feeds_panel(actor, zone)
    return None


def calendar_card(actor: Actor, has_feed: bool, created: datetime | None, zone: ZoneInfo,
                  base_url: str) -> None:
    """My private calendar link: shown once when made (only its hash is kept), renewable, revocable."""
    with ui.card().classes("w-full").props("flat bordered"):
        ui.label("Gigs in your phone's calendar").classes("font-medium")
        status = ui.label(f"Your private calendar link is on (made {created.astimezone(zone):%d %b %Y})."
                          if has_feed and created else
                          "Subscribe once and every gig shows up in your calendar, kept up to date.") \
            .classes("text-sm text-grey-8")
        shown = ui.column().classes("w-full gap-1")

        async def make() -> None:
            token = await work.act(gigs.new_feed, actor)
            url = f"{base_url.rstrip('/')}/calendar/{token}.ics"
            shown.clear()
            with shown:
                ui.label("Add this link to your calendar app (\"Add calendar\" → \"From URL\"). It is shown only "
                         "now; anyone who has it sees the band's gigs.").classes("text-sm")
                ui.input(value=url).props("readonly outlined dense").classes("w-full").mark("feed-url")
                with ui.row().classes("gap-2 items-center"):
                    ui.button("Copy", icon="content_copy", on_click=lambda: ui.clipboard.write(url)).props("flat")
                    ui.link("Open in calendar", "webcal://" + url.split("://", 1)[-1])
            status.set_text("Your private calendar link is on. Making a new one turns the old one off.")

        async def turn_off() -> None:
            await work.act(gigs.revoke_feed, actor, actor.membership_id)
            shown.clear()
            status.set_text("Your calendar link is off.")

        with ui.row().classes("gap-2"):
            ui.button("New calendar link" if has_feed else "Create my calendar link", icon="event",
                      on_click=make).props("unelevated").mark("feed-create")
            ui.button("Turn off", on_click=turn_off).props("flat").mark("feed-off")


async def feeds_panel(actor: Actor, zone: ZoneInfo) -> None:
    rows = [r for r in await work.act(gigs.feeds, actor) if r.created_at is not None]
    if not rows:
        return
    with ui.expansion("Members' calendar links", icon="key").classes("w-full bg-white rounded-borders"):
        for row in rows:
            with ui.row().classes("w-full items-center"):
                assert row.created_at is not None
                used = f", last read {row.last_used_at.astimezone(zone):%d %b}" if row.last_used_at else ""
                ui.label(f"{row.name} (made {row.created_at.astimezone(zone):%d %b}{used})").classes("grow")

                async def revoke(membership_id: int = row.membership_id, name: str = row.name) -> None:
                    await work.act(gigs.revoke_feed, actor, membership_id)
                    ui.notify(f"{name}'s calendar link no longer works.", position="top")

                ui.button("Revoke", on_click=revoke).props("flat dense color=negative") \
                    .mark(f"revoke-feed-{row.membership_id}")


@router.page("/gigs/new")
@leader_page
async def new_gig_page(actor: Actor) -> None:
    with page_frame(actor, "New gig", active="Gigs", back="/gigs"):
        await gig_form(actor, None)
    return None


@router.page("/gigs/{gig_id:id}/edit")
@leader_page
async def edit_gig_page(actor: Actor, gig_id: int) -> None:
    gig = await page_data.gig_to_edit(actor, gig_id)
    with page_frame(actor, f"Edit {gig.title}", active="Gigs", back=f"/gigs/{gig_id}"):
        await gig_form(actor, gig)
    return None


def _local(day: str, clock: str, zone: ZoneInfo, label: str) -> datetime | None:
    """A date and a time typed in the band's time zone, as an aware datetime."""
    if not clock:
        return None
    try:
        return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), zone)
    except ValueError:
        raise InvalidInput(f"Check the {label}.") from None


async def gig_form(actor: Actor, gig: Gig | None) -> None:
    form = await page_data.gig_form(actor)
    zone, lists = form.zone, form.setlists
    start = gig.starts_at.astimezone(zone) if gig else None
    ui.label(f"Times are in the band's time zone ({zone.key}).").classes("text-sm text-grey-7")
    title = ui.input("Title", value=gig.title if gig else "").props("outlined maxlength=200").classes("w-full") \
        .mark("gig-title")
    day = ui.input("Date", value=start.date().isoformat() if start else "").props("outlined type=date") \
        .classes("w-full").mark("gig-date")
    with ui.row().classes("w-full gap-2 no-wrap"):
        load_in = ui.input("Load-in", value=f"{gig.load_in_at.astimezone(zone):%H:%M}" if gig and gig.load_in_at
                           else "").props("outlined type=time").classes("grow").mark("gig-load-in")
        downbeat = ui.input("Downbeat", value=f"{start:%H:%M}" if start else "20:00").props(
            "outlined type=time").classes("grow").mark("gig-downbeat")
        ends = ui.input("Ends", value=f"{gig.ends_at.astimezone(zone):%H:%M}" if gig and gig.ends_at else "").props(
            "outlined type=time").classes("grow").mark("gig-ends")
    venue = ui.input("Venue", value=gig.venue if gig else "").props("outlined maxlength=200").classes("w-full") \
        .mark("gig-venue")
    address = ui.input("Address", value=gig.address if gig else "").props("outlined maxlength=300") \
        .classes("w-full").mark("gig-address")
    dress = ui.input("Dress code", value=gig.dress_code if gig else "").props("outlined maxlength=200") \
        .classes("w-full").mark("gig-dress")
    notes = ui.textarea("Notes", value=gig.notes if gig else "").props("outlined autogrow maxlength=2000") \
        .classes("w-full").mark("gig-notes")
    setlist = ui.select({s.id: s.name for s in lists}, label="Setlist for the night",
                        value=gig.setlist_id if gig else None, clearable=True).props("outlined") \
        .classes("w-full").mark("gig-setlist")

    async def save() -> None:
        if not day.value:
            raise InvalidInput("Choose the date.")
        starts_at = _local(day.value, downbeat.value or "", zone, "downbeat time")
        if starts_at is None:
            raise InvalidInput("Choose the downbeat time.")
        load_in_at = _local(day.value, load_in.value or "", zone, "load-in time")
        ends_at = _local(day.value, ends.value or "", zone, "end time")
        if ends_at is not None and ends_at <= starts_at:  # ends after midnight
            ends_at = datetime.combine(ends_at.date() + timedelta(days=1), ends_at.timetz().replace(tzinfo=None),
                                       zone)
        if load_in_at is not None and load_in_at > starts_at:  # loaded in the evening before a morning show
            load_in_at = datetime.combine(load_in_at.date() - timedelta(days=1),
                                          load_in_at.timetz().replace(tzinfo=None), zone)
        fields = {"title": title.value, "starts_at": starts_at, "load_in_at": load_in_at, "ends_at": ends_at,
                  "venue": venue.value, "address": address.value, "dress_code": dress.value, "notes": notes.value,
                  "setlist_id": setlist.value}
        if gig is None:
            saved = await work.act(gigs.create_gig, actor, **fields)
        else:
            saved = await work.act(gigs.update_gig, actor, gig.id or 0, **fields)
        ui.navigate.to(f"/gigs/{saved.id}")

    ui.button("Save gig", icon="check", on_click=save).props("unelevated size=lg").classes("w-full") \
        .mark("gig-save")


@router.page("/gigs/{gig_id:id}")
@member_page
async def gig_page(actor: Actor, gig_id: int) -> None:
    data = await page_data.gig(actor, gig_id)
    zone, gig, mine, answers, subs, played, setlist = (data.zone, data.gig, data.mine, data.answers, data.subs,
                                                       data.played, data.setlist)
    with page_frame(actor, gig.title, active="Gigs", back="/gigs"):
        with ui.card().classes("w-full").props("flat bordered"):
            ui.label(f"{gig.starts_at.astimezone(zone):%A %d %B %Y}").classes("text-lg font-medium")
            if gig.load_in_at:
                ui.label(f"Load-in {gig.load_in_at.astimezone(zone):%H:%M}")
            ui.label(f"Downbeat {gig.starts_at.astimezone(zone):%H:%M}"
                     + (f" · ends {gig.ends_at.astimezone(zone):%H:%M}" if gig.ends_at else ""))
            if gig.venue or gig.address:
                place = ", ".join(x for x in (gig.venue, gig.address) if x)
                ui.label(place)
                ui.link("Open in maps", f"https://www.google.com/maps/search/?api=1&query={quote_plus(place)}",
                        new_tab=True)
            if gig.dress_code:
                ui.label(f"Dress: {gig.dress_code}")
            if gig.notes:
                ui.label(gig.notes).classes("whitespace-pre-line text-grey-8")
        if setlist is not None:
            ui.button(f"Setlist: {setlist.name}", icon="queue_music",
                      on_click=lambda: ui.navigate.to(f"/setlists/{gig.setlist_id}")).props("unelevated no-caps") \
                .classes("w-full").mark("gig-setlist-button")
            pwa.offline_button(setlist.id or 0, setlist.name)
        if not actor.is_sub:
            with ui.row().classes("items-center gap-2"):
                ui.label("Can you play?").classes("text-grey-8")
                availability_toggle(actor, gig_id, mine.get(gig_id))
        if played:
            ui.label("What was played").classes("text-sm uppercase text-grey-7 mt-2")
            with ui.list().props("dense").classes("w-full bg-white rounded-borders"):
                for number, performance in enumerate(played, 1):
                    ui.item(f"{number}. {performance.title}")
        if actor.is_leader:
            _who_can_play(answers)
            _substitutes(actor, gig_id, subs)
            with ui.row().classes("w-full gap-2 mt-2"):
                ui.button("Edit", icon="edit", on_click=lambda: ui.navigate.to(f"/gigs/{gig_id}/edit")) \
                    .props("outline").mark("gig-edit")
                ui.button("Delete", icon="delete", on_click=lambda: _confirm_delete(actor, gig)).props(
                    "flat color=negative").mark("gig-delete")
    return None


def _who_can_play(answers: list[gigs.Answer]) -> None:
    counts = gigs.availability_counts(answers)
    ui.label("Who can play").classes("text-sm uppercase text-grey-7 mt-2")
    ui.label(f"{counts['yes']} yes · {counts['maybe']} maybe · {counts['no']} no · {counts['unanswered']} "
             "haven't answered").classes("text-sm").mark("availability-counts")
    icons = {"yes": ("check_circle", "positive"), "maybe": ("help", "orange-8"), "no": ("cancel", "negative"),
             None: ("radio_button_unchecked", "grey-5")}
    with ui.list().props("dense separator").classes("w-full bg-white rounded-borders"):
        for answer in answers:
            icon, color = icons[answer.status]
            with ui.item():
                with ui.item_section().props("avatar"):
                    ui.icon(icon, color=color)
                with ui.item_section():
                    ui.item_label(answer.name + (" (sub)" if answer.role == "sub" else ""))
                    played = ", ".join(INSTRUMENT_OPTIONS.get(i.get("instrument", ""), "") for i in answer.instruments)
                    ui.item_label(played).props("caption")


def _substitutes(actor: Actor, gig_id: int, subs: list[tuple[gigs.Membership, gigs.User]]) -> None:
    ui.label("Substitutes").classes("text-sm uppercase text-grey-7 mt-2")
    ui.label("A substitute signs in with this email and sees only this gig and its setlist, in their part, until "
             "the night after.").classes("text-sm text-grey-7")
    for membership, person in subs:
        with ui.row().classes("w-full items-center"):
            ui.label(f"{person.name or person.email} · {person.email}").classes("grow")

            async def remove(membership_id: int = membership.id or 0) -> None:
                await work.act(gigs.remove_sub, actor, membership_id)
                ui.navigate.reload()

            ui.button(icon="person_remove", on_click=remove).props('flat round aria-label="Remove substitute"')
    with ui.expansion("Invite a substitute", icon="person_add").classes("w-full bg-white rounded-borders") \
            .mark("invite-sub"):
        email = ui.input("Email").props("outlined dense type=email").classes("w-full").mark("sub-email")
        name = ui.input("Name").props("outlined dense maxlength=120").classes("w-full").mark("sub-name")
        with ui.row().classes("w-full gap-2 no-wrap"):
            instrument = ui.select(INSTRUMENT_OPTIONS, label="Plays", with_input=True).props("outlined dense") \
                .classes("grow").mark("sub-instrument")
            chair = ui.select(CHAIR_OPTIONS, value=0, label="Chair").props("outlined dense").classes("w-28")

        async def invite() -> None:
            await work.act(gigs.invite_sub, actor, gig_id, email=email.value or "", name=name.value or "",
                           instruments=[{"instrument": instrument.value, "chair": chair.value or None}]
                           if instrument.value else [])
            ui.notify("Substitute added. They sign in with that email.", position="top")
            ui.navigate.reload()

        ui.button("Add substitute", on_click=invite).props("unelevated").mark("sub-add")


def _confirm_delete(actor: Actor, gig: Gig) -> None:
    with ui.dialog().props('aria-label="Delete gig"') as dialog, ui.card():
        ui.label(f"Delete {gig.title}?").classes("text-lg font-medium")
        ui.label("Its substitutes lose access.").classes("text-grey-8")

        async def delete() -> None:
            await work.act(gigs.delete_gig, actor, gig.id or 0)
            dialog.close()
            ui.navigate.to("/gigs")

        with ui.row().classes("w-full justify-end"):
            ui.button("Keep it", on_click=dialog.close).props("flat")
            ui.button("Delete", on_click=delete).props("unelevated color=negative").mark("gig-delete-confirm")
    dialog.open()
