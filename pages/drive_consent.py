"""A leader lets SOLEil read the band's Drive folder with their own Google account (google-auth-oauthlib), or shows
with it that a folder read through the server's service account is theirs.

* ``/auth/drive/start``: offline access with ``drive.readonly``; the refresh token is stored encrypted with the band's
  library source (reading with the leader's own rights is proof by itself).
* ``/auth/drive/verify``: the read-only *metadata* scope, online, for one look: the leader's account can see the
  folder (to connect it, or to verify the folder already connected). The token is used once and never stored.

Both come back to the one ``/auth/drive/callback`` (the redirect URI registered with Google). The provider's endpoints
come from the same OpenID metadata as sign-in, so tests run against a local provider.
"""

from __future__ import annotations

import asyncio
import logging
import secrets

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from google_auth_oauthlib.flow import Flow

from components.guard import SignedIn
from components.session import throttle
from soleil_ui.errors import InvalidInput, UpstreamUnavailable
from soleil_ui.services import library_source, work
from soleil_ui.settings import get_settings
from soleil_ui.sources.drive import METADATA_SCOPE, parse_folder_id

router = APIRouter()
log = logging.getLogger(__name__)
DRIVE_SCOPE = "https://www.googleapis.com/auth/drive.readonly"
STATE_KEY = "soleil_drive_consent"


async def _metadata() -> dict[str, str]:
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(get_settings().oidc_metadata_url)
            response.raise_for_status()
            return response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise UpstreamUnavailable("Google sign-in isn't answering; try connecting Drive again in a minute.",
                                  detail=f"OIDC metadata: {exc}") from exc


def _flow(metadata: dict[str, str], redirect_uri: str, state: str | None = None, scope: str = DRIVE_SCOPE) -> Flow:
    settings = get_settings()
    config = {"web": {"client_id": settings.google_client_id, "client_secret": settings.google_client_secret,
                      "auth_uri": metadata["authorization_endpoint"], "token_uri": metadata["token_endpoint"]}}
    return Flow.from_client_config(config, scopes=[scope], redirect_uri=redirect_uri, state=state)


def _redirect_uri(request: Request) -> str:
    base = get_settings().public_url.rstrip("/") or str(request.base_url).rstrip("/")
    return f"{base}/auth/drive/callback"


@router.get("/auth/drive/start")
async def start(request: Request, actor: SignedIn, folder: str) -> RedirectResponse:
    actor.require_leader()
    await throttle(request, "sign_in", actor, kind="drive")  # a Google consent start, like a sign-in start
    if not get_settings().google_configured:
        raise InvalidInput("Google sign-in isn't configured on this server.")
    folder_id = parse_folder_id(folder)
    flow = _flow(await _metadata(), _redirect_uri(request), state=secrets.token_urlsafe(24))
    url, state = flow.authorization_url(access_type="offline", prompt="consent", include_granted_scopes="true")
    request.session[STATE_KEY] = {"state": state, "folder": folder_id, "band": actor.band_id, "mode": "connect"}
    return RedirectResponse(url, status_code=303)


@router.get("/auth/drive/verify")
async def verify(request: Request, actor: SignedIn, folder: str = "") -> RedirectResponse:
    """Show with the leader's own Google account (metadata scope, this once) that they can see the folder: to connect
    ``folder`` through the service account, or, with no folder, to verify the one already connected."""
    actor.require_leader()
    await throttle(request, "sign_in", actor, kind="drive")
    if not get_settings().google_configured:
        raise InvalidInput("Google sign-in isn't configured on this server; use the verification file instead.")
    folder_id = parse_folder_id(folder) if folder.strip() else ""
    flow = _flow(await _metadata(), _redirect_uri(request), state=secrets.token_urlsafe(24), scope=METADATA_SCOPE)
    url, state = flow.authorization_url(access_type="online", prompt="select_account")
    request.session[STATE_KEY] = {"state": state, "folder": folder_id, "band": actor.band_id, "mode": "verify"}
    return RedirectResponse(url, status_code=303)


@router.get("/auth/drive/callback")
async def callback(request: Request, actor: SignedIn, state: str = "", code: str = "",
                   error: str = "") -> RedirectResponse:
    await throttle(request, "sign_in", actor, kind="drive-callback")  # each callback exchanges a code with Google
    pending = request.session.pop(STATE_KEY, None)
    if error:
        raise InvalidInput("Google didn't grant access to Drive, so nothing changed.")
    if not isinstance(pending, dict) or not state or not secrets.compare_digest(str(pending.get("state")), state) \
            or pending.get("band") != actor.band_id:
        raise InvalidInput("That Drive connection link is stale or not yours. Start again from Library files.")
    verifying = pending.get("mode") == "verify"
    metadata = await _metadata()
    flow = _flow(metadata, _redirect_uri(request), state=state, scope=METADATA_SCOPE if verifying else DRIVE_SCOPE)
    try:
        await asyncio.to_thread(flow.fetch_token, code=code)  # blocking HTTP: never on the event loop
    except Exception as exc:
        log.warning("Drive consent token exchange failed: %s", type(exc).__name__)
        raise InvalidInput("Google refused the Drive connection (the code was used or expired). Try again.") from exc
    access_token = flow.credentials.token
    if verifying:
        if pending.get("folder"):
            await work.act(library_source.connect_drive, actor, pending["folder"], access_token=access_token)
        else:
            await work.act(library_source.verify_drive, actor, access_token=access_token)
        return RedirectResponse("/library/files?verified=1", status_code=303)
    refresh_token = flow.credentials.refresh_token
    if not refresh_token:
        raise InvalidInput("Google didn't give lasting access. Remove SOLEil in your Google account's "
                           "third-party access page, then connect again.")
    await work.act(library_source.connect_drive, actor, pending["folder"], refresh_token=refresh_token,
                   token_uri=metadata["token_endpoint"], access_token=access_token)
    return RedirectResponse("/library/files?connected=1", status_code=303)
