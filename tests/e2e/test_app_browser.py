"""The real app in Chromium on a phone: one-tap demo sign-in, home, the library in my part, the stand.

The demo band's library is the folder of real engraved charts (SOLEIL_LIBRARY_DIR), named the ways bands
name them; the trumpet player must see exactly the songs with B♭ parts as playable and turn pages by key
and by tap.
"""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.library_helpers import real_library

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def app_url(session_live_server: Callable[..., str], tmp_path_factory: pytest.TempPathFactory) -> str:
    base = tmp_path_factory.mktemp("app")
    library = real_library(base / "library")
    shutil.rmtree(library / "Concert Only")  # keep the folder to the fixture set plus the awkward files
    (library / "Blue Monk_Concert.pdf").write_bytes((library / "TakeFive_Concert.pdf").read_bytes())
    env = {"SOLEIL_DATA_DIR": str(base / "data"), "SOLEIL_DEMO": "1", "SOLEIL_LIBRARY_DIR": str(library),
           "SOLEIL_SYNC_INTERVAL": "0", "SOLEIL_SECRET_KEY": "e2e-" + "k" * 40}
    return session_live_server([str(ROOT / "main.py")], env, ready_path="/readyz", timeout=60)


def _sign_in(page: Page, url: str, name: str) -> None:
    page.goto(url + "/login")
    page.get_by_role("button", name=f"Enter as {name}").click()
    expect(page.get_by_text("The Sunset Swing Band")).to_be_visible()


def test_phone_sign_in_shows_home_without_horizontal_scrolling(phone, app_url: str) -> None:
    page = phone.new_page()
    _sign_in(page, app_url, "Ava Brooks")
    expect(page.get_by_text("Hi Ava")).to_be_visible()
    expect(page.get_by_text("Friday Night Swing")).to_be_visible()
    expect(page.get_by_text("Open the library")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    cookie = next(c for c in phone.cookies() if c["name"] == "session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"


def test_trumpet_player_sees_exactly_the_bb_songs_as_playable(phone, app_url: str) -> None:
    page = phone.new_page()
    _sign_in(page, app_url, "Ava Brooks")
    page.goto(app_url + "/library")
    expect(page.get_by_text("6 songs")).to_be_visible()
    playable = page.locator("[data-open-part]")  # a row with my part opens it on the stand
    expect(playable).to_have_count(5)
    titles = sorted(t.split("\n")[0] for t in playable.all_inner_texts())
    assert titles == ["All of Me", "Autumn Leaves", "Blue Train", "Señor Blues", "Take Five"]
    monk = page.locator(".q-item", has_text="Blue Monk")
    expect(monk.get_by_text("other part")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_stand_turns_every_page_by_keyboard_and_tap(phone, app_url: str) -> None:
    page = phone.new_page()
    _sign_in(page, app_url, "Ava Brooks")
    page.goto(app_url + "/library")
    page.get_by_role("button", name="Song page: Blue Train").click()
    expect(page.get_by_text("B♭ part (no Trumpet 1 chart)")).to_be_visible()
    page.get_by_text("Open my part").click()
    stand = page.get_by_test_id("stand")
    expect(stand).to_have_attribute("data-page", "0")
    pages = int(stand.get_attribute("data-pages") or "0")
    assert pages >= 2
    image = page.get_by_test_id("stand-page-img").first
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") > 0
    # crop (automatic, measured at sync): the music's ink spans >= 90 % of the phone's width; the whole page less
    expect(stand).to_have_attribute("data-crop", "auto")
    cropped = _ink_span(page)
    assert cropped >= 0.9, cropped
    page.keyboard.press("t")
    page.get_by_test_id("stand-crop").click()
    expect(stand).to_have_attribute("data-crop", "off")
    page.keyboard.press("t")
    assert _ink_span(page) < cropped
    page.keyboard.press("t")
    page.get_by_test_id("stand-crop").click()  # manual margins, on sliders a thumb can use
    for slider in page.get_by_test_id("stand-crop-panel").locator("input").all():
        box = slider.bounding_box()
        assert box and box["height"] >= 44
    page.get_by_test_id("stand-crop").click()
    expect(stand).to_have_attribute("data-crop", "auto")
    page.get_by_test_id("stand-half").click()  # a half-page turn: the next page's top, cropped like its own slot
    page.keyboard.press("t")
    page.keyboard.press("ArrowRight")
    expect(stand).to_have_attribute("data-half", "1")
    half = page.locator(".sl-half").bounding_box()
    top = page.locator(".sl-half img").bounding_box()
    assert half and top and top["width"] > half["width"] + 4 and top["x"] < half["x"]
    page.keyboard.press("ArrowLeft")
    expect(stand).to_have_attribute("data-half", "0")
    page.keyboard.press("t")
    page.get_by_test_id("stand-half").click()
    page.keyboard.press("t")
    for number in range(1, pages):
        page.keyboard.press("ArrowRight")
        expect(stand).to_have_attribute("data-page", str(number))
        expect(page.get_by_test_id("stand-page-img").first).to_have_attribute(
            "src", re.compile(f"/pages/{number}\\?"))
    page.keyboard.press("ArrowRight")  # past the last page: stays
    expect(stand).to_have_attribute("data-page", str(pages - 1))
    box = stand.bounding_box()
    assert box is not None
    page.touchscreen.tap(box["x"] + box["width"] * 0.1, box["y"] + box["height"] / 2)
    expect(stand).to_have_attribute("data-page", str(pages - 2))
    page.touchscreen.tap(box["x"] + box["width"] * 0.9, box["y"] + box["height"] / 2)
    expect(stand).to_have_attribute("data-page", str(pages - 1))


def _ink_span(page: Page) -> float:
    """How much of the screen's width the chart's ink spans, read off a screenshot of the page shown (the page count
    in the corner hidden: it isn't music)."""
    page.get_by_test_id("stand-indicator").evaluate("e => (e.style.visibility = 'hidden')")
    slot = page.get_by_test_id("stand-slot").first.bounding_box()
    width = (page.viewport_size or {"width": 390})["width"]
    assert slot
    shot = Image.open(io.BytesIO(page.screenshot(scale="css"))).convert("L")
    band = shot.crop((0, int(slot["y"]), shot.width, int(slot["y"] + slot["height"])))
    ink = band.point(lambda v: 1 if v < 160 else 0).convert("F").resize((band.width, 1), Image.Resampling.BOX)
    columns = [x for x, share in enumerate(ink.get_flattened_data()) if share * band.height >= 3]
    page.get_by_test_id("stand-indicator").evaluate("e => (e.style.visibility = '')")
    return (columns[-1] - columns[0] + 1) / width if columns else 0.0


def test_another_bands_member_gets_nothing(browser, app_url: str) -> None:
    context = browser.new_context()
    response = context.request.get(app_url + "/media/charts/1/pages/0?w=800")
    assert response.status == 401
    assert "Traceback" not in response.text()
    context.close()
