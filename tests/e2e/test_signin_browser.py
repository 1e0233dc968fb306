"""Sign in with Google in a real browser: Chromium on a phone, the local OpenID provider's own login form.

The app runs as ``python main.py`` with its own data dir and SQLite database, Google pointed at the provider and
SOLEIL_PUBLIC_URL set to the app's own address (so the redirect URI comes from it). An invited person signs in,
tells the band what they play on the first visit, and lands on their band's home page.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e import conftest as harness
from tests.e2e.conftest import REPO_ROOT
from tests.oidc_helpers import oidc_provider  # noqa: F401 - fixture

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")]
BAND = "The Night Owls"
SEED = f"""
import asyncio
from soleil_ui import runtime
from soleil_ui.db import db
from soleil_ui.services import auth, invites, members
from soleil_ui.settings import get_settings

async def seed():
    runtime.configure(get_settings())
    await db.migrate()
    async with db.session() as session:
        band = await members.create_band(session, {BAND!r})
        leader = await members.get_or_create_user(session, "lena@example.org", "Lena Leader")
        await members.add_member(session, band.id, leader.id, role="leader")
        token = await auth.start_session(session, leader.id, band.id)
    async with db.session() as session:
        await invites.invite_email(session, await auth.resolve(session, token), "ivy@example.org")
    runtime.get_runtime().renderer.close()
    await db.dispose()

asyncio.run(seed())
"""


def test_invited_person_signs_in_on_a_phone_and_lands_in_their_band(
        live_server: Any, phone: Any, oidc_provider: str,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = harness._free_port()
    monkeypatch.setattr(harness, "_free_port", lambda: port)  # know the app's address before it starts
    app_url = f"http://127.0.0.1:{port}"
    env = {
        "SOLEIL_DATA_DIR": str(tmp_path / "data"),
        "SOLEIL_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'data' / 'soleil.db'}",
        "SOLEIL_SECRET_KEY": "e2e-secret-key-" + "x" * 32,
        "SOLEIL_DEMO": "0",
        "SOLEIL_SYNC_INTERVAL": "0",
        "SOLEIL_GOOGLE_CLIENT_ID": "soleil-e2e-client",
        "SOLEIL_GOOGLE_CLIENT_SECRET": "soleil-e2e-secret",
        "SOLEIL_OIDC_METADATA_URL": f"{oidc_provider}/.well-known/openid-configuration",
        "SOLEIL_PUBLIC_URL": app_url,
        "SOLEIL_ADMIN_EMAILS": "",
        "SOLEIL_LIBRARY_DIR": "",
    }
    subprocess.run([sys.executable, "-c", SEED], cwd=REPO_ROOT, env={**_clean_env(), **env}, check=True,
                   timeout=120)
    claims = {"email": "Ivy@Example.org", "email_verified": True, "name": "Ivy Ives"}
    assert httpx.put(f"{oidc_provider}/users/google-ivy", json=claims).status_code == 204

    server = live_server([sys.executable, "main.py"], env=env, ready_path="/healthz", cwd=REPO_ROOT)
    assert server == app_url

    phone.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda route: route.abort())  # the provider's CDN CSS
    page = phone.new_page()
    page.goto(app_url + "/")
    expect(page).to_have_url(app_url + "/login")
    page.get_by_role("button", name="Sign in with Google").click()

    expect(page).to_have_url(re.compile(re.escape(oidc_provider) + r"/oauth2/authorize\?"))
    assert httpx.URL(page.url).params["redirect_uri"] == app_url + "/auth/callback"  # from SOLEIL_PUBLIC_URL
    page.get_by_placeholder("sub").fill("google-ivy")
    page.get_by_role("button", name="Authorize").click()

    expect(page).to_have_url(app_url + "/welcome")
    expect(page.get_by_text(f"Welcome to {BAND}")).to_be_visible()
    page.get_by_label("Your name").fill("Ivy Ives")
    instrument = page.get_by_role("combobox", name="Instrument", exact=True)
    page.locator(".q-select").filter(has=instrument).click()  # the field, as a thumb taps it
    page.get_by_role("option", name="Trumpet", exact=True).click()
    page.get_by_role("button", name="Save and go to my band").click()

    expect(page).to_have_url(app_url + "/")
    expect(page.get_by_text("Hi Ivy")).to_be_visible()
    expect(page.get_by_text(BAND).first).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"]  # nothing wider than the phone


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("SOLEIL_", "NICEGUI_", "PYTEST_"))}
