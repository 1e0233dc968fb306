"""Who is asking: the signed session cookie carries a random token; the database says whose it is.

The cookie is NiceGUI's Starlette session cookie (signed with SOLEIL_SECRET_KEY, HttpOnly, SameSite=Lax,
Secure when served over HTTPS); only the token lives in it, so revoking the server-side record ends access.
Pages already open are told too: ``guard_page`` listens for the person's membership events and sends the page
to sign-in the moment its session or membership is gone.
"""

from __future__ import annotations

import logging

from fastapi import Request
from nicegui import Client, background_tasks, ui

from soleil_ui import ratelimit
from soleil_ui.access import Actor
from soleil_ui.errors import Forbidden, NotSignedIn
from soleil_ui.events import Event
from soleil_ui.security import csrf_token, new_token, tokens_equal
from soleil_ui.services import auth, members, work
from soleil_ui.settings import get_settings

from . import params  # noqa: F401  (registers the {x:id} path converter before any page's route is declared)
from .live import listen

log = logging.getLogger(__name__)
SESSION_KEY = "soleil_sid"
INVITE_KEY = "soleil_invite"  # an invite link's token, carried through sign-in
CSRF_FIELD = "csrf"  # the form field of state-changing POSTs (sign-out, demo sign-in)
CSRF_HEADER = "x-csrf-token"  # the same token, for a script's JSON POST (the stand's pencil)
FORM_EXPIRED = "This form has expired. Please go back, reload the page and try again."


def token_of(request: Request | None) -> str | None:
    value = request.session.get(SESSION_KEY) if request is not None else None
    return value if isinstance(value, str) else None


def csrf_for(request: Request) -> str:
    """This browser session's anti-forgery token, for a form that changes state (checked by ``require_csrf``)."""
    session_id = request.session.get("id")  # NiceGUI gives every browser session a random id
    if not isinstance(session_id, str):
        session_id = request.session["id"] = new_token()
    return csrf_token(get_settings().effective_secret_key(), session_id)


async def require_csrf(request: Request) -> None:
    """Refuse a POST that doesn't carry this session's token: another site can make a browser post, not read it."""
    sent = (await request.form()).get(CSRF_FIELD)
    if not isinstance(sent, str) or not isinstance(request.session.get("id"), str) \
            or not tokens_equal(sent, csrf_for(request)):
        raise Forbidden(FORM_EXPIRED, detail="missing or wrong CSRF token")


def require_csrf_header(request: Request) -> None:
    """The same check for a script's POST (``fetch`` with a JSON body): the token rides in ``X-CSRF-Token``."""
    sent = request.headers.get(CSRF_HEADER)
    if not sent or not isinstance(request.session.get("id"), str) or not tokens_equal(sent, csrf_for(request)):
        raise Forbidden(FORM_EXPIRED, detail="missing or wrong CSRF header")


def client_address(request: Request) -> str:
    """The caller's address (the trusted proxy's X-Forwarded-For already applied), for signed-out limits."""
    return request.client.host if request.client is not None else "unknown"


async def throttle(request: Request, rule: str, actor: Actor | None = None, *, kind: str = "") -> None:
    """Count this request under a rate limit (``TooManyRequests`` when over): per account when signed in, per
    address only when not. ``kind`` counts separately under one rule (sign-in starts apart from callbacks)."""
    who = f"user:{actor.user_id}" if actor is not None else f"ip:{client_address(request)}"
    await ratelimit.hit(rule, who, kind)


async def actor_or_none(request: Request) -> Actor | None:
    try:
        return await current_actor(request)
    except NotSignedIn:
        return None


async def current_actor(request: Request) -> Actor:
    """The signed-in member, or ``NotSignedIn``. Checked on every request, so a revoked session stops at once."""
    return await work.before_actor(auth.resolve, token_of(request))


async def sign_in(request: Request, user_id: int, band_id: int | None) -> None:
    """Start a fresh server-side session (a new token every sign-in, so a planted cookie is worthless)."""
    previous = token_of(request)
    token = await work.before_actor(auth.replace_session, previous, user_id, band_id,
                                    request.headers.get("user-agent", ""))
    request.session[SESSION_KEY] = token


async def sign_out(request: Request) -> None:
    actor = await actor_or_none(request)
    await work.before_actor(members.sign_out, token_of(request), actor)  # other tabs on this cookie re-check
    request.session.pop(SESSION_KEY, None)


def remember_invite(request: Request, token: str) -> None:
    request.session[INVITE_KEY] = token[:200]


def take_invite(request: Request) -> str | None:
    value = request.session.pop(INVITE_KEY, None)
    return value if isinstance(value, str) else None


async def switch_band(request: Request | None, band_id: int) -> None:
    """Look at another of my bands; the session row remembers it (and the next sign-in starts there)."""
    token = token_of(request)
    if token is None:
        raise NotSignedIn()
    await work.before_actor(auth.switch_band, token, band_id)


def guard_page(actor: Actor) -> None:
    """Make this open page leave as soon as its person is removed from the band or their session ends.

    Membership events carry only a user id; the page then re-checks its own session, so a sign-out on another
    device leaves this one alone while sign-out-everywhere, removal or a revoked session sends it to sign-in.
    A changed role reloads the page, so leader controls appear or vanish. After the hub lost events (a
    ``resync``), every page re-checks.
    """
    client = ui.context.client
    token = token_of(client.request)

    def on_event(event: Event) -> None:
        if event.payload.get("user_id") == actor.user_id or event.payload.get("resync"):  # resync: events were lost
            background_tasks.create(_recheck(client, token, actor), name="re-check access of an open page")

    listen(actor.band_id, members.MEMBERSHIP_TOPIC, on_event)


async def _recheck(client: Client, token: str | None, actor: Actor) -> None:
    try:
        now: Actor | None = await work.before_actor(auth.resolve, token)
    except NotSignedIn:
        now = None
    if client.is_deleted:
        return
    with client:
        if now is None or (now.band_id, now.membership_id) != (actor.band_id, actor.membership_id):
            log.info("page of user %s left band %s: access ended", actor.user_id, actor.band_id)
            ui.navigate.to("/login")
        elif now.role != actor.role:
            ui.navigate.reload()


def band_switcher(actor: Actor) -> None:
    """Account-menu entries: switch to another of my bands (when I have several); "New band" for admins.

    Filled in by a background task, so building the frame never waits for the database (and no timer makes
    NiceGUI answer before the page is built).
    """
    holder = ui.column().classes("gap-0 w-full p-0")
    request = ui.context.client.request

    async def switch(band_id: int) -> None:
        await switch_band(request, band_id)
        ui.navigate.to("/")

    async def fill() -> None:
        bands = await work.before_actor(auth.user_bands, actor.user_id)
        if holder.is_deleted:
            return
        with holder:
            others = [b for b in bands if b.id != actor.band_id]
            if others:
                ui.separator()
                for band in others:
                    ui.menu_item(f"Switch to {band.name}", on_click=lambda b=band.id: switch(b or 0)) \
                        .mark(f"switch-{band.id}")
            if members.is_admin(actor.email):
                ui.menu_item("New band", on_click=lambda: ui.navigate.to("/bands/new")).mark("new-band")

    background_tasks.create(fill(), name="fill the band switcher")
