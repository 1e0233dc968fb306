"""What each signed-in screen reads first, for the acting member, in one short session.

Pages only render: they ask for their screen's data here and never open a database session themselves. Every
loader calls the band-scoped services (which check roles), so what a screen shows is what the member may see;
leaders' extras (who answered, substitutes) are read only for leaders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from ..access import Actor
from ..db import db
from ..models import Band, CalendarFeed, Gig, Membership, Performance, Setlist, User
from . import auth, gigs, library, live, members, setlists
from .gigs import Answer
from .library import SongDetail
from .live import LiveState


@dataclass(frozen=True)
class HomeData:
    band: Band
    upcoming: list[Gig]
    setlists: list[Setlist]
    live: LiveState | None


async def home(actor: Actor) -> HomeData:
    async with db.session() as session:
        return HomeData(await members.get_band(session, actor), await gigs.upcoming(session, actor, limit=3),
                        await setlists.list_setlists(session, actor), await live.current(session, actor))


@dataclass(frozen=True)
class GigsData:
    zone: ZoneInfo
    upcoming: list[Gig]
    played: list[Gig]
    mine: dict[int, str]  # my answer per upcoming gig
    feed: CalendarFeed | None
    live: LiveState | None


async def gig_list(actor: Actor) -> GigsData:
    async with db.session() as session:
        zone = await gigs.band_zone(session, actor)
        upcoming = await gigs.upcoming(session, actor, limit=50)
        played = await gigs.past(session, actor, limit=20)
        mine = await gigs.my_availability(session, actor, [g.id for g in upcoming if g.id])
        feed = await gigs.my_feed(session, actor)
        state = await live.current(session, actor)
    return GigsData(zone, upcoming, played, mine, feed, state)


@dataclass(frozen=True)
class GigData:
    zone: ZoneInfo
    gig: Gig
    mine: dict[int, str]
    played: list[Performance]
    setlist: Setlist | None
    answers: list[Answer] = field(default_factory=list)  # leaders only
    subs: list[tuple[Membership, User]] = field(default_factory=list)  # leaders only


async def gig(actor: Actor, gig_id: int) -> GigData:
    async with db.session() as session:
        zone = await gigs.band_zone(session, actor)
        found = await gigs.get_gig(session, actor, gig_id)
        mine = await gigs.my_availability(session, actor, [gig_id])
        answers = await gigs.availability(session, actor, gig_id) if actor.is_leader else []
        subs = await gigs.subs(session, actor, gig_id) if actor.is_leader else []
        played = await gigs.played_at_gig(session, actor, gig_id)
        setlist = await setlists.get_setlist(session, actor, found.setlist_id) if found.setlist_id else None
    return GigData(zone, found, mine, played, setlist, answers, subs)


@dataclass(frozen=True)
class GigFormData:
    zone: ZoneInfo
    setlists: list[Setlist]


async def gig_form(actor: Actor) -> GigFormData:
    async with db.session() as session:
        return GigFormData(await gigs.band_zone(session, actor), await setlists.list_setlists(session, actor))


async def gig_to_edit(actor: Actor, gig_id: int) -> Gig:
    async with db.session() as session:
        return await gigs.get_gig(session, actor, gig_id)


async def library_screen(actor: Actor) -> tuple[dict[str, str], LiveState | None]:
    """The library screen's part filters and the live state."""
    async with db.session() as session:
        return await library.part_filters(session, actor), await live.current(session, actor)


@dataclass(frozen=True)
class SongData:
    detail: SongDetail
    last_played: datetime | None
    zone: ZoneInfo


async def song(actor: Actor, song_id: int) -> SongData:
    async with db.session() as session:
        return SongData(await library.song_detail(session, actor, song_id),
                        await gigs.last_played(session, actor, song_id), await gigs.band_zone(session, actor))


@dataclass(frozen=True)
class SetlistsData:
    setlists: list[Setlist]
    live: LiveState | None


async def setlist_list(actor: Actor) -> SetlistsData:
    async with db.session() as session:
        return SetlistsData(await setlists.list_setlists(session, actor), await live.current(session, actor))


@dataclass(frozen=True)
class SetlistData:
    setlist: Setlist
    live: LiveState | None


async def setlist(actor: Actor, setlist_id: int) -> SetlistData:
    async with db.session() as session:
        return SetlistData(await setlists.get_setlist(session, actor, setlist_id), await live.current(session, actor))


@dataclass(frozen=True)
class OfflineSetsData:
    setlists: list[Setlist]
    upcoming: list[Gig]
    zone: ZoneInfo


async def offline_sets(actor: Actor) -> OfflineSetsData:
    async with db.session() as session:
        return OfflineSetsData(await setlists.list_setlists(session, actor),
                               await gigs.upcoming(session, actor, limit=10), await gigs.band_zone(session, actor))


async def my_bands(actor: Actor) -> list[Band]:
    """The bands I belong to (the profile and the band picker)."""
    async with db.session() as session:
        return await auth.user_bands(session, actor.user_id)
