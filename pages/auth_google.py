"""Sign in with Google (or the configured OpenID provider): the redirect, the callback, and where people land.

Every failure ends on a calm page (``/auth/problem``) with the reason in plain words, never a stack trace.
People with no band and no invite see ``/no-band``, which shows nothing of any band.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import APIRouter, ui

from components import design, oidc
from components.errors import log_error, message_for
from components.layout import theme
from components.session import sign_in, take_invite, throttle
from soleil_ui.errors import SoleilError
from soleil_ui.services import invites, work
from soleil_ui.settings import get_settings

router = APIRouter()
PROBLEM_KEY = "soleil_signin_problem"
NOTE_KEY = "soleil_signin_note"
GENERIC_PROBLEM = "Sign-in didn't complete. Please try again."


def _problem(request: Request, exc: SoleilError) -> RedirectResponse:
    log_error(exc, f"sign-in {request.url.path}")
    request.session[PROBLEM_KEY] = message_for(exc)
    return RedirectResponse("/auth/problem", status_code=303)


@router.get("/auth/google")
async def google_sign_in(request: Request) -> RedirectResponse:
    """Send the person to the provider (an invite link they came with stays in the session meanwhile)."""
    await throttle(request, "sign_in", kind="start")  # over the limit: 429 with Retry-After
    try:
        return await oidc.start(request)
    except SoleilError as exc:
        return _problem(request, exc)


@router.get(oidc.CALLBACK_PATH)
async def google_callback(request: Request) -> RedirectResponse:
    """The provider sends people back here: check everything, then sign in, join or explain."""
    await throttle(request, "sign_in", kind="callback")
    link = take_invite(request)
    try:
        identity = await oidc.finish(request)
        outcome = await work.before_actor(invites.complete_sign_in, identity, link_token=link,
                                          admin_emails=get_settings().admin_email_set)
    except SoleilError as exc:
        return _problem(request, exc)
    if outcome.user_id is None:
        return RedirectResponse("/no-band", status_code=303)
    await sign_in(request, outcome.user_id, outcome.band_id)
    if outcome.band_id is None:
        return RedirectResponse("/bands/new", status_code=303)
    if outcome.invite_problem:  # signed in to their band anyway; say why the link didn't add a new one
        request.session[NOTE_KEY] = outcome.invite_problem
        return RedirectResponse("/auth/notice", status_code=303)
    return RedirectResponse("/welcome" if outcome.first_visit else "/", status_code=303)


def _calm_page(icon: str, title: str, text: str, *, button: str = "Back to sign-in", target: str = "/login") -> None:
    theme()
    ui.page_title(f"{title} · SOLEil")
    with ui.column().classes("w-full max-w-md mx-auto p-6 gap-4 items-center text-center"):
        ui.icon(icon).classes("text-6xl text-grey-6")
        design.heading(title).classes("text-2xl font-medium")
        ui.label(text).classes("text-base text-grey-8").mark("message")
        ui.button(button, icon="login", on_click=lambda: ui.navigate.to(target)) \
            .props("unelevated size=lg").classes("w-full")


@router.page("/auth/problem")
def sign_in_problem(request: Request) -> None:
    message = request.session.pop(PROBLEM_KEY, None)
    _calm_page("lock", "Sign-in didn't work", message if isinstance(message, str) else GENERIC_PROBLEM)


@router.page("/no-band")
def no_band() -> None:
    _calm_page("group_off", "You're not in a band here yet",
               "You need an invite from your band leader. Ask them to add your email address or send you an "
               "invite link, then sign in again.")


@router.page("/auth/notice")
def sign_in_notice(request: Request) -> None:
    """Signed in, but the invite link they came with didn't apply (expired, withdrawn, for someone else)."""
    message = request.session.pop(NOTE_KEY, None)
    _calm_page("info", "You're signed in", message if isinstance(message, str) else "Welcome back.",
               button="Continue to your band", target="/")
