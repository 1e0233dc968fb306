"""What every HTTP answer passes through: security headers, bounds on open pages, and honest status codes.

* **Headers** on every answer: ``X-Content-Type-Options``, ``Referrer-Policy``, ``X-Frame-Options`` and, on HTML,
  the Content-Security-Policy below; ``Strict-Transport-Security`` when the request came over HTTPS (directly or
  through a trusted proxy, see ``main.py``). An answer that sets its own policy (engraved SVG) keeps it.
* **Open pages are bounded.** Each page load builds a server-side client that lives on until its browser leaves
  (or a minute, if none ever connects). A page load over ``SOLEIL_MAX_CLIENTS`` in total answers 503, over
  ``SOLEIL_MAX_CLIENTS_PER_ACCOUNT`` for one account (or ``SOLEIL_MAX_CLIENTS_PER_ADDRESS`` signed-out pages for
  one address) 429, both with ``Retry-After`` and before anything is built. Signed-out page loads are also
  rate-limited per address. The bounds are per instance (clients live in one process).
* **Status codes of pages**: NiceGUI answers every page that raised with 500. A refusal or a missing thing
  (``SoleilError``) answers its own status (404, 403…), recorded by ``components.errors``; a page NiceGUI gave up
  on (not built within its response timeout, or its client deleted meanwhile) answers 503 with ``Retry-After``.
"""

from __future__ import annotations

import html
import logging
import re

from cachetools import TTLCache
from nicegui import Client
from starlette.datastructures import MutableHeaders
from starlette.responses import HTMLResponse
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from soleil_ui import ratelimit
from soleil_ui.errors import NotSignedIn, TooManyRequests, retry_headers
from soleil_ui.security import hash_token
from soleil_ui.services import auth, work
from soleil_ui.settings import get_settings

from .session import SESSION_KEY

log = logging.getLogger(__name__)

# NiceGUI renders with inline scripts and Vue compiles its templates in the browser (eval), so script-src needs
# 'unsafe-inline' 'unsafe-eval'; everything else is this origin only (the page's websocket included).
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; font-src 'self' data:; "
       "worker-src 'self'; manifest-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'; "
       "form-action 'self'")
HEADERS = {"x-content-type-options": "nosniff", "referrer-policy": "same-origin", "x-frame-options": "DENY"}
HSTS = "max-age=31536000"
STATUS_KEY, ACCOUNT_KEY, ADDRESS_KEY = "soleil_status", "soleil_account", "soleil_address"
BUSY_RETRY = 30  # seconds: about how long an abandoned page takes to be let go
TIMEOUT_RETRY = 5

_accounts: TTLCache[str, int | None] = TTLCache(maxsize=20_000, ttl=300)  # session token hash -> account
_page_patterns: tuple[int, list[re.Pattern[str]]] = (0, [])


def _is_page(path: str) -> bool:
    """True if ``path`` is one of NiceGUI's pages. Its routes are registered at import and start-up, so the patterns
    are compiled again only when their number changes, not on every request."""
    global _page_patterns
    if _page_patterns[0] != len(Client.page_routes):
        _page_patterns = (len(Client.page_routes), [compile_path(p)[0] for p in set(Client.page_routes.values())])
    return any(p.match(path) for p in _page_patterns[1])


async def _account(token: str) -> int | None:
    key = hash_token(token)
    if key not in _accounts:
        try:
            _accounts[key] = (await work.before_actor(auth.resolve, token)).user_id
        except NotSignedIn:
            _accounts[key] = None
    return _accounts[key]


def _count(key: str, value: object) -> int:
    return sum(1 for c in list(Client.instances.values())
               if c.request is not None and c.request.scope.get("state", {}).get(key) == value)


async def _admit_page(scope: Scope) -> None:
    """Refuse a page load over the bounds (raises ``TooManyRequests``); tag the request with whose page it is."""
    settings = get_settings()
    if len(Client.instances) >= settings.max_clients:
        raise TooManyRequests(BUSY_RETRY, busy=True, detail=f"{len(Client.instances)} open pages")
    state = scope.setdefault("state", {})
    token = scope.get("session", {}).get(SESSION_KEY)
    account = await _account(token) if isinstance(token, str) else None
    if account is not None:
        state[ACCOUNT_KEY] = account
        if _count(ACCOUNT_KEY, account) >= settings.max_clients_per_account:
            raise TooManyRequests(BUSY_RETRY, detail=f"account {account} has too many open pages")
        return
    address = scope["client"][0] if scope.get("client") else "unknown"
    await ratelimit.hit("anonymous_pages", f"ip:{address}")
    state[ADDRESS_KEY] = address
    if _count(ADDRESS_KEY, address) >= settings.max_clients_per_address:
        raise TooManyRequests(BUSY_RETRY, detail=f"{address} has too many signed-out pages open")


def busy_page(exc: TooManyRequests) -> HTMLResponse:
    """A calm page for a refused page load, with Retry-After (NiceGUI builds nothing for it)."""
    text = html.escape(exc.user_message)
    return HTMLResponse(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width, initial-scale=1"><title>Busy · SOLEil</title></head>'
        f'<body style="font:16px/1.5 system-ui,sans-serif;max-width:480px;margin:3em auto;padding:0 16px">'
        f'<h1>One moment</h1><p id="message">{text}</p><p><a href="">Try again</a></p></body></html>',
        status_code=exc.status_code, headers=retry_headers(exc))


class ProtectMiddleware:
    """Security headers on every answer; bounds and honest statuses for NiceGUI pages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        page = scope["method"] in ("GET", "HEAD") and _is_page(scope["path"])
        state = scope.setdefault("state", {})

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                if page:
                    recorded = state.get(STATUS_KEY)
                    if recorded:
                        message["status"] = recorded
                    elif message["status"] == 500:  # NiceGUI's own terminal page: timed out, or client gone
                        message["status"] = 503
                        MutableHeaders(scope=message)["retry-after"] = str(TIMEOUT_RETRY)
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("content-security-policy", CSP)
                if https:
                    headers.setdefault("strict-transport-security", HSTS)
            await send(message)

        if page:
            try:
                await _admit_page(scope)
            except TooManyRequests as exc:
                log.warning("page load refused: %s", exc.detail)
                await busy_page(exc)(scope, receive, send_with_headers)
                return
        await self.app(scope, receive, send_with_headers)


class SecureCookiesMiddleware:
    """Mark cookies ``Secure`` on requests that came over HTTPS, also when only a trusted proxy knows it (Starlette's
    session middleware decides once, at start-up, from ``SOLEIL_PUBLIC_URL`` or the TLS settings)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("scheme") != "https":
            await self.app(scope, receive, send)
            return

        async def send_secure(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (k, v + b"; secure" if k.lower() == b"set-cookie" and b"secure" not in v.lower() else v)
                    for k, v in message["headers"]]
            await send(message)

        await self.app(scope, receive, send_secure)
