"""URL parameters every route shares: ``{x:id}`` in a path and ``QueryId`` / ``QueryInt`` / ``QueryText`` in a
query. A value that can't be an id is a 404 (path) or 422 (query), never an overflow in the database.

The JSON API keeps plain ``{song_id}`` paths (its OpenAPI document says "integer") and bounds them with ``PathId`` /
``PathInt``: a huge, negative or odd id is the API's JSON 422, not a page's 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from starlette.convertors import Convertor, register_url_convertor

from soleil_ui.ids import MAX_DIGITS, MAX_ID, MAX_TEXT


class IdConvertor(Convertor[int]):
    """``/songs/{song_id:id}``: only 1 to 9 digits match, so a huge, negative or odd id finds no route (404)."""

    regex = f"[0-9]{{1,{MAX_DIGITS}}}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", IdConvertor())

PathId = Annotated[int, Path(ge=0, le=MAX_ID)]
PathInt = Annotated[int, Path(ge=0, le=100_000)]  # a page number
QueryId = Annotated[int, Query(ge=0, le=MAX_ID)]
QueryInt = Annotated[int, Query(ge=0, le=100_000)]  # pages, widths, counts
QueryText = Annotated[str, Query(max_length=MAX_TEXT)]
MaybeQueryId = Annotated[int | None, Query(ge=0, le=MAX_ID)]
MaybeQueryText = Annotated[str | None, Query(max_length=MAX_TEXT)]
