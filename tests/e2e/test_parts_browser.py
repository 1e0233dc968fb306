"""The demo band's own library in Chromium on a phone: the bass player opens a song that has a bass-clef trombone part
(and no bass part) and the stand shows that part — not the chord chart, not the treble lead sheet."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_app_browser import ROOT

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_url(session_live_server: Callable[..., str], tmp_path_factory: pytest.TempPathFactory) -> str:
    """The app in demo mode with no library folder set: the demo band gets its own generated library."""
    base = tmp_path_factory.mktemp("demo-app")
    env = {"SOLEIL_DATA_DIR": str(base / "data"), "SOLEIL_DEMO": "1", "SOLEIL_SYNC_INTERVAL": "0",
           "SOLEIL_SECRET_KEY": "e2e-parts-" + "k" * 40}
    return session_live_server([str(ROOT / "main.py")], env, ready_path="/readyz", timeout=120)


def _sign_in(page: Page, url: str, name: str) -> None:
    page.goto(url + "/login")
    page.get_by_role("button", name=f"Enter as {name}").click()
    expect(page.get_by_text("The Sunset Swing Band")).to_be_visible()


def test_the_demo_bassist_opens_a_song_with_a_bass_clef_part_and_gets_it(phone: Any, demo_url: str) -> None:
    page = phone.new_page()
    _sign_in(page, demo_url, "Sam Okafor")
    page.goto(demo_url + "/library")
    page.get_by_role("button", name="Song page: Green Street Groove").click()  # the row itself opens the stand
    expect(page.get_by_text("Trombone part (no Bass chart)")).to_be_visible()
    trombone = page.get_by_role("link", name="Download Trombone as PDF")
    chart_id = re.search(r"/media/charts/(\d+)/", trombone.get_attribute("href") or "")
    assert chart_id, "the song page lists the trombone part"
    page.get_by_text("Open my part").click()
    stand = page.get_by_test_id("stand")
    expect(stand).to_have_attribute("data-page", "0")
    image = page.get_by_test_id("stand-page-img").first
    expect(image).to_have_attribute("src", re.compile(rf"/media/charts/{chart_id.group(1)}/pages/0\?"))
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") > 0
    size = page.viewport_size
    assert size
    page.touchscreen.tap(size["width"] / 2, size["height"] / 2)  # the middle shows the toolbar: title and part
    expect(page.get_by_test_id("stand-toolbar")).to_contain_text("Green Street Groove")
    expect(page.get_by_test_id("stand-toolbar")).to_contain_text("Trombone")
