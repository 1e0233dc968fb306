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
    message_for,
    retry_headers,
)

INVALID_INPUT = "invalid_input"
# Most specific first: NotSignedIn is a Forbidden, BrokenFile is a 422 like InvalidInput.
CODES: tuple[tuple[type[SoleilError], str], ...] = (
    (NotSignedIn, "unauthorized"),
    (Forbidden, "forbidden"),
    (NotFound, "not_found"),
    (BrokenFile, "broken_file"),
    (InvalidInput, INVALID_INPUT),
    (Conflict, "conflict"),
    (UpstreamUnavailable, "unavailable"),
    (TooManyRequests, "rate_limited"),
)
METHOD_NOT_ALLOWED = "method_not_allowed"


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
    if isinstance(exc, NotSignedIn):
        return {"WWW-Authenticate": "Bearer"}
    return retry_headers(exc)


def describe(exc: BaseException, request_id: str) -> tuple[int, dict[str, Any]]:
    status, code = code_for(exc)
    return status, body(code, message_for(exc), request_id)
