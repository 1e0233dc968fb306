"""Instruments, part references and best-chart matching (soleil_ui.parts): pure, no database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soleil_ui.parts import (
    ALL_PARTS,
    INSTRUMENTS,
    MAX_CHAIR,
    ChartMatch,
    MemberInstrument,
    PartRef,
    Role,
    Transposition,
    best_part,
    find_instrument,
    fold,
    members_from_json,
    rank_parts,
    readable_keys,
    readable_parts,
    sort_parts,
)

T = Transposition
BB, EB, F, CONCERT, BASS_CLEF = (PartRef(transposition=t) for t in (T.BB, T.EB, T.F, T.CONCERT, T.BASS_CLEF))
CHORDS, LYRICS = PartRef(role=Role.CHORDS), PartRef(role=Role.LYRICS)


def inst(key: str, chair: int | None = None) -> PartRef:
    return PartRef(instrument=key, chair=chair)


def plays(*entries: str | tuple[str, int]) -> list[MemberInstrument]:
    return [MemberInstrument(*e) if isinstance(e, tuple) else MemberInstrument(e) for e in entries]


def order(member: list[MemberInstrument], available: list[PartRef]) -> list[str]:
    return [m.part.label() for m in rank_parts(member, available) if m.part]


# --- instruments -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "transposition"),
    [
        ("trumpet", T.BB),
        ("flugelhorn", T.BB),
        ("cornet", T.BB),
        ("clarinet", T.BB),
        ("bass_clarinet", T.BB),
        ("tenor_sax", T.BB),
        ("soprano_sax", T.BB),
        ("alto_sax", T.EB),
        ("bari_sax", T.EB),
        ("french_horn", T.F),
        ("mellophone", T.F),
        ("trombone", T.BASS_CLEF),
        ("bass_trombone", T.BASS_CLEF),
        ("euphonium", T.BASS_CLEF),
        ("tuba", T.BASS_CLEF),
        ("bassoon", T.BASS_CLEF),
        ("cello", T.BASS_CLEF),
        ("flute", T.CONCERT),
        ("piccolo", T.CONCERT),
        ("oboe", T.CONCERT),
        ("violin", T.CONCERT),
        ("viola", T.CONCERT),
        ("vibes", T.CONCERT),
    ],
)
def test_melodic_instruments_read_their_transposition(key: str, transposition: Transposition) -> None:
    instrument = INSTRUMENTS[key]
    assert (instrument.transposition, instrument.rhythm, instrument.role) == (transposition, False, None)


@pytest.mark.parametrize("key", ["piano", "keys", "organ", "guitar", "bass", "drums", "percussion"])
def test_rhythm_section_reads_own_part_then_chords(key: str) -> None:
    assert INSTRUMENTS[key].rhythm and INSTRUMENTS[key].role is Role.CHORDS
    match = best_part(plays(key), [CHORDS, inst(key), CONCERT])
    assert (match.part, match.quality) == (inst(key), "instrument")
    assert match.explanation == f"Your part: {inst(key).label()}"
    assert best_part(plays(key), [CHORDS, CONCERT, BB]).part == CHORDS


def test_vocals_read_lyrics() -> None:
    assert INSTRUMENTS["vocals"].role is Role.LYRICS
    assert order(plays("vocals"), [CONCERT, CHORDS, LYRICS, BB, inst("vocals")]) == [
        "Vocals",
        "Lyrics",
        "Chords",
        "Concert",
    ]


def test_a_bass_part_is_bass_clef() -> None:
    assert inst("bass").transposition is T.BASS_CLEF
    assert INSTRUMENTS["drums"].transposition is None


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Tpt", "trumpet"),
        ("trp", "trumpet"),
        ("Trumpet", "trumpet"),
        ("TRUMPETS", "trumpet"),
        ("Bone", "trombone"),
        ("Tbn", "trombone"),
        ("Alto", "alto_sax"),
        ("AS", "alto_sax"),
        ("Alto Sax", "alto_sax"),
        ("Tenor", "tenor_sax"),
        ("Ten Sax", "tenor_sax"),
        ("Bari", "bari_sax"),
        ("Bar Sax", "bari_sax"),
        ("Baritone Sax", "bari_sax"),
        ("Flg", "flugelhorn"),
        ("Flugel", "flugelhorn"),
        ("Flügelhorn", "flugelhorn"),
        ("Cl", "clarinet"),
        ("Gtr", "guitar"),
        ("Pno", "piano"),
        ("Kbd", "keys"),
        ("Dr", "drums"),
        ("Drums", "drums"),
        ("Perc", "percussion"),
        ("Vox", "vocals"),
        ("Voc", "vocals"),
        ("Vocals", "vocals"),
        ("Lead Vocal", "vocals"),
        ("French Horn", "french_horn"),
        ("Hn", "french_horn"),
        ("Horn", "french_horn"),
        ("Upright Bass", "bass"),
        ("Double Bass", "bass"),
        ("Electric Bass", "bass"),
        ("  electric   BASS ", "bass"),
        ("Bass Trombone", "bass_trombone"),
        ("Euph", "euphonium"),
        ("Sousaphone", "tuba"),
        ("Tubas", "tuba"),
        ("Soprano", "soprano_sax"),
        ("Fiddle", "violin"),
        ("Vibraphone", "vibes"),
        ("bari_sax", "bari_sax"),
        ("Bass-Clarinet", "bass_clarinet"),
        ("FrenchHorn", "french_horn"),
    ],
)
def test_find_instrument(text: str, key: str) -> None:
    found = find_instrument(text)
    assert found is not None and found.key == key


@pytest.mark.parametrize("text", ["", "Sax", "Horns", "Bb", "Take Five", "Trumpet 2", "♭♭♭"])
def test_find_instrument_refuses_what_isnt_one_instrument(text: str) -> None:
    assert find_instrument(text) is None


def test_every_alias_is_unambiguous() -> None:
    seen: dict[str, str] = {}
    for instrument in INSTRUMENTS.values():
        for alias in (instrument.name, *instrument.aliases):
            assert seen.setdefault(fold(alias), instrument.key) == instrument.key, alias
            assert find_instrument(alias) is instrument


# --- part references ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("part", "label", "key"),
    [
        (BB, "B♭", "bb"),
        (EB, "E♭", "eb"),
        (F, "F", "f"),
        (CONCERT, "Concert", "concert"),
        (BASS_CLEF, "Bass clef", "bass_clef"),
        (CHORDS, "Chords", "chords"),
        (LYRICS, "Lyrics", "lyrics"),
        (inst("trumpet", 2), "Trumpet 2", "instrument:trumpet:2"),
        (inst("alto_sax"), "Alto Sax", "instrument:alto_sax"),
        (inst("drums"), "Drums", "instrument:drums"),
    ],
)
def test_labels_and_keys(part: PartRef, label: str, key: str) -> None:
    assert (part.label(), part.key(), PartRef.from_key(key)) == (label, key, part)
    assert len(key) <= 64  # Chart.part_key


def test_instrument_parts_carry_their_transposition() -> None:
    assert inst("trumpet", 1) == PartRef(T.BB, Role.OWN, "trumpet", 1)
    assert inst("trumpet").transposition is T.BB and inst("trumpet").role is Role.OWN


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"transposition": T.BB, "role": Role.CHORDS},
        {"role": Role.OWN},
        {"transposition": T.BB, "chair": 1},
        {"instrument": "kazoo"},
        {"instrument": "trumpet", "transposition": T.EB},
        {"instrument": "trumpet", "chair": 0},
        {"instrument": "trumpet", "chair": MAX_CHAIR + 1},
        {"instrument": "trumpet", "role": Role.CHORDS},
        {"instrument": "trumpet", "chair": True},
    ],
)
def test_invalid_parts_raise(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        PartRef(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "key",
    [
        "",
        "own",
        "instrument",
        "instrument:",
        "instrument:kazoo",
        "instrument:trumpet:x",
        "instrument:trumpet:0",
        "bb:1",
        "Bb",
        "instrument:trumpet:2:3",
    ],
)
def test_from_key_rejects_garbage(key: str) -> None:
    with pytest.raises(ValueError):
        PartRef.from_key(key)
    assert PartRef.try_from_key(key) is None


def test_try_from_key() -> None:
    assert PartRef.try_from_key("instrument:trumpet:2") == inst("trumpet", 2)
    assert PartRef.try_from_key(None) is None


parts = st.one_of(
    st.sampled_from(list(Transposition)).map(lambda t: PartRef(transposition=t)),
    st.sampled_from([Role.CHORDS, Role.LYRICS]).map(lambda r: PartRef(role=r)),
    st.builds(
        lambda k, c: PartRef(instrument=k, chair=c),
        st.sampled_from(list(INSTRUMENTS)),
        st.none() | st.integers(1, MAX_CHAIR),
    ),
)
members = st.lists(
    st.builds(MemberInstrument, st.sampled_from(list(INSTRUMENTS)), st.none() | st.integers(1, 9)), max_size=3
)


@given(parts)
def test_key_round_trips(part: PartRef) -> None:
    assert PartRef.from_key(part.key()) == part
    assert PartRef.from_key(part.key()).key() == part.key()


def test_all_parts_are_distinct_and_sorted() -> None:
    assert len({p.key() for p in ALL_PARTS}) == len(ALL_PARTS) == 8 + len(INSTRUMENTS) * (MAX_CHAIR + 1)  # 5 + 3 roles
    assert sort_parts(reversed(ALL_PARTS)) == ALL_PARTS


def test_members_from_json_skips_junk() -> None:
    rows = [
        {"instrument": "trumpet", "chair": 2},
        {"instrument": "kazoo"},
        {"instrument": "flute", "chair": "x"},
        {"chair": 1},
        {"instrument": "tuba", "chair": 12},
    ]
    assert members_from_json(rows) == (  # type: ignore[arg-type]
        MemberInstrument("trumpet", 2),
        MemberInstrument("flute"),
        MemberInstrument("tuba"),
    )
    assert members_from_json(None) == ()


# --- best part ---------------------------------------------------------------------------------------------


def test_trumpet_2_ranking_and_explanations() -> None:
    available = [inst("trumpet", 1), inst("trumpet", 2), inst("trumpet", 3), BB, CONCERT, CHORDS, EB, inst("drums")]
    ranked = rank_parts(plays(("trumpet", 2)), available)
    assert [(m.part.label() if m.part else "", m.quality) for m in ranked] == [
        ("Trumpet 2", "chair"),
        ("Trumpet 1", "instrument"),
        ("Trumpet 3", "instrument"),
        ("B♭", "transposition"),
        ("Concert", "nearest"),
        ("Chords", "nearest"),
    ]
    assert [m.explanation for m in ranked][:4] == [
        "Your part: Trumpet 2",
        "Trumpet 1 part (no Trumpet 2 chart)",
        "Trumpet 3 part (no Trumpet 2 chart)",
        "B♭ part (no Trumpet 2 chart)",
    ]
    assert "you'll need to transpose" in ranked[4].explanation
    assert ranked[0].available == sort_parts(available)


def test_trumpet_2_falls_back_step_by_step() -> None:
    member = plays(("trumpet", 2))
    assert best_part(member, [inst("trumpet"), BB]).explanation == "Your part: Trumpet"
    assert best_part(member, [BB, CONCERT]).explanation == "Your part: B♭"  # a library of generic parts
    assert best_part(member, [CONCERT, CHORDS]).explanation == "Concert part — you'll need to transpose up a whole step"
    assert best_part(member, [CHORDS]).explanation == "Chord chart — play from the changes"


def test_a_clarinet_reads_a_trumpet_part_as_its_key() -> None:
    match = best_part(plays("clarinet"), [inst("trumpet", 1), CONCERT, inst("alto_sax")])
    assert (match.part, match.quality) == (inst("trumpet", 1), "transposition")
    assert match.explanation == "Trumpet 1 part (B♭, no Clarinet chart)"


def test_same_key_prefers_the_same_section_then_chair() -> None:
    assert order(plays(("trumpet", 2)), [inst("tenor_sax", 2), inst("flugelhorn", 1), inst("flugelhorn", 2)]) == [
        "Flugelhorn 2",
        "Flugelhorn 1",
        "Tenor Sax 2",
    ]


def test_alto_sax() -> None:
    available = [inst("alto_sax", 2), EB, inst("bari_sax"), CONCERT, BASS_CLEF, CHORDS, BB]
    assert order(plays(("alto_sax", 1)), available) == [
        "Alto Sax 2",
        "E♭",
        "Bari Sax",
        "Concert",
        "Bass clef",
        "Chords",
    ]
    assert "minor third" in best_part(plays("alto_sax"), [CONCERT, BB]).explanation


def test_bari_reads_bass_clef_before_concert() -> None:
    match = best_part(plays("bari_sax"), [CONCERT, BASS_CLEF, BB])
    assert (match.part, match.quality) == (BASS_CLEF, "nearest")
    assert "three sharps" in match.explanation
    assert best_part(plays("bari_sax"), [CONCERT, EB]).part == EB


def test_trombone() -> None:
    assert order(plays("trombone"), [CONCERT, inst("bass"), BASS_CLEF, inst("tuba"), CHORDS, BB, inst("piano")]) == [
        "Bass clef",
        "Tuba",
        "Bass",
        "Concert",
        "Chords",
    ]
    assert best_part(plays("trombone"), [CONCERT]).explanation == "Concert part — treble clef, play it an octave down"


def test_french_horn() -> None:
    assert best_part(plays("french_horn"), [F, CONCERT]).part == F
    match = best_part(plays("french_horn"), [BB, CONCERT, CHORDS])
    assert (match.part, match.quality, match.explanation) == (
        CONCERT,
        "nearest",
        "Concert part — you'll need to transpose up a fifth",
    )
    assert best_part(plays("french_horn"), [EB, CHORDS]).part == EB
    assert best_part(plays("french_horn"), [BB, BASS_CLEF]).quality == "none"


def test_violin() -> None:
    assert order(plays("violin"), [BB, CONCERT, EB, CHORDS, inst("flute"), BASS_CLEF]) == [
        "Concert",
        "Flute",
        "B♭",
        "E♭",
        "Chords",
    ]


@pytest.mark.parametrize("key", ["piano", "guitar", "bass", "drums"])
def test_rhythm_chords_then_concert(key: str) -> None:
    match = best_part(plays(key), [CONCERT, CHORDS, inst("trumpet")])
    assert (match.part, match.quality, match.explanation) == (
        CHORDS,
        "transposition",
        f"Chord chart (no {INSTRUMENTS[key].name} chart)",
    )
    assert best_part(plays(key), [CONCERT, BB]).part == CONCERT


def test_rhythm_details() -> None:
    assert best_part(plays("keys"), [inst("piano"), CHORDS]).explanation == "Piano part (no Keys chart)"
    assert best_part(plays("percussion"), [inst("drums"), CHORDS]).part == inst("drums")
    assert best_part(plays("drums"), [inst("percussion"), CHORDS]).part == CHORDS
    assert order(plays("bass"), [BASS_CLEF, CONCERT, inst("trombone")]) == ["Bass clef", "Trombone", "Concert"]
    assert best_part(plays("guitar"), [LYRICS, BB]).part == LYRICS
    assert best_part(plays("piano"), [inst("bass"), inst("trumpet")]).quality == "none"


def test_vocals() -> None:
    match = best_part(plays("vocals"), [LYRICS, CHORDS, CONCERT])
    assert (match.part, match.quality, match.explanation) == (LYRICS, "transposition", "Your part: Lyrics")
    assert best_part(plays("vocals"), [CHORDS, CONCERT]).part == CHORDS
    assert best_part(plays("vocals"), [BB, EB]).quality == "none"


def test_two_instruments_primary_first() -> None:
    doubler = plays(("tenor_sax", 2), "flute")
    assert best_part(doubler, [inst("flute"), BB]).part == BB
    assert best_part(doubler, [inst("flute"), inst("tenor_sax", 1)]).part == inst("tenor_sax", 1)
    match = best_part(doubler, [inst("flute"), CONCERT])
    assert (match.part, match.instrument, match.explanation) == (inst("flute"), "flute", "Your part: Flute")


def test_a_doubler_reads_as_written_before_transposing() -> None:
    match = best_part(plays("trumpet", "flute"), [CONCERT, CHORDS])
    assert (match.part, match.quality, match.instrument) == (CONCERT, "transposition", "flute")
    assert match.explanation == "Your Flute part: Concert"
    assert best_part(plays("trumpet", "flute"), [CHORDS]).instrument == "trumpet"


def test_no_readable_chart_lists_what_there_is() -> None:
    match = best_part(plays("drums"), [inst("trumpet", 1), BB, BB])
    assert match == ChartMatch(
        None, "none", "No part you can read — this song has: B♭, Trumpet 1", (BB, inst("trumpet", 1))
    )
    assert best_part(plays("drums"), []).explanation == "No charts for this song yet"


@pytest.mark.parametrize("member", [[], plays("kazoo"), [MemberInstrument("trumpet", 42)],
                                    [MemberInstrument("trumpet", "2")], [MemberInstrument(["x"])]])  # type: ignore[arg-type]
def test_odd_members_never_raise(member: list[MemberInstrument]) -> None:
    match = best_part(member, [BB])
    assert isinstance(match, ChartMatch) and match.available == (BB,)


def test_an_unknown_primary_leaves_the_next_instrument_primary() -> None:
    assert best_part(plays("kazoo", "clarinet"), [BB]).explanation == "Your part: B♭"


def test_readable_parts_for_sql() -> None:
    keys = readable_keys(plays(("trumpet", 2)))
    assert keys[:3] == ("instrument:trumpet:2", "instrument:trumpet", "instrument:trumpet:1")
    assert {"bb", "concert", "chords", "instrument:clarinet"} <= set(keys)
    assert not {"eb", "instrument:drums", "instrument:piano", "lyrics"} & set(keys)
    assert readable_parts([]) == ()


@given(members, st.lists(parts, max_size=8))
def test_best_part_is_the_first_readable_part(member: list[MemberInstrument], available: list[PartRef]) -> None:
    match = best_part(member, available)
    expected = next((p for p in readable_parts(member) if p in available), None)
    assert match.part == expected
    assert (match.quality == "none") == (expected is None)
    assert match.explanation and match.available == sort_parts(available)
