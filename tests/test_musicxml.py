"""MusicXML engraved with verovio, checked by reading the SVG it draws (chord symbols, key signatures, clefs) and
the notes it writes (its MEI), on hand-written fixtures: a concert B♭ blues lead sheet, a three-staff brass score
with B♭ trumpets, a long chart, a compressed .mxl, and broken files."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pypdfium2 as pdfium
import pytest

from soleil_ui.engraving.musicxml import (
    LAYOUTS,
    MAX_STAVES,
    engrave_pdf,
    engrave_svg,
    inspect_score,
    list_parts,
    plan_part,
    written_pitches,
)
from soleil_ui.engraving.theory import UNISON, Interval, Pitch
from soleil_ui.errors import BrokenFile, NotFound
from soleil_ui.parts import PartRef, Role
from soleil_ui.parts import Transposition as T

NOTATION = Path(__file__).parent / "fixtures" / "notation"
TUNE = (NOTATION / "Tune.musicxml").read_bytes()
TRIO = (NOTATION / "Brass Trio.musicxml").read_bytes()
LONG = (NOTATION / "Long Chart.musicxml").read_bytes()
MXL = (NOTATION / "Tune Compressed.mxl").read_bytes()

SVG = "{http://www.w3.org/2000/svg}"
HREF = "{http://www.w3.org/1999/xlink}href"
SMUFL = str.maketrans({"\uea64": "b", "\uea66": "#", "\uea65": "", "♭": "b", "♯": "#", "♮": ""})
G_CLEF, F_CLEF = "E050", "E062"
SHARP, FLAT = "E262", "E260"

TRUMPET = PartRef(instrument="trumpet")
ALTO = PartRef(instrument="alto_sax")
TROMBONE = PartRef(instrument="trombone")
BB, EB, F, BASS, CONCERT = (PartRef(transposition=t) for t in (T.BB, T.EB, T.F, T.BASS_CLEF, T.CONCERT))
CHORDS = PartRef(role=Role.CHORDS)


def _groups(svg: str, cls: str) -> list[ET.Element]:
    root = ET.fromstring(svg)
    return [g for g in root.iter(SVG + "g") if cls in g.get("class", "").split()]


def chords(pages: list[str]) -> list[str]:
    """Chord symbols as drawn, flats and sharps back to ASCII."""
    return ["".join(g.itertext()).translate(SMUFL).replace(" ", "").replace("\n", "")
            for page in pages for g in _groups(page, "harm")]


def key_signature(svg: str) -> int:
    """Sharps (+) or flats (-) in the first key signature; 0 when verovio draws none (C major)."""
    groups = _groups(svg, "keySig")
    if not groups:
        return 0
    glyphs = [u.get(HREF, "").lstrip("#").split("-")[0] for u in groups[0].iter(SVG + "use")]
    return glyphs.count(SHARP) - glyphs.count(FLAT)


def clef(svg: str) -> str:
    use = next(_groups(svg, "clef")[0].iter(SVG + "use"))
    return use.get(HREF, "").lstrip("#").split("-")[0]


def midi(pitches: list[Pitch]) -> list[int]:
    return [p.midi for p in pitches]


CONCERT_NOTES = midi(written_pitches(TUNE, CONCERT))


@pytest.fixture(scope="module")
def tune_pages() -> dict[str, list[str]]:
    parts = {"concert": CONCERT, "trumpet": TRUMPET, "alto": ALTO, "trombone": TROMBONE, "chords": CHORDS, "f": F}
    return {name: engrave_svg(TUNE, part, 800) for name, part in parts.items()}


# --- What a file is ---------------------------------------------------------------------------------------------------


def test_inspect_a_lead_sheet() -> None:
    info = inspect_score(TUNE)
    assert info.title == "Tune"
    assert info.composer == "SOLEil Tests"
    assert info.key.name() == "Bb"
    assert info.measures == 12
    assert info.has_chords
    [part] = info.parts
    assert (part.id, part.name, part.instrument, part.transposition, part.clef) == (
        "P1", "Lead Sheet", None, T.CONCERT, "treble")
    assert [p.key() for p in info.available] == ["concert", "bb", "eb", "f", "bass_clef", "chords"]


def test_a_full_scores_staves_are_the_instruments_parts() -> None:
    parts = list_parts(TRIO)
    assert [(p.id, p.instrument, p.chair, p.transposition) for p in parts] == [
        ("P1", "trumpet", 1, T.BB), ("P2", "trumpet", 2, T.BB), ("P3", "trombone", None, T.BASS_CLEF)]
    assert parts[0].sounding == Interval.parse("-M2")
    assert parts[2].sounding == UNISON
    assert [p.part_ref.key() for p in parts if p.part_ref] == [
        "instrument:trumpet:1", "instrument:trumpet:2", "instrument:trombone"]
    info = inspect_score(TRIO)
    assert info.key.name() == "Bb"  # the trumpets' written C, sounding a tone lower
    assert info.lead == "P1"  # the staff with the chord symbols makes the generic parts
    assert {"instrument:trumpet:2", "instrument:trombone", "bb", "eb", "chords"} <= {p.key() for p in info.available}


def test_compressed_mxl_reads_like_the_plain_file() -> None:
    assert inspect_score(MXL, "Tune.mxl") == inspect_score(TUNE)
    assert chords(engrave_svg(MXL, TRUMPET, 800)) == chords(engrave_svg(TUNE, TRUMPET, 800))


def test_timewise_scores_are_read() -> None:
    timewise = b"""<?xml version="1.0"?><score-timewise version="4.0"><work><work-title>Timewise</work-title></work>
    <part-list><score-part id="P1"><part-name>Flute</part-name></score-part></part-list>
    <measure number="1"><part id="P1"><attributes><divisions>1</divisions><key><fifths>1</fifths></key>
    <clef><sign>G</sign><line>2</line></clef></attributes>
    <note><pitch><step>G</step><octave>4</octave></pitch><duration>4</duration><type>whole</type></note></part></measure>
    </score-timewise>"""
    info = inspect_score(timewise)
    assert (info.title, info.key.name(), info.parts[0].instrument) == ("Timewise", "G", "flute")
    assert midi(written_pitches(timewise, BB)) == [69]  # G4 → A4 for B♭ instruments


# --- Transposition, as music -----------------------------------------------------------------------------------------


def test_trumpet_part_of_a_concert_bb_blues_is_in_c(tune_pages: dict[str, list[str]]) -> None:
    [page] = tune_pages["trumpet"]
    assert key_signature(page) == 0
    assert chords([page]) == ["C7", "F7", "C7", "F7", "C7", "G7", "F7", "C7", "G7"]
    assert clef(page) == G_CLEF
    assert midi(written_pitches(TUNE, TRUMPET)) == [n + 2 for n in CONCERT_NOTES]  # up a major second


def test_alto_part_is_in_g_a_minor_third_down(tune_pages: dict[str, list[str]]) -> None:
    [page] = tune_pages["alto"]
    assert key_signature(page) == 1
    assert chords([page]) == ["G7", "C7", "G7", "C7", "G7", "D7", "C7", "G7", "D7"]
    assert midi(written_pitches(TUNE, ALTO)) == [n - 3 for n in CONCERT_NOTES]  # M6 up would reach G6


def test_horn_part_is_in_f(tune_pages: dict[str, list[str]]) -> None:
    [page] = tune_pages["f"]
    assert key_signature(page) == -1
    assert chords([page])[:3] == ["F7", "Bb7", "F7"]
    assert midi(written_pitches(TUNE, F)) == [n - 5 for n in CONCERT_NOTES]  # a fifth up, then down an octave


def test_trombone_reads_concert_on_the_bass_clef_an_octave_down(tune_pages: dict[str, list[str]]) -> None:
    [page] = tune_pages["trombone"]
    assert clef(page) == F_CLEF
    assert key_signature(page) == -2
    assert chords([page]) == ["Bb7", "Eb7", "Bb7", "Eb7", "Bb7", "F7", "Eb7", "Bb7", "F7"]
    assert midi(written_pitches(TUNE, TROMBONE)) == [n - 12 for n in CONCERT_NOTES]


def test_concert_and_chords_parts_are_as_written(tune_pages: dict[str, list[str]]) -> None:
    for name in ("concert", "chords"):
        [page] = tune_pages[name]
        assert key_signature(page) == -2
        assert clef(page) == G_CLEF
        assert chords([page])[:2] == ["Bb7", "Eb7"]
    assert plan_part(TUNE, CONCERT).interval == UNISON
    assert plan_part(TUNE, CHORDS).as_written


@pytest.mark.parametrize(("part", "fifths"), [(CONCERT, 0), (BB, 2), (ALTO, 3), (F, 1), (TROMBONE, 0)])
def test_the_key_of_the_night_moves_every_part_up_a_tone(part: PartRef, fifths: int) -> None:
    before = midi(written_pitches(TUNE, part))
    after = midi(written_pitches(TUNE, part, concert_key="C"))
    assert [b - a for a, b in zip(before, after, strict=True)] == [2] * len(before)
    [page] = engrave_svg(TUNE, part, 800, concert_key="C")
    assert key_signature(page) == fifths
    first = chords(engrave_svg(TUNE, part, 800))[0]
    assert chords([page])[0] == {"Bb7": "C7", "C7": "D7", "G7": "A7", "F7": "G7"}[first]


def test_concert_key_down_and_by_name() -> None:
    assert plan_part(TUNE, CONCERT, concert_key="G").interval == Interval.parse("-m3")
    assert plan_part(TUNE, CONCERT, concert_key="E♭").written_key.name() == "Eb"
    assert plan_part(TUNE, BB, concert_key="Ab").written_key.name() == "Bb"


def test_member_key_and_octave_overrides() -> None:
    plan = plan_part(TUNE, BB, key="D")
    assert plan.written_key.name() == "D"
    assert midi(written_pitches(TUNE, BB, key="D")) == [n + 4 for n in CONCERT_NOTES]
    assert midi(written_pitches(TUNE, BB, octave_shift=-1)) == [n + 2 - 12 for n in CONCERT_NOTES]
    [page] = engrave_svg(TUNE, CONCERT, 800, clef="bass")
    assert clef(page) == F_CLEF


def test_trumpet_2_reads_the_trumpet_2_staff_as_written() -> None:
    plan = plan_part(TRIO, PartRef(instrument="trumpet", chair=2))
    assert (plan.source.id, plan.interval, plan.as_written) == ("P2", UNISON, True)
    assert [str(p) for p in written_pitches(TRIO, PartRef(instrument="trumpet", chair=2))] == [
        "G4", "Bb4", "A4", "E4", "F4"]
    [page] = engrave_svg(TRIO, PartRef(instrument="trumpet", chair=2), 800)
    assert key_signature(page) == 0
    assert chords([page]) == []  # the chord symbols are on Trumpet 1
    assert plan_part(TRIO, PartRef(instrument="trumpet", chair=3)).source.id == "P2"  # the nearest chair
    assert plan_part(TRIO, TRUMPET).source.id == "P1"


def test_trombone_reads_its_own_staff() -> None:
    plan = plan_part(TRIO, TROMBONE)
    assert (plan.source.id, plan.interval, plan.clef) == ("P3", UNISON, None)
    [page] = engrave_svg(TRIO, TROMBONE, 800)
    assert (clef(page), key_signature(page)) == (F_CLEF, -2)


def test_generic_parts_of_a_score_come_from_the_lead_staff() -> None:
    [eb] = engrave_svg(TRIO, EB, 800)
    assert (key_signature(eb), chords([eb])) == (1, ["G7", "C7", "G7", "D7"])
    [concert] = engrave_svg(TRIO, CONCERT, 800)  # the B♭ trumpet staff read at concert pitch
    assert (key_signature(concert), chords([concert])) == (-2, ["Bb7", "Eb7", "Bb7", "F7"])
    assert midi(written_pitches(TRIO, CONCERT)) == [70, 74, 75, 73, 77, 72]


def test_source_part_override() -> None:
    plan = plan_part(TRIO, CONCERT, source_part="P3")
    assert plan.source.id == "P3"
    assert plan.clef == "treble"  # a bass line for a concert (treble) reader
    with pytest.raises(NotFound):
        plan_part(TRIO, CONCERT, source_part="P9")


def test_file_name_part_is_a_hint_only_when_the_file_says_nothing() -> None:
    # Tune has no <transpose>: a "Tune - Bb.musicxml" is a B♭ part, so the concert key is A♭.
    assert inspect_score(TUNE, hint=BB).key.name() == "Ab"
    assert plan_part(TUNE, BB, hint=BB).interval == UNISON
    assert plan_part(TUNE, CONCERT, hint=BB).interval == Interval.parse("-M2")
    assert inspect_score(TUNE, hint=PartRef(instrument="alto_sax")).parts[0].instrument == "alto_sax"
    # The trio says what its staves are: the hint changes nothing.
    assert inspect_score(TRIO, hint=EB) == inspect_score(TRIO)


# --- Pages ------------------------------------------------------------------------------------------------------------


def test_pages_are_letter_shaped_at_the_standard_widths() -> None:
    counts = {}
    for width in LAYOUTS:
        pages = engrave_svg(LONG, BB, width)
        counts[width] = len(pages)
        root = ET.fromstring(pages[0])
        assert (root.get("width"), root.get("height")) == (str(width), str(round(width * 11 / 8.5)))
    assert 3 <= counts[800] <= 5  # the "four page" chart
    assert counts[480] > counts[800] > counts[1200] >= counts[2400]  # phones get bigger staves
    assert engrave_svg(TUNE, BB, 800) == engrave_svg(TUNE, BB, 800)  # deterministic: stable caches and ETags


def test_chord_symbol_accidentals_do_not_carry_a_whole_music_font(tune_pages: dict[str, list[str]]) -> None:
    [page] = tune_pages["concert"]  # B♭7 and E♭7: verovio would embed all of Leipzig (~60 KB) for the flats
    assert "Leipzig" not in page
    assert "@font-face {font-family: 'SoleilAccidentals'" in page
    assert len(page) < 40_000
    assert "B♭" in "".join(ET.fromstring(page).itertext())


def test_pdf_is_the_paper_fallback() -> None:
    pdf = pdfium.PdfDocument(engrave_pdf(TUNE, TRUMPET, title="Tune"))
    assert len(pdf) == 1
    assert pdf.get_page_size(0) == pytest.approx((612, 792))
    text = pdf[0].get_textpage().get_text_range()
    assert "Trumpet" in text
    assert "C7" in text and "G7" in text
    assert "Tune" in text
    long = pdfium.PdfDocument(engrave_pdf(LONG, ALTO))
    assert len(long) >= 2
    assert "1/" in long[0].get_textpage().get_text_range()


# --- Bad files ----------------------------------------------------------------------------------------------------


def _broken(data: bytes, reason: str, filename: str | None = None) -> None:
    with pytest.raises(BrokenFile) as caught:
        inspect_score(data, filename)
    assert reason in caught.value.user_message


def test_malformed_xml() -> None:
    _broken((NOTATION / "Broken.musicxml").read_bytes(), "damaged or incomplete")
    _broken(TUNE[: len(TUNE) // 2], "line")


def test_mxl_that_is_not_a_zip() -> None:
    _broken((NOTATION / "Not A Zip.mxl").read_bytes(), "isn't a zip archive", "Not A Zip.mxl")
    _broken((NOTATION / "Not A Zip.mxl").read_bytes(), "isn't a MusicXML file")
    _broken(MXL[:200], "damaged")


def test_mxl_without_a_score() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "nothing here")
    _broken(out.getvalue(), "no MusicXML score inside")


def test_other_documents_and_empties() -> None:
    _broken(b"", "empty")
    _broken(b"<html><body>Sign in</body></html>", "isn't a MusicXML score")
    _broken(b'<?xml version="1.0"?><score-partwise><part-list/></score-partwise>', "no music")


def test_xml_entity_tricks_are_refused() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
            b"<score-partwise><part-list/><part id='P1'>&lol2;</part></score-partwise>")
    _broken(bomb, "entities")


def _score(staves: int, measures: int = 1, notes_per_measure: int = 1) -> bytes:
    parts = "".join(f'<score-part id="P{n}"><part-name>Violin {n}</part-name></score-part>'
                    for n in range(1, staves + 1))
    note = "<note><pitch><step>C</step><octave>5</octave></pitch><duration>1</duration><type>quarter</type></note>"
    music = "".join(
        f'<part id="P{n}">' + "".join(f'<measure number="{m}">' + note * notes_per_measure + "</measure>"
                                      for m in range(1, measures + 1)) + "</part>"
        for n in range(1, staves + 1))
    return f'<?xml version="1.0"?><score-partwise><part-list>{parts}</part-list>{music}</score-partwise>'.encode()


def test_a_score_with_40_staves_is_refused() -> None:
    assert MAX_STAVES < 40
    _broken(_score(40), "40 staves")
    assert len(inspect_score(_score(MAX_STAVES)).parts) == MAX_STAVES


def test_too_many_notes_is_refused_before_engraving() -> None:
    _broken(_score(1, measures=1000, notes_per_measure=61), "too large to engrave")


# --- What real scores showed (music21's corpus, the W3C examples; see fixtures/notation/LICENCES.md) -----------------

CORPUS = NOTATION / "musicxml-corpus"
FANFARE = (NOTATION / "Festive Fanfare.musicxml").read_bytes()
VOCALS = PartRef(instrument="vocals")


_KIND_TEXT = {"major": "", "major-seventh": "maj7", "dominant": "7", "diminished-seventh": "dim7"}


def _lead_sheet(harmonies: list[tuple[str, int, str]], fifths: int = 0) -> bytes:
    """One treble staff in C with a chord symbol (root step, alter, MusicXML kind) on each quarter note."""
    notes = "".join(
        f"<harmony><root><root-step>{step}</root-step>{f'<root-alter>{alter}</root-alter>' if alter else ''}</root>"
        f'<kind text="{_KIND_TEXT[kind]}">{kind}</kind></harmony><note><pitch><step>C</step><octave>5</octave>'
        f"</pitch><duration>1</duration>"
        f"<type>quarter</type></note>" for step, alter, kind in harmonies)
    return (f'<?xml version="1.0"?><score-partwise version="4.0"><part-list><score-part id="P1"><part-name>Lead'
            f'</part-name></score-part></part-list><part id="P1"><measure number="1"><attributes><divisions>1'
            f"</divisions><key><fifths>{fifths}</fifths></key><time><beats>4</beats><beat-type>4</beat-type></time>"
            f"<clef><sign>G</sign><line>2</line></clef></attributes>{notes}</measure></part></score-partwise>"
            ).encode()


def test_transposed_chord_symbols_are_spelled_for_the_parts_key() -> None:
    sheet = _lead_sheet([("C", 0, "major"), ("D", 1, "major-seventh"), ("G", 0, "dominant"),
                         ("F", 1, "diminished-seventh")])
    assert chords(engrave_svg(sheet, CONCERT, 800)) == ["C", "D#maj7", "G7", "F#dim7"]  # as written
    assert chords(engrave_svg(sheet, BB, 800)) == ["D", "Fmaj7", "A7", "G#dim7"]  # not E#maj7
    assert chords(engrave_svg(sheet, EB, 800)) == ["A", "Cmaj7", "E7", "D#dim7"]  # not B#maj7
    assert chords(engrave_svg(sheet, F, 800)) == ["G", "Bbmaj7", "D7", "C#dim7"]  # not A#maj7


def test_a_choirs_voices_are_voices_not_saxophones() -> None:
    chorale = (CORPUS / "music21_bach_bwv110.7.mxl").read_bytes()  # lyrics in the soprano only
    parts = list_parts(chorale)
    assert [(p.name, p.instrument) for p in parts] == [
        ("Soprano", "vocals"), ("Alto", "vocals"), ("Tenor", "vocals"), ("Bass", "vocals")]
    assert plan_part(chorale, VOCALS).source.name == "Soprano"
    assert plan_part(chorale, ALTO).source.name == "Soprano"  # the alto sax gets the lead, not the alto voice
    wordless = list_parts((CORPUS / "music21_bach_bwv165.6.mxl").read_bytes())  # no lyrics at all: SATB says choir
    assert [p.instrument for p in wordless] == ["vocals"] * 4
    quartet = _score(4)
    for n, name in enumerate(("Soprano", "Alto", "Tenor", "Baritone"), 1):
        quartet = quartet.replace(f"Violin {n}</part-name>".encode(), f"{name}</part-name>".encode())
    assert [p.instrument for p in list_parts(quartet)] == ["soprano_sax", "alto_sax", "tenor_sax", "bari_sax"]
    madrigal = list_parts((CORPUS / "music21_monteverdi_madrigal.5.6.mxl").read_bytes())
    assert [p.instrument for p in madrigal] == ["vocals"] * 5 + [None]  # Canto, Quinto, Alto, Tenor, Basso; Continuo
    big_band = _score(2).replace(b"<part-name>Violin 1</part-name>", b"<part-name>Alto 1</part-name>").replace(
        b"<part-name>Violin 2</part-name>", b"<part-name>Tenor 2</part-name>")
    assert [(p.instrument, p.chair) for p in list_parts(big_band)] == [("alto_sax", 1), ("tenor_sax", 2)]
    lyric = b"<lyric><text>la</text></lyric></note>"
    with_singer = _score(3).replace(b"<part-name>Violin 1</part-name>", b"<part-name>Voice</part-name>").replace(
        b"<part-name>Violin 2</part-name>", b"<part-name>Alto 1</part-name>").replace(
        b"<part-name>Violin 3</part-name>", b"<part-name>Tenor 2</part-name>").replace(b"</note>", lyric, 1)
    assert [p.instrument for p in list_parts(with_singer)] == ["vocals", "alto_sax", "tenor_sax"]


def test_the_section_trumpet_reads_a_b_flat_trumpet_staff_not_the_piccolo_trumpet() -> None:
    parts = {p.id: p for p in list_parts(FANFARE)}
    assert (parts["P1"].instrument, parts["P2"].instrument, parts["P2"].variant) == ("piccolo", "trumpet", "piccolo")
    assert plan_part(FANFARE, TRUMPET).source.id == "P3"
    assert plan_part(FANFARE, PartRef(instrument="trumpet", chair=2)).source.id == "P4"
    assert plan_part(FANFARE, PartRef(instrument="trumpet", chair=3)).source.id == "P4"
    assert plan_part(FANFARE, PartRef(instrument="piccolo")).source.id == "P1"
    for name in ("Trumpet (Piccolo)", "Tromba piccola in Sib", "Piccolotrompete in B", "Picc. Tpt."):
        renamed = FANFARE.replace("Piccolo Trumpet in B♭".encode(), name.encode()).replace(
            b"Picc. Tpt.", name.encode()).replace(b"brass.trumpet.piccolo", b"brass.trumpet")
        assert (list_parts(renamed)[1].instrument, list_parts(renamed)[1].variant) == ("trumpet", "piccolo"), name
        assert plan_part(renamed, TRUMPET).source.id == "P3"
    by_sound = FANFARE.replace("Piccolo Trumpet in B♭".encode(), b"Solo").replace(b"Picc. Tpt.", b"Solo")
    assert (list_parts(by_sound)[1].instrument, list_parts(by_sound)[1].variant) == ("trumpet", "piccolo")
    unnumbered = FANFARE.replace("Trumpet in B♭ 1".encode(), "Trumpet in B♭".encode()).replace(b"Tpt. 1", b"Tpt.")
    assert plan_part(unnumbered, TRUMPET).source.id == "P3"
    alone = FANFARE.replace(b'<score-part id="P3">', b'<score-part id="P3x">')  # no B♭ trumpet staff left to read
    assert plan_part(alone.replace(b'<part id="P3">', b'<part id="P3x">'), TRUMPET).source.id in ("P4", "P3x")


def test_a_mid_score_instrument_change_is_read_as_the_new_instrument() -> None:
    """The W3C example: a B♭ clarinet part (C5 in bar 1) that turns to alto sax in bar 5 (C5 again, now an E♭)."""
    data = (CORPUS / "w3c_instrument-change-element.musicxml").read_bytes()
    assert [str(p) for p in written_pitches(data, CONCERT)] == ["Bb4", "Eb4"]
    assert [str(p) for p in written_pitches(data, BB)] == ["C5", "F4"]
    assert [str(p) for p in written_pitches(data, EB)] == ["G5", "C5"]
    assert [str(p) for p in written_pitches(data, PartRef(instrument="clarinet"))] == ["C5", "C5"]  # the doubler's


def test_a_drum_score_is_the_drummers_part() -> None:
    from soleil_ui.engraving import inspect_source

    data = (CORPUS / "w3c_tutorial-percussion.musicxml").read_bytes()
    info = inspect_source(data, "Drums.musicxml")
    assert info.default_part == PartRef(instrument="drums")
    assert engrave_svg(data, info.default_part, 800)
