"""Notation from the real world: every test song of the reference ChordPro implementation and 80-odd MusicXML files
(music21's corpus, the W3C MusicXML examples) are read and engraved, or listed here with the reason they can't be;
none raises anything else. Sources and licences: tests/fixtures/notation/LICENCES.md. A larger corpus runs in
``python -m bench engraving_corpus PATH``, not here.

Also: a songbook file ({new_song}) synced from the library is several songs (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from soleil_ui.db import db
from soleil_ui.engraving import EngraveSpec, engrave, inspect_source
from soleil_ui.engraving.chordpro import iter_chords, parse_songbook
from soleil_ui.errors import BrokenFile
from soleil_ui.models import Chart, Song
from soleil_ui.parts import PartRef, Role, Transposition
from soleil_ui.services import chart_pages
from soleil_ui.services.sync import sync_configured
from tests.generated_helpers import TRUMPET, resolve, served_svg, synced_band

NOTATION = Path(__file__).parent / "fixtures" / "notation"
CHORDPRO = sorted((NOTATION / "chordpro-reference").iterdir())
MUSICXML = sorted(p for p in (NOTATION / "musicxml-corpus").iterdir() if p.suffix in (".xml", ".mxl", ".musicxml"))

# Files that can't be engraved, and the reason SOLEil gives (a BrokenFile message, shown to the leader).
LISTED = {
    "w3c_movement-number-and-movement-title-elements.musicxml": "The MusicXML file has no music in it",
}
PARTS = (PartRef(transposition=Transposition.BB), PartRef(role=Role.LYRICS))


def test_the_corpora_are_there() -> None:
    assert len(CHORDPRO) >= 150
    assert len(MUSICXML) >= 80
    names = {p.name for p in MUSICXML}
    assert "music21_bach_bwv110.7.mxl" in names  # an SATB choir
    assert "w3c_instrument-change-element.musicxml" in names  # a mid-score instrument change
    assert (NOTATION / "Festive Fanfare.musicxml").exists()  # piccolo, piccolo trumpet and B♭ trumpets


@pytest.mark.parametrize("path", CHORDPRO, ids=lambda p: p.name)
def test_every_reference_chordpro_song_engraves(path: Path) -> None:
    data = path.read_bytes()
    info = inspect_source(data, path.name)
    assert info.kind == "chordpro"
    for part in PARTS:
        pages = engrave(data, EngraveSpec(part, kind="chordpro"), 480)
        assert pages and all(page.startswith("<svg") for page in pages)
    assert len(parse_songbook(data)) >= 1


@pytest.mark.parametrize("path", MUSICXML, ids=lambda p: p.name)
def test_every_musicxml_file_engraves_or_is_listed_with_its_reason(path: Path) -> None:
    data = path.read_bytes()
    try:
        info = inspect_source(data, path.name)
        pages = engrave(data, EngraveSpec(info.default_part, kind="musicxml"), 800)
    except BrokenFile as exc:
        assert LISTED.get(path.name) == exc.user_message
        return
    assert path.name not in LISTED
    assert pages and all("<svg" in page[:200] for page in pages)
    if any(not p.percussion for p in info.parts):  # a transposed part too: what most members open
        assert engrave(data, EngraveSpec(PartRef(transposition=Transposition.BB), kind="musicxml"), 800)


# --- a songbook is several songs --------------------------------------------------------------------------------------

SONGBOOK = """{title: Campfire One}
{key: G}
[G]Sing a [C]song of [D]one
{new_song}
{title: Campfire Two}
{key: F}
[F]Two is [Bb]more than [C7]one
{new_song}
{title: Campfire Three}
[A]Three [E]is a [A]crowd
"""


@pytest.mark.usefixtures("core")
async def test_a_songbook_file_becomes_several_songs_and_they_follow_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "library"
    folder.mkdir()
    (folder / "Campfire Songbook.cho").write_text(SONGBOOK)
    leader, trumpet = await synced_band(folder, TRUMPET)
    async with db.session() as session:
        charts = sorted((await session.exec(select(Chart))).all(), key=lambda c: c.source_file_id)
        titles = {s.id: s.title for s in (await session.exec(select(Song))).all()}
    assert [(titles[c.song_id], c.status, c.part_key) for c in charts] == [
        ("Campfire One", "ok", "chords"), ("Campfire Two", "ok", "chords"), ("Campfire Three", "ok", "chords")]
    assert charts[1].source_file_id == charts[0].source_file_id + "#song2"

    resolved, chart = await resolve(trumpet, "Campfire Two")
    assert resolved.part_key == "bb"
    svg = await served_svg((await chart_pages.resolved_pages(resolved, chart))[0])
    assert list(iter_chords([svg])) == ["G", "C", "D7"]  # F major for a B♭ trumpet: G major

    (folder / "Campfire Songbook.cho").write_text(SONGBOOK + "{new_song}\n{title: Campfire Four}\n[C broken\n")
    assert (await sync_configured(leader.band_id, prerender=False)).error is None
    async with db.session() as session:
        charts = sorted((await session.exec(select(Chart))).all(), key=lambda c: c.source_file_id)
    assert [(c.status, c.problem) for c in charts][2:] == [
        ("ok", None), ("broken", "Line 13 has a chord bracket that isn't closed (“[C broken”) — fix the file")]

    (folder / "Campfire Songbook.cho").write_text(SONGBOOK.split("{new_song}\n{title: Campfire Three}")[0])
    assert (await sync_configured(leader.band_id, prerender=False)).error is None
    async with db.session() as session:
        assert len((await session.exec(select(Chart))).all()) == 2
    (folder / "Campfire Songbook.cho").unlink()
    assert (await sync_configured(leader.band_id, prerender=False)).error is None
    async with db.session() as session:
        assert (await session.exec(select(Chart))).all() == []
