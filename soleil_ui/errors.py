"""One hierarchy of domain errors.

Services raise these; ``message_for`` is the one mapping of an error to the words a person sees (pages, the
API and MCP alike), and ``retry_headers`` the one ``Retry-After``. ``user_message`` is safe to show to a person:
it never carries internal detail, which goes to the log instead. ``request_id`` is the id of the request being
answered (set by ``components.errors.RequestIdMiddleware``), the reference a person can quote to the operator.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar

UNEXPECTED = "Something went wrong on our side. Nothing was lost; please try again."
request_id: ContextVar[str] = ContextVar("request_id", default="-")


class SoleilError(Exception):
    """Base of every error a person may be told about."""

    status_code = 500
    default_message = "Something went wrong. Nothing was lost; please try again."

    def __init__(self, user_message: str | None = None, *, detail: str | None = None) -> None:
        self.user_message = user_message or self.default_message
        self.detail = detail or self.user_message
        super().__init__(self.detail)


class NotFound(SoleilError):
    status_code = 404
    default_message = "That could not be found. It may have been removed."


class Forbidden(SoleilError):
    status_code = 403
    default_message = "You don't have access to that."


class NotSignedIn(Forbidden):
    status_code = 401
    default_message = "Please sign in."


class InvalidInput(SoleilError):
    status_code = 422
    default_message = "That input isn't valid."


class Conflict(SoleilError):
    status_code = 409
    default_message = "That changed while you were editing it. Please look again."


class TooManyRequests(SoleilError):
    """A rate limit or a bound on open pages was reached; ``retry_after`` says when trying again will work."""

    status_code = 429

    def __init__(self, retry_after: int, *, busy: bool = False, detail: str | None = None) -> None:
        self.retry_after = max(1, int(retry_after))
        if busy:  # the whole server is at its bound, not this person
            self.status_code = 503
            message = f"SOLEil is very busy right now. Please try again in {self.retry_after} s."
        else:
            message = f"That was a lot of requests in a short time. Please try again in {self.retry_after} s."
        super().__init__(message, detail=detail)


class UpstreamUnavailable(SoleilError):
    """Google, the database or another service we depend on did not answer as expected."""

    status_code = 503
    default_message = "A service SOLEil depends on isn't answering right now. Charts already synced still work."


class BrokenFile(SoleilError):
    """A library file we cannot use; the message names the reason in plain words."""

    status_code = 422
    default_message = "This file can't be read."


class ConfigError(SoleilError):
    """A bad setting; start-up stops with one clear line naming the variable."""

    status_code = 500


def message_for(exc: BaseException) -> str:
    """What a person is told about an error: its own message, or a calm sentence for a surprise (never internals)."""
    return exc.user_message if isinstance(exc, SoleilError) else UNEXPECTED


def retry_headers(exc: BaseException) -> dict[str, str] | None:
    """``Retry-After`` for a rate limit or a busy server (when trying again will work); None for other errors."""
    return {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None


def current_request_id() -> str:
    """The id of the request being answered; a fresh one outside a request (a background task, a test)."""
    rid = request_id.get()
    return uuid.uuid4().hex[:8] if rid == "-" else rid
