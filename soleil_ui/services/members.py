"""Bands, people and who plays what; who leads a band and who may leave or be removed.

Every change to who is in a band (removal, role change, sign-out everywhere) is published on the hub under
the band's ``membership`` topic with ``{"user_id": …}`` *after* the unit of work commits, so the person's open
pages re-check their session against the new state and leave at once.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Collection
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..access import Actor
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..events import Event, hub
from ..models import AuthSession, Band, Membership, Role, User, utcnow
from ..settings import get_settings
from . import annotations as marks
from . import auth
from .validation import clean_text

MAX_INSTRUMENTS = 6
MEMBERSHIP_TOPIC = "membership"
LAST_LEADER = "A band needs at least one leader. Make someone else a leader first."


def clean_email(value: str | None) -> str:
    """Lower-case and check an email address; one message for anything that isn't one."""
    email = (value or "").strip().lower()
    local, at, domain = email.partition("@")
    if not at or not local or not domain or "@" in domain or len(email) > 320 or any(c.isspace() for c in email) \
            or any(ord(c) < 32 for c in email):
        raise InvalidInput("That doesn't look like an email address.")
    return email


def _membership_changed(session: AsyncSession, band_id: int, user_id: int) -> None:
    hub.publish_after_commit(session, Event(band_id, MEMBERSHIP_TOPIC, {"user_id": user_id}))


async def create_band(session: AsyncSession, name: str, *, timezone: str = "UTC") -> Band:
    if timezone not in zoneinfo.available_timezones():
        raise InvalidInput("Choose a time zone from the list.")
    band = Band(name=clean_text(name, "Band name", max_length=120), timezone=timezone)
    session.add(band)
    await session.flush()
    return band


async def get_or_create_user(session: AsyncSession, email: str, name: str = "", *, is_demo: bool = False) -> User:
    email = clean_email(email)
    user = (await session.exec(select(User).where(User.email == email))).first()
    if user is None:
        user = User(email=email, name=clean_text(name, "Name", max_length=120, required=False), is_demo=is_demo)
        session.add(user)
        await session.flush()
    return user


async def add_member(session: AsyncSession, band_id: int, user_id: int, *, role: str = Role.MEMBER,
                     instruments: list[dict[str, Any]] | None = None) -> Membership:
    """Put a person in a band (no-op if already there). Callers decide who may; see invites and found_band."""
    membership = (await session.exec(select(Membership).where(Membership.band_id == band_id,
                                                              Membership.user_id == user_id))).first()
    if membership is None:
        membership = Membership(band_id=band_id, user_id=user_id, role=role, instruments=instruments or [])
        session.add(membership)
        await session.flush()
    return membership


async def list_members(session: AsyncSession, actor: Actor) -> list[tuple[Membership, User]]:
    """Everyone in the actor's band, by name (any member may see who plays; managing them is ``roster``)."""
    query = (select(Membership, User).join(User, col(User.id) == Membership.user_id)
             .where(Membership.band_id == actor.band_id).order_by(col(User.name), col(User.email)))
    return [(m, u) for m, u in (await session.exec(query)).all()]


async def roster(session: AsyncSession, actor: Actor) -> list[tuple[Membership, User]]:
    """The member list with emails and roles, for leaders managing the band."""
    actor.require_leader()
    return await list_members(session, actor)


async def get_band(session: AsyncSession, actor: Actor) -> Band:
    band = await session.get(Band, actor.band_id)
    if band is None:
        raise NotFound("Your band no longer exists.")
    return band


def _clean_instruments(instruments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from ..parts import INSTRUMENTS, MAX_CHAIR  # local: parts is pure and heavy-ish, only needed here

    if not isinstance(instruments, list) or not instruments:
        raise InvalidInput("Choose at least one instrument.")
    if len(instruments) > MAX_INSTRUMENTS:
        raise InvalidInput(f"At most {MAX_INSTRUMENTS} instruments.")
    cleaned: list[dict[str, Any]] = []
    for entry in instruments:
        if not isinstance(entry, dict):
            raise InvalidInput("Choose an instrument from the list.")
        key = entry.get("instrument")
        if not isinstance(key, str) or key not in INSTRUMENTS:
            raise InvalidInput("Choose an instrument from the list.")
        if any(c["instrument"] == key for c in cleaned):
            raise InvalidInput(f"{INSTRUMENTS[key].name} is listed twice; list each instrument once.")
        chair = entry.get("chair")
        if chair is not None and not (type(chair) is int and 1 <= chair <= MAX_CHAIR):  # bool is not a chair
            raise InvalidInput(f"A chair is a number from 1 to {MAX_CHAIR}.")
        cleaned.append({"instrument": key, "chair": chair})
    return cleaned


def _clean_reading(reading: dict[str, Any] | None, instruments: list[dict[str, Any]]) -> dict[str, str]:
    """How a member reads, for the instruments they play: each choice one ``parts.reading_choices`` offers for that
    instrument (anything else is refused, so a typo never silently changes whose part someone gets)."""
    from ..parts import INSTRUMENTS, reading_choices

    if reading is None:
        return {}
    if not isinstance(reading, dict):
        raise InvalidInput("Choose how you read from the list.")
    played = {entry["instrument"] for entry in instruments}
    cleaned: dict[str, str] = {}
    for key, choice in reading.items():
        if key not in played or choice in (None, ""):
            continue  # a choice for an instrument no longer played is forgotten with it
        if not isinstance(choice, str) or choice not in reading_choices(str(key)):
            name = INSTRUMENTS[key].name if key in INSTRUMENTS else "that instrument"
            raise InvalidInput(f"Choose how you read on {name} from the list.")
        cleaned[str(key)] = choice
    return cleaned


def _set_plays(membership: Membership, instruments: list[dict[str, Any]], reading: dict[str, Any] | None = None
               ) -> None:
    """Set what a member plays (primary first) and how they read, both checked before either changes; ``reading``
    None keeps their earlier choices for the instruments they still play."""
    cleaned = _clean_instruments(instruments)
    membership.reading = _clean_reading(membership.reading if reading is None else reading, cleaned)
    membership.instruments = cleaned


async def _my_membership(session: AsyncSession, actor: Actor) -> Membership:
    membership = await session.get(Membership, actor.membership_id)
    if membership is None or membership.band_id != actor.band_id or membership.user_id != actor.user_id:
        raise NotFound("You're no longer a member of this band.")
    return membership


async def set_instruments(session: AsyncSession, actor: Actor, instruments: list[dict[str, Any]]) -> Membership:
    """Change what I play in this band, primary first. Each entry: {"instrument": key, "chair": 1–9 | None}."""
    membership = await _my_membership(session, actor)
    _set_plays(membership, instruments)
    session.add(membership)
    return membership


async def save_profile(session: AsyncSession, actor: Actor, *, name: str, instruments: list[dict[str, Any]],
                       reading: dict[str, Any] | None = None) -> Membership:
    """The first-visit and profile form: my name (same in every band), what I play in this band and how I read
    (``reading``: instrument → a ``parts.reading_choices`` key; None keeps what I chose before, for the
    instruments I still play)."""
    clean_name = clean_text(name, "Your name", max_length=120)
    user = await session.get(User, actor.user_id)
    if user is None:
        raise NotFound("Your account no longer exists.")
    membership = await _my_membership(session, actor)
    _set_plays(membership, instruments, reading)
    user.name = clean_name
    session.add_all([user, membership])
    return membership


async def set_member_instruments(session: AsyncSession, actor: Actor, membership_id: int, *,
                                 instruments: list[dict[str, Any]], reading: dict[str, Any] | None = None
                                 ) -> Membership:
    """A leader sets what someone in their band plays and how they read (the member form on the members page):
    for the player who never filled in their profile, or who asks the leader to. Leaders only, this band only."""
    actor.require_leader()
    membership = await _band_member(session, actor, membership_id)
    _set_plays(membership, instruments, reading)
    session.add(membership)
    return membership


async def _band_member(session: AsyncSession, actor: Actor, membership_id: int) -> Membership:
    membership = await session.get(Membership, membership_id)
    if membership is None or membership.band_id != actor.band_id:
        raise NotFound("That person isn't in your band.")
    return membership


async def _lock_band(session: AsyncSession, band_id: int) -> None:
    """Serialise leader changes per band (PostgreSQL row lock), so two leaders can't demote each other at once."""
    await session.exec(select(Band.id).where(Band.id == band_id).with_for_update())


async def _leader_count(session: AsyncSession, band_id: int) -> int:
    query = select(func.count()).select_from(Membership).where(Membership.band_id == band_id,
                                                                Membership.role == Role.LEADER)
    return (await session.exec(query)).one()


async def set_role(session: AsyncSession, actor: Actor, membership_id: int, role: str) -> Membership:
    """A leader makes someone a leader or a member (a substitute too); the band always keeps at least one leader."""
    actor.require_leader()
    if role not in (Role.LEADER, Role.MEMBER):
        raise InvalidInput("A role is leader or member.")
    await _lock_band(session, actor.band_id)
    membership = await _band_member(session, actor, membership_id)
    if membership.role == role:
        return membership
    if membership.role == Role.LEADER and await _leader_count(session, actor.band_id) <= 1:
        raise Conflict(LAST_LEADER)
    if membership.role == Role.SUB:  # a substitute joins the band for good: no longer tied to one gig
        membership.gig_id, membership.expires_at = None, None
    membership.role = role
    session.add(membership)
    await session.flush()
    _membership_changed(session, actor.band_id, membership.user_id)
    return membership


async def remove_member(session: AsyncSession, actor: Actor, membership_id: int) -> None:
    """A leader removes someone (or anyone leaves); their open pages and media requests lose access at once."""
    membership = await _band_member(session, actor, membership_id)
    if membership.user_id != actor.user_id:
        actor.require_leader()
    await _lock_band(session, actor.band_id)
    if membership.role == Role.LEADER and await _leader_count(session, actor.band_id) <= 1:
        raise Conflict(LAST_LEADER)
    user_id = membership.user_id
    await marks.forget_member(session, actor.band_id, membership_id)  # their private marks; shared ones stay
    await session.delete(membership)
    await session.flush()
    _membership_changed(session, actor.band_id, user_id)


async def sign_out_everywhere(session: AsyncSession, actor: Actor) -> int:
    """End every session of mine, on every device; my open pages in every band leave at once."""
    ended = await auth.end_all_sessions(session, actor.user_id)
    for band in await auth.user_bands(session, actor.user_id):
        assert band.id is not None
        _membership_changed(session, band.id, actor.user_id)
    return ended


def session_ended(session: AsyncSession, band_id: int, user_id: int) -> None:
    """Tell the person's open pages that one of their sessions ended (they re-check their own)."""
    _membership_changed(session, band_id, user_id)


async def sign_out(session: AsyncSession, token: str | None, actor: Actor | None) -> None:
    """End this cookie's session; the person's other tabs on it hear so and re-check."""
    await auth.end_session(session, token)
    if actor is not None:
        session_ended(session, actor.band_id, actor.user_id)


def is_admin(email: str, admin_emails: Collection[str] | None = None) -> bool:
    """People named in SOLEIL_ADMIN_EMAILS may create bands in the web UI."""
    allowed = get_settings().admin_email_set if admin_emails is None else admin_emails
    return email.strip().lower() in allowed


async def found_band(session: AsyncSession, user_id: int, name: str, *, timezone: str = "UTC",
                     admin_emails: Collection[str] | None = None) -> Band:
    """An admin creates a band in the web UI and becomes its leader."""
    user = await session.get(User, user_id)
    if user is None or not is_admin(user.email, admin_emails):
        raise Forbidden("Only this server's administrators can create bands. Ask yours to add you.")
    band = await create_band(session, name, timezone=timezone)
    assert band.id is not None
    await add_member(session, band.id, user_id, role=Role.LEADER)
    return band


async def signed_in_user(session: AsyncSession, token: str | None) -> User:
    """The person behind a live session even when they have no band yet (an admin about to create one)."""
    record = await auth._live_session(session, token)  # the same checks as every request: expiry, revocation
    user = await session.get(User, record.user_id)
    if user is None:
        raise NotFound("Your account no longer exists.")
    return user


async def last_band(session: AsyncSession, user_id: int) -> int | None:
    """The band the person last looked at (their newest session's), else their first membership.

    Memberships that have ended (a substitute's gig is over) don't count.
    """
    now = utcnow()
    live = select(Membership).where(Membership.user_id == user_id)
    bands = {m.band_id for m in (await session.exec(live)).all() if m.expires_at is None or m.expires_at > now}
    if not bands:
        return None
    query = (select(AuthSession.band_id).where(AuthSession.user_id == user_id, col(AuthSession.band_id).in_(bands))
             .order_by(col(AuthSession.created_at).desc(), col(AuthSession.id).desc()).limit(1))
    recent = (await session.exec(query)).first()
    if recent is not None:
        return recent
    first = (select(Membership.band_id).where(Membership.user_id == user_id, col(Membership.band_id).in_(bands))
             .order_by(col(Membership.id)).limit(1))
    return (await session.exec(first)).first()


async def night_mode(session: AsyncSession, actor: Actor) -> bool:
    """The stand's night mode for this person: kept in the database, so it is the same on every instance."""
    user = await session.get(User, actor.user_id)
    return bool(user and user.night_mode)


async def set_night_mode(session: AsyncSession, actor: Actor, on: bool) -> None:
    user = await session.get(User, actor.user_id)
    if user is not None:
        user.night_mode = bool(on)
        session.add(user)
