"""Which songs a member may open: everything for the band, only their gig's setlist for a substitute.

Both the library (search, song page, chart and audio access) and the setlists apply this scope, so it lives below
both of them and imports neither.
"""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..access import Actor
from ..models import Gig, SetlistItem


async def sub_setlist_id(session: AsyncSession, actor: Actor) -> int | None:
    if actor.gig_id is None:
        return None
    return (await session.exec(select(Gig.setlist_id).where(Gig.id == actor.gig_id,
                                                            Gig.band_id == actor.band_id))).first()


async def sub_song_ids(session: AsyncSession, actor: Actor) -> set[int] | None:
    """The songs a substitute may open (their gig's setlist); None for everyone else (no limit).

    For the library's reads (search, song page, chart and audio access) to apply the substitute's scope.
    """
    if not actor.is_sub:
        return None
    setlist_id = await sub_setlist_id(session, actor)
    if setlist_id is None:
        return set()
    query = select(SetlistItem.song_id).where(SetlistItem.setlist_id == setlist_id,
                                              SetlistItem.band_id == actor.band_id)
    return {song_id for song_id in (await session.exec(query)).all() if song_id is not None}
