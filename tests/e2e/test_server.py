"""The installed `soleil run` as the container runs it, and readiness when the database goes away."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI, PG_HOST, PG_PORT, PG_USER, _pg_admin
from tests.e2e import processes
from tests.e2e.conftest import REPO_ROOT

SOLEIL = str(Path(sys.executable).with_name("soleil"))


def _get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def data_volume() -> Iterator[Path]:
    """A stand-in for the container's /data volume, owned by the unprivileged user that will run the app."""
    path = Path(tempfile.mkdtemp(prefix="soleil-data-"))
    path.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(path, "nobody", "nogroup")
    yield path
    shutil.rmtree(path, ignore_errors=True)


# Installed as a sitecustomize for the server: a module only the test extras install can't be imported, as in a
# runtime-only install (`make run`, the container). Optional imports fall back as they would there.
RUNTIME_ONLY = """
import importlib.abc, os, sys

BLOCKED = frozenset(os.environ["RUNTIME_ONLY_BLOCKED"].split(","))


class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (only the test extras install it)", name=name)
        return None


sys.meta_path.insert(0, NotInstalled())
"""


def _runtime_distributions() -> set[str]:
    """pyproject.toml's dependencies followed through the installed distributions' requirements (and the extras
    they ask for), without the test extra: what a runtime-only install gets."""
    import tomllib
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    todo = [Requirement(line) for line in project["dependencies"]]
    found: set[str] = set()
    done: set[tuple[str, frozenset[str]]] = set()
    while todo:
        requirement = todo.pop()
        key = (canonicalize_name(requirement.name), frozenset(requirement.extras))
        if key in done:
            continue
        done.add(key)
        try:
            dist = distribution(requirement.name)
        except PackageNotFoundError:
            continue
        found.add(key[0])
        for line in dist.requires or []:
            child = Requirement(line)
            if not child.marker or any(child.marker.evaluate({"extra": e}) for e in (requirement.extras or {""})):
                todo.append(child)
    return found


def _only_runtime_dependencies(folder: Path) -> dict[str, str]:
    """Environment for a server that can import only what a runtime-only install has."""
    from importlib.metadata import packages_distributions

    from packaging.utils import canonicalize_name

    runtime = _runtime_distributions()
    blocked = {module for module, dists in packages_distributions().items()
               if not {canonicalize_name(d) for d in dists} & (runtime | {"soleil"})}
    blocked -= {"coverage", "_distutils_hack"}  # measuring this very run; setuptools' start-up hook
    folder.mkdir(mode=0o755)
    (folder / "sitecustomize.py").write_text(RUNTIME_ONLY)
    (folder / "sitecustomize.py").chmod(0o644)
    path = os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, "RUNTIME_ONLY_BLOCKED": ",".join(sorted(blocked))}


def test_container_environment_runs_as_non_root_and_is_ready(live_server: Callable[..., str],
                                                              data_volume: Path) -> None:
    # The Dockerfile's environment: everything under the data volume, listening on all interfaces, no root, and
    # nothing the test extras install (SQLAlchemy 2.1 stopped pulling in greenlet; only Playwright brought it).
    env = {"SOLEIL_DATA_DIR": str(data_volume), "NICEGUI_STORAGE_PATH": str(data_volume / ".nicegui"),
           "SOLEIL_SYNC_INTERVAL": "0", **_only_runtime_dependencies(data_volume / "site")}
    assert "greenlet" not in env["RUNTIME_ONLY_BLOCKED"].split(",") and "playwright" in env["RUNTIME_ONLY_BLOCKED"]
    argv = [SOLEIL, "run"]
    if os.geteuid() == 0:
        # Drop to uid/gid nobody. This machine's Python lives under /root (mode 0700), unlike the image's
        # /usr/local, so the process keeps CAP_DAC_READ_SEARCH to read the interpreter — it still can't write
        # anything it doesn't own, which is what running as non-root is about.
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=+dac_read_search",
                "--ambient-caps=+dac_read_search", *argv]
    server = live_server(argv, env, ready_path="/readyz", timeout=90)
    status, body = _get(server + "/readyz")
    assert (status, body["status"]) == (200, "ready")
    assert (data_volume / "soleil.db").exists() and (data_volume / "secret.key").exists()
    if os.geteuid() == 0:
        assert (data_volume / "soleil.db").stat().st_uid == 65534  # written by the unprivileged user
    status, body = _get(server + "/healthz")
    assert (status, body["status"]) == (200, "ok") and body["instance"]
    with urllib.request.urlopen(server + "/login", timeout=10) as response:  # the demo's one-tap sign-in page
        assert response.status == 200 and "Morgan Lee" in response.read().decode()
    check = subprocess.run([sys.executable, "-m", "soleil_ui.healthcheck"], capture_output=True, text=True,
                           env={**os.environ, "SOLEIL_PORT": str(server.port), "SOLEIL_HOST": "0.0.0.0"},
                           timeout=60, check=False)
    assert check.returncode == 0, check.stderr  # the HEALTHCHECK, as the image runs it


@pytest.fixture
def pg_url() -> Iterator[str]:
    name = f"soleil_ready_{uuid.uuid4().hex[:8]}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except OSError as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL unreachable under CI=true: {exc}")
        pytest.skip("PostgreSQL is not reachable")
    yield f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_readyz_turns_503_when_the_database_goes_away(live_server: Callable[..., str], pg_url: str,
                                                      tmp_path: Path) -> None:
    env = {"SOLEIL_DATABASE_URL": pg_url, "SOLEIL_SECRET_KEY": "k" * 40, "SOLEIL_DATA_DIR": str(tmp_path),
           "SOLEIL_DEMO": "0", "SOLEIL_SYNC_INTERVAL": "0"}
    server = live_server([SOLEIL, "run"], env, ready_path="/readyz", timeout=90)
    assert _get(server + "/readyz")[0] == 200
    name = pg_url.rsplit("/", 1)[1]
    asyncio.run(_pg_admin(f'DROP DATABASE "{name}" WITH (FORCE)'))
    status, body = _get(server + "/readyz")
    assert (status, body) == (503, {"status": "unavailable", "reason": "database unreachable"})
    assert _get(server + "/healthz")[0] == 200  # alive, just not ready


@pytest.mark.parametrize("signals", [("group", signal.SIGTERM), ("main", signal.SIGINT, "group", signal.SIGTERM)],
                         ids=["SIGTERM-to-group", "SIGINT-then-SIGTERM-to-group"])
def test_stopping_the_server_ends_every_worker_it_started(tmp_path: Path, signals: tuple[object, ...],
                                                         demo_library_dir: Path) -> None:
    # Stopped while the demo's pages are still being rendered ahead: the signal kills the render workers, the
    # renderer retries on a fresh pool during the shutdown, and that worker and the resource tracker used to stay.
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOLEIL_", "NICEGUI_", "PYTEST_"))}
    env.update(SOLEIL_DATA_DIR=str(tmp_path / "data"), SOLEIL_PORT=str(port), SOLEIL_SYNC_INTERVAL="0",
               SOLEIL_LIBRARY_DIR=str(demo_library_dir),
               NICEGUI_STORAGE_PATH=str(tmp_path / ".nicegui"))
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen([SOLEIL, "run"], env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while server.poll() is None and time.monotonic() < deadline and not _ready(port):
            time.sleep(0.1)  # a bounded deadline for the server to listen
        assert _ready(port), (tmp_path / "server.log").read_text()
        assert processes.wait_for(lambda: len(processes.group(server.pid)) >= 3, 30), "no render workers started"
        for target, signum in zip(signals[::2], signals[1::2], strict=True):
            if target == "group":
                os.killpg(server.pid, signum)  # type: ignore[arg-type]
            else:
                server.send_signal(signum)  # type: ignore[arg-type]
        server.wait(timeout=60)
        left = processes.wait_gone(processes.group(server.pid), 30)
        assert not left, f"still running after the server stopped: {processes.describe(left)}"
        output = (tmp_path / "server.log").read_text()
        assert f"SOLEil is ready on http://127.0.0.1:{port}" in output
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
        log.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ready(port: int) -> bool:
    try:
        return _get(f"http://127.0.0.1:{port}/readyz")[0] == 200
    except OSError:
        return False
