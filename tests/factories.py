"""Shared test factories: bands with songs, members, setlists, gigs and substitutes built through the services,
and signing in as a demo member in the NiceGUI ``User`` fixture. Test modules import these instead of each other's
private helpers."""

from __future__ import annotations

from datetime import timedelta

from nicegui.testing import User
from sqlmodel import select

from soleil_ui.access import Actor
from soleil_ui.db import db
from soleil_ui.models import Membership, Role, Song, utcnow
from soleil_ui.models import User as UserAccount
from soleil_ui.services import auth, gigs, members, setlists
from soleil_ui.services.setlists import Op
from tests.library_helpers import demo_sign_in


async def band_with_songs(name: str, songs: int = 8) -> tuple[Actor, list[int], str]:
    """A band with a leader and ``songs`` songs; the leader's Actor, the song ids and a session token."""
    async with db.session() as session:
        band = await members.create_band(session, name)
        user = await members.get_or_create_user(session, f"lead@{name.lower().replace(' ', '')}.org", "Lead")
        assert band.id and user.id
        await members.add_member(session, band.id, user.id, role=Role.LEADER)
        created = [Song(band_id=band.id, title=f"{name} song {n}", song_key=f"s{n}", search_key=f"s{n}")
                   for n in range(1, songs + 1)]
        session.add_all(created)
        await session.flush()
        token = await auth.start_session(session, user.id, band.id)
    async with db.session() as session:
        return await auth.resolve(session, token), [s.id or 0 for s in created], token


async def member_of(leader: Actor, email: str) -> Actor:
    async with db.session() as session:
        user = await members.get_or_create_user(session, email, "Player")
        assert user.id
        await members.add_member(session, leader.band_id, user.id, instruments=[{"instrument": "trumpet",
                                                                                  "chair": 1}])
        token = await auth.start_session(session, user.id, leader.band_id)
    async with db.session() as session:
        return await auth.resolve(session, token)


async def new_setlist(actor: Actor, name: str = "Friday") -> int:
    async with db.session() as session:
        setlist = await setlists.create_setlist(session, actor, name)
        assert setlist.id
        return setlist.id


async def apply_op(actor: Actor, setlist_id: int, op: Op) -> setlists.OpResult:
    async with db.session() as session:
        return await setlists.apply_op(session, actor, setlist_id, op)


async def new_gig(leader: Actor, title: str = "Friday", *, days: float = 3, setlist_id: int | None = None) -> int:
    async with db.session() as session:
        gig = await gigs.create_gig(session, leader, title=title, starts_at=utcnow() + timedelta(days=days),
                                    venue="The Blue Room", address="1 Harbour St", setlist_id=setlist_id)
        assert gig.id
        return gig.id


async def new_sub(leader: Actor, gig_id: int, email: str = "sub@elsewhere.org") -> Actor:
    async with db.session() as session:
        membership = await gigs.invite_sub(session, leader, gig_id, email=email, name="Sam Sub",
                                           instruments=[{"instrument": "trombone", "chair": 2}])
        token = await auth.start_session(session, membership.user_id, leader.band_id)
    async with db.session() as session:
        return await auth.resolve(session, token)


async def enter_as(user: User, name: str) -> Actor:
    async with db.session() as session:
        user_id = (await session.exec(select(UserAccount.id).where(UserAccount.name == name))).one()
    response = await demo_sign_in(user.http_client, user_id)
    assert response.status_code == 303
    async with db.session() as session:
        membership = (await session.exec(select(Membership).where(Membership.user_id == user_id))).one()
        token = await auth.start_session(session, user_id, membership.band_id)
    async with db.session() as session:
        return await auth.resolve(session, token)


def rows_order(user: User) -> list[int]:
    column = user.find(marker="setlist-rows").elements.pop()
    return [int(child.props["data-item-id"]) for child in column.default_slot.children]
