"""A leader's "ask every device": every member's device gets a setlist ready offline before the gig.

The request is a row (``PrepareRequest``, one per setlist, replaced when asked again) and an event on the hub
(``PREPARE_TOPIC``, which crosses instances over PostgreSQL's LISTEN/NOTIFY): a device open now hears the event on
whichever instance serves it; one opened later reads the standing requests from ``/pwa/scope`` (``standing``),
whichever instance answers. Requests lapse after ``PREPARE_DAYS``; the leader can withdraw one (``cancel``, an event
with ``cancelled``: devices do nothing, leaders' pages show it withdrawn).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..access import Actor
from ..events import Event, hub
from ..models import PrepareRequest, Setlist, utcnow
from . import offline, setlists

PREPARE_TOPIC = "offline:prepare"
PREPARE_DAYS = 30


@dataclass(frozen=True, slots=True)
class Prepare:
    """A standing request as devices and leaders see it."""

    setlist_id: int
    name: str
    audio: bool
    at: datetime
    by: str

    def to_json(self) -> dict[str, Any]:
        return {"setlist_id": self.setlist_id, "name": self.name, "audio": self.audio, "at": self.at.isoformat()}


async def ask(session: AsyncSession, actor: Actor, setlist_id: int, *, audio: bool = False) -> Prepare:
    """Leaders only: ask every member's device to get this set ready (again: the newest request replaces it)."""
    name = await offline.check_prepare(session, actor, setlist_id)
    await session.exec(delete(PrepareRequest).where(
        col(PrepareRequest.band_id) == actor.band_id, col(PrepareRequest.asked_at) < _cutoff()))
    row = (await session.exec(select(PrepareRequest).where(PrepareRequest.setlist_id == setlist_id))).first()
    if row is None:
        row = PrepareRequest(band_id=actor.band_id, setlist_id=setlist_id)
    row.audio, row.asked_by, row.asked_at = audio, actor.name[:120], utcnow()
    session.add(row)
    await session.flush()
    hub.publish_after_commit(session, Event(actor.band_id, PREPARE_TOPIC,
                                            {"setlist": setlist_id, "audio": audio, "name": name}))
    return Prepare(setlist_id, name, audio, row.asked_at, row.asked_by)


async def cancel(session: AsyncSession, actor: Actor, setlist_id: int) -> bool:
    """Leaders only: withdraw the request for this set (devices that got it ready keep it). False: none stood."""
    actor.require_leader()
    found = await session.exec(delete(PrepareRequest).where(
        col(PrepareRequest.band_id) == actor.band_id, col(PrepareRequest.setlist_id) == setlist_id))
    if not found.rowcount:
        return False
    hub.publish_after_commit(session, Event(actor.band_id, PREPARE_TOPIC, {"setlist": setlist_id, "cancelled": True}))
    return True


async def standing(session: AsyncSession, actor: Actor) -> dict[int, Prepare]:
    """The band's requests for setlists this member may see, newest first; lapsed ones left out."""
    rows = (await session.exec(
        select(PrepareRequest, Setlist.name).join(Setlist, col(Setlist.id) == col(PrepareRequest.setlist_id))
        .where(PrepareRequest.band_id == actor.band_id, col(PrepareRequest.asked_at) >= _cutoff())
        .order_by(col(PrepareRequest.asked_at).desc()))).all()
    if not rows:
        return {}
    visible = {s.id for s in await setlists.list_setlists(session, actor)}
    return {row.setlist_id: Prepare(row.setlist_id, name, row.audio, row.asked_at, row.asked_by)
            for row, name in rows if row.setlist_id in visible}


def _cutoff() -> datetime:
    return utcnow() - timedelta(days=PREPARE_DAYS)
