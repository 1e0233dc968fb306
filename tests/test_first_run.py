"""What a newcomer meets on the first start: a demo that looks like a real band's week, and sync counts that agree."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from soleil_ui import runtime
from soleil_ui.access import Actor
from soleil_ui.db import db
from soleil_ui.demo import DEMO_TZ, ensure_demo, gig_day
from soleil_ui.demo_library import BROKEN_FILES
from soleil_ui.models import Gig, LibrarySource, Membership, Role, Setlist, User
from soleil_ui.services import setlists
from soleil_ui.services.sync import sync_configured
from soleil_ui.settings import Settings


async def test_demo_week_has_real_song_lengths_and_a_friday_gig(core: runtime.Runtime, demo_env: Settings) -> None:
    band_id = await ensure_demo(demo_env)
    async with db.session() as session:
        gig = (await session.exec(select(Gig).where(Gig.band_id == band_id))).one()
        setlist = (await session.exec(select(Setlist).where(Setlist.band_id == band_id))).one()
        membership, user = (await session.exec(select(Membership, User).join(User).where(
            Membership.band_id == band_id, Membership.role == Role.LEADER))).one()
        assert membership.id is not None and user.id is not None and setlist.id is not None
        actor = Actor(user.id, band_id, membership.id, Role.LEADER, user.name, user.email)
        sets = setlists.sets_of(await setlists.entries(session, actor, setlist.id))
    starts = gig.starts_at.astimezone(ZoneInfo(DEMO_TZ))
    assert gig.title == "Friday Night Swing" and starts.strftime("%A") == "Friday"
    assert gig.ends_at is not None and gig.ends_at > gig.starts_at
    assert [s.label for s in sets] == ["Set 1", "Set 2"]
    for summary in sets:
        assert summary.unknown == 0
        assert 150 * summary.songs <= summary.seconds <= 360 * summary.songs  # minutes a song, not seconds


def test_the_demo_gig_is_always_an_upcoming_friday() -> None:
    monday = date(2026, 11, 30)
    for offset in range(14):
        today = monday + timedelta(days=offset)
        day = gig_day(today)
        assert day.weekday() == 4 and 2 <= (day - today).days <= 8


async def test_a_resync_reports_the_broken_files_still_there(core: runtime.Runtime, demo_env: Settings) -> None:
    # Start-up said "2 broken"; `soleil sync` right after used to say 0, counting only files that changed.
    band_id = await ensure_demo(demo_env)
    async with db.session() as session:
        assert (await session.exec(select(LibrarySource).where(LibrarySource.band_id == band_id))).one()
    again = await sync_configured(band_id, prerender=False)
    assert again.error is None and again.added == 0 and again.unchanged == again.total
    assert again.broken == len(BROKEN_FILES)

