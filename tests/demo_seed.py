"""The demo band seeded in a process of its own before an app process starts on the same database, for the tests
that run ``main.py`` (MCP, the live and multi-instance browser tests): migrations, the demo band and its library,
and, for the members a test names, what it must know in advance (their tokens, or each one's stand plan), so the
test knows ids and expected charts without racing the app's start-up.

``seed(env, kind, names)`` runs ``python -m tests.demo_seed KIND NAME...`` with ``env`` (from ``app_env``) and
returns what it printed: ``{"setlist": id, "people": {name: user id}, ...}`` plus what ``KIND`` adds.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from soleil_ui.access import Actor

REPO_ROOT = Path(__file__).resolve().parent.parent
SETLIST = "Friday at the Blue Room"  # the demo band's setlist
SEEDED = "SEEDED "


def app_env(tmp_path: Path, database_url: str, library: Path) -> dict[str, str]:
    """The settings of an app process on the demo band (and of its seeding), as environment variables."""
    return {"SOLEIL_DATA_DIR": str(tmp_path / "data"), "SOLEIL_DATABASE_URL": database_url,
            "SOLEIL_SECRET_KEY": "demo-seed-secret-key-" + "x" * 32, "SOLEIL_DEMO": "1",
            "SOLEIL_LIBRARY_DIR": str(library), "SOLEIL_SYNC_INTERVAL": "0", "SOLEIL_LOG_LEVEL": "WARNING"}


def seed(env: dict[str, str], kind: str, names: Sequence[str]) -> dict[str, Any]:
    """Seed the database ``env`` points at, in a fresh interpreter (the test process's settings stay out of it).

    A SQLite database inside the data directory is seeded once per test process and library: later calls copy that
    database and its content-addressed blobs, and return what the first call printed (the same ids and tokens)."""
    key = (kind, tuple(names), env.get("SOLEIL_LIBRARY_DIR", ""), env.get("SOLEIL_SECRET_KEY", ""))
    data, database = Path(env["SOLEIL_DATA_DIR"]), _sqlite_file(env)
    copyable = database is not None and database.parent == data and not database.exists()
    if copyable and key in _seeded:
        template, out = _seeded[key]
        copy_seeded(template, database, data)
        return json.loads(out)
    child = {k: v for k, v in os.environ.items() if not k.startswith(("SOLEIL_", "NICEGUI_", "PYTEST_"))}
    done = subprocess.run([sys.executable, "-m", "tests.demo_seed", kind, *names], cwd=REPO_ROOT,
                          env={**child, **env}, capture_output=True, text=True, timeout=180, check=False)
    line = next((line for line in done.stdout.splitlines() if line.startswith(SEEDED)), None)
    assert line, done.stdout + done.stderr
    out = line.removeprefix(SEEDED)
    if copyable and database is not None and not database.with_name(database.name + "-wal").exists():
        template = Path(tempfile.mkdtemp(prefix="soleil-seed-"))
        atexit.register(shutil.rmtree, template, True)
        shutil.copytree(data / "blobs", template / "blobs")
        shutil.copy(database, template / database.name)  # closed by the seeding process (no -wal beside it)
        _seeded[key] = (template, out)
    return json.loads(out)


_seeded: dict[tuple[str, tuple[str, ...], str, str], tuple[Path, str]] = {}


def copy_seeded(template: Path, database: Path, data: Path) -> None:
    """Put a seeded band in place: ``template`` holds the closed database (as ``database``'s name) and its
    content-addressed ``blobs``; the copies go to ``database`` and ``data``/blobs."""
    shutil.copytree(template / "blobs", data / "blobs", dirs_exist_ok=True)
    shutil.copy(template / database.name, database)


def _sqlite_file(env: dict[str, str]) -> Path | None:
    url = env.get("SOLEIL_DATABASE_URL", "")
    return Path(url.removeprefix("sqlite+aiosqlite:///")) if url.startswith("sqlite+aiosqlite:///") else None


async def _tokens(session: Any, actor: Actor, out: dict[str, Any]) -> None:
    """Every token this member may make (read; write for leaders), as ``tokens["Name:scope"]``."""
    from soleil_ui.services import tokens

    mine = out.setdefault("tokens", {})
    for scope in tokens.scopes_for(actor):
        mine[f"{actor.name}:{scope}"] = (await tokens.create_token(session, actor, "mcp", scope=scope))[1]


async def _plans(session: Any, actor: Actor, out: dict[str, Any]) -> None:
    """The chart each song of the setlist opens on this member's stand (``plans[name][title]``) and the setlist's
    songs (``songs[item id]``)."""
    from soleil_ui.services import setlist_plan

    plan = await setlist_plan.stand_plan(session, actor, out["setlist"])
    out.setdefault("plans", {})[actor.name] = {s.title: s.chart.id if s.chart else None for s in plan.stops}
    out["songs"] = {s.item_id: s.title for s in plan.stops}


KINDS: dict[str, Callable[[Any, Actor, dict[str, Any]], Awaitable[None]]] = {"tokens": _tokens, "plans": _plans}


async def _seed(kind: str, names: Sequence[str]) -> dict[str, Any]:
    from sqlmodel import col, select

    from soleil_ui import runtime
    from soleil_ui.db import db
    from soleil_ui.demo import ensure_demo
    from soleil_ui.models import Membership, Setlist, User
    from soleil_ui.services import auth
    from soleil_ui.settings import get_settings

    settings = get_settings()
    runtime.configure(settings)
    await db.migrate()
    await ensure_demo(settings)
    out: dict[str, Any] = {"people": {}}
    async with db.session() as session:
        out["setlist"] = (await session.exec(select(Setlist.id).where(Setlist.name == SETLIST))).one()
        for user, membership in (await session.exec(select(User, Membership).join(
                Membership, col(Membership.user_id) == User.id))).all():
            out["people"][user.name] = user.id
            if user.name in names:
                assert user.id is not None
                actor = await auth.resolve(session, await auth.start_session(session, user.id, membership.band_id))
                await KINDS[kind](session, actor, out)
    runtime.get_runtime().renderer.close()
    await db.dispose()
    return out


if __name__ == "__main__":
    print(SEEDED + json.dumps(asyncio.run(_seed(sys.argv[1], sys.argv[2:]))), flush=True)
