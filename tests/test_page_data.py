"""The screens' data and the leader's library screen through the core: scoped to the band, roles checked there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from soleil_ui.db import db
from soleil_ui.errors import Forbidden, NotFound
from soleil_ui.models import Role
from soleil_ui.services import gigs, library_admin, page_data
from soleil_ui.services.setlist_view import concert_keys
from soleil_ui.services.setlists import SetlistEntry
from tests.library_helpers import add_member, band_with_member

pytestmark = pytest.mark.usefixtures("core")
TRUMPET = [{"instrument": "trumpet", "chair": 1}]


async def test_gig_page_data_shows_answers_to_leaders_only_and_stays_in_the_band() -> None:
    leader = await band_with_member("Band", TRUMPET, role=Role.LEADER)
    member, _ = await add_member(leader.band_id, "m@example.org", TRUMPET)
    async with db.session() as session:
        gig = await gigs.create_gig(session, leader, title="Friday", starts_at=datetime.now(UTC) + timedelta(days=3))
        await gigs.set_availability(session, member, gig.id or 0, "yes")
    assert gig.id is not None
    seen_by_leader = await page_data.gig(leader, gig.id)
    seen_by_member = await page_data.gig(member, gig.id)
    assert [a.status for a in seen_by_leader.answers if a.status] == ["yes"]
    assert seen_by_member.answers == [] and seen_by_member.subs == []
    assert seen_by_member.mine == {gig.id: "yes"}
    stranger = await band_with_member("Other band", TRUMPET, role=Role.LEADER)
    with pytest.raises(NotFound):
        await page_data.gig(stranger, gig.id)
    assert [g.id for g in (await page_data.gig_list(member)).upcoming] == [gig.id]
    assert (await page_data.gig_list(stranger)).upcoming == []


async def test_the_library_screen_refuses_members_in_the_core() -> None:
    leader = await band_with_member("Band", TRUMPET, role=Role.LEADER)
    member, _ = await add_member(leader.band_id, "m@example.org", TRUMPET)
    with pytest.raises(Forbidden):
        library_admin.verification_file_name(member)
    with pytest.raises(Forbidden):
        await library_admin.sync_progress(member)
    with pytest.raises(Forbidden):
        await library_admin.sync_now(member)
    with pytest.raises(Forbidden):
        await library_admin.current_source(member)
    assert not (await library_admin.sync_progress(leader)).running
    assert await library_admin.current_source(leader) is None
    with pytest.raises(NotFound):  # nothing connected yet: a clear answer, not a crash
        await library_admin.sync_now(leader)


def test_a_song_listed_twice_is_played_in_its_first_entrys_key() -> None:
    def entry(item_id: int, song_id: int | None, key: str | None) -> SetlistEntry:
        return SetlistEntry(item_id, item_id, song_id is None, "x", song_id, "", key)

    listed = [entry(1, 7, "F"), entry(2, None, None), entry(3, 8, None), entry(4, 7, "Bb")]
    assert concert_keys(listed) == {7: "F", 8: None}
