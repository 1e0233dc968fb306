"""One tap from a library row to my part on the stand; the song page stays one tap away (issue 18 point 3)."""

from __future__ import annotations

import pytest
from nicegui.testing import User

from soleil_ui.db import db
from soleil_ui.services import library
from tests.conftest import settle
from tests.markers import SQLITE_ONLY
from tests.test_ui_setlists import enter_as

pytestmark = [SQLITE_ONLY, pytest.mark.usefixtures("demo_env")]


async def test_a_library_row_with_my_part_opens_it_on_the_stand_and_its_button_the_song(user: User) -> None:
    ava = await enter_as(user, "Ava Brooks")
    async with db.session() as session:
        page = await library.search_songs(session, ava, "", limit=100)
    mine = next(r for r in page.rows if r.playable)
    other = next((r for r in page.rows if not r.playable), None)
    await user.open("/library")
    await user.should_see(marker=f"open-part-{mine.song_id}")
    user.find(marker=f"open-part-{mine.song_id}").click()
    await settle()
    assert user.back_history[-1].startswith(f"/stand/{mine.chart_id}")

    await user.open("/library")
    user.find(marker=f"song-page-{mine.song_id}").click()
    await settle()
    assert user.back_history[-1] == f"/songs/{mine.song_id}"
    if other is not None:  # a song without my part still opens its song page
        await user.open("/library")
        await user.should_not_see(marker=f"open-part-{other.song_id}")
        user.find(marker=f"song-row-{other.song_id}").click()
        await settle()
        assert user.back_history[-1] == f"/songs/{other.song_id}"
