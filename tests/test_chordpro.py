"""ChordPro sheets: parsing, what each part shows (transposed and respelled chords, lyrics alone), the layout of
chords over lyrics, SVG pages and the PDF."""

from __future__ import annotations

import itertools
from pathlib import Path
from xml.etree import ElementTree as ET

import pypdfium2 as pdfium
import pytest

from soleil_ui.engraving.chordpro import (
    TYPE_SIZES,
    Segment,
    available_parts,
    concert_key,
    decode_text,
    engrave_pdf,
    engrave_svg,
    inspect_chordpro,
    iter_chords,
    layout,
    looks_like_chordpro,
    parse_chordpro,
    parse_songbook,
    render_svg,
    songbook,
    split_songbook,
    text_width,
    view_for,
)
from soleil_ui.engraving.theory import Key, semitone_interval, transpose_key
from soleil_ui.errors import BrokenFile
from soleil_ui.parts import PartRef, Role
from soleil_ui.parts import Transposition as T

NOTATION = Path(__file__).parent / "fixtures" / "notation"
REFERENCE = NOTATION / "chordpro-reference"  # the reference implementation's own test songs (see LICENCES.md)
GRACE = (NOTATION / "Amazing Grace_Chords.cho").read_bytes()
SVG = "{http://www.w3.org/2000/svg}"

TRUMPET = PartRef(instrument="trumpet")
ALTO = PartRef(instrument="alto_sax")
BB, EB, F, CONCERT = (PartRef(transposition=t) for t in (T.BB, T.EB, T.F, T.CONCERT))
CHORDS, LYRICS = PartRef(role=Role.CHORDS), PartRef(role=Role.LYRICS)
VERSE_1 = "G G7/B C G G Em Am7 D7sus4 D7 G G7/B C Cmaj7 Em Am7b5 D7 G".split()


def texts(pages: list[str], role: str) -> list[str]:
    return [t.text or "" for page in pages for t in ET.fromstring(page).iter(SVG + "text") if t.get("class") == role]


def ascii_chord(text: str) -> str:
    return text.replace("♭", "b").replace("♯", "#")


def drawn_chords(pages: list[str]) -> list[str]:
    return [ascii_chord(c) for c in iter_chords(pages)]


# --- Parsing ---------------------------------------------------------------------------------------------------------


def test_parse_amazing_grace() -> None:
    song = parse_chordpro(GRACE)
    assert song.title == "Amazing Grace"
    assert song.subtitle == "Traditional"
    assert song.artists == ("John Newton",)
    assert song.key == Key.parse("G")
    assert (song.capo, song.tempo, song.time) == (0, "80", "3/4")
    assert [(s.kind, s.label) for s in song.sections] == [
        ("", ""), ("verse", "Verse 1"), ("chorus", ""), ("", ""), ("bridge", "")]
    first = song.sections[1].lines[0]
    assert first.segments == (Segment(None, "A"), Segment("G", "mazing "), Segment("G7/B", "grace, how "),
                              Segment("C", "sweet the "), Segment("G", "sound"))
    assert [c.text() for c in song.chords()][:len(VERSE_1)] == VERSE_1
    assert song.sections[0].lines[0].kind == "comment"
    assert [line.kind for line in song.sections[3].lines] == ["comment", "chorus_ref"]
    assert all("Amazing Grace: a ChordPro" not in (line.text or "") for s in song.sections for line in s.lines)


def test_directive_spellings_and_sections() -> None:
    song = parse_chordpro("{t:Short}\n{st: Sub}\n{soc}\n[C]La la\n{eoc}\n{c: note}\n{start_of_verse label=\"V2\"}\n"
                          "[F]Hey\n{end_of_verse}\n{meta: key Dm}\n{unknown_directive: x}\n")
    assert song.title == "Short"
    assert song.subtitle == "Sub"
    assert song.key == Key.parse("Dm")
    assert [(s.kind, s.label) for s in song.sections] == [("chorus", ""), ("", ""), ("verse", "V2")]


def test_unbalanced_brackets_are_a_broken_file() -> None:
    with pytest.raises(BrokenFile) as caught:
        parse_chordpro((NOTATION / "Broken Brackets.cho").read_bytes())
    assert "Line 4" in caught.value.user_message
    assert "isn't closed" in caught.value.user_message
    for bad, reason in [("[C]fine\nstray] bracket", "without its “[”"), ("[C [D]nested", "isn't closed"),
                        ("{title: never closed", "directive"), ("[C]ok\n[G", "Line 2")]:
        with pytest.raises(BrokenFile) as caught:
            parse_chordpro(bad)
        assert reason in caught.value.user_message


def test_chords_over_lyrics_text_is_read_too() -> None:
    song = parse_chordpro((NOTATION / "House of the Rising Sun.crd").read_bytes())
    lines = [line for s in song.sections for line in s.lines if line.has_chords]
    assert [seg.chord for seg in lines[0].segments] == ["Am", "C", "D", "F"]
    assert "".join(seg.lyric for seg in lines[0].segments).strip() == "There is a house in New Orleans"
    assert song.written_key == Key.parse("Am")


def test_looks_like_chordpro() -> None:
    assert looks_like_chordpro(decode_text(GRACE))
    assert looks_like_chordpro((NOTATION / "Blue Bossa - Bb.txt").read_text())
    assert looks_like_chordpro("[G]One line\nand [C]another [D]one")
    assert not looks_like_chordpro("Shopping list\n- eggs\n- milk")
    assert not looks_like_chordpro("As shown in [1] and [2], bands like charts.\nSee [3].")
    assert not looks_like_chordpro("A [link](http://example.com) and [G](#g)\n[G] [C]")
    assert not looks_like_chordpro("[G] only one line")
    assert not looks_like_chordpro("")


def test_decoding() -> None:
    assert decode_text("{title: Café}".encode("cp1252")) == "{title: Café}"
    assert decode_text("\ufeff{title: Ça}".encode()) == "{title: Ça}"
    assert decode_text("{title: Ü}".encode("utf-16")) == "{title: Ü}"


# --- Parts -----------------------------------------------------------------------------------------------------------


def test_trumpet_reads_a_sheet_in_g_in_a_major() -> None:
    song = parse_chordpro(GRACE)
    view = view_for(song, TRUMPET)
    assert (view.semitones, view.key) == (2, Key.parse("A"))
    drawn = drawn_chords(engrave_svg(GRACE, TRUMPET, 800))
    assert drawn[:len(VERSE_1)] == "A A7/C# D A A F#m Bm7 E7sus4 E7 A A7/C# D Dmaj7 F#m Bm7b5 E7 A".split()
    assert "F#m(maj7)" in drawn


def test_alto_and_horn_parts() -> None:
    assert drawn_chords(engrave_svg(GRACE, ALTO, 800))[:4] == ["E", "E7/G#", "A", "E"]
    assert drawn_chords(engrave_svg(GRACE, F, 800))[:4] == ["D", "D7/F#", "G", "D"]


def test_chords_part_shows_concert_chords_and_lyrics_part_no_chords() -> None:
    chords = engrave_svg(GRACE, CHORDS, 800)
    assert drawn_chords(chords)[:len(VERSE_1)] == VERSE_1
    lyrics = engrave_svg(GRACE, LYRICS, 800)
    assert drawn_chords(lyrics) == []
    words = " ".join(texts(lyrics, "lyric"))
    assert "Amazing" not in words  # "A" and "mazing" are drawn apart (a chord stood between them)...
    assert "mazing grace, how sweet the sound" in words.replace("  ", " ")
    assert "Through many dangers, toils and snares" in words.replace("  ", " ")
    assert "[" not in words
    assert texts(lyrics, "label") == ["VERSE 1", "CHORUS"]  # the chord-only bridge is left out
    assert len(lyrics) <= len(chords)


def test_concert_and_bass_clef_parts_read_concert_chords() -> None:
    for part in (CONCERT, PartRef(transposition=T.BASS_CLEF), PartRef(instrument="drums"),
                 PartRef(instrument="vocals")):
        assert drawn_chords(engrave_svg(GRACE, part, 800))[:3] == ["G", "G7/B", "C"], part


def test_the_key_of_the_night() -> None:
    assert drawn_chords(engrave_svg(GRACE, CHORDS, 800, concert_key="A"))[:3] == ["A", "A7/C#", "D"]
    assert drawn_chords(engrave_svg(GRACE, TRUMPET, 800, concert_key="F"))[:3] == ["G", "G7/B", "C"]
    assert drawn_chords(engrave_svg(GRACE, CHORDS, 800, concert_key="Eb"))[:3] == ["Eb", "Eb7/G", "Ab"]
    assert drawn_chords(engrave_svg(GRACE, TRUMPET, 800, key="Bb"))[:2] == ["Bb", "Bb7/D"]  # a member's own key


@pytest.mark.parametrize(("source", "semitones_up", "first", "expected"), [
    ("{key: F}\n[F]One [A#]two [C7]three\n[F]four", 0, 0, ["F", "Bb", "C7", "F"]),  # B♭ not A♯ in F
    ("{key: C}\n[C]One [F]two [G7]three\n[C]four", 2, 0, ["D", "G", "A7", "D"]),
    ("{key: C}\n[C]One [Gb]two [G7]three\n[C]four", 2, 1, ["Ab"]),  # ♭V in C → ♭V in D is A♭
    ("{key: A}\n[A]One [Gb]two [E7]three\n[A]four", 0, 1, ["F#"]),  # F♯ not G♭ (sloppy source)
    ("{key: G}\n[G]One [D/F#]two\n[C]x [G]y", -7, 1, ["G/B"]),  # to C: slash bass spelled as the third
])
def test_spelling_follows_the_target_key(source: str, semitones_up: int, first: int, expected: list[str]) -> None:
    song = parse_chordpro(source)
    written = song.written_key
    assert written is not None
    tonight = transpose_key(written, semitone_interval(semitones_up % 12))[0] if semitones_up else None
    pages = render_svg(song, view_for(song, CHORDS, concert_key=tonight), 800)
    assert drawn_chords(pages)[first:first + len(expected)] == expected


def test_capo_means_the_chords_are_shapes() -> None:
    capo = GRACE.replace(b"{capo: 0}", b"{capo: 2}")
    song = parse_chordpro(capo)
    assert concert_key(song) == Key.parse("A")  # G shapes with a capo on 2 sound in A
    chords_view = view_for(song, CHORDS)
    assert chords_view.note == "Capo 2 (G shapes)"
    assert drawn_chords(render_svg(song, chords_view, 800))[:3] == ["A", "A7/C#", "D"]
    assert drawn_chords(engrave_svg(capo, TRUMPET, 800))[:3] == ["B", "B7/D#", "E"]
    assert "Capo 2 (G shapes)" in " ".join(texts(render_svg(song, chords_view, 800), "meta"))


def test_file_name_part_is_a_hint_without_a_key() -> None:
    bossa = (NOTATION / "Blue Bossa - Bb.txt").read_bytes()  # no {key:}: the name says it is a B♭ sheet
    assert concert_key(parse_chordpro(bossa), hint=BB) == Key.parse("Bbm")
    assert drawn_chords(engrave_svg(bossa, CHORDS, 800, hint=BB))[:4] == ["Bbm7", "Ebm7", "Cm7b5", "F7"]
    assert drawn_chords(engrave_svg(bossa, TRUMPET, 800, hint=BB))[:4] == ["Cm7", "Fm7", "Dm7b5", "G7"]
    # {key:} wins over the name: Amazing Grace stays concert G whatever the file is called.
    assert drawn_chords(engrave_svg(GRACE, CHORDS, 800, hint=BB))[:1] == ["G"]


def test_inspect_and_available_parts() -> None:
    info = inspect_chordpro(GRACE)
    assert (info.title, info.key, info.capo, info.has_chords) == ("Amazing Grace", Key.parse("G"), 0, True)
    assert [p.key() for p in info.available] == ["concert", "bb", "eb", "f", "bass_clef", "chords", "lyrics"]
    assert available_parts(False) == (LYRICS,)
    assert inspect_chordpro("{title: Words}\nJust words\nand more").available == (LYRICS,)


# --- Layout and drawing ----------------------------------------------------------------------------------------------


def test_chords_sit_over_the_syllable_they_precede() -> None:
    song = parse_chordpro(GRACE)
    view = view_for(song, CHORDS)
    [page, *_] = layout(song, view, 800, 1035, 28)
    texts_on_page = [op for op in page if hasattr(op, "role")]
    mazing = next(op for op in texts_on_page if op.role == "lyric" and op.text.startswith("mazing"))
    g = next(op for op in texts_on_page if op.role == "chord" and op.text == "G" and abs(op.x - mazing.x) < 0.01)
    assert g.y < mazing.y
    a = next(op for op in texts_on_page if op.role == "lyric" and op.text == "A" and op.y == mazing.y)
    assert a.x + text_width("A", 28) == pytest.approx(mazing.x)  # "A" then "mazing" with no gap: one word


def test_long_chords_push_the_words_apart_and_nothing_overlaps() -> None:
    song = parse_chordpro("{key: C}\n[C7#9b13]a[Fmaj7]b [G]c")
    [page] = layout(song, view_for(song, CHORDS), 800, 1035, 28)
    chords = sorted((op for op in page if getattr(op, "role", "") == "chord"), key=lambda op: op.x)
    for left, right in itertools.pairwise(chords):
        assert left.x + left.width < right.x
    lyrics = [op.text for op in page if getattr(op, "role", "") == "lyric"]
    assert "-" in lyrics  # "a - b": the stretched word shows it continues


def test_lines_wrap_on_narrow_pages_keeping_chords_with_their_words() -> None:
    line = "[G]Once upon a [C]time there was a [D]very long line of [G]words that cannot fit [Em]on a phone"
    song = parse_chordpro("{key: G}\n" + line)
    view = view_for(song, CHORDS)
    for width in (480, 800):
        [page] = layout(song, view, width, round(width * 11 / 8.5), TYPE_SIZES[width])
        for op in page:
            if getattr(op, "role", "") in ("chord", "lyric"):
                assert op.x + op.width <= width * 0.94 + 0.5
        rows = {op.y for op in page if getattr(op, "role", "") == "lyric"}
        assert len(rows) >= 2
    [narrow] = layout(song, view, 480, 621, TYPE_SIZES[480])
    em = next(op for op in narrow if getattr(op, "role", "") == "chord" and op.text == "Em")
    on = next(op for op in narrow if getattr(op, "role", "") == "lyric" and op.text.startswith("on"))
    assert (em.x, em.y < on.y) == (on.x, True)


def test_svg_pages_are_letter_shaped_black_on_white() -> None:
    for width in (480, 800, 1600):
        pages = engrave_svg(GRACE, TRUMPET, width)
        root = ET.fromstring(pages[0])
        assert (root.get("width"), root.get("height")) == (str(width), str(round(width * 11 / 8.5)))
        assert "DejaVu Sans" in root.get("font-family", "")
        assert "sans-serif" in root.get("font-family", "")
        colours = {e.get("fill") for e in root.iter() if e.get("fill")} | {
            e.get("stroke") for e in root.iter() if e.get("stroke")}
        assert colours <= {"#000", "#fff", "none"}
        for text in root.iter(SVG + "text"):
            if (text.text or "").strip():
                assert float(text.get("textLength", 0)) > 0  # pinned widths: any fallback font lines up
    # type is larger relative to the page on a phone
    assert TYPE_SIZES[480] / 480 > TYPE_SIZES[800] / 800 > TYPE_SIZES[1600] / 1600


def test_long_sheets_break_into_numbered_pages() -> None:
    verse = "{start_of_verse}\n" + "[G]Line of [C]words [D]here\n" * 12 + "{end_of_verse}\n"
    song = parse_chordpro("{title: Long}\n{key: G}\n" + verse * 6)
    pages = render_svg(song, view_for(song, CHORDS), 800)
    assert len(pages) > 1
    assert texts(pages, "page")[:1] == [f"1/{len(pages)}"]
    for page in pages:
        for text in ET.fromstring(page).iter(SVG + "text"):
            assert float(text.get("y", 0)) <= 1035
    forced = parse_chordpro("{title: Two}\n[C]one\n{new_page}\n[C]two")
    assert len(render_svg(forced, view_for(forced, CHORDS), 800)) == 2


def test_text_is_escaped() -> None:
    song = parse_chordpro("{title: Rock & <Roll>}\n[C]Me & you <3")
    [page] = render_svg(song, view_for(song, CHORDS), 800)
    root = ET.fromstring(page)  # well-formed
    assert "Rock & <Roll>" in [t.text for t in root.iter(SVG + "text")]


def test_pdf() -> None:
    pdf = pdfium.PdfDocument(engrave_pdf(GRACE, TRUMPET))
    assert pdf.get_page_size(0) == pytest.approx((612, 792))
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert "Amazing Grace" in text
    assert "A7/C♯" in text
    assert "Through many" in text
    lyrics = pdfium.PdfDocument(engrave_pdf(GRACE, LYRICS))
    lyrics_text = "".join(lyrics[i].get_textpage().get_text_range() for i in range(len(lyrics)))
    assert "G7/B" not in lyrics_text
    assert "Lyrics" in lyrics_text


# --- What the reference implementation's test songs showed -----------------------------------------------------------


def _chord_rows(song) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return [[seg.chord for seg in line.segments if seg.chord] for section in song.sections for line in section.lines
            if line.kind == "lyrics" and line.has_chords]


def test_transpose_adds_up_and_an_empty_one_undoes_the_last() -> None:
    """ChordPro's own t/060_transpose.cho against its reference output (t/ref/060_crd_1.crd)."""
    song = parse_chordpro((REFERENCE / "060_transpose.cho").read_bytes())
    assert _chord_rows(song) == [["D", "G", "D"], ["D", "G", "D"], ["E", "A", "E"], ["F#", "B", "F#"],
                                 ["E", "A", "E"], ["D", "G", "D"]]
    comments = [line.text for section in song.sections for line in section.lines if line.kind == "comment"]
    assert comments == ["Key is D, print D, sound D", "Key is D, print E, sound E", "Key is D, print F#, sound F#",
                        "Key is D, print E, sound E", "Key is D, print D, sound D"]


def test_transpose_before_the_chords_moves_the_key_and_every_part_follows() -> None:
    song = parse_chordpro("{title: Up}\n{key: F}\n{transpose: 2}\n[F]One [Bb]two [C7]three\n{start_of_grid}\n"
                          "| F . . . | Bb . . . |\n{end_of_grid}\n")
    assert song.key == Key.parse("G")
    assert _chord_rows(song) == [["G", "C", "D7"]]
    assert [line.text for s in song.sections for line in s.lines if line.kind == "grid"] == ["| G . . . | C . . . |"]
    assert drawn_chords(render_svg(song, view_for(song, BB)))[:3] == ["A", "D", "E7"]


def test_a_songbook_is_several_songs() -> None:
    data = (REFERENCE / "cho_cho010.cho").read_bytes()
    songs = parse_songbook(data)
    assert [(s.title, s.key.name() if s.key else None) for s in songs] == [
        ("TODO Nashville C", "C"), ("Nashville D", "D"), ("Roman C", "C"), ("Roman D", "D")]
    assert parse_chordpro(data).title == "TODO Nashville C"
    texts_ = split_songbook(data)
    assert [parse_chordpro(t).title for t in texts_] == [s.title for s in songs]
    assert len(parse_songbook("{new_song}\n{new_song}\n")) == 1  # t/102_new_song.t: still one (empty) song
    assert len(split_songbook("{title: One}\n[C]la\n")) == 1
    assert songbook(data) == list(zip(texts_, [s.title for s in songs], strict=True))
    assert songbook("{title: One}\n[C]la\n{new_song}\n[C la\n") == [  # a broken song has no title, the rest stand
        ("{title: One}\n[C]la", "One"), ("\n\n\n[C la\n", None)]


def test_metadata_placeholders_are_filled_in() -> None:
    song = parse_chordpro((REFERENCE / "cho_cho022.cho").read_bytes())
    assert song.title == "Multiple define and diagram for guitar"
    song = parse_chordpro("{title: T}\n{artist: Ann}\n{key: Eb}\n{c: %{title} by %{artist} in %{key|key %{}|no key}}\n"
                          "{c: %{capo|capo %{}|no capo}; %{key=Eb|flat|other} %{nothing}!}\n{c: broken %{title}\n")
    comments = [line.text for section in song.sections for line in section.lines if line.kind == "comment"]
    assert comments == ["T by Ann in key Eb", "no capo; flat !", "broken %{title"]
    assert parse_chordpro("{title: odd %{title}\n").title == "odd %{title"


def test_tab_lines_and_chord_diagram_legends_are_not_chords() -> None:
    song = parse_chordpro((REFERENCE / "a2crd_t111.crd").read_bytes())
    tabs = [line.text.strip() for s in song.sections for line in s.lines if line.kind == "tab"]
    assert tabs[0] == "E|---------4--7--0--|----------5--8--1--|" and len(tabs) == 6
    assert all(not line.has_chords for s in song.sections for line in s.lines if "|--" in "".join(
        seg.lyric for seg in line.segments))
    legend = parse_chordpro("G       C\nHello world\n\nG: 320003  C: x32010\nAm=x02210 or 577555\n"
                            "Am7   x02010\n")
    assert _chord_rows(legend) == [["G", "C"]]
    assert [line.kind for s in legend.sections for line in s.lines if line.kind != "empty"] == [
        "lyrics", "tab", "tab", "tab"]
    assert "320003" not in " ".join(texts(render_svg(legend, view_for(legend, LYRICS)), "tab"))


@pytest.mark.parametrize("text", [
    "{+pdf.fonts.title.size: 20}\n{title: Config}\n[C]la\n",
    "{title: ABC}\n{start_of_abc}\nX:1\nK:G\n[GB]d [c]e|\n{end_of_abc}\n[C]la\n",
    "{title: Grid}\n{start_of_grid shape=\"1+4x2+4\"}\n| C . . . | [G] . |\n{end_of_grid}\n[C]la\n",
    "{title: Sel}\n{c-guitar!: not for guitar}\n{c-guitar: for guitar}\n{start_of_verse-keyboard}\n[C\n"
    "{end_of_verse-keyboard}\n{start_of_verse2}\n[C]la\n{end_of_verse2}\n",
    "{title: LilyPond}\n{start_of_ly}\n\\relative c' { c4 [d e] }\n{end_of_ly}\n[C]la\n",
])
def test_config_lines_and_blocks_never_refuse_the_song(text: str) -> None:
    song = parse_chordpro(text)
    assert song.title in ("Config", "ABC", "Grid", "Sel", "LilyPond")
    assert _chord_rows(song)[-1] == ["C"]
    comments = [line.text for s in song.sections for line in s.lines if line.kind == "comment"]
    if song.title == "Sel":
        assert comments == ["not for guitar"]
    if song.title == "ABC":
        assert comments == ["(ABC music not shown here)"]


def test_german_and_latin_sheets_keep_their_note_names() -> None:
    german = parse_chordpro("{title: Deutsch}\n{key: E}\n[H]Eins [E]zwei [Fis7]drei [B]vier [Cism]fünf\n")
    assert german.notation == "german"
    assert german.key == Key.parse("E")
    assert [c.root.name() for c in german.chords()] == ["B", "E", "F#", "Bb", "C#"]
    assert drawn_chords(render_svg(german, view_for(german, CONCERT))) == ["H", "E", "Fis7", "B", "Cism"]
    assert drawn_chords(render_svg(german, view_for(german, BB))) == ["Cis", "Fis", "Gis7", "C", "Dism"]
    assert "Key Fis" in " ".join(texts(render_svg(german, view_for(german, BB)), "meta"))
    assert "Key H" in " ".join(texts(render_svg(parse_chordpro("{key: H}\n[H]a [E]b\n"), view_for(
        parse_chordpro("{key: H}\n[H]a [E]b\n"), CONCERT)), "meta"))
    keyed = parse_chordpro("{key: H}\n[E]Eins [B]zwei\n")  # no H chord, but the key says German: B is B♭
    assert (keyed.notation, [c.root.name() for c in keyed.chords()]) == ("german", ["E", "Bb"])
    latin = parse_chordpro("{title: Latino}\n[Do]Uno [Sol7]dos [Lam]tres [Fa]cuatro [Do]cinco\n")
    assert latin.notation == "latin"
    assert latin.written_key == Key.parse("C")
    assert drawn_chords(render_svg(latin, view_for(latin, BB))) == ["Re", "La7", "Sim", "Sol", "Re"]
    triangle = parse_chordpro("[C△7]One [F△]two\n[C△7]three\n")
    assert [c.root.name() for c in triangle.chords()] == ["C", "F", "C"]
    assert drawn_chords(render_svg(triangle, view_for(triangle, BB)))[:2] == ["D△7", "G△"]


def test_transposed_chords_take_the_simplest_spelling() -> None:
    song = parse_chordpro("{key: C}\n[C]One [D#maj7]two [G7]three\n")
    assert drawn_chords(render_svg(song, view_for(song, BB))) == ["D", "Fmaj7", "A7"]
    optional = parse_chordpro("{key: C}\n[C]One [(G7)]two\n")
    assert drawn_chords(render_svg(optional, view_for(optional, BB))) == ["D", "(A7)"]
    keyless = parse_chordpro("[D#maj7]One [G#]two\n[D#maj7]three\n")
    assert "E#maj7" not in drawn_chords(render_svg(keyless, view_for(keyless, BB)))


def test_recalled_chords_come_from_the_first_section_of_the_kind() -> None:
    """t/122_memorize.t: "[^]" is the chord at the same place in the first verse (or verse2...)."""
    song = parse_chordpro((REFERENCE / "122_memorize_1.cho").read_bytes())
    rows = _chord_rows(song)
    assert rows[4:8] == [["A", "B", "F", "D"], ["A", "G", "F", "D"], ["E", "B", "F", "D"], ["E", "C", "F", "D"]]
    assert "^" not in drawn_chords(render_svg(song, view_for(song, BB)))


def test_ultimate_guitar_chord_markup_is_read_as_chords_over_words() -> None:
    song = parse_chordpro((REFERENCE / "a2crd_t107.crd").read_bytes())
    assert _chord_rows(song)[0] == ["G", "Bmaj7", "G7", "F"]
    assert [line.text.split(":")[0] for s in song.sections for line in s.lines if line.kind == "tab"][:3] == [
        "A", "Amaj7", "A7"]  # the chord legend "A:      |X02220|"
    assert not any("[ch]" in seg.lyric or seg.chord == "ch" for s in song.sections for line in s.lines
                   for seg in line.segments)
