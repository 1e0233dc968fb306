"""Shared pieces of the benchmarks: statistics, ``results.json``, targets, the app as a subprocess, Chromium.

Every benchmark measures its own baseline in the same run and reports ratios against it, so the figures mean the
same on a laptop and on a 2-core CI box. Targets are checked here and a missed one is printed as ``MISSED``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results.json"
CHROMIUM = os.environ.get("SOLEIL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = "iPhone 13"
SECRET = "bench-secret-key-" + "x" * 32


# --- statistics ------------------------------------------------------------------------------------------------------
def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100) with linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: Sequence[float], digits: int = 2) -> dict[str, float]:
    """n, p50, p95, mean, min and max of a list of samples."""
    return {
        "n": len(values),
        "p50": round(percentile(values, 50), digits),
        "p95": round(percentile(values, 95), digits),
        "mean": round(statistics.fmean(values), digits) if values else math.nan,
        "min": round(min(values), digits) if values else math.nan,
        "max": round(max(values), digits) if values else math.nan,
    }


def ratio(value: float, baseline: float) -> float:
    return round(value / baseline, 2) if baseline else math.inf


# --- targets and reporting -------------------------------------------------------------------------------------------
@dataclass
class Target:
    """``value op limit``, e.g. "warm open p50 / static p50 <= 1.5". ``source`` says who set it."""

    name: str
    value: float
    op: str  # "<", "<=", ">", ">="
    limit: float
    unit: str = ""
    source: str = "brief"  # "brief": the target; "proposed": set by the benchmark where the issue gave none

    @property
    def met(self) -> bool:
        if isinstance(self.value, float) and math.isnan(self.value):
            return False
        return {"<": self.value < self.limit, "<=": self.value <= self.limit,
                ">": self.value > self.limit, ">=": self.value >= self.limit}[self.op]

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "op": self.op, "limit": self.limit, "unit": self.unit, "source": self.source,
                "met": self.met}


@dataclass
class Report:
    """One benchmark's figures and targets; ``save`` merges it into results.json, ``show`` prints it."""

    key: str
    title: str
    figures: dict[str, Any] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)  # (what, value, baseline, ratio)
    notes: list[str] = field(default_factory=list)

    def row(self, what: str, value: float | str, baseline: float | str = "", unit: str = "",
            ratio_of: tuple[float, float] | None = None) -> None:
        shown = f"{value:.2f}{unit}" if isinstance(value, float | int) else str(value)
        base = f"{baseline:.2f}{unit}" if isinstance(baseline, float | int) else str(baseline)
        rel = f"{ratio(*ratio_of):.2f}×" if ratio_of else ""
        self.rows.append((what, shown, base, rel))

    @property
    def met(self) -> bool:
        return all(t.met for t in self.targets)

    def save(self) -> None:
        update_results(self.key, {
            "title": self.title,
            "figures": self.figures,
            "targets": {t.name: t.as_dict() for t in self.targets},
            "met": self.met,
            "notes": self.notes,
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
        })

    def show(self) -> None:
        print(f"\n== {self.title} [{self.key}] ==")
        if self.rows:
            widths = [max(len(r[i]) for r in [*self.rows, ("measure", "value", "baseline", "ratio")]) for i in range(4)]
            header = ("measure", "value", "baseline", "ratio")
            print("  " + "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths,
                                                                                                       strict=True))))
            for r in self.rows:
                print("  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths,
                                                                                                          strict=True))))
        for t in self.targets:
            verdict = "met" if t.met else "MISSED"
            mark = "" if t.source == "brief" else " (proposed target)"
            print(f"  target {t.name}: {_fmt(t.value)}{t.unit} {t.op} {_fmt(t.limit)}{t.unit} → {verdict}{mark}")
        for note in self.notes:
            print(f"  note: {note}")


def _fmt(value: float) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def machine() -> dict[str, Any]:
    """What the figures were measured on; the load average says whether something else was running too."""
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "loadavg_1_5_15": [round(x, 2) for x in os.getloadavg()]}


def update_results(key: str, entry: dict[str, Any]) -> None:
    """Read-modify-write ``bench/results.json`` under a lock (other benchmarks may write at the same time)."""
    lock_path = RESULTS.with_name("." + RESULTS.name + ".lock")
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        except json.JSONDecodeError:
            data = {}
        data[key] = entry
        fd, tmp = tempfile.mkstemp(dir=RESULTS.parent, prefix=".results-", suffix=".tmp")
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=2, sort_keys=True, default=str)
            out.write("\n")
        os.replace(tmp, RESULTS)


def entries_since(since: str) -> dict[str, dict[str, Any]]:
    """The results.json entries written at or after ``since`` (an ISO timestamp): what one run produced."""
    try:
        data = json.loads(RESULTS.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict) and str(v.get("measured_at", "")) >= since}


def _numbers(tree: Any, path: str = "") -> Iterator[tuple[str, float]]:
    """Every numeric leaf of a figures tree, as ("a.b.c", value)."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _numbers(value, f"{path}.{key}" if path else str(key))
    elif isinstance(tree, int | float) and not isinstance(tree, bool) and math.isfinite(tree):
        yield path, float(tree)


def _spread(values: Sequence[float]) -> dict[str, float]:
    return {"min": round(min(values), 3), "median": round(statistics.median(values), 3),
            "max": round(max(values), 3)}


def combine_repetitions(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One entry from the same benchmark run ``len(runs)`` times: the last run's entry, plus ``repetitions`` holding
    min/median/max of every figure and target value and each run's load average. A target counts as met when its
    median value meets it (``met_runs`` says in how many runs it did)."""
    last = dict(runs[-1])
    figures: dict[str, list[float]] = {}
    for run in runs:
        for path, value in _numbers(run.get("figures", {})):
            figures.setdefault(path, []).append(value)
    targets: dict[str, Any] = {}
    for name, target in last.get("targets", {}).items():
        values = [r["targets"][name]["value"] for r in runs if name in r.get("targets", {})
                  and isinstance(r["targets"][name].get("value"), int | float)]
        if not values:
            continue
        spread = _spread(values)
        median = Target(name, spread["median"], target["op"], target["limit"], target.get("unit", ""),
                        target.get("source", "brief"))
        targets[name] = {**spread, "op": target["op"], "limit": target["limit"], "unit": target.get("unit", ""),
                         "source": target.get("source", "brief"), "met": median.met,
                         "met_runs": sum(bool(r["targets"][name].get("met")) for r in runs
                                         if name in r.get("targets", {}))}
    last["repetitions"] = {
        "n": len(runs),
        "measured_at": [r.get("measured_at") for r in runs],
        "loadavg_1_5_15": [r.get("machine", {}).get("loadavg_1_5_15") for r in runs],
        "targets": targets,
        "figures": {path: _spread(values) for path, values in figures.items() if len(values) == len(runs)},
    }
    if targets:
        last["met"] = all(t["met"] for t in targets.values())
    return last


# --- timing ----------------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def stopwatch() -> Iterator[list[float]]:
    """``with stopwatch() as t: ...`` then ``t[0]`` is the elapsed wall time in seconds."""
    box: list[float] = []
    start = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - start)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: Any, timeout: float, what: str, interval: float = 0.1) -> None:
    """Poll ``predicate`` until true; bounded by ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"gave up waiting for {what} after {timeout:.0f}s")


def http_status(url: str, timeout: float = 2.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (OSError, ValueError):
        return None


# --- the app as a subprocess -----------------------------------------------------------------------------------------
# Benchmarks play a whole band from one loopback address in one process, so the per-address sign-in limit and the
# open-page bounds are raised (printed with each run); per-account limits stay at their defaults.
BENCH_LIMITS = {"SOLEIL_LIMIT_SIGN_IN": "10000/minute", "SOLEIL_LIMIT_ANONYMOUS_PAGES": "100000/minute",
                "SOLEIL_MAX_CLIENTS": "5000", "SOLEIL_MAX_CLIENTS_PER_ADDRESS": "5000",
                "SOLEIL_MAX_CLIENTS_PER_ACCOUNT": "5000"}
CSRF = re.compile(r'name="csrf" value="([A-Za-z0-9_-]+)"')


class AppServer:
    """The real app (``main.py``) on a free loopback port with a fresh data dir and the demo band.

    Use as a context manager; the process is stopped and the temp dir removed on exit.
    """

    def __init__(self, *, env: dict[str, str] | None = None, timeout: float = 60.0,
                 command: Sequence[str] | None = None) -> None:
        self.command = list(command or [sys.executable, str(REPO_ROOT / "main.py")])  # e.g. bench/profiled_app.py
        self.tmp = Path(tempfile.mkdtemp(prefix="soleil-bench-"))
        self.data_dir = self.tmp / "data"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.tmp / "server.log"
        self.extra_env = env or {}
        self.timeout = timeout
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> AppServer:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SOLEIL_", "NICEGUI_", "PYTEST_"))}
        env.update(
            SOLEIL_DATA_DIR=str(self.data_dir),
            SOLEIL_HOST="127.0.0.1",
            SOLEIL_PORT=str(self.port),
            SOLEIL_DEMO="1",
            SOLEIL_SYNC_INTERVAL="0",
            SOLEIL_SECRET_KEY=SECRET,
            SOLEIL_LOG_LEVEL="WARNING",
            NICEGUI_STORAGE_PATH=str(self.tmp / "nicegui"),
            PYTHONUNBUFFERED="1",
        )
        env.update(BENCH_LIMITS)
        env.update(self.extra_env)
        print("  limits: " + ", ".join(f"{k}={v}" for k, v in sorted(env.items()) if k.startswith(
            ("SOLEIL_LIMIT_", "SOLEIL_MAX_CLIENTS"))) + " (other SOLEIL_LIMIT_* at their defaults)")
        with self.log_path.open("wb") as log:
            # cwd is the temp dir, so no stray .env is read; its own session, so stopping it stops its workers
            self.process = subprocess.Popen(self.command, cwd=self.tmp, env=env,
                                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)

        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"the app exited with {self.process.returncode}:\n{self.output()}")
            # the demo gig is seeded last, after the demo library's sync
            return http_status(self.url + "/readyz") == 200 and bool(self.query("SELECT id FROM gig LIMIT 1"))

        wait_until(ready, self.timeout, "the app to be ready with its demo band")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def close(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)  # uvicorn shuts down cleanly and closes the render pool
                try:
                    self.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=10)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)  # render workers left behind, if any (our group only)
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- reading the app's own database (read-only) ---
    def query(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        path = self.data_dir / "soleil.db"
        if not path.exists():
            return []
        try:
            with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as conn:
                return conn.execute(sql, tuple(params)).fetchall()
        except sqlite3.OperationalError:
            return []  # not migrated yet

    def demo_user_id(self, name: str) -> int | None:
        rows = self.query("SELECT u.id FROM user_account u JOIN membership m ON m.user_id = u.id "
                          "WHERE u.name = ? AND u.is_demo", (name,))
        return rows[0][0] if rows else None

    @property
    def page_cache(self) -> Path:
        return self.data_dir / "cache" / "pages"

    def cached_images(self) -> list[Path]:
        return list(self.page_cache.rglob("*.webp")) if self.page_cache.exists() else []

    def wait_prerendered(self, timeout: float = 120.0) -> int:
        """Wait until the background pre-render after the demo sync has written every page at every width."""
        from soleil_ui.rendering import PRERENDER_WIDTHS

        rows = self.query("SELECT DISTINCT checksum, page_count FROM chart WHERE status = 'ok' AND kind = 'chart'")
        expected = sum(pages for _, pages in rows) * len(PRERENDER_WIDTHS)
        wait_until(lambda: len(self.cached_images()) >= expected, timeout, f"{expected} pre-rendered page images",
                   interval=0.25)
        time.sleep(0.5)  # let the last worker finish its rename
        return expected


def sign_in(context: Any, server: AppServer, name: str) -> None:
    """What a tap on a demo member does: POST /auth/demo/<id> with the session's CSRF token (read from the GET's
    button page) sets the session cookie (in this browser context)."""
    user_id = server.demo_user_id(name)
    asked = context.request.get(f"{server.url}/auth/demo/{user_id}")
    found = CSRF.search(asked.text())
    if found is None:
        raise RuntimeError(f"demo sign-in page for {name} answered {asked.status} with no form")
    response = context.request.post(f"{server.url}/auth/demo/{user_id}", form={"csrf": found.group(1)},
                                    max_redirects=0)
    if response.status != 303:
        raise RuntimeError(f"demo sign-in as {name} answered {response.status}")


async def demo_sign_in(http: httpx.AsyncClient, user_id: int | None, *, base: str = "", name: str = "") -> None:
    """``sign_in`` for an httpx client (no browser): GET the demo member's button page for its CSRF token, POST it;
    the client's cookie jar then holds the session. ``base`` is for a client made without a ``base_url``."""
    if user_id is None:
        raise RuntimeError(f"no demo member named {name!r}")
    who = name or f"user {user_id}"
    asked = await http.get(f"{base}/auth/demo/{user_id}")
    found = CSRF.search(asked.text)
    if found is None:
        raise RuntimeError(f"demo sign-in page for {who} answered {asked.status_code} with no form")
    response = await http.post(f"{base}/auth/demo/{user_id}", data={"csrf": found.group(1)}, follow_redirects=False)
    if response.status_code != 303:
        raise RuntimeError(f"demo sign-in as {who} answered {response.status_code}")


# --- Chromium --------------------------------------------------------------------------------------------------------
def launch_chromium(playwright: Any) -> Any:
    if not os.access(CHROMIUM, os.X_OK):
        raise RuntimeError(f"{CHROMIUM} not found: install Debian's chromium (`make chromium`)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def device(playwright: Any, name: str = PHONE) -> dict[str, Any]:
    options = dict(playwright.devices[name])
    options.pop("default_browser_type", None)
    return options


@contextlib.contextmanager
def temp_dir(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def parts_wanted(argv: Sequence[str], known: Sequence[str]) -> list[str]:
    """``python -m bench.bench_x [part ...]``: the parts named, or all of them."""
    unknown = [a for a in argv if a not in known]
    if unknown:
        raise SystemExit(f"unknown part(s) {unknown}; choose from {list(known)}")
    return list(argv) or list(known)
