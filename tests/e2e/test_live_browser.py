"""Live setlists in Chromium, on the demo band: a leader on a tablet and three members on phones.

The leader reorders the setlist by dragging with a finger and adds a note: each member's open setlist shows both
without a reload. The leader goes live; each member taps Follow and their stand opens every called song in their
own part. Then two app processes on one PostgreSQL database act as one: an edit and live calls made through one
instance reach a page served by the other (LISTEN/NOTIFY).

The database is seeded before the app starts (``tests.demo_seed``: migrations, the demo band, and what each member's
part is for the first songs), so the test knows ids and expected charts without racing the app's start-up.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests import demo_seed
from tests.conftest import PG_HOST, PG_PORT, PG_USER, _pg_admin
from tests.demo_seed import SETLIST, app_env
from tests.e2e import processes

__all__ = ["SETLIST", "app_env", "seed"]  # the other app-process browser tests seed and start apps the same way

pytestmark = pytest.mark.browser
MEMBERS = ["Ava Brooks", "Luis Ortega", "Theo Marsh"]  # trumpet, alto sax, trombone


@pytest.fixture
def live_server(live_server: Any) -> Any:
    """The harness's servers, stopped gracefully here (SIGTERM, then a wait long enough for the shutdown), and then
    anything left of their processes killed: its own stop SIGKILLs after 10 s, which orphaned the render workers."""
    servers: list[Any] = []

    def start(*args: Any, **kwargs: Any) -> Any:
        server = live_server(*args, **kwargs)
        servers.append(server)
        return server

    yield start
    left = set()
    for server in servers:
        left |= processes.stop_then_kill(server.process, marker="NICEGUI_STORAGE_PATH")
    assert not left, "a server stopped with SIGTERM left worker processes behind (killed now)"


def seed(env: dict[str, str]) -> dict[str, Any]:
    """The demo band, with what each of ``MEMBERS`` reads for the setlist's songs (``seeded["plans"][name]``)."""
    return demo_seed.seed(env, "plans", MEMBERS)


def sign_in(context: Any, url: str, user_id: int) -> Page:
    page = context.new_page()
    page.goto(f"{url}/auth/demo/{user_id}")  # asks; the button posts with the session's CSRF token
    page.get_by_role("button", name=re.compile("^Enter as")).click()
    expect(page.get_by_text("Next gig")).to_be_visible()
    return page


def open_setlist(page: Page, url: str, setlist_id: int) -> None:
    page.goto(f"{url}/setlists/{setlist_id}")
    expect(page.locator("[data-item-id]").first).to_be_visible()
    page.evaluate("() => { window.__sameDocument = true }")  # gone if the page ever reloads


def order(page: Page) -> list[int]:
    return [int(x) for x in page.locator("[data-item-id]").evaluate_all(
        "rows => rows.map(r => r.dataset.itemId)")]


def drag_with_finger(page: Page, handle: Any, target: Any) -> None:
    """Touch the handle, move past the middle of the target row in small steps, lift (CDP touch events)."""
    start, end = handle.bounding_box(), target.bounding_box()
    assert start and end
    x, y0 = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
    y1 = end["y"] + end["height"] * 0.8
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y0}]})
    for step in range(1, 13):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove",
                                              "touchPoints": [{"x": x, "y": y0 + (y1 - y0) * step / 12}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def expect_stand(page: Page, title: str, chart_id: int) -> None:
    expect(page.get_by_test_id("stand")).to_have_attribute("aria-label", f"Chart: {title}")
    expect(page.locator("[data-testid=stand-slot] img").first).to_have_attribute(
        "src", re.compile(rf"/media/charts/{chart_id}/pages/0\?"))


def test_leader_edits_and_calls_songs_for_three_members(live_server: Any, tablet: Any, new_context: Any,
                                                        tmp_path: Path, demo_library_dir: Path) -> None:
    env = app_env(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'data' / 'soleil.db'}", demo_library_dir)
    seeded = seed(env)
    url = live_server(["main.py"], env, "/readyz", timeout=90)
    setlist_id = seeded["setlist"]
    leader = sign_in(tablet, url, seeded["people"]["Morgan Lee"])
    members = {name: sign_in(new_context("iPhone 13"), url, seeded["people"][name]) for name in MEMBERS}
    for page in members.values():
        open_setlist(page, url, setlist_id)
    open_setlist(leader, url, setlist_id)
    before = order(leader)
    songs = leader.locator("[data-item-id]").filter(has=leader.get_by_test_id("drag-handle"))
    rows = leader.locator("[data-item-id]")
    moved, target = rows.nth(1), rows.nth(2)  # the first song, dropped below the second
    moved_id = int(moved.get_attribute("data-item-id") or 0)
    drag_with_finger(leader, moved.get_by_test_id("drag-handle"), target)
    expected = [before[0], before[2], before[1], *before[3:]]
    expect(leader.locator("[data-item-id]").nth(2)).to_have_attribute("data-item-id", str(moved_id))
    assert songs.count() == len(before)

    leader.locator(f"[data-item-id='{before[2]}']").get_by_role("button", name="More").click()
    leader.get_by_text("Key, note, duration").click()
    leader.get_by_label("Note (tempo, solos, segue…)").fill("Ava solos, segue")
    leader.get_by_role("button", name="Save").click()
    for page in [leader, *members.values()]:
        expect(page.get_by_text("Ava solos, segue")).to_be_visible()
        expect(page.locator("[data-item-id]").nth(2)).to_have_attribute("data-item-id", str(moved_id))
        assert order(page) == expected
        assert page.evaluate("() => window.__sameDocument") is True  # updated in place, never reloaded

    songs_now = [seeded["songs"][str(item)] for item in expected if str(item) in seeded["songs"]]
    # A page that is no stand asks to be put in the live room by name (every way a socket could ask): the server
    # alone puts a page there, after the page guard, so the calls never reach it.
    leader.evaluate("""setlist => {
        window.__calls = [];
        window.socket.on("soleil_live", (m) => window.__calls.push(m));
        for (const band of [1, 2, 3]) for (const ask of ["join", "enter_room", "soleil_live", "event"])
            window.socket.emit(ask, `live:${band}:${setlist}`);
    }""", setlist_id)
    leader.get_by_role("button", name="Go live").click()
    for name, page in members.items():
        expect(page.get_by_text(f"Live now: {SETLIST}")).to_be_visible()
        page.get_by_role("button", name="Follow").click()
        expect_stand(page, songs_now[0], seeded["plans"][name][songs_now[0]])
    for call in (1, 2):
        leader.get_by_role("button", name="Next song").click()
        for name, page in members.items():
            title = songs_now[call]
            expect_stand(page, title, seeded["plans"][name][title])  # the called song, in this member's own part
    for name in MEMBERS:
        expect(leader.get_by_label(f"{name}: following")).to_be_visible()
    assert leader.evaluate("() => window.__calls") == []  # the followers had every call; the asker none


@pytest.fixture
def pg_url() -> Any:
    """A PostgreSQL database of this test's own (two app processes share it)."""
    name = f"soleil_e2e_{os.getpid()}_{uuid.uuid4().hex[:6]}"

    def admin(sql: str) -> None:
        with ThreadPoolExecutor(1) as pool:  # Playwright keeps this thread's event loop busy
            pool.submit(asyncio.run, _pg_admin(sql)).result()

    try:
        admin(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is unreachable: {exc}")
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    yield f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_two_instances_on_one_postgres_act_as_one(pg_url: str, live_server: Any, tablet: Any, phone: Any,
                                                  tmp_path: Path, demo_library_dir: Path) -> None:
    # pg_url first: its database is dropped after the apps using it have stopped (fixtures end in reverse order)
    env = app_env(tmp_path, pg_url, demo_library_dir)
    seeded = seed(env)
    one = live_server(["main.py"], env, "/readyz", timeout=90)
    two = live_server(["main.py"], {**env, "SOLEIL_DATA_DIR": str(tmp_path / "data-two")}, "/readyz", timeout=90)
    setlist_id = seeded["setlist"]
    leader = sign_in(tablet, one, seeded["people"]["Morgan Lee"])
    member = sign_in(phone, two, seeded["people"]["Ava Brooks"])
    open_setlist(member, two, setlist_id)
    open_setlist(leader, one, setlist_id)
    rows = leader.locator("[data-item-id]")
    second = int(rows.nth(2).get_attribute("data-item-id") or 0)
    leader.locator(f"[data-item-id='{second}']").get_by_role("button", name="Move up").click()
    expect(member.locator("[data-item-id]").nth(1)).to_have_attribute("data-item-id", str(second))
    leader.get_by_role("button", name="Go live").click()
    expect(member.get_by_text(f"Live now: {SETLIST}")).to_be_visible()
    member.get_by_role("button", name="Follow").click()
    expect(member.get_by_test_id("live-chip")).to_have_attribute("data-state", "following")
    plan = seeded["plans"]["Ava Brooks"]
    songs = [seeded["songs"][str(item)] for item in order(leader) if str(item) in seeded["songs"]]
    expect_stand(member, songs[0], plan[songs[0]])
    for call in (1, 2):
        leader.get_by_role("button", name="Next song").click()
        expect_stand(member, songs[call], plan[songs[call]])  # called on one instance, opened by the other
    expect(leader.get_by_label("Ava Brooks: following")).to_be_visible()  # presence across instances
