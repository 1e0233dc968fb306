"""Sign in with Google or any OpenID Connect provider: authlib's Starlette client, registered from settings.

Authlib does the protocol: discovery (``SOLEIL_OIDC_METADATA_URL``), the authorization redirect with a random
``state`` and ``nonce`` kept in the signed session cookie, the code exchange, and the ID token's signature (JWKS),
issuer, audience, expiry and nonce. This module turns every way that can fail — a forged or stale state, a
replayed code, a provider that is down, a bad token — into a ``SoleilError`` with plain words.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.starlette_client import OAuth, OAuthError
from authlib.integrations.starlette_client.apps import StarletteOAuth2App
from fastapi import Request
from joserfc.errors import JoseError
from starlette.responses import RedirectResponse

from soleil_ui.errors import Forbidden, NotFound, UpstreamUnavailable
from soleil_ui.services.invites import Identity
from soleil_ui.settings import Settings, get_settings

try:  # authlib talks through httpx2 when it is installed (the MCP SDK brings it), else through httpx: catch both
    import httpx2

    HTTP_ERRORS: tuple[type[Exception], ...] = (httpx.HTTPError, httpx2.HTTPError)
except ImportError:  # pragma: no cover - httpx2 is always there with the MCP SDK
    HTTP_ERRORS = (httpx.HTTPError,)

log = logging.getLogger(__name__)
PROVIDER = "oidc"
SCOPES = "openid email profile"
CALLBACK_PATH = "/auth/callback"
STALE = "This sign-in didn't start here or has expired. Please sign in again."
REFUSED = "Your sign-in provider didn't accept this sign-in (it may have been used already). Please sign in again."
CANCELLED = "Sign-in was cancelled. You can try again whenever you like."
UNREACHABLE = "Google isn't answering right now. Please try again in a minute."
_clients: dict[tuple[str, str, str], StarletteOAuth2App] = {}


def provider(settings: Settings | None = None) -> StarletteOAuth2App:
    """The registered client for the configured provider (one per configuration, so metadata is fetched once)."""
    settings = settings or get_settings()
    if not settings.google_configured:
        raise NotFound("Google sign-in isn't set up on this server.")
    key = (settings.google_client_id, settings.google_client_secret, settings.oidc_metadata_url)
    client = _clients.get(key)
    if client is None:
        oauth = OAuth()
        client = oauth.register(name=PROVIDER, client_id=settings.google_client_id,
                                client_secret=settings.google_client_secret,
                                server_metadata_url=settings.oidc_metadata_url,
                                client_kwargs={"scope": SCOPES, "timeout": 15.0})
        _clients.clear()  # settings changed (tests, a restart with new values): forget the old provider
        _clients[key] = client
    return client


def callback_url(request: Request, settings: Settings | None = None) -> str:
    """Where the provider sends people back: SOLEIL_PUBLIC_URL when set (behind a proxy), else this request's base."""
    settings = settings or get_settings()
    base = settings.public_url.rstrip("/") if settings.public_url else str(request.base_url).rstrip("/")
    return base + CALLBACK_PATH


async def start(request: Request) -> RedirectResponse:
    """Redirect to the provider; authlib stores state and nonce in ``request.session``."""
    client = provider()
    try:
        response: RedirectResponse = await client.authorize_redirect(request, callback_url(request))
    except (*HTTP_ERRORS, AuthlibBaseError, RuntimeError, ValueError, KeyError) as exc:
        raise UpstreamUnavailable(UNREACHABLE, detail=f"OIDC discovery failed: {type(exc).__name__}: {exc}") from exc
    return response


async def finish(request: Request) -> Identity:
    """Complete the code flow and return who the provider vouched for (verification is judged by the service)."""
    client = provider()
    try:
        token: dict[str, Any] = await client.authorize_access_token(request)
    except OAuthError as exc:
        if exc.error == "mismatching_state":
            raise Forbidden(STALE, detail="OIDC callback with an unknown or used state") from exc
        if exc.error == "access_denied":
            raise Forbidden(CANCELLED, detail="OIDC sign-in cancelled at the provider") from exc
        raise Forbidden(REFUSED, detail=f"OIDC token endpoint refused: {exc.error}: {exc.description}") from exc
    except HTTP_ERRORS as exc:
        raise UpstreamUnavailable(UNREACHABLE, detail=f"OIDC provider unreachable: {exc!r}") from exc
    except (AuthlibBaseError, JoseError, ValueError, KeyError, TypeError) as exc:  # bad ID token: signature, nonce…
        raise Forbidden(REFUSED, detail=f"OIDC ID token rejected: {type(exc).__name__}: {exc}") from exc
    claims = dict(token.get("userinfo") or {})
    if not claims:
        raise Forbidden(REFUSED, detail="OIDC response without an ID token")
    if not claims.get("email"):  # some providers put the address only behind the userinfo endpoint
        try:
            extra = await client.userinfo(token=token)
        except (*HTTP_ERRORS, AuthlibBaseError, RuntimeError, ValueError, KeyError) as exc:
            raise UpstreamUnavailable(UNREACHABLE, detail=f"OIDC userinfo failed: {exc!r}") from exc
        if extra.get("sub") == claims.get("sub"):  # OIDC Core 5.3.2: must be the same person
            claims = {**extra, **claims}
    verified = claims.get("email_verified")
    return Identity(subject=str(claims.get("sub") or ""), email=str(claims.get("email") or ""),
                    email_verified=verified is True or str(verified).lower() == "true",
                    name=str(claims.get("name") or ""))
