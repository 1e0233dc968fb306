"""The one place where errors become words for a person and a line for the operator.

* Event handlers: ``ui.on_exception`` per page (installed by ``components.layout.page_frame``) shows a
  notification with the error's ``user_message``; anything unexpected gets a generic sentence.
* Page builds: ``app.on_page_exception`` renders a calm error page with no stack trace.
* HTTP routes: a FastAPI handler answers ``SoleilError`` with its status and message as plain text.
Every case logs one line with a request id the person can quote to the operator.
"""

from __future__ import annotations

import logging
import uuid

from fastapi import Request
from fastapi.responses import PlainTextResponse
from nicegui import app, ui
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response

from soleil_ui.errors import NotSignedIn, SoleilError, current_request_id, message_for, request_id, retry_headers

from . import design

log = logging.getLogger("soleil.errors")


def reference_for(exc: BaseException) -> str:
    """The id a person can quote: the request's id, remembered on the exception so every report agrees."""
    rid = getattr(exc, "soleil_reference", None)
    if rid is None:
        rid = current_request_id()
        try:
            exc.soleil_reference = rid  # type: ignore[attr-defined]
        except AttributeError:
            pass
    return rid


def log_error(exc: BaseException, where: str = "app") -> str:
    """One log line per error; unexpected ones carry their traceback for the operator only."""
    rid = reference_for(exc)
    if isinstance(exc, SoleilError):
        log.warning("[%s] %s: %s: %s", rid, where, type(exc).__name__, exc.detail)
    else:
        log.error("[%s] %s: unexpected %s", rid, where, type(exc).__name__, exc_info=exc)
    return rid


def notify_error(exc: BaseException) -> None:
    """Show an error from an event handler as a notification (used via ui.on_exception; logged by the app)."""
    rid = reference_for(exc)
    text = message_for(exc)
    if not isinstance(exc, SoleilError):
        text += f" (reference {rid})"
    ui.notify(text, type="negative", position="top", multi_line=True, close_button=True)


class RequestIdMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        token = request_id.set(request.headers.get("x-request-id", uuid.uuid4().hex[:8])[:32])
        try:
            response = await call_next(request)
            response.headers["X-Request-Id"] = request_id.get()
            return response
        finally:
            request_id.reset(token)


def error_content(exc: BaseException, *, heading: bool = False) -> None:
    """The calm explanation a person sees instead of a page: the message, a reference, a way on. ``heading``: the
    message is the page's level-one heading (a page with no frame, whose top bar would have one)."""
    rid = reference_for(exc)
    signed_out = isinstance(exc, NotSignedIn)
    with ui.column().classes("w-full items-center gap-4 p-8 text-center"):
        ui.icon("music_off" if not signed_out else "lock").classes("text-6xl text-grey-6")
        if heading:
            design.heading(message_for(exc)).classes("text-lg font-normal")
        else:
            ui.label(message_for(exc)).classes("text-lg")
        if not isinstance(exc, SoleilError):
            ui.label(f"Reference: {rid}").classes("text-sm text-grey-7")
        ui.button("Sign in" if signed_out else "Back to the start", on_click=lambda: ui.navigate.to(
            "/login" if signed_out else "/")).props("unelevated")


def status_for(exc: BaseException) -> int:
    return exc.status_code if isinstance(exc, SoleilError) else 500


def set_page_status(exc: BaseException) -> None:
    """Make the page being built answer the error's status (404 for a missing song, not NiceGUI's 500)."""
    client = ui.context.client
    client.status_code = status_for(exc)
    if client.request is not None:  # NiceGUI's error page ignores client.status_code; components.protect reads this
        client.request.state.soleil_status = status_for(exc)


def _error_page(exc: Exception) -> None:
    design.apply()  # the page failed before its frame set the colours
    set_page_status(exc)
    error_content(exc, heading=True)  # NiceGUI passes the exception on to app.on_exception, which logs it


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SoleilError)
    log_error(exc, f"{request.method} {request.url.path}")
    return PlainTextResponse(exc.user_message, status_code=exc.status_code, headers=retry_headers(exc))


def install() -> None:
    """Wire the mapping into the app; called once by the composition root."""
    app.add_middleware(RequestIdMiddleware)
    # NiceGUI's default handler logs every exception with a traceback; ours logs domain errors as one line.
    app._exception_handlers[:] = [log_error]
    app.on_page_exception(_error_page)
    app.add_exception_handler(SoleilError, _http_error)
