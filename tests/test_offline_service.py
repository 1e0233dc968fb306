"""Offline sets: the manifest a member's device downloads for a setlist, scoped to the band, and its staleness."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlmodel import select

from soleil_ui.db import db
from soleil_ui.errors import Forbidden, NotFound
from soleil_ui.models import AudioTrack, Chart, Role, Song
from soleil_ui.services import offline, setlists
from soleil_ui.services.sync import sync_configured
from tests.library_helpers import band_with_member, real_library

pytestmark = pytest.mark.usefixtures("core")
TRUMPET = [{"instrument": "trumpet", "chair": 1}]


async def _band_with_setlist(folder: Path, name: str = "Swing Band") -> tuple[object, int, dict[str, int]]:
    leader = await band_with_member(name, TRUMPET, role=Role.LEADER, library=folder)
    progress = await sync_configured(leader.band_id, prerender=False)
    assert progress.error is None
    async with db.session() as session:
        songs = {s.title: s.id or 0 for s in (await session.exec(select(Song).where(
            Song.band_id == leader.band_id))).all()}
        setlist = await setlists.create_setlist(session, leader, "Friday")
        await setlists.add_break(session, leader, setlist.id or 0, "Set 1")
        for title in ("Take Five", "Blue Monk", "Autumn Leaves"):
            await setlists.add_song(session, leader, setlist.id or 0, songs[title])
    return leader, setlist.id or 0, songs


async def test_manifest_lists_every_song_in_my_part_with_page_urls_at_the_device_widths(tmp_path: Path) -> None:
    leader, setlist_id, _ = await _band_with_setlist(real_library(tmp_path / "lib"))
    async with db.session() as session:
        manifest = await offline.offline_set(session, leader, setlist_id, widths=[1170, 700, 5000, 2400])
        charts = {c.id: c for c in (await session.exec(select(Chart))).all()}
    assert manifest.widths == (800, 1200)  # snapped up, deduplicated, at most two
    assert [s.title for s in manifest.songs] == ["Take Five", "Blue Monk", "Autumn Leaves"]  # breaks left out
    assert manifest.scope == f"b{leader.band_id}-u{leader.user_id}"
    take_five, monk, _ = manifest.songs
    chart = charts[take_five.chart_id]
    assert chart.file_name == "TakeFive_Bb.pdf" and take_five.part_label
    assert len(take_five.pages) == chart.page_count >= 1
    assert take_five.pages[0].urls == {w: f"/media/charts/{chart.id}/pages/0?w={w}&v={chart.checksum[:16]}"
                                       for w in (800, 1200)}
    assert "Concert" in monk.explanation and monk.chart_id is not None  # the nearest readable part, as the stand
    urls = manifest.urls()
    assert len(urls) == len(set(urls)) == sum(len(s.pages) for s in manifest.songs) * 2
    data = manifest.to_json()
    assert data["songs"][0]["pages"][0]["src"].endswith("w=800&v=" + chart.checksum[:16])
    assert data["songs"][0]["pages"][0]["width"] == 800 and data["songs"][0]["pages"][0]["height"] > 0
    assert data["digest"] == manifest.digest and data["urls"] == urls


async def test_no_widths_means_the_stands_base_width_and_audio_only_when_asked(tmp_path: Path) -> None:
    leader, setlist_id, songs = await _band_with_setlist(real_library(tmp_path / "lib"))
    async with db.session() as session:
        plain = await offline.offline_set(session, leader, setlist_id)
        with_audio = await offline.offline_set(session, leader, setlist_id, audio=True)
        tracks = (await session.exec(select(AudioTrack).where(AudioTrack.song_id == songs["Take Five"]))).all()
    assert plain.widths == (800,)
    assert all(not s.audio for s in plain.songs)
    assert tracks, "the fixture library has a Take Five recording"
    take_five = with_audio.songs[0]
    assert [a.url for a in take_five.audio] == [f"/media/audio/{t.id}?v={t.checksum[:16]}" for t in tracks]
    assert take_five.audio[0].url in with_audio.urls()
    assert with_audio.digest != plain.digest


async def test_digest_changes_with_the_set_and_a_changed_chart_changes_only_its_urls(tmp_path: Path) -> None:
    leader, setlist_id, songs = await _band_with_setlist(real_library(tmp_path / "lib"))
    async with db.session() as session:
        before = await offline.offline_set(session, leader, setlist_id, widths=[800])
        again = await offline.offline_set(session, leader, setlist_id, widths=[1600, 800])
    assert again.digest == before.digest  # the widths a device asks for don't make a set stale

    async with db.session() as session:  # a new version of Take Five's chart arrives with the next sync
        chart = await session.get(Chart, before.songs[0].chart_id)
        assert chart is not None
        chart.checksum = "f" * 64
        session.add(chart)
    async with db.session() as session:
        changed = await offline.offline_set(session, leader, setlist_id, widths=[800])
    assert changed.digest != before.digest
    new, gone = set(changed.urls()) - set(before.urls()), set(before.urls()) - set(changed.urls())
    assert new and all("v=ffffffffffffffff" in url for url in new)
    assert {url.split("?")[0] for url in gone} == {url.split("?")[0] for url in new}  # exactly that chart's pages

    async with db.session() as session:  # a leader adds a song meanwhile
        await setlists.add_song(session, leader, setlist_id, songs["Blue Train"])
        current = await offline.digests(session, leader, [setlist_id, 999_999])
    assert current[setlist_id] not in (None, changed.digest)
    assert current[999_999] is None


async def test_another_bands_setlist_is_not_found_and_scopes_differ(tmp_path: Path) -> None:
    leader, setlist_id, _ = await _band_with_setlist(real_library(tmp_path / "one"), "One")
    other, other_setlist, _ = await _band_with_setlist(real_library(tmp_path / "two"), "Two")
    async with db.session() as session:
        with pytest.raises(NotFound):
            await offline.offline_set(session, other, setlist_id)
        mine = await offline.offline_set(session, other, other_setlist)
        assert (await offline.digests(session, other, [setlist_id]))[setlist_id] is None
    assert offline.scope_of(leader) != offline.scope_of(other) == mine.scope
    theirs = {url.split("?")[0] for url in mine.urls()}
    async with db.session() as session:
        band_one = {c.id for c in (await session.exec(select(Chart).where(Chart.band_id == leader.band_id))).all()}
    assert not any(f"/media/charts/{chart_id}/" in url for chart_id in band_one for url in theirs)


async def test_only_leaders_ask_every_device_to_prepare(tmp_path: Path) -> None:
    leader, setlist_id, _ = await _band_with_setlist(real_library(tmp_path / "lib"))
    async with db.session() as session:
        assert await offline.check_prepare(session, leader, setlist_id) == "Friday"
        member = type(leader)(leader.user_id, leader.band_id, leader.membership_id, Role.MEMBER, leader.name,
                              leader.email)
        with pytest.raises(Forbidden):
            await offline.check_prepare(session, member, setlist_id)
        with pytest.raises(NotFound):
            await offline.check_prepare(session, leader, 999_999)


def test_widths_for_screens() -> None:
    assert offline.width_for_screen(390, 3) == 1200  # iPhone 13 portrait
    assert offline.width_for_screen(810, 2) == 2400  # iPad: 1620 px snaps up
    assert offline.width_for_screen(360, 1) == 480
    assert offline.normalize_widths(["x", None, 0]) == (480,)
    assert offline.normalize_widths([]) == (800,)


async def test_an_engraved_part_is_kept_as_the_svg_pages_the_stand_draws_in_the_key_of_the_night(
        tmp_path: Path) -> None:
    folder = tmp_path / "lib"
    folder.mkdir()
    shutil.copy(Path(__file__).parent / "fixtures" / "notation" / "Tune.musicxml", folder / "Tune.musicxml")
    leader = await band_with_member("Notes", TRUMPET, role=Role.LEADER, library=folder)
    assert (await sync_configured(leader.band_id, prerender=False)).error is None
    async with db.session() as session:
        song = (await session.exec(select(Song).where(Song.band_id == leader.band_id))).one()
        setlist = await setlists.create_setlist(session, leader, "Tonight")
        await setlists.add_song(session, leader, setlist.id or 0, song.id or 0)
    async with db.session() as session:
        manifest = await offline.offline_set(session, leader, setlist.id or 0, widths=[1170, 2400])
        again = await offline.offline_set(session, leader, setlist.id or 0, widths=[480])
    (tune,) = manifest.songs
    assert tune.engraved and tune.pages and tune.chart_id is not None
    page = manifest.to_json()["songs"][0]["pages"][0]
    assert "/svg/0?" in page["src"] and "srcset" not in page  # one layout, whatever the screen
    assert all("/svg/" in url for url in manifest.urls())
    assert again.digest == manifest.digest and again.urls() == manifest.urls()

    async with db.session() as session:  # the leader sets the key of the night: new drawings, a stale set
        items = await setlists.entries(session, leader, setlist.id or 0)
        await setlists.apply_op(session, leader, setlist.id or 0, setlists.Op.edit(items[0].item_id, musical_key="D"))
    async with db.session() as session:
        moved = await offline.offline_set(session, leader, setlist.id or 0, widths=[1170])
    assert moved.digest != manifest.digest and not set(moved.urls()) & set(manifest.urls())
