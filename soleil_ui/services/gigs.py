"""Gigs: when and where the band plays, and which setlist it plays."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..access import Actor
from ..errors import InvalidInput, NotFound
from ..models import Gig, Setlist, utcnow
from .validation import clean_text


async def upcoming(session: AsyncSession, actor: Actor, *, limit: int = 5, now: datetime | None = None) -> list[Gig]:
    """The band's next gigs, soonest first (a gig stays "upcoming" for 6 hours after its downbeat)."""
    from datetime import timedelta

    since = (now or utcnow()) - timedelta(hours=6)
    query = (select(Gig).where(Gig.band_id == actor.band_id, col(Gig.starts_at) >= since)
             .order_by(col(Gig.starts_at)).limit(limit))
    return list((await session.exec(query)).all())


async def create_gig(session: AsyncSession, actor: Actor, *, title: str, starts_at: datetime, venue: str = "",
                     address: str = "", load_in_at: datetime | None = None, dress_code: str = "", notes: str = "",
                     setlist_id: int | None = None) -> Gig:
    actor.require_leader()
    if starts_at.tzinfo is None:
        raise InvalidInput("A gig's time needs a time zone.")
    if load_in_at is not None and load_in_at > starts_at:
        raise InvalidInput("Load-in must be before the downbeat.")
    if setlist_id is not None:
        setlist = await session.get(Setlist, setlist_id)
        if setlist is None or setlist.band_id != actor.band_id:
            raise NotFound("That setlist doesn't exist.")
    gig = Gig(band_id=actor.band_id, title=clean_text(title, "Gig title", max_length=200), starts_at=starts_at,
              load_in_at=load_in_at, venue=clean_text(venue, "Venue", max_length=200, required=False),
              address=clean_text(address, "Address", max_length=300, required=False),
              dress_code=clean_text(dress_code, "Dress code", max_length=200, required=False),
              notes=clean_text(notes, "Notes", max_length=2000, required=False, multiline=True),
              setlist_id=setlist_id)
    session.add(gig)
    await session.flush()
    return gig


async def get_gig(session: AsyncSession, actor: Actor, gig_id: int) -> Gig:
    gig = await session.get(Gig, gig_id)
    if gig is None or gig.band_id != actor.band_id:
        raise NotFound("That gig doesn't exist.")
    return gig
