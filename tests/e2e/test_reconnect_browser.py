"""A live set through network cuts, in Chromium: the phone (or the leader's tablet) talks to the app through a
``TcpProxy`` the test cuts, refusing connections or holding them silent, with a 7 s reconnect window and a 2 s + 2 s
heartbeat, so 1 s cuts are bridged by NiceGUI's message replay and 11 s cuts end in a reload (a short window keeps the
real outages short; the margins either side of it are about those a 10 s window gave 5 s and 15 s cuts).

After every cut the follower shows the song called meanwhile and follows the next call; a reader who browsed to
another song while cut off stays there (and the leader's console says so); a page frozen by the browser catches up
when it resumes; the offline stand (the app reopened with no network) hands back to the live stand. The leader's
console, cut off, disables its calls and sends nothing tapped meanwhile; reloaded into a live set it still calls and
ends it. Every live page can be reloaded and opened in a second tab mid-set, and a song added mid-set says so in the
tab that added it. Two app processes in all (the cuts are most of the wall time).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PHONE, TABLET
from tests.e2e.tcp_proxy import TcpProxy
from tests.e2e.test_live_browser import app_env, expect_stand, open_setlist, seed, sign_in
from tests.e2e.test_offline import make_offline

pytestmark = pytest.mark.browser
WINDOW = 7  # s: the reconnect window of this app
# s: a cut within the window, a cut beyond it (on top of each wait the cut lasts while the page notices it, up to the
# 4 s heartbeat, and while the leader calls; the live pages retry within 2 s of the network's return)
SHORT, LONG = 1, 11
HEARTBEAT = {"SOLEIL_RECONNECT_TIMEOUT": str(WINDOW), "SOLEIL_PING_INTERVAL": "2", "SOLEIL_PING_TIMEOUT": "2"}
READER = "Ava Brooks"  # trumpet
DETECT_MS = 15_000  # a silent link is noticed within the heartbeat (4 s); room for a loaded machine
BACK_MS = 20_000  # socket.io retries with a growing delay (up to 7.5 s) once the link returns; a reload on top


class Gig:
    """The app, the leader's console (tablet, direct), and what the seed said about the setlist."""

    def __init__(self, url: str, seeded: dict[str, Any], leader: Page) -> None:
        self.url, self.seeded, self.leader = url, seeded, leader
        self.setlist = seeded["setlist"]
        self.titles: list[str] = list(seeded["songs"].values())  # in the setlist's order
        self.now = 0  # index of the song called last
        self.way = 1  # the leader calls down the list, then back up (more calls than songs)

    def chart(self, title: str, name: str = READER) -> int:
        return self.seeded["plans"][name][title]

    def call_next(self, console: Page | None = None) -> None:
        page = console or self.leader
        if not 0 <= self.now + self.way < len(self.titles):
            self.way = -self.way
        page.get_by_test_id("live-next" if self.way > 0 else "live-prev").click()
        self.now += self.way
        expect(page.get_by_text(re.compile(rf"^Now: {re.escape(self.titles[self.now])}( ·|$)"))).to_be_visible()

    def expect_follows(self, page: Page) -> None:
        """The page shows the called song and, attached, takes the next call."""
        if page.get_by_test_id("stand").count():
            expect(page.get_by_test_id("stand")).to_have_attribute("data-online", "true", timeout=BACK_MS)
        title = self.titles[self.now]
        expect_stand(page, title, self.chart(title))
        expect(page.get_by_test_id("live-chip")).to_have_attribute("data-state", "following")
        expect(self.leader.get_by_label(f"{READER}: following")).to_be_visible()
        self.call_next()
        title = self.titles[self.now]
        expect_stand(page, title, self.chart(title))


def device(new_context: Any, name: str) -> Any:
    """A browser context whose page loads may take a while: a stand engraves its set's parts on first open, and this
    machine may be busy (loads wait for the HTML only; the tests then wait for what they look at)."""
    context = new_context(name)
    context.set_default_navigation_timeout(30_000)
    return context


def visit(page: Page, url: str) -> Any:
    return page.goto(url, wait_until="commit")


def shown_page(page: Page) -> Any:
    """The part of the first page on screen: its image, clipped by its slot (a cropped page's image is larger than
    the slot that shows its music)."""
    img = page.locator("[data-testid=stand-slot] img").first.bounding_box()
    slot = page.locator("[data-testid=stand-slot]").first.bounding_box()
    assert img and slot
    x0, y0 = max(img["x"], slot["x"]), max(img["y"], slot["y"])
    x1 = min(img["x"] + img["width"], slot["x"] + slot["width"])
    y1 = min(img["y"] + img["height"], slot["y"] + slot["height"])
    return {"x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0}


def boxes_apart(page: Page, *test_ids: str) -> None:
    """None of these elements overlaps another (the chip never covers the offline label or the chart)."""
    found = [page.get_by_test_id(t).bounding_box() if t != "page" else shown_page(page) for t in test_ids]
    for i, a in enumerate(found):
        for b in found[i + 1:]:
            assert a and b
            apart = (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                     or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])
            assert apart, f"{test_ids}: {found}"


def cut_off(proxy: TcpProxy, how: str) -> None:
    proxy.cut() if how == "refuse" else proxy.hold()


def expect_offline(page: Page) -> None:
    expect(page.get_by_test_id("stand")).to_have_attribute("data-online", "false", timeout=DETECT_MS)
    expect(page.get_by_test_id("live-chip-cut")).to_be_visible()  # the chip says calls can't reach the reader
    expect(page.get_by_test_id("live-chip-text")).to_be_hidden()
    boxes_apart(page, "live-chip", "stand-offline", "stand-indicator", "page")


def mark_document(page: Page) -> None:
    page.evaluate("() => { window.__sameDocument = true }")


def same_document(page: Page) -> bool:
    return page.evaluate("() => window.__sameDocument === true")


def step_song(page: Page, which: str) -> None:
    size = page.viewport_size or {"width": 390, "height": 664}
    page.touchscreen.tap(size["width"] / 2, size["height"] / 2)
    page.get_by_test_id(f"stand-{which}-song").click()


@pytest.fixture
def gig(live_server: Any, new_context: Any, tmp_path: Path, demo_library_dir: Path) -> Iterator[Gig]:
    env = {**app_env(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'data' / 'soleil.db'}", demo_library_dir),
           **HEARTBEAT}
    seeded = seed(env)
    url = live_server(["main.py"], env, "/readyz")
    leader = sign_in(device(new_context, TABLET), url, seeded["people"]["Morgan Lee"])
    open_setlist(leader, url, seeded["setlist"])
    leader.get_by_role("button", name="Go live").click()
    gig = Gig(url, seeded, leader)
    expect(leader.get_by_text(re.compile(rf"^Now: {re.escape(gig.titles[0])}"))).to_be_visible()
    yield gig


def test_a_follower_keeps_following_through_cuts_and_a_frozen_page(gig: Gig, new_context: Any) -> None:
    with TcpProxy(int(gig.url.rsplit(":", 1)[1])) as proxy:
        phone = sign_in(device(new_context, PHONE), proxy.url, gig.seeded["people"][READER])
        visit(phone, f"{proxy.url}/live/{gig.setlist}")
        gig.expect_follows(phone)
        for how in ("refuse", "hold"):
            for seconds in (SHORT, LONG):
                mark_document(phone)
                cut_off(proxy, how)
                expect_offline(phone)
                gig.call_next()  # called while the phone can't hear it
                phone.wait_for_timeout(seconds * 1000)  # the outage itself
                proxy.restore()
                gig.expect_follows(phone)  # the song called meanwhile, then the next call
                assert same_document(phone) == (seconds < WINDOW), f"{how} {seconds} s"  # replay, or a reload

        # browsing away while cut off: the reader stays on their song, detached, and the console says so
        cut_off(proxy, "refuse")
        expect_offline(phone)
        step_song(phone, "prev" if gig.way > 0 else "next")  # works offline: the stand has the whole set
        mine = gig.titles[gig.now - gig.way]  # away from where the leader goes next
        expect(phone.get_by_test_id("stand")).to_have_attribute("aria-label", f"Chart: {mine}")
        gig.call_next()
        phone.wait_for_timeout(SHORT * 1000)
        proxy.restore()
        expect(phone.get_by_test_id("stand")).to_have_attribute("data-online", "true", timeout=BACK_MS)
        expect(phone.get_by_test_id("live-chip")).to_have_attribute("data-state", "detached")
        expect(gig.leader.get_by_label(f"{READER}: detached")).to_be_visible()
        gig.call_next()
        expect(phone.get_by_test_id("live-chip-text")).to_have_text(
            re.compile(rf"Live: {re.escape(gig.titles[gig.now])}"))
        expect_stand(phone, mine, gig.chart(mine))  # never dragged back
        phone.get_by_test_id("live-chip-action").click()  # "Back to live"
        gig.expect_follows(phone)

        # beyond the window too: the reload opens at the reader's own song, not the called one
        step_song(phone, "prev" if gig.way > 0 else "next")
        mine = gig.titles[gig.now - gig.way]
        expect(gig.leader.get_by_label(f"{READER}: detached")).to_be_visible()
        mark_document(phone)
        cut_off(proxy, "refuse")
        expect_offline(phone)
        gig.call_next()
        phone.wait_for_timeout(LONG * 1000)
        proxy.restore()
        phone.wait_for_function("() => window.__sameDocument !== true", timeout=BACK_MS)  # beyond the window: reload
        expect(phone.get_by_test_id("stand")).to_have_attribute("data-online", "true", timeout=BACK_MS)
        expect(phone.get_by_test_id("live-chip")).to_have_attribute("data-state", "detached")
        expect_stand(phone, mine, gig.chart(mine))
        expect(gig.leader.get_by_label(f"{READER}: detached")).to_be_visible()
        phone.get_by_test_id("live-chip-action").click()
        gig.expect_follows(phone)

        # the phone closed the app and reopens it with no network: the offline stand; back online, it hands back to
        # the live stand, which shows the song called meanwhile and follows
        make_offline(phone, proxy.url)
        visit(phone, f"{proxy.url}/live/{gig.setlist}")
        gig.expect_follows(phone)
        cut_off(proxy, "refuse")
        expect_offline(phone)
        phone.reload()
        expect(phone.locator("html[data-offline-stand]")).to_have_count(1)
        gig.call_next()
        proxy.restore()
        expect(phone.locator("html[data-offline-stand]")).to_have_count(0, timeout=BACK_MS)
        gig.expect_follows(phone)

    # a page the browser froze (a phone's tab in the background) catches up when it resumes
    direct = sign_in(device(new_context, PHONE), gig.url, gig.seeded["people"][READER])
    visit(direct, f"{gig.url}/live/{gig.setlist}")
    gig.expect_follows(direct)
    cdp = direct.context.new_cdp_session(direct)
    cdp.send("Page.setWebLifecycleState", {"state": "frozen"})
    gig.call_next()
    direct.wait_for_timeout(6000)  # longer than the heartbeat: the server sees the page go
    cdp.send("Page.setWebLifecycleState", {"state": "active"})
    gig.expect_follows(direct)


def test_the_leaders_console_through_cuts_reloads_and_second_tabs(gig: Gig, new_context: Any) -> None:
    member = sign_in(device(new_context, PHONE), gig.url, gig.seeded["people"][READER])
    visit(member, f"{gig.url}/live/{gig.setlist}")
    gig.expect_follows(member)
    gig.leader.close()
    with TcpProxy(int(gig.url.rsplit(":", 1)[1])) as proxy:
        console = sign_in(device(new_context, TABLET), proxy.url, gig.seeded["people"]["Morgan Lee"])
        open_setlist(console, proxy.url, gig.setlist)  # a reload into the live set: the console, not an error
        gig.leader = console
        expect(console.get_by_test_id("live-next")).to_be_enabled()
        # both ways a link fails (refused: seen at once; held: seen by the heartbeat), on both sides of the window
        # (the follower's test above goes through all four)
        for how, seconds in (("refuse", SHORT), ("hold", LONG)):
            cut_off(proxy, how)
            expect(console.get_by_test_id("live-next")).to_be_disabled(timeout=DETECT_MS)
            expect(console.get_by_test_id("console-cut")).to_be_visible()
            # a tap that gets through the disabled button anyway is not queued for later
            console.evaluate("() => { const b = document.querySelector('[data-testid=live-next]');"
                             " b.disabled = false; b.click(); }")
            console.wait_for_timeout(seconds * 1000)
            proxy.restore()
            expect(console.get_by_test_id("live-next")).to_be_enabled(timeout=BACK_MS)
            expect(console.get_by_test_id("console-cut")).to_be_hidden()
            # the console itself still shows the song called before the cut: the tap made while cut off was never sent
            expect(console.get_by_text(re.compile(rf"^Now: {re.escape(gig.titles[gig.now])}( ·|$)"))).to_be_visible()
            gig.expect_follows(member)  # and the reader, who never lost the link, is there too and takes the next call
        reload_everything(gig, new_context)
        console.get_by_test_id("end-live").click()  # the console reloaded through a cut still ends the set
        expect(console.get_by_test_id("go-live")).to_be_visible()
        expect(member.get_by_test_id("live-chip")).to_be_hidden()


def reload_everything(gig: Gig, new_context: Any) -> None:
    """Mid-set: every live page answers, twice, in two tabs each; a song added from the picker says so."""
    # the confirmation shows in the tab that added the song (it used to be lost: no slot to show it from)
    gig.leader.get_by_role("button", name="Add songs").click()
    pick = gig.leader.locator(".q-dialog .q-item").first
    picked = pick.locator(".q-item__label").first.inner_text()
    pick.click()
    expect(gig.leader.locator(".q-notification").filter(has_text=f"Added {picked}")).to_be_visible()
    gig.leader.get_by_role("button", name="Done").click()
    gig.call_next()
    title = gig.titles[gig.now]
    member_context = device(new_context, PHONE)
    member = sign_in(member_context, gig.url, gig.seeded["people"][READER])
    pages = {
        "leader's setlist": (gig.leader.context, f"/setlists/{gig.setlist}", "live-next"),
        "member's setlist": (member_context, f"/setlists/{gig.setlist}", "Follow"),
        "live stand": (member_context, f"/live/{gig.setlist}", "stand"),
        "setlist stand": (member_context, f"/stand/{gig.chart(title)}?setlist={gig.setlist}", "stand"),
        "home": (member_context, "/", "Follow"),
    }
    for name, (context, path, mark) in pages.items():
        tabs = [context.new_page(), context.new_page()]
        for tab in tabs:
            for _ in range(2):  # opened, then reloaded
                first = tab.url == "about:blank"  # the chart images may still be rendering: don't wait for them
                response = tab.goto(gig.url + path, wait_until="commit") if first else tab.reload(wait_until="commit")
                assert response is not None and response.status == 200, f"{name}: {response and response.status}"
                if mark == "Follow":
                    expect(tab.get_by_role("button", name="Follow")).to_be_visible()
                    expect(tab.get_by_text(f"Now: {title}")).to_be_visible()
                elif mark == "stand":
                    expect_stand(tab, title, gig.chart(title))
                else:
                    expect(tab.get_by_test_id(mark)).to_be_enabled()
        for tab in tabs:
            tab.close()
    member.close()
