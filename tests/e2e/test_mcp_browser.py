"""An AI assistant builds a setlist through the MCP tools while the leader watches in Chromium (tablet): the new
setlist appears in their open list, and every song, the set break and the key of the night appear in their open
editor, in order, without a reload. The assistant is the MCP SDK's own client over HTTP with the leader's token."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import expect

from tests.mcp_helpers import app_env, call, mcp_client, seed

pytestmark = pytest.mark.browser
T = TypeVar("T")


def assistant(url: str, secret: str, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run one conversation of the assistant's (an async MCP session) beside Playwright's busy event loop."""

    async def session() -> T:
        async with mcp_client(url, secret) as client:
            return await work(client)

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, session()).result()


def test_an_assistant_builds_a_set_that_the_leaders_open_editor_shows(live_server: Any, tablet: Any,
                                                                     tmp_path: Path, demo_library_dir: Path) -> None:
    env = app_env(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'soleil.db'}", demo_library_dir)
    seeded = seed(env)
    url = live_server(["main.py"], env, "/readyz")
    secret = seeded["tokens"]["Morgan Lee:write"]
    page = tablet.new_page()
    page.goto(f"{url}/auth/demo/{seeded['people']['Morgan Lee']}")  # asks; the button posts with the CSRF token
    page.get_by_role("button", name=re.compile("^Enter as")).click()
    expect(page.get_by_text("Next gig")).to_be_visible()
    page.goto(f"{url}/setlists")
    expect(page.get_by_text("Friday at the Blue Room")).to_be_visible()
    page.evaluate("() => { window.__sameDocument = true }")  # gone if the page ever reloads

    async def start(client: Any) -> dict[str, Any]:
        songs = (await call(client, "find_songs", limit=6))["items"]
        made = await call(client, "create_setlist", name="Late set, ballads")
        return {"songs": songs, "setlist": made}

    started = assistant(url, secret, start)
    expect(page.get_by_text("Late set, ballads")).to_be_visible()  # the open list, in place
    assert page.evaluate("() => window.__sameDocument === true")

    page.get_by_text("Late set, ballads").click()
    expect(page.get_by_role("button", name="Add songs")).to_be_visible()
    page.evaluate("() => { window.__sameDocument = true }")
    setlist_id, songs = started["setlist"]["id"], started["songs"]

    async def build(client: Any) -> dict[str, Any]:
        await call(client, "add_songs", setlist_id=setlist_id, song_ids=[s["id"] for s in songs[:3]])
        done = (await call(client, "add_songs", setlist_id=setlist_id, song_ids=[s["id"] for s in songs[3:5]],
                           set_break_before="Encore"))["setlist"]
        first = done["entries"][0]["item_id"]
        return (await call(client, "edit_entry", setlist_id=setlist_id, item_id=first, key_of_the_night="Eb",
                           notes="rubato intro"))["setlist"]

    built = assistant(url, secret, build)
    rows = page.locator("[data-item-id]")
    expect(rows).to_have_count(6)
    order = [int(x) for x in rows.evaluate_all("rows => rows.map(r => r.dataset.itemId)")]
    assert order == [e["item_id"] for e in built["entries"]]
    expect(rows.nth(3)).to_contain_text("Encore")
    for position, song in zip((0, 1, 2, 4, 5), songs[:5], strict=True):
        expect(rows.nth(position)).to_contain_text(song["title"])
    expect(rows.nth(0)).to_contain_text("rubato intro")
    expect(rows.nth(0)).to_contain_text("E♭")
    assert page.evaluate("() => window.__sameDocument === true")  # never reloaded

    # The API's documentation renders from the app's own files (no CDN): every request stays on this server.
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((url, "data:")) else None)
    page.goto(f"{url}/api/docs")
    expect(page.get_by_text("SOLEil API").first).to_be_visible()
    expect(page.get_by_text("/api/v1/setlists/{setlist_id}/ops").first).to_be_visible()
    assert outside == []
