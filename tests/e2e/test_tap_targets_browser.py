"""Every page on a phone (390 × 844) as the leader, a member and a substitute: every visible button, input and
stand-alone link is at least ``TAP_MIN_PX`` (44 px) both ways (issue 18 point 2). Links inside a sentence are exempt.

The pages come from the app's own ``@router.page`` declarations, so a new page is measured without anyone adding it
here; path parameters get real ids from the seeded demo band.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from components.design import TAP_MIN_PX
from tests.e2e.conftest import REPO_ROOT
from tests.e2e.test_live_browser import app_env, live_server  # noqa: F401  (the graceful-stop server fixture)

pytestmark = pytest.mark.browser
PHONE_VIEWPORT = {"width": 390, "height": 844}
SEED = """
import asyncio, json
from datetime import timedelta
from sqlmodel import select
from soleil_ui import runtime
from soleil_ui.db import db
from soleil_ui.demo import ensure_demo
from soleil_ui.models import Chart, Gig, Membership, Role, Setlist, Song, User, utcnow
from soleil_ui.settings import get_settings

async def seed():
    settings = get_settings()
    runtime.configure(settings)
    await db.migrate()
    await ensure_demo(settings)
    async with db.session() as session:
        gig = (await session.exec(select(Gig).where(Gig.setlist_id != None).order_by(Gig.starts_at))).first()
        sub = User(email="sub@example.org", name="Sam Sub", is_demo=True)
        session.add(sub)
        await session.flush()
        session.add(Membership(band_id=gig.band_id, user_id=sub.id, role=Role.SUB, gig_id=gig.id,
                               instruments=[{"instrument": "trumpet", "chair": 2}],
                               expires_at=utcnow() + timedelta(days=30)))
        people = {u.name: u.id for u in (await session.exec(select(User))).all()}
        chart = (await session.exec(select(Chart).where(Chart.song_id != None, Chart.status == "ok"))).first()
        out = {"people": people, "gig": gig.id, "setlist": gig.setlist_id, "song": chart.song_id,
               "chart": chart.id}
        await session.commit()
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


def page_routes() -> list[str]:
    """Every page the app declares (``@router.page("…")`` in pages/)."""
    found: list[str] = []
    for source in sorted((REPO_ROOT / "pages").glob("*.py")):
        found += re.findall(r'@router\.page\(\s*"([^"]+)"', source.read_text())
    return found


def seed(env: dict[str, str]) -> dict[str, Any]:
    child = {k: v for k, v in os.environ.items() if not k.startswith(("SOLEIL_", "NICEGUI_", "PYTEST_"))}
    done = subprocess.run([sys.executable, "-c", SEED], cwd=REPO_ROOT, env={**child, **env}, capture_output=True,
                          text=True, timeout=180, check=False)
    line = next((line for line in done.stdout.splitlines() if line.startswith("SEEDED ")), None)
    assert line, done.stdout + done.stderr
    return json.loads(line.removeprefix("SEEDED "))


def fill(route: str, ids: dict[str, Any]) -> str:
    values = {"chart_id": ids["chart"], "setlist_id": ids["setlist"], "song_id": ids["song"], "gig_id": ids["gig"],
              "token": "not-a-real-invite"}
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(values[m[1]]), route)


def settled(page: Page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded", timeout=60_000)
    page.wait_for_load_state("networkidle", timeout=60_000)
    page.wait_for_function("() => document.fonts.status === 'loaded' && !document.querySelector('.q-spinner')",
                           timeout=60_000)


def test_every_page_has_44px_tap_targets_on_a_phone(live_server: Any, new_context: Any,
                                                     tmp_path: Path, demo_library_dir: Path) -> None:
    env = app_env(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'data' / 'soleil.db'}", demo_library_dir)
    ids = seed(env)
    url = live_server(["main.py"], env, "/readyz", timeout=90)
    routes = page_routes()
    assert "/setlists/import" in routes and "/library" in routes and len(routes) > 15
    problems: list[str] = []
    for person in ("Morgan Lee", "Ava Brooks", "Sam Sub"):
        context = new_context(viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True, device_scale_factor=3)
        page = context.new_page()
        page.goto(f"{url}/auth/demo/{ids['people'][person]}")
        page.get_by_role("button", name=re.compile("^Enter as")).click()
        page.wait_for_url(lambda u: "/auth/" not in u, timeout=60_000)
        for route in routes:
            settled(page, url + fill(route, ids))
            problems += [f"{person} {route}: {small}" for small in page.evaluate(MEASURE, TAP_MIN_PX)]
        context.close()
    assert not problems, f"{len(problems)} tap targets under {TAP_MIN_PX} px:\n" + "\n".join(problems)
