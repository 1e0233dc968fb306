"""Library sync and search as a band sees it: real engraved charts, odd names, broken files, two bands."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlmodel import col, select

from soleil_ui.db import db
from soleil_ui.errors import Forbidden, InvalidInput, NotFound
from soleil_ui.models import Chart, ChartStatus, Role, SetlistItem, Song
from soleil_ui.runtime import Runtime
from soleil_ui.services import library, setlists
from soleil_ui.services.sync import sync_configured
from tests.library_helpers import band_with_member, real_library

pytestmark = pytest.mark.usefixtures("core")
TRUMPET = [{"instrument": "trumpet", "chair": 1}]


async def _charts() -> dict[str, Chart]:
    async with db.session() as session:
        return {c.file_name: c for c in (await session.exec(select(Chart))).all()}


async def test_trumpet_player_sees_bb_songs_playable_and_the_rest_marked(tmp_path: Path) -> None:
    folder = real_library(tmp_path / "lib")
    leader = await band_with_member("Swing Band", TRUMPET, role=Role.LEADER, library=folder)
    progress = await sync_configured(leader.band_id, prerender=False)
    assert progress.error is None
    assert (progress.broken, progress.unsorted) == (4, 1)

    async with db.session() as session:
        page = await library.search_songs(session, leader)
    rows = {r.title: r for r in page.rows}
    assert set(rows) == {"All of Me", "Autumn Leaves", "Blue Monk", "Blue Train", "Señor Blues", "Take Five"}
    assert {t for t, r in rows.items() if r.playable} == {"All of Me", "Autumn Leaves", "Blue Train", "Señor Blues",
                                                          "Take Five"}
    monk = rows["Blue Monk"]
    assert not monk.playable and monk.chart_id is not None  # readable concert part, marked as not mine
    assert "Concert" in monk.match.explanation
    charts = await _charts()
    assert charts["TakeFive_Bb.pdf"].page_count >= 1 and charts["TakeFive_Bb.pdf"].pdf_title == "Take Five"
    assert rows["Take Five"].chart_id == charts["TakeFive_Bb.pdf"].id
    assert rows["Autumn Leaves"].chart_id == charts["Autumn Leaves - Trumpet.pdf"].id


async def test_every_broken_file_is_listed_with_a_plain_reason(tmp_path: Path) -> None:
    folder = real_library(tmp_path / "lib")
    leader = await band_with_member("Band", TRUMPET, role=Role.LEADER, library=folder)
    await sync_configured(leader.band_id, prerender=False)
    async with db.session() as session:
        problems = {c.file_name: (c.status, c.problem) for c in await library.problem_files(session, leader)}
    assert problems["Empty - Bb.pdf"] == (ChartStatus.BROKEN, "The file is empty")
    assert problems["Truncated - Eb.pdf"][0] == ChartStatus.BROKEN
    assert "damaged" in (problems["Truncated - Eb.pdf"][1] or "")
    assert "isn't a PDF" in (problems["Error Page - Bb.pdf"][1] or "")
    assert "password" in (problems["Locked - Bb.pdf"][1] or "")
    assert problems["Mystery.pdf"] == (ChartStatus.UNSORTED, "No part in the file name or folder")
    assert ".DS_Store" not in problems
    charts = await _charts()
    assert all(c.status == ChartStatus.OK for n, c in charts.items() if n.startswith(("TakeFive", "All of Me")))


async def test_members_cannot_see_the_problem_list(tmp_path: Path) -> None:
    member = await band_with_member("Band", TRUMPET, library=real_library(tmp_path / "lib"))
    async with db.session() as session:
        with pytest.raises(Forbidden):
            await library.problem_files(session, member)


async def test_resync_of_an_unchanged_folder_changes_nothing(tmp_path: Path) -> None:
    folder = real_library(tmp_path / "lib")
    leader = await band_with_member("Band", TRUMPET, role=Role.LEADER, library=folder)
    first = await sync_configured(leader.band_id, prerender=False)
    before = {n: (c.id, c.synced_at) for n, c in (await _charts()).items()}
    second = await sync_configured(leader.band_id, prerender=False)
    assert second.unchanged == first.total - 1  # .DS_Store is not a library file
    assert (second.added, second.updated, second.removed) == (0, 0, 0)
    assert {n: (c.id, c.synced_at) for n, c in (await _charts()).items()} == before


async def test_rename_move_delete_and_manual_assignment_survive(tmp_path: Path) -> None:
    folder = real_library(tmp_path / "lib")
    leader = await band_with_member("Band", TRUMPET, role=Role.LEADER, library=folder)
    await sync_configured(leader.band_id, prerender=False)
    mystery = (await _charts())["Mystery.pdf"]
    async with db.session() as session:
        await library.assign_chart(session, leader, mystery.id or 0, song_title="Mystery Train", part_key="bb")
        take_five = (await session.exec(select(Song).where(Song.title == "Take Five"))).one()
        setlist = await setlists.create_setlist(session, leader, "Gig")
        await setlists.add_song(session, leader, setlist.id or 0, take_five.id or 0)
        song_id = (await session.exec(select(Song.id).where(Song.title == "Mystery Train"))).one()

    (folder / "Archive").mkdir()
    os.replace(folder / "Mystery.pdf", folder / "Archive" / "Mystery (old).pdf")  # moved and renamed
    for name in ("TakeFive_Bb.pdf", "TakeFive_Eb.pdf", "TakeFive_Concert.pdf", "TakeFive_Chords.pdf",
                 "TakeFive_BassClef.pdf", "TakeFive_Original.wav"):
        (folder / name).unlink()
    shutil.copy(folder / "All of Me - Bb.pdf", folder / "All of Me - Tpt 2.pdf")
    progress = await sync_configured(leader.band_id, prerender=False)
    assert progress.error is None and progress.added == 1

    charts = await _charts()
    moved = charts["Mystery (old).pdf"]
    assert (moved.song_id, moved.part_key, moved.manual, moved.folder) == (song_id, "bb", True, "Archive")
    assert not any(n.startswith("TakeFive") for n in charts)
    async with db.session() as session:
        kept = (await session.exec(select(Song).where(Song.title == "Take Five"))).first()
        assert kept is not None  # still named by a setlist, so the entry survives its charts going
        items = (await session.exec(select(SetlistItem).where(col(SetlistItem.song_id) == kept.id))).all()
        assert len(items) == 1
        page = await library.search_songs(session, leader, "take five")
        assert [(r.title, r.chart_id) for r in page.rows] == [("Take Five", None)]
        assert "No part" in page.rows[0].match.explanation or page.rows[0].match.quality == "none"


async def test_leader_rename_survives_sync(tmp_path: Path) -> None:
    folder = real_library(tmp_path / "lib")
    leader = await band_with_member("Band", TRUMPET, role=Role.LEADER, library=folder)
    await sync_configured(leader.band_id, prerender=False)
    async with db.session() as session:
        song = (await session.exec(select(Song).where(Song.title == "Blue Train"))).one()
        await library.rename_song(session, leader, song.id or 0, "Blue Train (Coltrane)")
    (folder / "BlueTrain_Bb_Chart.pdf").write_bytes((folder / "BlueTrain_Bb_Chart.pdf").read_bytes() + b"\n")
    await sync_configured(leader.band_id, prerender=False)
    async with db.session() as session:
        assert (await session.get(Song, song.id)).title == "Blue Train (Coltrane)"  # type: ignore[union-attr]
        assert [r.title for r in (await library.search_songs(session, leader, "coltrane")).rows] == [
            "Blue Train (Coltrane)"]


@pytest.mark.parametrize(("query", "expected"), [
    ("senor", ["Señor Blues"]), ("SEÑOR", ["Señor Blues"]), ("blues sen", ["Señor Blues"]),
    ("leaves", ["Autumn Leaves"]), ("of me", ["All of Me"]), ("blue", ["Blue Monk", "Blue Train", "Señor Blues"]),
    ("zzz", []), ("100%", []),
    ("_", ["All of Me", "Autumn Leaves", "Blue Monk", "Blue Train", "Señor Blues", "Take Five"]),  # no words: all
])
async def test_search_ignores_case_and_accents(tmp_path: Path, query: str, expected: list[str]) -> None:
    leader = await band_with_member("Band", TRUMPET, role=Role.LEADER, library=real_library(tmp_path / "lib"))
    await sync_configured(leader.band_id, prerender=False)
    async with db.session() as session:
        assert [r.title for r in (await library.search_songs(session, leader, query)).rows] == expected


async def test_search_rejects_absurd_input(tmp_path: Path) -> None:
    leader = await band_with_member("Band", TRUMPET, role=Role.LEADER)
    async with db.session() as session:
        with pytest.raises(InvalidInput):
            await library.search_songs(session, leader, "x" * 10_000)


async def test_bands_never_see_each_others_library(tmp_path: Path, core: Runtime) -> None:
    band_a = await band_with_member("Band A", TRUMPET, role=Role.LEADER, library=real_library(tmp_path / "a"))
    band_b = await band_with_member("Band B", TRUMPET, role=Role.LEADER, library=tmp_path / "b")
    (tmp_path / "b").mkdir()
    await sync_configured(band_a.band_id, prerender=False)
    await sync_configured(band_b.band_id, prerender=False)
    chart_a = (await _charts())["TakeFive_Bb.pdf"]
    async with db.session() as session:
        assert (await library.search_songs(session, band_b)).total == 0
        with pytest.raises(NotFound):
            await library.get_chart(session, band_b, chart_a.id or 0)
        with pytest.raises(NotFound):
            await library.song_detail(session, band_b, chart_a.song_id or 0)
        assert await library.problem_files(session, band_b) == []
        chart = await library.get_chart(session, band_a, chart_a.id or 0)
    assert await core.blobs.has(chart.checksum)


async def test_song_detail_lists_parts_and_reference_audio(tmp_path: Path) -> None:
    leader = await band_with_member("Band", [{"instrument": "alto_sax"}], role=Role.LEADER,
                                    library=real_library(tmp_path / "lib"))
    await sync_configured(leader.band_id, prerender=False)
    async with db.session() as session:
        song_id = (await session.exec(select(Song.id).where(Song.title == "Take Five"))).one()
        detail = await library.song_detail(session, leader, song_id)
    assert [c.part_key for c in detail.charts] == sorted(["bb", "eb", "concert", "chords", "bass_clef"])
    assert [a.file_name for a in detail.audio] == ["TakeFive_Original.wav"]
    assert detail.match.part is not None and detail.match.part.key() == "eb"


async def test_pages_are_rendered_ahead_so_the_first_open_is_a_cache_hit(tmp_path: Path, core: Runtime) -> None:
    from soleil_ui.rendering import PRERENDER_WIDTHS
    from soleil_ui.services.sync import prerendered

    folder = tmp_path / "lib"
    folder.mkdir()
    shutil.copy(real_library(tmp_path / "all") / "BlueTrain_Bb_Chart.pdf", folder)
    leader = await band_with_member("Band", TRUMPET, role=Role.LEADER, library=folder)
    await sync_configured(leader.band_id, prerender=True)
    await prerendered(leader.band_id)
    chart = (await _charts())["BlueTrain_Bb_Chart.pdf"]
    assert chart.page_count >= 2
    for page in range(chart.page_count):
        for width in PRERENDER_WIDTHS:
            assert core.renderer.cache_path(chart.checksum, page, width).is_file()
    renders = core.renderer.renders
    path = await core.renderer.page_image(chart.checksum, 0, 800, lambda: core.blobs.read(chart.checksum))
    assert core.renderer.renders == renders and path.stat().st_size > 1000


async def test_filter_by_my_part_or_any_part(tmp_path: Path) -> None:
    from soleil_ui.services.library import MINE

    leader = await band_with_member("Band", TRUMPET, role=Role.LEADER, library=real_library(tmp_path / "lib"))
    await sync_configured(leader.band_id, prerender=False)
    async with db.session() as session:
        filters = await library.part_filters(session, leader)
        assert list(filters)[:2] == ["", MINE]
        assert {"bb", "eb", "concert", "chords", "lyrics", "bass_clef", "instrument:bass",
                "instrument:trumpet", "instrument:alto_sax"} <= set(filters)
        mine = [r.title for r in (await library.search_songs(session, leader, part=MINE)).rows]
        assert mine == ["All of Me", "Autumn Leaves", "Blue Train", "Señor Blues", "Take Five"]
        lyrics = [r.title for r in (await library.search_songs(session, leader, part="lyrics")).rows]
        assert lyrics == ["All of Me"]
        assert [r.title for r in (await library.search_songs(session, leader, "five", part="eb")).rows] == [
            "Take Five"]
