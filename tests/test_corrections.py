"""A leader corrects any file of the library (title, part, chair, score, lyrics sheet), the correction survives
re-syncs, renames and moves, shows as corrected and can be undone; the files screen says how each file was understood.
Runs on SQLite and PostgreSQL (the ``core`` fixture)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlmodel import select

from soleil_ui.access import Actor
from soleil_ui.db import db
from soleil_ui.errors import Forbidden, InvalidInput, NotFound
from soleil_ui.models import Chart, ChartStatus, Role, Song
from soleil_ui.services import library, library_files
from soleil_ui.services.sync import sync_configured
from tests.conftest import FIXTURES
from tests.library_helpers import add_member, band_with_member, titled_pdf

pytestmark = pytest.mark.usefixtures("core")
KEYS = [{"instrument": "keys", "chair": None}]


def _library(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name in ("Night Train - Vox.pdf", "Night Train - Bb.pdf", "Night Train - Trumpet.pdf",
                 "Night Train - Conductor.pdf", "Night Train Bone.pdf", "Mystery.pdf"):
        (folder / name).write_bytes(titled_pdf(name[:-4] + " " * len(name)))  # distinct bytes per file
    (folder / "Eb").mkdir()
    (folder / "Eb" / "Night Train.pdf").write_bytes(titled_pdf("Night Train"))
    return folder


async def _chart(name: str) -> Chart:
    async with db.session() as session:
        return (await session.exec(select(Chart).where(Chart.file_name == name))).one()


async def band_member(leader: Actor, email: str, instruments: list[dict[str, object]],
                      role: str = Role.MEMBER) -> tuple[Actor, str]:
    return await add_member(leader.band_id, email, instruments, role)


async def _leader_and_folder(tmp_path: Path) -> tuple[Actor, Path]:
    folder = _library(tmp_path / "lib")
    leader = await band_with_member("Night Band", KEYS, role=Role.LEADER, library=folder)
    assert (await sync_configured(leader.band_id, prerender=False)).error is None
    return leader, folder


async def test_a_correction_survives_resyncs_renames_and_moves_and_can_be_undone(tmp_path: Path) -> None:
    leader, folder = await _leader_and_folder(tmp_path)
    vox = await _chart("Night Train - Vox.pdf")
    assert (vox.part_key, vox.parsed_part_key, vox.manual) == ("lyrics", "lyrics", False)  # "Vox" is a lyrics sheet
    async with db.session() as session:  # ... but this one has the vocal line: the leader says so
        await library.assign_chart(session, leader, vox.id or 0, song_title="Night Train", part_key="instrument:vocals")

    (folder / "Night Train - Vox.pdf").write_bytes(titled_pdf("Night Train, new words"))  # edited in place
    assert (await sync_configured(leader.band_id, prerender=False)).updated == 1
    edited = await _chart("Night Train - Vox.pdf")
    assert (edited.part_key, edited.manual, edited.parsed_part_key) == ("instrument:vocals", True, "lyrics")

    (folder / "Old").mkdir()
    os.replace(folder / "Night Train - Vox.pdf", folder / "Old" / "NT vox.pdf")  # renamed and moved
    await sync_configured(leader.band_id, prerender=False)
    moved = await _chart("NT vox.pdf")
    assert (moved.part_key, moved.manual, moved.song_id, moved.folder) == ("instrument:vocals", True, vox.song_id,
                                                                            "Old")

    async with db.session() as session:
        page = await library_files.library_files(session, leader, show="corrected")
    assert [(r.chart.file_name, r.corrected, r.part_label, r.title) for r in page.rows] == [
        ("NT vox.pdf", True, "Vocals", "Night Train")]
    assert page.rows[0].understood == "NT · Lyrics"  # what the name says now

    async with db.session() as session:
        undone = await library.undo_correction(session, leader, moved.id or 0)
    assert (undone.manual, undone.part_key, undone.status) == (False, "lyrics", ChartStatus.OK)
    async with db.session() as session:
        song = await session.get(Song, undone.song_id)
    assert song is not None and song.title == "NT"  # back to what the parser says: the new name's title


async def test_title_part_and_chair_of_a_parsed_file(tmp_path: Path) -> None:
    leader, _folder = await _leader_and_folder(tmp_path)
    trumpet = await _chart("Night Train - Trumpet.pdf")
    async with db.session() as session:
        await library.assign_chart(session, leader, trumpet.id or 0, song_title="Night Train Express",
                                   part_key="instrument:trumpet:2")
    await sync_configured(leader.band_id, prerender=False)  # a sync of an unchanged file keeps it
    second, _ = await band_member(leader, "tpt2@example.org", [{"instrument": "trumpet", "chair": 2}])
    async with db.session() as session:
        fixed = await session.get(Chart, trumpet.id)
        assert fixed is not None and fixed.manual and fixed.part_key == "instrument:trumpet:2"
        song = await session.get(Song, fixed.song_id)
        assert song is not None and song.title == "Night Train Express"
        resolved = await library.chart_for_member(session, second, fixed.song_id or 0)
    assert (resolved.chart_id, resolved.explanation) == (trumpet.id, "Your part: Trumpet 2")


async def test_a_score_goes_last_and_to_leaders(tmp_path: Path) -> None:
    leader, _folder = await _leader_and_folder(tmp_path)
    conductor = await _chart("Night Train - Conductor.pdf")
    assert (conductor.status, conductor.part_key, conductor.manual) == (ChartStatus.OK, "score", False)  # by its name
    async with db.session() as session:
        song_id = (await session.exec(select(Song.id).where(Song.title == "Night Train"))).one()
    assert conductor.song_id == song_id
    drummer, _ = await band_member(leader, "drums@example.org", [{"instrument": "drums", "chair": None}])
    trumpet, _ = await band_member(leader, "tpt@example.org", [{"instrument": "trumpet", "chair": 1}])
    async with db.session() as session:
        mine = await library.chart_for_member(session, trumpet, song_id)
        drums = await library.chart_for_member(session, drummer, song_id)
        detail = await library.song_detail(session, drummer, song_id)
    assert mine.part_key == "instrument:trumpet"
    assert (drums.chart_id, drums.match.quality) == (None, "none")  # never a member's best part
    assert "Score" in drums.explanation
    assert "score" in [o.part_key for o in detail.parts]  # but they may open it from the song page
    # A drumming leader has no part here either: a leader gets the score rather than nothing.
    conductor_drums, _ = await band_member(leader, "md@example.org", [{"instrument": "drums", "chair": None}],
                                           role=Role.LEADER)
    async with db.session() as session:
        conducting = await library.chart_for_member(session, conductor_drums, song_id)
        keys = await library.chart_for_member(session, leader, song_id)
    assert (conducting.chart_id, conducting.explanation) == (conductor.id, "Score: find your staff")
    # The keys-playing leader reads the lyrics sheet (a comping player's last fallback, no transposing) first.
    assert (keys.part_key, keys.match.quality) == ("lyrics", "nearest")


async def test_the_files_screen_says_how_each_file_was_understood(tmp_path: Path) -> None:
    leader, _folder = await _leader_and_folder(tmp_path)
    async with db.session() as session:
        page = await library_files.library_files(session, leader)
    rows = {r.chart.file_name: r for r in page.rows}
    assert page.total == len(rows) == 7
    assert list(rows) == ["Mystery.pdf",  # unsorted first, then by folder and name
                          "Night Train - Bb.pdf", "Night Train - Conductor.pdf", "Night Train - Trumpet.pdf",
                          "Night Train - Vox.pdf", "Night Train Bone.pdf", "Night Train.pdf"]
    assert rows["Mystery.pdf"].doubt == "No part in the file name or folder"
    assert (rows["Night Train - Bb.pdf"].understood, rows["Night Train - Bb.pdf"].doubt) == ("Night Train · B♭", None)
    assert rows["Night Train - Bb.pdf"].what == "PDF · part"
    # The parser's own low-confidence guesses (ParsedName.guessed) are the doubtful ones: a part from a folder ...
    assert rows["Night Train.pdf"].doubt == "The part comes from the folder “Eb”, not the file name"
    # ... or from words run into the title.
    bone = rows["Night Train Bone.pdf"]
    assert (bone.understood, bone.doubt) == (
        "Night Train · Trombone", "The part is read from words run into the title: is it really Trombone?")
    vox, score = rows["Night Train - Vox.pdf"], rows["Night Train - Conductor.pdf"]
    assert (vox.understood, vox.what, vox.doubt) == ("Night Train · Lyrics", "PDF · lyrics sheet", None)
    assert (score.understood, score.what, score.doubt, score.part_label) == (
        "Night Train · Score", "PDF · score", None, "Score")
    async with db.session() as session:
        only = await library_files.library_files(session, leader, text="VOX")
        check = await library_files.library_files(session, leader, show="check")
    assert [r.chart.file_name for r in only.rows] == ["Night Train - Vox.pdf"]
    assert [r.chart.file_name for r in check.rows] == ["Mystery.pdf"]


async def test_only_the_bands_leaders_correct_files(tmp_path: Path) -> None:
    leader, _folder = await _leader_and_folder(tmp_path)
    member, _ = await band_member(leader, "member@example.org", KEYS)
    other = await band_with_member("Other Band", KEYS, role=Role.LEADER)
    chart = await _chart("Night Train - Bb.pdf")
    async with db.session() as session:
        with pytest.raises(Forbidden):
            await library.assign_chart(session, member, chart.id or 0, song_title="X", part_key="bb")
        with pytest.raises(Forbidden):
            await library.undo_correction(session, member, chart.id or 0)
        with pytest.raises(Forbidden):
            await library_files.library_files(session, member)
        with pytest.raises(NotFound):
            await library.assign_chart(session, other, chart.id or 0, song_title="Stolen", part_key="bb")
        with pytest.raises(NotFound):
            await library.undo_correction(session, other, chart.id or 0)
        assert (await library_files.library_files(session, other)).total == 0
        with pytest.raises(InvalidInput):
            await library.assign_chart(session, leader, chart.id or 0, song_title="X", part_key="score:2")
    assert (await _chart("Night Train - Bb.pdf")).manual is False


def test_a_musicxml_file_named_a_score_is_filed_by_its_own_staves() -> None:
    """The name parser may say "score"; a MusicXML/ChordPro file serves every part, so its staves decide."""
    from soleil_ui.naming import ParsedName
    from soleil_ui.parts import PartRef
    from soleil_ui.parts import Role as PartRole

    named = ParsedName("notation", "Night Train", "night train", PartRef(role=PartRole.SCORE))
    assert library.named_part(named, generated=True) is None
    assert library.named_part(named, generated=False) == PartRef(role=PartRole.SCORE)
    assert library.filing_problem(named, PartRef(instrument="trumpet"), True) is None


async def test_a_corrected_musicxml_file_goes_back_to_what_its_staves_say(tmp_path: Path) -> None:
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "Tune.musicxml").write_bytes((FIXTURES / "notation" / "Tune.musicxml").read_bytes())
    leader = await band_with_member("Band", KEYS, role=Role.LEADER, library=folder)
    await sync_configured(leader.band_id, prerender=False)
    tune = await _chart("Tune.musicxml")
    assert (tune.part_key, tune.parsed_part_key) == ("concert", "concert")  # no part in the name: its staves say
    async with db.session() as session:
        with pytest.raises(InvalidInput, match="every part"):
            await library.assign_chart(session, leader, tune.id or 0, song_title="Tune", part_key="score")
        await library.assign_chart(session, leader, tune.id or 0, song_title="Tune", part_key="bb")
    (folder / "Tune.musicxml").write_bytes((folder / "Tune.musicxml").read_bytes() + b"\n")  # edited: read again
    assert (await sync_configured(leader.band_id, prerender=False)).updated == 1
    edited = await _chart("Tune.musicxml")
    assert (edited.part_key, edited.manual, edited.parsed_part_key, edited.status) == ("bb", True, "concert", "ok")
    async with db.session() as session:
        undone = await library.undo_correction(session, leader, tune.id or 0)
    assert (undone.part_key, undone.manual, undone.song_id) == ("concert", False, tune.song_id)
