"""Accessibility in Chromium (issue 21): axe-core on every page, keyboard-only reading, and the stand's announcements.

One app (the demo band, seeded before it starts, plus a substitute for the demo gig) serves every test here:

- axe-core (vendored in ``vendor/``) runs on every page route at a phone viewport (390×844) as the leader, a member
  and a substitute, and on the states that only a tap shows: the account menu open, a setlist row's menu open, a
  dialog open, the stand's toolbar open in night mode, and signed out. Any critical or serious violation fails,
  and so does a page without a level-one heading or without ``<html lang>``. The routes come from the app's own
  ``@router.page`` declarations, so a new page is checked without anyone adding it here.
- On the same walk every visible button, input and stand-alone link is at least ``TAP_MIN_PX`` (44 px) both ways
  (issue 18); links inside a sentence are exempt.
- A member opens a song from a setlist and turns its pages with the keyboard alone, and shows the stand's toolbar.
- The setlist import's named upload button opens the file chooser (Quasar's own uploader box is hidden: it named
  neither its button nor its input), and the chosen CSV is read.
- The leader calls a song live: the member's stand announces it politely ("Now: …, your … part") and the document
  title follows the song.

The contexts bypass the Content-Security-Policy only so the axe script can be injected; test_csp_browser.py checks
the policy itself.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from components.design import TAP_MIN_PX
from tests.e2e.conftest import REPO_ROOT

pytestmark = pytest.mark.browser
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
VIEWPORT = {"width": 390, "height": 844}
PHONE = {"viewport": VIEWPORT, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
LEADER, MEMBER, SUB = "Morgan Lee", "Ava Brooks", "Sam Sub"
FAIL_ON = {"critical", "serious"}
SEED = f"""
import asyncio, json
from sqlmodel import select
from soleil_ui import runtime
from soleil_ui.db import db
from soleil_ui.demo import ensure_demo
from soleil_ui.models import Chart, Gig, Membership, Setlist, User
from soleil_ui.services import auth, gigs
from soleil_ui.settings import get_settings

async def seed():
    settings = get_settings()
    runtime.configure(settings)
    await db.migrate()
    band_id = await ensure_demo(settings)
    out = {{"people": {{}}}}
    async with db.session() as session:
        people = (await session.exec(select(User, Membership).join(Membership, Membership.user_id == User.id))).all()
        leader = next(m for u, m in people if u.name == {LEADER!r})
        actor = await auth.resolve(session, await auth.start_session(session, leader.user_id, band_id))
        gig = (await session.exec(select(Gig).order_by(Gig.id))).first()
        sub = await gigs.invite_sub(session, actor, gig.id, email="sam@elsewhere.org", name={SUB!r},
                                    instruments=[{{"instrument": "trombone", "chair": 2}}])
        user = await session.get(User, sub.user_id)
        user.is_demo = True  # so the demo sign-in page offers them: the test's way in
        session.add(user)
        await session.commit()
        for user, membership in (await session.exec(select(User, Membership).join(
                Membership, Membership.user_id == User.id))).all():
            out["people"][user.name] = user.id
        out["gig"] = gig.id
        out["setlist"] = gig.setlist_id or (await session.exec(select(Setlist.id).order_by(Setlist.id))).first()
        chart = (await session.exec(select(Chart).where(Chart.status == "ok", Chart.kind == "chart",
                                                        Chart.song_id.is_not(None)).order_by(Chart.id))).first()
        out["song"], out["chart"] = chart.song_id, chart.id
    runtime.get_runtime().renderer.close()
    await db.dispose()
    print("SEEDED " + json.dumps(out))

asyncio.run(seed())
"""
MEASURE = """(min) => {
  const seen = new Set(), small = [];
  const visible = (el) => {
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    // a 1 x 1 clipped control is for the keyboard only (the stand's "Stand controls" until it has the focus):
    // no finger can find it, so it is no tap target
    const keyboardOnly = r.width <= 1 && r.height <= 1 && s.position === 'absolute';
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none' && !keyboardOnly
      && !el.closest('[aria-hidden=true]');
  };
  const target = (el) => {
    if (el.matches('input[type=checkbox], input[type=radio]'))
      return el.closest('[role=checkbox],[role=radio],[role=switch],label') || el;
    if (el.matches('input, textarea, select')) return el.closest('.q-field__control') || el;
    return el;
  };
  const inSentence = (a) => {
    const parent = a.parentElement;
    return parent && parent.textContent.trim().length > a.textContent.trim().length + 1;
  };
  const controls = 'button, [role=button], a[href], input:not([type=hidden]), textarea, select, '
    + '[role=checkbox], [role=switch], [role=tab]';
  for (const el of document.querySelectorAll(controls)) {
    const t = target(el);
    if (seen.has(t) || !visible(t)) continue;
    seen.add(t);
    if (t.matches('a[href]') && !t.closest('.q-btn') && inSentence(t)) continue;
    const r = t.getBoundingClientRect();
    if (r.width < min - 0.5 || r.height < min - 0.5) {
      const name = (t.getAttribute('aria-label') || t.textContent || t.getAttribute('placeholder')
        || t.className || '').trim().slice(0, 40);
      small.push(`${t.tagName.toLowerCase()} "${name}" ${Math.round(r.width)}x${Math.round(r.height)}`);
    }
  }
  return small;
}"""

AXE_RUN = """async () => {
  const result = await axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) =>
    n.target.join(" ") + " :: " + (n.failureSummary || "").split("\\n").slice(1).join(" ")) }));
}"""


@pytest.fixture(scope="module")
def app(session_live_server: Callable[..., str], tmp_path_factory: pytest.TempPathFactory,
        demo_library_dir: Path) -> tuple[str, dict[str, Any]]:
    base = tmp_path_factory.mktemp("a11y-app")
    env = {"SOLEIL_DATA_DIR": str(base / "data"), "SOLEIL_DEMO": "1", "SOLEIL_LIBRARY_DIR": str(demo_library_dir),
           "SOLEIL_SYNC_INTERVAL": "0", "SOLEIL_SECRET_KEY": "e2e-a11y-" + "a" * 40, "SOLEIL_LOG_LEVEL": "WARNING",
           "SOLEIL_DATABASE_URL": f"sqlite+aiosqlite:///{base / 'data' / 'soleil.db'}"}
    child = {k: v for k, v in os.environ.items() if not k.startswith(("SOLEIL_", "NICEGUI_", "PYTEST_"))}
    done = subprocess.run([sys.executable, "-c", SEED], cwd=REPO_ROOT, env={**child, **env}, capture_output=True,
                          text=True, timeout=180, check=False)
    line = next((line for line in done.stdout.splitlines() if line.startswith("SEEDED ")), None)
    assert line, done.stdout + done.stderr
    url = session_live_server([str(REPO_ROOT / "main.py")], env, ready_path="/readyz", timeout=90)
    return url, json.loads(line.removeprefix("SEEDED "))


def page_routes() -> list[str]:
    """Every page the app declares (``@router.page("…")`` in pages/)."""
    found: list[str] = []
    for source in sorted((REPO_ROOT / "pages").glob("*.py")):
        found += re.findall(r'@router\.page\(\s*"([^"]+)"', source.read_text())
    return found


def pages(ids: dict[str, Any]) -> list[str]:
    """Every page route, with real ids, for every role (a refusal is a page too), and the two that read a query."""
    values = {"chart_id": ids["chart"], "setlist_id": ids["setlist"], "song_id": ids["song"], "gig_id": ids["gig"],
              "token": "not-a-link"}
    routes = [re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(values[m[1]]), route) for route in page_routes()]
    return [*routes, f"/stand/{ids['chart']}?setlist={ids['setlist']}", f"/offline-sets?setlist={ids['setlist']}"]


def small_targets(page: Page) -> list[str]:
    """The page's tap targets under ``TAP_MIN_PX``, measured once its fonts (the icons too) are in."""
    page.wait_for_function("() => document.fonts.status === 'loaded' && !document.querySelector('.q-spinner')",
                           timeout=30_000)
    result: list[str] = page.evaluate(MEASURE, TAP_MIN_PX)
    return result


ONCE = ["/library?q=a", "/songs/999999", "/offline", "/auth/logout"]


def sign_in(context: Any, url: str, user_id: int) -> Page:
    page = context.new_page()
    page.goto(f"{url}/auth/demo/{user_id}")  # asks; the button posts with the session's CSRF token
    page.get_by_role("button", name=re.compile("^Enter as")).click()
    expect(page).to_have_url(re.compile(r"/(welcome)?$"))
    return page


def visit(page: Page, url: str, *, navigate: bool = True) -> None:
    """Open ``url`` (or wait for the navigation already started to it) until the page works."""
    if navigate:
        response = page.goto(url, wait_until="commit")
        assert response is not None and response.status < 500, url
    page.wait_for_load_state("domcontentloaded")
    if not url.endswith(("/offline", "/auth/logout")):  # NiceGUI pages: wait until the socket is up
        page.wait_for_function("() => window.socket && window.socket.connected")


def start_axe(page: Page) -> None:
    """Start axe on what the page shows now, without waiting: the three roles' pages are checked side by side."""
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(path=str(AXE))
    page.evaluate(f"() => {{ window.__axe = null; ({AXE_RUN})().then((r) => (window.__axe = r)); }}")


def axe_result(page: Page, where: str, found: dict[str, list[str]], tally: dict[str, int]) -> None:
    """Note the started run's serious and critical violations, and a missing lang or a page without one h1."""
    page.wait_for_function("() => window.__axe !== null", timeout=30_000)
    problems = []
    for violation in page.evaluate("() => window.__axe"):
        if violation["impact"] in FAIL_ON:
            tally[violation["id"]] = tally.get(violation["id"], 0) + len(violation["nodes"])
            problems.append(f"{violation['id']} ({violation['impact']}): {violation['nodes'][:3]}")
    if not page.evaluate("() => !!document.documentElement.lang"):
        problems.append("no <html lang>")
    if page.locator("h1").count() != 1:
        problems.append(f"{page.locator('h1').count()} level-one headings")
    if problems:
        found[where] = problems


def axe(page: Page, where: str, found: dict[str, list[str]], tally: dict[str, int]) -> None:
    start_axe(page)
    axe_result(page, where, found, tally)


def test_leader_calls_a_song_and_the_stand_says_it(new_context: Callable[..., Any],
                                                   app: tuple[str, dict[str, Any]]) -> None:
    """First in this module on purpose: the axe test after it then sees the pages of a band that is live."""
    url, ids = app
    setlist = ids["setlist"]
    leader = sign_in(new_context(**PHONE), url, ids["people"][LEADER])
    member = sign_in(new_context(**PHONE), url, ids["people"][MEMBER])
    visit(leader, f"{url}/setlists/{setlist}")
    leader.get_by_role("button", name="Go live").click()
    visit(member, f"{url}/live/{setlist}")
    stand = member.get_by_test_id("stand")
    expect(stand).to_have_attribute("aria-label", re.compile("^Chart: .+"))
    first = (stand.get_attribute("aria-label") or "").removeprefix("Chart: ")
    expect(member).to_have_title(f"{first} · SOLEil")
    leader.get_by_role("button", name="Next song").click()
    expect(stand).not_to_have_attribute("aria-label", f"Chart: {first}")
    called = (stand.get_attribute("aria-label") or "").removeprefix("Chart: ")
    announce = member.get_by_test_id("stand-announce")
    expect(announce).to_have_attribute("aria-live", "polite")
    expect(announce).to_have_text(f"Now: {called}, your B♭ part")  # Ava plays trumpet: the B♭ part
    expect(member).to_have_title(f"{called} · SOLEil")
    expect(member.locator("h1")).to_have_text(called)  # the stand's heading, for screen readers, follows too

    member.context.set_offline(True)  # the device says it lost the network: said at once, and back again
    expect(announce).to_have_text("Offline: pages still turn")
    member.context.set_offline(False)
    expect(announce).to_have_text("Back online")


def test_a_song_opens_from_a_setlist_and_turns_by_keyboard_alone(new_context: Callable[..., Any],
                                                                 app: tuple[str, dict[str, Any]]) -> None:
    url, ids = app
    page = sign_in(new_context(viewport=VIEWPORT), url, ids["people"][MEMBER])
    visit(page, f"{url}/setlists/{ids['setlist']}")
    wanted = "Brass Tacks"  # two pages in the trumpet part
    for _ in range(60):  # Tab through the page to the song's row
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement?.dataset.testid === 'open-song' && "
                         f"document.activeElement.textContent.includes({wanted!r})"):
            break
    else:
        raise AssertionError(f"Tab never reached the row of {wanted}")
    page.keyboard.press("Enter")
    stand = page.get_by_test_id("stand")
    expect(stand).to_have_attribute("aria-label", f"Chart: {wanted}")
    expect(page).to_have_url(re.compile(r"/stand/\d+\?setlist="))
    expect(stand).to_have_attribute("data-pages", "2")
    page.keyboard.press("ArrowRight")  # the keys a pedal sends turn as before
    expect(stand).to_have_attribute("data-page", "1")
    page.keyboard.press("ArrowLeft")
    expect(stand).to_have_attribute("data-page", "0")

    page.keyboard.press("t")  # the toolbar, by key
    expect(page.get_by_test_id("stand-toolbar")).to_be_visible()
    for _ in range(20):  # ...and its buttons by Tab: the next page, pressed with Enter
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement?.dataset.testid === 'stand-next'"):
            break
    else:
        raise AssertionError("Tab never reached the toolbar's next-page button")
    page.keyboard.press("Enter")
    expect(stand).to_have_attribute("data-page", "1")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("stand-toolbar")).to_have_count(0)

    show = page.get_by_test_id("stand-show-controls")  # the focusable control: hidden until Tab reaches it
    show.focus()
    expect(show).to_be_visible()
    expect(show).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("stand-toolbar")).to_be_visible()
    expect(show).to_have_attribute("aria-expanded", "true")
    expect(stand).to_have_attribute("data-page", "1")  # Enter on the control pressed it, and turned no page
    page.keyboard.press("ArrowLeft")
    expect(stand).to_have_attribute("data-page", "0")


def test_the_named_upload_button_opens_the_file_chooser_and_the_csv_is_read(
        new_context: Callable[..., Any], app: tuple[str, dict[str, Any]]) -> None:
    url, ids = app
    page = sign_in(new_context(**PHONE), url, ids["people"][LEADER])
    visit(page, f"{url}/setlists/import")
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Or upload a CSV file").tap()
    assert chooser.value.element.get_attribute("accept") == ".csv,.tsv,.txt,text/csv"
    chooser.value.set_files(files=[{"name": "friday.csv", "mimeType": "text/csv",
                                    "buffer": b"Title\nBrass Tacks\nCafe Ole\nNo Such Tune\n"}])
    expect(page.get_by_text(re.compile(r"^2 found · 1 to check · 0 not found"))).to_be_visible()


def test_every_page_and_state_passes_axe_with_44px_tap_targets(new_context: Callable[..., Any],
                                                               app: tuple[str, dict[str, Any]]) -> None:
    url, ids = app
    found: dict[str, list[str]] = {}
    tally: dict[str, int] = {}
    signed_out = new_context(**PHONE, bypass_csp=True).new_page()
    visit(signed_out, url + "/login")
    axe(signed_out, "signed out: /login", found, tally)
    checked = 1
    people = {who: sign_in(new_context(**PHONE, bypass_csp=True), url, ids["people"][who])
              for who in (LEADER, MEMBER, SUB)}
    routes = pages(ids)
    assert {"/setlists/import", "/library", f"/live/{ids['setlist']}"} <= set(routes) and len(routes) > 20
    small: list[str] = []
    refused: set[str] = set()  # who has had a refusal checked: every leaders' page refuses a member the same way
    for path in routes + ONCE:  # the three at once: each step opens the route on every page, then checks each
        here = {who: page for who, page in people.items() if path in routes or who == LEADER}
        for who, page in list(here.items()):
            response = page.goto(url + path, wait_until="commit")
            assert response is not None and response.status < 500, (who, path)
            if response.status == 403:
                if who in refused:
                    del here[who]
                refused.add(who)
        for who, page in here.items():
            visit(page, url + path, navigate=False)
            small += [f"{who} {path}: {target}" for target in small_targets(page)]
            start_axe(page)
        for who, page in here.items():
            axe_result(page, f"{who}: {path}", found, tally)
            checked += 1
    for who, page in people.items():  # what a tap shows: the account menu; the stand's toolbar, in night mode
        visit(page, url + "/")
        page.get_by_role("button", name="Account").click()
        expect(page.get_by_role("menuitem", name="Profile")).to_be_visible()
        axe(page, f"{who}: / with the account menu open", found, tally)
        visit(page, f"{url}/stand/{ids['chart']}?setlist={ids['setlist']}")
        page.get_by_test_id("stand-viewport").click()  # a tap in the middle shows the toolbar
        page.get_by_test_id("stand-night").click()
        expect(page.get_by_test_id("stand")).to_have_class(re.compile("sl-night"))
        axe(page, f"{who}: the stand in night mode, toolbar open", found, tally)
        page.get_by_test_id("stand-night").click()  # day again (night mode is kept per member)
        checked += 2
    page = people[LEADER]  # a setlist row's menu, and the dialog it opens
    visit(page, f"{url}/setlists/{ids['setlist']}")
    page.locator(".sl-row[data-item-id]").nth(1).get_by_role("button", name="More").click()  # not the console's rows
    expect(page.get_by_role("menuitem", name="Key, note, duration")).to_be_visible()
    axe(page, f"{LEADER}: a setlist row's menu open", found, tally)
    page.get_by_role("menuitem", name="Key, note, duration").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    axe(page, f"{LEADER}: the song's dialog open", found, tally)
    checked += 2
    print(f"\naxe: {checked} page states; serious or critical violations by rule (elements): {tally or 'none'}")
    assert not found, "\n".join(f"{where}: {problems}" for where, problems in found.items())
    assert not small, f"{len(small)} tap targets under {TAP_MIN_PX} px:\n" + "\n".join(small)
