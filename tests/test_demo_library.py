"""The generated demo library: real, readable charts named every which way, plus the broken files and recordings."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import pytest
from PIL import Image

from soleil_ui.demo_library import (
    BROKEN_FILES,
    DEMO_AUDIO,
    DEMO_SONGS,
    DemoPart,
    DemoSong,
    generate_demo_library,
    transpose,
)
from soleil_ui.errors import BrokenFile
from soleil_ui.rendering import inspect_pdf, render_page

CHARTS = [(song, part) for song in DEMO_SONGS for part in song.parts]


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    root = tmp_path_factory.mktemp("demo")
    return root, generate_demo_library(root)


def test_every_listed_file_is_written_and_nothing_else(library: tuple[Path, list[Path]]) -> None:
    root, written = library
    expected = {part.path for _, part in CHARTS} | set(BROKEN_FILES) | {name for _, name in DEMO_AUDIO}
    assert {path.relative_to(root).as_posix() for path in written} == expected
    assert {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()} == expected


def test_a_dozen_songs_in_several_parts() -> None:
    assert len(DEMO_SONGS) == 12
    assert len({song.title for song in DEMO_SONGS}) == 12
    assert sum(len(song.parts) for song in DEMO_SONGS) >= 36
    assert {1, 2, 3} <= {part.pages for _, part in CHARTS}


def test_file_names_come_in_the_many_styles_bands_use() -> None:
    paths = {part.path for _, part in CHARTS}
    for name in [
        "MidnightFerry_Bb.pdf",  # CamelCase_Part
        "Señor Sunshine - Eb.pdf",  # Title - Part
        "Don't Stop Now (Alto Sax).pdf",  # Title (Instrument)
        "Don't Stop Now - Trumpet.pdf",
        "Blue Harbor Blues - Tpt 1.pdf",  # abbreviations and chair numbers
        "Blue Harbor Blues_BassClef.pdf",
        "Café Olé_Chords.pdf",
        "Long Way Round_Lyrics.pdf",
        "Eb/Coffee at Five.pdf",  # the part is the folder
    ]:
        assert name in paths


def test_every_song_has_a_concert_or_chords_part_and_some_have_no_b_flat_part() -> None:
    assert all(song.part("Concert") or song.part("Chords") for song in DEMO_SONGS)
    without_b_flat = [song.title for song in DEMO_SONGS if not any(p.name.startswith("B♭") for p in song.parts)]
    assert len(without_b_flat) >= 2


def test_titles_include_accents_and_apostrophes() -> None:
    titles = {song.title for song in DEMO_SONGS}
    assert {"Señor Sunshine", "Don't Stop Now", "Café Olé"} <= titles


@pytest.mark.parametrize(("song", "part"), CHARTS, ids=[part.path for _, part in CHARTS])
def test_each_chart_is_a_real_pdf_with_its_title_and_pages(
    library: tuple[Path, list[Path]], song: DemoSong, part: DemoPart
) -> None:
    data = (library[0] / part.path).read_bytes()
    info = inspect_pdf(data)
    assert info.title == song.title
    assert info.page_count == part.pages
    image = Image.open(io.BytesIO(render_page(data, info.page_count - 1, 480))).convert("L")
    histogram = image.histogram()
    dark, white = sum(histogram[:128]) / sum(histogram), sum(histogram[201:]) / sum(histogram)
    assert 0.005 < dark < 0.3, "a chart page should carry some ink"
    assert white > 0.6, "a chart page should be mostly paper"


def test_the_broken_files_are_reported_with_their_reasons(library: tuple[Path, list[Path]]) -> None:
    root = library[0]
    reasons = {}
    for name in BROKEN_FILES:
        with pytest.raises(BrokenFile) as caught:
            inspect_pdf((root / name).read_bytes())
        reasons[name] = caught.value.user_message
    assert reasons == {
        "Broken - Bb.pdf": "The file is empty",
        "Half Finished_Eb.pdf": "The file is damaged or incomplete — re-export it",
    }


def test_reference_recordings_are_short_mono_8khz_wavs(library: tuple[Path, list[Path]]) -> None:
    titles = {song.title for song in DEMO_SONGS}
    for title, name in DEMO_AUDIO:
        assert title in titles
        assert name.endswith(("_Original.wav", " - Reference.wav"))
        with wave.open(str(library[0] / name)) as wav:
            assert (wav.getnchannels(), wav.getframerate(), wav.getsampwidth()) == (1, 8000, 2)
            assert 1 <= wav.getnframes() / wav.getframerate() <= 10
            assert max(wav.readframes(wav.getnframes())) > 0, "silence"


def test_same_seed_same_bytes(library: tuple[Path, list[Path]], tmp_path: Path) -> None:
    root, first = library
    second = generate_demo_library(tmp_path)
    assert [path.relative_to(tmp_path) for path in second] == [path.relative_to(root) for path in first]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, second, strict=True))


def test_a_different_seed_draws_different_music(library: tuple[Path, list[Path]], tmp_path: Path) -> None:
    generate_demo_library(tmp_path, seed=2)
    song, part = CHARTS[0]
    other = (tmp_path / part.path).read_bytes()
    assert other != (library[0] / part.path).read_bytes()
    assert inspect_pdf(other).title == song.title


@pytest.mark.parametrize(
    ("chord", "semitones", "written"),
    [
        ("C7", 2, "D7"),
        ("Bb7", 2, "C7"),
        ("F", 9, "D"),
        ("Ebmaj7", 9, "Cmaj7"),
        ("F#m7", 1, "Gm7"),
        ("Am7b5", 3, "Cm7b5"),
    ],
)
def test_transpose_moves_the_root_and_keeps_the_quality(chord: str, semitones: int, written: str) -> None:
    assert transpose(chord, semitones) == written
