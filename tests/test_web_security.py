"""Cross-site requests, headers, proxies, open-page bounds and page statuses, through the real app.

* Sign-out and demo sign-in are POSTs with the session's anti-forgery token; their GET addresses change nothing.
* A signed-in member following an invite link is asked (who invites them to which band) before anything happens.
* Every answer carries the security headers; HTML the Content-Security-Policy; HTTPS (direct or told by a trusted
  proxy) adds HSTS and Secure cookies; forwarded headers from anyone else count for nothing.
* Page loads over the open-page bounds answer 429/503 with Retry-After; a page that can't be built in time 503;
  a page refusing or missing something answers its status (403, 404), not 500.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from nicegui import Client, ui
from nicegui.testing import User
from sqlmodel import select

from components.protect import CSP
from soleil_ui.db import db
from soleil_ui.demo import demo_people
from soleil_ui.models import Membership
from soleil_ui.services import invites
from soleil_ui.settings import Settings, get_settings
from tests.library_helpers import band_with_member, csrf_from, demo_sign_in, open_refused, session_cookie
from tests.markers import SQLITE_ONLY

pytestmark = SQLITE_ONLY

TRUMPET = [{"instrument": "trumpet", "chair": 1}]


def _set(monkeypatch: pytest.MonkeyPatch, **values: str) -> Settings:
    for name, value in values.items():
        monkeypatch.setenv(f"SOLEIL_{name.upper()}", value)
    get_settings.cache_clear()
    return get_settings()


async def _demo_id() -> int:
    (person, _membership), *_ = await demo_people()
    assert person.id
    return person.id


# --- cross-site requests ----------------------------------------------------------------------------------------
async def test_demo_sign_in_needs_the_sessions_token(demo_env: Settings, user: User) -> None:
    person = await _demo_id()
    page = await user.http_client.get(f"/auth/demo/{person}")
    assert page.status_code == 200 and "Enter as" in page.text
    assert (await user.http_client.get("/", follow_redirects=False)).headers["location"] == "/login"  # GET: no one
    forged = await user.http_client.post(f"/auth/demo/{person}", data={"csrf": "guessed"})
    assert forged.status_code == 403 and "expired" in forged.text
    assert (await user.http_client.post(f"/auth/demo/{person}")).status_code == 403
    assert (await user.http_client.get("/", follow_redirects=False)).headers["location"] == "/login"
    assert (await demo_sign_in(user.http_client, person)).status_code == 303
    assert (await user.http_client.get("/", follow_redirects=False)).status_code == 200


async def test_another_sessions_token_is_refused(demo_env: Settings, user: User) -> None:
    """A token is tied to the browser session it was made for: an attacker's own token is worthless."""
    person = await _demo_id()
    theirs = csrf_from((await user.http_client.get(f"/auth/demo/{person}")).text)
    user.http_client.cookies.clear()
    await user.http_client.get(f"/auth/demo/{person}")  # a fresh browser session
    assert (await user.http_client.post(f"/auth/demo/{person}", data={"csrf": theirs})).status_code == 403


async def test_sign_out_is_a_post_and_get_only_asks(demo_env: Settings, user: User) -> None:
    await demo_sign_in(user.http_client, await _demo_id())
    asked = await user.http_client.get("/auth/logout")
    assert asked.status_code == 200 and 'method="post"' in asked.text
    assert await _signed_in(user)  # still signed in
    assert (await user.http_client.post("/auth/logout", data={"csrf": "nope"})).status_code == 403
    assert await _signed_in(user)
    done = await user.http_client.post("/auth/logout", data={"csrf": csrf_from(asked.text)})
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert not await _signed_in(user)


async def _signed_in(user: User) -> bool:
    """Whether the browser's session is signed in, asked without building a page (an open page would be sent to
    /login by the sign-out itself, after the test has closed its client)."""
    return (await user.http_client.get("/pwa/scope")).json()["scope"] is not None


async def test_invite_link_asks_a_signed_in_member_before_moving_them(app_env: Settings, user: User) -> None:
    leader = await band_with_member("The Hosts", TRUMPET, role="leader", email="host@example.org")
    member = await band_with_member("Home Band", TRUMPET, email="guest@example.org")
    async with db.session() as session:
        _invite, token = await invites.create_link(session, leader)
    user.http_client.cookies.set("session", session_cookie(await _token_for(member.user_id),
                                                           app_env.effective_secret_key()))
    await user.open(f"/join/{token}")
    await user.should_see("The Hosts player invites you to join The Hosts")
    await user.should_see("Joining shows The Hosts your name and email")
    assert await _bands_of(member.user_id) == {member.band_id}  # nothing happened yet
    user.find(marker="confirm-join").click()
    await user.should_see("Welcome to The Hosts")
    assert await _bands_of(member.user_id) == {member.band_id, leader.band_id}


async def _token_for(user_id: int) -> str:
    from soleil_ui.services import auth

    async with db.session() as session:
        membership = (await session.exec(select(Membership).where(Membership.user_id == user_id))).first()
        assert membership is not None
        return await auth.start_session(session, user_id, membership.band_id)


async def _bands_of(user_id: int) -> set[int]:
    async with db.session() as session:
        return {m.band_id for m in (await session.exec(select(Membership).where(Membership.user_id == user_id)))}


# --- headers and proxies ----------------------------------------------------------------------------------------
async def test_pages_carry_security_headers_and_the_policy(demo_env: Settings, user: User) -> None:
    page = await user.http_client.get("/login")
    assert page.headers["content-security-policy"] == CSP
    assert "frame-ancestors 'none'" in CSP and "object-src 'none'" in CSP and "connect-src 'self'" in CSP
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in page.headers  # plain HTTP, no trusted proxy
    script = await user.http_client.get("/pwa/offline.js")
    assert script.headers["x-content-type-options"] == "nosniff" and "content-security-policy" not in script.headers


async def test_forwarded_headers_count_only_from_the_trusted_proxy(monkeypatch: pytest.MonkeyPatch,
                                                                  demo_env: Settings, user: User) -> None:
    """The test client connects from 127.0.0.1; it is the proxy only when SOLEIL_TRUSTED_PROXIES says so."""
    proto = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    untrusted = await user.http_client.get("/auth/logout", headers=proto)
    assert "strict-transport-security" not in untrusted.headers
    assert "secure" not in untrusted.headers.get("set-cookie", "").lower()


@pytest.fixture
def behind_proxy(monkeypatch: pytest.MonkeyPatch, demo_env: Settings) -> Settings:
    return _set(monkeypatch, trusted_proxies="127.0.0.1,10.0.0.0/8")


async def test_behind_the_trusted_proxy_https_means_hsts_and_secure_cookies(
        behind_proxy: Settings, user: User) -> None:
    proto = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    answer = await user.http_client.get("/auth/logout", headers=proto)
    assert answer.headers["strict-transport-security"].startswith("max-age=")
    assert "; secure" in answer.headers["set-cookie"].lower()
    landing = await user.http_client.get("/library", headers=proto, follow_redirects=False)
    assert landing.status_code == 303
    assert (await user.http_client.get("/healthz", headers=proto)).status_code == 200


# --- bounds on open pages, and honest statuses ------------------------------------------------------------------
async def test_open_pages_are_bounded_per_account(monkeypatch: pytest.MonkeyPatch, demo_env: Settings,
                                                 user: User) -> None:
    _set(monkeypatch, max_clients_per_account="3")
    await demo_sign_in(user.http_client, await _demo_id())
    answers = [(await user.http_client.get("/library")).status_code for _ in range(4)]
    assert answers[:3] == [200, 200, 200] and answers[3] == 429
    refused = await user.http_client.get("/library")
    assert int(refused.headers["retry-after"]) > 0 and "try again in" in refused.text


async def test_open_pages_are_bounded_in_total(monkeypatch: pytest.MonkeyPatch, demo_env: Settings,
                                              user: User) -> None:
    _set(monkeypatch, max_clients=str(len(Client.instances) + 10), max_clients_per_address="1000")
    answers = [(await user.http_client.get("/login")).status_code for _ in range(12)]
    assert answers[:10] == [200] * 10 and set(answers[10:]) == {503}


async def test_signed_out_pages_are_bounded_per_address(monkeypatch: pytest.MonkeyPatch, demo_env: Settings,
                                                       user: User) -> None:
    _set(monkeypatch, max_clients_per_address="2", limit_anonymous_pages="1000/minute")
    answers = [(await user.http_client.get("/login")).status_code for _ in range(3)]
    assert answers == [200, 200, 429]


async def test_a_page_not_built_in_time_answers_503(app_env: Settings, user: User,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    never = asyncio.Event()

    @ui.page("/test-slow", response_timeout=0.2)
    async def slow() -> None:
        await never.wait()

    answer = await user.http_client.get("/test-slow")
    assert answer.status_code == 503 and answer.headers["retry-after"]


async def test_missing_and_refused_pages_answer_their_status(demo_env: Settings, user: User) -> None:
    await demo_sign_in(user.http_client, await _demo_id())
    assert "isn't in your library" in await open_refused(user.http_client, "/songs/999999", 404)
    await open_refused(user.http_client, "/gigs/999999", 404)
    await open_refused(user.http_client, "/setlists/999999", 404)
    await open_refused(user.http_client, "/songs/99999999999999999999999", 404)
    await open_refused(user.http_client, "/songs/-1", 404)


def test_csp_allows_what_nicegui_needs_and_nothing_else() -> None:
    directives: dict[str, str] = dict(d.strip().split(" ", 1) for d in CSP.split(";"))  # type: ignore[misc]
    assert directives["script-src"] == "'self' 'unsafe-inline' 'unsafe-eval'"
    assert directives["default-src"] == "'self'" and directives["base-uri"] == "'self'"
    assert directives["form-action"] == "'self'"
    check: Callable[[str], bool] = lambda v: "*" not in v and "http:" not in v  # noqa: E731
    assert all(check(v) for v in directives.values())
