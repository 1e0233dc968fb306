"""Ways into a band, and what happens when someone signs in.

Two kinds of invite, both ``Invite`` rows scoped to one band and created only by its leaders:

* **A link** (``/join/<token>``): the token is shown to the leader once; only its SHA-256 is stored. It expires
  (1–90 days, default 7) and can be withdrawn. A link without an email may be used by several people until it
  expires or is withdrawn (a leader posts it in the band's group chat); a link tied to an email admits only the
  person who signs in with that address. ``uses`` counts the joins.
* **An email** (no token): whoever signs in with that verified address joins. It is used up by that join and
  expires after 30 days if nobody signs in.

``complete_sign_in`` is the whole sign-in decision, independent of any web framework: the OpenID provider vouched
for an identity; this finds or creates the person, applies invites and says where they go next.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from .. import ratelimit
from ..access import Actor
from ..errors import Forbidden, InvalidInput, NotFound, SoleilError
from ..models import Band, Invite, Membership, Role, User, utcnow
from ..security import hash_token, new_token
from .members import add_member, clean_email, is_admin, last_band
from .validation import clean_text

LINK_DAYS = 7
EMAIL_DAYS = 30
MAX_DAYS = 90
LINK_GONE = "This invite link has expired or was withdrawn. Ask your band leader for a new one."
WRONG_EMAIL = ("This invite is for a different email address. Sign in with the address your band leader "
               "invited, or ask them for a new link.")
UNVERIFIED = ("Your sign-in provider hasn't verified this email address, so SOLEil can't use it. "
              "Verify it with your provider (or use another account) and sign in again.")
NO_EMAIL = ("Your sign-in provider didn't share your email address, which SOLEil needs to find your band. "
            "Allow it to share your email and sign in again.")
SUBJECT_MISMATCH = ("This email address belongs to a different account here. Sign in with the account you "
                    "used before, or ask your band leader for help.")


@dataclass(frozen=True, slots=True)
class Identity:
    """What the OpenID provider vouched for: a stable subject, an email and whether it verified that email."""

    subject: str
    email: str
    email_verified: bool
    name: str = ""


@dataclass(frozen=True, slots=True)
class SignInOutcome:
    """Where a signed-in person goes: ``user_id`` None means nobody to sign in (no band, no invite)."""

    user_id: int | None
    band_id: int | None
    first_visit: bool = False  # just joined ``band_id``: ask for name and instruments
    may_create_band: bool = False  # an admin with no band yet
    invite_problem: str | None = None  # an invite that didn't apply, for a note; the person still got in


def _days(days: int) -> timedelta:
    if type(days) is not int or not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"An invite lasts from 1 to {MAX_DAYS} days.")
    return timedelta(days=days)


def _role(role: str) -> str:
    if role not in (Role.LEADER, Role.MEMBER):
        raise InvalidInput("A role is leader or member.")
    return role


async def create_link(session: AsyncSession, actor: Actor, *, email: str | None = None, days: int = LINK_DAYS,
                      role: str = Role.MEMBER) -> tuple[Invite, str]:
    """A leader makes an invite link for their band. Returns the row and the token (shown once, never stored)."""
    actor.require_leader()
    await ratelimit.hit("invites", f"user:{actor.user_id}")
    tied = clean_email(email) if email and email.strip() else None
    token = new_token()
    invite = Invite(band_id=actor.band_id, token_hash=hash_token(token), email=tied, role=_role(role),
                    created_by=actor.user_id, expires_at=utcnow() + _days(days))
    session.add(invite)
    await session.flush()
    return invite, token


async def invite_email(session: AsyncSession, actor: Actor, email: str, *, days: int = EMAIL_DAYS,
                       role: str = Role.MEMBER) -> Invite:
    """A leader adds an email: whoever signs in with it joins. Adding it again renews the same invite."""
    actor.require_leader()
    await ratelimit.hit("invites", f"user:{actor.user_id}")
    address = clean_email(email)
    lifetime, role = _days(days), _role(role)
    member = (await session.exec(select(Membership).join(User, col(User.id) == Membership.user_id)
                                 .where(Membership.band_id == actor.band_id, User.email == address))).first()
    if member is not None:
        raise InvalidInput(f"{address} is already in the band.")
    pending = (await session.exec(select(Invite).where(*_pending_email(address), Invite.band_id == actor.band_id)
                                  )).first()
    invite = pending or Invite(band_id=actor.band_id, email=address, created_by=actor.user_id,
                               expires_at=utcnow())
    invite.role, invite.expires_at = role, utcnow() + lifetime
    session.add(invite)
    await session.flush()
    return invite


def _pending_email(address: str) -> tuple[ColumnElement[bool], ...]:
    return (col(Invite.email) == address, col(Invite.token_hash).is_(None), col(Invite.revoked_at).is_(None),
            col(Invite.expires_at) > utcnow(), col(Invite.uses) == 0)


async def pending(session: AsyncSession, actor: Actor) -> list[Invite]:
    """The band's invites that still let someone in, newest first (leaders only)."""
    actor.require_leader()
    query = (select(Invite).where(Invite.band_id == actor.band_id, col(Invite.revoked_at).is_(None),
                                  Invite.expires_at > utcnow())
             .where((col(Invite.token_hash).is_not(None)) | (Invite.uses == 0))
             .order_by(col(Invite.created_at).desc(), col(Invite.id).desc()))
    return list((await session.exec(query)).all())


async def revoke(session: AsyncSession, actor: Actor, invite_id: int) -> None:
    """Withdraw an invite of my band; a link stops working at once. People who already joined stay."""
    actor.require_leader()
    invite = await session.get(Invite, invite_id)
    if invite is None or invite.band_id != actor.band_id:
        raise NotFound("That invite doesn't exist.")
    if invite.revoked_at is None:
        invite.revoked_at = utcnow()
        session.add(invite)


async def _live_link(session: AsyncSession, token: str | None) -> Invite:
    if not token or len(token) > 200:
        raise NotFound(LINK_GONE)
    invite = (await session.exec(select(Invite).where(Invite.token_hash == hash_token(token)))).first()
    if invite is None or invite.revoked_at is not None or invite.expires_at <= utcnow():
        raise NotFound(LINK_GONE)
    return invite


async def link_band(session: AsyncSession, token: str | None) -> Band:
    """The band a live link leads to, for its landing page (whoever holds the link may see the band's name)."""
    invite = await _live_link(session, token)
    band = await session.get(Band, invite.band_id)
    if band is None:
        raise NotFound(LINK_GONE)
    return band


async def link_inviter(session: AsyncSession, token: str | None) -> tuple[Band, str | None]:
    """The band a live link leads to and the name of who made it, for asking a signed-in person before they join."""
    invite = await _live_link(session, token)
    band = await session.get(Band, invite.band_id)
    if band is None:
        raise NotFound(LINK_GONE)
    inviter = await session.get(User, invite.created_by) if invite.created_by is not None else None
    return band, inviter.name if inviter is not None else None


async def _join(session: AsyncSession, invite: Invite, user_id: int) -> tuple[Membership, bool]:
    existing = (await session.exec(select(Membership).where(Membership.band_id == invite.band_id,
                                                            Membership.user_id == user_id))).first()
    if existing is not None:
        return existing, False
    membership = await add_member(session, invite.band_id, user_id, role=invite.role)
    await session.exec(update(Invite).where(col(Invite.id) == invite.id).values(uses=col(Invite.uses) + 1))
    return membership, True


async def accept_link(session: AsyncSession, user_id: int, token: str | None) -> tuple[Membership, bool]:
    """Join the band of a live link. Returns the membership and whether it is new (False: already a member)."""
    invite = await _live_link(session, token)
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("Your account no longer exists.")
    if invite.email is not None and invite.email != user.email:
        raise Forbidden(WRONG_EMAIL)
    return await _join(session, invite, user_id)


async def accept_email_invites(session: AsyncSession, user: User) -> list[Membership]:
    """Join every band that invited this (verified) email and hasn't been joined yet; the invites are used up."""
    assert user.id is not None
    joined = []
    for invite in (await session.exec(select(Invite).where(*_pending_email(user.email))
                                      .order_by(col(Invite.id)))).all():
        membership, new = await _join(session, invite, user.id)
        if not new:  # already a member some other way: the invite has done its job
            await session.exec(update(Invite).where(col(Invite.id) == invite.id).values(uses=col(Invite.uses) + 1))
        else:
            joined.append(membership)
    return joined


async def _find_user(session: AsyncSession, identity: Identity, email: str) -> User | None:
    """By subject first (stable even if the address changes), else by email; never take over another account."""
    by_subject = (await session.exec(select(User).where(User.oidc_subject == identity.subject))).first()
    by_email = (await session.exec(select(User).where(User.email == email))).first()
    if by_subject is not None:
        if by_subject.email != email and by_email is None:
            by_subject.email = email  # the provider account changed address: follow it
            session.add(by_subject)
        return by_subject
    if by_email is not None and by_email.oidc_subject not in (None, identity.subject):
        raise Forbidden(SUBJECT_MISMATCH)
    return by_email


async def _has_invite(session: AsyncSession, email: str) -> bool:
    return (await session.exec(select(Invite.id).where(*_pending_email(email)).limit(1))).first() is not None


async def complete_sign_in(session: AsyncSession, identity: Identity, *, link_token: str | None = None,
                           admin_emails: Collection[str] | None = None) -> SignInOutcome:
    """Decide what a successful provider sign-in means here.

    Verified emails only. The person is created only when they have a way in (an invite, a link, admin rights):
    nobody else is stored. A carried invite link is applied first, then any email invites; a new band means a first
    visit there. Otherwise they continue in the band they last looked at.
    """
    if not identity.email.strip():
        raise Forbidden(NO_EMAIL)
    if not identity.email_verified:
        raise Forbidden(UNVERIFIED)
    if not identity.subject or len(identity.subject) > 255:
        raise Forbidden("Your sign-in provider didn't say who you are. Please try again.")
    email = clean_email(identity.email)
    admin = is_admin(email, admin_emails)
    user = await _find_user(session, identity, email)
    if user is None:
        if not (link_token or admin or await _has_invite(session, email)):
            return SignInOutcome(user_id=None, band_id=None)
        user = User(email=email, name=clean_text(identity.name[:120], "Name", max_length=120, required=False))
        session.add(user)
        await session.flush()
    assert user.id is not None
    if user.oidc_subject is None:
        user.oidc_subject = identity.subject
    if not user.name and identity.name:
        user.name = clean_text(identity.name[:120], "Name", max_length=120, required=False)
    session.add(user)
    await session.flush()

    chosen: int | None = None
    first_visit = False
    problem: str | None = None
    if link_token:
        try:
            membership, first_visit = await accept_link(session, user.id, link_token)
            chosen = membership.band_id
        except SoleilError as exc:  # a stale or someone else's link must not lock a member out of their bands
            problem = exc.user_message
    joined = await accept_email_invites(session, user)
    if chosen is None and joined:
        chosen, first_visit = joined[0].band_id, True
    if chosen is None:
        chosen = await last_band(session, user.id)
    if chosen is None:
        if problem and not admin:
            raise Forbidden(problem)
        return SignInOutcome(user_id=user.id if admin else None, band_id=None, may_create_band=admin,
                             invite_problem=problem)
    return SignInOutcome(user_id=user.id, band_id=chosen, first_visit=first_visit, may_create_band=admin,
                         invite_problem=problem)
