"""Gigs: when and where the band plays, who can make it, who subs, and what was played.

* Times are aware datetimes (UTC in the database) and are shown in the band's time zone.
* Availability: each member answers yes / no / maybe per gig; leaders see everyone's answers.
* Calendar feeds: each member may have one private iCalendar URL (``/calendar/<secret>.ics``), the one route not
  tied to a signed-in session. Only the secret's SHA-256 is stored, so the URL is shown once; making a new one
  ends the old; a leader can revoke anyone's.
* Substitutes: a ``Membership`` with role ``sub``, scoped to one gig (``gig_id``) and expiring 12 hours after the
  gig's end; ``auth.resolve`` refuses it afterwards and the setlist service shows them only that gig's setlist.
* What was played: a gig that is over records its setlist into ``performance`` (unless live mode already did,
  song by song), so ``last_played`` can say when a song was last played.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import col, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from ..access import Actor
from ..errors import InvalidInput, NotFound
from ..events import Event, hub
from ..models import (
    Band,
    CalendarFeed,
    Gig,
    GigAvailability,
    Membership,
    Performance,
    Role,
    Setlist,
    SetlistItem,
    Song,
    User,
    utcnow,
)
from ..security import hash_token, new_token
from .validation import clean_text

GIGS_TOPIC = "gigs"
UPCOMING_GRACE = timedelta(hours=6)  # a gig stays "upcoming" this long after its downbeat
DEFAULT_LENGTH = timedelta(hours=3)  # calendars need an end; most gigs are done in three hours
SUB_GRACE = timedelta(hours=12)  # a substitute keeps access this long after the gig ends
FEED_PAST = timedelta(days=90)
STATUSES = ("yes", "maybe", "no")


def _changed(session: AsyncSession, band_id: int, gig_id: int) -> None:
    hub.publish_after_commit(session, Event(band_id, GIGS_TOPIC, {"gig": gig_id}))


def _scoped(query: Any, actor: Actor) -> Any:
    return query.where(Gig.id == (actor.gig_id or 0)) if actor.is_sub else query


async def upcoming(session: AsyncSession, actor: Actor, *, limit: int = 5, now: datetime | None = None) -> list[Gig]:
    """The band's next gigs, soonest first (a gig stays "upcoming" for 6 hours after its downbeat)."""
    since = (now or utcnow()) - UPCOMING_GRACE
    query = (select(Gig).where(Gig.band_id == actor.band_id, col(Gig.starts_at) >= since)
             .order_by(col(Gig.starts_at)).limit(limit))
    return list((await session.exec(_scoped(query, actor))).all())


async def past(session: AsyncSession, actor: Actor, *, limit: int = 20, now: datetime | None = None) -> list[Gig]:
    """Gigs already played, most recent first."""
    since = (now or utcnow()) - UPCOMING_GRACE
    query = (select(Gig).where(Gig.band_id == actor.band_id, col(Gig.starts_at) < since)
             .order_by(col(Gig.starts_at).desc()).limit(limit))
    return list((await session.exec(_scoped(query, actor))).all())


async def get_gig(session: AsyncSession, actor: Actor, gig_id: int) -> Gig:
    gig = await session.get(Gig, gig_id)
    if gig is None or gig.band_id != actor.band_id or (actor.is_sub and actor.gig_id != gig_id):
        raise NotFound("That gig doesn't exist.")
    return gig


async def band_zone(session: AsyncSession, actor: Actor) -> ZoneInfo:
    band = await session.get(Band, actor.band_id)
    return ZoneInfo(band.timezone if band else "UTC")


def _check_times(starts_at: datetime, load_in_at: datetime | None, ends_at: datetime | None) -> None:
    for value in (starts_at, load_in_at, ends_at):
        if value is not None and value.tzinfo is None:
            raise InvalidInput("A gig's time needs a time zone.")
    if load_in_at is not None and load_in_at > starts_at:
        raise InvalidInput("Load-in must be before the downbeat.")
    if ends_at is not None and ends_at <= starts_at:
        raise InvalidInput("The gig must end after the downbeat.")
    if ends_at is not None and ends_at - starts_at > timedelta(hours=24):
        raise InvalidInput("A gig lasts at most 24 hours.")


async def _check_setlist(session: AsyncSession, actor: Actor, setlist_id: int | None) -> None:
    if setlist_id is not None:
        setlist = await session.get(Setlist, setlist_id)
        if setlist is None or setlist.band_id != actor.band_id:
            raise NotFound("That setlist doesn't exist.")


def _texts(fields: dict[str, Any]) -> dict[str, Any]:
    limits = {"title": ("Gig title", 200, True, False), "venue": ("Venue", 200, False, False),
              "address": ("Address", 300, False, False), "dress_code": ("Dress code", 200, False, False),
              "notes": ("Notes", 2000, False, True)}
    cleaned = dict(fields)
    for name, (label, length, required, multiline) in limits.items():
        if name in fields:
            cleaned[name] = clean_text(fields[name], label, max_length=length, required=required,
                                       multiline=multiline)
    return cleaned


async def create_gig(session: AsyncSession, actor: Actor, *, title: str, starts_at: datetime, venue: str = "",
                     address: str = "", load_in_at: datetime | None = None, dress_code: str = "", notes: str = "",
                     setlist_id: int | None = None, ends_at: datetime | None = None) -> Gig:
    actor.require_leader()
    _check_times(starts_at, load_in_at, ends_at)
    await _check_setlist(session, actor, setlist_id)
    fields = _texts({"title": title, "venue": venue, "address": address, "dress_code": dress_code, "notes": notes})
    gig = Gig(band_id=actor.band_id, starts_at=starts_at, load_in_at=load_in_at, ends_at=ends_at,
              setlist_id=setlist_id, **fields)
    session.add(gig)
    await session.flush()
    assert gig.id is not None
    _changed(session, actor.band_id, gig.id)
    return gig


EDITABLE = ("title", "starts_at", "load_in_at", "ends_at", "venue", "address", "dress_code", "notes", "setlist_id")


async def update_gig(session: AsyncSession, actor: Actor, gig_id: int, **changes: Any) -> Gig:
    """Change any of ``EDITABLE``; substitutes' access moves with the gig's end."""
    actor.require_leader()
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInput("That isn't something a gig has.")
    gig = await get_gig(session, actor, gig_id)
    merged = {name: changes.get(name, getattr(gig, name)) for name in EDITABLE}
    _check_times(merged["starts_at"], merged["load_in_at"], merged["ends_at"])
    if "setlist_id" in changes:
        await _check_setlist(session, actor, merged["setlist_id"])
    for name, value in _texts(merged).items():
        setattr(gig, name, value)
    session.add(gig)
    await session.exec(update(Membership).where(col(Membership.gig_id) == gig_id, col(Membership.role) == Role.SUB)
                       .values(expires_at=_sub_expiry(gig)))
    await session.flush()
    _changed(session, actor.band_id, gig_id)
    return gig


async def delete_gig(session: AsyncSession, actor: Actor, gig_id: int) -> None:
    """Delete a gig; its substitutes' access ends with it (their membership goes too)."""
    actor.require_leader()
    gig = await get_gig(session, actor, gig_id)
    sub_users = (await session.exec(select(Membership.user_id).where(Membership.gig_id == gig_id))).all()
    await session.delete(gig)  # the database deletes the substitutes' memberships with it (ON DELETE CASCADE)
    await session.flush()
    _changed(session, actor.band_id, gig_id)
    from .members import MEMBERSHIP_TOPIC  # their open pages re-check and leave

    for user_id in sub_users:
        hub.publish_after_commit(session, Event(actor.band_id, MEMBERSHIP_TOPIC, {"user_id": user_id}))


# --- availability ---------------------------------------------------------------------------------------------
async def set_availability(session: AsyncSession, actor: Actor, gig_id: int, status: str) -> GigAvailability:
    if status not in STATUSES:
        raise InvalidInput("Answer yes, no or maybe.")
    gig = await get_gig(session, actor, gig_id)
    row = (await session.exec(select(GigAvailability).where(GigAvailability.gig_id == gig.id,
                                                            GigAvailability.membership_id == actor.membership_id))
           ).first()
    if row is None:
        row = GigAvailability(band_id=actor.band_id, gig_id=gig_id, membership_id=actor.membership_id,
                              status=status)
    row.status, row.updated_at = status, utcnow()
    session.add(row)
    await session.flush()
    _changed(session, actor.band_id, gig_id)
    return row


async def my_availability(session: AsyncSession, actor: Actor, gig_ids: list[int]) -> dict[int, str]:
    if not gig_ids:
        return {}
    query = select(GigAvailability.gig_id, GigAvailability.status).where(
        GigAvailability.band_id == actor.band_id, GigAvailability.membership_id == actor.membership_id,
        col(GigAvailability.gig_id).in_(gig_ids))
    return {gig_id: status for gig_id, status in (await session.exec(query)).all()}


@dataclass(frozen=True, slots=True)
class Answer:
    membership_id: int
    name: str
    instruments: tuple[dict[str, Any], ...]
    role: str
    status: str | None  # None: hasn't answered


async def availability(session: AsyncSession, actor: Actor, gig_id: int) -> list[Answer]:
    """Everyone's answer for a gig (leaders only): the band, plus this gig's substitutes."""
    actor.require_leader()
    await get_gig(session, actor, gig_id)
    answers = dict((await session.exec(select(GigAvailability.membership_id, GigAvailability.status).where(
        GigAvailability.gig_id == gig_id, GigAvailability.band_id == actor.band_id))).all())
    people = (await session.exec(select(Membership, User).join(User, col(User.id) == Membership.user_id)
                                 .where(Membership.band_id == actor.band_id).order_by(col(User.name)))).all()
    result = []
    for membership, user in people:
        assert membership.id is not None
        if membership.role == Role.SUB and membership.gig_id != gig_id:
            continue
        result.append(Answer(membership.id, user.name or user.email, tuple(membership.instruments), membership.role,
                             answers.get(membership.id)))
    return result


def availability_counts(answers: list[Answer]) -> dict[str, int]:
    counts = {status: 0 for status in (*STATUSES, "unanswered")}
    for answer in answers:
        counts[answer.status or "unanswered"] += 1
    return counts


# --- calendar feeds -------------------------------------------------------------------------------------------
async def my_feed(session: AsyncSession, actor: Actor) -> CalendarFeed | None:
    return (await session.exec(select(CalendarFeed).where(CalendarFeed.membership_id == actor.membership_id,
                                                          CalendarFeed.band_id == actor.band_id,
                                                          col(CalendarFeed.revoked_at).is_(None)))).first()


async def new_feed(session: AsyncSession, actor: Actor) -> str:
    """Make my private feed secret (ending any earlier one). Returned once; only its hash is kept."""
    await _revoke(session, actor.band_id, actor.membership_id)
    token = new_token()
    session.add(CalendarFeed(band_id=actor.band_id, membership_id=actor.membership_id, token_hash=hash_token(token)))
    await session.flush()
    return token


async def _revoke(session: AsyncSession, band_id: int, membership_id: int) -> int:
    result = await session.exec(update(CalendarFeed).where(col(CalendarFeed.band_id) == band_id,
                                                           col(CalendarFeed.membership_id) == membership_id,
                                                           col(CalendarFeed.revoked_at).is_(None))
                                .values(revoked_at=utcnow()))
    return result.rowcount or 0


async def revoke_feed(session: AsyncSession, actor: Actor, membership_id: int) -> int:
    """End a member's feed URL: a leader for anyone in the band, anyone for themselves."""
    if membership_id != actor.membership_id:
        actor.require_leader()
    membership = await session.get(Membership, membership_id)
    if membership is None or membership.band_id != actor.band_id:
        raise NotFound("That person isn't in your band.")
    return await _revoke(session, actor.band_id, membership_id)


@dataclass(frozen=True, slots=True)
class FeedRow:
    membership_id: int
    name: str
    created_at: datetime | None  # None: no live feed
    last_used_at: datetime | None


async def feeds(session: AsyncSession, actor: Actor) -> list[FeedRow]:
    """Who has a calendar feed (leaders only, to revoke one)."""
    actor.require_leader()
    live = {f.membership_id: f for f in (await session.exec(select(CalendarFeed).where(
        CalendarFeed.band_id == actor.band_id, col(CalendarFeed.revoked_at).is_(None)))).all()}
    people = (await session.exec(select(Membership, User).join(User, col(User.id) == Membership.user_id)
                                 .where(Membership.band_id == actor.band_id).order_by(col(User.name)))).all()
    return [FeedRow(m.id or 0, u.name or u.email, live[m.id].created_at if m.id in live else None,
                    live[m.id].last_used_at if m.id in live else None) for m, u in people]


async def calendar_ics(session: AsyncSession, token: str, *, base_url: str = "") -> bytes:
    """The iCalendar document behind a feed secret: the band's gigs from 90 days back on (a sub: their gig).

    Raises NotFound for an unknown or revoked secret, or when the member has left the band (or a sub's access
    ended), so a leaked URL dies with the membership.
    """
    from icalendar import Calendar
    from icalendar import Event as CalendarEvent

    if not token or len(token) > 200:
        raise NotFound("No such calendar.")
    row = (await session.exec(select(CalendarFeed, Membership, Band)
                              .join(Membership, col(Membership.id) == CalendarFeed.membership_id)
                              .join(Band, col(Band.id) == CalendarFeed.band_id)
                              .where(CalendarFeed.token_hash == hash_token(token),
                                     col(CalendarFeed.revoked_at).is_(None)))).first()
    now = utcnow()
    if row is None or row[1].band_id != row[0].band_id or (row[1].expires_at and row[1].expires_at <= now):
        raise NotFound("No such calendar.")
    feed, membership, band = row
    if feed.last_used_at is None or now - feed.last_used_at > timedelta(minutes=10):
        feed.last_used_at = now
        session.add(feed)
    query = select(Gig).where(Gig.band_id == band.id, col(Gig.starts_at) >= now - FEED_PAST)
    if membership.role == Role.SUB:
        query = query.where(Gig.id == (membership.gig_id or 0))
    gigs = (await session.exec(query.order_by(col(Gig.starts_at)))).all()
    zone = ZoneInfo(band.timezone)
    calendar = Calendar()
    calendar.add("prodid", "-//SOLEil//Band gigs//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"{band.name} gigs")
    calendar.add("x-wr-timezone", band.timezone)
    calendar.add("refresh-interval", timedelta(hours=6), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT6H")
    for gig in gigs:
        event = CalendarEvent()
        event.add("uid", f"gig-{gig.id}-band-{band.id}@soleil")
        event.add("dtstamp", now)
        event.add("dtstart", gig.starts_at)
        event.add("dtend", gig.ends_at or gig.starts_at + DEFAULT_LENGTH)
        event.add("summary", gig.title)
        place = ", ".join(x for x in (gig.venue, gig.address) if x)
        if place:
            event.add("location", place)
        lines = []
        if gig.load_in_at:
            lines.append(f"Load-in {gig.load_in_at.astimezone(zone):%H:%M}")
        lines.append(f"Downbeat {gig.starts_at.astimezone(zone):%H:%M}")
        if gig.dress_code:
            lines.append(f"Dress: {gig.dress_code}")
        if gig.notes:
            lines.append(gig.notes)
        if base_url:
            lines.append(f"{base_url.rstrip('/')}/gigs/{gig.id}")
            event.add("url", f"{base_url.rstrip('/')}/gigs/{gig.id}")
        event.add("description", "\n".join(lines))
        calendar.add_component(event)
    return calendar.to_ical()


# --- substitutes ----------------------------------------------------------------------------------------------
def _sub_expiry(gig: Gig) -> datetime:
    return (gig.ends_at or gig.starts_at + DEFAULT_LENGTH) + SUB_GRACE


async def invite_sub(session: AsyncSession, actor: Actor, gig_id: int, *, email: str, name: str,
                     instruments: list[dict[str, Any]]) -> Membership:
    """A leader brings in a substitute for one gig: they sign in with that email and see only this gig."""
    from .members import _clean_instruments, clean_email, get_or_create_user

    actor.require_leader()
    gig = await get_gig(session, actor, gig_id)
    if gig.starts_at + UPCOMING_GRACE < utcnow():
        raise InvalidInput("That gig is over; a substitute can only be added before it.")
    cleaned = _clean_instruments(instruments)
    user = await get_or_create_user(session, clean_email(email), clean_text(name, "Name", max_length=120))
    assert user.id is not None
    existing = (await session.exec(select(Membership).where(Membership.band_id == actor.band_id,
                                                            Membership.user_id == user.id))).first()
    if existing is not None and not (existing.role == Role.SUB and existing.expires_at
                                     and existing.expires_at <= utcnow()):
        if existing.role != Role.SUB:
            raise InvalidInput(f"{user.name or user.email} is already in the band.")
        if existing.gig_id != gig_id:
            raise InvalidInput(f"{user.name or user.email} is already subbing for another gig.")
        return existing
    if existing is not None:  # an old sub membership, over: reuse the row for this gig
        membership = existing
    else:
        membership = Membership(band_id=actor.band_id, user_id=user.id)
    membership.role, membership.instruments, membership.gig_id = Role.SUB, cleaned, gig_id
    membership.expires_at = _sub_expiry(gig)
    session.add(membership)
    await session.flush()
    _changed(session, actor.band_id, gig_id)
    return membership


async def subs(session: AsyncSession, actor: Actor, gig_id: int) -> list[tuple[Membership, User]]:
    actor.require_leader()
    await get_gig(session, actor, gig_id)
    query = (select(Membership, User).join(User, col(User.id) == Membership.user_id)
             .where(Membership.band_id == actor.band_id, Membership.gig_id == gig_id, Membership.role == Role.SUB))
    return [(m, u) for m, u in (await session.exec(query)).all()]


async def remove_sub(session: AsyncSession, actor: Actor, membership_id: int) -> None:
    actor.require_leader()
    membership = await session.get(Membership, membership_id)
    if membership is None or membership.band_id != actor.band_id or membership.role != Role.SUB:
        raise NotFound("That substitute isn't in your band.")
    from .members import MEMBERSHIP_TOPIC

    gig_id, user_id = membership.gig_id, membership.user_id
    await session.delete(membership)
    await session.flush()
    hub.publish_after_commit(session, Event(actor.band_id, MEMBERSHIP_TOPIC, {"user_id": user_id}))
    if gig_id:
        _changed(session, actor.band_id, gig_id)


# --- what was played ------------------------------------------------------------------------------------------
async def settle_history(session: AsyncSession, band_id: int, *, now: datetime | None = None) -> int:
    """Record what each finished gig played: its setlist's songs, unless live mode already recorded them.

    Idempotent and safe to race: a gig is claimed with a conditional update before its songs are written.
    Returns how many gigs were settled.
    """
    cutoff = (now or utcnow()) - UPCOMING_GRACE
    pending = (await session.exec(select(Gig).where(Gig.band_id == band_id, col(Gig.starts_at) < cutoff,
                                                    col(Gig.history_recorded_at).is_(None)))).all()
    settled = 0
    for gig in pending:
        claimed = await session.exec(update(Gig).where(col(Gig.id) == gig.id,
                                                       col(Gig.history_recorded_at).is_(None))
                                     .values(history_recorded_at=utcnow()))
        if not claimed.rowcount:
            continue
        settled += 1
        if gig.setlist_id is None:
            continue
        rows = (await session.exec(select(SetlistItem, Song).join(Song, col(Song.id) == SetlistItem.song_id)
                                   .where(SetlistItem.setlist_id == gig.setlist_id, SetlistItem.band_id == band_id)
                                   .order_by(col(SetlistItem.position)))).all()
        for item, song in rows:
            session.add(Performance(band_id=band_id, song_id=song.id, title=song.title, gig_id=gig.id,
                                    position=item.position, played_at=gig.starts_at))
    if settled:
        await session.flush()
    return settled


@dataclass(frozen=True, slots=True)
class Played:
    played_at: datetime
    gig_id: int | None
    gig_title: str | None


async def last_played(session: AsyncSession, actor: Actor, song_id: int) -> datetime | None:
    """When the band last played this song (a finished gig's setlist, or a live-mode call), or None."""
    history = await play_history(session, actor, song_id, limit=1)
    return history[0].played_at if history else None


async def last_played_many(session: AsyncSession, actor: Actor, song_ids: Sequence[int]) -> dict[int, datetime]:
    """When the band last played each of these songs (absent: never played, or not the band's song): one settling
    of the history and one grouped query for a whole list (``last_played`` per song was three queries each)."""
    wanted = sorted(set(song_ids))
    if not wanted:
        return {}
    await settle_history(session, actor.band_id)
    query = (select(Performance.song_id, func.max(Performance.played_at))
             .where(Performance.band_id == actor.band_id, col(Performance.song_id).in_(wanted))
             .group_by(col(Performance.song_id)))
    return {song_id: at for song_id, at in (await session.exec(query)).all() if song_id is not None and at}


async def play_history(session: AsyncSession, actor: Actor, song_id: int, *, limit: int = 10) -> list[Played]:
    """The song's performances, most recent first."""
    song = await session.get(Song, song_id)
    if song is None or song.band_id != actor.band_id:
        raise NotFound("That song isn't in your library.")
    await settle_history(session, actor.band_id)
    query = (select(Performance, Gig.title).join(Gig, col(Gig.id) == Performance.gig_id, isouter=True)
             .where(Performance.band_id == actor.band_id, Performance.song_id == song_id)
             .order_by(col(Performance.played_at).desc()).limit(min(max(limit, 1), 100)))
    return [Played(p.played_at, p.gig_id, title) for p, title in (await session.exec(query)).all()]


async def played_at_gig(session: AsyncSession, actor: Actor, gig_id: int) -> list[Performance]:
    """What a finished gig played, in order."""
    await get_gig(session, actor, gig_id)
    await settle_history(session, actor.band_id)
    query = (select(Performance).where(Performance.band_id == actor.band_id, Performance.gig_id == gig_id)
             .order_by(col(Performance.played_at), col(Performance.position)))
    return list((await session.exec(query)).all())
