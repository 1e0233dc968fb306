"""What a stand and a stage print read of a setlist: each song with the chart and part this member opens, and the
list cut into sets.

The library decides what "my part" is (``library.resolve_songs``); the setlists say what is on the list. This
module asks both, and neither asks it, so there is no import cycle between the two.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..access import Actor
from ..models import Chart, Setlist
from ..parts import PartRef
from . import library
from .library import KeyPref, ResolvedChart
from .setlists import SetlistEntry, SetSummary, entries_of, get_setlist, sets_of


@dataclass(frozen=True, slots=True)
class StandStop:
    """A song of the setlist as one member reads it: the chart in their part (or nearest), if any, resolved for the
    entry's key of the night and the member's own key/octave (``resolved``: which part of it, drawn how, and why)."""

    item_id: int
    song_id: int
    title: str
    chart: Chart | None
    explanation: str
    musical_key: str | None
    notes: str
    resolved: ResolvedChart | None = None

    @property
    def part_label(self) -> str:
        """The part the stand shows ("Trumpet in B♭"): a generated chart's engraved part, a PDF's own part."""
        if self.chart is None:
            return ""
        if self.resolved is not None and self.resolved.part_key:
            return self.resolved.part_label
        part = PartRef.try_from_key(self.chart.part_key)
        return part.label() if part else ""

    @property
    def generated(self) -> bool:
        return self.chart is not None and self.resolved is not None and self.resolved.generated


@dataclass(frozen=True, slots=True)
class StandPlan:
    setlist_id: int
    name: str
    version: int
    stops: list[StandStop]

    def index_of(self, item_id: int | None) -> int | None:
        return next((i for i, s in enumerate(self.stops) if s.item_id == item_id), None)

    def index_of_chart(self, chart_id: int) -> int | None:
        return next((i for i, s in enumerate(self.stops) if s.chart is not None and s.chart.id == chart_id), None)


async def stand_plan(session: AsyncSession, actor: Actor, setlist_id: int,
                     prefs: Mapping[int, KeyPref] | None = None) -> StandPlan:
    """The setlist's songs in order, each with the chart and part this member should open, in the entry's key of the
    night (a generated part follows it; a PDF in another key gives way) and with ``prefs``, the member's own
    key/octave per song (``library.member_prefs``; None reads them). A few queries for the whole setlist."""
    setlist = await get_setlist(session, actor, setlist_id)
    assert setlist.id is not None
    listed = [e for e in await entries_of(session, actor.band_id, setlist_id) if not e.is_break and e.song_id]
    if prefs is None:
        prefs = await library.member_prefs(session, actor)
    resolved = await library.resolve_songs(session, actor, [(e.song_id or 0, e.musical_key) for e in listed], prefs)
    chart_ids = sorted({r.chart_id for r in resolved if r is not None and r.chart_id is not None})
    charts = {c.id: c for c in (await session.exec(select(Chart).where(
        Chart.band_id == actor.band_id, col(Chart.id).in_(chart_ids)))).all()} if chart_ids else {}
    stops = []
    for entry, found in zip(listed, resolved, strict=True):
        chart = charts.get(found.chart_id) if found is not None and found.chart_id is not None else None
        stops.append(StandStop(entry.item_id, entry.song_id or 0, entry.label, chart,
                               found.explanation if found is not None else "This song has no charts yet.",
                               entry.musical_key, entry.notes, found if chart is not None else None))
    return StandPlan(setlist.id, setlist.name, setlist.version, stops)


@dataclass(frozen=True, slots=True)
class PrintSet:
    label: str
    songs: list[SetlistEntry]
    seconds: int
    unknown: int


async def print_sets(session: AsyncSession, actor: Actor, setlist_id: int) -> tuple[Setlist, list[PrintSet]]:
    """The setlist cut into sets for the stage print (one page each)."""
    setlist = await get_setlist(session, actor, setlist_id)
    listed = await entries_of(session, actor.band_id, setlist_id)
    summaries = sets_of(listed)
    result, current = [], -1
    for entry in listed:
        if entry.is_break or current < 0:
            current += 1
            summary = summaries[current] if current < len(summaries) else SetSummary(entry.label, None, 0, 0, 0)
            result.append(PrintSet(summary.label, [], summary.seconds, summary.unknown))
        if not entry.is_break:
            result[-1].songs.append(entry)
    return setlist, result
