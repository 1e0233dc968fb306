"""The pencil on the stand in Chromium, two phones of the demo band reading the B♭ part of one chart.

One phone draws on the part layer (a stroke and a stamp) and the marks appear on the other phone without a reload.
In pen mode a swipe draws instead of turning; outside it the stand turns as before. Then the first phone loses the
network for real (``TcpProxy``), draws, and the other phone draws meanwhile; when the network returns the offline
mark is sent and both phones show both marks (a union: the concurrent mark survives). A mark from an earlier version
of the file (another page count) is brought to the page shown and dragged with the move tool; the section-mate sees
each move, and undo moves it back. A link (a D.S. on page 1 to the segno on page 2) jumps there on a tap, on both
phones, and Back returns.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.tcp_proxy import TcpProxy

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
SECRET = "e2e-pencil-" + "k" * 40
FIND_CHART = """
import asyncio, json
from sqlmodel import col, select
from soleil_ui.db import db
from soleil_ui.models import Chart
from soleil_ui.settings import get_settings

async def main():
    db.configure(get_settings().resolved_database_url)
    async with db.session() as session:
        charts = (await session.exec(select(Chart).where(Chart.kind == "chart", Chart.status == "ok",
                  Chart.part_key == "bb", Chart.page_count >= 2).order_by(col(Chart.id)))).all()
    await db.dispose()
    print(json.dumps(charts[0].id))

asyncio.run(main())
"""

EARLIER_MARK = """
import asyncio, sys, uuid
from sqlmodel import select
from soleil_ui.db import db
from soleil_ui.models import Annotation, Chart
from soleil_ui.settings import get_settings

async def main():  # a part mark of the author of sys.argv[2], drawn on a version of the file with one page more
    db.configure(get_settings().resolved_database_url)
    async with db.session() as session:
        chart = await session.get(Chart, int(sys.argv[1]))
        theirs = (await session.exec(select(Annotation).where(Annotation.stroke_id == sys.argv[2]))).one()
        mark = Annotation(band_id=chart.band_id, stroke_id=str(uuid.uuid4()), chart_id=chart.id, song_id=chart.song_id,
                          part_key=chart.part_key, page=1, layer="part", tool="pen", color="#0050d0", width=0.01,
                          points=[[0.86, 0.7], [0.95, 0.7]], author_id=theirs.author_id,
                          chart_pages=chart.page_count + 1, chart_checksum="an earlier file")
        session.add(mark)
    await db.dispose()
    print(mark.stroke_id)

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def app(session_live_server: Callable[..., str], tmp_path_factory: pytest.TempPathFactory,
        demo_library_dir: Path) -> tuple[str, int, str]:
    data = tmp_path_factory.mktemp("pencil") / "data"
    env = {"SOLEIL_DATA_DIR": str(data), "SOLEIL_DEMO": "1", "SOLEIL_LIBRARY_DIR": str(demo_library_dir),
           "SOLEIL_SYNC_INTERVAL": "0", "SOLEIL_SECRET_KEY": SECRET}
    url = session_live_server([str(ROOT / "main.py")], env, ready_path="/readyz", timeout=120)
    deadline = time.monotonic() + 60
    while "Ava Brooks" not in urllib.request.urlopen(url + "/login", timeout=5).read().decode():
        assert time.monotonic() < deadline, "the demo band was never seeded"
        time.sleep(0.2)  # polling a bounded deadline for the demo seeding
    child = {k: v for k, v in os.environ.items() if not k.startswith(("SOLEIL_", "NICEGUI_", "PYTEST_"))}
    child.update(SOLEIL_DATA_DIR=str(data), SOLEIL_SECRET_KEY=SECRET, SOLEIL_DEMO="0")
    found = subprocess.run([sys.executable, "-c", FIND_CHART], cwd=ROOT, env=child, capture_output=True, text=True,
                           timeout=90, check=False)
    assert found.returncode == 0, found.stderr[-3000:]
    return url, int(json.loads(found.stdout.strip().splitlines()[-1])), str(data)


@pytest.fixture
def proxy(app: tuple[str, int, str]) -> Iterator[TcpProxy]:
    with TcpProxy(int(app[0].rsplit(":", 1)[1])) as running:
        yield running


def open_stand(context: Any, url: str, name: str, chart: int) -> Page:
    page = context.new_page()
    page.goto(url + "/login")
    page.get_by_role("button", name=f"Enter as {name}").click()
    expect(page.get_by_text("The Sunset Swing Band").first).to_be_visible(timeout=30_000)
    page.goto(f"{url}/stand/{chart}")
    expect(page.get_by_test_id("stand")).to_have_attribute("data-page", "0", timeout=30_000)
    expect(page.get_by_test_id("pencil-canvas").first).to_be_attached(timeout=20_000)
    return page


def pen_on_part(page: Page) -> None:
    size = page.viewport_size or {"width": 390, "height": 664}
    page.touchscreen.tap(size["width"] / 2, size["height"] / 2)  # the stand's toolbar, and the pen button with it
    page.get_by_test_id("pencil-open").click()
    expect(page.get_by_test_id("pencil")).to_have_attribute("data-mode", "pen")
    page.get_by_test_id("pencil-layer-part").click()
    for control in page.get_by_test_id("pencil-toolbar").locator("button").all():
        box = control.bounding_box()
        assert box and box["width"] >= 44 and box["height"] >= 44, control.get_attribute("aria-label")


def draw(page: Page, x0: float, y0: float, x1: float, y1: float) -> None:
    """A stroke across the page shown (fractions of its canvas), with a mouse's pointer events."""
    box = page.get_by_test_id("pencil-canvas").first.bounding_box()
    assert box
    page.mouse.move(box["x"] + x0 * box["width"], box["y"] + y0 * box["height"])
    page.mouse.down()
    for step in range(1, 11):
        t = step / 10
        page.mouse.move(box["x"] + (x0 + (x1 - x0) * t) * box["width"], box["y"] + (y0 + (y1 - y0) * t) * box["height"])
    page.mouse.up()


def ids(page: Page) -> set[str]:
    return {i for i in (page.get_by_test_id("pencil").get_attribute("data-ids") or "").split(",") if i}


def test_a_part_mark_reaches_a_section_mate_and_an_offline_mark_syncs_beside_a_concurrent_one(
        new_context: Callable[..., Any], app: tuple[str, int, str], proxy: TcpProxy) -> None:
    url, chart, data = app
    ava = open_stand(new_context("iPhone 13"), proxy.url, "Ava Brooks", chart)
    theo = open_stand(new_context("iPhone 13"), url, "Theo Marsh", chart)  # reading the same B♭ part

    # the stand crops the blank margins: the canvas still lies exactly over the whole page image (clipped with it),
    # so a stroke's page coordinates land on the same music cropped or not
    shown = ava.get_by_test_id("stand-page-img").first.bounding_box()
    canvas = ava.get_by_test_id("pencil-canvas").first.bounding_box()
    slot = ava.get_by_test_id("stand-slot").first.bounding_box()
    assert shown and canvas and slot and shown["width"] > slot["width"] + 4  # cropped: the page is wider than shown
    assert all(abs(shown[k] - canvas[k]) < 1 for k in ("x", "y", "width", "height")), (shown, canvas)
    pen_on_part(ava)
    draw(ava, 0.8, 0.3, 0.15, 0.32)  # a right-to-left swipe: in pen mode it draws, never turns
    pencil = ava.get_by_test_id("pencil")
    expect(pencil).to_have_attribute("data-ids", re.compile(r"^[0-9a-f-]{36}$"))
    expect(pencil).to_have_attribute("data-pending", "0")
    expect(ava.get_by_test_id("stand")).to_have_attribute("data-page", "0")
    stroke = ids(ava)
    expect(ava.get_by_test_id("pencil-print")).to_have_attribute("href", f"/annotations/{chart}/print.pdf?part=")
    expect(theo.get_by_test_id("pencil")).to_have_attribute("data-ids", ",".join(stroke))  # no reload
    ava.get_by_test_id("pencil-stamp").click()  # a breath mark, placed with a tap
    ava.get_by_test_id("pencil-stamp-breath").click()
    for control in ava.get_by_test_id("pencil-toolbar").locator("button").all():
        box = control.bounding_box()
        assert box and box["width"] >= 44 and box["height"] >= 44, control.get_attribute("aria-label")
    canvas = ava.get_by_test_id("pencil-canvas").first.bounding_box()
    assert canvas
    ava.mouse.click(canvas["x"] + canvas["width"] * 0.5, canvas["y"] + canvas["height"] * 0.45)
    expect(pencil).to_have_attribute("data-ids", re.compile(r"^[0-9a-f-]{36},[0-9a-f-]{36}$"))
    first = ids(ava)
    expect(theo.get_by_test_id("pencil")).to_have_attribute(
        "data-ids", re.compile("^" + "".join(f"(?=.*{i})" for i in first)))
    assert theo.evaluate("() => !!document.querySelector('[data-testid=pencil-canvas]').width")

    # outside pen mode the stand turns as before
    ava.get_by_test_id("pencil-done").click()
    expect(pencil).to_have_attribute("data-mode", "off")
    size = ava.viewport_size or {"width": 390, "height": 664}
    ava.touchscreen.tap(size["width"] * 0.9, size["height"] * 0.6)
    expect(ava.get_by_test_id("stand")).to_have_attribute("data-page", "1")
    ava.keyboard.press("ArrowLeft")
    expect(ava.get_by_test_id("stand")).to_have_attribute("data-page", "0")
    expect(pencil).to_have_attribute("data-ids", re.compile("^" + "".join(f"(?=.*{i})" for i in first)))

    # the network goes: Ava's mark stays on her phone, queued; Theo draws meanwhile
    proxy.cut()
    expect(ava.get_by_test_id("stand-offline")).to_be_visible()
    pen_on_part(ava)
    draw(ava, 0.2, 0.6, 0.6, 0.62)
    expect(pencil).to_have_attribute("data-pending", "1")
    offline_mark = ids(ava) - first
    assert len(offline_mark) == 1
    pen_on_part(theo)
    draw(theo, 0.3, 0.8, 0.7, 0.78)
    expect(theo.get_by_test_id("pencil")).to_have_attribute("data-pending", "0")
    concurrent = ids(theo) - first
    assert len(concurrent) == 1

    proxy.restore()
    expect(pencil).to_have_attribute("data-pending", "0", timeout=20_000)
    everything = first | offline_mark | concurrent
    for page in (ava, theo):
        expect(page.get_by_test_id("pencil")).to_have_attribute(
            "data-ids", re.compile("^" + "".join(f"(?=.*{i})" for i in everything)), timeout=15_000)
    ava.reload()  # what the server kept, read afresh
    expect(ava.get_by_test_id("pencil-canvas").first).to_be_attached()
    expect(ava.get_by_test_id("pencil")).to_have_attribute(
        "data-ids", re.compile("^" + "".join(f"(?=.*{i})" for i in everything)))

    # an area erased over every mark takes Ava's marks; Theo's is his (only he or a leader removes it)
    pen_on_part(ava)
    ava.get_by_test_id("pencil-area").click()
    draw(ava, 0.9, 0.85, 0.05, 0.25)  # from below the lowest mark (Theo's) to above the highest (0.9: the stand crops
    # the blank margin, so the page's far right isn't on screen; the drag goes on beyond it, the canvas has the pointer)
    for page in (ava, theo):
        expect(page.get_by_test_id("pencil")).to_have_attribute("data-ids", ",".join(concurrent))
    ava.get_by_test_id("pencil-undo").click()  # they come back, as copies (a deletion is final)
    four = re.compile(r"^([0-9a-f-]{36},){3}[0-9a-f-]{36}$")
    expect(ava.get_by_test_id("pencil")).to_have_attribute("data-ids", four)
    assert not ids(ava) & (first | offline_mark)
    move_an_earlier_mark(ava, theo, data, chart, ids(ava) - concurrent)
    link_and_jump(ava, theo)


def move_an_earlier_mark(ava: Page, theo: Page, data: str, chart: int, hers: set[str]) -> None:
    """A mark of Ava's from an earlier version (on page 2, which the file still has): flagged, brought to the page
    shown, then dragged; Theo sees every move; undo drags it back. Nothing is ever lost on the way."""
    child = {k: v for k, v in os.environ.items() if not k.startswith(("SOLEIL_", "NICEGUI_", "PYTEST_"))}
    made = subprocess.run([sys.executable, "-c", EARLIER_MARK, str(chart), sorted(hers)[0]], cwd=ROOT,
                          env={**child, "SOLEIL_DATA_DIR": data, "SOLEIL_SECRET_KEY": SECRET, "SOLEIL_DEMO": "0"},
                          capture_output=True, text=True, timeout=90, check=False)
    assert made.returncode == 0, made.stderr[-3000:]
    earlier = made.stdout.strip().splitlines()[-1]
    before = ids(ava)
    ava.reload()
    expect(ava.get_by_test_id("pencil-earlier")).to_contain_text("1 mark(s) from an earlier version")
    expect(ava.get_by_test_id("pencil")).to_have_attribute(
        "data-ids", re.compile("^" + "".join(f"(?=.*{i})" for i in before)))  # the flagged mark is on page 2
    assert ids(ava) == before
    ava.get_by_test_id("pencil-open").click()  # the flag shows the pen's button until it is dealt with
    ava.get_by_test_id("pencil-earlier-here").click()  # brought to page 1, where she reads
    expect(ava.get_by_test_id("pencil-earlier")).to_have_count(0)
    expect(ava.get_by_test_id("pencil")).to_have_attribute("data-pending", "0")
    brought = ids(ava) - before
    assert len(brought) == 1 and earlier not in brought
    expect(theo.get_by_test_id("pencil")).to_have_attribute("data-ids", re.compile(f"{next(iter(brought))}"))

    ava.get_by_test_id("pencil-move").click()
    draw(ava, 0.9, 0.7, 0.9, 0.55)  # picked up by its middle, 15 % higher
    expect(ava.get_by_test_id("pencil")).to_have_attribute("data-pending", "0")
    dragged = ids(ava) - before
    assert len(dragged) == 1 and dragged != brought
    kept = ava.evaluate(f"fetch('/annotations/{chart}').then((r) => r.json())")
    by_id = {s["id"]: s for s in kept["strokes"]}
    (x0, y0), (x1, y1) = by_id[next(iter(dragged))]["points"]
    assert abs(x0 - 0.86) < 0.01 and abs(x1 - 0.95) < 0.01 and abs(y0 - 0.55) < 0.02 and y0 == y1
    assert {earlier, *brought} <= set(kept["deleted"]) and not by_id[next(iter(dragged))]["earlier"]
    expect(theo.get_by_test_id("pencil")).to_have_attribute("data-ids", re.compile(f"{next(iter(dragged))}"))
    ava.get_by_test_id("pencil-undo").click()  # dragged back down, as another copy
    expect(ava.get_by_test_id("pencil")).to_have_attribute("data-pending", "0")
    back = ids(ava) - before
    assert len(back) == 1 and back != dragged
    kept = ava.evaluate(f"fetch('/annotations/{chart}').then((r) => r.json())")
    assert abs(next(s for s in kept["strokes"] if s["id"] in back)["points"][0][1] - 0.7) < 0.02


def test_marks_show_and_are_made_in_the_offline_stand_and_sent_when_the_app_is_back(
        new_context: Callable[..., Any], app: tuple[str, int, str], proxy: TcpProxy) -> None:
    page = new_context("iPhone 13").new_page()
    page.goto(proxy.url + "/login")
    page.get_by_role("button", name="Enter as Ava Brooks").click()
    expect(page.get_by_text("The Sunset Swing Band").first).to_be_visible(timeout=30_000)
    page.goto(proxy.url + "/offline-sets")
    card = page.locator("soleil-offline-set").first
    setlist_id = int(card.get_attribute("setlist") or 0)
    if card.get_attribute("data-state") == "none":
        card.get_by_role("button", name="Make available offline").click()
    expect(card).to_have_attribute("data-state", "ready", timeout=60_000)
    chart = page.evaluate(f"SoleilOffline.loadSet({setlist_id})")["songs"][0]["chart_id"]
    page.goto(f"{proxy.url}/stand/{chart}?setlist={setlist_id}")
    expect(page.get_by_test_id("pencil-canvas").first).to_be_attached(timeout=20_000)
    pencil = page.get_by_test_id("pencil")
    size = page.viewport_size or {"width": 390, "height": 664}
    page.touchscreen.tap(size["width"] / 2, size["height"] / 2)
    page.get_by_test_id("pencil-open").click()
    page.get_by_test_id("pencil-layer-mine").click()
    draw(page, 0.2, 0.2, 0.7, 0.25)
    expect(pencil).to_have_attribute("data-pending", "0")
    online_mark = ids(page)
    assert len(online_mark) == 1

    proxy.cut()
    page.reload()  # the tab was discarded: the offline stand opens, with the marks kept on the phone
    expect(page.locator("html[data-offline-stand]")).to_have_count(1)
    expect(pencil).to_have_attribute("data-ids", ",".join(online_mark))
    shown = page.get_by_test_id("stand-page-img").first.bounding_box()  # the offline stand crops too (the set's boxes)
    slot = page.get_by_test_id("stand-slot").first.bounding_box()
    assert shown and slot and shown["width"] > slot["width"] + 4
    page.touchscreen.tap(size["width"] / 2, size["height"] / 2)
    page.get_by_test_id("pencil-open").click()
    draw(page, 0.2, 0.5, 0.7, 0.55)
    expect(pencil).to_have_attribute("data-pending", "1")
    offline_mark = ids(page) - online_mark
    assert len(offline_mark) == 1

    proxy.restore()  # the offline stand sees the network and goes back to the app's stand, which sends the mark
    expect(page.locator("html[data-offline-stand]")).to_have_count(0, timeout=30_000)
    expect(pencil).to_have_attribute("data-pending", "0", timeout=20_000)
    kept = page.evaluate(f"fetch('/annotations/{chart}').then((r) => r.json())")
    assert {s["id"] for s in kept["strokes"]} >= online_mark | offline_mark


def link_and_jump(ava: Page, theo: Page) -> None:
    """The link tool: the sign tapped on page 1, the page turned in pen mode, the target tapped on page 2; outside pen
    mode the sign's 44 px button jumps there (on the section-mate's phone too) and Back returns."""
    pencil, stand = ava.get_by_test_id("pencil"), ava.get_by_test_id("stand")
    before = ids(ava)
    ava.get_by_test_id("pencil-link").click()
    canvas = ava.get_by_test_id("pencil-canvas").first.bounding_box()
    assert canvas
    ava.mouse.click(canvas["x"] + canvas["width"] * 0.3, canvas["y"] + canvas["height"] * 0.4)  # the D.S.
    expect(ava.get_by_test_id("pencil-linking")).to_contain_text("Now tap where it jumps to")
    ava.get_by_test_id("pencil-link-next").click()
    expect(stand).to_have_attribute("data-page", "1")
    ava.mouse.click(canvas["x"] + canvas["width"] * 0.5, canvas["y"] + canvas["height"] * 0.3)  # the segno
    expect(stand).to_have_attribute("data-page", "0")  # back at the sign, where the link is drawn
    expect(pencil).to_have_attribute("data-pending", "0")
    assert len(ids(ava) - before) == 1
    for page in (ava, theo):  # Theo still holds the pen from his mark: the jump waits until he is done
        page.get_by_test_id("pencil-done").click()
        jump = page.get_by_test_id("pencil-jump")
        expect(jump).to_have_attribute("aria-label", "Jump to page 2")
        box = jump.bounding_box()
        assert box and box["width"] >= 44 and box["height"] >= 44
        page_box = page.get_by_test_id("pencil-canvas").first.bounding_box()  # at the sign on the page, cropped or not
        assert page_box and abs(box["x"] + box["width"] / 2 - page_box["x"] - 0.3 * page_box["width"]) < 2
        assert abs(box["y"] + box["height"] / 2 - page_box["y"] - 0.4 * page_box["height"]) < 2
        jump.click()
        expect(page.get_by_test_id("stand")).to_have_attribute("data-page", "1")
        page.get_by_test_id("pencil-return").click()
        expect(page.get_by_test_id("stand")).to_have_attribute("data-page", "0")
        expect(page.get_by_test_id("pencil-return")).to_have_count(0)
