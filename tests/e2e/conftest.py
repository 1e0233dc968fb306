"""Browser test harness: Debian's Chromium driven by Playwright's sync API, and apps started as subprocesses.

Write e2e tests as plain ``def test_…`` functions (never ``async def``: the sync Playwright API refuses to run
inside an event loop) and mark them ``@pytest.mark.browser`` (``pytestmark = pytest.mark.browser`` per module).
Wait with Playwright's auto-waiting ``expect(...)``, never ``time.sleep``.

Fixtures
--------
``chromium_path`` (session) -> str
    ``/usr/bin/chromium`` (or ``$SOLEIL_CHROMIUM``). Missing: the test is skipped, but under ``CI=true`` it fails.
``playwright`` (module) -> playwright.sync_api.Playwright
``browser`` (module) -> Browser
    Chromium launched headless with the flags this closed network needs (``CHROMIUM_ARGS``). Module-scoped on
    purpose: a live sync Playwright marks its event loop as running in the main thread, which would break the
    ``async def`` tests of later modules; it is stopped when each e2e module is done.
``new_context`` (function) -> ``new_context(device: str | None = None, **options) -> BrowserContext``
    Factory for extra contexts (e.g. two musicians at once); ``device`` is a ``playwright.devices`` name.
    Contexts are closed at teardown; their console errors and page errors are printed when the test fails.
``phone`` / ``tablet`` / ``tablet_landscape`` (function) -> BrowserContext
    "iPhone 13" (390×664 @3x, touch), "iPad (gen 7)" (810×1080 @2x) and "iPad (gen 7) landscape" (1080×810).
    Open pages with ``page = phone.new_page()``.
``live_server`` (function) -> ``live_server(argv, env=None, ready_path="/", *, timeout=30.0, cwd=None) -> LiveServer``
    Starts ``argv`` as a subprocess on a free 127.0.0.1 port, waits until ``GET ready_path`` answers (any status
    below 500), returns its base URL (a ``str`` subclass, e.g. ``"http://127.0.0.1:41234"``, with ``.port``,
    ``.process`` and ``.output()``) and terminates it at teardown, printing its output if the test failed.
    ``argv[0]`` ending in ``.py`` (or being ``python``) runs with this interpreter; a console script of this venv
    (``soleil``) is found next to it. The child gets the port as ``PORT`` and ``SOLEIL_PORT``,
    ``SOLEIL_HOST=127.0.0.1``, its own ``NICEGUI_STORAGE_PATH``, ``PYTHONUNBUFFERED=1``, and *not* the parent's
    ``PYTEST_CURRENT_TEST`` nor any ``NICEGUI_*`` variable (NiceGUI would think it runs under pytest and never
    listen); ``env`` is applied last. The app must call ``ui.run(..., reload=False, show=False)``.
``session_live_server`` (session) -> same signature
    Like ``live_server`` but one process per distinct (argv, env, ready_path, cwd) for the whole session:
    for read-only tests where every test opens its own page (each page load is a fresh NiceGUI client).
"""

from __future__ import annotations

import contextlib
import inspect
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest

CHROMIUM = "/usr/bin/chromium"
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
TABLET = "iPad (gen 7)"
TABLET_LANDSCAPE = "iPad (gen 7) landscape"
REPO_ROOT = Path(__file__).resolve().parents[2]


# --- test outcome, for printing diagnostics only when a test failed ------------------------------------------------
@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    report = yield
    setattr(item, f"_e2e_report_{report.when}", report)
    return report


def _failed(request: pytest.FixtureRequest) -> bool:
    node = request.node
    return any(getattr(getattr(node, f"_e2e_report_{when}", None), "failed", False) for when in ("setup", "call"))


# --- browser ---------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("SOLEIL_CHROMIUM", CHROMIUM)
    if not os.access(path, os.X_OK):
        message = f"{path} not found: install Debian's chromium (`make chromium`) to run the browser tests"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


# Module scope, not session: between its calls the sync API leaves its event loop marked as running in this thread,
# which breaks every later ``async def`` test (pytest-asyncio: "Runner.run() cannot be called from a running event
# loop"). Stopping Playwright when the module is done keeps the rest of the suite working; Chromium starts in ~0.5 s.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Any, chromium_path: str) -> Iterator[Any]:
    browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()


def _device(playwright: Any, name: str) -> dict[str, Any]:
    options = dict(playwright.devices[name])
    options.pop("default_browser_type", None)
    return options


@pytest.fixture
def new_context(playwright: Any, browser: Any, request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    contexts: list[Any] = []
    problems: list[str] = []

    def create(device: str | None = None, **options: Any) -> Any:
        context = browser.new_context(**{**(_device(playwright, device) if device else {}), **options})
        context.set_default_timeout(10_000)
        context.on("console", lambda m: problems.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
        context.on("weberror", lambda e: problems.append(f"page error: {e.error}"))
        contexts.append(context)
        return context

    yield create
    if problems and _failed(request):
        print("\n--- browser console ---\n" + "\n".join(problems))
    for context in contexts:
        with contextlib.suppress(Exception):
            context.close()


@pytest.fixture
def phone(new_context: Callable[..., Any]) -> Any:
    return new_context(PHONE)


@pytest.fixture
def tablet(new_context: Callable[..., Any]) -> Any:
    return new_context(TABLET)


@pytest.fixture
def tablet_landscape(new_context: Callable[..., Any]) -> Any:
    return new_context(TABLET_LANDSCAPE)


# --- apps as subprocesses --------------------------------------------------------------------------------------------
class LiveServer(str):
    """The base URL of a running app, with its process and output."""

    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def __new__(cls, url: str, *, port: int, process: subprocess.Popen[bytes], log_path: Path) -> LiveServer:
        server = super().__new__(cls, url)
        server.port, server.process, server.log_path = port, process, log_path
        return server

    def output(self) -> str:
        """Everything the app printed so far (stdout and stderr)."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # NiceGUI/uvicorn shut down cleanly; coverage saves on SIGTERM
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _command(argv: list[str]) -> list[str]:
    if not argv:
        raise ValueError("live_server needs a command")
    first, *rest = argv
    if first.endswith(".py"):
        return [sys.executable, first, *rest]
    if first in {"python", "python3"}:
        return [sys.executable, *rest]
    script = Path(sys.executable).parent / first
    if os.sep not in first and script.exists():
        return [str(script), *rest]
    return list(argv)


def _child_env(port: int, storage: Path, env: dict[str, str] | None) -> dict[str, str]:
    child = {
        key: value
        for key, value in os.environ.items()
        if key != "PYTEST_CURRENT_TEST" and not key.startswith(("NICEGUI_", "PYTEST_XDIST"))
    }
    child.update(
        PORT=str(port),
        SOLEIL_PORT=str(port),
        SOLEIL_HOST="127.0.0.1",
        NICEGUI_STORAGE_PATH=str(storage),
        PYTHONUNBUFFERED="1",
    )
    child.update(env or {})
    return child


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError as error:
        return error.code < 500
    except (OSError, ValueError):
        return False


def start_live_server(
    argv: list[str],
    env: dict[str, str] | None = None,
    ready_path: str = "/",
    *,
    timeout: float = 30.0,
    cwd: str | Path | None = None,
    workdir: Path,
) -> LiveServer:
    """Start ``argv`` on a free port and wait until ``ready_path`` answers (up to 3 tries if the port was taken)."""
    last_output = ""
    for attempt in range(3):
        port = _free_port()
        storage = Path(tempfile.mkdtemp(prefix="nicegui-storage-", dir=workdir))
        log_path = workdir / f"server-{port}-{attempt}.log"
        log: IO[bytes] = log_path.open("wb")
        process = subprocess.Popen(
            _command(argv),
            cwd=str(cwd or REPO_ROOT),
            env=_child_env(port, storage, env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        server = LiveServer(f"http://127.0.0.1:{port}", port=port, process=process, log_path=log_path)
        deadline = time.monotonic() + timeout
        while process.poll() is None and time.monotonic() < deadline:
            if _answers(server + ready_path):
                return server
            time.sleep(0.1)  # polling a bounded deadline for the process to listen
        server.stop()
        last_output = server.output()
        if "address already in use" not in last_output.lower():
            break
    raise RuntimeError(f"{argv} did not answer {ready_path} within {timeout}s:\n{last_output}")


@pytest.fixture
def live_server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Callable[..., LiveServer]]:
    servers: list[LiveServer] = []
    workdir = tmp_path_factory.mktemp("live_server")

    def start(
        argv: list[str],
        env: dict[str, str] | None = None,
        ready_path: str = "/",
        *,
        timeout: float = 30.0,
        cwd: str | Path | None = None,
    ) -> LiveServer:
        server = start_live_server(argv, env, ready_path, timeout=timeout, cwd=cwd, workdir=workdir)
        servers.append(server)
        return server

    start.servers = servers  # type: ignore[attr-defined]  # tests/conftest.py reads their logs (server_errors)
    yield start
    for server in servers:
        server.stop()
        if _failed(request):
            print(f"\n--- output of {server} (exit code {server.process.returncode}) ---\n{server.output()}")


@pytest.fixture(scope="session")
def session_live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., LiveServer]]:
    servers: dict[tuple[Any, ...], LiveServer] = {}
    workdir = tmp_path_factory.mktemp("session_live_server")

    def start(
        argv: list[str],
        env: dict[str, str] | None = None,
        ready_path: str = "/",
        *,
        timeout: float = 30.0,
        cwd: str | Path | None = None,
    ) -> LiveServer:
        key = (tuple(argv), tuple(sorted((env or {}).items())), ready_path, str(cwd))
        server = servers.get(key)
        if server is None or server.process.poll() is not None:
            if server is not None:
                print(f"\n--- {server} died (exit code {server.process.returncode}) ---\n{server.output()}")
            server = servers[key] = start_live_server(argv, env, ready_path, timeout=timeout, cwd=cwd, workdir=workdir)
        return server

    start.servers = servers  # type: ignore[attr-defined]  # tests/conftest.py reads their logs (server_errors)
    yield start
    for server in servers.values():
        server.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/e2e is a browser test, marked or not, and none of them may be ``async def``."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            if inspect.iscoroutinefunction(getattr(item, "obj", None)):
                raise pytest.UsageError(f"{item.nodeid}: e2e tests use the sync Playwright API, write `def test_…`")
