"""Page loads as a weapon: server memory under a burst of page loads that never open a websocket, and after pruning.

Each ``/library`` or ``/stand/<id>`` load builds a NiceGUI client on the server that lives until NiceGUI's pruning
(every 10 s, clients older than 60 s with no socket) deletes it. The benchmark starts the real app on the demo band
(SQLite, a temp data dir, a free loopback port), signs in one demo member, reads the server's RSS (the app process
and its children, e.g. render workers; ``/proc/<pid>/status`` VmRSS), fires ``--loads`` page loads (default 2000,
``--concurrency`` 20 at once, alternating the library and a chart's stand) without ever connecting a websocket,
counting status codes (no 500 allowed; 429/503 over the client bounds are counted), samples RSS during the burst
and then until it stops dropping after the pruning (at most ``--settle`` s, default 90).

Baseline, same run, same loads: a bare NiceGUI app (one ``ui.label`` page) started the same way (``--no-baseline``
skips it). The client bounds are raised so every load builds a client (the worst case for memory); the values are
printed and recorded. ``python -m bench.bench_soak``: about 4-5 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    AppServer,
    Report,
    Target,
    demo_sign_in,
    free_port,
    http_status,
    ratio,
    temp_dir,
    wait_until,
)

PLAYER = "Ava Brooks"  # the demo trumpet player (as in bench_viewer)
# Every load must build a client, so the bounds sit above the burst; the per-account media/work budgets are raised too.
SOAK_LIMITS = {"SOLEIL_MAX_CLIENTS": "100000", "SOLEIL_MAX_CLIENTS_PER_ACCOUNT": "100000",
               "SOLEIL_MAX_CLIENTS_PER_ADDRESS": "100000", "SOLEIL_LIMIT_ANONYMOUS_PAGES": "100000/minute",
               "SOLEIL_LIMIT_MEDIA": "100000/minute", "SOLEIL_LIMIT_WORK": "100000/minute"}
BARE_APP = textwrap.dedent("""
    import sys
    from nicegui import ui

    @ui.page("/")
    def index() -> None:
        ui.label("hello")

    ui.run(host="127.0.0.1", port=int(sys.argv[1]), reload=False, show=False, show_welcome_message=False)
""")
MB = 1024 * 1024


# --- memory ----------------------------------------------------------------------------------------------------------
def _vm_rss(pid: int) -> int:
    """VmRSS of one process in bytes (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError, ValueError):
                found += [int(c) for c in (task / "children").read_text().split()]
    return found


def rss(pid: int) -> tuple[int, int]:
    """(the process's RSS, RSS of the process and all its descendants), in bytes."""
    own, total, todo = _vm_rss(pid), 0, [pid]
    while todo:
        current = todo.pop()
        total += _vm_rss(current)
        todo += _children(current)
    return own, total


class Sampler:
    """Polls a process tree's RSS in the background, keeping the peaks (main process, and with children)."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid, self.interval = pid, interval
        self.peak_own = self.peak_total = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            own, total = rss(self.pid)
            self.peak_own, self.peak_total = max(self.peak_own, own), max(self.peak_total, total)
            await asyncio.sleep(self.interval)

    def __enter__(self) -> Sampler:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
        own, total = rss(self.pid)
        self.peak_own, self.peak_total = max(self.peak_own, own), max(self.peak_total, total)


async def settle(pid: int, since: float, limit: float) -> tuple[int, int, float]:
    """Poll RSS after the burst until NiceGUI's pruning could have run (60 s age + a 10 s tick) and RSS stopped
    dropping for three polls, or ``limit`` seconds after ``since``; returns (own, total, seconds waited)."""
    history: list[int] = []
    while True:
        own, total = rss(pid)
        history.append(own)
        waited = time.monotonic() - since
        stable = len(history) >= 4 and min(history[-3:]) >= history[-4] - MB
        if waited >= limit or (waited >= 72 and stable):
            return own, total, waited
        await asyncio.sleep(2)


# --- the burst -------------------------------------------------------------------------------------------------------
async def burst(http: httpx.AsyncClient, paths: list[str], loads: int, concurrency: int,
                budget: float) -> tuple[collections.Counter[str], float, int]:
    """``loads`` GETs over ``paths`` round-robin, ``concurrency`` at once, stopped after ``budget`` seconds;
    returns (status counts, seconds, loads sent)."""
    counts: collections.Counter[str] = collections.Counter()
    queue = iter(range(loads))
    start = time.monotonic()
    sent = 0

    async def worker() -> None:
        nonlocal sent
        for n in queue:
            if time.monotonic() - start > budget:
                return
            sent += 1
            try:
                response = await http.get(paths[n % len(paths)])
                counts[str(response.status_code)] += 1
            except httpx.HTTPError as error:
                counts[type(error).__name__] += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return counts, time.monotonic() - start, sent


async def soak(pid: int, http: httpx.AsyncClient, paths: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """RSS at start, the burst with its peak, RSS after pruning; the figures of one server."""
    await asyncio.sleep(3)  # let start-up work (pre-render, first sync) finish before the start reading
    start_own, start_total = rss(pid)
    with Sampler(pid) as sampler:
        counts, seconds, sent = await burst(http, paths, args.loads, args.concurrency, args.budget)
    ended = time.monotonic()
    print(f"    burst: {sent} loads in {seconds:.1f} s, statuses {dict(counts)}; waiting for the pruning …", flush=True)
    after_own, after_total, waited = await settle(pid, ended, args.settle)
    return {
        "loads": sent, "burst_seconds": round(seconds, 1), "loads_per_s": round(sent / seconds, 1),
        "statuses": dict(sorted(counts.items())), "settle_seconds": round(waited),
        "rss_mb": {"start": round(start_own / MB, 1), "peak": round(sampler.peak_own / MB, 1),
                   "after": round(after_own / MB, 1)},
        "rss_with_children_mb": {"start": round(start_total / MB, 1), "peak": round(sampler.peak_total / MB, 1),
                                 "after": round(after_total / MB, 1)},
        "peak_over_start": ratio(sampler.peak_own, start_own), "after_over_start": ratio(after_own, start_own),
        "kib_per_load_at_peak": round((sampler.peak_own - start_own) / 1024 / max(sent, 1), 1),
    }


async def soleil(args: argparse.Namespace) -> dict[str, Any]:
    with AppServer(env=SOAK_LIMITS) as server:
        assert server.process is not None
        user_id = server.demo_user_id(PLAYER)
        chart = server.query("SELECT id FROM chart WHERE status = 'ok' AND kind = 'chart' ORDER BY id LIMIT 1")[0][0]
        limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
        async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as http:
            await demo_sign_in(http, user_id, name=PLAYER)
            paths = ["/library", f"/stand/{chart}"]
            print(f"  soleil: signed in as {PLAYER}; loading {paths}", flush=True)
            figures = await soak(server.process.pid, http, paths, args)
        tracebacks = server.output().count("Traceback")
    figures["paths"], figures["log_tracebacks"] = paths, tracebacks
    return figures


@contextlib.contextmanager
def bare_app() -> Any:
    """A minimal NiceGUI app (one label page) on a free loopback port, in its own temp dir and session."""
    with temp_dir("soleil-bench-bare-") as tmp:
        (tmp / "app.py").write_text(BARE_APP)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SOLEIL_", "NICEGUI_", "PYTEST_"))}
        with (tmp / "log").open("wb") as log:
            process = subprocess.Popen([sys.executable, str(tmp / "app.py"), str(port)], cwd=tmp, env=env,
                                       stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        try:
            ready: Callable[[], bool] = lambda: http_status(f"http://127.0.0.1:{port}/") == 200  # noqa: E731
            wait_until(ready, 60, "the bare NiceGUI app")
            yield process, f"http://127.0.0.1:{port}"
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


async def bare(args: argparse.Namespace) -> dict[str, Any]:
    with bare_app() as (process, url):
        print("  baseline: bare NiceGUI app, one ui.label page", flush=True)
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            return await soak(process.pid, http, ["/"], args)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_soak", description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=2000, help="page loads in the burst (2000)")
    parser.add_argument("--concurrency", type=int, default=20, help="loads in flight at once (20)")
    parser.add_argument("--budget", type=float, default=90.0, help="at most this many seconds of burst (90)")
    parser.add_argument("--settle", type=float, default=90.0, help="at most this many seconds waiting for the "
                                                                   "pruning after the burst (90)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare NiceGUI baseline")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = _parse(argv)
    started = time.monotonic()
    print("  client bounds and limits for the soak: " + ", ".join(f"{k}={v}" for k, v in sorted(SOAK_LIMITS.items())))
    app = asyncio.run(soleil(args))
    base = None if args.no_baseline else asyncio.run(bare(args))
    report = Report("soak_memory", f"{args.loads} page loads with no websocket ({args.concurrency} at once): "
                                   "server RSS at start, peak, after NiceGUI's pruning")
    report.figures = {"soleil": app, "bare_nicegui": base, "limits": SOAK_LIMITS,
                      "seconds": round(time.monotonic() - started)}
    rows = [*((f"RSS {stage}", app["rss_mb"][stage], base and base["rss_mb"][stage], " MB")
              for stage in ("start", "peak", "after")),
            ("RSS peak / start", app["peak_over_start"], base and base["peak_over_start"], "×"),
            ("RSS after / start", app["after_over_start"], base and base["after_over_start"], "×"),
            ("KiB per load at peak", app["kib_per_load_at_peak"], base and base["kib_per_load_at_peak"], " KiB")]
    for what, value, baseline, unit in rows:
        report.row(what, value, baseline if baseline else "", unit, (value, baseline) if baseline else None)
    five_hundreds = sum(v for k, v in app["statuses"].items() if k.startswith("5") and k != "503")
    report.targets.append(Target("500s (or other 5xx but 503) in the burst", five_hundreds, "<=", 0, ""))
    report.targets.append(Target("RSS after pruning / start", app["after_over_start"], "<=", 1.5, "×",
                                 source="proposed"))
    report.notes.append(f"statuses {app['statuses']}; {app['log_tracebacks']} tracebacks in the server log")
    report.notes.append("RSS of the app process; rss_with_children_mb adds its children (render workers)")
    report.show()
    report.save()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
