"""A local OpenID Connect provider for sign-in tests, and the browser's side of the round trip.

``oidc_provider_mock`` (a Flask app) runs in a thread on 127.0.0.1 with an ephemeral port; ``oidc_env`` points the
app's Google sign-in at it. Test modules that sign in import these fixtures and helpers from here.
"""

from __future__ import annotations

import threading
import uuid
import warnings
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import werkzeug.serving
from nicegui.testing import User

from soleil_ui.settings import Settings, get_settings

CLIENT_ID = "soleil-test-client"


@pytest.fixture
def oidc_provider() -> Iterator[str]:
    """A fresh OpenID provider on 127.0.0.1 (own keys, users and codes), stopped after the test."""
    import authlib.deprecate  # first, so its "always show" filter can't override ours below

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
        import oidc_provider_mock
    server = werkzeug.serving.make_server("127.0.0.1", 0, oidc_provider_mock.app(require_nonce=True), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@pytest.fixture
def oidc_env(app_env: Settings, monkeypatch: pytest.MonkeyPatch, oidc_provider: str) -> str:
    """Google configured (pointing at the local provider) and SOLEIL_DEMO left at its default."""
    monkeypatch.setenv("SOLEIL_GOOGLE_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("SOLEIL_GOOGLE_CLIENT_SECRET", "soleil-test-secret")
    # A query of its own per provider: the app keeps one client per metadata URL (with the provider's keys), and the
    # OS may hand a later test's provider the same port; the same URL would then check new tokens with old keys.
    monkeypatch.setenv("SOLEIL_OIDC_METADATA_URL",
                       f"{oidc_provider}/.well-known/openid-configuration?provider={uuid.uuid4().hex}")
    monkeypatch.setenv("SOLEIL_ADMIN_EMAILS", "admin@example.org")
    monkeypatch.delenv("SOLEIL_DEMO")
    get_settings.cache_clear()
    return oidc_provider


@pytest.fixture
async def app(oidc_env: str, user: User) -> User:
    """The simulated user, started after the provider settings are in place."""
    return user


async def provider_account(provider: str, sub: str, email: str, *, verified: bool = True, name: str = "") -> None:
    """Register what the provider will vouch for when ``sub`` signs in."""
    claims: dict[str, object] = {"email": email, "email_verified": verified, "name": name}
    async with httpx.AsyncClient() as http:
        response = await http.put(f"{provider}/users/{sub}", json=claims)
    assert response.status_code == 204


async def to_provider(app: User, provider: str) -> str:
    """Start sign-in; returns the provider's authorization URL the browser is sent to."""
    start = await app.http_client.get("/auth/google")
    assert start.status_code == 302
    authorize = start.headers["location"]
    assert authorize.startswith(f"{provider}/oauth2/authorize?")
    query = parse_qs(urlparse(authorize).query)
    assert query["client_id"] == [CLIENT_ID] and query["scope"] == ["openid email profile"]
    assert query["redirect_uri"] == ["http://test/auth/callback"]  # no SOLEIL_PUBLIC_URL: the request's base
    assert query["state"][0] and query["nonce"][0]
    return authorize


async def consent(authorize: str, sub: str) -> str:
    """What the person does at the provider: answer its form. Returns the callback URL with code and state."""
    async with httpx.AsyncClient() as browser:
        answer = await browser.post(authorize, data={"sub": sub})
    assert answer.status_code == 302, answer.text
    callback = answer.headers["location"]
    assert callback.startswith("http://test/auth/callback?code=")
    return callback


async def sign_in(app: User, provider: str, sub: str) -> str:
    """The whole round trip; returns where the app sends the person afterwards."""
    callback = await consent(await to_provider(app, provider), sub)
    landing = await app.http_client.get(callback)
    assert landing.status_code == 303, landing.text
    return landing.headers["location"]
