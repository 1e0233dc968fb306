"""Personal access tokens: how a script, a calendar or an AI assistant acts as one member of one band.

A token is a random secret shown once (``sol_…``); the database keeps its SHA-256, a name, a few leading characters
to tell tokens apart, a scope, an expiry and when it was last used. ``resolve`` turns a secret back into the same
``Actor`` the pages use, so every rule the services apply to a member applies to their token too:

* **read** lets a program see what the member sees; **write** (leaders only) lets it change what a leader may change.
  The services still check the role on every call: a leader's write token of someone who is no longer a leader
  changes nothing.
* A token belongs to a membership: removing the member deletes it (foreign key), and a substitute's token would
  end with their gig, but substitutes cannot make tokens at all (they see one gig, through the pages).
* No token, an unknown, revoked or expired one: ``NotSignedIn`` (a 401).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from ..access import Actor
from ..errors import Forbidden, InvalidInput, NotFound, NotSignedIn
from ..models import ApiToken, Band, Membership, Role, User, utcnow
from ..security import hash_token, new_token
from .auth import actor_of
from .validation import clean_text

READ, WRITE = "read", "write"
SCOPES = (READ, WRITE)
PREFIX = "sol_"
DEFAULT_DAYS = 90
MAX_DAYS = 366
MAX_TOKENS = 20  # live tokens per member and band: plenty for scripts, a bound for a leaked session
TOUCH_EVERY = timedelta(minutes=1)  # last-used is kept to the minute, so reads don't all write
NO_TOKEN = "Send a personal access token: Authorization: Bearer <token> (make one on your profile page)."  # noqa: S105
READ_ONLY = "This token can only read. A leader can make a token with write access on their profile page."


@dataclass(frozen=True, slots=True)
class Grant:
    """What a request carrying a token may do: act as ``actor``, within ``scope``."""

    actor: Actor
    scope: str
    token_id: int

    def require_write(self) -> None:
        self.actor.require_leader()  # a member hears the pages' reason first: only leaders change things
        if self.scope != WRITE:
            raise Forbidden(READ_ONLY)


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: int
    name: str
    prefix: str
    scope: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None


def _info(row: ApiToken) -> TokenInfo:
    assert row.id is not None
    return TokenInfo(row.id, row.name, row.prefix, row.scope, row.created_at, row.expires_at, row.last_used_at)


def scopes_for(actor: Actor) -> tuple[str, ...]:
    """The scopes this member may give a token: none for a substitute, write only for leaders."""
    if actor.is_sub:
        return ()
    return SCOPES if actor.is_leader else (READ,)


def new_secret() -> tuple[str, str, str]:
    """A fresh token: the secret (shown once), its hash (all the database keeps) and the leading characters that
    tell a member's tokens apart. The one place the token format lives (the API benchmark plants tokens with it)."""
    secret = PREFIX + new_token()
    return secret, hash_token(secret), secret[:10]


async def create_token(session: AsyncSession, actor: Actor, name: str, *, scope: str = READ,
                       days: int = DEFAULT_DAYS) -> tuple[TokenInfo, str]:
    """Make a token for me in this band; returns it and its secret (shown once, never stored in clear)."""
    if actor.is_sub:
        raise Forbidden("Substitutes can't make tokens; you see your gig through SOLEil's pages.")
    if scope not in SCOPES:
        raise InvalidInput("A token reads, or (for leaders) reads and writes.")
    if scope == WRITE:
        actor.require_leader()
    if type(days) is not int or not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"A token lasts from 1 to {MAX_DAYS} days.")
    label = clean_text(name, "Token name", max_length=80)
    if len(await list_tokens(session, actor)) >= MAX_TOKENS:
        raise InvalidInput(f"You have {MAX_TOKENS} tokens already; revoke one you no longer use first.")
    secret, token_hash, prefix = new_secret()
    row = ApiToken(band_id=actor.band_id, membership_id=actor.membership_id, name=label,
                   token_hash=token_hash, prefix=prefix, scope=scope,
                   expires_at=utcnow() + timedelta(days=days))
    session.add(row)
    await session.flush()
    return _info(row), secret


async def list_tokens(session: AsyncSession, actor: Actor) -> list[TokenInfo]:
    """My tokens in this band that still work, newest first."""
    query = (select(ApiToken).where(ApiToken.band_id == actor.band_id, ApiToken.membership_id == actor.membership_id,
                                    col(ApiToken.revoked_at).is_(None), col(ApiToken.expires_at) > utcnow())
             .order_by(col(ApiToken.id).desc()))
    return [_info(row) for row in (await session.exec(query)).all()]


async def revoke_token(session: AsyncSession, actor: Actor, token_id: int) -> None:
    """End one of my tokens now; a program using it gets a 401 on its next request."""
    result = await session.exec(update(ApiToken).where(
        col(ApiToken.id) == token_id, col(ApiToken.band_id) == actor.band_id,
        col(ApiToken.membership_id) == actor.membership_id, col(ApiToken.revoked_at).is_(None))
        .values(revoked_at=utcnow()))
    if not result.rowcount:
        raise NotFound("That token doesn't exist or was already revoked.")


async def resolve(session: AsyncSession, secret: str | None) -> Grant:
    """The member and scope behind a token, checked on every request (revocation and expiry take effect at once)."""
    if not secret:
        raise NotSignedIn(NO_TOKEN)
    if len(secret) > 200 or not secret.startswith(PREFIX):
        raise NotSignedIn("That token isn't valid.")
    query = (select(ApiToken, Membership, User, Band)
             .join(Membership, col(Membership.id) == ApiToken.membership_id)
             .join(User, col(User.id) == Membership.user_id)
             .join(Band, col(Band.id) == ApiToken.band_id)
             .where(ApiToken.token_hash == hash_token(secret), col(Membership.band_id) == ApiToken.band_id))
    found = (await session.exec(query)).first()
    now = utcnow()
    if found is None:
        raise NotSignedIn("That token isn't valid.")
    token, membership, user, band = found
    if token.revoked_at is not None:
        raise NotSignedIn("That token was revoked.")
    if token.expires_at <= now:
        raise NotSignedIn("That token has expired; make a new one on your profile page.")
    if membership.role == Role.SUB or (membership.expires_at is not None and membership.expires_at <= now):
        raise NotSignedIn("Your access as a substitute has ended. Thanks for playing!")
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        await session.exec(update(ApiToken).where(col(ApiToken.id) == token.id).values(last_used_at=now))
    assert token.id is not None
    return Grant(actor_of(membership, user, band), token.scope, token.id)


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer …`` header (None for anything else: cookies never count)."""
    scheme, _, value = (authorization or "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None
