"""The leader runs a whole set from the live console on a phone (390 × 844), one thumb: Go live, Next through every
song, a song called by tapping its row and the slip undone; a member following on another phone reads every call.
(Issue 18 point 1.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.test_live_browser import app_env, live_server, open_setlist, seed, sign_in  # noqa: F401

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}


def test_a_whole_set_runs_from_the_console_on_a_phone(live_server: Any, new_context: Any,
                                                      tmp_path: Path, demo_library_dir: Path) -> None:
    env = app_env(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'data' / 'soleil.db'}", demo_library_dir)
    seeded = seed(env)
    url = live_server(["main.py"], env, "/readyz", timeout=90)
    setlist_id = seeded["setlist"]
    leader = sign_in(new_context(**PHONE), url, seeded["people"]["Morgan Lee"])
    ava = sign_in(new_context(**PHONE), url, seeded["people"]["Ava Brooks"])
    open_setlist(leader, url, setlist_id)
    leader.get_by_role("button", name="Go live").click()
    expect(ava.get_by_text(re.compile("^Live now:"))).to_be_visible()
    ava.get_by_role("button", name="Follow").click()
    stand = ava.get_by_test_id("stand")
    page_image = ava.locator("[data-testid=stand-slot] img").first
    expect(page_image).to_be_visible()
    chip, music = ava.get_by_test_id("live-chip").bounding_box(), page_image.bounding_box()
    assert chip and music and chip["y"] + chip["height"] <= music["y"]  # the chip never covers the music
    expect(leader.get_by_test_id("console-following")).to_have_text("1 of 9 following")
    expect(leader.get_by_test_id("console-clock")).to_contain_text("Elapsed")

    rows = leader.get_by_test_id("console-set").locator("[data-item-id]")
    count = rows.count()
    titles = [rows.nth(i).locator(".q-item__label").first.inner_text() for i in range(count)]
    assert count >= 5
    next_button = leader.get_by_test_id("live-next")
    box = next_button.bounding_box()
    assert box and box["y"] + box["height"] <= 844 and box["height"] >= 44  # held on screen, thumb-sized
    for number in range(1, count):
        next_button.tap()
        expect(leader.get_by_test_id("console-now")).to_contain_text(f"Now: {titles[number]}")
        expect(stand).to_have_attribute("aria-label", f"Chart: {titles[number]}")
        expect(rows.nth(number)).to_have_class(re.compile("sl-now"))
    assert "0:00 to go" not in (leader.get_by_test_id("console-clock").inner_text())

    rows.nth(1).tap()  # one tap calls a song from the list …
    expect(stand).to_have_attribute("aria-label", f"Chart: {titles[1]}")
    expect(leader.get_by_test_id("console-undo-bar")).to_contain_text(f"Called: {titles[1]}")
    leader.get_by_test_id("console-undo").tap()  # … and a slip is undone as quickly
    expect(stand).to_have_attribute("aria-label", f"Chart: {titles[-1]}")
    expect(leader.get_by_test_id("console-undo-bar")).to_be_hidden()
    leader.get_by_role("button", name="End").click()
    expect(ava.get_by_text(re.compile("^Live now:"))).to_be_hidden()
