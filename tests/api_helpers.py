"""Builders for the API tests: demo members as Actors, and their tokens."""

from __future__ import annotations

from sqlmodel import col, select

from soleil_ui.access import Actor
from soleil_ui.db import db
from soleil_ui.models import Gig, Membership, Setlist, Song
from soleil_ui.models import User as UserAccount
from soleil_ui.services import auth, tokens

DEMO_SETLIST = "Friday at the Blue Room"


async def actor_named(name: str) -> Actor:
    async with db.session() as session:
        user_id = (await session.exec(select(UserAccount.id).where(UserAccount.name == name))).one()
        membership = (await session.exec(select(Membership).where(Membership.user_id == user_id))).one()
        token = await auth.start_session(session, user_id, membership.band_id)
    async with db.session() as session:
        return await auth.resolve(session, token)


async def token_for(actor: Actor, scope: str = tokens.READ, name: str = "script") -> str:
    async with db.session() as session:
        _, secret = await tokens.create_token(session, actor, name, scope=scope)
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def demo_ids(band_id: int) -> dict[str, int]:
    """One of each thing of a band, for filling in paths."""
    async with db.session() as session:
        song = (await session.exec(select(Song.id).where(Song.band_id == band_id).order_by(col(Song.id)))).first()
        setlist = (await session.exec(select(Setlist.id).where(Setlist.band_id == band_id))).first()
        gig = (await session.exec(select(Gig.id).where(Gig.band_id == band_id))).first()
    assert song and setlist and gig
    return {"song_id": song, "setlist_id": setlist, "gig_id": gig}
