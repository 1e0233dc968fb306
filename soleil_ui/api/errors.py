"""The one mapping from SOLEil's errors to the API's error shape: a status, a stable code and a plain message.

Codes never change once published (programs branch on them); messages may be reworded. Both the JSON API and the
MCP tools answer through here.
"""

from __future__ import annotations

from typing import Any

from ..errors import (
    BrokenFile,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    NotSignedIn,
    SoleilError,
    TooManyRequests,
    UpstreamUnavailable,
)

UNEXPECTED = "Something went wrong on our side. Nothing was lost; please try again."
# Most specific first: NotSignedIn is a Forbidden, BrokenFile is a 422 like InvalidInput.
CODES: tuple[tuple[type[SoleilError], str], ...] = (
    (NotSignedIn, "unauthorized"),
    (Forbidden, "forbidden"),
    (NotFound, "not_found"),
    (BrokenFile, "broken_file"),
    (InvalidInput, "invalid_input"),
    (Conflict, "conflict"),
    (UpstreamUnavailable, "unavailable"),
    (TooManyRequests, "rate_limited"),
)
ROUTE_NOT_FOUND = "not_found"
METHOD_NOT_ALLOWED = "method_not_allowed"
RATE_LIMITED = "rate_limited"  # the rate limiter (429 with Retry-After)


def code_for(exc: BaseException) -> tuple[int, str]:
    """HTTP status and stable code of an error; anything unexpected is a 500 ``internal``."""
    for kind, code in CODES:
        if isinstance(exc, kind):
            return exc.status_code, code
    return 500, "internal"


def body(code: str, message: str, request_id: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The one error shape: ``{"error": {"code", "message", "request_id"[, "details"]}}``."""
    error: dict[str, Any] = {"code": code, "message": message, "request_id": request_id}
    if details:
        error["details"] = details
    return {"error": error}


def headers_for(exc: BaseException) -> dict[str, str] | None:
    """HTTP headers an error's answer carries: when to try again after a limit, how to authenticate after a 401."""
    if isinstance(exc, TooManyRequests):
        return {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, NotSignedIn):
        return {"WWW-Authenticate": "Bearer"}
    return None


def describe(exc: BaseException, request_id: str) -> tuple[int, dict[str, Any]]:
    status, code = code_for(exc)
    message = exc.user_message if isinstance(exc, SoleilError) else UNEXPECTED
    return status, body(code, message, request_id)
