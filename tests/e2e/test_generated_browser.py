"""The real app in Chromium: one MusicXML lead sheet (concert B♭ blues) in the demo band's folder, opened by the
trumpet player and by the trombonist. Each signs in (``POST /auth/demo/<id>``), opens the song page, sees their part
explained as generated from the score with a first-page preview the browser has decoded, then opens that engraved
page on its own and reads the chord symbols, the key signature and the clef from the SVG Chromium renders.

"Open my part" puts the same engraved part on the stand (``/stand/<chart>``), decoded and ready to turn.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.library_helpers import csrf_from

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"

# What the served SVG shows, read in the page: verovio's chord symbols (``g.harm``), the glyph ids of the first key
# signature's accidentals (``E260`` flat, ``E262`` sharp) and of the first clef (``E050`` G clef, ``E062`` F clef).
READ_SVG = """() => {
  const glyph = (use) =>
    (use.getAttribute('xlink:href') || use.getAttribute('href') || '').replace('#', '').split('-')[0];
  const plain = (t) =>
    t.replace(/\\uEA64|♭/g, 'b').replace(/\\uEA66|♯/g, '#').replace(/\\uEA65|♮/g, '').replace(/\\s/g, '');
  const key = document.querySelector('g.keySig');
  const accidentals = key ? [...key.querySelectorAll('use')].map(glyph) : [];
  return {
    chords: [...document.querySelectorAll('g.harm')].map((g) => plain(g.textContent)),
    fifths: accidentals.filter((g) => g === 'E262').length - accidentals.filter((g) => g === 'E260').length,
    clef: glyph(document.querySelector('g.clef use')),
    width: document.documentElement.getAttribute('width'),
  };
}"""


@pytest.fixture(scope="module")
def app(session_live_server: Callable[..., str], tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    base = tmp_path_factory.mktemp("generated-app")
    library = base / "library"
    library.mkdir()
    shutil.copy(FIXTURES / "notation" / "Tune.musicxml", library / "Tune.musicxml")
    shutil.copy(FIXTURES / "charts" / "TakeFive_Bb.pdf", library / "Take Five - Bb.pdf")
    shutil.copy(FIXTURES / "charts" / "All of Me - Eb.pdf", library / "All of Me - Eb.pdf")
    env = {"SOLEIL_DATA_DIR": str(base / "data"), "SOLEIL_DEMO": "1", "SOLEIL_LIBRARY_DIR": str(library),
           "SOLEIL_SYNC_INTERVAL": "0", "SOLEIL_SECRET_KEY": "e2e-" + "g" * 40}
    url = session_live_server([str(ROOT / "main.py")], env, ready_path="/readyz", timeout=90)
    return url, base / "data" / "soleil.db"


def query(db_path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Read the app's own database (read-only), as the benchmarks do."""
    if not db_path.exists():
        return []
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)) as conn:
            return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError:
        return []


def wait_for(db_path: Path, sql: str, *params: Any, timeout: float = 60) -> list[tuple[Any, ...]]:
    """The demo band is seeded after /readyz first answers: poll its database, bounded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = query(db_path, sql, *params)
        if rows:
            return rows
        time.sleep(0.2)  # a bounded poll of another process's database; nothing in the browser to wait on
    raise AssertionError(f"nothing for {sql!r} after {timeout}s")


def sign_in(context: Any, app: tuple[str, Path], name: str) -> None:
    url, db_path = app
    wait_for(db_path, "SELECT 1 FROM gig")  # the demo gig is seeded last
    [(user_id,)] = wait_for(db_path, "SELECT u.id FROM user_account u WHERE u.name = ? AND u.is_demo", name)
    asked = context.request.get(f"{url}/auth/demo/{user_id}")
    response = context.request.post(f"{url}/auth/demo/{user_id}", form={"csrf": csrf_from(asked.text())},
                                    max_redirects=0)
    assert response.status == 303


def open_my_part(page: Page, app: tuple[str, Path], explanation: str) -> str:
    """The song page: my part explained, its first page decoded in the preview; returns the preview's URL."""
    url, db_path = app
    [(song_id,)] = wait_for(db_path, "SELECT id FROM song WHERE title = 'Tune'")
    page.goto(f"{url}/songs/{song_id}")
    expect(page.get_by_text(explanation)).to_be_visible()
    expect(page.get_by_text("Generated from the MusicXML score").first).to_be_visible()
    image = page.get_by_test_id("my-part-preview").locator("img")
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") > 0  # Chromium decoded the engraved SVG as an image
    src = str(image.get_attribute("src"))
    [(chart_id,)] = wait_for(db_path, "SELECT id FROM chart WHERE file_name = 'Tune.musicxml'")
    pdf = str(page.get_by_role("link", name="Download PDF").get_attribute("href"))
    part = next(p for p in src.split("?")[1].split("&") if p.startswith("part="))
    assert pdf.startswith(f"/media/charts/{chart_id}/print.pdf?") and part in pdf  # the same part, on paper
    return src


def open_on_the_stand(page: Page, src: str) -> None:
    """Tap "Open my part": the stand shows the engraved page the preview showed, decoded, with its part named."""
    page.get_by_role("button", name="Open my part").click()
    stand = page.get_by_test_id("stand")
    expect(stand).to_have_attribute("data-ready", re.compile(r"\b0\b"))
    shown = page.locator("[data-testid=stand-slot] img").first
    expect(shown).to_have_js_property("complete", True)
    assert shown.evaluate("img => img.naturalWidth") > 0
    assert str(shown.get_attribute("src")).split("?")[1] == src.split("?")[1]  # the same part, key and layout


def read_engraved_page(page: Page, app: tuple[str, Path], src: str) -> dict[str, Any]:
    response = page.goto(app[0] + src)
    assert response is not None and response.status == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.headers["x-content-type-options"] == "nosniff"
    expect(page.locator("g.harm").first).to_be_attached()
    return page.evaluate(READ_SVG)


def test_trumpet_player_reads_concert_bb_blues_in_c(phone: Any, app: tuple[str, Path]) -> None:
    sign_in(phone, app, "Ava Brooks")
    page = phone.new_page()
    src = open_my_part(page, app, "Your part: Trumpet — generated from the MusicXML score")
    assert "part=instrument%3Atrumpet" in src and "w=800" in src
    open_on_the_stand(page, src)
    size = page.viewport_size
    assert size
    page.touchscreen.tap(size["width"] / 2, size["height"] / 2)  # the middle shows the toolbar: title and part
    expect(page.get_by_test_id("stand-toolbar")).to_contain_text("Trumpet · engraved from the score")
    seen = read_engraved_page(page, app, src)
    assert seen["chords"] == ["C7", "F7", "C7", "F7", "C7", "G7", "F7", "C7", "G7"]
    assert (seen["fifths"], seen["clef"], seen["width"]) == (0, "E050", "800")  # C major, treble clef


def test_trombonist_reads_it_in_bb_on_the_bass_clef(new_context: Callable[..., Any], app: tuple[str, Path]) -> None:
    tablet = new_context("iPad (gen 7)")
    sign_in(tablet, app, "Theo Marsh")
    page = tablet.new_page()
    src = open_my_part(page, app, "Your part: Trombone — generated from the MusicXML score")
    open_on_the_stand(page, src)
    seen = read_engraved_page(page, app, src)
    assert seen["chords"] == ["Bb7", "Eb7", "Bb7", "Eb7", "Bb7", "F7", "Eb7", "Bb7", "F7"]
    assert (seen["fifths"], seen["clef"]) == (-2, "E062")  # two flats, bass clef


def test_another_bands_browser_gets_nothing(new_context: Callable[..., Any], app: tuple[str, Path]) -> None:
    url, db_path = app
    [(chart_id, checksum)] = wait_for(db_path, "SELECT id, checksum FROM chart WHERE file_name = 'Tune.musicxml'")
    stranger = new_context()
    answer = stranger.request.get(f"{url}/media/charts/{chart_id}/svg/0?w=800&part=bb&v={checksum[:16]}",
                                  max_redirects=0)
    assert answer.status == 401 and "<svg" not in answer.text()
