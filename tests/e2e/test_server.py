"""The installed `soleil run` as the container runs it, and readiness when the database goes away."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI, PG_HOST, PG_PORT, PG_USER, _pg_admin

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


def test_container_environment_runs_as_non_root_and_is_ready(live_server: Callable[..., str],
                                                              data_volume: Path) -> None:
    # The Dockerfile's environment: everything under the data volume, listening on all interfaces, no root.
    env = {"SOLEIL_DATA_DIR": str(data_volume), "NICEGUI_STORAGE_PATH": str(data_volume / ".nicegui"),
           "SOLEIL_SYNC_INTERVAL": "0"}
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
