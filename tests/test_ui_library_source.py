"""A leader connects the band's Drive folder in the UI and watches the first sync (fake Drive over HTTP)."""

from __future__ import annotations

import asyncio

from nicegui.testing import User
from sqlmodel import select

from soleil_ui.db import db
from soleil_ui.events import Event, hub
from soleil_ui.models import Chart, LibrarySource
from soleil_ui.services.library_source import verification_file_name
from soleil_ui.settings import get_settings
from tests.fakes.drive_server import FakeDrive
from tests.library_helpers import FIXTURE_CHARTS, leader_token, session_cookie
from tests.markers import SQLITE_ONLY

pytestmark = SQLITE_ONLY


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
    proof = verification_file_name(band_id)
    await user.should_see(proof)  # and the file that shows the folder is this band's
    user.find("Drive folder link or id").type(f"https://drive.google.com/drive/folders/{root}?usp=sharing")
    user.find("Connect").trigger("click")
    await user.should_see(f"Put a file named {proof} in the folder itself")
    fake.add_file(proof, root, b"", mime="text/plain")
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
    assert (record.band_id, record.kind, record.location, record.proof) == (band_id, "drive", root, "file")
    assert sorted(charts) == ["All of Me - Eb.pdf", "TakeFive_Bb.pdf"]


async def test_a_bad_link_gets_a_clear_message(fake: FakeDrive, user: User) -> None:
    _band_id, token = await leader_token("Band", "leader@example.org")
    user.http_client.cookies.set("session", session_cookie(token, get_settings().effective_secret_key()))
    await user.open("/library/files")
    user.find("Drive folder link or id").type("https://example.org/<script>alert(1)</script>")
    user.find("Connect").trigger("click")
    await user.should_see("That isn't a Google Drive folder link.")
    await user.should_see("No folder connected yet.")


async def test_an_unverified_connection_keeps_syncing_and_its_leader_is_asked_to_verify(
        fake: FakeDrive, user: User) -> None:
    root = fake.add_folder("Old charts")
    fake.add_file("TakeFive_Bb.pdf", root, (FIXTURE_CHARTS / "TakeFive_Bb.pdf").read_bytes())
    band_id, token = await leader_token("Old Band", "leader@example.org")
    async with db.session() as session:  # connected before proofs existed
        session.add(LibrarySource(band_id=band_id, kind="drive", location=root))
    user.http_client.cookies.set("session", session_cookie(token, get_settings().effective_secret_key()))

    await user.open("/library/files")
    await user.should_see("Please verify that this Drive folder is the band's.")
    user.find("Sync now").trigger("click")
    await user.should_see("Last sync: 1 files")
    user.find("Check the verification file").trigger("click")
    await user.should_see(f"Put a file named {verification_file_name(band_id)}")
    fake.add_file(verification_file_name(band_id), root, b"", mime="text/plain")
    user.find("Check the verification file").trigger("click")
    await user.should_see("Verified: the folder is the band's.")
    await user.should_not_see("Please verify that this Drive folder is the band's.")
    async with db.session() as session:
        assert (await session.exec(select(LibrarySource.proof))).one() == "file"
