"""Rate limits: the counters in each storage (memory, Redis, our own table on both databases), and the limits as
people meet them through the real app: sign-in starts, demo sign-ins, invites and page images answer 429 with
Retry-After when overdone, per account when signed in and per address only when not, while a whole band behind one
venue address makes a 25-song set offline at once without a single 429."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from nicegui import app as nicegui_app
from nicegui.testing import User
from sqlmodel import select

from soleil_ui import ratelimit
from soleil_ui.db import db
from soleil_ui.demo import demo_people
from soleil_ui.errors import TooManyRequests
from soleil_ui.models import Chart, RateLimit, Role, Song
from soleil_ui.ratelimit_sql import DatabaseStorage
from soleil_ui.services import invites, setlists, tokens
from soleil_ui.services.sync import sync_configured
from soleil_ui.settings import Settings, get_settings
from tests.api_helpers import actor_named, bearer, token_for
from tests.library_helpers import add_member, band_with_member, csrf_from, session_cookie, titled_pdf

REDIS_URL = "redis://127.0.0.1:6379/15"
TRUMPET = [{"instrument": "trumpet", "chair": 1}]


def _settings(monkeypatch: pytest.MonkeyPatch, **values: str) -> Settings:
    for name, value in values.items():
        monkeypatch.setenv(f"SOLEIL_{name.upper()}", value)
    get_settings.cache_clear()
    return get_settings()


# --- storages ----------------------------------------------------------------------------------------------------
@pytest.mark.usefixtures("core")
async def test_database_storage_counts_every_concurrent_hit_once_and_restarts_a_finished_window() -> None:
    storage = DatabaseStorage()
    counts = await asyncio.gather(*(storage.incr("k", 60) for _ in range(20)))
    assert sorted(counts) == list(range(1, 21))  # one atomic upsert per hit: none lost, none counted twice
    assert await storage.get("k") == 20
    assert time.time() < await storage.get_expiry("k") <= time.time() + 60
    async with db.engine.begin() as connection:  # the window is over
        await connection.execute(sa.update(RateLimit).values(expires_at=time.time() - 1))
    assert await storage.get("k") == 0
    assert await storage.incr("k", 60) == 1
    await storage.incr("other", 60)
    async with db.engine.begin() as connection:
        await connection.execute(sa.update(RateLimit).where(RateLimit.key == "other").values(expires_at=0))
    assert await storage.sweep() == 1 and await storage.check()


@pytest.mark.usefixtures("core")
async def test_limiter_on_the_database_refuses_over_the_limit_with_the_seconds_to_wait(
        monkeypatch: pytest.MonkeyPatch) -> None:
    limiter = ratelimit.Limiter(_settings(monkeypatch, rate_limit_storage="database", limit_join="3/minute"))
    assert isinstance(limiter.storage, DatabaseStorage)
    for _ in range(3):
        await limiter.hit("join", "ip:10.0.0.1")
    with pytest.raises(TooManyRequests) as refused:
        await limiter.hit("join", "ip:10.0.0.1")
    assert 1 <= refused.value.retry_after <= 60 and refused.value.status_code == 429
    assert "try again in" in refused.value.user_message
    await limiter.hit("join", "ip:10.0.0.2")  # another address has its own window


async def test_limiter_in_redis_when_a_redis_url_is_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = _settings(monkeypatch, redis_url=REDIS_URL, limit_invites="2/hour", data_dir=str(tmp_path))
    assert settings.limit_storage == "redis"
    limiter = ratelimit.Limiter(settings)
    assert await limiter.storage.check(), "Redis on 127.0.0.1:6379 is part of the test setup"
    who = f"user:{uuid.uuid4().hex}"
    await limiter.hit("invites", who)
    await limiter.hit("invites", who)
    with pytest.raises(TooManyRequests) as refused:
        await limiter.hit("invites", who)
    assert 3000 < refused.value.retry_after <= 3600
    get_settings.cache_clear()


async def test_storage_follows_the_deployment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert _settings(monkeypatch, data_dir=str(tmp_path)).limit_storage == "memory"
    assert _settings(monkeypatch, database_url="postgresql+asyncpg://x@h/db", secret_key="k" * 40
                     ).limit_storage == "database"
    assert _settings(monkeypatch, redis_url=REDIS_URL).limit_storage == "redis"
    get_settings.cache_clear()


# --- through the app ---------------------------------------------------------------------------------------------
@pytest.fixture
def tight(monkeypatch: pytest.MonkeyPatch, app_env: Settings) -> Settings:
    return _settings(monkeypatch, limit_sign_in="3/minute", limit_media="5/minute", limit_invites="2/hour",
                     trusted_proxies="127.0.0.1")


async def test_sign_in_starts_are_throttled_per_address(tight: Settings, user: User) -> None:
    for _ in range(3):
        assert (await user.http_client.get("/auth/google")).status_code == 303
    refused = await user.http_client.get("/auth/google")
    assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 60
    assert "try again in" in refused.text
    other = await user.http_client.get("/auth/google", headers={"X-Forwarded-For": "10.9.9.9"})
    assert other.status_code == 303  # another address (told by the trusted proxy) has its own window


async def test_demo_sign_ins_are_throttled(demo_env: Settings, monkeypatch: pytest.MonkeyPatch, user: User) -> None:
    _settings(monkeypatch, limit_sign_in="3/minute")
    (someone, _membership), *_ = await demo_people()
    page = await user.http_client.get(f"/auth/demo/{someone.id}")
    answers = [(await user.http_client.post(f"/auth/demo/{someone.id}", data={"csrf": csrf_from(page.text)})
                ).status_code for _ in range(4)]
    assert answers == [303, 303, 303, 429]


async def test_invite_creation_is_limited_per_leader(tight: Settings, user: User) -> None:
    leader = await band_with_member("Limit Band", TRUMPET, role=Role.LEADER)
    async with db.session() as session:
        await invites.create_link(session, leader)
        await invites.invite_email(session, leader, "a@example.org")
    async with db.session() as session:
        with pytest.raises(TooManyRequests):
            await invites.create_link(session, leader)


async def _band_and_set(folder: Path, songs: int) -> tuple[int, int]:
    """A band whose folder holds ``songs`` trumpet charts, synced, and one setlist of them all."""
    folder.mkdir(parents=True)
    for number in range(songs):
        (folder / f"Song {number:02d} - Trumpet.pdf").write_bytes(titled_pdf(f"Song {number:02d}"))
    leader = await band_with_member("Venue Band", TRUMPET, role=Role.LEADER, library=folder)
    assert (await sync_configured(leader.band_id, prerender=False)).error is None
    async with db.session() as session:
        ids = (await session.exec(select(Song.id).where(Song.band_id == leader.band_id))).all()
        assert len(ids) == songs
        setlist = await setlists.create_setlist(session, leader, "Friday")
        for song_id in ids:
            await setlists.add_song(session, leader, setlist.id or 0, song_id or 0)
    return leader.band_id, setlist.id or 0


@pytest.fixture
async def browser_for(user: User, app_env: Settings) -> AsyncIterator[object]:
    """An HTTP client with its own cookie jar on the real app, signed in with a session token."""
    made: list[httpx.AsyncClient] = []

    def make(token: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=nicegui_app), base_url="http://test")
        client.cookies.set("session", session_cookie(token, app_env.effective_secret_key()))
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


async def test_page_images_are_limited_per_account_not_per_address(tight: Settings, user: User, browser_for,
                                                                  tmp_path: Path) -> None:
    band_id, _setlist = await _band_and_set(tmp_path / "lib", 1)
    async with db.session() as session:
        chart = (await session.exec(select(Chart).where(Chart.band_id == band_id))).one()
    _a, token_a = await add_member(band_id, "a@example.org", TRUMPET)
    _b, token_b = await add_member(band_id, "b@example.org", TRUMPET)
    first, second = browser_for(token_a), browser_for(token_b)
    url = f"/media/charts/{chart.id}/pages/0?w=800"
    assert [(await first.get(url)).status_code for _ in range(5)] == [200] * 5
    refused = await first.get(url)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert (await second.get(url)).status_code == 200  # same address, another account: its own limit


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_thirty_phones_behind_one_address_make_a_25_song_set_offline_at_once(
        user: User, browser_for, tmp_path: Path) -> None:
    """The default limits: a band of 30 on one venue Wi-Fi opens the set and downloads every page image, at the one
    width a phone asks for (offline.js asks a second only of a screen 900 px or longer)."""
    band_id, setlist_id = await _band_and_set(tmp_path / "lib", 25)
    phones = [browser_for((await add_member(band_id, f"m{n}@example.org", TRUMPET))[1]) for n in range(30)]

    opened: list[int] = []

    async def make_offline(phone: httpx.AsyncClient) -> list[int]:
        # the setlist page: never refused (on a loaded test machine NiceGUI may give up building it: 503)
        opened.append((await phone.get(f"/setlists/{setlist_id}")).status_code)
        manifest = await phone.get(f"/pwa/offline/setlists/{setlist_id}?w=800")
        statuses = [manifest.status_code]
        urls = manifest.json()["urls"]
        assert len(urls) >= 25
        statuses += [(await phone.get(url)).status_code for url in urls]
        return statuses

    answers = await asyncio.gather(*(make_offline(phone) for phone in phones))
    assert {status for statuses in answers for status in statuses} == {200}
    assert sum(len(statuses) for statuses in answers) >= 30 * (1 + 25)
    assert set(opened) <= {200, 503} and opened.count(200) > 0


# --- programs: the JSON API and MCP ------------------------------------------------------------------------------
async def test_api_and_mcp_share_one_budget_per_account_and_answer_429_rate_limited(
        demo_env: Settings, monkeypatch: pytest.MonkeyPatch, user: User) -> None:
    """``SOLEIL_LIMIT_API`` counts every request of a token's account, over both interfaces and all its tokens;
    another account has its own budget; a bad token is a 401 and costs nothing."""
    _settings(monkeypatch, limit_api="4/minute")
    morgan, ava = await actor_named("Morgan Lee"), await actor_named("Ava Brooks")
    first, second, other = await token_for(morgan), await token_for(morgan, tokens.WRITE), await token_for(ava)
    http = user.http_client
    for _ in range(3):
        assert (await http.get("/api/v1/me", headers={"Authorization": "Bearer sol_nope"})).status_code == 401
    assert (await http.get("/api/v1/me", headers=bearer(first))).status_code == 200
    assert (await http.get("/api/v1/songs", headers=bearer(second))).status_code == 200  # same account, 2nd token

    listed = await _mcp_post(first)  # MCP counts on the same budget: requests 3 and 4
    assert listed.status_code == 200 and "find_songs" in listed.text
    assert (await _mcp_post(second)).status_code == 200
    refused_tool = await _mcp_post(first)
    assert refused_tool.status_code == 429 and 1 <= int(refused_tool.headers["retry-after"]) <= 60
    assert refused_tool.json()["error"]["code"] == "rate_limited"

    refused = await http.get("/api/v1/me", headers=bearer(second))
    assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["content-type"].startswith("application/json")
    error = refused.json()["error"]
    assert error["code"] == "rate_limited" and "try again in" in error["message"] and error["request_id"]
    assert (await http.get("/api/v1/me", headers=bearer(other))).status_code == 200  # Ava's own budget


async def _mcp_post(secret: str) -> httpx.Response:
    """A raw MCP request (the SDK client hides statuses), in-process."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=nicegui_app), base_url="http://soleil.test") as http:
        return await http.post("/mcp", json={"jsonrpc": "2.0", "id": 9, "method": "tools/list"},
                               headers={"Authorization": f"Bearer {secret}",
                                        "Accept": "application/json, text/event-stream"})
