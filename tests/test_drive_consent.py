"""A leader connects Drive with their own Google account: google-auth-oauthlib against a local OpenID provider.

The provider (oidc-provider-mock over real HTTP) plays Google's authorization and token endpoints; the
refresh token it issues ends up encrypted in the band's library source. The fake Drive trusts the provider's tokens
(it asks its userinfo endpoint who they belong to), so SOLEil's first look at the folder, with the leader's own
grant, is answered as that leader: reading with the leader's own rights is proof the folder is theirs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from nicegui.testing import User
from sqlmodel import select

from soleil_ui.db import db
from soleil_ui.models import LibrarySource
from soleil_ui.runtime import get_runtime
from soleil_ui.settings import get_settings
from tests.fakes.drive_server import FakeDrive
from tests.library_helpers import leader_token, session_cookie
from tests.oidc_helpers import app, oidc_env, oidc_provider, provider_account  # noqa: F401  (fixtures)

FOLDER = "1AbCdEfGhIjKlMnOpQrStUvWxYz012345"


@pytest.fixture
def drive(monkeypatch: pytest.MonkeyPatch, app_env: object, oidc_provider: str,
          tmp_path: Path) -> Iterator[FakeDrive]:
    """The fake Drive, trusting the local provider's tokens (no service account: the leader's grant reads)."""
    with FakeDrive(page_size_cap=3) as fake:
        fake.trust_userinfo(f"{oidc_provider}/userinfo")
        monkeypatch.setenv("SOLEIL_DRIVE_API_ENDPOINT", fake.base_url)
        monkeypatch.setenv("SOLEIL_DRIVE_RETRY_BASE_DELAY", "0.01")
        get_settings.cache_clear()
        yield fake


@pytest.fixture(autouse=True)
def _plain_http_token_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    # oauthlib insists on HTTPS token endpoints; the local provider speaks plain HTTP on 127.0.0.1.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


async def _as_leader(app: User) -> int:
    band_id, token = await leader_token("Consent Band", "lead@example.org")
    app.http_client.cookies.set("session", session_cookie(token, get_runtime().settings.effective_secret_key()))
    return band_id


async def test_leader_grants_drive_access_and_the_refresh_token_is_stored_encrypted(
        drive: FakeDrive, app: User, oidc_env: str) -> None:
    folder = drive.add_folder("Lead's charts", shared_with=("lead-sub",))
    band_id = await _as_leader(app)
    await provider_account(oidc_env, "lead-sub", "lead@example.org")
    start = await app.http_client.get(f"/auth/drive/start?folder=https://drive.google.com/drive/folders/{folder}")
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
    assert (record.band_id, record.kind, record.location) == (band_id, "drive", folder)
    assert (record.proof, record.verified_at is not None) == ("account", True)
    assert record.credentials_enc and "refresh" not in record.credentials_enc
    grant = json.loads(get_runtime().secrets.decrypt(record.credentials_enc))
    assert grant["type"] == "user" and grant["refresh_token"]
    assert grant["token_uri"] == f"{oidc_env}/oauth2/token"

    replay = await app.http_client.get(callback)  # the same code and state again
    assert replay.status_code == 422 and "stale" in replay.text


async def test_forged_state_and_members_are_refused(app: User, oidc_env: str) -> None:
    await _as_leader(app)
    await app.http_client.get(f"/auth/drive/start?folder={FOLDER}")
    forged = await app.http_client.get("/auth/drive/callback?state=forged&code=abc")
    assert forged.status_code == 422 and "Traceback" not in forged.text
    denied = await app.http_client.get("/auth/drive/callback?error=access_denied")
    assert denied.status_code == 422 and "didn't grant access" in denied.text
    bad = await app.http_client.get("/auth/drive/start?folder=https://example.org/charts")
    assert bad.status_code == 422 and "Google Drive folder link" in bad.text


async def _grant(app: User, folder: str, sub: str) -> httpx.Response:
    start = await app.http_client.get(f"/auth/drive/start?folder={folder}")
    async with httpx.AsyncClient() as browser:
        answer = await browser.post(start.headers["location"], data={"sub": sub})
    return await app.http_client.get(answer.headers["location"])


async def test_a_folder_the_leader_cannot_see_or_another_band_uses_is_refused(
        drive: FakeDrive, app: User, oidc_env: str) -> None:
    """A former member kept a link (the folder is open to anyone with it): their own grant reads it, but another
    band uses it already. And a folder their account can't see at all isn't connected either."""
    linked = drive.add_folder("Band A charts", shared=True)
    hidden = drive.add_folder("Private charts", shared=False)
    async with db.session() as session:
        other_band, _ = await leader_token("Band A", "a@example.org")
        session.add(LibrarySource(band_id=other_band, kind="drive", location=linked))
    await _as_leader(app)
    await provider_account(oidc_env, "former-sub", "former@example.org")

    taken = await _grant(app, linked, "former-sub")
    assert taken.status_code == 409 and "already connected" in taken.text and "Band A" not in taken.text
    unseen = await _grant(app, hidden, "former-sub")
    assert unseen.status_code == 403 and "can't see that folder" in unseen.text
    async with db.session() as session:
        assert [r.band_id for r in (await session.exec(select(LibrarySource))).all()] == [other_band]
