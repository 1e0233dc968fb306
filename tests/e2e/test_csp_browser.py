"""The Content-Security-Policy in Chromium: every page of the demo app, as its leader, with no CSP violation.

Each page is opened in a phone context that records ``securitypolicyviolation`` events (installed before any page
script runs) and console messages; the page's websocket must connect under ``connect-src 'self'`` (the live
connection shows no "Offline" chip and a tap reaches the server). The profile's tokens, the files screen's correction
dialog and the API's Swagger UI (/api/docs) are used as well. Sign-out from the account menu then posts its
form (``form-action 'self'``) and lands on sign-in.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PHONE
from tests.e2e.test_generated_browser import wait_for
from tests.library_helpers import real_library

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
RECORD = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) =>
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`));
"""


@pytest.fixture(scope="module")
def app(session_live_server: Callable[..., str], tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    base = tmp_path_factory.mktemp("csp-app")
    library = real_library(base / "library")
    shutil.copy(ROOT / "tests" / "fixtures" / "notation" / "Tune.musicxml", library / "Tune.musicxml")
    env = {"SOLEIL_DATA_DIR": str(base / "data"), "SOLEIL_DEMO": "1", "SOLEIL_LIBRARY_DIR": str(library),
           "SOLEIL_SYNC_INTERVAL": "0", "SOLEIL_SECRET_KEY": "e2e-" + "c" * 40}
    url = session_live_server([str(ROOT / "main.py")], env, ready_path="/readyz", timeout=90)
    return url, base / "data" / "soleil.db"


def _pages(db_path: Path) -> list[str]:
    """Every page of the app a leader can open, with real ids."""
    [(setlist,)] = wait_for(db_path, "SELECT id FROM setlist ORDER BY id LIMIT 1")
    [(gig,)] = wait_for(db_path, "SELECT id FROM gig ORDER BY id LIMIT 1")
    [(song, chart)] = wait_for(db_path, "SELECT song_id, id FROM chart WHERE status = 'ok' AND kind = 'chart' "
                                        "AND song_id IS NOT NULL ORDER BY id LIMIT 1")
    [(engraved,)] = wait_for(db_path, "SELECT id FROM chart WHERE kind = 'notation' AND status = 'ok' LIMIT 1")
    return ["/", "/library", "/library?q=take", "/library/files", f"/songs/{song}", f"/stand/{chart}",
            f"/stand/{engraved}", f"/stand/{chart}?setlist={setlist}", "/setlists", f"/setlists/{setlist}",
            f"/live/{setlist}", "/gigs", "/gigs/new", f"/gigs/{gig}", f"/gigs/{gig}/edit", "/members", "/profile",
            "/welcome", "/offline-sets", f"/offline-sets?setlist={setlist}", "/bands", "/songs/999999",
            "/join/not-a-link", "/offline", "/pwa/https", "/auth/logout"]


def _violations(page: Page) -> list[str]:
    return list(page.evaluate("window.__csp || []"))


def test_every_page_runs_under_the_policy_with_no_violation(new_context: Callable[..., Any],
                                                            app: tuple[str, Path]) -> None:
    url, db_path = app
    context = new_context(PHONE)
    context.add_init_script(RECORD)
    console: list[str] = []
    page = context.new_page()
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    [(leader,)] = wait_for(db_path, "SELECT u.name FROM user_account u JOIN membership m ON m.user_id = u.id "
                                    "WHERE m.role = 'leader' AND u.is_demo")
    page.goto(url + "/login")
    assert _violations(page) == []
    page.get_by_role("button", name=f"Enter as {leader}").click()
    expect(page.get_by_text("The Sunset Swing Band").first).to_be_visible()
    found: dict[str, list[str]] = {}
    for path in _pages(db_path):
        response = page.goto(url + path)
        assert response is not None and response.status < 500, (path, response and response.status)
        assert "content-security-policy" in response.headers, path
        page.wait_for_load_state("load")
        if "/offline" != path and not path.startswith(("/pwa/", "/auth/")):  # NiceGUI pages: the socket is up
            page.wait_for_function("() => window.socket && window.socket.connected")
        if _violations(page):
            found[path] = _violations(page)
    assert not found and not console, (found, console[:5])

    # the screens other branches added, used, not only opened: a token made on the profile, the files screen's
    # correction dialog, and the API's documentation (Swagger UI's bundle evaluates code: 'unsafe-eval')
    page.goto(url + "/profile")
    expect(page.get_by_text("Tokens for apps and assistants")).to_be_visible()
    page.get_by_label("Token name").fill("CSP check")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_text("Copy it now")).to_be_visible()
    page.goto(url + "/library/files")
    page.get_by_role("button", name="Correct…").first.click()
    expect(page.get_by_label("Song title")).to_be_visible()
    page.keyboard.press("Escape")
    docs = page.goto(url + "/api/docs")
    assert docs is not None and docs.status == 200 and "content-security-policy" in docs.headers
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("SOLEil API")
    page.locator(".opblock-summary").first.click()  # an operation opens (Swagger's own scripts at work)
    expect(page.locator(".opblock-body").first).to_be_visible()
    assert _violations(page) == [] and not console, (_violations(page), console[:5])

    page.goto(url + "/gigs")
    page.wait_for_function("() => window.socket && window.socket.connected")
    page.get_by_role("button", name="Account").click()
    page.locator(".q-menu").get_by_text("Sign out", exact=True).click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("button", name=f"Enter as {leader}")).to_be_visible()
    page.goto(url + "/library")
    expect(page).to_have_url(re.compile(r"/login$"))  # really signed out
    assert _violations(page) == [] and not console
