"""The pencil on the stand: strokes on chart pages, per layer, as each member may see and write them.

A stroke is immutable and carries an id its device made (a UUID), so a device can draw offline and send its strokes
later, as often as it likes: adding is idempotent by id, merging is a union, and a deletion is a tombstone that wins
over any add of the same id, before or after it. Who sees what (``AnnotationLayer``):

* *mine*: only the author, on every device of theirs (one chart, one part);
* *part*: everyone reading this chart in this part; any member but a substitute writes it;
* *band*: a leader's marks on one part, for everyone reading it;
* *song*: a leader's notes on the song ("cut to letter C"), shown as a line on every part's stand.

A *link* (tool ``link``) is a jump for repeats and D.S./D.C./coda: ``points`` are its source (the sign tapped, on
``page``) and its target, ``text`` the target's page; it is a mark like any other (layers, offline, moves).

Only the author or a leader deletes a shared mark; nobody else ever sees a private one. Substitutes read the shared
layers and write only their own. Events on the hub carry stroke ids only (NOTIFY caps a message near 8 KB); readers
fetch the strokes. A mark made on a PDF with another page count than the chart's file now is flagged "from an
earlier version" (``earlier``), never dropped; with the same page count it stays where it was. On an engraved part
the stroke keeps the *layout* it was drawn on (``layout_signature``: source checksum, part, key of the night, the
reader's key and octave, layout width); when the stand shows another layout (tonight's key, a new source, another
width) the mark is flagged the same way. A flagged mark can be *moved* (to another page and/or dragged): a move is a
copy with a new device-made id on the current file or layout, and a tombstone of the original that names its copy,
so a deletion of the original that arrives later still wins and takes the copy with it.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..access import Actor
from ..db import db
from ..engraving import EngraveSpec
from ..errors import Forbidden, InvalidInput
from ..events import Event, hub
from ..models import Annotation, AnnotationLayer, Chart, Song, utcnow
from ..rendering import snap_width
from ..runtime import get_runtime
from . import chart_pages, library

TOPIC = "annotations"
TOOLS = ("pen", "highlighter", "text", "stamp", "link")
STAMPS = ("breath", "fermata", "accent", "up-bow", "down-bow", "watch", "glasses", "cut-start", "cut-end",
          "pp", "p", "mp", "mf", "f", "ff")
MAX_BATCH = 100  # strokes (or deletions) in one request; also keeps an event's ids far below the NOTIFY cap
MAX_POINTS = 2000  # points in one stroke
MAX_PER_PAGE = 1000  # live strokes on one page of one part, all layers together
MAX_TEXT = 200
MAX_WIDTH = 0.1  # of the page width
MAX_LAYOUT = 600  # characters of an engraved page's query (the layout a mark is drawn on)
MOVED = "moved:"  # a moved stroke's tombstone keeps its copy's id in ``text``, so a later deletion follows it
COLOR = re.compile(r"^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$")
SHARED = (AnnotationLayer.PART, AnnotationLayer.BAND, AnnotationLayer.SONG)


@dataclass(frozen=True, slots=True)
class StrokeIn:
    """A stroke as a device sent it, checked."""

    id: str
    page: int
    layer: str
    tool: str
    color: str
    width: float
    points: list[list[float]]
    text: str


def _fail(message: str) -> InvalidInput:
    return InvalidInput(message, detail=f"annotation refused: {message}")


def stroke_id(value: object) -> str:
    """A device-made id: a UUID, in its canonical lower-case form."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise _fail("A mark's id isn't valid.") from None


def parse_stroke(data: Mapping[str, Any], page_count: int | None) -> StrokeIn:
    """Check one stroke (``InvalidInput`` with a plain reason); ``page_count`` bounds its page when known."""
    if not isinstance(data, Mapping):
        raise _fail("A mark isn't valid.")
    layer, tool = data.get("layer"), data.get("tool")
    if layer not in tuple(AnnotationLayer):
        raise _fail("A mark's layer must be mine, part, band or song.")
    if tool not in TOOLS:
        raise _fail(f"A mark's tool must be one of {', '.join(TOOLS)}.")
    page = data.get("page", 0)
    if type(page) is not int or page < 0 or (page_count and page >= page_count):
        raise _fail("A mark is on a page this chart doesn't have.")
    color = data.get("color", "#000000")
    if not isinstance(color, str) or not COLOR.match(color):
        raise _fail("A mark's colour must look like #rrggbb.")
    width = data.get("width", 0.003)
    if isinstance(width, bool) or not isinstance(width, int | float) or not 0 < width <= MAX_WIDTH:
        raise _fail("A mark's width must be above 0 and at most a tenth of the page.")
    raw = data.get("points") or []
    if not isinstance(raw, list) or len(raw) > MAX_POINTS:
        raise _fail(f"A mark can have at most {MAX_POINTS} points; draw it in several strokes.")
    points: list[list[float]] = []
    for point in raw:
        if not (isinstance(point, list | tuple) and len(point) == 2
                and all(isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 1 for v in point)):
            raise _fail("A mark's points must be page coordinates between 0 and 1.")
        points.append([round(float(point[0]), 5), round(float(point[1]), 5)])
    text = data.get("text", "")
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise _fail(f"A mark's text can be at most {MAX_TEXT} characters.")
    if tool in ("pen", "highlighter") and not points:
        raise _fail("A pen mark needs at least one point.")
    if tool in ("text", "stamp") and (len(points) != 1 and layer != AnnotationLayer.SONG):
        raise _fail("A text or stamp mark sits at one point.")
    if tool == "text" and not text.strip():
        raise _fail("A text mark needs some text.")
    if tool == "stamp" and text not in STAMPS:
        raise _fail("That stamp isn't one SOLEil knows.")
    if tool == "link" and (len(points) != 2 or not text.isdigit() or len(text) > 5
                           or (page_count and int(text) >= page_count)):
        raise _fail("A link goes from one point to one point on a page this chart has.")
    if layer == AnnotationLayer.SONG and tool != "text":
        raise _fail("A song note is text.")
    return StrokeIn(stroke_id(data.get("id")), page, str(layer), str(tool), color, float(width), points, text)


@dataclass(frozen=True, slots=True)
class Target:
    """The chart and part marks are drawn on (checked to be the member's band's)."""

    chart: Chart
    part_key: str
    layout: str = ""  # an engraved part's layout as the stand shows it (``layout_signature``); "" when unknown

    @property
    def chart_id(self) -> int:
        assert self.chart.id is not None
        return self.chart.id

    @property
    def page_count(self) -> int | None:
        """The pages a mark may be on: a PDF's; unknown for an engraved part (its layout depends on the reader)."""
        return None if library.is_generated(self.chart) else self.chart.page_count or None


def layout_spec(chart: Chart, layout: str) -> tuple[EngraveSpec, int]:
    """The drawing and the snapped width an engraved page's query asks for (junk: ``InvalidInput``)."""
    if len(layout) > MAX_LAYOUT:
        raise _fail("That page's layout isn't valid.")
    params = dict(parse_qsl(layout, keep_blank_values=True))
    width = params.pop("w", str(chart_pages.BASE_WIDTH))
    if not width.isdigit() or len(width) > 5:
        raise _fail("That page's layout isn't valid.")
    params.pop("v", None)
    return chart_pages.spec_from_params(chart, params), snap_width(int(width))


def default_layout(chart: Chart, part_key: str) -> str:
    """An engraved part's layout on a phone's stand in the file's own key: what a print without a layout uses."""
    spec = library.engrave_spec(chart, part_key or chart.part_key or "")
    return urlencode({"w": chart_pages.BASE_WIDTH, **spec.to_params()})


def layout_signature(chart: Chart, layout: str | None) -> str:
    """What an engraved page's drawing depends on, from the query of the page the stand shows (``w``, ``part``, the
    key of the night ``ck``, the reader's ``key``/``oct``/``clef``…): the source's checksum, the spec's cache key and
    the snapped width. Equal signatures draw equal pages (the page count follows from them), so a mark stays where it
    was drawn exactly when its signature is the stand's. "" for a PDF or when the stand said nothing."""
    if not layout or not library.is_generated(chart):
        return ""
    spec, width = layout_spec(chart, layout)
    return f"{chart.checksum[:16]}:{spec.cache_key()}:w{width}"


async def target(session: AsyncSession, actor: Actor, chart_id: int, part: str | None,
                 layout: str | None = None) -> Target:
    """The chart (``NotFound`` outside the member's band or reach) and the part its marks belong to: a PDF's own part;
    for an engraved chart the part asked for when the chart serves it, else its own, and the layout shown."""
    chart = await library.get_chart(session, actor, chart_id)
    if library.is_generated(chart) and part and part in library.served_parts(chart):
        return Target(chart, part, layout_signature(chart, layout))
    return Target(chart, chart.part_key or "", layout_signature(chart, layout))


def _drawn_on(where: Target) -> tuple[int, str]:
    """What a new stroke records of the file it is drawn on: a PDF's page count and checksum; an engraved part's
    layout signature (or the source's checksum when the stand didn't say)."""
    if library.is_generated(where.chart):
        return 0, where.layout or where.chart.checksum
    return where.chart.page_count, where.chart.checksum


def is_earlier(row: Annotation, where: Target) -> bool:
    """Drawn on another version than the one shown: a PDF with another page count; an engraved part in another
    layout (or, when the stand didn't say which layout it shows, from another source file)."""
    if row.layer == AnnotationLayer.SONG:
        return False
    if not library.is_generated(where.chart):
        return bool(row.chart_pages and row.chart_pages != where.chart.page_count)
    drawn = row.chart_checksum
    if not drawn:
        return False
    if where.layout and ":" in drawn:
        return drawn != where.layout
    return drawn.split(":", 1)[0][:16] != where.chart.checksum[:16]


def _visible(actor: Actor, where: Target) -> sa.ColumnElement[bool]:
    """Strokes this member sees on this chart and part: the shared ones, my own private ones, the song's notes."""
    on_part = sa.and_(col(Annotation.chart_id) == where.chart_id, col(Annotation.part_key) == where.part_key)
    return sa.or_(
        sa.and_(on_part, col(Annotation.layer).in_([AnnotationLayer.PART, AnnotationLayer.BAND])),
        sa.and_(on_part, col(Annotation.layer) == AnnotationLayer.MINE,
                col(Annotation.author_id) == actor.membership_id),
        sa.and_(col(Annotation.layer) == AnnotationLayer.SONG, col(Annotation.song_id) == where.chart.song_id)
        if where.chart.song_id is not None else sa.false(),
    )


def view(row: Annotation, actor: Actor, where: Target) -> dict[str, Any]:
    """A stroke as the stand draws it: ``mine`` (I may delete it), ``earlier`` (drawn on another version)."""
    earlier = is_earlier(row, where)
    return {"id": row.stroke_id, "page": row.page, "layer": row.layer, "tool": row.tool, "color": row.color,
            "width": row.width, "points": row.points, "text": row.text,
            "mine": row.author_id == actor.membership_id, "earlier": earlier,
            "editable": row.author_id == actor.membership_id or (actor.is_leader and row.layer in SHARED)}


async def list_strokes(session: AsyncSession, actor: Actor, chart_id: int, part: str | None = None, *,
                       page: int | None = None, ids: Sequence[str] | None = None,
                       layout: str | None = None) -> dict[str, Any]:
    """What the stand shows of a chart in a part (one page, or only ``ids`` after an event): live strokes visible to
    me, and the ids among them deleted (tombstones), so a device drops what it kept. ``layout`` is the engraved
    page's query the stand shows (marks drawn on another layout come flagged ``earlier``)."""
    where = await target(session, actor, chart_id, part, layout)
    query = select(Annotation).where(Annotation.band_id == actor.band_id, _visible(actor, where))
    if page is not None:
        query = query.where(sa.or_(col(Annotation.page) == page, col(Annotation.layer) == AnnotationLayer.SONG))
    if ids is not None:
        wanted = [stroke_id(i) for i in ids[:MAX_BATCH]]
        query = query.where(col(Annotation.stroke_id).in_(wanted))
    rows = (await session.exec(query.order_by(col(Annotation.id)))).all()
    return {"chart": where.chart_id, "part": where.part_key, "pages": where.page_count,
            "strokes": [view(r, actor, where) for r in rows if r.deleted_at is None],
            "deleted": [r.stroke_id for r in rows if r.deleted_at is not None]}


def _may_write(actor: Actor, layer: str) -> None:
    if layer == AnnotationLayer.MINE:
        return
    if actor.is_sub:
        raise Forbidden("As a substitute you can read the shared marks and write your own.")
    if layer in (AnnotationLayer.BAND, AnnotationLayer.SONG):
        actor.require_leader()


def _insert(session: AsyncSession, values: list[dict[str, Any]]) -> sa.Insert:
    """An insert that leaves rows whose (band, stroke id) already exists alone: a re-sent or racing add is a no-op,
    and an add never undoes a tombstone."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(Annotation).values(values).on_conflict_do_nothing(index_elements=["band_id", "stroke_id"])


async def _existing(session: AsyncSession, band_id: int, ids: Iterable[str]) -> dict[str, Annotation]:
    ids = list(ids)
    if not ids:
        return {}
    rows = await session.exec(select(Annotation).where(Annotation.band_id == band_id,
                                                       col(Annotation.stroke_id).in_(ids)))
    return {r.stroke_id: r for r in rows.all()}


def _announce(session: AsyncSession, actor: Actor, where: Target, layers: dict[str, list[str]]) -> None:
    """Tell open stands which strokes changed: private ones to their author's devices, shared ones to readers."""
    for private, ids in ((True, layers.get("private", [])), (False, layers.get("shared", []))):
        if ids:
            hub.publish_after_commit(session, Event(actor.band_id, TOPIC, {
                "chart": where.chart_id, "part": where.part_key, "song": where.chart.song_id, "ids": ids,
                "author": actor.membership_id if private else None}))


def notice_room(band_id: int, author: int | None = None) -> str:
    """The socket.io room that hears a band's mark notices: its shared marks' (every open stand of the band), or one
    member's private marks' (that member's pages only). The server alone puts a page in it, after the page guard."""
    return f"marks:{int(band_id)}" if author is None else f"marks:{int(band_id)}:{int(author)}"


def notice(band_id: int, payload: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """A hub event of ``TOPIC`` as a room hears it: ``(room, ids-only notice)``; None for a resync (each page
    re-reads by itself) or a malformed event."""
    author = payload.get("author")
    if payload.get("resync") or (author is not None and type(author) is not int):
        return None
    return notice_room(band_id, author), {k: payload.get(k) for k in ("chart", "part", "song", "ids")}


@dataclass(frozen=True, slots=True)
class MoveIn:
    """A move as a device sent it: the stroke ``id``, its copy's device-made id ``to``, the copy's page, and how far
    it was dragged (fractions of the page)."""

    id: str
    to: str
    page: int
    dx: float
    dy: float


def parse_move(data: Mapping[str, Any], page_count: int | None) -> MoveIn:
    """Check one move (``InvalidInput`` with a plain reason)."""
    if not isinstance(data, Mapping):
        raise _fail("A move isn't valid.")
    page = data.get("page", 0)
    if type(page) is not int or page < 0 or (page_count and page >= page_count):
        raise _fail("A mark can't move to a page this chart doesn't have.")
    shift = [data.get("dx", 0), data.get("dy", 0)]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and -1 <= v <= 1 for v in shift):
        raise _fail("A mark moves by at most a page's width or height.")
    old, new = stroke_id(data.get("id")), stroke_id(data.get("to"))
    if old == new:
        raise _fail("A moved mark needs a new id.")
    return MoveIn(old, new, page, float(shift[0]), float(shift[1]))


def _shifted(points: list[list[float]], dx: float, dy: float) -> list[list[float]]:
    """``points`` dragged by (dx, dy) and kept on the page: the whole mark slides until its edge meets the page's."""
    if not points:
        return points
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    dx = min(max(dx, -min(xs)), 1 - max(xs))
    dy = min(max(dy, -min(ys)), 1 - max(ys))
    return [[round(x + dx, 5), round(y + dy, 5)] for x, y in points]


def _moved_points(row: Annotation, m: MoveIn) -> list[list[float]]:
    """A moved mark's points; a link moves its source (where it is tapped) and keeps its target."""
    if row.tool == "link":
        return _shifted(row.points[:1], m.dx, m.dy) + row.points[1:]
    return _shifted(row.points, m.dx, m.dy)


def _row(actor: Actor, where: Target, **values: Any) -> dict[str, Any]:
    pages, drawn = _drawn_on(where)
    return {"band_id": actor.band_id, "chart_id": where.chart_id, "song_id": where.chart.song_id,
            "part_key": where.part_key, "author_id": actor.membership_id, "chart_pages": pages,
            "chart_checksum": drawn, "created_at": utcnow(), **values}


def _check_edit(actor: Actor, where: Target, row: Annotation) -> None:
    same_song = row.layer == AnnotationLayer.SONG and row.song_id == where.chart.song_id  # a note on every part
    if row.chart_id != where.chart_id and not same_song:
        raise _fail("That mark is on another chart.")
    if row.author_id != actor.membership_id and not (actor.is_leader and row.layer in SHARED):
        raise Forbidden("Only its author or a leader can change a shared mark.")


async def apply(session: AsyncSession, actor: Actor, chart_id: int, part: str | None, *,
                add: Sequence[Mapping[str, Any]] = (), delete: Sequence[object] = (),
                move: Sequence[Mapping[str, Any]] = (), layout: str | None = None) -> dict[str, Any]:
    """Add strokes (idempotent by id), move strokes and delete strokes (tombstones that win), in one unit of work,
    in that order (a device that drew, moved and erased offline sends all three in one batch).

    Refuses the whole request (a 4xx with a plain reason) when a stroke is malformed, on a layer the member may not
    write, or would take a page over ``MAX_PER_PAGE``. Returns the ids added (new, moves' copies included), the ids
    deleted (moves' originals included), and the ids ignored (already there, or already deleted)."""
    if len(add) + len(move) > MAX_BATCH or len(delete) > MAX_BATCH:
        raise _fail(f"Send at most {MAX_BATCH} marks at a time.")
    where = await target(session, actor, chart_id, part, layout)
    strokes = [parse_stroke(s, where.page_count) for s in add]
    moves = [parse_move(m, where.page_count) for m in move]
    for stroke in strokes:
        _may_write(actor, stroke.layer)
    known = await _existing(session, actor.band_id, [s.id for s in strokes])
    fresh = [s for s in dict((s.id, s) for s in strokes).values() if s.id not in known]
    await _check_room(session, actor, where, fresh)
    changed: dict[str, list[str]] = {"private": [], "shared": []}
    if fresh:
        await session.exec(_insert(session, [_row(
            actor, where, stroke_id=s.id, page=s.page, layer=s.layer, tool=s.tool, color=s.color, width=s.width,
            points=s.points, text=s.text) for s in fresh]))
        for s in fresh:
            changed["private" if s.layer == AnnotationLayer.MINE else "shared"].append(s.id)
    added = [s.id for s in fresh]
    ignored = [s.id for s in strokes if s.id in known]
    deleted: list[str] = []
    for m in moves:  # one at a time: a batch may move a mark, then move its copy back (undo)
        moved = await _move(session, actor, where, m)
        if moved is None:
            ignored.append(m.id)
            continue
        added.append(m.to)
        deleted.append(m.id)
        changed["private" if moved.layer == AnnotationLayer.MINE else "shared"] += [m.id, m.to]
    for sid in dict.fromkeys(stroke_id(i) for i in delete):
        gone = await _delete(session, actor, where, sid)
        if not gone:
            ignored.append(sid)
        for row in gone:
            deleted.append(row.stroke_id)
            changed["private" if row.layer == AnnotationLayer.MINE else "shared"].append(row.stroke_id)
    _announce(session, actor, where, changed)
    return {"added": added, "deleted": deleted, "ignored": ignored}


async def _move(session: AsyncSession, actor: Actor, where: Target, m: MoveIn) -> Annotation | None:
    """The stroke ``m.id`` copied as ``m.to`` onto ``m.page`` of the file or layout shown, dragged by (dx, dy), and
    the original tombstoned (naming its copy). None when there is nothing to do: the copy exists (a re-sent move, or
    another device moved it first) or the original is gone (a deletion wins)."""
    rows = await _existing(session, actor.band_id, [m.id, m.to])
    row = rows.get(m.id)
    if m.to in rows or row is None or row.deleted_at is not None:
        return None
    _check_edit(actor, where, row)
    if row.layer == AnnotationLayer.SONG:
        raise _fail("A song note has no place on a page to move.")
    await _check_room(session, actor, where, [StrokeIn(m.to, m.page, row.layer, row.tool, row.color, row.width,
                                                       [], row.text)])
    await session.exec(_insert(session, [_row(
        actor, where, stroke_id=m.to, page=m.page, layer=row.layer, tool=row.tool, color=row.color, width=row.width,
        points=_moved_points(row, m), text=row.text, author_id=row.author_id)]))
    row.deleted_at, row.deleted_by, row.points, row.text = utcnow(), actor.membership_id, [], MOVED + m.to
    session.add(row)
    return row


async def _delete(session: AsyncSession, actor: Actor, where: Target, sid: str) -> list[Annotation]:
    """Tombstone ``sid`` and, when it was moved, its copy (and theirs): a deletion wins over a concurrent move. A
    deletion of a stroke not seen yet leaves a tombstone for its add to meet. Returns the rows deleted now."""
    gone: list[Annotation] = []
    for _hop in range(50):
        row = (await _existing(session, actor.band_id, [sid])).get(sid)
        if row is None:
            if gone:
                break
            tombstone = _row(actor, where, stroke_id=sid, page=0, layer=AnnotationLayer.MINE, tool="pen",
                             color="#000000", width=0.003, points=[], text="")
            await session.exec(_insert(session, [{**tombstone, "deleted_at": tombstone["created_at"],
                                                  "deleted_by": actor.membership_id}]))
            return [Annotation(stroke_id=sid, layer=AnnotationLayer.MINE, band_id=actor.band_id,
                               chart_id=where.chart_id, tool="pen")]
        if row.deleted_at is None:
            _check_edit(actor, where, row)
            row.deleted_at, row.deleted_by, row.points = utcnow(), actor.membership_id, []
            session.add(row)
            gone.append(row)
        if not row.text.startswith(MOVED):
            break
        sid = row.text[len(MOVED):]
    return gone


async def _check_room(session: AsyncSession, actor: Actor, where: Target, fresh: Sequence[StrokeIn]) -> None:
    """Keep every page of a part under ``MAX_PER_PAGE`` live strokes (all layers)."""
    wanted: dict[int, int] = {}
    for s in fresh:
        if s.layer != AnnotationLayer.SONG:
            wanted[s.page] = wanted.get(s.page, 0) + 1
    if not wanted:
        return
    counts = dict((await session.exec(
        select(Annotation.page, func.count()).where(
            Annotation.band_id == actor.band_id, Annotation.chart_id == where.chart_id,
            Annotation.part_key == where.part_key, col(Annotation.page).in_(list(wanted)),
            col(Annotation.layer) != AnnotationLayer.SONG, col(Annotation.deleted_at).is_(None))
        .group_by(col(Annotation.page)))).all())
    for page, more in wanted.items():
        if counts.get(page, 0) + more > MAX_PER_PAGE:
            raise _fail(f"Page {page + 1} already has {counts.get(page, 0)} marks; a page holds at most "
                        f"{MAX_PER_PAGE}. Erase some first.")


async def forget_member(session: AsyncSession, band_id: int, membership_id: int) -> int:
    """A member leaves: their private marks go with them; their shared marks stay (authorless). Returns how many
    private marks were deleted."""
    result = await session.exec(sa.delete(Annotation).where(
        col(Annotation.band_id) == band_id, col(Annotation.author_id) == membership_id,
        col(Annotation.layer) == AnnotationLayer.MINE))
    return int(result.rowcount or 0)



async def marked_pdf(actor: Actor, chart_id: int, part: str | None = None, *, layout: str | None = None,
                     marks: bool = True) -> tuple[bytes, str]:
    """The chart to print with the marks I see (mine and the shared ones) drawn in and the song's notes on page 1
    (``marks=False``: without them), and the song's title. A PDF is its own file; an engraved part is laid out as the
    stand showed it (``layout``, default: a phone's stand in the file's key), so its marks land where they were drawn.
    Marks flagged "from an earlier version" stay out: their place on this file or layout is unknown. The database is
    read first and let go; engraving and drawing run in the worker pools."""
    async with db.session() as session:
        where = await target(session, actor, chart_id, part)
        chart = where.chart
        if library.is_generated(chart):
            layout = layout or default_layout(chart, where.part_key)
        listed = await list_strokes(session, actor, chart_id, part, layout=layout) if marks else {"strokes": []}
        song = await session.get(Song, chart.song_id) if chart.song_id else None
    title = song.title if song is not None else chart.file_name.rsplit(".", 1)[0]
    drawn = [s for s in listed["strokes"] if s["layer"] != AnnotationLayer.SONG and not s["earlier"]]
    notes = [s["text"] for s in listed["strokes"] if s["layer"] == AnnotationLayer.SONG]
    runtime = get_runtime()
    checksum = chart.checksum

    async def load() -> bytes:
        return await runtime.blobs.read(checksum)

    if not library.is_generated(chart):
        return await runtime.renderer.marked_pdf(await load(), drawn, notes), title
    spec, width = layout_spec(chart, layout or "")
    paths = await runtime.engraver.pages(checksum, spec, width, load)
    svgs = await asyncio.to_thread(lambda: [p.read_text(encoding="utf-8") for p in paths])
    return await runtime.renderer.marked_svg_pdf(svgs, drawn, notes, title), title


async def song_notes(session: AsyncSession, actor: Actor, song_ids: Iterable[int]) -> dict[int, list[str]]:
    """The leaders' song notes ("cut to letter C") of these songs of the member's band, oldest first: the stage
    print writes them under each title."""
    ids = list(set(song_ids))
    if not ids:
        return {}
    rows = await session.exec(select(Annotation).where(
        Annotation.band_id == actor.band_id, Annotation.layer == AnnotationLayer.SONG,
        col(Annotation.song_id).in_(ids), col(Annotation.deleted_at).is_(None)).order_by(col(Annotation.id)))
    found: dict[int, list[str]] = {}
    for row in rows.all():
        if row.song_id is not None:
            found.setdefault(row.song_id, []).append(row.text)
    return found
