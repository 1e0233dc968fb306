"""A leader connects Drive with their own Google account: google-auth-oauthlib against a local OpenID provider.

The provider (oidc-provider-mock over real HTTP) plays Google's authorization and token endpoints; the
refresh token it issues ends up encrypted in the band's library source.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from nicegui.testing import User
from sqlmodel import select

from soleil_ui.db import db
from soleil_ui.models import LibrarySource
from soleil_ui.runtime import get_runtime
from tests.library_helpers import leader_token, session_cookie
from tests.test_signin_oidc import app, oidc_env, oidc_provider, provider_account  # noqa: F401  (fixtures)

FOLDER = "1AbCdEfGhIjKlMnOpQrStUvWxYz012345"


@pytest.fixture(autouse=True)
def _plain_http_token_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    # oauthlib insists on HTTPS token endpoints; the local provider speaks plain HTTP on 127.0.0.1.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


async def _as_leader(app: User) -> int:  # noqa: F811
    band_id, token = await leader_token("Consent Band", "lead@example.org")
    app.http_client.cookies.set("session", session_cookie(token, get_runtime().settings.effective_secret_key()))
    return band_id


async def test_leader_grants_drive_access_and_the_refresh_token_is_stored_encrypted(
        app: User, oidc_env: str) -> None:  # noqa: F811
    band_id = await _as_leader(app)
    await provider_account(oidc_env, "lead-sub", "lead@example.org")
    start = await app.http_client.get(f"/auth/drive/start?folder=https://drive.google.com/drive/folders/{FOLDER}")
    assert start.status_code == 303
    authorize = start.headers["location"]
    query = parse_qs(urlparse(authorize).query)
    assert authorize.startswith(f"{oidc_env}/oauth2/authorize?")
    assert query["scope"] == ["https://www.googleapis.com/auth/drive.readonly"]
    assert (query["access_type"], query["prompt"]) == (["offline"], ["consent"])
    assert query["redirect_uri"] == ["http://test/auth/drive/callback"]

    async with httpx.AsyncClient() as browser:
        answer = await browser.post(authorize, data={"sub": "lead-sub"})
    assert answer.status_code == 302
    callback = answer.headers["location"]
    assert callback.startswith("http://test/auth/drive/callback?")
    landing = await app.http_client.get(callback)
    assert landing.status_code == 303 and landing.headers["location"] == "/library/files?connected=1"

    async with db.session() as session:
        record = (await session.exec(select(LibrarySource))).one()
    assert (record.band_id, record.kind, record.location) == (band_id, "drive", FOLDER)
    assert record.credentials_enc and "refresh" not in record.credentials_enc
    grant = json.loads(get_runtime().secrets.decrypt(record.credentials_enc))
    assert grant["type"] == "user" and grant["refresh_token"]
    assert grant["token_uri"] == f"{oidc_env}/oauth2/token"

    replay = await app.http_client.get(callback)  # the same code and state again
    assert replay.status_code == 422 and "stale" in replay.text


async def test_forged_state_and_members_are_refused(app: User, oidc_env: str) -> None:  # noqa: F811
    await _as_leader(app)
    await app.http_client.get(f"/auth/drive/start?folder={FOLDER}")
    forged = await app.http_client.get("/auth/drive/callback?state=forged&code=abc")
    assert forged.status_code == 422 and "Traceback" not in forged.text
    denied = await app.http_client.get("/auth/drive/callback?error=access_denied")
    assert denied.status_code == 422 and "didn't grant access" in denied.text
    bad = await app.http_client.get("/auth/drive/start?folder=https://example.org/charts")
    assert bad.status_code == 422 and "Google Drive folder link" in bad.text
