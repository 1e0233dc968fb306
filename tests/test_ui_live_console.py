"""The one-thumb live console through NiceGUI's simulated user (issue 18 point 1): a row tap calls its song at once
and offers a short Undo that goes back to the song before; the set's time and who follows are shown."""

from __future__ import annotations

import pytest
from nicegui.testing import User

from components.stand import Stand
from soleil_ui.db import db
from soleil_ui.services import live, setlists
from tests.conftest import settle
from tests.markers import SQLITE_ONLY
from tests.test_ui_setlists import another_user, demo_setlist, enter_as

pytestmark = [SQLITE_ONLY, pytest.mark.usefixtures("demo_env")]


async def test_a_row_tap_calls_the_song_and_undo_goes_back(user: User) -> None:
    leader = await enter_as(user, "Morgan Lee")
    setlist_id = await demo_setlist()
    async with db.session() as session:
        songs = [e for e in await setlists.entries(session, leader, setlist_id) if not e.is_break]
    await user.open(f"/setlists/{setlist_id}")
    await user.should_not_see(marker="console-set")  # not live: no set rows, no held buttons
    user.find(marker="go-live").click()
    await settle()
    await user.should_see(marker=f"console-song-{songs[3].item_id}")
    await user.should_see("Elapsed 0:")
    user.find(marker="live-next").click()
    await settle()
    await user.should_see(f"Called: {songs[1].label}")
    user.find(marker=f"console-song-{songs[3].item_id}").click()
    await settle()
    async with db.session() as session:
        state = await live.current(session, leader)
    assert state is not None and state.current_item_id == songs[3].item_id
    await user.should_see(f"Called: {songs[3].label}")
    row = user.find(marker=f"console-song-{songs[3].item_id}").elements.pop()
    assert "sl-now" in row.classes
    user.find(marker="console-undo").click()
    await settle()
    async with db.session() as session:
        state = await live.current(session, leader)
    assert state is not None and state.current_item_id == songs[1].item_id
    assert "sl-now" not in row.classes
    await user.should_not_see(marker="console-called")


async def test_the_leader_chooses_that_followers_turn_pages_with_the_leaders_stand(user: User) -> None:
    leader = await enter_as(user, "Morgan Lee")
    setlist_id = await demo_setlist()
    async with db.session() as session:
        songs = [e for e in await setlists.entries(session, leader, setlist_id) if not e.is_break]
    await user.open(f"/setlists/{setlist_id}")
    user.find(marker="go-live").click()
    await settle()
    switch = next(iter(user.find(marker="console-turn-pages").elements))
    assert switch.value is False  # off by default
    stand_tab = another_user()  # the leader's own stand, on /live, turns the pages
    await enter_as(stand_tab, "Morgan Lee")
    await stand_tab.open(f"/live/{setlist_id}")
    await settle()
    stand = next(iter(stand_tab.find(kind=Stand).elements))
    assert stand.props["drives"] is True  # the leader's stand ignores its own turns coming back
    for song in songs:  # call a song of more than one page in the leader's part
        if len(stand.pages) > 1:
            break
        user.find(marker=f"console-song-{song.item_id}").click()
        await settle()
    assert len(stand.pages) > 1

    async def leader_page() -> tuple[int, bool]:
        async with db.session() as session:
            state = await live.current(session, leader)
        assert state is not None
        return state.page, state.turn_pages

    stand_tab.find(kind=Stand).trigger("page_change", {"page": 1, "pages": len(stand.pages)})
    await settle()
    assert await leader_page() == (0, False)  # not asked for: the followers keep their own pages
    user.find(marker="console-turn-pages").click()
    await settle()
    assert await leader_page() == (0, True)
    stand_tab.find(kind=Stand).trigger("page_change", {"page": 1, "pages": len(stand.pages)})
    await settle()
    assert await leader_page() == (1, True)
    user.find(marker="live-next").click()  # a new song opens at its first page
    await settle()
    assert await leader_page() == (0, True)
    assert switch.value is True
