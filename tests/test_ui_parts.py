"""Reading preferences and file corrections in the UI, through NiceGUI's simulated user: the profile, the leader's
member form, and the library-files screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from nicegui.testing import User
from sqlmodel import select

from soleil_ui.access import Actor
from soleil_ui.db import db
from soleil_ui.models import Chart, Membership, Role
from soleil_ui.services import auth
from soleil_ui.services.sync import sync_configured
from soleil_ui.settings import get_settings
from tests.library_helpers import add_member, band_with_member, open_refused, session_cookie, titled_pdf
from tests.markers import SQLITE_ONLY

pytestmark = SQLITE_ONLY

BASS = [{"instrument": "bass", "chair": None}]
KEYS = [{"instrument": "keys", "chair": None}]


async def _as(user: User, actor: Actor) -> None:
    async with db.session() as session:
        token = await auth.start_session(session, actor.user_id, actor.band_id)
    user.http_client.cookies.set("session", session_cookie(token, get_settings().effective_secret_key()))


async def _membership(membership_id: int) -> Membership:
    async with db.session() as session:
        membership = await session.get(Membership, membership_id)
    assert membership is not None
    return membership


async def _chart_named(name: str) -> Chart:
    async with db.session() as session:
        return (await session.exec(select(Chart).where(Chart.file_name == name))).one()


async def test_a_bassist_says_on_the_profile_that_they_read_chords(user: User) -> None:
    bassist = await band_with_member("Band", BASS)
    await _as(user, bassist)
    await user.open("/profile")
    await user.should_see("A written bass part, then a bass-clef part (trombone, tuba…), then chords")
    user.find(marker="reads-0").click()
    user.find("A chord chart, then a written bass part").click()
    user.find(marker="save").click()
    await user.should_see("Saved. Your stand follows it from the next song you open.")
    assert (await _membership(bassist.membership_id)).reading == {"bass": "chords"}

    user.find(marker="instrument-0").click()
    user.find("Trumpet").click()  # a trumpet has no choice to make: the question goes
    await user.should_not_see(marker="reads-0")
    user.find(marker="save").click()
    await user.should_see("Saved. Your stand follows it from the next song you open.")
    membership = await _membership(bassist.membership_id)
    assert (membership.instruments, membership.reading) == ([{"instrument": "trumpet", "chair": None}], {})


async def test_a_leader_sets_what_a_member_plays_and_how_they_read(user: User) -> None:
    leader = await band_with_member("Band", KEYS, role=Role.LEADER)
    singer, _ = await add_member(leader.band_id, "rosa@example.org", [{"instrument": "piano", "chair": None}])
    await _as(user, leader)
    await user.open("/members")
    await user.should_see("rosa@example.org")
    user.find(marker=f"playing-{singer.membership_id}").click()
    await user.should_see("What Rosa plays")
    user.find(marker="instrument-0").click()
    user.find("Vocals").click()
    await user.should_see("A vocal part (melody and words), then a lyrics sheet")
    user.find(marker="reads-0").click()
    user.find("A lyrics sheet, then a vocal part").click()
    user.find(marker="save").click()
    await user.should_see("Saved what Rosa plays.")
    membership = await _membership(singer.membership_id)
    assert (membership.instruments, membership.reading) == ([{"instrument": "vocals", "chair": None}],
                                                             {"vocals": "lyrics"})
    await user.should_see("Vocals (reads a lyrics sheet first)")


@pytest.mark.usefixtures("app_env")
async def test_the_leader_sees_how_files_were_understood_and_corrects_one(user: User, tmp_path: Path) -> None:
    folder = tmp_path / "lib"
    folder.mkdir()
    for name in ("Night Train - Vox.pdf", "Night Train - Bb.pdf", "Night Train Bone.pdf", "Mystery.pdf"):
        (folder / name).write_bytes(titled_pdf(name))
    leader = await band_with_member("Band", KEYS, role=Role.LEADER, library=folder)
    await sync_configured(leader.band_id, prerender=False)
    async with db.session() as session:
        vox = (await session.exec(select(Chart).where(Chart.file_name == "Night Train - Vox.pdf"))).one()
    await _as(user, leader)
    await user.open("/library/files")
    await user.should_see("4 files")
    await user.should_see("Unsorted: No part in the file name or folder")
    await user.should_see("Night Train · B♭ · PDF · part")
    await user.should_see("Night Train · Lyrics · PDF · lyrics sheet")
    await user.should_see("The part is read from words run into the title: is it really Trombone?")

    user.find(marker=f"correct-{vox.id}").click()
    await user.should_see("What is “Night Train - Vox.pdf”?")
    user.find(marker="correct-what").click()
    user.find("A chord chart").click()  # the "Vox" sheet has the changes over the words
    user.find(marker="correct-save").click()
    await user.should_see("Corrected. It stays so through later syncs; undo it any time.")
    await user.should_see(marker=f"corrected-{vox.id}")
    await user.should_see("Night Train · Chords · PDF · part")
    await user.should_see("The file name says: Night Train · Lyrics")
    async with db.session() as session:
        fixed = await session.get(Chart, vox.id)
    assert fixed is not None and (fixed.part_key, fixed.manual) == ("chords", True)

    user.find(marker=f"undo-{vox.id}").click()
    await user.should_see("Back to what the file name says.")
    await user.should_not_see(marker=f"corrected-{vox.id}")
    async with db.session() as session:
        undone = await session.get(Chart, vox.id)
    assert undone is not None and (undone.part_key, undone.manual) == ("lyrics", False)

    bb = await _chart_named("Night Train - Bb.pdf")
    user.find(marker=f"correct-{bb.id}").click()
    await user.should_see("What is “Night Train - Bb.pdf”?")
    user.find(marker="correct-title").clear().type("Night Train (2024)")
    user.find(marker="correct-part").click()
    user.find("Trumpet").click()
    user.find(marker="correct-chair").click()
    user.find("Chair 2").click()
    user.find(marker="correct-save").click()
    await user.should_see("Night Train (2024) · Trumpet 2 · PDF · part")
    fixed = await _chart_named("Night Train - Bb.pdf")
    assert (fixed.part_key, fixed.manual) == ("instrument:trumpet:2", True)

    user.find(marker="file-search").type("myst")
    await user.should_see("1 files")
    await user.should_not_see("Night Train - Bb.pdf")


async def test_a_member_cannot_open_the_files_screen(user: User) -> None:
    leader = await band_with_member("Band", KEYS, role=Role.LEADER)
    member, _ = await add_member(leader.band_id, "m@example.org", BASS)
    await _as(user, member)
    shown = await open_refused(user.http_client, "/library/files", 403)  # the refusal's own status, not a 200
    assert "Only the band's leaders can do that." in shown and "Find a file" not in shown
