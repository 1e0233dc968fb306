"""Pages that cost little: server memory over a 10-minute soak, and server CPU per page load (issue 15, item 3).

``memory`` (key ``soak_memory``): the real app on the demo band (SQLite, a temp data dir, a free loopback port).
The leader goes live on the demo setlist and ``--followers`` (500) real NiceGUI clients open ``/live/<setlist>`` and
connect their sockets (``bench.bench_fanout.Page``: signed in round-robin as the band's members); for ``--minutes``
(10) they stay connected while the leader calls the next song every ``--call-every`` s (10; Next and Previous
alternate so every click changes the song) and ``--loads`` (5000) GETs of ``/library`` and ``/stand/<chart>`` (one
signed-in member, no websocket) are spread evenly over the period, at most ``--concurrency`` (20) in flight. Each
follower counts the live room's calls it heard (``soleil_live``, components/live_room.py); calls lost = clicks sent
x followers - calls heard. Then the followers leave and the app's RSS (``/proc/<pid>/status`` VmRSS; the app process,
and with its children: render workers) is polled until NiceGUI has deleted their pages (``reconnect_timeout`` after
the disconnect) and the page loads' clients (60 s old, 10 s prune tick), and stops dropping. RSS is read cold (ready),
at start (after a few warm-up loads: first-use imports and caches are not a leak), with the followers on, at the peak
and after. Target (issue 15): after / start <= 1.10. Baseline, same run, same sizes: a bare NiceGUI app (one
``ui.label`` page; followers on that page, no calls) for ``--baseline-minutes`` (default: the same minutes).

``cpu`` (key ``page_cpu``): server CPU seconds (``/proc/<pid>/stat`` utime+stime of the app process) around
``--cpu-loads`` (300) GETs of ``/library``, ``/stand/<chart>`` and, on a bare NiceGUI app running alongside, its
one-label page; sequential and ``--cpu-concurrency`` (8) at once; ``--cpu-reps`` (3) rounds, the arms interleaved in
each round. Target (issue 15): library and stand <= 3x the bare page. Above it, one more app is started under
cProfile (bench/profiled_app.py) and ``--profile-loads`` (100) loads of each page are profiled: top functions by own
time and by cumulative time in the app's and NiceGUI's code.

``python -m bench.bench_soak [memory] [cpu] [--minutes 1 --loads 500 --followers 50]``: both parts at full size by
default (about 30 minutes on 2 cores: the soak twice 10 minutes plus start and pruning, the CPU part 4-5 minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import pstats
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from bench.bench_fanout import CONNECT_AT_ONCE, Page, close_all, cpu_seconds, followers, leader_page, open_page
from bench.common import (
    REPO_ROOT,
    AppServer,
    Report,
    Target,
    demo_sign_in,
    free_port,
    http_status,
    machine,
    percentile,
    ratio,
    summary,
    temp_dir,
    wait_until,
)
from soleil_ui.settings import Settings

PLAYER = "Ava Brooks"  # the demo trumpet player (as in bench_viewer)
# Every load must build a client, so the bounds sit above the soak; the per-account media/work budgets are raised too.
SOAK_LIMITS = {"SOLEIL_MAX_CLIENTS": "100000", "SOLEIL_MAX_CLIENTS_PER_ACCOUNT": "100000",
               "SOLEIL_MAX_CLIENTS_PER_ADDRESS": "100000", "SOLEIL_LIMIT_ANONYMOUS_PAGES": "100000/minute",
               "SOLEIL_LIMIT_MEDIA": "100000/minute", "SOLEIL_LIMIT_WORK": "100000/minute"}
BARE_APP = textwrap.dedent("""
    import sys
    from nicegui import ui

    @ui.page("/")
    def index() -> None:
        ui.label("hello")

    @ui.page("/rows")
    def rows() -> None:
        # The framework's floor for the library's shape: a search box, a filter, a summary and twelve song rows
        # built from the same elements as components/song_list.py (a part row: item, opener, title section with two
        # labels, icon section, info button), no database and no frame.
        with ui.row():
            ui.input(placeholder="Search songs")
            ui.select({"": "All parts", "bb": "B flat"}, value="")
        ui.label("12 songs")
        with ui.list():
            for n in range(12):
                with ui.item():
                    with ui.element("div").on("click", lambda: None):
                        with ui.item_section():
                            ui.item_label(f"Song {n}")
                            ui.item_label("Your part: Trumpet").props("caption")
                        with ui.item_section().props("side"):
                            ui.icon("music_note")
                    with ui.item_section().props("side"):
                        ui.button(icon="info", on_click=lambda: None)
        ui.button("More")

    ui.run(host="127.0.0.1", port=int(sys.argv[1]), reload=False, show=False, show_welcome_message=False)
""")
MB = 1024 * 1024
APP_RECONNECT_TIMEOUT = float(Settings.model_fields["reconnect_timeout"].default)  # the app's default, not overridden
BARE_RECONNECT_TIMEOUT = 3.0  # NiceGUI's default
PRUNE_AGE = 72.0  # NiceGUI deletes a never-connected client 60 s old at its next 10 s tick
CALL_TIMEOUT = 10.0  # after the last call, how long followers get to hear it


# --- memory and CPU of a process tree --------------------------------------------------------------------------------
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


def _tree(pid: int) -> Iterator[int]:
    todo = [pid]
    while todo:
        current = todo.pop()
        yield current
        todo += _children(current)


def rss(pid: int) -> tuple[int, int]:
    """(the process's RSS, RSS of the process and all its descendants), in bytes."""
    return _vm_rss(pid), sum(_vm_rss(p) for p in _tree(pid))


def cpu(pid: int) -> tuple[float, float]:
    """(CPU seconds of the process, of the process and its live descendants)."""
    total = 0.0
    for p in _tree(pid):
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += cpu_seconds(p)
    return cpu_seconds(pid), total


def mb(pair: tuple[int, int]) -> tuple[float, float]:
    return round(pair[0] / MB, 1), round(pair[1] / MB, 1)


class Sampler:
    """Polls a process tree's RSS in the background, keeping the peaks (main process, and with children)."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        self.pid, self.interval = pid, interval
        self.peak_own = self.peak_total = 0
        self._task: asyncio.Task[None] | None = None

    def _read(self) -> None:
        own, total = rss(self.pid)
        self.peak_own, self.peak_total = max(self.peak_own, own), max(self.peak_total, total)

    async def _run(self) -> None:
        while True:
            self._read()
            await asyncio.sleep(self.interval)

    def __enter__(self) -> Sampler:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
        self._read()


async def settle(pid: int, since: float, at_least: float, limit: float) -> tuple[tuple[int, int], float]:
    """Poll RSS until ``at_least`` seconds after ``since`` (NiceGUI has deleted the pages by then) and RSS stopped
    dropping for three polls, or ``limit`` seconds after ``since``; returns ((own, total), seconds waited)."""
    history: list[int] = []
    while True:
        reading = rss(pid)
        history.append(reading[0])
        waited = time.monotonic() - since
        stable = len(history) >= 4 and min(history[-3:]) >= history[-4] - MB
        if waited >= limit or (waited >= at_least and stable):
            return reading, waited
        await asyncio.sleep(2)


# --- page loads without a websocket ----------------------------------------------------------------------------------
async def paced_loads(http: httpx.AsyncClient, paths: list[str], loads: int, seconds: float,
                      concurrency: int) -> dict[str, Any]:
    """``loads`` GETs over ``paths`` round-robin, load n due at n x ``seconds``/``loads`` (0: as fast as
    ``concurrency`` allows); returns statuses, latency summary, and how far behind schedule the last one ended."""
    counts: collections.Counter[str] = collections.Counter()
    latencies: list[float] = []
    interval = seconds / max(loads, 1)
    queue = iter(range(loads))
    start = time.monotonic()

    async def worker() -> None:
        for n in queue:
            delay = start + n * interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            began = time.perf_counter()
            try:
                response = await http.get(paths[n % len(paths)])
                counts[str(response.status_code)] += 1
            except httpx.HTTPError as error:
                counts[type(error).__name__] += 1
            latencies.append((time.perf_counter() - began) * 1000)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    took = time.monotonic() - start
    return {"loads": len(latencies), "seconds": round(took, 1), "behind_schedule_s": round(max(0.0, took - seconds), 1),
            "statuses": dict(sorted(counts.items())), "latency_ms": summary(latencies, 1)}


async def probe(http: httpx.AsyncClient, path: str, since: float, samples: list[tuple[float, float]],
                loads: list[tuple[float, float]]) -> None:
    """Until cancelled: GET ``path`` (a cheap route) every second, noting (seconds since ``since``, ms) - how long
    the server's event loop keeps a request waiting - and the machine's 1-minute load every 10 s."""
    async with httpx.AsyncClient(base_url=http.base_url, timeout=60) as own:  # not queued behind the page loads
        while True:
            began = time.perf_counter()
            with contextlib.suppress(httpx.HTTPError):
                await own.get(path)
            samples.append((round(time.monotonic() - since, 1), round((time.perf_counter() - began) * 1000, 1)))
            if len(samples) % 10 == 1:
                loads.append((samples[-1][0], round(os.getloadavg()[0], 2)))
            await asyncio.sleep(1)


def _probe_figures(samples: list[tuple[float, float]]) -> dict[str, Any]:
    if not samples:
        return {}
    ms = [m for _, m in samples]
    return {"n": len(ms), "p50_ms": round(percentile(ms, 50), 1), "p99_ms": round(percentile(ms, 99), 1),
            "max_ms": max(ms), "over_1s": sum(m > 1000 for m in ms),
            "worst": [list(x) for x in sorted(samples, key=lambda x: -x[1])[:5]]}


async def census(pid: int, out: Path | None) -> dict[str, Any] | None:
    """What the app holds (bench/profiled_app.py, SIGRTMIN): NiceGUI clients and tracked objects."""
    if out is None:
        return None
    done = Path(str(out) + ".census.json")
    done.unlink(missing_ok=True)
    os.kill(pid, signal.SIGRTMIN)
    await asyncio.to_thread(wait_until, done.exists, 60, "the census")
    await asyncio.sleep(0.5)
    return dict(json.loads(done.read_text()), rss_mb_after_collect=mb(rss(pid))[0])


# --- the soak --------------------------------------------------------------------------------------------------------
class Crowd:
    """The followers (and, on the app, the leader) of one server during the soak."""

    def __init__(self) -> None:
        self.pages: list[Page] = []
        self.clients: list[httpx.AsyncClient] = []
        self.leader: Page | None = None
        self.buttons: list[tuple[int, str]] = []
        self.clicks: list[float] = []  # perf_counter of every click sent
        self.clicks_failed = 0
        self.drops: list[tuple[float, str]] = []  # (monotonic, reason) of every follower's socket lost

    def watch(self) -> None:
        """Note when and why a follower's socket goes (the server closed it, or the link broke)."""
        for page in self.pages:
            page.sio.on("disconnect", lambda reason=None: self.drops.append((time.monotonic(), str(reason))))

    def dropped(self, since: float) -> dict[str, Any]:
        times = sorted(t - since for t, _ in self.drops)
        return {"count": len(times), "reasons": dict(collections.Counter(r for _, r in self.drops)),
                "first_s": round(times[0], 1) if times else None, "last_s": round(times[-1], 1) if times else None}

    async def call_songs(self, stop: asyncio.Event, every: float) -> None:
        """The leader calls the next song every ``every`` s until ``stop``."""
        while not stop.is_set() and self.leader is not None:
            try:
                sent = time.perf_counter()
                await self.leader.click(self.buttons[len(self.clicks) % 2])
                self.clicks.append(sent)
            except Exception:  # a leader cut off under load is a figure, not a crash
                self.clicks_failed += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)

    def calls(self) -> dict[str, Any]:
        """Calls each follower heard against the clicks sent; the delay from a click to a follower hearing it."""
        if self.leader is None:
            return {}
        heard = [len(p.calls_heard) for p in self.pages]
        distinct = set().union(*(p.calls_heard for p in self.pages)) if self.pages else set()
        delays: list[float] = []
        for page in self.pages:
            for arrival in page.arrivals.values():
                before = [c for c in self.clicks if c <= arrival]
                if before:
                    delays.append((arrival - before[-1]) * 1000)
        clicks = len(self.clicks)
        return {"clicks": clicks, "clicks_failed": self.clicks_failed, "distinct_calls_heard": len(distinct),
                "calls_lost": sum(max(0, clicks - n) for n in heard),
                "followers_missing_a_call": sum(n < clicks for n in heard),
                "followers_connected_at_end": sum(p.sio.connected for p in self.pages),
                "call_delay_ms": summary(delays, 1) | {"p99": round(percentile(delays, 99), 1)}}


async def bare_followers(base: str, count: int) -> tuple[list[Page], list[httpx.AsyncClient]]:
    """``count`` connected NiceGUI clients on the bare app's page (what ``followers`` is on the live page)."""
    http = httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=CONNECT_AT_ONCE))
    pages: list[Page] = []
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)

    async def one() -> None:
        async with gate:
            page = await open_page(http, base, "/")
            await page.connect()
            pages.append(page)

    await asyncio.gather(*(one() for _ in range(count)))
    return pages, [http]


async def soak(pid: int, http: httpx.AsyncClient, paths: list[str], crowd_up: Callable[[], Any], minutes: float,
               args: argparse.Namespace, reconnect_timeout: float, probe_path: str | None,
               census_out: Path | None = None) -> dict[str, Any]:
    """One server: RSS cold and after a warm-up; followers on; the period of calls and paced loads; followers off;
    RSS until pruned."""
    await asyncio.sleep(3)  # let start-up work (pre-render, first sync) finish before the first reading
    cold = rss(pid)
    for path in paths * 5:  # first-use imports, templates and caches
        await http.get(path)
    await asyncio.sleep(2)
    start = rss(pid)
    load_before = os.getloadavg()
    with Sampler(pid) as sampler:
        began = time.monotonic()
        crowd: Crowd = await crowd_up()
        connect_s = time.monotonic() - began
        with_followers = rss(pid)
        print(f"    {len(crowd.pages)} followers on in {connect_s:.0f} s; {minutes:g} min of loads and calls …",
              flush=True)
        crowd.watch()
        period_start = time.monotonic()
        probes: list[tuple[float, float]] = []
        machine_load: list[tuple[float, float]] = []
        prober = asyncio.get_running_loop().create_task(
            probe(http, probe_path, period_start, probes, machine_load)) if probe_path else None
        stop = asyncio.Event()
        caller = asyncio.get_running_loop().create_task(crowd.call_songs(stop, args.call_every))
        cpu_before = cpu(pid)
        loads, _ = await asyncio.gather(paced_loads(http, paths, args.loads, minutes * 60, args.concurrency),
                                        asyncio.sleep(minutes * 60))
        stop.set()
        await caller
        await asyncio.sleep(CALL_TIMEOUT if crowd.leader else 0)  # the last call reaches everyone
        cpu_after = cpu(pid)
        calls = crowd.calls()
        if calls:  # when each call went, in seconds since the period started (clicks are on perf_counter)
            offset = time.perf_counter() - time.monotonic()
            calls["click_s"] = [round(c - offset - period_start, 1) for c in crowd.clicks]
        drops = crowd.dropped(period_start)
        if prober is not None:
            prober.cancel()
        at_end = rss(pid)
        await close_all([*crowd.pages, *([crowd.leader] if crowd.leader else [])], crowd.clients)
    ended = time.monotonic()
    print(f"    loads {loads['statuses']} ({loads['behind_schedule_s']} s behind schedule); calls "
          f"{ {k: v for k, v in calls.items() if k != 'click_s'} or '-'}; followers dropped {drops}; "
          "waiting for the pruning …", flush=True)
    after, waited = await settle(pid, ended, max(PRUNE_AGE, reconnect_timeout + 12), args.settle)
    held = await census(pid, census_out)
    stages = {"cold": mb(cold), "start": mb(start), "with_followers": mb(with_followers),
              "peak": mb((sampler.peak_own, sampler.peak_total)), "end_of_load": mb(at_end), "after": mb(after)}
    return {
        "minutes": minutes, "followers": len(crowd.pages), "followers_connect_s": round(connect_s, 1),
        "loads": loads, "calls": calls, "followers_dropped": drops, "settle_seconds": round(waited),
        "probe": {"path": probe_path, **_probe_figures(probes)}, "loadavg_1min_every_10s": machine_load,
        **({"census_after": held} if held else {}),
        "rss_mb": {k: v[0] for k, v in stages.items()},
        "rss_with_children_mb": {k: v[1] for k, v in stages.items()},
        "after_over_start": ratio(after[0], start[0]), "after_over_start_with_children": ratio(after[1], start[1]),
        "after_over_cold": ratio(after[0], cold[0]), "peak_over_start": ratio(sampler.peak_own, start[0]),
        "kib_per_follower": round((with_followers[0] - start[0]) / 1024 / max(len(crowd.pages), 1), 1),
        "cpu_s_during_load": round(cpu_after[0] - cpu_before[0], 1),
        "cpu_s_during_load_with_children": round(cpu_after[1] - cpu_before[1], 1),
        "loadavg_before": [round(x, 2) for x in load_before], "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }


def _seeded(server: AppServer) -> dict[str, Any]:
    """What bench_fanout's seeding returns, read from the app's own database: the setlist and the members."""
    setlist = server.query("SELECT id FROM setlist ORDER BY id LIMIT 1")[0][0]
    people = server.query("SELECT u.id, m.role FROM user_account u JOIN membership m ON m.user_id = u.id "
                          "ORDER BY m.id")
    return {"setlist": setlist, "people": [tuple(p) for p in people]}


def _chart(server: AppServer) -> int:
    return int(server.query("SELECT id FROM chart WHERE status = 'ok' AND kind = 'chart' ORDER BY id LIMIT 1")[0][0])


async def soleil_soak(args: argparse.Namespace) -> dict[str, Any]:
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(temp_dir("soleil-bench-census-")) / "stats" if args.census else None
        env = {**SOAK_LIMITS, **({"BENCH_PROFILE_OUT": str(out)} if out else {})}
        command = [sys.executable, str(REPO_ROOT / "bench" / "profiled_app.py")] if out else None
        return await _soleil_soak(args, env, command, out)


async def _soleil_soak(args: argparse.Namespace, env: dict[str, str], command: list[str] | None,
                       out: Path | None) -> dict[str, Any]:
    with AppServer(env=env, timeout=120, command=command) as server:
        assert server.process is not None
        seeded = _seeded(server)

        async def crowd_up() -> Crowd:
            crowd = Crowd()
            crowd.leader, leader_http, crowd.buttons = await leader_page(server.url, seeded)
            await asyncio.sleep(0.5)  # going live settles before the followers arrive
            crowd.pages, clients = await followers(server.url, seeded, args.followers)
            crowd.clients = [*clients, leader_http]
            return crowd

        limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
        async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as http:
            await demo_sign_in(http, server.demo_user_id(PLAYER), name=PLAYER)
            paths = ["/library", f"/stand/{_chart(server)}"]
            print(f"  soleil: loads as {PLAYER} on {paths}; followers on /live/{seeded['setlist']}", flush=True)
            figures = await soak(server.process.pid, http, paths, crowd_up, args.minutes, args,
                                 APP_RECONNECT_TIMEOUT, "/healthz", out)
        figures["log_tracebacks"] = server.output().count("Traceback")
    figures["paths"] = paths
    return figures


@contextlib.contextmanager
def bare_app() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
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


async def bare_soak(args: argparse.Namespace) -> dict[str, Any]:
    with bare_app() as (process, url):
        print("  baseline: bare NiceGUI app, one ui.label page; followers on it, no calls", flush=True)

        async def crowd_up() -> Crowd:
            crowd = Crowd()
            crowd.pages, crowd.clients = await bare_followers(url, args.followers)
            return crowd

        limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
            return await soak(process.pid, http, ["/"], crowd_up, args.baseline_minutes, args,
                              BARE_RECONNECT_TIMEOUT, None)


def memory(args: argparse.Namespace) -> None:
    started = time.monotonic()
    print("  client bounds and limits for the soak: " + ", ".join(f"{k}={v}" for k, v in sorted(SOAK_LIMITS.items())))
    app = asyncio.run(soleil_soak(args))
    base = None if args.no_baseline else asyncio.run(bare_soak(args))
    report = Report(args.save_as, f"{args.minutes:g} min: {args.followers} followers on the live page, a call every "
                                   f"{args.call_every:g} s, {args.loads} page loads with no websocket spread over it; "
                                   "server RSS at start, peak, after NiceGUI's pruning")
    report.figures = {"soleil": app, "bare_nicegui": base, "limits": SOAK_LIMITS,
                      "seconds": round(time.monotonic() - started)}
    for key, label in (("rss_mb", "RSS"), ("rss_with_children_mb", "RSS with children")):
        for stage in ("cold", "start", "with_followers", "peak", "end_of_load", "after"):
            report.row(f"{label} {stage}", app[key][stage], base[key][stage] if base else "", " MB")
    rows = [("RSS after / start", "after_over_start"), ("RSS after / start, with children",
                                                        "after_over_start_with_children"),
            ("RSS after / cold", "after_over_cold"), ("RSS peak / start", "peak_over_start"),
            ("KiB per connected follower", "kib_per_follower"), ("server CPU s during the load", "cpu_s_during_load")]
    for what, key in rows:
        report.row(what, app[key], base[key] if base else "", "", (app[key], base[key]) if base else None)
    loads = app["loads"]
    report.row("page load p50", loads["latency_ms"]["p50"], base["loads"]["latency_ms"]["p50"] if base else "", " ms")
    report.row("page load p95", loads["latency_ms"]["p95"], base["loads"]["latency_ms"]["p95"] if base else "", " ms")
    calls = app["calls"]
    report.row("calls sent / lost", f"{calls['clicks']} / {calls['calls_lost']}")
    report.row("call delay p95", calls["call_delay_ms"]["p95"], unit=" ms")
    drops = app["followers_dropped"]
    report.row("followers whose socket dropped", f"{drops['count']} ({drops['first_s']}-{drops['last_s']} s)",
               f"{base['followers_dropped']['count']}" if base else "")
    if app["probe"].get("n"):
        report.row("/healthz every 1 s during the load: p50 / p99 / max",
                   f"{app['probe']['p50_ms']} / {app['probe']['p99_ms']} / {app['probe']['max_ms']} ms")
    five_hundreds = sum(v for k, v in loads["statuses"].items() if k.startswith("5") and k != "503")
    report.targets.append(Target("RSS after / start", app["after_over_start"], "<=", 1.10, "×"))
    report.targets.append(Target("RSS after / start, with children", app["after_over_start_with_children"], "<=",
                                 1.10, "×"))
    report.targets.append(Target("calls lost (clicks x followers - calls heard)", calls["calls_lost"], "<=", 0, "",
                                 source="proposed"))
    report.targets.append(Target("500s (or other 5xx but 503) in the loads", five_hundreds, "<=", 0, ""))
    report.targets.append(Target("loads behind schedule at the end", loads["behind_schedule_s"], "<=", 30, " s",
                                 source="proposed"))
    report.notes.append(f"statuses {loads['statuses']}; {app['log_tracebacks']} tracebacks in the server log; "
                        f"followers connected at the end {calls['followers_connected_at_end']}/{app['followers']}; "
                        f"sockets dropped {drops}")
    report.notes.append("start = after 5 warm-up loads of each page (cold = right after start-up); RSS of the app "
                        "process, rss_with_children_mb adds its children (render workers)")
    if app.get("census_after"):
        report.notes.append(f"after the pruning the app holds {app['census_after']}")
    if base and base["minutes"] != app["minutes"]:
        report.notes.append(f"the baseline ran {base['minutes']:g} min, the app {app['minutes']:g} min")
    report.show()
    report.save()


# --- CPU per page load -----------------------------------------------------------------------------------------------
async def _timed_loads(http: httpx.AsyncClient, path: str, n: int, at_once: int, pid: int) -> dict[str, float]:
    before, began = cpu(pid), time.monotonic()
    result = await paced_loads(http, [path], n, 0, at_once)
    after, took = cpu(pid), time.monotonic() - began
    bad = sum(v for k, v in result["statuses"].items() if k != "200")
    if bad:
        raise RuntimeError(f"{path}: {result['statuses']}")
    return {"cpu_ms": (after[0] - before[0]) / n * 1000, "cpu_ms_with_children": (after[1] - before[1]) / n * 1000,
            "wall_ms": took / n * 1000}


def _spread(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"min": round(ordered[0], 2), "median": round(ordered[len(ordered) // 2], 2), "max": round(ordered[-1], 2)}


async def page_cpu(args: argparse.Namespace) -> dict[str, Any]:
    load_before = os.getloadavg()
    with AppServer(env=SOAK_LIMITS, timeout=120) as server, bare_app() as (bare_process, bare_url):
        assert server.process is not None
        app_pid = server.process.pid
        limits = httpx.Limits(max_connections=args.cpu_concurrency)
        async with (httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as app_http,
                    httpx.AsyncClient(base_url=bare_url, timeout=60, limits=limits) as bare_http):
            await demo_sign_in(app_http, server.demo_user_id(PLAYER), name=PLAYER)
            chart = _chart(server)
            arms = {"bare": (bare_http, "/", bare_process.pid), "floor": (bare_http, "/rows", bare_process.pid),
                    "library": (app_http, "/library", app_pid),
                    "stand": (app_http, f"/stand/{chart}", app_pid)}
            idle = {}
            for name, (_, _, pid) in arms.items():
                before = cpu(pid)[0]
                await asyncio.sleep(5)
                idle[name] = round((cpu(pid)[0] - before) / 5 * 1000, 1)  # ms of CPU per s, doing nothing
            for http, path, pid in arms.values():  # first-use imports and caches
                await _timed_loads(http, path, 20, 1, pid)
            samples: dict[str, dict[str, list[dict[str, float]]]] = {m: {a: [] for a in arms} for m in
                                                                     ("sequential", "concurrent")}
            order = list(arms)
            for rep in range(args.cpu_reps):
                for mode, at_once in (("sequential", 1), ("concurrent", args.cpu_concurrency)):
                    for name in order[rep % len(order):] + order[:rep % len(order)]:  # another arm first each round
                        http, path, pid = arms[name]
                        samples[mode][name].append(await _timed_loads(http, path, args.cpu_loads, at_once, pid))
                print(f"    round {rep + 1}/{args.cpu_reps} done", flush=True)
        tracebacks = server.output().count("Traceback")
    figures: dict[str, Any] = {"loads_per_sample": args.cpu_loads, "concurrency": args.cpu_concurrency,
                               "rounds": args.cpu_reps, "chart": chart, "idle_cpu_ms_per_s": idle,
                               "log_tracebacks": tracebacks,
                               "loadavg_before": [round(x, 2) for x in load_before],
                               "loadavg_after": [round(x, 2) for x in os.getloadavg()]}
    for mode, arms_samples in samples.items():
        bare = arms_samples["bare"]
        figures[mode] = {name: {"cpu_ms_per_load": _spread([s["cpu_ms"] for s in runs]),
                                "cpu_ms_per_load_with_children": _spread([s["cpu_ms_with_children"] for s in runs]),
                                "wall_ms_per_load": _spread([s["wall_ms"] for s in runs])}
                         for name, runs in arms_samples.items()}
        for name in ("floor", "library", "stand"):  # the ratio within each round: measured minutes apart at most
            ratios = [s["cpu_ms"] / b["cpu_ms"] for s, b in zip(arms_samples[name], bare, strict=True)]
            figures[mode][name]["over_bare"] = _spread(ratios)
    return figures


PROFILE_FILTER = (str(REPO_ROOT / "components"), str(REPO_ROOT / "pages"), str(REPO_ROOT / "soleil_ui"), "nicegui")


def _top(stats: pstats.Stats, key: int, n: int, loads: int, only: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The ``n`` functions with the most own (key 2) or cumulative (key 3) time, in ms per load."""
    entries = stats.stats  # type: ignore[attr-defined]
    rows = sorted(((v[key], f, v[1]) for f, v in entries.items() if not only or any(o in f[0] for o in only)),
                  reverse=True)[:n]
    root = str(REPO_ROOT) + "/"
    return [{"function": f"{f[0].replace(root, '').split('site-packages/')[-1]}:{f[1]} {f[2]}",
             "ms_per_load": round(t / loads * 1000, 2), "calls_per_load": round(calls / loads, 1)}
            for t, f, calls in rows]


async def profile(args: argparse.Namespace) -> dict[str, Any]:
    """Each page's loads under cProfile in a fresh app: top functions by own time and by cumulative time."""
    result: dict[str, Any] = {}
    with temp_dir("soleil-bench-profile-") as tmp:
        out = tmp / "stats"
        command = [sys.executable, str(REPO_ROOT / "bench" / "profiled_app.py")]
        with AppServer(env={**SOAK_LIMITS, "BENCH_PROFILE_OUT": str(out)}, timeout=120, command=command) as server:
            assert server.process is not None
            pid = server.process.pid
            async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
                await demo_sign_in(http, server.demo_user_id(PLAYER), name=PLAYER)
                for name, path in (("library", "/library"), ("stand", f"/stand/{_chart(server)}")):
                    await _timed_loads(http, path, 20, 1, pid)
                    out.unlink(missing_ok=True)
                    os.kill(pid, signal.SIGUSR1)
                    await asyncio.sleep(0.5)
                    await paced_loads(http, [path], args.profile_loads, 0, 1)
                    os.kill(pid, signal.SIGUSR2)
                    await asyncio.to_thread(wait_until, out.exists, 30, "the profile's stats")
                    await asyncio.sleep(1)  # dump_stats finishes writing
                    stats = pstats.Stats(str(out))
                    total = stats.total_tt  # type: ignore[attr-defined]
                    result[name] = {"loads": args.profile_loads,
                                    "profiled_ms_per_load": round(total / args.profile_loads * 1000, 1),
                                    "top_own_time": _top(stats, 2, 10, args.profile_loads),
                                    "top_cumulative_app_and_nicegui": _top(stats, 3, 25, args.profile_loads,
                                                                           PROFILE_FILTER)}
    return result


def cpu_part(args: argparse.Namespace) -> None:
    started = time.monotonic()
    figures = asyncio.run(page_cpu(args))
    report = Report("page_cpu", f"Server CPU per page load: /library and /stand/<chart> vs a bare NiceGUI page, "
                                f"{args.cpu_loads} loads per sample, {args.cpu_reps} rounds")
    report.figures = figures
    worst = 0.0
    for mode in ("sequential", "concurrent"):
        bare = figures[mode]["bare"]["cpu_ms_per_load"]
        for name in ("floor", "library", "stand"):
            arm = figures[mode][name]
            spread = arm["over_bare"]
            report.row(f"{mode}: {name} CPU per load (median)", arm["cpu_ms_per_load"]["median"], bare["median"],
                       " ms", (arm["cpu_ms_per_load"]["median"], bare["median"]))
            report.row(f"  {name} / bare min / median / max", f"{spread['min']:.2f} / {spread['median']:.2f} / "
                                                              f"{spread['max']:.2f}×")
            if name == "floor":  # no target: what NiceGUI itself costs for the library's elements
                continue
            report.targets.append(Target(f"{mode}: {name} CPU per load / bare (median of {args.cpu_reps})",
                                         spread["median"], "<=", 3.0, "×"))
            worst = max(worst, spread["median"])
    report.notes.append(f"server CPU = utime+stime of the app process from /proc/<pid>/stat around each sample; "
                        f"concurrent = {args.cpu_concurrency} at once; NiceGUI prunes each page's client ~60 s later, "
                        "so part of an earlier sample's pruning lands in a later one on both servers alike")
    if worst > 3.0 and not args.no_profile:
        print("  above 3×: profiling the pages …", flush=True)
        figures["profile"] = asyncio.run(profile(args))
        for name, prof in figures["profile"].items():
            report.notes.append(f"profile {name}: {prof['profiled_ms_per_load']} ms per load under cProfile "
                                f"(event-loop thread CPU); top own time: " + "; ".join(
                                    f"{r['function']} {r['ms_per_load']} ms" for r in prof["top_own_time"][:5]))
    figures["seconds"] = round(time.monotonic() - started)
    report.show()
    for name, prof in figures.get("profile", {}).items():
        print(f"\n  profile of {name} ({prof['loads']} loads, {prof['profiled_ms_per_load']} ms CPU per load "
              "under cProfile), top own time, ms per load:")
        for row in prof["top_own_time"]:
            print(f"    {row['ms_per_load']:8.2f}  {row['calls_per_load']:8.1f} calls  {row['function']}")
        print("  top cumulative (app and NiceGUI code):")
        for row in prof["top_cumulative_app_and_nicegui"]:
            print(f"    {row['ms_per_load']:8.2f}  {row['calls_per_load']:8.1f} calls  {row['function']}")
    report.save()


# --- the run ---------------------------------------------------------------------------------------------------------
PARTS = ("memory", "cpu")


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_soak", description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="*", help=f"parts to run: {', '.join(PARTS)} (default: both)")
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the soak (10)")
    parser.add_argument("--loads", type=int, default=5000, help="page loads spread over the soak (5000)")
    parser.add_argument("--followers", type=int, default=500, help="connected followers during the soak (500)")
    parser.add_argument("--call-every", type=float, default=10.0, help="seconds between the leader's calls (10)")
    parser.add_argument("--concurrency", type=int, default=20, help="soak loads in flight at most (20)")
    parser.add_argument("--settle", type=float, default=300.0, help="at most this many seconds waiting for the "
                                                                    "pruning after the soak (300)")
    parser.add_argument("--baseline-minutes", type=float, default=None, help="the bare app's soak (= --minutes)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare NiceGUI soak")
    parser.add_argument("--census", action="store_true", help="run the app under bench/profiled_app.py and count "
                                                                  "its NiceGUI clients and objects after the pruning")
    parser.add_argument("--save-as", default="soak_memory", help="results.json key of the soak (soak_memory)")
    parser.add_argument("--cpu-loads", type=int, default=300, help="loads per CPU sample (300)")
    parser.add_argument("--cpu-concurrency", type=int, default=8, help="loads at once in the concurrent samples (8)")
    parser.add_argument("--cpu-reps", type=int, default=3, help="rounds of CPU samples (3)")
    parser.add_argument("--profile-loads", type=int, default=100, help="loads of each page profiled (100)")
    parser.add_argument("--no-profile", action="store_true", help="no profile even above the CPU target")
    args = parser.parse_args(argv)
    unknown = [p for p in args.parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {unknown}; choose from {list(PARTS)}")
    args.parts = args.parts or list(PARTS)
    if args.baseline_minutes is None:
        args.baseline_minutes = args.minutes
    return args


def main(argv: list[str]) -> int:
    args = _parse(argv)
    print(f"  machine: {machine()}", flush=True)
    if "cpu" in args.parts:
        cpu_part(args)
    if "memory" in args.parts:
        memory(args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
