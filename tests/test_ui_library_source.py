"""A leader connects the band's Drive folder in the UI and watches the first sync (fake Drive over HTTP)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from nicegui.testing import User
from sqlmodel import select

from soleil_ui.db import db
from soleil_ui.events import Event, hub
from soleil_ui.models import Chart, LibrarySource
from soleil_ui.settings import get_settings
from tests.fakes.drive_server import FakeDrive
from tests.library_helpers import FIXTURE_CHARTS, leader_token, session_cookie


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, app_env: object, tmp_path: Path) -> Iterator[FakeDrive]:
    with FakeDrive(page_size_cap=3) as drive:
        key = drive.create_service_account(tmp_path, name="band-sync")
        monkeypatch.setenv("SOLEIL_GOOGLE_SERVICE_ACCOUNT_FILE", str(key))
        monkeypatch.setenv("SOLEIL_DRIVE_API_ENDPOINT", drive.base_url)
        monkeypatch.setenv("SOLEIL_DRIVE_RETRY_BASE_DELAY", "0.01")
        get_settings.cache_clear()
        yield drive


async def test_leader_connects_a_drive_folder_and_sees_the_result(fake: FakeDrive, user: User) -> None:
    root = fake.add_folder("Our charts")
    for name in ("TakeFive_Bb.pdf", "All of Me - Eb.pdf"):
        fake.add_file(name, root, (FIXTURE_CHARTS / name).read_bytes())
    fake.add_file("Setlist notes.pdf", root, b"<html>not a pdf</html>")
    band_id, token = await leader_token("Drive Band", "leader@example.org")
    user.http_client.cookies.set("session", session_cookie(token, get_settings().effective_secret_key()))

    await user.open("/library/files")
    await user.should_see("No folder connected yet.")
    await user.should_see("band-sync@")  # the service account to share the folder with
    user.find("Drive folder link or id").type(f"https://drive.google.com/drive/folders/{root}?usp=sharing")
    finished = asyncio.Event()

    def on_library(event: Event) -> None:
        if event.payload["sync"]["phase"] in {"done", "failed"}:
            finished.set()

    hub.subscribe(band_id, "library", on_library)
    user.find("Connect").trigger("click")
    await user.should_see("Connected. The first sync starts now.")
    await asyncio.wait_for(finished.wait(), timeout=60)
    await user.should_see("Last sync: 3 files")
    await user.should_see("Setlist notes.pdf")
    await user.should_see("Can't be read: This isn't a PDF file (it looks like HTML)")
    await user.should_see("Google Drive folder")  # the source card now links the connected folder
    async with db.session() as session:
        record = (await session.exec(select(LibrarySource))).one()
        charts = (await session.exec(select(Chart.file_name).where(Chart.status == "ok"))).all()
    assert (record.band_id, record.kind, record.location) == (band_id, "drive", root)
    assert sorted(charts) == ["All of Me - Eb.pdf", "TakeFive_Bb.pdf"]


async def test_a_bad_link_gets_a_clear_message(fake: FakeDrive, user: User) -> None:
    _band_id, token = await leader_token("Band", "leader@example.org")
    user.http_client.cookies.set("session", session_cookie(token, get_settings().effective_secret_key()))
    await user.open("/library/files")
    user.find("Drive folder link or id").type("https://example.org/<script>alert(1)</script>")
    user.find("Connect").trigger("click")
    await user.should_see("That isn't a Google Drive folder link.")
    await user.should_see("No folder connected yet.")
