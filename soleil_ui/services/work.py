"""One unit of work per screen action: pages and components call the services through here and never open a
database session themselves.

``act(service, actor, …)`` opens a session, calls a band-scoped service with the acting member (the service checks
roles and scopes every query to ``actor.band_id``), commits when it returns and rolls back when it raises. Screens
that read several things at once have a loader of their own (``page_data``, ``stand_view``, ``setlist_view``).
``before_actor`` is for the few steps that come before there is a member to act as: resolving a session cookie,
finishing a sign-in, reading an invite link or a calendar feed's secret.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from ..access import Actor
from ..db import db

P = ParamSpec("P")
T = TypeVar("T")


async def act(service: Callable[Concatenate[AsyncSession, Actor, P], Awaitable[T]], actor: Actor, /,
              *args: P.args, **kwargs: P.kwargs) -> T:
    """``service(session, actor, *args, **kwargs)`` in one short transaction."""
    async with db.session() as session:
        return await service(session, actor, *args, **kwargs)


async def before_actor(service: Callable[Concatenate[AsyncSession, P], Awaitable[T]], /,
                       *args: P.args, **kwargs: P.kwargs) -> T:
    """``service(session, *args, **kwargs)`` in one short transaction, for a step with no member yet."""
    async with db.session() as session:
        return await service(session, *args, **kwargs)
