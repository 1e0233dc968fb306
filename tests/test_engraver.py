"""The engraver: specs, kinds, inspection, and the disk cache with worker processes killed past a time limit."""

from __future__ import annotations

import asyncio
import hashlib
import os
import pickle
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from soleil_ui.engraving import engraver as engraver_module
from soleil_ui.engraving.engraver import (
    MEDIA_TYPE,
    Engraver,
    EngraveSpec,
    detect_kind,
    engrave,
    etag_for,
    inspect_source,
    pdf_for,
)
from soleil_ui.errors import BrokenFile, InvalidInput, NotFound
from soleil_ui.parts import PartRef, Role
from soleil_ui.parts import Transposition as T
from soleil_ui.runtime import Runtime

NOTATION = Path(__file__).parent / "fixtures" / "notation"
TUNE = (NOTATION / "Tune.musicxml").read_bytes()
TRIO = (NOTATION / "Brass Trio.musicxml").read_bytes()
LONG = (NOTATION / "Long Chart.musicxml").read_bytes()
GRACE = (NOTATION / "Amazing Grace_Chords.cho").read_bytes()
BB = EngraveSpec(PartRef(transposition=T.BB), kind="musicxml")


def checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def counting(data: bytes) -> tuple[Callable[[], bytes], list[int]]:
    calls: list[int] = []

    def load() -> bytes:
        calls.append(1)
        return data
    return load, calls


def huge_score(measures: int = 3000, notes: int = 16) -> bytes:
    """A single staff under the note limit that verovio needs many seconds for."""
    note = "<note><pitch><step>C</step><octave>5</octave></pitch><duration>1</duration><type>16th</type></note>"
    bars = "".join(f'<measure number="{m}">' + (
        "<attributes><divisions>4</divisions><time><beats>4</beats><beat-type>4</beat-type></time></attributes>"
        if m == 1 else "") + note * notes + "</measure>" for m in range(1, measures + 1))
    return (f'<?xml version="1.0"?><score-partwise><part-list><score-part id="P1"><part-name>Flute</part-name>'
            f'</score-part></part-list><part id="P1">{bars}</part></score-partwise>').encode()


def forty_staves() -> bytes:
    parts = "".join(f'<score-part id="P{n}"><part-name>Violin {n}</part-name></score-part>' for n in range(1, 41))
    music = "".join(f'<part id="P{n}"><measure number="1"><note><pitch><step>C</step><octave>5</octave></pitch>'
                    f"<duration>4</duration></note></measure></part>" for n in range(1, 41))
    return f"<score-partwise><part-list>{parts}</part-list>{music}</score-partwise>".encode()


@contextmanager
def broken(reason: str) -> Iterator[None]:
    """Expect ``BrokenFile`` whose message for people (not the log detail) contains ``reason``."""
    with pytest.raises(BrokenFile) as caught:
        yield
    assert reason in caught.value.user_message


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture
async def engraver(tmp_path: Path) -> AsyncIterator[Engraver]:
    engraving = Engraver(tmp_path / "cache", workers=2, time_limit=60)
    yield engraving
    engraving.close()


# --- Specs ---------------------------------------------------------------------------------------------------------


def test_spec_normalises_and_round_trips_through_query_params() -> None:
    spec = EngraveSpec(PartRef(instrument="trumpet", chair=2), kind="musicxml", hint=PartRef(transposition=T.BB),
                       concert_key="E♭", key="f#m", octave_shift=-1, clef="bass", source_part="P2")
    assert (spec.concert_key, spec.key) == ("Eb", "F#m")
    params = spec.to_params()
    assert params == {"part": "instrument:trumpet:2", "kind": "musicxml", "hint": "bb", "ck": "Eb", "key": "F#m",
                      "oct": "-1", "clef": "bass", "src": "P2"}
    assert EngraveSpec.from_params(params) == spec
    assert EngraveSpec.from_params({"part": "chords"}) == EngraveSpec(PartRef(role=Role.CHORDS))
    assert pickle.loads(pickle.dumps(spec)) == spec  # it travels to the workers


def test_cache_keys_differ_by_everything_that_changes_the_drawing() -> None:
    base = EngraveSpec(PartRef(transposition=T.BB))
    variants = [base, EngraveSpec(PartRef(transposition=T.EB)), EngraveSpec(base.part, concert_key="C"),
                EngraveSpec(base.part, key="D"), EngraveSpec(base.part, octave_shift=1),
                EngraveSpec(base.part, clef="bass"), EngraveSpec(base.part, source_part="P2"),
                EngraveSpec(base.part, hint=PartRef(transposition=T.EB))]
    keys = [v.cache_key() for v in variants]
    assert len(set(keys)) == len(keys)
    assert EngraveSpec(base.part, concert_key="Eb").cache_key() == EngraveSpec(base.part, concert_key="E♭").cache_key()
    assert all("/" not in k and ":" not in k for k in keys)
    assert etag_for("abc", base, 0, 800) != etag_for("abc", base, 1, 800) != etag_for("abc", base, 0, 480)
    assert MEDIA_TYPE == "image/svg+xml"


@pytest.mark.parametrize("params", [
    {}, {"part": "nonsense"}, {"part": "bb", "ck": "H"}, {"part": "bb", "oct": "9"}, {"part": "bb", "oct": "x"},
    {"part": "bb", "clef": "alto"}, {"part": "bb", "kind": "pdf"}, {"part": "bb", "src": "P\n2"},
])
def test_junk_params_are_invalid_input(params: dict[str, str]) -> None:
    with pytest.raises(InvalidInput):
        EngraveSpec.from_params(params)


# --- Kinds and inspection ------------------------------------------------------------------------------------------


def test_detect_kind() -> None:
    assert detect_kind(TUNE, "Tune.musicxml") == "musicxml"
    assert detect_kind(b"PK\x03\x04...", "Tune.mxl") == "musicxml"
    assert detect_kind(b"junk", "Tune.mxl") == "musicxml"  # and then it is reported broken, as an .mxl
    for name in ("a.cho", "a.chordpro", "a.chopro", "a.crd"):
        assert detect_kind(GRACE, name) == "chordpro"
    assert detect_kind(GRACE, "Amazing Grace.txt") == "chordpro"
    with broken("isn't a ChordPro"):
        detect_kind(b"Remember to bring the music stands.", "notes.txt")
    assert detect_kind(TUNE) == "musicxml"
    assert detect_kind(GRACE) == "chordpro"


def test_inspect_sources() -> None:
    tune = inspect_source(TUNE, "Tune.musicxml")
    assert (tune.kind, tune.title, tune.key, tune.default_part) == ("musicxml", "Tune", "Bb",
                                                                      PartRef(transposition=T.CONCERT))
    assert [p.key() for p in tune.available] == ["concert", "bb", "eb", "f", "bass_clef", "chords"]
    trio = inspect_source(TRIO, "Brass Trio.musicxml")
    assert trio.default_part == PartRef(instrument="trumpet", chair=1)
    assert [p.name for p in trio.parts] == ["Trumpet in B♭ 1", "Trumpet in B♭ 2", "Trombone"]
    grace = inspect_source(GRACE, "Amazing Grace_Chords.cho", hint=PartRef(role=Role.CHORDS))
    assert (grace.kind, grace.title, grace.key, grace.capo) == ("chordpro", "Amazing Grace", "G", 0)
    assert grace.default_part == PartRef(role=Role.CHORDS)
    assert PartRef(role=Role.LYRICS) in grace.available
    with broken("isn't a zip"):
        inspect_source((NOTATION / "Not A Zip.mxl").read_bytes(), "Not A Zip.mxl")
    with broken("isn't closed"):
        inspect_source((NOTATION / "Broken Brackets.cho").read_bytes(), "Broken Brackets.cho")


def test_engrave_and_print_synchronously() -> None:
    assert len(engrave(TUNE, BB, 800)) == 1
    assert len(engrave(GRACE, EngraveSpec(PartRef(role=Role.LYRICS)), 480)) >= 1
    for data, spec in ((TUNE, BB), (GRACE, EngraveSpec(PartRef(instrument="trumpet")))):
        pdf = pdfium.PdfDocument(pdf_for(data, spec, title="Title"))
        assert len(pdf) >= 1


# --- The engraver: cache, dedupe, workers ---------------------------------------------------------------------------


async def test_cache_hit(engraver: Engraver, tmp_path: Path) -> None:
    load, calls = counting(LONG)
    first = await engraver.page_svg(checksum(LONG), BB, 0, 800, load)
    assert first.read_text().startswith("<svg")
    assert engraver.engravings == 1
    count = await engraver.page_count(checksum(LONG), BB, 800, load)
    assert 3 <= count <= 5
    last = await engraver.page_svg(checksum(LONG), BB, count - 1, 790, load)  # 790 snaps to 800
    assert last.parent == first.parent
    assert engraver.engravings == 1 and len(calls) == 1  # one job wrote every page
    assert sorted(p.name for p in first.parent.iterdir()) == sorted(
        ["pages.json", *(f"p{n}.svg" for n in range(count))])
    # Another server process on the same cache: no job, no worker.
    other = Engraver(tmp_path / "cache", workers=1)
    assert await other.page_svg(checksum(LONG), BB, 1, 800, load) == first.with_name("p1.svg")
    assert other.engravings == 0 and other.worker_pids() == []


async def test_in_flight_dedupe(engraver: Engraver) -> None:
    load, calls = counting(TUNE)
    spec = EngraveSpec(PartRef(transposition=T.EB))
    paths = await asyncio.gather(*(engraver.page_svg(checksum(TUNE), spec, 0, 800, load) for _ in range(6)))
    assert len(set(paths)) == 1
    assert engraver.engravings == 1
    assert len(calls) == 1


async def test_widths_and_specs_are_separate_entries(engraver: Engraver) -> None:
    a = await engraver.page_svg(checksum(TUNE), BB, 0, 480, lambda: TUNE)
    b = await engraver.page_svg(checksum(TUNE), BB, 0, 1600, lambda: TUNE)
    c = await engraver.page_svg(checksum(TUNE), EngraveSpec(BB.part, concert_key="C"), 0, 480, lambda: TUNE)
    assert len({a, b, c}) == 3
    assert 'width="480"' in a.read_text() and 'width="1600"' in b.read_text()


async def test_missing_pages_and_bad_checksums(engraver: Engraver) -> None:
    with pytest.raises(NotFound):
        await engraver.page_svg(checksum(TUNE), BB, 5, 800, lambda: TUNE)
    with pytest.raises(NotFound):
        await engraver.page_svg(checksum(TUNE), BB, -1, 800, lambda: TUNE)
    with pytest.raises(InvalidInput):
        await engraver.page_svg("../../etc", BB, 0, 800, lambda: TUNE)


async def test_chordpro_through_the_engraver_with_an_async_loader(engraver: Engraver) -> None:
    async def load() -> bytes:
        await asyncio.sleep(0)
        return GRACE
    spec = EngraveSpec(PartRef(instrument="trumpet"), kind="chordpro")
    page = await engraver.page_svg(checksum(GRACE), spec, 0, 800, load)
    assert "A7/C♯" in page.read_text()
    info = await engraver.inspect(GRACE, "Amazing Grace_Chords.cho", checksum=checksum(GRACE))
    assert info.page_count is not None and info.page_count >= 1


async def test_time_limit_kills_the_worker(tmp_path: Path) -> None:
    engraving = Engraver(tmp_path / "cache", workers=1, time_limit=0.5)
    try:
        assert await engraving._run(engraver_module._sleep_job, 0) == 0  # a warm worker
        [pid] = engraving.worker_pids()
        started = time.monotonic()
        with broken("too large to engrave"):
            await engraving._run(engraver_module._sleep_job, 30)
        assert time.monotonic() - started < 10
        assert engraving.worker_pids() == []
        assert gone(pid)
        assert await engraving._run(engraver_module._sleep_job, 0) == 0  # a fresh worker takes over
        assert engraving.worker_pids() != [pid]
    finally:
        engraving.close()


async def test_a_huge_score_is_refused_not_frozen_on(tmp_path: Path) -> None:
    engraving = Engraver(tmp_path / "cache", workers=1, time_limit=1.0)
    huge = huge_score()
    try:
        started = time.monotonic()
        with broken("too large to engrave"):
            await engraving.page_svg(checksum(huge), BB, 0, 800, lambda: huge)
        assert time.monotonic() - started < 30
        assert engraving.worker_pids() == []
        # Remembered: asking again costs nothing, not another time limit.
        load, calls = counting(huge)
        started = time.monotonic()
        with broken("too large to engrave"):
            await engraving.page_svg(checksum(huge), BB, 0, 800, load)
        assert time.monotonic() - started < 0.5 and calls == []
        # The server carries on.
        assert (await engraving.page_svg(checksum(TUNE), BB, 0, 800, lambda: TUNE)).exists()
    finally:
        engraving.close()


async def test_forty_staves_are_refused_and_the_worker_survives(engraver: Engraver) -> None:
    score = forty_staves()
    with broken("40 staves"):
        await engraver.page_svg(checksum(score), BB, 0, 800, lambda: score)
    pids = engraver.worker_pids()
    assert len(pids) == 1  # an error is an answer, not a crash
    with broken("40 staves"):
        await engraver.inspect(score, "Orchestra.musicxml")
    assert engraver.worker_pids() == pids


async def test_a_crashing_job_is_retried_once_then_reported(engraver: Engraver) -> None:
    with broken("crashed the engraver"):
        await engraver._run(engraver_module._crash_job)
    assert engraver.worker_pids() == []
    assert (await engraver.page_svg(checksum(TUNE), BB, 0, 800, lambda: TUNE)).exists()


async def test_pdf_is_cached(engraver: Engraver) -> None:
    load, calls = counting(TUNE)
    path = await engraver.pdf(checksum(TUNE), BB, load, title="Tune")
    assert path.read_bytes().startswith(b"%PDF")
    assert await engraver.pdf(checksum(TUNE), BB, load) == path
    assert len(calls) == 1


async def test_prerender_and_prune(engraver: Engraver) -> None:
    specs = [BB, EngraveSpec(PartRef(transposition=T.EB)), EngraveSpec(PartRef(role=Role.CHORDS))]
    counts = await engraver.prerender(checksum(TUNE), specs, lambda: TUNE, widths=(480, 800))
    assert set(counts.values()) == {1} and len(counts) == 6
    assert engraver.engravings == 6
    freed = engraver.prune(0)
    assert freed > 0
    assert not list(engraver.cache_dir.rglob("*.svg"))


async def test_close_stops_the_workers(engraver: Engraver) -> None:
    await engraver.page_svg(checksum(TUNE), BB, 0, 800, lambda: TUNE)
    pids = engraver.worker_pids()
    assert pids
    engraver.close()
    assert engraver.worker_pids() == []
    assert all(gone(pid) for pid in pids)


async def test_the_hourly_job_keeps_both_page_caches_in_their_budgets(core: Runtime) -> None:
    """``Runtime.prune_caches`` (main.py runs it hourly): rendered images and engravings each within their budget,
    the least recently used going first."""
    mb = 1024 * 1024
    page_budget, engrave_budget = core.settings.page_cache_mb * mb, core.settings.engrave_cache_mb * mb

    def sparse(path: Path, size: int, age: float) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            handle.truncate(size)  # no disk space used, but its size counts
        os.utime(path, (time.time() - age, time.time() - age))
        return path

    old_page = sparse(core.renderer.cache_dir / "aa" / "old" / "0-800.webp", page_budget // 2 + 1, 7200)
    new_page = sparse(core.renderer.cache_dir / "bb" / "new" / "0-800.webp", page_budget // 2 + 1, 0)
    old_part = sparse(core.engraver.cache_dir / "aa" / "x" / "y" / "old.pdf", engrave_budget // 2 + 1, 7200)
    new_part = sparse(core.engraver.cache_dir / "bb" / "x" / "y" / "new.pdf", engrave_budget // 2 + 1, 0)
    assert core.prune_caches() == page_budget // 2 + 1 + engrave_budget // 2 + 1
    assert (old_page.exists(), new_page.exists(), old_part.exists(), new_part.exists()) == (False, True, False, True)
    assert core.prune_caches() == 0
