"""A real app process for the MCP tests: the demo band seeded first (with tokens), then ``main.py`` started the way
tests/e2e/conftest.py starts apps, and the SDK's own client connected over HTTP with a bearer token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.conftest import REPO_ROOT

SEED = """
import asyncio, json
from sqlmodel import select
from soleil_ui import runtime
from soleil_ui.db import db
from soleil_ui.demo import ensure_demo
from soleil_ui.models import Membership, Setlist, User
from soleil_ui.services import auth, tokens
from soleil_ui.settings import get_settings

async def seed():
    settings = get_settings()
    runtime.configure(settings)
    await db.migrate()
    await ensure_demo(settings)
    out = {"people": {}, "tokens": {}}
    async with db.session() as session:
        out["setlist"] = (await session.exec(select(Setlist.id).where(Setlist.name == "Friday at the Blue Room"))).one()
        for user, membership in (await session.exec(select(User, Membership).join(
                Membership, Membership.user_id == User.id))).all():
            out["people"][user.name] = user.id
            if user.name in ("Morgan Lee", "Ava Brooks"):
                actor = await auth.resolve(session, await auth.start_session(session, user.id, membership.band_id))
                for scope in tokens.scopes_for(actor):
                    out["tokens"][f"{user.name}:{scope}"] = (await tokens.create_token(session, actor, "mcp",
                                                                                      scope=scope))[1]
    runtime.get_runtime().renderer.close()
    await db.dispose()
    print("SEEDED " + json.dumps(out))

asyncio.run(seed())
"""


def app_env(tmp_path: Path, database_url: str, library: Path) -> dict[str, str]:
    return {"SOLEIL_DATA_DIR": str(tmp_path / "data"), "SOLEIL_DATABASE_URL": database_url,
            "SOLEIL_SECRET_KEY": "mcp-test-secret-key-" + "x" * 32, "SOLEIL_DEMO": "1",
            "SOLEIL_LIBRARY_DIR": str(library), "SOLEIL_SYNC_INTERVAL": "0", "SOLEIL_LOG_LEVEL": "WARNING"}


def seed(env: dict[str, str]) -> dict[str, Any]:
    child = {k: v for k, v in os.environ.items() if not k.startswith(("SOLEIL_", "NICEGUI_", "PYTEST_"))}
    done = subprocess.run([sys.executable, "-c", SEED], cwd=REPO_ROOT, env={**child, **env}, capture_output=True,
                          text=True, timeout=180, check=False)
    line = next((line for line in done.stdout.splitlines() if line.startswith("SEEDED ")), None)
    assert line, done.stdout + done.stderr
    return json.loads(line.removeprefix("SEEDED "))


def mcp_client(url: str, secret: str | None) -> Client:
    """The SDK's client on the app's /mcp, sending ``secret`` as a bearer token."""
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    http = httpx2.AsyncClient(headers=headers, timeout=60)
    return Client(streamable_http_client(f"{url}/mcp", http_client=http))


async def call(client: Client, tool: str, **arguments: Any) -> Any:
    """A tool's structured answer; a tool error fails with its text."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    return result.structured_content
