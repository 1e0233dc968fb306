"""The app's media routes on the object store: a recording streamed with Range and a chart's page image come from
the bucket through this instance's cache, after the band check."""

from __future__ import annotations

import asyncio

import pytest
from nicegui import background_tasks
from nicegui.testing import User

from soleil_ui.db import db
from soleil_ui.models import AudioTrack, Chart, ChartStatus
from soleil_ui.objectstore import S3Store
from soleil_ui.runtime import get_runtime
from soleil_ui.services import auth
from soleil_ui.settings import Settings, get_settings
from tests.library_helpers import FIXTURE_CHARTS, band_with_member, session_cookie
from tests.markers import SQLITE_ONLY

pytestmark = SQLITE_ONLY

AUDIO = bytes(range(256)) * 64  # 16 KiB that are not an mp3, which the route doesn't care about


@pytest.fixture
def stored(s3_env: Settings) -> Settings:  # before ``user``, so the app starts with the bucket configured
    return s3_env


async def test_audio_with_range_and_pages_come_from_the_bucket(stored: Settings, user: User) -> None:
    rt = get_runtime()
    assert isinstance(rt.blobs, S3Store)
    member = await band_with_member("Band", [{"instrument": "trumpet"}])
    outsider = await band_with_member("Other", [{"instrument": "trumpet"}])
    pdf = (FIXTURE_CHARTS / "TakeFive_Bb.pdf").read_bytes()
    await rt.blobs.put("drive-md5-audio", AUDIO)
    await rt.blobs.put("drive-md5-chart", pdf)
    async with db.session() as session:
        track = AudioTrack(band_id=member.band_id, source_file_id="t1", file_name="take.mp3",
                           checksum="drive-md5-audio", size=len(AUDIO))
        chart = Chart(band_id=member.band_id, source_file_id="c1", file_name="TakeFive_Bb.pdf", part_key="bb",
                      checksum="drive-md5-chart", page_count=1, status=ChartStatus.OK)
        session.add_all([track, chart])
    for cached in rt.blobs.cache_dir.rglob("*"):  # a cold instance: nothing on this disk yet
        if cached.is_file():
            cached.unlink()

    async with db.session() as session:
        token = await auth.start_session(session, outsider.user_id, outsider.band_id)
    user.http_client.cookies.set("session", session_cookie(token, get_settings().effective_secret_key()))
    assert (await user.http_client.get(f"/media/audio/{track.id}")).status_code == 404  # another band's

    async with db.session() as session:
        token = await auth.start_session(session, member.user_id, member.band_id)
    user.http_client.cookies.clear()
    user.http_client.cookies.set("session", session_cookie(token, get_settings().effective_secret_key()))
    part = await user.http_client.get(f"/media/audio/{track.id}", headers={"Range": "bytes=100-299"})
    assert part.status_code == 206 and part.content == AUDIO[100:300]
    page = await user.http_client.get(f"/media/charts/{chart.id}/pages/0?w=480")
    assert page.status_code == 200 and page.headers["content-type"] == "image/webp"
    await rt.renderer.uploads_done()
    assert await rt.blobs.shared_pages.fetch(f"r1/dr/drive-md5-chart/p0-w{480}.webp") == page.content


async def test_the_stand_keeps_night_mode_and_crop_in_the_database(user: User) -> None:
    """Night mode was one browser's storage on one instance; now the reader's next stand, on any instance, has it."""
    from components.stand import Stand
    from soleil_ui.models import User as Account

    member = await band_with_member("Band", [{"instrument": "trumpet"}])
    async with db.session() as session:
        chart = Chart(band_id=member.band_id, source_file_id="c1", file_name="TakeFive_Bb.pdf", part_key="bb",
                      checksum="take-five", page_count=1, status=ChartStatus.OK)
        session.add(chart)
        token = await auth.start_session(session, member.user_id, member.band_id)
    user.http_client.cookies.set("session", session_cookie(token, get_settings().effective_secret_key()))
    await user.open(f"/stand/{chart.id}")
    stand = user.find(kind=Stand)
    assert next(iter(stand.elements)).props["night"] is False
    running = set(background_tasks.running_tasks)  # the app's own long-lived loops
    stand.trigger("night_change", {"night": True})
    await asyncio.gather(*(background_tasks.running_tasks - running))  # the handler's save, a task NiceGUI started
    async with db.session() as session:
        account = await session.get(Account, member.user_id)
        assert account is not None
        await session.refresh(account)
    assert account.night_mode is True
    await user.open(f"/stand/{chart.id}")  # a fresh page (another instance would read the same row)
    assert next(iter(user.find(kind=Stand).elements)).props["night"] is True

    # the reader's crop of this chart, the same way: theirs on every device; a bad one is never stored
    stand = user.find(kind=Stand)
    running = set(background_tasks.running_tasks)
    stand.trigger("crop_change", {"chart_id": chart.id, "mode": "manual", "margins": [0.9, 0, 0, 0]})
    stand.trigger("crop_change", {"chart_id": chart.id, "mode": "manual", "margins": [0.05, 0.1, 0.05, 0]})
    await asyncio.gather(*(background_tasks.running_tasks - running))
    await user.open(f"/stand/{chart.id}")
    assert next(iter(user.find(kind=Stand).elements)).props["crops"] == {
        str(chart.id): {"mode": "manual", "margins": [0.05, 0.1, 0.05, 0.0]}}
