"""Bands, people and who plays what."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..access import Actor
from ..errors import InvalidInput, NotFound
from ..models import Band, Membership, Role, User
from .validation import clean_text

MAX_INSTRUMENTS = 6


async def create_band(session: AsyncSession, name: str, *, timezone: str = "UTC") -> Band:
    band = Band(name=clean_text(name, "Band name", max_length=120), timezone=timezone)
    session.add(band)
    await session.flush()
    return band


async def get_or_create_user(session: AsyncSession, email: str, name: str = "", *, is_demo: bool = False) -> User:
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise InvalidInput("That doesn't look like an email address.")
    user = (await session.exec(select(User).where(User.email == email))).first()
    if user is None:
        user = User(email=email, name=clean_text(name, "Name", max_length=120, required=False), is_demo=is_demo)
        session.add(user)
        await session.flush()
    return user


async def add_member(session: AsyncSession, band_id: int, user_id: int, *, role: str = Role.MEMBER,
                     instruments: list[dict[str, Any]] | None = None) -> Membership:
    membership = (await session.exec(select(Membership).where(Membership.band_id == band_id,
                                                              Membership.user_id == user_id))).first()
    if membership is None:
        membership = Membership(band_id=band_id, user_id=user_id, role=role, instruments=instruments or [])
        session.add(membership)
        await session.flush()
    return membership


async def list_members(session: AsyncSession, actor: Actor) -> list[tuple[Membership, User]]:
    query = (select(Membership, User).join(User, col(User.id) == Membership.user_id)
             .where(Membership.band_id == actor.band_id).order_by(col(User.name)))
    return [(m, u) for m, u in (await session.exec(query)).all()]


async def get_band(session: AsyncSession, actor: Actor) -> Band:
    band = await session.get(Band, actor.band_id)
    if band is None:
        raise NotFound("Your band no longer exists.")
    return band


async def set_instruments(session: AsyncSession, actor: Actor, instruments: list[dict[str, Any]]) -> Membership:
    """Change what I play (primary first). Each entry: {"instrument": key, "chair": int | None}."""
    from ..parts import INSTRUMENTS  # local: parts is pure and heavy-ish, only needed here

    if not instruments:
        raise InvalidInput("Choose at least one instrument.")
    if len(instruments) > MAX_INSTRUMENTS:
        raise InvalidInput(f"At most {MAX_INSTRUMENTS} instruments.")
    cleaned = []
    for entry in instruments:
        key = str(entry.get("instrument", ""))
        if key not in INSTRUMENTS:
            raise InvalidInput("Unknown instrument.")
        chair = entry.get("chair")
        if chair is not None and not (isinstance(chair, int) and 1 <= chair <= 9):
            raise InvalidInput("A chair is a number from 1 to 9.")
        cleaned.append({"instrument": key, "chair": chair})
    membership = await session.get(Membership, actor.membership_id)
    if membership is None or membership.band_id != actor.band_id:
        raise NotFound()
    membership.instruments = cleaned
    session.add(membership)
    return membership
