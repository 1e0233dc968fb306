"""A real app process for the MCP tests: the demo band seeded first (with tokens, ``tests.demo_seed``), then
``main.py`` started the way tests/e2e/conftest.py starts apps, and the SDK's own client connected over HTTP with a
bearer token."""

from __future__ import annotations

from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests import demo_seed
from tests.demo_seed import app_env

__all__ = ["app_env", "call", "mcp_client", "seed"]

TOKEN_HOLDERS = ("Morgan Lee", "Ava Brooks")  # the demo band's leader and its trumpet player


def seed(env: dict[str, str]) -> dict[str, Any]:
    """The demo band with every token ``TOKEN_HOLDERS`` may make: ``seeded["tokens"]["Morgan Lee:write"]``."""
    return demo_seed.seed(env, "tokens", TOKEN_HOLDERS)


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
