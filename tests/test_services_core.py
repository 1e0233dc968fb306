"""Bands, members, sessions, gigs and setlists through the service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from soleil_ui.access import Actor
from soleil_ui.db import db
from soleil_ui.errors import Forbidden, InvalidInput, NotFound, NotSignedIn
from soleil_ui.models import AuthSession, Role, Song
from soleil_ui.services import auth, gigs, members, setlists

pytestmark = pytest.mark.usefixtures("core")


async def _band_with(name: str, email: str, role: str = Role.LEADER,
                     instruments: list[dict[str, object]] | None = None) -> tuple[int, int]:
    async with db.session() as session:
        band = await members.create_band(session, name)
        user = await members.get_or_create_user(session, email, email.split("@")[0].title())
        assert band.id and user.id
        await members.add_member(session, band.id, user.id, role=role, instruments=instruments or [])
        return band.id, user.id


async def _actor(token: str) -> Actor:
    async with db.session() as session:
        return await auth.resolve(session, token)


async def test_session_resolves_to_member_and_band() -> None:
    band_id, user_id = await _band_with("The Hot Five", "Leader@Example.org",
                                        instruments=[{"instrument": "trumpet", "chair": 1}])
    async with db.session() as session:
        token = await auth.start_session(session, user_id, band_id, "pytest")
    actor = await _actor(token)
    assert (actor.band_id, actor.user_id, actor.email, actor.band_name) == (
        band_id, user_id, "leader@example.org", "The Hot Five")
    assert actor.is_leader
    assert actor.instruments == ({"instrument": "trumpet", "chair": 1},)
    async with db.session() as session:
        stored = (await session.exec(select(AuthSession))).one()
    assert stored.token_hash != token and token not in stored.token_hash


async def test_sign_out_and_sign_out_everywhere_end_access() -> None:
    band_id, user_id = await _band_with("Band", "a@example.org")
    async with db.session() as session:
        phone = await auth.start_session(session, user_id, band_id)
        tablet = await auth.start_session(session, user_id, band_id)
        laptop = await auth.start_session(session, user_id, band_id)
    async with db.session() as session:
        await auth.end_session(session, phone)
    with pytest.raises(NotSignedIn):
        await _actor(phone)
    assert (await _actor(tablet)).user_id == user_id
    async with db.session() as session:
        assert await auth.end_all_sessions(session, user_id) == 2
    for token in (tablet, laptop):
        with pytest.raises(NotSignedIn):
            await _actor(token)


async def test_expired_and_unknown_tokens_are_refused() -> None:
    band_id, user_id = await _band_with("Band", "b@example.org")
    async with db.session() as session:
        token = await auth.start_session(session, user_id, band_id)
        record = (await session.exec(select(AuthSession))).one()
        record.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        session.add(record)
    with pytest.raises(NotSignedIn, match="ended"):
        await _actor(token)
    for bad in (None, "", "not-a-token"):
        with pytest.raises(NotSignedIn):
            await _actor(bad)  # type: ignore[arg-type]


async def test_one_person_in_two_bands_switches_between_them() -> None:
    band_a, user_id = await _band_with("Band A", "both@example.org")
    async with db.session() as session:
        band_b = await members.create_band(session, "Band B")
        assert band_b.id
        await members.add_member(session, band_b.id, user_id, role=Role.MEMBER)
        token = await auth.start_session(session, user_id, band_a)
        assert [b.name for b in await auth.user_bands(session, user_id)] == ["Band A", "Band B"]
    assert (await _actor(token)).band_id == band_a
    async with db.session() as session:
        await auth.switch_band(session, token, band_b.id)
    actor = await _actor(token)
    assert (actor.band_id, actor.is_leader) == (band_b.id, False)
    band_c, _ = await _band_with("Band C", "other@example.org")
    async with db.session() as session:
        with pytest.raises(NotSignedIn):
            await auth.switch_band(session, token, band_c)


async def test_setlists_are_scoped_and_leader_only() -> None:
    band_a, leader_a = await _band_with("A", "la@example.org")
    band_b, leader_b = await _band_with("B", "lb@example.org")
    async with db.session() as session:
        ta = await auth.start_session(session, leader_a, band_a)
        tb = await auth.start_session(session, leader_b, band_b)
        member_user = await members.get_or_create_user(session, "m@example.org", "M")
        assert member_user.id
        await members.add_member(session, band_a, member_user.id)
        tm = await auth.start_session(session, member_user.id, band_a)
        session.add(Song(band_id=band_a, title="Take Five", song_key="take five", search_key="take five"))
    actor_a, actor_b, member = await _actor(ta), await _actor(tb), await _actor(tm)
    async with db.session() as session:
        song = (await session.exec(select(Song))).one()
        setlist = await setlists.create_setlist(session, actor_a, "  Friday   night ")
        assert setlist.name == "Friday night" and setlist.id
        await setlists.add_break(session, actor_a, setlist.id, "Set 1")
        await setlists.add_song(session, actor_a, setlist.id, song.id or 0, notes="<script>alert(1)</script>")
        entries = await setlists.entries(session, actor_a, setlist.id)
        assert [(e.is_break, e.label, e.position) for e in entries] == [(True, "Set 1", 1), (False, "Take Five", 2)]
        assert entries[1].notes == "<script>alert(1)</script>"  # kept as text; the UI escapes it
        assert [s.name for s in await setlists.list_setlists(session, member)] == ["Friday night"]
        with pytest.raises(Forbidden):
            await setlists.create_setlist(session, member, "Mine")
        with pytest.raises(NotFound):
            await setlists.entries(session, actor_b, setlist.id)
        with pytest.raises(NotFound):
            await setlists.add_song(session, actor_b, setlist.id, song.id or 0)
        assert await setlists.list_setlists(session, actor_b) == []


@pytest.mark.parametrize("name", ["", "   ", "x" * 10_000])
async def test_bad_names_get_clear_messages(name: str) -> None:
    band_id, user_id = await _band_with("Band", "c@example.org")
    async with db.session() as session:
        token = await auth.start_session(session, user_id, band_id)
    actor = await _actor(token)
    async with db.session() as session:
        with pytest.raises(InvalidInput, match="Setlist name"):
            await setlists.create_setlist(session, actor, name)


async def test_upcoming_gigs_in_order_and_validated() -> None:
    band_id, user_id = await _band_with("Band", "d@example.org")
    async with db.session() as session:
        token = await auth.start_session(session, user_id, band_id)
    actor = await _actor(token)
    now = datetime.now(UTC)
    async with db.session() as session:
        await gigs.create_gig(session, actor, title="Later", starts_at=now + timedelta(days=20), venue="Hall")
        await gigs.create_gig(session, actor, title="Soon", starts_at=now + timedelta(days=2),
                              load_in_at=now + timedelta(days=2, hours=-2))
        await gigs.create_gig(session, actor, title="Last month", starts_at=now - timedelta(days=30))
        with pytest.raises(InvalidInput, match="Load-in"):
            await gigs.create_gig(session, actor, title="X", starts_at=now, load_in_at=now + timedelta(hours=1))
        with pytest.raises(InvalidInput, match="time zone"):
            await gigs.create_gig(session, actor, title="X", starts_at=datetime(2030, 1, 1))
    async with db.session() as session:
        found = await gigs.upcoming(session, actor)
        assert [g.title for g in found] == ["Soon", "Later"]
        assert found[0].starts_at.tzinfo is not None
        assert abs(found[0].starts_at - (now + timedelta(days=2))) < timedelta(seconds=1)
