"""A cached page image that is damaged on disk is never served: the route renders it again, at the same URL."""

from __future__ import annotations

import shutil
from pathlib import Path

from nicegui.testing import User
from sqlmodel import select

from soleil_ui.db import db
from soleil_ui.models import Chart, Role
from soleil_ui.rendering import webp_problem
from soleil_ui.runtime import get_runtime
from soleil_ui.services.sync import sync_configured
from soleil_ui.settings import get_settings
from tests.library_helpers import FIXTURE_CHARTS, add_member, band_with_member, session_cookie


async def test_a_damaged_cached_page_is_rendered_again_and_served_whole(user: User, tmp_path: Path) -> None:
    folder = tmp_path / "data" / "library"
    folder.mkdir(parents=True)
    shutil.copy(FIXTURE_CHARTS / "TakeFive_Bb.pdf", folder)
    leader = await band_with_member("Band", [{"instrument": "trumpet"}], role=Role.LEADER, library=folder)
    await sync_configured(leader.band_id, prerender=False)
    _, token = await add_member(leader.band_id, "tp@example.org", [{"instrument": "trumpet"}])
    user.http_client.cookies.set("session", session_cookie(token, get_settings().effective_secret_key()))
    async with db.session() as session:
        chart = (await session.exec(select(Chart))).one()
    url = f"/media/charts/{chart.id}/pages/0?w=800&v={chart.checksum[:16]}"

    first = await user.http_client.get(url)
    assert first.status_code == 200 and webp_problem(first.content) is None
    renderer = get_runtime().renderer
    cached = renderer.cache_path(chart.checksum, 0, 800)
    damaged = bytearray(cached.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF  # one flipped byte: same size, not empty
    cached.write_bytes(bytes(damaged))
    renders = renderer.renders

    again = await user.http_client.get(url)
    assert again.status_code == 200 and again.content == first.content
    assert again.headers["etag"] == first.headers["etag"] and "immutable" in again.headers["cache-control"]
    assert renderer.renders == renders + 1
