"""The MCP server with the SDK's own client over real HTTP, against the app running as its own process (SQLite):
tokens as for the JSON API, every tool a member and a leader have, and a leader building a set and calling it live."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from nicegui.testing import User
from sqlmodel import select

from tests.e2e.conftest import LiveServer, start_live_server
from tests.mcp_helpers import app_env, call, mcp_client, seed

TOOLS = {"find_songs", "part_choices", "song_details", "member_part", "band_members", "last_played", "list_setlists",
         "read_setlist", "set_running_time", "list_gigs", "read_gig", "create_setlist", "add_songs", "add_set_break",
         "move_entry", "remove_entry", "edit_entry", "rename_setlist", "undo_setlist_change", "live_status",
         "call_song", "stop_live"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, demo_library_dir: Path) -> Iterator[tuple[LiveServer, dict]]:
    base = tmp_path_factory.mktemp("mcp")
    env = app_env(base, f"sqlite+aiosqlite:///{base / 'soleil.db'}", demo_library_dir)
    seeded = seed(env)
    server = start_live_server(["main.py"], env, "/readyz", timeout=90, workdir=base)
    yield server, seeded
    server.stop()


async def test_mcp_needs_a_valid_token(app: tuple[LiveServer, dict[str, Any]]) -> None:
    url, _ = app
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
        response = await http.post(f"{url}/mcp", headers={"Authorization": "Bearer sol_nope"}, json={})
        assert response.status_code == 401
    with pytest.raises(Exception):  # noqa: B017 - the SDK reports the 401 its own way
        async with mcp_client(url, None) as client:
            await client.list_tools()


async def test_a_get_is_answered_not_held_open(app: tuple[LiveServer, dict[str, Any]]) -> None:
    """Stateless JSON MCP offers no event stream: a GET, even with a good token, answers 405 at once instead of
    holding a connection open for ever (the spec's answer for a server without a GET stream)."""
    url, seeded = app
    secret = next(iter(seeded["tokens"].values()))
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.get(f"{url}/mcp", headers={"Authorization": f"Bearer {secret}",
                                                         "Accept": "text/event-stream"})
    assert response.status_code == 405 and response.json()["error"]["code"] == "method_not_allowed"
    assert "POST" in response.headers["allow"]


async def test_a_members_tools_read_the_book_setlists_and_gigs(app: tuple[LiveServer, dict[str, Any]]) -> None:
    url, seeded = app
    await member_flow(lambda secret: mcp_client(url, secret), seeded)


async def test_a_leader_builds_a_set_and_calls_it_live(app: tuple[LiveServer, dict[str, Any]]) -> None:
    url, seeded = app
    await leader_flow(lambda secret: mcp_client(url, secret), seeded)


@pytest.mark.usefixtures("demo_env")
async def test_the_same_tools_inside_the_app(user: User) -> None:
    """The flows again with the app in this process (its code measured here), over ASGI instead of a socket."""
    from nicegui import core

    from soleil_ui.services import tokens
    from tests.api_helpers import actor_named, demo_ids, token_for

    morgan, ava = await actor_named("Morgan Lee"), await actor_named("Ava Brooks")
    ids = await demo_ids(morgan.band_id)
    seeded = {"setlist": ids["setlist_id"], "tokens": {
        "Ava Brooks:read": await token_for(ava), "Morgan Lee:read": await token_for(morgan),
        "Morgan Lee:write": await token_for(morgan, tokens.WRITE)}}

    def connect(secret: str) -> Client:
        http = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=core.app), base_url="http://soleil.test",
                                  headers={"Authorization": f"Bearer {secret}"}, timeout=60)
        return Client(streamable_http_client("http://soleil.test/mcp", http_client=http))

    await member_flow(connect, seeded)
    await leader_flow(connect, seeded)


async def member_flow(connect: Callable[[str], Client], seeded: dict[str, Any]) -> None:
    async with connect(seeded["tokens"]["Ava Brooks:read"]) as client:
        tools = (await client.list_tools()).tools
        assert {t.name for t in tools} == TOOLS
        assert all(t.description and len(t.description) > 40 for t in tools)

        songs = await call(client, "find_songs", part="mine", limit=5)
        assert songs["items"] and songs["items"][0]["my_part"]["playable"] and songs["next_offset"] == 5
        song_id = songs["items"][0]["id"]
        details = await call(client, "song_details", song_id=song_id)
        assert details["title"] == songs["items"][0]["title"] and details["parts"]
        mine = await call(client, "member_part", song_id=song_id)
        assert mine["quality"] == "chair" and "Trumpet" in mine["part_label"] and mine["pages"] is None
        people = (await call(client, "band_members"))["items"]
        luis = next(p for p in people if p["name"] == "Luis Ortega")
        his = await call(client, "member_part", song_id=song_id, member_id=luis["membership_id"])
        assert his["chart_id"] != mine["chart_id"] and "Trumpet" not in his["part_label"]  # an alto player's pick
        assert (await call(client, "part_choices"))["items"]
        played = (await call(client, "last_played", song_ids=[song_id]))["items"]
        assert played == [{"song_id": song_id, "title": details["title"], "last_played_at": None, "days_ago": None}]

        setlists = await call(client, "list_setlists")
        setlist = await call(client, "read_setlist", setlist_id=seeded["setlist"])
        assert seeded["setlist"] in [s["id"] for s in setlists["items"]] and setlist["entries"]
        timing = await call(client, "set_running_time", setlist_id=seeded["setlist"])
        assert timing["sets"] == setlist["sets"] and timing["total_seconds"] == setlist["total_seconds"]
        gigs = await call(client, "list_gigs")
        gig = await call(client, "read_gig", gig_id=gigs["items"][0]["id"])
        assert gig["title"] == gigs["items"][0]["title"] and gig["answers"] is None
        assert (await call(client, "live_status"))["live"] is False

        refused = await client.call_tool("create_setlist", {"name": "Ava's set"})
        assert refused.is_error and "forbidden" in refused.content[0].text
        missing = await client.call_tool("read_setlist", {"setlist_id": 999999})
        assert missing.is_error and "not_found" in missing.content[0].text


async def leader_flow(connect: Callable[[str], Client], seeded: dict[str, Any]) -> None:
    async with connect(seeded["tokens"]["Morgan Lee:read"]) as client:
        refused = await client.call_tool("create_setlist", {"name": "Read only"})
        assert refused.is_error and "only read" in refused.content[0].text
    async with connect(seeded["tokens"]["Morgan Lee:write"]) as client:
        songs = [s["id"] for s in (await call(client, "find_songs", limit=8))["items"]]
        made = await call(client, "create_setlist", name="Second set, ballads", song_ids=songs[:4])
        assert [e["song_id"] for e in made["entries"]] == songs[:4]
        fourth = made["entries"][3]["item_id"]
        built = (await call(client, "add_songs", setlist_id=made["id"], song_ids=songs[4:6],
                            after_item_id=fourth, set_break_before="Break"))["setlist"]
        assert [e["title"] for e in built["entries"]][4] == "Break"
        assert [e["song_id"] for e in built["entries"] if not e["is_break"]] == songs[:6]
        first = built["entries"][0]["item_id"]
        moved = (await call(client, "move_entry", setlist_id=made["id"], item_id=first,
                            after_item_id=fourth))["setlist"]
        assert [e["item_id"] for e in moved["entries"]].index(first) == 3
        edited = (await call(client, "edit_entry", setlist_id=made["id"], item_id=first, key_of_the_night="Eb",
                             notes="rubato intro", duration="4:30"))["setlist"]
        entry = next(e for e in edited["entries"] if e["item_id"] == first)
        assert (entry["musical_key"], entry["notes"], entry["duration_seconds"]) == ("E♭", "rubato intro", 270)
        bad = await client.call_tool("edit_entry", {"setlist_id": made["id"], "item_id": first, "duration": "long"})
        assert bad.is_error and "invalid_input" in bad.content[0].text
        renamed = (await call(client, "rename_setlist", setlist_id=made["id"], name="Ballads"))["setlist"]
        assert renamed["name"] == "Ballads"
        back = await call(client, "undo_setlist_change", setlist_id=made["id"])
        assert back["name"] == "Second set, ballads"
        removed = (await call(client, "remove_entry", setlist_id=made["id"], item_id=first))["setlist"]
        assert first not in [e["item_id"] for e in removed["entries"]]
        assert (await call(client, "set_running_time", setlist_id=made["id"]))["sets"][0]["label"] == "Set 1"

        live = await call(client, "call_song", setlist_id=made["id"])
        assert live["live"] and live["current_item_id"] == removed["entries"][0]["item_id"]
        live = await call(client, "call_song", step=1)
        assert live["current_item_id"] == removed["entries"][1]["item_id"]
        assert (await call(client, "live_status"))["current_title"] == removed["entries"][1]["title"]
        assert (await call(client, "stop_live"))["live"] is False
        never = await client.call_tool("call_song", {"step": 1})
        assert never.is_error and "isn't live" in never.content[0].text


@pytest.mark.usefixtures("demo_env")
async def test_another_bands_leader_reaches_nothing_of_ours_through_any_tool(user: User) -> None:
    """Every tool the server lists (so new ones too), each id argument pointing at the demo band's things."""
    from nicegui import core

    from soleil_ui.db import db
    from soleil_ui.models import Song
    from soleil_ui.services import live, setlists, tokens
    from tests.api_helpers import actor_named, demo_ids, token_for
    from tests.factories import band_with_songs

    morgan = await actor_named("Morgan Lee")
    ids = await demo_ids(morgan.band_id)
    async with db.session() as session:
        entries = await setlists.entries(session, morgan, ids["setlist_id"])
        item = {"item_id": entries[1].item_id, "after_item_id": entries[0].item_id}
        titles = [s.title for s in (await session.exec(select(Song).where(Song.band_id == morgan.band_id))).all()]
        started = await live.start(session, morgan, ids["setlist_id"])
    ours = [*titles, "Friday at the Blue Room", "Morgan Lee", "Ava Brooks"]
    leader, _, _ = await band_with_songs("Elsewhere", songs=2)
    secret = await token_for(leader, tokens.WRITE)
    values: dict[str, Any] = {**ids, **item, "member_id": morgan.membership_id, "song_ids": [ids["song_id"]],
                              "name": "Taken", "label": "Taken", "notes": "taken", "step": 1}
    http = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=core.app), base_url="http://soleil.test",
                              headers={"Authorization": f"Bearer {secret}"}, timeout=60)
    async with Client(streamable_http_client("http://soleil.test/mcp", http_client=http)) as client:
        for tool in (await client.list_tools()).tools:
            wanted = tool.input_schema.get("properties", {})
            arguments = {k: values[k] for k in wanted if k in values}
            assert set(tool.input_schema.get("required", [])) <= set(arguments), f"{tool.name}: give test values"
            result = await client.call_tool(tool.name, arguments)
            text = " ".join(getattr(c, "text", "") for c in result.content)
            assert not [t for t in ours if t in text], f"{tool.name} leaked"
            if any(k.endswith("_id") or k == "song_ids" for k in arguments) and tool.name != "create_setlist":
                assert result.is_error and ("not_found" in text or "forbidden" in text or "invalid_input" in text), \
                    (tool.name, text)
    async with db.session() as session:
        state = await live.current(session, morgan)
        assert state is not None and (state.current_item_id, state.seq) == (started.current_item_id, started.seq)
        assert await setlists.entries(session, morgan, ids["setlist_id"]) == entries
