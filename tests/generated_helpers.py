"""Shared builders for the generated-parts tests: a demo library of one score, one chord sheet and one PDF (the
``generated_library`` fixture), a band synced from a folder of sources, and reading back what the media routes
engrave. Test modules import these instead of each other's helpers."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import parse_qsl, urlparse

import pytest
from sqlmodel import select

from soleil_ui.access import Actor
from soleil_ui.db import db
from soleil_ui.demo import demo_band_id
from soleil_ui.models import Chart, Role, Song
from soleil_ui.runtime import get_runtime
from soleil_ui.services import chart_pages, library
from soleil_ui.services.library import ResolvedChart
from soleil_ui.services.sync import prerendered, sync_configured
from soleil_ui.settings import Settings, get_settings
from tests.library_helpers import add_member, band_with_member

NOTATION = Path(__file__).parent / "fixtures" / "notation"
CHARTS = Path(__file__).parent / "fixtures" / "charts"
TRUMPET = [{"instrument": "trumpet", "chair": 1}]


@pytest.fixture(autouse=True)  # autouse in every module that imports it
def generated_library(app_env: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    """Demo mode on a library of one score, one chord sheet and one PDF (set before the app starts)."""
    folder = tmp_path / "library"
    folder.mkdir()
    for name in ("Tune.musicxml", "Amazing Grace_Chords.cho"):
        shutil.copy(NOTATION / name, folder / name)
    shutil.copy(CHARTS / "TakeFive_Bb.pdf", folder / "Take Five - Bb.pdf")
    monkeypatch.setenv("SOLEIL_DEMO", "1")
    monkeypatch.setenv("SOLEIL_LIBRARY_DIR", str(folder))
    get_settings.cache_clear()
    return get_settings()


async def ready() -> None:
    """The demo library is synced and its members' parts engraved ahead (so requests don't queue behind it)."""
    band_id = await demo_band_id()
    assert band_id is not None
    await prerendered(band_id)


async def song(title: str) -> Song:
    async with db.session() as session:
        return (await session.exec(select(Song).where(Song.title == title))).one()


async def served_svg(page: dict[str, object]) -> str:
    """What ``/media/charts/{id}/svg/{n}?…`` answers for a page of the stand's list (the route's own steps)."""
    url = urlparse(str(page["src"]))
    match = re.fullmatch(r"/media/charts/(\d+)/svg/(\d+)", url.path)
    assert match, url.path
    query = dict(parse_qsl(url.query))
    async with db.session() as session:
        chart = await session.get(Chart, int(match.group(1)))
    assert chart is not None and query["v"] == chart.checksum[:16]
    spec = chart_pages.spec_from_params(chart, query)
    rt = get_runtime()
    path = await rt.engraver.page_svg(chart.checksum, spec, int(match.group(2)), int(query["w"]),
                                      lambda: rt.blobs.read(chart.checksum))
    return path.read_text(encoding="utf-8")


async def resolve(actor: Actor, title: str, concert_key: str | None = None) -> tuple[ResolvedChart, Chart]:
    async with db.session() as session:
        song_id = (await session.exec(select(Song.id).where(Song.band_id == actor.band_id,
                                                            Song.title == title))).one()
        resolved = await library.chart_for_member(session, actor, song_id, concert_key)
        chart = await session.get(Chart, resolved.chart_id) if resolved.chart_id else None
    assert chart is not None, resolved.explanation
    return resolved, chart


async def synced_band(folder: Path, *players: list[dict[str, object]]) -> list[Actor]:
    """A band whose leader plays keys, with one member per instrument list, synced from ``folder``."""
    leader = await band_with_member("Horns", [{"instrument": "keys"}], role=Role.LEADER, library=folder)
    members = [leader]
    for n, instruments in enumerate(players):
        members.append((await add_member(leader.band_id, f"player{n}@example.org", instruments))[0])
    progress = await sync_configured(leader.band_id, prerender=False)
    assert progress.error is None
    return members
