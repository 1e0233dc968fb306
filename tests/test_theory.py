"""Music theory for engraving: pitches, intervals, keys, spelling, chord symbols, ranges and octave choice.

Transposition is tested as music: every instrument's interval on notes, key signatures and chord symbols.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soleil_ui.engraving.theory import (
    INSTRUMENT_RANGES,
    RANGES,
    SOUNDING,
    UNISON,
    Chord,
    Interval,
    Key,
    Pitch,
    choose_octave,
    clef_for,
    infer_key,
    key_shift,
    ledger_lines,
    parse_chord,
    range_for,
    semitone_interval,
    transpose_chord_text,
    transpose_key,
    transposition_of,
    written_interval,
)
from soleil_ui.parts import INSTRUMENTS, PartRef, Role
from soleil_ui.parts import Transposition as T


def p(text: str) -> Pitch:
    return Pitch.parse(text)


def i(text: str) -> Interval:
    return Interval.parse(text)


def chord(text: str) -> Chord:
    parsed = parse_chord(text)
    assert parsed is not None, text
    return parsed


# --- Pitches and intervals -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "pc", "midi"), [
    ("C4", 0, 60), ("Bb3", 10, 58), ("B♭3", 10, 58), ("F#5", 6, 78), ("Cb4", 11, 59), ("B#3", 0, 60),
    ("Ebb4", 2, 62), ("A0", 9, 21),
])
def test_pitch_numbers(text: str, pc: int, midi: int) -> None:
    assert p(text).pc == pc
    assert p(text).midi == midi


@pytest.mark.parametrize(("odd", "simple"), [
    ("B#3", "C4"), ("Cb4", "B3"), ("E#", "F"), ("Fb", "E"), ("Ebb4", "D4"), ("F##5", "G5"), ("C#4", "C#4"),
    ("Bb", "Bb"), ("Dbb", "C"),
])
def test_simplest_spelling(odd: str, simple: str) -> None:
    assert p(odd).simplest() == p(simple)


@pytest.mark.parametrize("junk", ["H", "Bbb#", "", "C#b", "X4", "Cx#"])
def test_junk_is_not_a_pitch(junk: str) -> None:
    with pytest.raises(ValueError):
        Pitch.parse(junk)


@pytest.mark.parametrize(("text", "steps", "semitones"), [
    ("P1", 0, 0), ("M2", 1, 2), ("+M2", 1, 2), ("-M2", -1, -2), ("m3", 2, 3), ("-m3", -2, -3), ("P4", 3, 5),
    ("A4", 3, 6), ("d5", 4, 6), ("P5", 4, 7), ("M6", 5, 9), ("-M6", -5, -9), ("m7", 6, 10), ("P8", 7, 12),
    ("M9", 8, 14), ("m10", 9, 15), ("P15", 14, 24), ("A1", 0, 1), ("d3", 2, 2), ("AA2", 1, 4),
])
def test_intervals_parse_and_print_in_verovio_syntax(text: str, steps: int, semitones: int) -> None:
    interval = i(text)
    assert (interval.steps, interval.semitones) == (steps, semitones)
    expected = text if text[0] in "+-" or text == "P1" else "+" + text
    assert str(interval) == expected
    assert Interval.parse(str(interval)) == interval


@pytest.mark.parametrize("junk", ["M1", "P2", "m5", "Q3", "M0", "2", "", "++M2"])
def test_nonsense_intervals_are_refused(junk: str) -> None:
    with pytest.raises(ValueError):
        Interval.parse(junk)


def test_interval_arithmetic_and_names() -> None:
    assert i("M6").octaves(-1) == i("-m3")
    assert i("-M2") + i("M6") == i("P5")
    assert -i("P5") == i("-P5")
    assert i("M2").name() == "up a major second"
    assert i("-m3").name() == "down a minor third"
    assert i("-P8").name() == "down an octave"
    assert UNISON.name() == "as written"
    assert Interval.between(p("C"), p("Bb")) == i("m7")
    assert Interval.between(p("C"), p("Dbb")) == i("d2")
    assert Interval.between(p("G3"), p("E5")) == i("M13")
    assert Interval.nearest(p("Bb"), p("C")) == i("M2")
    assert Interval.nearest(p("Bb"), p("G")) == i("-m3")


@pytest.mark.parametrize(("start", "interval", "result"), [
    ("C4", "M2", "D4"), ("Bb3", "M2", "C4"), ("F#4", "M2", "G#4"), ("E4", "A1", "E#4"), ("E4", "m2", "F4"),
    ("C5", "-m3", "A4"), ("Bb4", "M6", "G5"), ("Bb4", "-m3", "G4"), ("C4", "P5", "G4"), ("Eb4", "P5", "Bb4"),
    ("B3", "M2", "C#4"), ("C4", "-P8", "C3"), ("Ab4", "-M2", "Gb4"),
])
def test_notes_move_with_their_spelling(start: str, interval: str, result: str) -> None:
    assert p(start).transpose(i(interval)) == p(result)


@given(st.integers(0, 6), st.integers(-1, 1), st.integers(1, 7),
       st.sampled_from(["P1", "m2", "M2", "m3", "M3", "P4", "A4", "d5", "P5", "m6", "M6", "m7", "M7", "P8"]),
       st.booleans())
def test_transposing_up_and_back_down_gives_the_same_pitch(step: int, alter: int, octave: int, name: str,
                                                          down: bool) -> None:
    start = Pitch(step, alter, octave)
    interval = -i(name) if down else i(name)
    there = start.transpose(interval)
    assert there.midi - start.midi == interval.semitones
    assert there.transpose(-interval) == start  # exact interval arithmetic keeps the spelling too


# --- Keys -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "fifths", "name"), [
    ("C", 0, "C"), ("G", 1, "G"), ("F", -1, "F"), ("Bb", -2, "Bb"), ("B♭", -2, "Bb"), ("Eb", -3, "Eb"),
    ("F#", 6, "F#"), ("Gb", -6, "Gb"), ("Am", 0, "Am"), ("Em", 1, "Em"), ("Dm", -1, "Dm"), ("Cm", -3, "Cm"),
    ("F#m", 3, "F#m"), ("E-flat minor", -6, "Ebm"), ("Bb major", -2, "Bb"), ("c", 0, "C"), ("Ebmin", -6, "Ebm"),
])
def test_keys(text: str, fifths: int, name: str) -> None:
    key = Key.parse(text)
    assert key.fifths == fifths
    assert key.name() == name
    assert Key.from_fifths(fifths, key.minor) == key


def test_key_scales_and_junk() -> None:
    assert [n.name() for n in Key.parse("Bb").scale] == ["Bb", "C", "D", "Eb", "F", "G", "A"]
    assert [n.name() for n in Key.parse("Gm").scale] == ["G", "A", "Bb", "C", "D", "Eb", "F"]
    assert Key.try_parse("H minor") is None
    assert Key.try_parse("") is None
    with pytest.raises(ValueError):
        Key.parse("X")


@pytest.mark.parametrize(("key", "interval", "result", "used"), [
    ("Bb", "M2", "C", "+M2"),  # concert B♭ → B♭ instruments
    ("Bb", "M6", "G", "+M6"),  # → E♭ instruments
    ("Bb", "-m3", "G", "-m3"),
    ("Bb", "P5", "F", "+P5"),  # → F horn
    ("Eb", "M2", "F", "+M2"),
    ("E", "M2", "F#", "+M2"),
    ("B", "M2", "C#", "+M2"),  # 7 sharps → D♭ below
    ("F#", "M6", "D#", "+M6"),  # 9 sharps → E♭
    ("Ab", "-m3", "F", "-m3"),
    ("Gm", "M2", "Am", "+M2"),
    ("C#m", "M2", "D#m", "+M2"),
])
def test_keys_transpose_and_simplify(key: str, interval: str, result: str, used: str) -> None:
    moved, effective = transpose_key(Key.parse(key), i(interval))
    simple = {"C#": "Db", "D#": "Eb"}.get(result, result)
    assert moved.name() == simple
    assert abs(moved.fifths) <= 6
    assert effective.semitones == i(interval).semitones
    if simple == result:
        assert str(effective) == used
    else:  # respelled: same sound, a step further
        assert effective.steps == i(interval).steps + 1


def test_key_shift_is_the_nearest_way() -> None:
    assert key_shift(Key.parse("Bb"), Key.parse("C")) == i("M2")
    assert key_shift(Key.parse("Bb"), Key.parse("G")) == i("-m3")
    assert key_shift(Key.parse("C"), Key.parse("F#")) == i("A4")
    assert key_shift(Key.parse("F"), Key.parse("F")) == UNISON


@pytest.mark.parametrize(("key", "pc", "spelled"), [
    ("F", 10, "Bb"), ("F", 4, "E"), ("D", 6, "F#"), ("D", 1, "C#"), ("C", 10, "Bb"), ("C", 8, "Ab"),
    ("C", 3, "Eb"), ("C", 1, "Db"), ("C", 6, "F#"), ("G", 5, "F"), ("Eb", 11, "B"), ("Am", 8, "G#"),
    ("Am", 10, "Bb"), ("Am", 1, "C#"), ("Gb", 9, "A"), ("F#", 0, "C"), ("E", 3, "D#"), ("Bb", 4, "E"),
])
def test_spelling_in_a_key(key: str, pc: int, spelled: str) -> None:
    assert Key.parse(key).spell(pc).name() == spelled


def test_diminished_chords_lean_sharp_and_tritone_subs_flat() -> None:
    assert Key.parse("C").spell(1, lean=1).name() == "C#"
    assert Key.parse("C").spell(8, lean=1).name() == "G#"
    assert Key.parse("C").spell(6, lean=-1).name() == "Gb"
    assert transpose_chord_text("F#7", 0, Key.parse("C")) == "Gb7"  # the tritone substitute
    assert transpose_chord_text("Gbm7b5", 0, Key.parse("C")) == "F#m7b5"  # ♯IVø7


# --- Chord symbols --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "root", "suffix", "bass", "quality"), [
    ("Bb7", "Bb", "7", None, "dominant"), ("G", "G", "", None, "major"), ("G7/B", "G", "7", "B", "dominant"),
    ("Cmaj7", "C", "maj7", None, "major"), ("Am7b5", "A", "m7b5", None, "half-diminished"),
    ("D7sus4", "D", "7sus4", None, "sus"), ("Em(maj7)", "E", "m(maj7)", None, "minor"),
    ("C7#9b13", "C", "7#9b13", None, "dominant"), ("Bbdim7", "Bb", "dim7", None, "diminished"),
    ("F#ø7", "F#", "ø7", None, "half-diminished"), ("C+", "C", "+", None, "augmented"),
    ("Ebm9", "Eb", "m9", None, "minor"), ("C6/9", "C", "6/9", None, "major"), ("Gm/Bb", "G", "m", "Bb", "minor"),
    ("Db13#11", "Db", "13#11", None, "dominant"), ("A-7", "A", "-7", None, "minor"),
    ("CmMaj7", "C", "mMaj7", None, "minor"), ("F°7", "F", "°7", None, "diminished"),
    ("Bb7alt", "Bb", "7alt", None, "dominant"), ("Gadd9", "G", "add9", None, "major"),
])
def test_chord_symbols_parse(text: str, root: str, suffix: str, bass: str | None, quality: str) -> None:
    parsed = chord(text)
    assert parsed.root.name() == root
    assert parsed.suffix == suffix
    assert (parsed.bass.name() if parsed.bass else None) == bass
    assert parsed.quality == quality
    assert parsed.text() == text


@pytest.mark.parametrize("text", ["N.C.", "Chorus", "x2", "", "Hx", "Coda", "Verse 1", "C/Hx", "Intro", "Am/", "Bs7",
                                  "Dosa"])
def test_things_that_are_not_chords(text: str) -> None:
    assert parse_chord(text) is None
    assert transpose_chord_text(text, 2, Key.parse("D")) == text


@pytest.mark.parametrize(("text", "notation", "root", "bass", "written"), [
    ("H7", "", "B", None, "H7"), ("Hm/Fis", "", "B", "F#", "Hm/Fis"), ("C/H", "german", "C", "B", "C/H"),
    ("B", "german", "Bb", None, "B"), ("B", "", "B", None, "B"), ("Bes", "", "Bb", None, "Bes"),
    ("Es7", "", "Eb", None, "Es7"), ("Asus4", "", "A", None, "Asus4"), ("As7", "", "Ab", None, "As7"),
    ("Cism", "", "C#", None, "Cism"), ("Solm7", "", "G", None, "Solm7"), ("Re", "", "D", None, "Re"),
    ("Sib7", "", "Bb", None, "Sib7"), ("Do#m", "", "C#", None, "Do#m"), ("Do", "latin", "C", None, "Do"),
    ("Do", "", "D", None, "Do"), ("Lam/Sol", "", "A", "G", "Lam/Sol"), ("Fa△7", "", "F", None, "Fa△7"),
    ("C△7", "", "C", None, "C△7"), ("D△", "", "D", None, "D△"),
])
def test_german_dutch_and_latin_note_names_and_the_triangle(text: str, notation: str, root: str, bass: str | None,
                                                            written: str) -> None:
    parsed = parse_chord(text, notation)
    assert parsed is not None
    assert parsed.root.name() == root
    assert (parsed.bass.name() if parsed.bass else None) == bass
    assert parsed.text() == written


def test_other_note_names_are_transposed_and_written_back_in_them() -> None:
    assert transpose_chord_text("H7", 1) == "C7"
    assert parse_chord("H7").transposed(-1, Key.parse("Bb")).text() == "B7"  # German B♭7
    assert parse_chord("Fism").transposed(-1, Key.parse("E")).text() == "Fm"  # Dutch/German: F minor
    assert parse_chord("Es").transposed(2, Key.parse("F")).text() == "F"
    assert parse_chord("Sol7").transposed(2, Key.parse("D")).text() == "La7"
    assert parse_chord("Re", "latin").transposed(-2, Key.parse("C")).text(unicode=True) == "Do"
    assert parse_chord("C△7").transposed(2, Key.parse("D")).text() == "D△7"


def test_unicode_display() -> None:
    assert chord("Bb7#9b13/Ab").text(unicode=True) == "B♭7♯9♭13/A♭"
    assert chord("Bbsus4").text(unicode=True) == "B♭sus4"


# Every instrument interval on chord symbols, from concert B♭ (the blues) and from concert G (a song).
@pytest.mark.parametrize(("semitones", "key", "source", "expected"), [
    (2, "C", "Bb7 Eb7 F7", "C7 F7 G7"),  # B♭ instruments
    (9, "G", "Bb7 Eb7 F7", "G7 C7 D7"),  # E♭ instruments (up a major sixth)
    (-3, "G", "Bb7 Eb7 F7", "G7 C7 D7"),  # the same, down a minor third
    (7, "F", "Bb7 Eb7 F7", "F7 Bb7 C7"),  # F horn
    (0, "Bb", "Bb7 Eb7 F7", "Bb7 Eb7 F7"),  # concert
    (2, "A", "G G7/B C Cmaj7 Am7b5 D7sus4 Em(maj7) D7", "A A7/C# D Dmaj7 Bm7b5 E7sus4 F#m(maj7) E7"),
    (9, "E", "G G7/B C Cmaj7 Am7b5 D7sus4 Em(maj7) D7", "E E7/G# A Amaj7 F#m7b5 B7sus4 C#m(maj7) B7"),
    (7, "D", "G G7/B C Cmaj7 Am7b5 D7sus4 Em(maj7) D7", "D D7/F# G Gmaj7 Em7b5 A7sus4 Bm(maj7) A7"),
    (2, "D", "C7#9b13 Fm7 Bbdim7 Ab7alt G7/B Dbmaj7", "D7#9b13 Gm7 Cdim7 Bb7alt A7/C# Ebmaj7"),
    (-2, "Bb", "C7#9b13 Fm7 Bbdim7 Ab7alt G7/B Dbmaj7", "Bb7#9b13 Ebm7 G#dim7 Gb7alt F7/A Bmaj7"),
])
def test_chords_transpose_for_each_instrument(semitones: int, key: str, source: str, expected: str) -> None:
    target = Key.parse(key)
    assert " ".join(transpose_chord_text(c, semitones, target) for c in source.split()) == expected


@pytest.mark.parametrize(("source", "semitones", "key", "expected"), [
    ("A#", 0, "F", "Bb"),  # B♭ not A♯ in F major, whatever the source wrote
    ("Gb", 0, "D", "F#"),  # F♯ not G♭ in D major
    ("G", 3, "Bb", "Bb"),
    ("E", 6, "Bb", "Bb"),
    ("C", 1, "Db", "Db"),
    ("C", 6, "F#", "F#"),
    ("C", 6, "Gb", "Gb"),
    ("Db7", 0, "G", "Db7"),  # ♭V7 in G: a tritone substitute stays flat
    ("Eb7", 2, "D", "F7"),  # ♭III7 stays flat in the new key
    ("F#m7b5", 2, "D", "G#m7b5"),  # ♯IV stays sharp
    ("C#dim7", 2, "D", "D#dim7"),  # a leading-tone diminished chord leans sharp
    ("C/E", 2, "D", "D/F#"),
    ("D/F#", 3, "F", "F/A"),
    ("A/C#", 0, "C", "A/C#"),  # the bass is the chord's third, not D♭
    ("C/Bb", 2, "D", "D/C"),
    ("Dm/C", 0, "F", "Dm/C"),
])
def test_enharmonic_spelling_for_the_target_key(source: str, semitones: int, key: str, expected: str) -> None:
    assert transpose_chord_text(source, semitones, Key.parse(key)) == expected


def test_transposing_without_a_key_uses_plain_spellings() -> None:
    assert chord("Bb7").transposed(2).text() == "C7"
    assert chord("F#m").transposed(1).text() == "Gm"
    assert chord("E").transposed(1).text() == "F"


ALL_KEYS = [Key.from_fifths(f, m) for f in range(-6, 7) for m in (False, True)]
SUFFIXES = ["", "7", "m7", "maj7", "m7b5", "dim7", "7sus4", "m(maj7)", "7#9b13", "6/9", "+"]


@given(st.integers(0, 11), st.sampled_from(SUFFIXES), st.one_of(st.none(), st.integers(0, 11)),
       st.integers(-11, 11), st.sampled_from(ALL_KEYS), st.sampled_from(ALL_KEYS))
def test_chords_up_and_back_sound_the_same(root_pc: int, suffix: str, bass_pc: int | None, semitones: int,
                                           there: Key, back: Key) -> None:
    root = Key.parse("C").spell(root_pc)
    bass = None if bass_pc is None else Key.parse("C").spell(bass_pc)
    start = Chord(root, suffix, bass)
    moved = start.transposed(semitones, there)
    assert moved.root.pc == (root_pc + semitones) % 12
    assert abs(moved.root.alter) <= 1
    returned = moved.transposed(-semitones, back)
    assert returned.root.pc == start.root.pc  # the same sounding chord; the spelling may differ
    assert returned.suffix == suffix
    assert (returned.bass.pc if returned.bass else None) == bass_pc
    assert parse_chord(returned.text()) == returned


def test_key_inference() -> None:
    assert infer_key(map(chord, "G G7/B C G Em Am7 D7 G".split())) == Key.parse("G")
    assert infer_key(map(chord, "Bb7 Eb7 Bb7 F7 Eb7 Bb7".split())) == Key.parse("Bb")
    assert infer_key(map(chord, "Cm7 Fm7 Dm7b5 G7 Cm7".split())) == Key.parse("Cm")
    assert infer_key(map(chord, "Am C D F Am C E".split())) == Key.parse("Am")
    assert infer_key([]) is None


# --- Instruments, ranges, octaves -----------------------------------------------------------------------------------


def test_written_intervals_per_transposition() -> None:
    concert = UNISON
    assert written_interval(concert, SOUNDING[T.BB]) == i("M2")
    assert written_interval(concert, SOUNDING[T.EB]) == i("M6")
    assert written_interval(concert, SOUNDING[T.F]) == i("P5")
    assert written_interval(concert, SOUNDING[T.BASS_CLEF]) == UNISON
    assert written_interval(SOUNDING[T.BB], concert) == i("-M2")  # a trumpet staff read at concert pitch
    assert written_interval(SOUNDING[T.BB], SOUNDING[T.EB]) == i("P5")  # trumpet → alto: up a fifth (or down a 4th)
    assert written_interval(concert, SOUNDING[T.BB], i("M2")) == i("M3")  # the night's key a tone up
    assert transposition_of(i("-M2")) == T.BB
    assert transposition_of(i("-M9")) == T.BB  # tenor sax
    assert transposition_of(i("-M13")) == T.EB  # bari
    assert transposition_of(i("-P5")) == T.F
    assert transposition_of(i("-m3")) is None  # A clarinet: no generic part


def test_ranges_and_clefs() -> None:
    assert range_for(PartRef(transposition=T.EB)) == RANGES[T.EB]
    assert range_for(PartRef(instrument="tuba")).high < range_for(PartRef(instrument="trumpet")).high - 24
    assert range_for(PartRef(role=Role.CHORDS)) == RANGES[T.CONCERT]
    assert clef_for(PartRef(transposition=T.BASS_CLEF)) == "bass"
    assert clef_for(PartRef(instrument="trombone", chair=2)) == "bass"
    assert clef_for(PartRef(instrument="alto_sax")) == "treble"
    assert clef_for(PartRef(role=Role.CHORDS)) == "treble"


def test_the_engraving_tables_agree_with_the_instrument_table() -> None:
    """Every pitched instrument SOLEil files parts for has a written range and the clef its table entry reads."""
    assert set(INSTRUMENT_RANGES) <= set(INSTRUMENTS)
    for key, inst in INSTRUMENTS.items():
        if inst.transposition is not None:
            assert key in INSTRUMENT_RANGES, key
            assert (clef_for(PartRef(instrument=key)) == "bass") is (inst.transposition is T.BASS_CLEF), key
    for key in ("contrabassoon", "bass_trombone", "euphonium", "tuba", "timpani", "cello"):
        assert clef_for(PartRef(instrument=key)) == "bass", key
    for key in ("baritone_horn", "tenor_horn", "mallets", "english_horn"):
        assert clef_for(PartRef(instrument=key)) == "treble", key


@pytest.mark.parametrize(("pitch", "clef", "lines"), [
    ("C4", "treble", 1), ("D4", "treble", 0), ("B3", "treble", 1), ("A3", "treble", 2), ("G5", "treble", 0),
    ("A5", "treble", 1), ("C6", "treble", 2), ("E2", "bass", 1), ("F2", "bass", 0), ("C4", "bass", 1),
    ("B3", "bass", 0), ("E4", "bass", 2),
])
def test_ledger_lines(pitch: str, clef: str, lines: int) -> None:
    assert ledger_lines(p(pitch), clef) == lines  # type: ignore[arg-type]


BLUES_MELODY = [p(n) for n in ("Bb4", "D5", "F5", "Ab4", "G4", "Eb5", "Bb5", "C5", "D4", "A4")]  # concert B♭


def test_octave_choice_eb_takes_the_minor_third_down() -> None:
    # Up a major sixth puts B♭5 on G6 — out of the alto's range; down a minor third reads in the staff.
    k = choose_octave(BLUES_MELODY, i("M6"), RANGES[T.EB], "treble")
    assert i("M6").octaves(k) == i("-m3")


def test_octave_choice_bb_keeps_the_major_second_up() -> None:
    assert choose_octave(BLUES_MELODY, i("M2"), RANGES[T.BB], "treble") == 0


def test_octave_choice_puts_a_treble_melody_an_octave_down_on_the_bass_clef() -> None:
    k = choose_octave(BLUES_MELODY, UNISON, RANGES[T.BASS_CLEF], "bass")
    assert k == -1
    low = choose_octave([p("C3"), p("G3")], UNISON, RANGES[T.BASS_CLEF], "bass")
    assert low == 0  # already a bass line: left alone


def test_octave_choice_fewest_ledger_lines_decides_within_range() -> None:
    # Concert F part from a low concert melody: up a fifth sits on the staff, down a fourth needs ledger lines.
    low_melody = [p(n) for n in ("C4", "D4", "E4", "G4")]
    assert i("P5").octaves(choose_octave(low_melody, i("P5"), RANGES[T.F], "treble")) == i("P5")
    high_melody = [p(n) for n in ("C5", "E5", "G5", "C6")]
    assert i("P5").octaves(choose_octave(high_melody, i("P5"), RANGES[T.F], "treble")) == i("-P4")


def test_octave_choice_as_written_ignores_ledger_lines() -> None:
    high = [p(n) for n in ("G5", "A5", "C6")]  # a high trumpet part: ledger lines, but in range
    assert choose_octave(high, UNISON, range_for(PartRef(instrument="trumpet")), "treble", as_written=True) == 0
    assert choose_octave(high, UNISON, range_for(PartRef(instrument="trumpet")), "treble") == -1


def test_keep_octave_only_moves_when_far_out_of_range() -> None:
    melody = [p(n) for n in ("D4", "Bb5")]
    trumpet = range_for(PartRef(instrument="trumpet"))  # up to C6
    assert choose_octave(melody, i("M3"), trumpet, "treble", keep_octave=True) == 0  # D6: a tone over, kept
    assert choose_octave([p("A5"), p("B5")], i("P5"), trumpet, "treble", keep_octave=True, candidates=(0, -1, 1)) \
        == -1  # E6-F♯6: far over; everything fits an octave down
    assert choose_octave([], i("M6"), trumpet, "treble") == -1  # no notes: the smallest move (down a m3)


def test_semitone_intervals() -> None:
    assert semitone_interval(2) == i("M2")
    assert semitone_interval(6) == i("A4")
    assert semitone_interval(6, prefer_sharps=False) == i("d5")
    assert semitone_interval(14) == i("M9")
