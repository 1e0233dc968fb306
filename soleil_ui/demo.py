"""The demo band: everything a newcomer needs to try SOLEil with no Google account.

Seeded once, on the first start with demo on: a leader and eight players, a library (the folder in
``SOLEIL_LIBRARY_DIR`` or generated chart PDFs), a setlist and the coming Friday's gig, like a real band's week:
songs run their usual few minutes (not the seconds of the demo recordings) and "Friday Night Swing" is on a Friday.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from .db import db
from .demo_library import DEMO_SONGS, song_length
from .models import Band, LibrarySource, Membership, Role, Song, User
from .services import auth, gigs, members, setlists
from .services.sync import sync_band
from .settings import Settings
from .sources.local import LocalFolderSource

log = logging.getLogger(__name__)
DEMO_BAND = "The Sunset Swing Band"
DEMO_TZ = "America/New_York"
DEMO_DOMAIN = "demo.soleil.invalid"  # .invalid never resolves: demo accounts can't receive mail
FRIDAY = 4  # date.weekday()
BREAK_SECONDS = 20 * 60

DEMO_PEOPLE: list[tuple[str, str, str, list[dict[str, object]]]] = [
    ("leader", "Morgan Lee", Role.LEADER, [{"instrument": "keys", "chair": None}]),
    ("trumpet", "Ava Brooks", Role.MEMBER, [{"instrument": "trumpet", "chair": 1}]),
    ("alto", "Luis Ortega", Role.MEMBER, [{"instrument": "alto_sax", "chair": 1}]),
    ("tenor", "Grace Kim", Role.MEMBER, [{"instrument": "tenor_sax", "chair": 1}]),
    ("trombone", "Theo Marsh", Role.MEMBER, [{"instrument": "trombone", "chair": 1}]),
    ("piano", "Nina Patel", Role.MEMBER, [{"instrument": "piano", "chair": None}]),
    ("bass", "Sam Okafor", Role.MEMBER, [{"instrument": "bass", "chair": None}]),
    ("drums", "Jo Weber", Role.MEMBER, [{"instrument": "drums", "chair": None}]),
    ("vocals", "Rosa Díaz", Role.MEMBER, [{"instrument": "vocals", "chair": None}]),
]


def demo_email(slug: str) -> str:
    return f"{slug}@{DEMO_DOMAIN}"


async def demo_band_id() -> int | None:
    async with db.session() as session:
        query = (select(Band.id).join(Membership, col(Membership.band_id) == Band.id)
                 .join(User, col(User.id) == Membership.user_id).where(col(User.is_demo).is_(True)).limit(1))
        return (await session.exec(query)).first()


async def demo_people() -> list[tuple[User, Membership]]:
    """Demo members in band order, for the one-tap sign-in page."""
    band_id = await demo_band_id()
    if band_id is None:
        return []
    async with db.session() as session:
        query = (select(User, Membership).join(Membership, col(Membership.user_id) == User.id)
                 .where(Membership.band_id == band_id, col(User.is_demo).is_(True)).order_by(col(Membership.id)))
        return [(u, m) for u, m in (await session.exec(query)).all()]


def _library_dir(settings: Settings) -> Path:
    if settings.library_dir:
        return settings.library_dir.resolve()
    from .demo_library import generate_demo_library

    target = (settings.data_dir / "demo-library").resolve()
    if not target.exists() or not any(target.iterdir()):
        generate_demo_library(target)
    return target


async def ensure_demo(settings: Settings) -> int:
    """Create the demo band on first start; later starts only resync its library. Returns the band id."""
    band_id = await demo_band_id()
    library = _library_dir(settings)
    if band_id is None:
        band_id = await _seed(library)
        progress = await sync_band(band_id, LocalFolderSource(library))
        log.info("demo band created with %s library files (%s broken, %s unsorted)",
                 progress.total, progress.broken, progress.unsorted)
        await _seed_setlist_and_gig(band_id)
    else:
        async with db.session() as session:
            record = (await session.exec(select(LibrarySource).where(LibrarySource.band_id == band_id))).first()
            if record is not None and record.location != str(library):
                record.location = str(library)
                session.add(record)
    return band_id


async def _seed(library: Path) -> int:
    async with db.session() as session:
        band = await members.create_band(session, DEMO_BAND, timezone=DEMO_TZ)
        assert band.id is not None
        for slug, name, role, instruments in DEMO_PEOPLE:
            user = await members.get_or_create_user(session, demo_email(slug), name, is_demo=True)
            assert user.id is not None
            await members.add_member(session, band.id, user.id, role=role, instruments=instruments)
        session.add(LibrarySource(band_id=band.id, kind="local", location=str(library)))
        return band.id


async def _seed_setlist_and_gig(band_id: int) -> None:
    async with db.session() as session:
        leader = (await session.exec(select(Membership, User, Band).join(User, col(User.id) == Membership.user_id)
                                     .join(Band, col(Band.id) == Membership.band_id)
                                     .where(Membership.band_id == band_id, Membership.role == Role.LEADER))).first()
        assert leader is not None
        actor = auth.actor_of(*leader)
        songs = (await session.exec(select(Song).where(Song.band_id == band_id).order_by(col(Song.title)))).all()
        lengths = {song.title: song_length(song) for song in DEMO_SONGS}
        for song in songs:
            song.duration_seconds = song.duration_seconds or lengths.get(song.title)
            session.add(song)
        setlist = await setlists.create_setlist(session, actor, "Friday at the Blue Room")
        assert setlist.id is not None
        half = max(1, len(songs) // 2)
        await setlists.add_break(session, actor, setlist.id, "Set 1")
        for song in songs[:half]:
            await setlists.add_song(session, actor, setlist.id, song.id or 0)
        await setlists.add_break(session, actor, setlist.id, "Set 2")
        for song in songs[half:half + 5]:
            await setlists.add_song(session, actor, setlist.id, song.id or 0)
        day = gig_day(datetime.now(ZoneInfo(DEMO_TZ)).date())
        zone = ZoneInfo(DEMO_TZ)
        starts = datetime.combine(day, time(20, 0), zone)
        played = sum(song.duration_seconds or 0 for song in songs[:half + 5])
        ends = starts + timedelta(seconds=played + BREAK_SECONDS + 15 * 60)  # plus count-ins, talk and an encore
        ends -= timedelta(minutes=ends.minute % 15)
        await gigs.create_gig(
            session, actor, title="Friday Night Swing", venue="The Blue Room", address="1 Harbour Street",
            starts_at=starts, load_in_at=datetime.combine(day, time(18, 30), zone), ends_at=ends,
            dress_code="All black", notes="Soundcheck at 19:00. Two sets with a 20-minute break.",
            setlist_id=setlist.id)


def gig_day(today: date) -> date:
    """The Friday of the demo's gig: the coming one, or next week's when that is less than two days away."""
    ahead = (FRIDAY - today.weekday()) % 7
    return today + timedelta(days=ahead if ahead >= 2 else ahead + 7)
