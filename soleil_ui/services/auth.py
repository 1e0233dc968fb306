"""Sign-in sessions: a random token in the cookie, its hash and lifetime in the database.

Keeping the session server-side is what makes "sign out" and "sign out everywhere" real: revoking the
row ends access at once, on every device, whatever the cookie still says.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from ..access import Actor
from ..errors import NotSignedIn
from ..models import AuthSession, Band, Membership, User, utcnow
from ..security import hash_token, new_token

SESSION_LIFETIME = timedelta(days=60)  # musicians must not be signed out between rehearsals
TOUCH_EVERY = timedelta(minutes=5)


async def start_session(session: AsyncSession, user_id: int, band_id: int | None, user_agent: str = "") -> str:
    """Create a session and return the token for the cookie (shown once, never stored in clear)."""
    token = new_token()
    session.add(AuthSession(token_hash=hash_token(token), user_id=user_id, band_id=band_id,
                            expires_at=utcnow() + SESSION_LIFETIME, user_agent=user_agent[:300]))
    await session.flush()
    return token


async def _live_session(session: AsyncSession, token: str | None) -> AuthSession:
    if not token:
        raise NotSignedIn()
    record = (await session.exec(select(AuthSession).where(AuthSession.token_hash == hash_token(token)))).first()
    now = utcnow()
    if record is None or record.revoked_at is not None or record.expires_at <= now:
        raise NotSignedIn("Your session has ended. Please sign in again.")
    if now - record.last_seen_at > TOUCH_EVERY:
        record.last_seen_at = now
        session.add(record)
    return record


async def resolve(session: AsyncSession, token: str | None) -> Actor:
    """The member behind a session token, in the band the session is looking at."""
    record = await _live_session(session, token)
    query = (select(Membership, User, Band).join(User, col(User.id) == Membership.user_id)
             .join(Band, col(Band.id) == Membership.band_id).where(Membership.user_id == record.user_id))
    every = (await session.exec(query.order_by(col(Membership.id)))).all()
    now = utcnow()
    rows = [r for r in every if r[0].expires_at is None or r[0].expires_at > now]  # a sub's gig is over
    if not rows:
        if every:
            raise NotSignedIn("Your access as a substitute has ended. Thanks for playing!")
        raise NotSignedIn("You're not a member of any band yet. Ask your band leader for an invite.")
    chosen = next((r for r in rows if r[0].band_id == record.band_id), rows[0])
    return actor_of(*chosen)


def actor_of(membership: Membership, user: User, band: Band) -> Actor:
    """The acting member a membership stands for: the one way every door (a page's session, an API or MCP token)
    builds an ``Actor``, so each sees the same instruments, reading preferences and scope."""
    assert membership.id is not None and user.id is not None and band.id is not None
    return Actor(user_id=user.id, band_id=band.id, membership_id=membership.id, role=membership.role,
                 name=user.name or user.email, email=user.email, band_name=band.name,
                 instruments=tuple(membership.instruments), reading=dict(membership.reading or {}),
                 gig_id=membership.gig_id)


async def user_bands(session: AsyncSession, user_id: int) -> list[Band]:
    query = select(Band).join(Membership, col(Membership.band_id) == Band.id).where(Membership.user_id == user_id)
    return list((await session.exec(query.order_by(col(Band.name)))).all())


async def switch_band(session: AsyncSession, token: str, band_id: int) -> None:
    record = await _live_session(session, token)
    member = (await session.exec(select(Membership).where(Membership.user_id == record.user_id,
                                                          Membership.band_id == band_id))).first()
    if member is None:
        raise NotSignedIn("You're not a member of that band.")
    record.band_id = band_id
    session.add(record)


async def end_session(session: AsyncSession, token: str | None) -> None:
    if token:
        await session.exec(update(AuthSession).where(col(AuthSession.token_hash) == hash_token(token))
                           .values(revoked_at=utcnow()))


async def replace_session(session: AsyncSession, previous: str | None, user_id: int, band_id: int | None,
                          user_agent: str = "") -> str:
    """Sign in: end the cookie's previous session (if any) and start a fresh one, in one transaction (a new token
    every sign-in, so a planted cookie is worthless)."""
    await end_session(session, previous)
    return await start_session(session, user_id, band_id, user_agent)


async def end_all_sessions(session: AsyncSession, user_id: int) -> int:
    """Sign out everywhere: every live session of the user ends now. Returns how many ended."""
    result = await session.exec(update(AuthSession).where(col(AuthSession.user_id) == user_id,
                                                          col(AuthSession.revoked_at).is_(None))
                                .values(revoked_at=utcnow()))
    return result.rowcount or 0
