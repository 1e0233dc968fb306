"""Sign in with an OpenID Connect provider, end to end over real HTTP.

A local OpenID provider (``oidc_provider_mock``, a Flask app) runs in a thread on 127.0.0.1 with an ephemeral port.
The app runs as NiceGUI's simulated user (main.py against the test's database); its authlib client makes real
HTTP calls to the provider for discovery, the token and the JWKS, and checks state, nonce and the ID token. The
test plays the browser: it follows the redirect to the provider, answers the provider's consent form with a
subject whose claims it registered beforehand, and brings the code back to ``/auth/callback``.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest
from nicegui.testing import User
from sqlmodel import select

from soleil_ui.access import Actor
from soleil_ui.db import db
from soleil_ui.models import Membership, Role
from soleil_ui.models import User as Account
from soleil_ui.services import auth, invites, members
from soleil_ui.settings import Settings, get_settings
from tests.library_helpers import open_refused
from tests.markers import SQLITE_ONLY
from tests.oidc_helpers import (  # noqa: F401  (fixtures)
    app,
    consent,
    oidc_env,
    oidc_provider,
    provider_account,
    sign_in,
    to_provider,
)

# the provider mock runs authlib's server side through APIs authlib has deprecated; not our code, not our warnings
pytestmark = [SQLITE_ONLY, pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")]
BAND = "The Midnight Ramblers"
async def refused(app: User, response: httpx.Response, message: str) -> None:
    assert response.status_code == 303 and response.headers["location"] == "/auth/problem"
    await app.open("/auth/problem")
    await app.should_see("Sign-in didn't work")
    await app.should_see(message)
    await app.should_not_see("Traceback")


async def band_with_leader() -> tuple[int, int]:
    async with db.session() as session:
        band = await members.create_band(session, BAND)
        leader = await members.get_or_create_user(session, "leader@example.org", "Lena Leader")
        assert band.id and leader.id
        await members.add_member(session, band.id, leader.id, role=Role.LEADER)
        return band.id, leader.id


async def leader_actor(band_id: int, user_id: int) -> Actor:
    async with db.session() as session:
        token = await auth.start_session(session, user_id, band_id)
        return await auth.resolve(session, token)


async def account(email: str) -> Account | None:
    async with db.session() as session:
        return (await session.exec(select(Account).where(Account.email == email))).first()


async def test_invited_email_signs_in_and_lands_in_the_band(app: User, oidc_env: str) -> None:
    band_id, leader_id = await band_with_leader()
    async with db.session() as session:
        await invites.invite_email(session, await leader_actor(band_id, leader_id), "ann@example.org")
    await provider_account(oidc_env, "google-ann", "Ann@Example.org", name="Ann Arbor")

    assert await sign_in(app, oidc_env, "google-ann") == "/welcome"
    await app.open("/welcome")
    await app.should_see(f"Welcome to {BAND}")
    stored = await account("ann@example.org")
    assert stored and (stored.oidc_subject, stored.name) == ("google-ann", "Ann Arbor")
    async with db.session() as session:
        assert (await session.exec(select(Membership.band_id).where(Membership.user_id == stored.id))).all() \
            == [band_id]

    # signing in again goes straight home: no second first visit
    assert await sign_in(app, oidc_env, "google-ann") == "/"
    await app.open("/")
    await app.should_see(BAND)
    await app.should_see("Hi Ann")


async def test_uninvited_person_sees_no_band(app: User, oidc_env: str) -> None:
    await band_with_leader()
    await provider_account(oidc_env, "google-eve", "eve@example.org", name="Eve")

    assert await sign_in(app, oidc_env, "google-eve") == "/no-band"
    page = await app.http_client.get("/no-band")
    assert BAND not in page.text and "leader@example.org" not in page.text
    await app.open("/no-band")
    await app.should_see("You need an invite from your band leader")
    await app.should_not_see(BAND)
    assert await account("eve@example.org") is None  # nobody is stored without a way in
    home = await app.http_client.get("/")
    assert home.status_code == 303 and home.headers["location"] == "/login"


async def test_invite_link_is_carried_through_sign_in(app: User, oidc_env: str) -> None:
    band_id, leader_id = await band_with_leader()
    async with db.session() as session:
        _invite, token = await invites.create_link(session, await leader_actor(band_id, leader_id))
    await provider_account(oidc_env, "google-bob", "bob@example.org", name="Bob")

    await app.open(f"/join/{token}")
    await app.should_see(f"invites you to join {BAND}")
    await app.should_see("Sign in with Google")
    assert await sign_in(app, oidc_env, "google-bob") == "/welcome"
    await app.open("/welcome")
    await app.should_see(f"Welcome to {BAND}")
    bob = await account("bob@example.org")
    assert bob
    async with db.session() as session:
        membership = (await session.exec(select(Membership).where(Membership.user_id == bob.id))).one()
    assert (membership.band_id, membership.role) == (band_id, Role.MEMBER)


async def test_invite_link_for_someone_else_is_refused(app: User, oidc_env: str) -> None:
    band_id, leader_id = await band_with_leader()
    async with db.session() as session:
        _invite, token = await invites.create_link(session, await leader_actor(band_id, leader_id),
                                                   email="carol@example.org")
    await provider_account(oidc_env, "google-mallory", "mallory@example.org")
    await app.open(f"/join/{token}")
    callback = await consent(await to_provider(app, oidc_env), "google-mallory")
    await refused(app, await app.http_client.get(callback), "This invite is for a different email address")
    assert await account("mallory@example.org") is None


async def test_expired_or_unknown_invite_link_explains_itself(app: User, oidc_env: str) -> None:
    shown = await open_refused(app.http_client, "/join/not-a-real-token", 404)
    assert "expired or was withdrawn" in shown


async def test_forged_state_is_refused_with_a_friendly_page(app: User, oidc_env: str) -> None:
    await band_with_leader()
    await provider_account(oidc_env, "google-leader", "leader@example.org")
    callback = await consent(await to_provider(app, oidc_env), "google-leader")
    query = parse_qs(urlparse(callback).query)

    forged = f"/auth/callback?{urlencode({'code': query['code'][0], 'state': 'forged-state'})}"
    await refused(app, await app.http_client.get(forged), "didn't start here")
    no_state = f"/auth/callback?{urlencode({'code': query['code'][0]})}"
    await refused(app, await app.http_client.get(no_state), "didn't start here")
    assert (await leader_is_signed_in(app)) is False

    # another browser (no session cookie) bringing a real code and state is refused too
    async with httpx.AsyncClient(transport=app.http_client._transport, base_url="http://test") as stranger:
        answer = await stranger.get(callback)
        assert answer.status_code == 303 and answer.headers["location"] == "/auth/problem"
    # the genuine browser still completes its own sign-in
    genuine = await app.http_client.get(callback)
    assert genuine.status_code == 303 and genuine.headers["location"] == "/"
    assert await leader_is_signed_in(app)


async def leader_is_signed_in(app: User) -> bool:
    response = await app.http_client.get("/")
    return response.status_code == 200


async def test_replayed_code_is_refused(app: User, oidc_env: str) -> None:
    await band_with_leader()
    await provider_account(oidc_env, "google-leader", "leader@example.org")
    callback = await consent(await to_provider(app, oidc_env), "google-leader")
    first = await app.http_client.get(callback)
    assert first.status_code == 303 and first.headers["location"] == "/"

    # the same callback again: its state is used up
    await refused(app, await app.http_client.get(callback), "didn't start here")
    # the old code under a fresh, valid state: the provider refuses to exchange it twice
    fresh_state = parse_qs(urlparse(await to_provider(app, oidc_env)).query)["state"][0]
    old_code = parse_qs(urlparse(callback).query)["code"][0]
    replay = f"/auth/callback?{urlencode({'code': old_code, 'state': fresh_state})}"
    await refused(app, await app.http_client.get(replay), "didn't accept this sign-in")


async def test_unverified_email_is_refused(app: User, oidc_env: str) -> None:
    band_id, leader_id = await band_with_leader()
    async with db.session() as session:
        await invites.invite_email(session, await leader_actor(band_id, leader_id), "dan@example.org")
    await provider_account(oidc_env, "google-dan", "dan@example.org", verified=False)
    callback = await consent(await to_provider(app, oidc_env), "google-dan")
    await refused(app, await app.http_client.get(callback), "hasn't verified this email address")
    assert await account("dan@example.org") is None


async def test_no_email_from_the_provider_is_refused(app: User, oidc_env: str) -> None:
    async with httpx.AsyncClient() as http:  # neither the ID token nor userinfo will carry an address
        assert (await http.put(f"{oidc_env}/users/google-anon", json={"name": "Anon"})).status_code == 204
    callback = await consent(await to_provider(app, oidc_env), "google-anon")
    await refused(app, await app.http_client.get(callback), "didn't share your email address")


async def test_provider_down_is_explained(app: User, oidc_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "oidc_metadata_url", "http://127.0.0.1:9/.well-known/openid-configuration")
    await refused(app, await app.http_client.get("/auth/google"), "isn't answering right now")


async def test_cancelled_at_the_provider_is_explained(app: User, oidc_env: str) -> None:
    authorize = await to_provider(app, oidc_env)
    async with httpx.AsyncClient() as browser:
        answer = await browser.post(authorize, data={"action": "deny"})
    assert answer.status_code == 302
    await refused(app, await app.http_client.get(answer.headers["location"]), "cancelled")


async def test_admin_without_a_band_is_sent_to_create_one(app: User, oidc_env: str) -> None:
    await provider_account(oidc_env, "google-admin", "Admin@example.org", name="Ada Admin")
    assert await sign_in(app, oidc_env, "google-admin") == "/bands/new"
    await app.open("/bands/new")
    await app.should_see("Create your band")
    app.find(marker="band-name").type("The Newcomers")
    app.find(marker="create-band").click()
    await app.should_see("Welcome to The Newcomers")


async def test_demo_sign_in_is_off_when_google_is_configured(app: User, oidc_env: str) -> None:
    assert get_settings().google_configured and not get_settings().demo_enabled
    await app.open("/login")
    await app.should_see("Sign in with Google")
    await app.should_not_see("Try the demo band")
    response = await app.http_client.get("/auth/demo/1")
    assert response.status_code == 404


def test_demo_needs_an_explicit_yes_once_google_is_configured() -> None:
    base = {"_env_file": None, "database_url": "", "demo": None}
    google = {**base, "google_client_id": "id", "google_client_secret": "secret"}
    assert Settings(**google).demo_enabled is False  # type: ignore[arg-type]
    assert Settings(**{**google, "demo": True}).demo_enabled is True  # type: ignore[arg-type]
    assert Settings(**{**base, "google_client_id": "", "google_client_secret": ""}).demo_enabled is True  # type: ignore[arg-type]
