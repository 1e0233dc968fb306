"""The leader's own Google account proves a folder read through the service account is theirs (metadata scope, once).

oidc-provider-mock over real HTTP plays Google's consent and token endpoints; the fake Drive trusts its tokens (asks
its userinfo endpoint who they belong to) and answers each caller with what is shared with them, so the leader's look
and the service account's are different views of the same Drive.
"""

from __future__ import annotations

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
from soleil_ui.services.library_source import needs_verification
from soleil_ui.settings import get_settings
from tests.fakes.drive_server import FakeDrive
from tests.library_helpers import leader_token, session_cookie
from tests.oidc_helpers import app, oidc_env, oidc_provider, provider_account  # noqa: F401  (fixtures)

SA = "band-sync@soleil-test.iam.gserviceaccount.com"
METADATA = "https://www.googleapis.com/auth/drive.metadata.readonly"


@pytest.fixture(autouse=True)
def _plain_http_token_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the local provider speaks plain HTTP on 127.0.0.1


@pytest.fixture
def drive(monkeypatch: pytest.MonkeyPatch, app_env: object, oidc_provider: str,
          tmp_path: Path) -> Iterator[FakeDrive]:
    with FakeDrive(page_size_cap=3) as fake:
        key = fake.create_service_account(tmp_path, name="band-sync")
        fake.trust_userinfo(f"{oidc_provider}/userinfo")
        monkeypatch.setenv("SOLEIL_GOOGLE_SERVICE_ACCOUNT_FILE", str(key))
        monkeypatch.setenv("SOLEIL_DRIVE_API_ENDPOINT", fake.base_url)
        monkeypatch.setenv("SOLEIL_DRIVE_RETRY_BASE_DELAY", "0.01")
        get_settings.cache_clear()
        yield fake


async def _as_leader(app: User) -> int:
    band_id, token = await leader_token("Proof Band", "lead@example.org")
    app.http_client.cookies.set("session", session_cookie(token, get_runtime().settings.effective_secret_key()))
    return band_id


async def _prove(app: User, sub: str, folder: str = "") -> httpx.Response:
    start = await app.http_client.get("/auth/drive/verify" + (f"?folder={folder}" if folder else ""))
    assert start.status_code == 303
    query = parse_qs(urlparse(start.headers["location"]).query)
    assert query["scope"] == [METADATA] and query["access_type"] == ["online"]
    async with httpx.AsyncClient() as browser:
        answer = await browser.post(start.headers["location"], data={"sub": sub})
    assert answer.status_code == 302
    return await app.http_client.get(answer.headers["location"])


async def _sources() -> list[LibrarySource]:
    async with db.session() as session:
        return list((await session.exec(select(LibrarySource))).all())


async def test_the_leaders_account_proves_the_folder_and_the_service_account_reads_it(
        drive: FakeDrive, app: User, oidc_env: str) -> None:
    mine = drive.add_folder("My Drive", shared_with=("lead-sub",))
    folder = drive.add_folder("Band charts", mine)
    drive.share(folder, SA)  # the service account sees the band folder only, the leader sees up to their Drive
    band_id = await _as_leader(app)
    await provider_account(oidc_env, "lead-sub", "lead@example.org")
    await provider_account(oidc_env, "stranger-sub", "stranger@example.org")

    stranger = await _prove(app, "stranger-sub", folder)
    assert stranger.status_code == 403 and "can't see that folder" in stranger.text
    assert await _sources() == []

    landing = await _prove(app, "lead-sub", folder)
    assert landing.status_code == 303 and landing.headers["location"] == "/library/files?verified=1"
    [record] = await _sources()
    assert (record.band_id, record.location, record.proof) == (band_id, folder, "leader")
    assert record.credentials_enc is None, "the leader's token is used once and never stored"
    assert record.ancestry == [mine], "the leader's view of the folders above it is kept"
    assert drive.requests["files.get_media"] == 0


async def test_a_folder_the_service_account_cannot_open_is_refused_even_with_the_leaders_proof(
        drive: FakeDrive, app: User, oidc_env: str) -> None:
    folder = drive.add_folder("Not shared with SOLEil", shared_with=("lead-sub",))
    await _as_leader(app)
    await provider_account(oidc_env, "lead-sub", "lead@example.org")
    refused = await _prove(app, "lead-sub", folder)
    assert refused.status_code == 403 and SA in refused.text
    assert await _sources() == []


async def test_an_existing_connection_is_verified_with_the_leaders_account(
        drive: FakeDrive, app: User, oidc_env: str) -> None:
    folder = drive.add_folder("Old charts", shared_with=(SA, "lead-sub"))
    band_id = await _as_leader(app)
    async with db.session() as session:
        session.add(LibrarySource(band_id=band_id, kind="drive", location=folder))
    await provider_account(oidc_env, "lead-sub", "lead@example.org")
    await provider_account(oidc_env, "stranger-sub", "stranger@example.org")

    assert (await _prove(app, "stranger-sub")).status_code == 403
    assert needs_verification((await _sources())[0])
    landing = await _prove(app, "lead-sub")
    assert landing.status_code == 303
    [record] = await _sources()
    assert record.proof == "leader" and not needs_verification(record)
