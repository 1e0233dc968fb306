"""The API's JSON shapes (pydantic): what ``calls`` return, what OpenAPI documents and what MCP tools answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from ..ids import MAX_ID

T = TypeVar("T")
# An id a program sends (body, MCP tool argument): bounded like every id in a URL (soleil_ui.ids), so a huge one is
# invalid input, never an overflow in the database.
Id = Annotated[int, Field(ge=0, le=MAX_ID)]
MAX_LIMIT = 100
DEFAULT_LIMIT = 25


class Paged(BaseModel, Generic[T]):
    """One page of a longer list: ask again with ``offset=next_offset`` until it is null."""

    items: list[T]
    total: int
    offset: int
    limit: int
    next_offset: int | None


def paged(items: list[Any], total: int, offset: int, limit: int) -> dict[str, Any]:
    return {"items": items, "total": total, "offset": offset, "limit": limit,
            "next_offset": offset + limit if offset + limit < total else None}


class Me(BaseModel):
    name: str
    band_id: int
    band: str
    role: str
    instruments: list[dict[str, Any]]
    scope: str
    token_id: int


class Member(BaseModel):
    membership_id: int
    name: str
    role: str
    instruments: list[dict[str, Any]]


class PartFilter(BaseModel):
    key: str  # pass as ``part`` to /songs; "mine" is "in my part"
    label: str


class MyPart(BaseModel):
    """The chart a member should open for a song, which part of it, and why (the same choice as their stand)."""

    chart_id: int | None
    part_key: str | None
    part_label: str
    quality: str  # chair | instrument | transposition | nearest | none
    playable: bool  # a chart in my part, not just something I could read
    generated: bool  # engraved from a MusicXML or ChordPro file
    explanation: str
    key_of_the_night: str | None = None
    pages: list[PageImage] | None = None


class PageImage(BaseModel):
    url: str  # GET it with the same bearer token
    width: int
    height: int


class SongSummary(BaseModel):
    id: int
    title: str
    my_part: MyPart


class PartOption(BaseModel):
    chart_id: int
    part_key: str
    label: str
    generated: bool
    kind: str
    page_count: int | None
    source: str | None
    file_name: str


class Song(BaseModel):
    id: int
    title: str
    musical_key: str | None
    duration_seconds: int | None
    last_played_at: datetime | None
    my_part: MyPart
    parts: list[PartOption]
    recordings: int


class Played(BaseModel):
    played_at: datetime
    gig_id: int | None
    gig_title: str | None


class LastPlayed(BaseModel):
    song_id: int
    title: str
    last_played_at: datetime | None  # null: never played (at a gig or called live)
    days_ago: int | None


class SetlistSummary(BaseModel):
    id: int
    name: str
    version: int
    updated_at: datetime


class Entry(BaseModel):
    item_id: int
    position: int
    number: int  # the song's number in the whole list (breaks: 0)
    is_break: bool
    title: str  # the song's title, or the break's label
    song_id: int | None
    notes: str
    musical_key: str | None  # the key of the night
    duration_seconds: int | None


class SetSummary(BaseModel):
    label: str
    break_item_id: int | None
    songs: int
    seconds: int
    running_time: str  # "47:30"
    songs_without_duration: int  # the running time is then a lower bound


class Setlist(SetlistSummary):
    entries: list[Entry]
    sets: list[SetSummary]
    total_seconds: int


class SetlistIn(BaseModel):
    name: str = Field(max_length=120)


class Op(BaseModel):
    """One edit, exactly as the setlist editor sends it (see ``soleil_ui.services.setlists``).

    ``insert``: ``values`` ``{"song_id", "notes", "musical_key", "duration_seconds"}`` or ``{"is_break": true,
    "label"}``, placed right after ``after_id`` (else at ``index``, else at the end). ``move``: ``item_id`` to after
    ``after_id`` / ``index``. ``remove``: ``item_id``. ``edit``: ``item_id`` with ``values`` among ``label`` (breaks),
    ``notes``, ``musical_key``, ``duration_seconds``. ``rename``: ``values`` ``{"name"}``. ``key``: your id for the
    operation, so a retried request is applied once."""

    kind: Literal["insert", "move", "remove", "edit", "rename"]
    item_id: Id | None = None
    after_id: Id | None = None
    index: int | None = Field(default=None, ge=0)
    values: dict[str, Any] = Field(default_factory=dict)
    key: str | None = Field(default=None, max_length=64)


class OpsIn(BaseModel):
    ops: list[Op] = Field(min_length=1, max_length=50)


class OpResult(BaseModel):
    version: int
    effective: bool  # false: nothing to change (e.g. the entry was already removed)
    item_id: int | None
    replayed: bool


class OpsOut(BaseModel):
    results: list[OpResult]
    setlist: Setlist


class Answer(BaseModel):
    membership_id: int
    name: str
    role: str
    status: str | None


class Gig(BaseModel):
    id: int
    title: str
    starts_at: datetime
    ends_at: datetime | None
    load_in_at: datetime | None
    venue: str
    address: str
    dress_code: str
    notes: str
    setlist_id: int | None
    my_answer: str | None


class GigDetail(Gig):
    answers: list[Answer] | None  # everyone's answer: leaders only


class AvailabilityIn(BaseModel):
    status: Literal["yes", "no", "maybe"]


class Live(BaseModel):
    live: bool
    live_id: int | None = None
    setlist_id: int | None = None
    setlist_name: str | None = None
    current_item_id: int | None = None
    current_title: str | None = None
    seq: int | None = None
    started_at: datetime | None = None
    gig_id: int | None = None


class LiveStartIn(BaseModel):
    setlist_id: Id
    item_id: Id | None = None


class CallIn(BaseModel):
    """Call a song: ``item_id`` (a setlist entry), or ``step`` songs on from the current one (1 next, -1 back)."""

    item_id: Id | None = None
    step: int = Field(default=0, ge=-250, le=250)


MyPart.model_rebuild()
