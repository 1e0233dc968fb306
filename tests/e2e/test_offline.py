"""Offline sets in Chromium on a phone, with the network cut for real.

The app runs as in production (main.py, demo band) behind ``TcpProxy``; the phone talks to the proxy, so cutting it
drops the page's websocket and every later connection, service-worker fetches included. The proxy counts the
connections that reach the server: none may while cut. Edits made "meanwhile" (a leader adding a song, going live
and calling a song) run in a separate interpreter against the server's database, as another device would.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
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
SECRET = "e2e-offline-" + "k" * 40
PRELUDE = """
import asyncio, json, sys
from sqlmodel import col, select
from soleil_ui.access import Actor
from soleil_ui.db import db
from soleil_ui.models import Membership, Role, Song, User
from soleil_ui.settings import get_settings

async def actor(name):
    async with db.session() as session:
        user = (await session.exec(select(User).where(User.name == name))).one()
        membership = (await session.exec(select(Membership).where(Membership.user_id == user.id)
                                         .order_by(col(Membership.id)))).first()
        return Actor(user.id, membership.band_id, membership.id, membership.role, user.name, user.email)

async def run():
    db.configure(get_settings().resolved_database_url)
    try:
        print(json.dumps(await main()))
    finally:
        await db.dispose()
"""


class App:
    def __init__(self, url: str, data_dir: Path) -> None:
        self.url, self.data_dir = url, data_dir
        self.port = int(url.rsplit(":", 1)[1])

    def core(self, code: str) -> Any:
        """Run ``async def main()`` (in ``code``) against the server's database in a fresh interpreter."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SOLEIL_", "NICEGUI_", "PYTEST_"))}
        env.update(SOLEIL_DATA_DIR=str(self.data_dir), SOLEIL_SECRET_KEY=SECRET, SOLEIL_DEMO="0")
        script = PRELUDE + textwrap.dedent(code) + "\nasyncio.run(run())\n"
        done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=90)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def app(session_live_server: Callable[..., str], tmp_path_factory: pytest.TempPathFactory,
        demo_library_dir: Path) -> App:
    data = tmp_path_factory.mktemp("offline") / "data"
    env = {"SOLEIL_DATA_DIR": str(data), "SOLEIL_DEMO": "1", "SOLEIL_LIBRARY_DIR": str(demo_library_dir),
           "SOLEIL_SYNC_INTERVAL": "0", "SOLEIL_SECRET_KEY": SECRET}
    url = session_live_server([str(ROOT / "main.py")], env, ready_path="/readyz", timeout=60)
    deadline = time.monotonic() + 60
    while "Ava Brooks" not in urllib.request.urlopen(url + "/login", timeout=5).read().decode():
        assert time.monotonic() < deadline, "the demo band was never seeded"
        time.sleep(0.2)  # polling a bounded deadline for the demo seeding
    return App(url, data)


@pytest.fixture
def proxy(app: App) -> Iterator[TcpProxy]:
    with TcpProxy(app.port) as running:
        yield running


def sign_in(page: Page, url: str, name: str) -> None:
    page.goto(url + "/login")
    page.get_by_role("button", name=f"Enter as {name}").click()
    expect(page.get_by_text("The Sunset Swing Band").first).to_be_visible()


def make_offline(page: Page, url: str) -> tuple[int, dict[str, Any]]:
    """Open the Offline sets screen, make the band's setlist available offline, return its id and manifest."""
    page.goto(url + "/offline-sets")
    card = page.locator("soleil-offline-set").first
    setlist_id = int(card.get_attribute("setlist") or 0)
    if card.get_attribute("data-state") == "none":  # else a leader's request already got it going
        card.get_by_role("button", name="Make available offline").click()
    expect(card).to_have_attribute("data-state", "ready", timeout=30_000)
    expect(card).to_contain_text(re.compile(r"Ready offline · \d+ songs · [\d.]+ MB"))
    expect(page.get_by_test_id("offline-storage")).to_contain_text("1 set on this device")
    return setlist_id, page.evaluate(f"SoleilOffline.loadSet({setlist_id})")


def toolbar(page: Page) -> None:
    size = page.viewport_size or {"width": 390, "height": 664}
    page.touchscreen.tap(size["width"] / 2, size["height"] / 2)
    expect(page.get_by_test_id("stand-toolbar")).to_be_visible()


def expect_song(page: Page, title: str, page_index: int, pages: int) -> None:
    stand = page.get_by_test_id("stand")
    expect(stand).to_have_attribute("aria-label", f"Chart: {title}")
    expect(stand).to_have_attribute("data-page", str(page_index))
    expect(stand).to_have_attribute("data-pages", str(pages))
    image = page.locator("[data-testid=stand-slot] img").first
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") > 0, f"{title} page {page_index + 1} did not load"


def test_a_set_made_offline_survives_a_dead_network_and_the_app_recovers(phone, app: App, proxy: TcpProxy) -> None:
    page = phone.new_page()
    sign_in(page, proxy.url, "Ava Brooks")
    setlist_id, manifest = make_offline(page, proxy.url)
    songs = manifest["songs"]
    assert len(songs) >= 5 and all(s["pages"] for s in songs)

    page.goto(f"{proxy.url}/stand/{songs[0]['chart_id']}?setlist={setlist_id}")
    expect_song(page, songs[0]["title"], 0, len(songs[0]["pages"]))
    reached = proxy.forwarded
    proxy.cut()  # the venue's Wi-Fi is gone: the websocket drops, nothing new connects
    offline = page.get_by_test_id("stand-offline")
    expect(offline).to_have_text(re.compile(r"^offline · last update (just now|1 min ago)$"))
    expect(page.locator("#popup")).to_be_hidden()  # no "Connection lost" box over the chart

    # every song of the set, every page: turned in the browser, images from the device
    for number, song in enumerate(songs):
        count = len(song["pages"])
        for index in range(count):
            expect_song(page, song["title"], index, count)
            if index + 1 < count:
                page.keyboard.press("ArrowRight")
        if number + 1 < len(songs):
            toolbar(page)
            page.get_by_test_id("stand-next-song").click()
    toolbar(page)  # night mode and zoom work too
    page.get_by_test_id("stand-night").click()
    expect(page.get_by_test_id("stand")).to_have_class(re.compile("sl-night"))
    page.keyboard.press("Escape")
    longest = max(range(len(songs)), key=lambda i: len(songs[i]["pages"]))
    for _ in range(len(songs) - 1 - longest):  # back to the longest song, on its second page
        toolbar(page)
        page.get_by_test_id("stand-prev-song").click()
    page.keyboard.press("ArrowRight")
    here = songs[longest]
    expect_song(page, here["title"], 1, len(here["pages"]))
    assert proxy.forwarded == reached, "a request reached the server while the network was cut"

    # a flap: the connection returns and the server catches up with the reader (same song, same page)
    proxy.restore()
    expect(page.get_by_test_id("stand")).to_have_attribute("data-online", "true", timeout=15_000)
    expect_song(page, here["title"], 1, len(here["pages"]))
    expect(offline).to_have_count(0)
    assert page.url.endswith(f"/stand/{here['chart_id']}?setlist={setlist_id}")
    reached = proxy.forwarded
    proxy.cut()
    expect(offline).to_be_visible()

    # meanwhile, on the leader's device: a song is added, the band goes live and the leader calls the second song
    meanwhile = app.core(f"""
        from soleil_ui.services import live, setlist_plan, setlists
        async def main():
            leader = await actor("Morgan Lee")
            async with db.session() as session:
                listed = {{e.song_id for e in await setlists.entries(session, leader, {setlist_id})}}
                extra = next(s for s in (await session.exec(select(Song).where(Song.band_id == leader.band_id)
                             .order_by(col(Song.title)))).all() if s.id not in listed)
                await setlists.add_song(session, leader, {setlist_id}, extra.id)
            async with db.session() as session:
                plan = await setlist_plan.stand_plan(session, leader, {setlist_id})
                await live.start(session, leader, {setlist_id}, item_id=plan.stops[1].item_id)
            return {{"added": extra.title, "called": plan.stops[1].title}}
    """)

    # the phone discards the tab: reopening the app with no network shows the offline stand, at the same place
    page.reload()
    expect(page.locator("html[data-offline-stand]")).to_have_count(1)
    expect_song(page, here["title"], 1, len(here["pages"]))
    expect(page.get_by_test_id("stand")).to_have_class(re.compile("sl-night"))
    expect(page.get_by_test_id("stand-offline")).to_contain_text("offline · last update")
    page.keyboard.press("ArrowLeft")
    expect_song(page, here["title"], 0, len(here["pages"]))
    toolbar(page)
    page.get_by_test_id("stand-next-song").click()
    after = songs[longest + 1]
    expect_song(page, after["title"], 0, len(after["pages"]))
    toolbar(page)
    page.get_by_test_id("stand-close").click()  # the list of offline sets, this song marked
    expect(page.get_by_test_id("offline-list")).to_contain_text(manifest["name"])
    expect(page.locator("[data-testid=offline-song].here")).to_contain_text(after["title"])
    page.get_by_test_id("offline-song").nth(longest).click()
    expect_song(page, here["title"], 0, len(here["pages"]))
    page.keyboard.press("ArrowRight")
    assert proxy.forwarded == reached, "a request reached the server while the network was cut"

    # the network returns: back in the live app at the reader's place, with what happened meanwhile
    proxy.restore()
    expect(page.locator("html[data-offline-stand]")).to_have_count(0, timeout=15_000)
    expect_song(page, here["title"], 1, len(here["pages"]))
    expect(page.get_by_test_id("stand-offline")).to_have_count(0)
    expect(page.get_by_test_id("live-chip")).to_contain_text(meanwhile["called"])  # the leader's call arrived
    page.goto(f"{proxy.url}/offline-sets")  # the stale copy says so and updates itself
    card = page.locator(f"soleil-offline-set[setlist='{setlist_id}']")
    expect(card).to_have_attribute("data-state", "ready", timeout=30_000)
    expect(card).to_contain_text(f"{len(songs) + 1} songs")
    refreshed = page.evaluate(f"SoleilOffline.loadSet({setlist_id})")
    assert refreshed["songs"][-1]["title"] == meanwhile["added"]
    assert refreshed["digest"] != manifest["digest"]


SECOND_BAND = """
    from pathlib import Path
    from soleil_ui import runtime
    from soleil_ui.models import LibrarySource
    from soleil_ui.services import members, setlists
    from soleil_ui.services.sync import sync_configured
    from tests.library_helpers import real_library

    async def main():
        rt = runtime.configure(get_settings())
        ava = await actor("Ava Brooks")
        folder = real_library(rt.settings.data_dir / "second-library")
        async with db.session() as session:
            band = await members.create_band(session, "Second Band")
            boss = await members.get_or_create_user(session, "boss@second.example", "Sam Second")
            lead = await members.add_member(session, band.id, boss.id, role=Role.LEADER,
                                            instruments=[{"instrument": "piano", "chair": None}])
            await members.add_member(session, band.id, ava.user_id, instruments=[{"instrument": "trumpet", "chair": 1}])
            session.add(LibrarySource(band_id=band.id, kind="local", location=str(folder)))
        await sync_configured(band.id, prerender=False)
        leader = Actor(boss.id, band.id, lead.id, Role.LEADER, boss.name, boss.email)
        async with db.session() as session:
            setlist = await setlists.create_setlist(session, leader, "Second Band's set")
            for title in ("Take Five", "Blue Train"):  # Take Five has a reference recording
                song = (await session.exec(select(Song).where(Song.band_id == band.id, Song.title == title))).one()
                await setlists.add_song(session, leader, setlist.id, song.id)
        rt.renderer.close()
        rt.engraver.close()
        return {"band": band.id, "setlist": setlist.id}
"""
# no-store: past the browser's HTTP cache (keyed by the session cookie: the same person after a band switch would
# get their own earlier copy from it), so only the service worker's choice and the server's answer count
STATUS = "url => fetch(url, {cache: 'no-store'}).then(r => r.status, () => 'network error')"
DEVICE_DATA = """() => caches.keys()
    .then(names => names.filter(n => n.startsWith('soleil-data-'))
    .concat(Object.keys(localStorage).filter(k => k === 'soleil.scope' || k === 'soleil.place')))"""

RANGE = """url => fetch(url, {cache: 'no-store', headers: {Range: 'bytes=0-3'}})
    .then(async r => [r.status, await r.text()])"""
WORKER_KNOWS = "() => caches.open('soleil-meta').then(c => c.match('/__soleil/scope')).then(r => r ? r.json() : null)"


def account_menu(page: Page, item: str) -> None:
    page.get_by_role("button", name="Account").click()
    page.get_by_text(item, exact=True).click()


def test_one_bands_images_never_reach_another_band_and_signing_out_clears_the_device(
        phone, new_context, app: App, proxy: TcpProxy) -> None:
    second = app.core(SECOND_BAND)
    page = phone.new_page()
    sign_in(page, proxy.url, "Ava Brooks")
    page.goto(proxy.url + "/offline-sets")
    card = page.locator("soleil-offline-set").first
    setlist_id = int(card.get_attribute("setlist") or 0)

    # the leader asks every device to prepare the set: Ava's open page gets it ready by itself
    leader = new_context().new_page()
    sign_in(leader, app.url, "Morgan Lee")
    leader.goto(f"{app.url}/offline-sets")
    leader.get_by_role("button", name="Ask every device to prepare").first.click()
    expect(leader.get_by_text("Everyone's devices were asked").first).to_be_visible()
    expect(card).to_have_attribute("data-state", "ready", timeout=30_000)
    band_one = page.evaluate(f"SoleilOffline.loadSet({setlist_id})")["songs"][0]["pages"][0]["src"]
    scope_one = page.evaluate("JSON.parse(localStorage.getItem('soleil.scope'))")
    assert page.evaluate(STATUS, band_one) == 200
    proxy.cut()
    assert page.evaluate(STATUS, band_one) == 200  # from the device
    proxy.restore()

    # the same person in another band: band one's images are not served from the device, online or off
    page.goto(proxy.url + "/")
    account_menu(page, "Switch to Second Band")
    expect(page.locator("header")).to_contain_text("Second Band")
    scope_two = page.evaluate("fetch('/pwa/scope').then(r => r.json())")["scope"]
    assert scope_two == f"b{second['band']}-u{scope_one.split('-u')[1]}" and scope_two != scope_one
    assert page.evaluate(STATUS, band_one) == 404  # the server's answer, not band one's cached copy
    proxy.cut()
    assert page.evaluate(STATUS, band_one) == "network error"
    proxy.restore()
    page.goto(proxy.url + "/offline-sets")
    theirs = page.locator(f"soleil-offline-set[setlist='{second['setlist']}']")
    theirs.get_by_label("with recordings").check()
    theirs.get_by_role("button", name="Make available offline").click()
    expect(theirs).to_have_attribute("data-state", "ready", timeout=30_000)
    expect(page.locator(f"soleil-offline-set[setlist='{setlist_id}']")).to_have_count(0)
    kept = page.evaluate(f"SoleilOffline.loadSet({second['setlist']})")
    band_two = kept["songs"][0]["pages"][0]["src"]
    recording = kept["songs"][0]["audio"][0]["url"]
    proxy.cut()  # the recording plays offline, seeking included (byte ranges from the kept copy)
    assert page.evaluate(RANGE, recording) == [206, "RIFF"]
    proxy.restore()
    assert {f"soleil-data-{scope_one}", f"soleil-data-{scope_two}"} <= set(page.evaluate(DEVICE_DATA))

    # signing out leaves nothing of hers on the device (the menu clears it before the session ends)
    account_menu(page, "Sign out")
    expect(page.get_by_role("button", name="Enter as Ava Brooks")).to_be_visible()
    assert page.evaluate(DEVICE_DATA) == []
    assert page.evaluate(WORKER_KNOWS) in (None, {"scope": None, "prepare": []})  # nobody, as far as it knows
    proxy.cut()
    assert page.evaluate(STATUS, band_two) == "network error"
    proxy.restore()

    # the leader's request still stands: signing in again gets the set ready on this device, unasked
    sign_in(page, proxy.url, "Ava Brooks")
    page.goto(proxy.url + "/offline-sets")
    expect(page.locator(f"soleil-offline-set[setlist='{setlist_id}']")).to_have_attribute(
        "data-state", "ready", timeout=30_000)


def test_plain_http_on_the_network_says_what_is_off_once(playwright, chromium_path: str, app: App) -> None:
    from tests.e2e.conftest import CHROMIUM_ARGS

    # a LAN name over plain HTTP: not a secure context, unlike 127.0.0.1
    browser = playwright.chromium.launch(executable_path=chromium_path, headless=True,
                                         args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP band.test 127.0.0.1"])
    try:
        page = browser.new_page()
        url = f"http://band.test:{app.port}"
        page.goto(url + "/login")
        banner = page.get_by_test_id("https-banner")
        expect(banner).to_contain_text("offline sets, keeping the screen on and Add to Home Screen are off")
        assert page.evaluate("SoleilOffline.supported") is False
        banner.get_by_role("button", name="Dismiss").click()
        expect(banner).to_have_count(0)
        page.goto(url + "/login")
        expect(page.get_by_role("button", name="Enter as Ava Brooks")).to_be_visible()
        expect(page.get_by_test_id("https-banner")).to_have_count(0)  # once
        page.get_by_role("button", name="Enter as Ava Brooks").click()
        expect(page.get_by_text("Hi Ava")).to_be_visible()
        page.goto(url + "/offline-sets")
        expect(page.locator("soleil-offline-set").first).to_have_attribute("data-state", "unsupported")
        page.locator("soleil-offline-set").first.get_by_role("link", name="How to turn it on").click()
        expect(page.get_by_role("heading", name="SOLEil needs HTTPS for offline sets")).to_be_visible()
    finally:
        browser.close()
