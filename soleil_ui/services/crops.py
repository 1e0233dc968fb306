"""The stand's crop: each PDF page's measured ink box (automatic), and each member's own choice per chart.

The automatic crop is measured once per file, in the render worker pool (``PageRenderer.ink_boxes``), and stored on
the chart row (``Chart.page_crops``) next to the page sizes: sync measures a new or changed file right after
inspecting it, and ``ensure_crops`` measures, once, a chart synced before crops existed (the first stand that shows
it). The stand's page list then carries each page's box (``StandPage.crop``), so a setlist shared by a section and
the offline set carry it too, with no extra request.

A member may override it per chart (``StandCrop``): ``auto`` (the default, no row), ``off`` (the whole page) or
``manual`` margins, the same on every page. It is theirs on every device (the database, not the browser); the stand
gets every choice of the member at once (``member_crops``), which a setlist's shared page lists can't hold.
Engraved parts (MusicXML, ChordPro) aren't cropped: our engraver lays them out with its own small margins.
"""

from __future__ import annotations

import asyncio
import logging

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..access import Actor
from ..crop import valid_box, valid_margins
from ..db import db
from ..errors import InvalidInput, SoleilError
from ..models import Chart, CropMode, StandCrop, utcnow
from ..runtime import get_runtime
from . import library

log = logging.getLogger(__name__)
_measuring: dict[str, asyncio.Future[list[list[float]]]] = {}  # file checksum -> its measure under way here


def stored_crops(chart: Chart) -> list[list[float]] | None:
    """The chart's measured boxes, when there is one valid box for every page (else None: measure again)."""
    crops = chart.page_crops or []
    if len(crops) != chart.page_count or any(valid_box(box) is None for box in crops):
        return None
    return crops


async def measure(checksum: str, load_bytes: bytes | None = None) -> list[list[float]]:
    """Every page's crop box of a stored file, measured in the worker pool (one measure per file at a time)."""
    running = _measuring.get(checksum)
    if running is not None:
        return await asyncio.shield(running)
    runtime = get_runtime()

    async def run() -> list[list[float]]:
        data = load_bytes if load_bytes is not None else await runtime.blobs.read(checksum)
        return [list(box) for box in await runtime.renderer.ink_boxes(data)]

    task = asyncio.ensure_future(run())
    _measuring[checksum] = task
    task.add_done_callback(lambda _: _measuring.pop(checksum, None))
    return await asyncio.shield(task)


async def ensure_crops(chart: Chart) -> None:
    """Measure and store a PDF chart's crop boxes if it has none yet (a chart synced before crops existed). A file
    that can't be measured is logged and shown uncropped: the stand never fails for want of a crop."""
    if library.is_generated(chart) or chart.id is None or not chart.page_count or stored_crops(chart) is not None:
        return
    try:
        crops = await measure(chart.checksum)
    except SoleilError as exc:
        log.warning("chart %s: no crop (%s)", chart.id, exc.detail or exc.user_message)
        return
    chart.page_crops = crops
    async with db.session() as session:
        await session.exec(sa.update(Chart).where(col(Chart.id) == chart.id, col(Chart.checksum) == chart.checksum)
                           .values(page_crops=crops))


def choice_json(row: StandCrop) -> dict[str, object]:
    return {"mode": row.mode, "margins": list(row.margins)}


async def member_crops(session: AsyncSession, actor: Actor) -> dict[int, dict[str, object]]:
    """Every chart this member doesn't read with the automatic crop: ``{chart_id: {"mode", "margins"}}``."""
    rows = await session.exec(select(StandCrop).where(StandCrop.membership_id == actor.membership_id,
                                                      StandCrop.band_id == actor.band_id))
    return {row.chart_id: choice_json(row) for row in rows.all()}


async def save_crop(session: AsyncSession, actor: Actor, chart_id: int, mode: object, margins: object) -> None:
    """The member chose how to crop a chart of their band: ``auto`` forgets the choice; ``manual`` needs margins."""
    if mode not in set(CropMode):
        raise InvalidInput("Crop is auto, off or manual.")
    await library.get_chart(session, actor, chart_id)  # their band's, and theirs to see (a 404 otherwise)
    kept = valid_margins(margins) if mode == CropMode.MANUAL else ()
    if kept is None:
        raise InvalidInput("Margins are four numbers from 0 to 0.4 of the page.")
    row = (await session.exec(select(StandCrop).where(StandCrop.membership_id == actor.membership_id,
                                                      StandCrop.chart_id == chart_id))).first()
    if mode == CropMode.AUTO:
        if row is not None:
            await session.delete(row)
        return
    row = row or StandCrop(band_id=actor.band_id, membership_id=actor.membership_id, chart_id=chart_id)
    row.mode, row.margins, row.updated_at = str(mode), list(kept), utcnow()
    session.add(row)
