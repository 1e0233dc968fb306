"""Who is asking: the signed session cookie carries a random token; the database says whose it is.

The cookie is NiceGUI's Starlette session cookie (signed with SOLEIL_SECRET_KEY, HttpOnly, SameSite=Lax,
Secure when served over HTTPS); only the token lives in it, so revoking the server-side record ends access.
"""

from __future__ import annotations

from fastapi import Request

from soleil_ui.access import Actor
from soleil_ui.db import db
from soleil_ui.errors import NotSignedIn
from soleil_ui.services import auth

SESSION_KEY = "soleil_sid"


def token_of(request: Request) -> str | None:
    value = request.session.get(SESSION_KEY)
    return value if isinstance(value, str) else None


async def actor_or_none(request: Request) -> Actor | None:
    try:
        return await current_actor(request)
    except NotSignedIn:
        return None


async def current_actor(request: Request) -> Actor:
    """The signed-in member, or ``NotSignedIn``. Checked on every request, so a revoked session stops at once."""
    async with db.session() as session:
        return await auth.resolve(session, token_of(request))


async def sign_in(request: Request, user_id: int, band_id: int | None) -> None:
    async with db.session() as session:
        token = await auth.start_session(session, user_id, band_id, request.headers.get("user-agent", ""))
    request.session[SESSION_KEY] = token


async def sign_out(request: Request) -> None:
    async with db.session() as session:
        await auth.end_session(session, token_of(request))
    request.session.pop(SESSION_KEY, None)
