"""Every part from one source, as a band sees it: a MusicXML score and a ChordPro sheet synced from the library
folder, matched to each member's part, engraved in their key and clef (read back from the SVG the media URLs
produce), the key of the night, PDFs winning in my part, broken sources, and a member's own key and octave.
SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from sqlmodel import select

from soleil_ui.access import Actor
from soleil_ui.db import db
from soleil_ui.engraving.chordpro import iter_chords
from soleil_ui.errors import InvalidInput, NotFound
from soleil_ui.models import Chart, ChartStatus, MemberSongPref, Role, Song
from soleil_ui.runtime import Runtime, get_runtime
from soleil_ui.services import chart_pages, library, setlist_plan, setlists
from soleil_ui.services.library import MINE, KeyPref, ResolvedChart
from soleil_ui.services.sync import prerendered, sync_configured
from tests.generated_helpers import TRUMPET, resolve, served_svg, synced_band
from tests.library_helpers import add_member, band_with_member

pytestmark = pytest.mark.usefixtures("core")
NOTATION = Path(__file__).parent / "fixtures" / "notation"
CHARTS = Path(__file__).parent / "fixtures" / "charts"
SVG = "{http://www.w3.org/2000/svg}"
HREF = "{http://www.w3.org/1999/xlink}href"
SMUFL = str.maketrans({"\uea64": "b", "\uea66": "#", "\uea65": "", "♭": "b", "♯": "#", "♮": ""})
G_CLEF, F_CLEF = "E050", "E062"
SHARP, FLAT = "E262", "E260"
ALTO = [{"instrument": "alto_sax", "chair": None}]
TROMBONE = [{"instrument": "trombone", "chair": None}]
VOCALS = [{"instrument": "vocals", "chair": None}]
DRUMS = [{"instrument": "drums", "chair": None}]


# --- reading engraved pages -------------------------------------------------------------------------------------------


def _groups(svg: str, cls: str) -> list[ET.Element]:
    return [g for g in ET.fromstring(svg).iter(SVG + "g") if cls in g.get("class", "").split()]


def chords(svg: str) -> list[str]:
    """Chord symbols as verovio drew them, flats and sharps back to ASCII."""
    return ["".join(g.itertext()).translate(SMUFL).replace(" ", "").replace("\n", "") for g in _groups(svg, "harm")]


def key_signature(svg: str) -> int:
    """Sharps (+) or flats (-) in the first key signature; 0 when none is drawn (C major)."""
    groups = _groups(svg, "keySig")
    if not groups:
        return 0
    glyphs = [u.get(HREF, "").lstrip("#").split("-")[0] for u in groups[0].iter(SVG + "use")]
    return glyphs.count(SHARP) - glyphs.count(FLAT)


def clef(svg: str) -> str:
    return next(_groups(svg, "clef")[0].iter(SVG + "use")).get(HREF, "").lstrip("#").split("-")[0]






async def first_page(actor: Actor, title: str, concert_key: str | None = None) -> tuple[ResolvedChart, str]:
    resolved, chart = await resolve(actor, title, concert_key)
    pages = await chart_pages.resolved_pages(resolved, chart)
    assert pages and "srcset" not in pages[0]
    assert (pages[0]["width"], pages[0]["height"]) == (800, 1035)
    return resolved, await served_svg(pages[0])




def folder_with(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "library"
    folder.mkdir()
    for name in names:
        shutil.copy(NOTATION / name, folder / name)
    return folder


# --- one score, every part --------------------------------------------------------------------------------------------


async def test_one_musicxml_file_is_every_players_part(tmp_path: Path, core: Runtime) -> None:
    folder = folder_with(tmp_path, "Tune.musicxml")
    leader, trumpet, alto, trombone, drums = await synced_band(folder, TRUMPET, ALTO, TROMBONE, DRUMS)
    async with db.session() as session:
        [chart] = (await session.exec(select(Chart))).all()
    assert (chart.kind, chart.status, chart.part_key, chart.source_key, chart.pdf_title, chart.page_count) == (
        "notation", ChartStatus.OK, "concert", "Bb", "Tune", 1)  # no part in the name: the file says Concert
    assert chart.parts == ["concert", "bb", "eb", "f", "bass_clef", "chords"]
    assert await core.blobs.has(chart.checksum)

    resolved, svg = await first_page(trumpet, "Tune")
    assert (resolved.generated, resolved.part_key, resolved.chart_id) == (True, "instrument:trumpet", chart.id)
    assert resolved.explanation == "Your part: Trumpet — generated from the MusicXML score"
    assert resolved.source_label == "Generated from the MusicXML score" and resolved.playable
    assert (chords(svg), key_signature(svg), clef(svg)) == (
        ["C7", "F7", "C7", "F7", "C7", "G7", "F7", "C7", "G7"], 0, G_CLEF)  # B♭ trumpet: concert B♭ is C

    resolved, svg = await first_page(alto, "Tune")
    assert resolved.part_key == "instrument:alto_sax"
    assert (chords(svg)[:3], key_signature(svg), clef(svg)) == (["G7", "C7", "G7"], 1, G_CLEF)

    resolved, svg = await first_page(trombone, "Tune")
    assert resolved.part_key == "instrument:trombone"
    assert (chords(svg), key_signature(svg), clef(svg)) == (
        ["Bb7", "Eb7", "Bb7", "Eb7", "Bb7", "F7", "Eb7", "Bb7", "F7"], -2, F_CLEF)

    resolved, svg = await first_page(drums, "Tune")  # the rhythm section reads the changes
    assert (resolved.part_key, resolved.match.quality) == ("chords", "transposition")
    assert chords(svg)[:2] == ["Bb7", "Eb7"]

    async with db.session() as session:
        [row] = (await library.search_songs(session, trumpet)).rows
        assert (row.title, row.chart_id, row.part_key, row.generated, row.playable) == (
            "Tune", chart.id, "instrument:trumpet", True, True)
        assert "generated from the MusicXML score" in row.match.explanation
        assert [r.title for r in (await library.search_songs(session, trombone, part=MINE)).rows] == ["Tune"]
        assert [r.title for r in (await library.search_songs(session, trumpet, part="eb")).rows] == ["Tune"]
        assert (await library.search_songs(session, trumpet, part="lyrics")).total == 0
        filters = await library.part_filters(session, trumpet)
        assert {"bb", "eb", "bass_clef", "chords"} <= set(filters)
        detail = await library.song_detail(session, trombone, row.song_id)
        assert [(o.part_key, o.generated) for o in detail.parts] == [
            ("concert", True), ("bb", True), ("eb", True), ("f", True), ("bass_clef", True), ("chords", True)]
        assert detail.parts[0].page_count == 1 and detail.parts[1].page_count is None

    again = await sync_configured(leader.band_id, prerender=False)  # nothing changed: nothing read or engraved
    assert (again.unchanged, again.added, again.updated) == (1, 0, 0)


async def test_sync_engraves_each_members_part_ahead(tmp_path: Path, core: Runtime) -> None:
    folder = folder_with(tmp_path, "Long Chart.musicxml")
    leader = await band_with_member("Horns", TRUMPET, role=Role.LEADER, library=folder)
    trombone, _ = await add_member(leader.band_id, "tbn@example.org", TROMBONE)
    await sync_configured(leader.band_id)
    await prerendered(leader.band_id)
    before = core.engraver.engravings
    for member in (leader, trombone):
        resolved, chart = await resolve(member, "Long")  # "Chart" is a noise word in names
        pages = await chart_pages.resolved_pages(resolved, chart)
        assert 3 <= len(pages) <= 5
    assert core.engraver.engravings == before  # the stand's page lists were cache hits


async def test_musicxml_by_instrument_staves_and_compressed(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, "Brass Trio.musicxml", "Tune Compressed.mxl")
    _leader, trumpet2, alto = await synced_band(folder, [{"instrument": "trumpet", "chair": 2}], ALTO)
    resolved, _ = await resolve(trumpet2, "Brass Trio")
    assert (resolved.part_key, resolved.match.quality) == ("instrument:trumpet:2", "chair")
    resolved, _ = await resolve(alto, "Brass Trio")  # no alto staff: the lead staff, engraved for alto
    assert resolved.part_key == "instrument:alto_sax" and resolved.playable
    resolved, svg = await first_page(alto, "Tune Compressed")
    assert chords(svg)[:3] == ["G7", "C7", "G7"]


# --- ChordPro --------------------------------------------------------------------------------------------------------


async def test_a_chord_sheet_in_g_is_every_part_and_the_singers_words(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, "Amazing Grace_Chords.cho", "Blue Bossa - Bb.txt", "House of the Rising Sun.crd")
    (folder / "Set notes.txt").write_text("Bring the long cable.\nSoundcheck [1] at seven.\n")
    _leader, trumpet, singer, trombone = await synced_band(folder, TRUMPET, VOCALS, TROMBONE)
    async with db.session() as session:
        charts = {c.file_name: c for c in (await session.exec(select(Chart))).all()}
    assert set(charts) == {"Amazing Grace_Chords.cho", "Blue Bossa - Bb.txt", "House of the Rising Sun.crd"}
    grace = charts["Amazing Grace_Chords.cho"]
    assert (grace.kind, grace.part_key, grace.source_key, grace.status) == ("chordpro", "chords", "G", "ok")
    assert {"bb", "eb", "lyrics", "chords"} <= set(grace.parts)
    assert charts["Blue Bossa - Bb.txt"].kind == "chordpro" and charts["Blue Bossa - Bb.txt"].part_key == "bb"

    resolved, chart = await resolve(trumpet, "Amazing Grace")
    assert (resolved.generated, resolved.part_key) == (True, "bb")
    assert resolved.explanation.endswith("— generated from the chord sheet")
    svg = await served_svg((await chart_pages.resolved_pages(resolved, chart))[0])
    assert list(iter_chords([svg]))[:4] == ["A", "A7/C♯", "D", "A"]  # G major for a B♭ trumpet: A major

    resolved, chart = await resolve(singer, "Amazing Grace")
    assert (resolved.part_key, resolved.match.quality) == ("lyrics", "transposition")
    svg = await served_svg((await chart_pages.resolved_pages(resolved, chart))[0])
    assert "grace," in re.findall(r'class="lyric"[^>]*>([^<]*)<', svg) and list(iter_chords([svg])) == []

    resolved, _ = await resolve(trombone, "Amazing Grace")
    assert resolved.part_key == "bass_clef" and resolved.playable


# --- the key of the night ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("member", "fifths", "first_chord"), [(1, 2, "D7"), (2, 3, "A7"), (3, 0, "C7")])
async def test_the_key_of_the_night_moves_every_generated_part_up_a_tone(
        tmp_path: Path, member: int, fifths: int, first_chord: str) -> None:
    folder = folder_with(tmp_path, "Tune.musicxml")
    players = await synced_band(folder, TRUMPET, ALTO, TROMBONE)
    resolved, svg = await first_page(players[member], "Tune", concert_key="C")
    assert resolved.spec_params["ck"] == "C"
    assert resolved.explanation.endswith("generated from the MusicXML score, in C for tonight")
    assert (key_signature(svg), chords(svg)[0]) == (fifths, first_chord)
    async with db.session() as session:
        song_id = (await session.exec(select(Song.id))).one()
        [row] = await library.rows_for_songs(session, players[member], [song_id], concert_keys={song_id: "C"})
    assert row.generated and row.match.explanation == resolved.explanation
    same, _ = await resolve(players[member], "Tune", concert_key="B♭")  # the file's own key: no move, same drawing
    assert "ck" not in same.spec_params and "tonight" not in same.explanation


async def test_a_pdf_in_my_part_wins_until_the_night_moves_the_key(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, "Tune.musicxml")
    shutil.copy(CHARTS / "TakeFive_Bb.pdf", folder / "Tune - Bb.pdf")
    _leader, trumpet, alto = await synced_band(folder, TRUMPET, ALTO)
    async with db.session() as session:
        pdf = (await session.exec(select(Chart).where(Chart.file_name == "Tune - Bb.pdf"))).one()

    resolved, chart = await resolve(trumpet, "Tune")
    assert (resolved.chart_id, resolved.generated, resolved.part_key, resolved.spec_params) == (pdf.id, False, "bb", {})
    assert resolved.explanation == "Your part: B♭"
    pages = await chart_pages.resolved_pages(resolved, chart)
    assert pages[0]["src"] == f"/media/charts/{pdf.id}/pages/0?w=800&v={pdf.checksum[:16]}" and "srcset" in pages[0]

    resolved, _ = await resolve(alto, "Tune")  # no E♭ PDF: the score engraves one
    assert (resolved.generated, resolved.part_key) == (True, "instrument:alto_sax")

    stays, _ = await resolve(trumpet, "Tune", concert_key="Bb")
    assert stays.chart_id == pdf.id
    moved, _ = await resolve(trumpet, "Tune", concert_key="C")  # the PDF is in B♭: the generated part takes over
    assert (moved.generated, moved.part_key, moved.spec_params["ck"]) == (True, "instrument:trumpet", "C")
    assert moved.explanation == ("Your part: Trumpet — generated from the MusicXML score, in C for tonight "
                                 "(the PDF is in B♭)")
    assert (moved.stand_note, stays.stand_note) == ("engraved from the score (the PDF is in B♭)", "")


async def test_a_pdf_with_no_source_to_engrave_says_the_night_is_in_another_key(tmp_path: Path) -> None:
    folder = tmp_path / "library"
    folder.mkdir()
    shutil.copy(CHARTS / "TakeFive_Bb.pdf", folder / "Tune - Bb.pdf")
    _leader, trumpet = await synced_band(folder, TRUMPET)
    async with db.session() as session:
        song = (await session.exec(select(Song))).one()
        song.musical_key = "Bb"
        session.add(song)
    resolved, _ = await resolve(trumpet, "Tune", concert_key="C")
    assert resolved.explanation == "Your part: B♭ — tonight in C, this chart is in B♭"


# --- broken sources ---------------------------------------------------------------------------------------------------


def forty_staves() -> bytes:
    parts = "".join(f'<score-part id="P{n}"><part-name>Violin {n}</part-name></score-part>' for n in range(1, 41))
    music = "".join(f'<part id="P{n}"><measure number="1"><note><pitch><step>C</step><octave>5</octave></pitch>'
                    f"<duration>4</duration></note></measure></part>" for n in range(1, 41))
    return f"<score-partwise><part-list>{parts}</part-list>{music}</score-partwise>".encode()


def slow_score(measures: int = 3000, notes: int = 16) -> bytes:
    """Under the note limit, but verovio needs many seconds for it."""
    note = "<note><pitch><step>C</step><octave>5</octave></pitch><duration>1</duration><type>16th</type></note>"
    bars = "".join(f'<measure number="{m}">' + (
        "<attributes><divisions>4</divisions><time><beats>4</beats><beat-type>4</beat-type></time></attributes>"
        if m == 1 else "") + note * notes + "</measure>" for m in range(1, measures + 1))
    return (f'<?xml version="1.0"?><score-partwise><part-list><score-part id="P1"><part-name>Flute</part-name>'
            f'</score-part></part-list><part id="P1">{bars}</part></score-partwise>').encode()


async def test_broken_sources_are_listed_with_reasons_and_nothing_crashes(tmp_path: Path, core: Runtime) -> None:
    folder = folder_with(tmp_path, "Broken.musicxml", "Not A Zip.mxl", "Broken Brackets.cho", "Tune.musicxml")
    (folder / "Orchestra - Score.musicxml").write_bytes(forty_staves())
    (folder / "Marathon - Flute.musicxml").write_bytes(slow_score())
    core.engraver.time_limit = 2.0
    leader = await band_with_member("Band", TRUMPET, role=Role.LEADER, library=folder)
    progress = await sync_configured(leader.band_id, prerender=False)
    assert progress.error is None and progress.broken == 5
    async with db.session() as session:
        problems = {c.file_name: (c.status, c.problem or "") for c in await library.problem_files(session, leader)}
        assert [r.title for r in (await library.search_songs(session, leader)).rows] == ["Tune"]
    assert all(status == ChartStatus.BROKEN for status, _ in problems.values())
    assert "damaged or incomplete" in problems["Broken.musicxml"][1]
    assert "isn't a zip" in problems["Not A Zip.mxl"][1]
    assert "isn't closed" in problems["Broken Brackets.cho"][1]
    assert "40 staves" in problems["Orchestra - Score.musicxml"][1]
    assert "too large to engrave" in problems["Marathon - Flute.musicxml"][1]
    again = await sync_configured(leader.band_id, prerender=False)  # unchanged broken files cost nothing
    assert again.unchanged == 6  # read as unchanged: not parsed or engraved again (timings live in bench/)


# --- a member's own key and octave -----------------------------------------------------------------------------------


async def test_member_key_preference_round_trip(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, "Tune.musicxml")
    _leader, trumpet, other = await synced_band(folder, TRUMPET, TRUMPET)
    resolved, _ = await resolve(trumpet, "Tune")
    async with db.session() as session:
        song_id = (await session.exec(select(Song.id))).one()
        assert await library.member_pref(session, trumpet, song_id) == KeyPref()
        saved = await library.set_member_pref(session, trumpet, song_id, musical_key="d", octave_shift=-1)
    assert saved == KeyPref("D", -1)
    resolved, svg = await first_page(trumpet, "Tune")
    assert (resolved.spec_params["key"], resolved.spec_params["oct"]) == ("D", "-1")
    assert key_signature(svg) == 2 and chords(svg)[0] == "D7"
    untouched, _ = await resolve(other, "Tune")
    assert "key" not in untouched.spec_params
    tonight, svg = await first_page(trumpet, "Tune", concert_key="C")  # the band's key sets mine aside
    assert "key" not in tonight.spec_params and tonight.spec_params["oct"] == "-1" and key_signature(svg) == 2
    async with db.session() as session:
        detail = await library.song_detail(session, trumpet, song_id)
        assert detail.pref == KeyPref("D", -1)
        with pytest.raises(InvalidInput):
            await library.set_member_pref(session, trumpet, song_id, musical_key="H#", octave_shift=0)
        with pytest.raises(InvalidInput):
            await library.set_member_pref(session, trumpet, song_id, musical_key=None, octave_shift=3)
    async with db.session() as session:
        stranger = await band_with_member("Other Band", TRUMPET)
        with pytest.raises(NotFound):
            await library.set_member_pref(session, stranger, song_id, musical_key="C")
        with pytest.raises(NotFound):
            await library.chart_for_member(session, stranger, song_id)
        assert await library.set_member_pref(session, trumpet, song_id, musical_key="", octave_shift=0) == KeyPref()
    async with db.session() as session:
        assert (await session.exec(select(MemberSongPref))).all() == []


# --- the stand's setlist ----------------------------------------------------------------------------------------------


async def test_a_setlist_stand_shows_each_players_part_in_the_key_of_the_night(tmp_path: Path) -> None:
    """``stand_plan`` + ``stand_songs`` (what the setlist stand, live mode and offline sets show): the same tune twice,
    once moved to C for tonight, each player in their own key and clef, and a member's own octave kept."""
    folder = folder_with(tmp_path, "Tune.musicxml")
    shutil.copy(CHARTS / "TakeFive_Bb.pdf", folder / "Take Five - Bb.pdf")
    leader, trumpet, trombone = await synced_band(folder, TRUMPET, TROMBONE)
    async with db.session() as session:
        songs = {s.title: s.id for s in (await session.exec(select(Song))).all()}
        setlist = await setlists.create_setlist(session, leader, "Friday")
        assert setlist.id is not None
        await setlists.add_song(session, leader, setlist.id, songs["Tune"], musical_key="C", notes="horns out front")
        await setlists.add_song(session, leader, setlist.id, songs["Tune"])
        await setlists.add_song(session, leader, setlist.id, songs["Take Five"], musical_key="C")
        await library.set_member_pref(session, trombone, songs["Tune"], octave_shift=1)
        take_five = await session.get(Song, songs["Take Five"])
        assert take_five is not None
        take_five.musical_key = "Bb"  # what the leader knows of the PDF's key
        session.add(take_five)
    async with db.session() as session:
        plans = {name: await setlist_plan.stand_plan(session, actor, setlist.id)
                 for name, actor in (("trumpet", trumpet), ("trombone", trombone))}

    tonight, usual, five = plans["trumpet"].stops
    assert tonight.generated and tonight.resolved is not None and tonight.resolved.spec_params["ck"] == "C"
    assert chart_pages.stand_label(tonight) == ("Trumpet · engraved from the score · Tonight: concert C · your B♭ part "
                                                "reads D · engraved in D for you · horns out front")
    assert usual.generated and "ck" not in usual.resolved.spec_params  # type: ignore[union-attr]
    assert not five.generated and chart_pages.stand_label(five) == (
        "B♭ · this PDF is in B♭ · Tonight: concert C · your B♭ part reads D · this PDF is not transposed")

    songs_json = await chart_pages.stand_songs(plans["trumpet"])
    assert [s["item_id"] for s in songs_json] == [s.item_id for s in plans["trumpet"].stops]
    svg_tonight = await served_svg(songs_json[0]["pages"][0])  # type: ignore[index]
    svg_usual = await served_svg(songs_json[1]["pages"][0])  # type: ignore[index]
    assert (key_signature(svg_tonight), chords(svg_tonight)[0]) == (2, "D7")  # C concert → D for a B♭ trumpet
    assert (key_signature(svg_usual), chords(svg_usual)[0]) == (0, "C7")
    assert "/pages/0?" in str(songs_json[2]["pages"][0]["src"]) and songs_json[2]["chart_id"] == five.chart.id  # type: ignore[index, union-attr]

    bone = await chart_pages.stand_songs(plans["trombone"])
    assert plans["trombone"].stops[0].resolved.spec_params["oct"] == "1"  # type: ignore[union-attr]
    svg = await served_svg(bone[1]["pages"][0])  # type: ignore[index]
    assert clef(svg) == F_CLEF and chords(svg)[0] == "B♭7".translate(SMUFL)


async def test_a_part_that_cant_be_engraved_on_the_night_says_why_and_the_set_goes_on(tmp_path: Path) -> None:
    """The file was fine at sync and is unusable now (its stored copy damaged): the stand gets no pages and the
    reason for that song, and every other song of the set as usual."""
    folder = folder_with(tmp_path, "Tune.musicxml", "Amazing Grace_Chords.cho")
    leader, trumpet = await synced_band(folder, TRUMPET)
    damaged = hashlib.sha256(b"<score-partwise>").hexdigest()
    await get_runtime().blobs.put(damaged, b"<score-partwise>")
    async with db.session() as session:
        tune = (await session.exec(select(Chart).where(Chart.file_name == "Tune.musicxml"))).one()
        tune.checksum = damaged
        session.add(tune)
        songs = {s.title: s.id for s in (await session.exec(select(Song))).all()}
        setlist = await setlists.create_setlist(session, leader, "Damaged")
        assert setlist.id is not None
        await setlists.add_song(session, leader, setlist.id, songs["Tune"])
        await setlists.add_song(session, leader, setlist.id, songs["Amazing Grace"])
    async with db.session() as session:
        plan = await setlist_plan.stand_plan(session, trumpet, setlist.id)
    broken, grace = await chart_pages.stand_songs(plan)
    assert broken["pages"] == [] and broken["chart_id"] == tune.id
    assert str(broken["explanation"]).startswith("The MusicXML file is damaged or incomplete")
    assert grace["pages"] and "/svg/0?" in str(grace["pages"][0]["src"])  # type: ignore[index]
