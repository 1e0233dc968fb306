"""Setlists, live mode, gigs and the stage print through NiceGUI's simulated users, on the demo band (SQLite and
PostgreSQL): a leader's edits and calls reach a member's open page in place, without a reload."""

from __future__ import annotations

import io

import httpx
import pypdfium2
import pytest
from nicegui import core
from nicegui.testing import User
from sqlmodel import select

from components.stand import Stand
from soleil_ui.db import db
from soleil_ui.models import Setlist
from soleil_ui.services import setlist_plan, setlists
from tests.conftest import settle, settling
from tests.factories import band_with_songs, enter_as, rows_order
from tests.markers import SQLITE_ONLY

pytestmark = [SQLITE_ONLY, pytest.mark.usefixtures("demo_env")]


def another_user() -> User:
    """A second person on the same app (their own cookies and page)."""
    other = User(httpx.AsyncClient(transport=httpx.ASGITransport(core.app), base_url="http://test"))
    settling(other)
    return other




async def demo_setlist() -> int:
    async with db.session() as session:
        return (await session.exec(select(Setlist.id).where(Setlist.name == "Friday at the Blue Room"))).one()




def stand_of(user: User) -> Stand:
    return next(iter(user.find(kind=Stand).elements))


async def test_leader_edits_reach_a_members_open_setlist_in_place(user: User) -> None:
    leader = await enter_as(user, "Morgan Lee")
    setlist_id = await demo_setlist()
    member = another_user()
    await enter_as(member, "Ava Brooks")
    await member.open(f"/setlists/{setlist_id}")
    await member.should_see("your part")
    await member.should_not_see(marker="add-songs")
    await member.should_not_see(marker="drag-handle")
    before = {int(e.props["data-item-id"]): e.id for e in user_find_rows(member)}
    await user.open(f"/setlists/{setlist_id}")
    await user.should_see(marker="add-songs")
    async with db.session() as session:
        entries = await setlists.entries(session, leader, setlist_id)
    first_song = next(e for e in entries if not e.is_break)

    user.find(marker=f"down-{first_song.item_id}").click()
    await settle()
    user.find(marker=f"edit-{first_song.item_id}").click()
    user.find(marker="edit-notes").type("Ava solos, segue")
    user.find(marker="edit-key").type("Eb")
    user.find(marker="edit-save").click()
    await settle()
    await member.should_see("Ava solos, segue")
    await member.should_see("E♭")
    await settle()
    async with db.session() as session:
        now = [e.item_id for e in await setlists.entries(session, leader, setlist_id)]
    assert now.index(first_song.item_id) == entries.index(first_song) + 1
    assert rows_order(member) == now == rows_order(user)
    after = {int(e.props["data-item-id"]): e.id for e in user_find_rows(member)}
    assert after == before  # the same elements, changed in place: nothing was rebuilt

    user.find(marker="undo").click()  # undo the note and key
    await settle()
    await member.should_not_see("Ava solos, segue")
    user.find(marker="undo").click()  # and the move
    await settle()
    assert rows_order(member) == [e.item_id for e in entries]


def user_find_rows(user: User) -> list:
    column = user.find(marker="setlist-rows").elements.pop()
    return list(column.default_slot.children)


async def test_leader_calls_songs_and_a_follower_reads_each_in_their_part(user: User) -> None:
    leader = await enter_as(user, "Morgan Lee")
    setlist_id = await demo_setlist()
    member = another_user()
    ava = await enter_as(member, "Ava Brooks")
    async with db.session() as session:
        plan = await setlist_plan.stand_plan(session, ava, setlist_id)
    await member.open(f"/live/{setlist_id}")
    await user.open(f"/setlists/{setlist_id}")
    user.find(marker="go-live").click()
    await settle()
    for expected in plan.stops[:3]:
        stand = stand_of(member)
        assert stand.props["title"] == expected.title
        assert expected.chart is not None
        assert f"/media/charts/{expected.chart.id}/" in stand.pages[0]["src"]  # Ava's own part
        user.find(marker="live-next").click()
        await settle()
    await member.should_see(marker="live-chip")
    # The follower browses ahead: the next call doesn't drag her back, and one tap returns her to the live song.
    stand = stand_of(member)  # live is on stops[3]; she reads two songs ahead
    for _ in range(2):
        member.find(kind=Stand).trigger("song_request", {"direction": "next"})
        await settle()
    assert stand.props["title"] == plan.stops[5].title
    user.find(marker="live-next").click()  # the leader calls stops[4]
    await settle()
    assert stand.props["title"] == plan.stops[5].title  # not dragged back
    await member.should_see("Back to live")
    member.find(marker="live-chip-action").click()
    await settle()
    assert stand_of(member) is stand and stand.props["title"] == plan.stops[4].title  # swapped in place
    user.find(marker="live-next").click()
    await settle()
    assert stand.props["title"] == plan.stops[5].title  # attached again: follows the next call
    await user.should_see(f"Now: {plan.stops[5].title}")
    await user.should_see(marker=f"presence-{ava.membership_id}")
    await settle()
    chip = next(iter(user.find(marker=f"presence-{ava.membership_id}").elements))
    assert chip.props["aria-label"] == "Ava Brooks: following"
    assert leader.is_leader
    await member.open("/")  # home and the library say the band is live, one tap from the stand
    await member.should_see(f"Live now: {plan.name}")
    await member.should_see(f"Now: {plan.stops[5].title}")
    await member.open("/library")
    await member.should_see(f"Live now: {plan.name}")
    await member.open(f"/songs/{plan.stops[0].song_id}")  # a called song was played tonight
    await member.should_see("Last played")


async def test_stand_steps_through_a_setlist_in_place_and_the_print_is_big(user: User) -> None:
    ava = await enter_as(user, "Ava Brooks")
    setlist_id = await demo_setlist()
    async with db.session() as session:
        plan = await setlist_plan.stand_plan(session, ava, setlist_id)
    first = plan.stops[0]
    assert first.chart is not None
    await user.open(f"/stand/{first.chart.id}?setlist={setlist_id}")
    stand = stand_of(user)
    assert (stand.props["title"], stand.props["prev_title"], stand.props["next_title"]) == (
        first.title, None, plan.stops[1].title)
    user.find(kind=Stand).trigger("song_request", {"direction": "next"})
    await settle()
    assert stand_of(user).id == stand.id and stand.props["title"] == plan.stops[1].title
    assert stand.props["prev_title"] == first.title

    response = await user.http_client.get(f"/setlists/{setlist_id}/print.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    pdf = pypdfium2.PdfDocument(io.BytesIO(response.content))
    assert len(pdf) == 2  # Set 1, Set 2
    text = pdf[0].get_textpage().get_text_range()
    assert "Set 1" in text and plan.stops[0].title in text
    other, _, _ = await band_with_songs("Other band")
    async with db.session() as session:
        foreign = await setlists.create_setlist(session, other, "Secret")
    assert (await user.http_client.get(f"/setlists/{foreign.id}/print.pdf")).status_code == 404
    anonymous = httpx.AsyncClient(transport=httpx.ASGITransport(core.app), base_url="http://test")
    assert (await anonymous.get(f"/setlists/{setlist_id}/print.pdf")).status_code == 401


async def test_gigs_availability_and_calendar_link(user: User) -> None:
    await enter_as(user, "Morgan Lee")
    await user.open("/gigs/new")
    user.find(marker="gig-title").type("Sunday brunch")
    user.find(marker="gig-date").type("2031-06-01")
    user.find(marker="gig-downbeat").clear().type("11:30")
    user.find(marker="gig-load-in").type("10:00")
    user.find(marker="gig-venue").type("Harbour Café")
    user.find(marker="gig-save").click()
    await settle()
    await user.should_see("Sunday 01 June 2031")
    await user.should_see("Load-in 10:00")
    await user.should_see(marker="availability-counts")
    member = another_user()
    await enter_as(member, "Luis Ortega")
    await member.open("/gigs")
    await member.should_see("Sunday brunch")
    member.find(marker="feed-create").click()
    await settle()
    await member.should_see(marker="feed-url")
    url = next(iter(member.find(marker="feed-url").elements)).value
    assert "/calendar/" in url and url.endswith(".ics")
    feed = await member.http_client.get(url.split("http://test", 1)[-1])
    assert feed.status_code == 200 and "Sunday brunch" in feed.text


async def test_the_leaders_console_reloads_into_a_live_set_and_ends_it(user: User) -> None:
    await enter_as(user, "Morgan Lee")
    setlist_id = await demo_setlist()
    await user.open(f"/setlists/{setlist_id}")
    user.find(marker="go-live").click()
    await settle()
    second = another_user()  # the same leader's second tab (or the first one reloaded): the console, not an error
    await enter_as(second, "Morgan Lee")
    await second.open(f"/setlists/{setlist_id}")
    await second.should_see(marker="end-live")
    await second.should_see("Now: ")
    second.find(marker="end-live").click()
    await settle()
    await user.should_see("Not live")
    await second.should_see(marker="go-live")


async def test_a_stale_report_after_a_reconnect_never_detaches_a_follower(user: User) -> None:
    await enter_as(user, "Morgan Lee")
    setlist_id = await demo_setlist()
    member = another_user()
    ava = await enter_as(member, "Ava Brooks")
    async with db.session() as session:
        plan = await setlist_plan.stand_plan(session, ava, setlist_id)
    await user.open(f"/setlists/{setlist_id}")
    user.find(marker="go-live").click()
    await settle()
    await member.open(f"/live/{setlist_id}")
    stand = stand_of(member)
    user.find(marker="live-next").click()  # the call the phone missed while cut off (replayed to it meanwhile)
    await settle()
    assert stand.props["title"] == plan.stops[1].title
    # back online, the browser reports the song it showed before the replay, having chosen nothing itself
    member.find(kind=Stand).trigger("song_change", {"index": 0, "choice": 0, "resync": True})
    await settle()
    chip = next(iter(member.find(marker="live-chip").elements))
    assert chip.props["data-state"] == "following"
    user.find(marker="live-next").click()
    await settle()
    assert stand.props["title"] == plan.stops[2].title  # still follows
    # a real choice made while cut off (the reader's first) detaches, and the console says so
    member.find(kind=Stand).trigger("song_change", {"index": 0, "choice": 1, "resync": True})
    await settle()
    assert chip.props["data-state"] == "detached"
    assert stand.props["title"] == plan.stops[0].title
    await user.should_see(marker=f"presence-{ava.membership_id}")
    await settle()
    presence = next(iter(user.find(marker=f"presence-{ava.membership_id}").elements))
    assert presence.props["aria-label"] == "Ava Brooks: detached"
    user.find(marker="live-next").click()
    await settle()
    assert stand.props["title"] == plan.stops[0].title  # never dragged back
