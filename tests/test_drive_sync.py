"""Library sync from Google Drive: the real google-api-python-client against the fake Drive over HTTP.

Each step changes the folder on the fake server, runs an incremental sync and checks the library and the
number of Drive requests it took. Faults never lose a synced chart.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from soleil_ui.db import db
from soleil_ui.models import Chart, ChartStatus, LibrarySource, Membership, Role, Song
from soleil_ui.services import auth, library
from soleil_ui.services.sync import sync_configured
from soleil_ui.settings import get_settings
from tests.fakes.drive_server import FakeDrive
from tests.library_helpers import FIXTURE_CHARTS, band_with_member

TRUMPET = [{"instrument": "trumpet", "chair": 1}]


@pytest.fixture
async def drive_band(fake: FakeDrive, core: object) -> tuple[FakeDrive, str, int]:
    from soleil_ui import runtime

    runtime.configure(get_settings())  # pick up the Drive settings
    root = fake.add_folder("Band Charts")
    bb = fake.add_folder("Bb", root)
    for name in ("TakeFive_Bb.pdf", "TakeFive_Concert.pdf", "All of Me - Eb.pdf"):
        fake.add_file(name, root, (FIXTURE_CHARTS / name).read_bytes())
    fake.add_file("Autumn Leaves.pdf", bb, (FIXTURE_CHARTS / "Autumn Leaves - Trumpet.pdf").read_bytes())
    leader = await band_with_member("Drive Band", TRUMPET, role=Role.LEADER)
    async with db.session() as session:
        session.add(LibrarySource(band_id=leader.band_id, kind="drive", location=root))
    return fake, root, leader.band_id


async def _library() -> dict[str, tuple[str | None, str]]:
    async with db.session() as session:
        rows = (await session.exec(select(Chart, Song).join(Song, isouter=True))).all()
    return {chart.file_name: (song.title if song else None, chart.status) for chart, song in rows}


async def test_first_sync_lists_the_tree_and_reads_every_chart(drive_band: tuple[FakeDrive, str, int]) -> None:
    fake, _root, band_id = drive_band
    progress = await sync_configured(band_id, prerender=False)
    assert progress.error is None, progress.error
    assert await _library() == {
        "TakeFive_Bb.pdf": ("Take Five", "ok"), "TakeFive_Concert.pdf": ("Take Five", "ok"),
        "All of Me - Eb.pdf": ("All of Me", "ok"), "Autumn Leaves.pdf": ("Autumn Leaves", "ok")}
    async with db.session() as session:
        chart = (await session.exec(select(Chart).where(Chart.file_name == "Autumn Leaves.pdf"))).one()
        record = (await session.exec(select(LibrarySource))).one()
    assert (chart.folder, chart.part_key) == ("Bb", "bb")  # the subfolder named the part
    assert record.state["drive"]["page_token"] and record.last_error is None
    assert fake.requests["files.get_media"] == 4


async def test_incremental_syncs_follow_every_kind_of_change(drive_band: tuple[FakeDrive, str, int]) -> None:
    fake, root, band_id = drive_band
    await sync_configured(band_id, prerender=False)
    ids = {fake.item(i).name: i for i in fake._items}

    fake.reset_counters()
    unchanged = await sync_configured(band_id, prerender=False)
    assert unchanged.error is None and unchanged.total == 0
    assert fake.requests["changes.list"] == 1
    assert fake.requests["files.get_media"] == 0 and fake.requests["files.list"] == 0

    fake.add_file("BlueTrain_Bb_Chart.pdf", root, (FIXTURE_CHARTS / "BlueTrain_Bb_Chart.pdf").read_bytes())
    fake.reset_counters()
    added = await sync_configured(band_id, prerender=False)
    assert (added.added, fake.requests["files.get_media"]) == (1, 1)
    assert (await _library())["BlueTrain_Bb_Chart.pdf"] == ("Blue Train", "ok")

    fake.rename(ids["TakeFive_Concert.pdf"], "Take Five - Chords.pdf")
    fake.reset_counters()
    renamed = await sync_configured(band_id, prerender=False)
    assert renamed.updated == 1 and fake.requests["files.get_media"] == 0  # same md5: not downloaded again
    library_now = await _library()
    assert "TakeFive_Concert.pdf" not in library_now and library_now["Take Five - Chords.pdf"] == ("Take Five", "ok")

    outside = fake.add_folder("Archive")
    fake.move(ids["All of Me - Eb.pdf"], outside)
    fake.trash(ids["TakeFive_Bb.pdf"])
    fake.update_content(ids["Autumn Leaves.pdf"], (FIXTURE_CHARTS / "TakeFive_Bb.pdf").read_bytes())
    fake.reset_counters()
    mixed = await sync_configured(band_id, prerender=False)
    assert (mixed.removed, mixed.updated, mixed.error) == (2, 1, None)
    library_now = await _library()
    assert set(library_now) == {"Take Five - Chords.pdf", "Autumn Leaves.pdf", "BlueTrain_Bb_Chart.pdf"}
    assert fake.requests["files.get_media"] == 1


async def test_faults_never_lose_synced_charts(drive_band: tuple[FakeDrive, str, int]) -> None:
    fake, root, band_id = drive_band
    await sync_configured(band_id, prerender=False)
    before = await _library()

    fake.fail_next(2, 429)
    fake.add_file("BlueTrain_Bass.pdf", root, (FIXTURE_CHARTS / "BlueTrain_Bass.pdf").read_bytes())
    retried = await sync_configured(band_id, prerender=False)
    assert retried.error is None and (await _library())["BlueTrain_Bass.pdf"] == ("Blue Train", "ok")

    fake.revoke_access()
    fake.expire_tokens()
    revoked = await sync_configured(band_id, prerender=False)
    assert revoked.error and "Drive" in revoked.error and "Traceback" not in revoked.error
    assert (await _library()) == {**before, "BlueTrain_Bass.pdf": ("Blue Train", "ok")}
    async with db.session() as session:
        record = (await session.exec(select(LibrarySource))).one()
        assert record.last_error == revoked.error
    fake.restore_access()

    fake.fail_next(50, 503)
    busy = await sync_configured(band_id, prerender=False)
    assert busy.error and "busy" in busy.error.lower()
    fake.clear_faults()
    assert len(await _library()) == len(before) + 1
    healed = await sync_configured(band_id, prerender=False)
    assert healed.error is None


async def test_unshared_folder_tells_the_leader_and_keeps_charts(drive_band: tuple[FakeDrive, str, int]) -> None:
    fake, root, band_id = drive_band
    await sync_configured(band_id, prerender=False)
    fake.unshare(root)
    progress = await sync_configured(band_id, prerender=False)
    assert progress.error and "shared" in progress.error
    assert all(status == ChartStatus.OK for _t, status in (await _library()).values())
    leader = await band_with_member("Other", TRUMPET)
    async with db.session() as session:
        assert (await library.search_songs(session, leader)).total == 0  # nothing leaked to another band


async def test_a_leaders_correction_follows_a_drive_file_through_renames_and_moves(
        drive_band: tuple[FakeDrive, str, int]) -> None:
    """Drive keeps a file's id through renames and moves, so the leader's correction (``Chart.manual``) stays."""
    fake, root, band_id = drive_band
    await sync_configured(band_id, prerender=False)
    ids = {fake.item(i).name: i for i in fake._items}
    async with db.session() as session:
        chart = (await session.exec(select(Chart).where(Chart.file_name == "TakeFive_Concert.pdf"))).one()
        membership = (await session.exec(select(Membership).where(Membership.band_id == band_id))).one()
        token = await auth.start_session(session, membership.user_id, band_id)
    async with db.session() as session:
        actor = await auth.resolve(session, token)
        await library.assign_chart(session, actor, chart.id or 0, song_title="Take Five", part_key="score")

    fake.rename(ids["TakeFive_Concert.pdf"], "Take 5 (lead sheet) - C.pdf")
    fake.move(ids["TakeFive_Concert.pdf"], fake.add_folder("Scores", root))
    renamed = await sync_configured(band_id, prerender=False)
    assert renamed.error is None and renamed.updated == 1
    async with db.session() as session:
        again = await session.get(Chart, chart.id)
    assert again is not None
    assert (again.file_name, again.folder, again.part_key, again.manual, again.song_id) == (
        "Take 5 (lead sheet) - C.pdf", "Scores", "score", True, chart.song_id)
