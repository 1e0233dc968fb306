"""Who gets which part, the way musicians read: the bassist's bass-clef part, lyric sheets only for singers, a full
score last, and each member's reading preference (soleil_ui.parts): pure, no database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soleil_ui.parts import (
    ALL_PARTS,
    MemberInstrument,
    PartRef,
    Role,
    Transposition,
    best_part,
    members_from_json,
    rank_parts,
    readable_parts,
    reading_choices,
)

T = Transposition
BB, EB, CONCERT, BASS_CLEF = (PartRef(transposition=t) for t in (T.BB, T.EB, T.CONCERT, T.BASS_CLEF))
CHORDS, LYRICS, SCORE = PartRef(role=Role.CHORDS), PartRef(role=Role.LYRICS), PartRef(role=Role.SCORE)
VOX = PartRef(instrument="vocals")


def inst(key: str, chair: int | None = None) -> PartRef:
    return PartRef(instrument=key, chair=chair)


def plays(key: str, reads: str | None = None, chair: int | None = None) -> list[MemberInstrument]:
    return [MemberInstrument(key, chair, reads)]


def order(member: list[MemberInstrument], available: list[PartRef]) -> list[str]:
    return [m.part.label() for m in rank_parts(member, available) if m.part]


# --- the bass player ------------------------------------------------------------------------------------------


def test_the_bassist_gets_the_bass_clef_part_not_chords() -> None:
    match = best_part(plays("bass"), [inst("trumpet"), CONCERT, BASS_CLEF, CHORDS])
    assert (match.part, match.quality, match.explanation) == (BASS_CLEF, "transposition", "Bass clef part (no Bass "
                                                                                          "chart)")


def test_the_bassist_gets_a_trombone_part_before_a_concert_lead_sheet() -> None:
    match = best_part(plays("bass"), [CONCERT, inst("trombone", 1), BB])
    assert (match.part, match.quality, match.explanation) == (inst("trombone", 1), "transposition",
                                                              "Trombone 1 part (no Bass chart)")


def test_bass_default_order() -> None:
    available = [CONCERT, CHORDS, inst("trombone"), BASS_CLEF, inst("bass"), inst("tuba"), inst("cello"), BB, LYRICS]
    assert order(plays("bass"), available) == ["Bass", "Bass clef", "Tuba", "Cello", "Trombone", "Chords", "Concert"]
    assert best_part(plays("bass"), [CONCERT, BB]).explanation == "Concert part — treble clef, play it an octave down"


def test_a_bassist_who_reads_chords() -> None:
    available = [CONCERT, CHORDS, inst("trombone"), BASS_CLEF, inst("bass")]
    assert order(plays("bass", "chords"), available) == ["Chords", "Bass", "Bass clef", "Trombone", "Concert"]
    assert best_part(plays("bass", "chords"), available).explanation == "Your part: Chords"


# --- lyric and vocal sheets --------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["trumpet", "alto_sax", "trombone", "bass", "flute", "french_horn", "bari_sax"])
def test_a_vocal_or_lyrics_sheet_is_never_given_to_a_horn_to_transpose(key: str) -> None:
    assert best_part(plays(key), [VOX, LYRICS]).quality == "none"
    assert all(m.part not in (VOX, LYRICS) for m in rank_parts(plays(key), [VOX, LYRICS, CONCERT, CHORDS]))


def test_the_trumpet_gets_the_lead_sheet_not_the_vox_sheet() -> None:
    match = best_part(plays("trumpet"), [VOX, CONCERT])
    assert match.part == CONCERT


def test_singers_read_the_vocal_part_or_the_lyrics() -> None:
    assert order(plays("vocals"), [CONCERT, CHORDS, LYRICS, VOX]) == ["Vocals", "Lyrics", "Chords", "Concert"]
    assert order(plays("vocals", "lyrics"), [CONCERT, CHORDS, LYRICS, VOX]) == ["Lyrics", "Vocals", "Chords",
                                                                               "Concert"]


def test_keys_may_prefer_a_lead_sheet() -> None:
    assert order(plays("piano"), [CONCERT, CHORDS, inst("piano")]) == ["Piano", "Chords", "Concert"]
    assert order(plays("piano", "lead_sheet"), [CONCERT, CHORDS, inst("piano")]) == ["Piano", "Concert", "Chords"]
    assert best_part(plays("guitar", "lead_sheet"), [CONCERT, CHORDS]).quality == "transposition"


# --- full scores -----------------------------------------------------------------------------------------------


def test_a_score_is_offered_last_and_never_as_a_members_best_part() -> None:
    ranked = rank_parts(plays("trumpet"), [SCORE, CHORDS])
    assert [(m.part, m.explanation) for m in ranked] == [
        (CHORDS, "Chord chart — play from the changes"), (SCORE, "Score: find your staff")]
    match = best_part(plays("trumpet"), [SCORE])
    assert (match.part, match.quality) == (None, "none")
    assert "Score" in match.explanation


def test_a_score_goes_to_a_leader_when_nothing_else_fits() -> None:
    match = best_part(plays("keys"), [SCORE, inst("trumpet")], leader=True)
    assert (match.part, match.quality, match.explanation) == (SCORE, "nearest", "Score: find your staff")
    assert best_part(plays("keys"), [SCORE, CHORDS], leader=True).part == CHORDS


def test_score_is_a_part_a_file_can_be_filed_as() -> None:
    assert SCORE in ALL_PARTS and SCORE.label() == "Score" and SCORE.key() == "score"
    assert PartRef.from_key("score") == SCORE
    assert readable_parts(plays("trumpet"))[-1] == SCORE


# --- preferences ------------------------------------------------------------------------------------------------


def test_reading_choices_per_instrument() -> None:
    assert list(reading_choices("bass")) == ["written", "chords"]
    assert list(reading_choices("piano")) == ["chords", "lead_sheet"]
    assert list(reading_choices("vocals")) == ["vocal", "lyrics"]
    assert reading_choices("trumpet") == {}
    assert reading_choices("kazoo") == {}


def test_members_from_json_reads_preferences_and_drops_junk() -> None:
    rows = [{"instrument": "bass"}, {"instrument": "vocals"}, {"instrument": "trumpet"}]
    assert members_from_json(rows, {"bass": "chords", "vocals": "written", "trumpet": "chords", 3: "x"}) == (
        MemberInstrument("bass", None, "chords"), MemberInstrument("vocals"), MemberInstrument("trumpet"))
    assert members_from_json(rows, "junk") == members_from_json(rows)  # type: ignore[arg-type]


readers = st.lists(st.builds(MemberInstrument,
                             st.sampled_from(["bass", "piano", "guitar", "vocals", "trumpet", "tuba"]),
                             st.none() | st.integers(1, 9),
                             st.sampled_from([None, "written", "chords", "lead_sheet", "vocal", "lyrics", "junk"])),
                   max_size=3)
some_parts = st.lists(st.sampled_from([*ALL_PARTS[:8], VOX, inst("bass"), inst("trombone", 1), inst("tuba"),
                                       inst("piano"), inst("trumpet", 2)]), max_size=8)


@given(readers, some_parts, st.booleans())
def test_any_reading_ranks_consistently(member: list[MemberInstrument], available: list[PartRef],
                                        leader: bool) -> None:
    match = best_part(member, available, leader=leader)
    ranked = [m.part for m in rank_parts(member, available)]
    assert len(ranked) == len(set(ranked))
    expected = next((p for p in readable_parts(member) if p in available and (leader or p != SCORE)), None)
    assert match.part == expected
    assert (match.quality == "none") == (expected is None)
    assert SCORE not in ranked[:-1]  # the score, if offered, comes last
