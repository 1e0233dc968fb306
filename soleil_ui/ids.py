"""What an id or a number from a URL may be: the one check every route uses, so no hostile value reaches the
database (an id beyond 64 bits used to end in an OverflowError and a 500)."""

from __future__ import annotations

from collections.abc import Iterable

from .errors import InvalidInput

MAX_ID = 2**31 - 1  # ids are INTEGER columns: PostgreSQL's INTEGER stops here (SQLite's at 2**63 - 1)
MAX_DIGITS = 9  # a path id has at most 9 digits, so it always fits under MAX_ID
MAX_TEXT = 200  # the longest free text a query string may carry (a part name, a search)


def parse_id(text: str) -> int:
    """A database id from text, or ``InvalidInput``."""
    if not (text.isascii() and text.isdigit() and len(text) <= 12 and int(text) <= MAX_ID):
        raise InvalidInput("That isn't a valid number.", detail=f"bad id {text[:40]!r}")
    return int(text)


def parse_ids(texts: Iterable[str], limit: int = 50) -> list[int]:
    """Ids from a repeated query parameter (``?id=3&id=7``), at most ``limit``."""
    return [parse_id(t) for t in list(texts)[:limit]]


def bounded_text(text: str, limit: int = MAX_TEXT) -> str:
    """Free text from a URL, refused when longer than anything we'd ever show or match."""
    if len(text) > limit:
        raise InvalidInput("That request is too long.", detail=f"{len(text)} characters")
    return text
