"""A follower's phone through real network cuts on PostgreSQL, with the shipped reconnect window (120 s).

The app runs as shipped (``main.py``, PostgreSQL, default ``SOLEIL_RECONNECT_TIMEOUT`` and heartbeat); the phone
(Chromium, iPhone viewport) talks to it through ``tests/e2e/tcp_proxy.TcpProxy``; the leader's tablet talks to it
directly. For each cut (30 s: within the window, bridged by NiceGUI's replay; 150 s: beyond it, the page reloads) the
leader calls the next song while the phone is cut off, then the link returns. Figures: seconds from the link's return
until the phone shows the song called meanwhile, and from the leader's next call until the phone shows that one (it
still follows), and whether the page kept its document (replay) or reloaded.

``python -m bench.bench_reconnect [30] [150]``: both cuts by default (about 4 minutes, most of it the cuts). Needs
PostgreSQL on 127.0.0.1:5432 (trust, user ``postgres``); the run creates and drops its own database.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import asyncpg

from bench.common import (
    REPO_ROOT,
    SECRET,
    Report,
    Target,
    device,
    free_port,
    launch_chromium,
    parts_wanted,
    temp_dir,
    wait_until,
)
from tests.e2e.tcp_proxy import TcpProxy

CUTS = {"30": 30, "150": 150}
WINDOW = 120.0  # the shipped SOLEIL_RECONNECT_TIMEOUT
PG = "postgresql://postgres@127.0.0.1:5432/"
READER, LEADER = "Ava Brooks", "Morgan Lee"


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG + "postgres", timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _setlist(name: str) -> int | None:
    """The demo setlist, once the demo band is seeded (its gig comes last)."""
    conn = await asyncpg.connect(PG + name, timeout=5)
    try:
        if await conn.fetchval("SELECT to_regclass('gig')") is None or not await conn.fetchval("SELECT id FROM gig"):
            return None
        return await conn.fetchval("SELECT id FROM setlist ORDER BY id LIMIT 1")
    finally:
        await conn.close()


def _start(tmp: Path, database: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOLEIL_", "NICEGUI_", "PYTEST_"))}
    env.update(SOLEIL_DATA_DIR=str(tmp / "data"), SOLEIL_DATABASE_URL=f"postgresql+asyncpg://postgres@127.0.0.1:5432/"
               f"{database}", SOLEIL_SECRET_KEY=SECRET, SOLEIL_DEMO="1", SOLEIL_SYNC_INTERVAL="0",
               SOLEIL_HOST="127.0.0.1", SOLEIL_PORT=str(port), SOLEIL_LOG_LEVEL="WARNING",
               NICEGUI_STORAGE_PATH=str(tmp / "nicegui"), PYTHONUNBUFFERED="1")
    log = (tmp / "server.log").open("wb")
    process = subprocess.Popen([sys.executable, str(REPO_ROOT / "main.py")], cwd=tmp, env=env, stdout=log,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if process.poll() is not None:
            raise RuntimeError((tmp / "server.log").read_text(errors="replace"))
        try:
            return READER in urllib.request.urlopen(url + "/login", timeout=2).read().decode()
        except OSError:
            return False

    wait_until(ready, 120, "the app with its demo band")
    return process, url


def _sign_in(page: Any, url: str, name: str) -> None:
    page.goto(url + "/login")
    page.get_by_role("button", name=f"Enter as {name}").click()
    page.wait_for_url(re.compile(r"/$"))


def _shows(page: Any, title: str, timeout: float) -> float:
    """Seconds until the phone's stand shows ``title`` (polled every 50 ms in the page itself)."""
    start = time.monotonic()
    page.wait_for_function("t => document.querySelector('[data-testid=stand]')?.getAttribute('aria-label') === "
                           "'Chart: ' + t", arg=title, timeout=timeout * 1000, polling=50)
    return time.monotonic() - start


def _call(leader: Any) -> str:
    """The leader's "Next song"; the title the console then says is playing."""
    now = leader.get_by_test_id("console-now")
    before = now.inner_text()
    leader.get_by_test_id("live-next").click()
    leader.wait_for_function("b => document.querySelector('[data-testid=console-now]').innerText !== b", arg=before)
    return now.inner_text().removeprefix("Now: ").split(" · ")[0].strip()


def run(cuts: list[str]) -> Report:
    from playwright.sync_api import sync_playwright

    report = Report("reconnect", "A follower through real network cuts (PostgreSQL, shipped 120 s window)")
    database = f"soleil_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{database}"'))
    process = None
    try:
        with temp_dir("soleil-bench-reconnect-") as tmp:
            process, url = _start(tmp, database)
            found: list[int | None] = [None]  # read before Playwright takes this thread's event loop

            def seeded() -> bool:
                found[0] = asyncio.run(_setlist(database))
                return found[0] is not None

            wait_until(seeded, 120, "the demo setlist and gig", interval=0.5)
            setlist = int(found[0] or 0)
            with sync_playwright() as p:
                _cuts(p, url, setlist, cuts, report)
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=20)
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    report.notes.append("the leader calls while the phone is cut off; timings from the link's return / the call")
    return report


def _cuts(p: Any, url: str, setlist: int, cuts: list[str], report: Report) -> None:
    browser = launch_chromium(p)
    leader = browser.new_context(**device(p, "iPad (gen 7)")).new_page()
    _sign_in(leader, url, LEADER)
    leader.goto(f"{url}/setlists/{setlist}")
    leader.get_by_role("button", name="Go live").click()
    with TcpProxy(int(url.rsplit(":", 1)[1])) as proxy:
        phone = browser.new_context(**device(p)).new_page()
        _sign_in(phone, proxy.url, READER)
        phone.goto(f"{proxy.url}/live/{setlist}")
        phone.get_by_test_id("live-chip").and_(phone.locator("[data-state=following]")).wait_for()
        for name in cuts:
            seconds = CUTS[name]
            phone.evaluate("() => { window.__sameDocument = true }")
            proxy.cut()
            called = _call(leader)
            time.sleep(seconds)  # the outage itself
            proxy.restore()
            back = _shows(phone, called, 60)
            kept = phone.evaluate("() => window.__sameDocument === true")
            phone.get_by_test_id("live-chip").and_(phone.locator("[data-state=following]")).wait_for()
            start = time.monotonic()
            _shows(phone, _call(leader), 30)
            follow = time.monotonic() - start
            report.figures[f"cut_{seconds}s"] = {"caught_up_s": round(back, 2), "next_call_s": round(follow, 2),
                                                  "replayed_without_reload": kept}
            report.row(f"{seconds} s cut: shows the song called meanwhile", back, unit=" s")
            report.row(f"{seconds} s cut: then follows the next call", follow, unit=" s")
            report.row(f"{seconds} s cut: page kept (replay, no reload)", str(kept))
            report.targets.append(Target(f"{seconds} s cut: caught up within", back, "<", 10.0, " s",
                                         source="proposed"))
            report.targets.append(Target(f"{seconds} s cut: kept the page iff within the window",
                                         float(kept == (seconds < WINDOW)), ">=", 1.0, source="proposed"))
    browser.close()


def main(argv: list[str]) -> int:
    report = run(parts_wanted(argv, list(CUTS)))
    report.show()
    report.save()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
