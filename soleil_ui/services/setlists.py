"""Setlists: ordered songs and set breaks, edited as *operations* applied in one order on the server.

Two leaders editing at once both keep their edits because nobody sends a whole list: each edit is an ``Op``
(insert, move, remove, edit, rename) that names entries by id. ``apply_op`` takes the setlist's row lock
(``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the first statement is a write, which takes the database's
write lock the way ``BEGIN IMMEDIATE`` does, waiting up to the busy timeout), applies the op to the list *as it
is now*, bumps ``Setlist.version`` by one and records the op in ``setlist_op`` under that version. Versions
therefore never fork, and the history accounts for every operation exactly once (a retried request with the
same ``Op.key`` is recognised and not applied again).

An op that refers to something that changed meanwhile still does the sensible thing: "move after X" falls back
to the index the sender saw (clamped) when X is gone; removing or editing an entry that is already gone is
recorded as a no-op (``effective`` false). Every effective op stores its inverse, so ``undo`` walks the history
back one change at a time (even mid-gig), as a new operation of its own.

After the commit, ``setlist:{id}`` gets ``{"version": n}`` on the hub; open pages re-read and update in place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlmodel import col, delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from ..access import Actor
from ..errors import Conflict, InvalidInput, NotFound
from ..events import Event, hub
from ..models import AudioTrack, Gig, Membership, Setlist, SetlistItem, SetlistOp, Song, User, utcnow
from . import recordings, song_scope
from .validation import clean_text

MAX_ITEMS = 250
MAX_DURATION = 3 * 3600
LIST_TOPIC = "setlists"  # the band's list of setlists changed (created, renamed, duplicated, deleted)
EDITABLE = ("label", "notes", "musical_key", "duration_seconds")
KINDS = ("insert", "move", "remove", "edit", "rename")
_KEY = re.compile(r"^([A-Ga-g])\s*(#|♯|b|♭|sharp|flat)?\s*(m|min|minor|maj|major)?$", re.IGNORECASE)


def topic(setlist_id: int) -> str:
    return f"setlist:{setlist_id}"


# --- operations -----------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Op:
    """One edit. Build with the class methods; ``key`` is the sender's id for it (retries apply once)."""

    kind: str
    item_id: int | None = None
    after_id: int | None = None  # insert/move: right after this entry, while it is still in the list …
    index: int | None = None  # … else at this index (clamped); neither: at the end
    values: Mapping[str, Any] = field(default_factory=dict)
    key: str | None = None

    @classmethod
    def insert_song(cls, song_id: int, *, after_id: int | None = None, index: int | None = None, notes: str = "",
                    musical_key: str | None = None, duration_seconds: int | None = None,
                    key: str | None = None) -> Op:
        return cls("insert", after_id=after_id, index=index, key=key, values={
            "song_id": song_id, "notes": notes, "musical_key": musical_key, "duration_seconds": duration_seconds})

    @classmethod
    def insert_break(cls, label: str, *, after_id: int | None = None, index: int | None = None,
                     key: str | None = None) -> Op:
        return cls("insert", after_id=after_id, index=index, key=key, values={"is_break": True, "label": label})

    @classmethod
    def move(cls, item_id: int, *, after_id: int | None = None, index: int | None = None,
             key: str | None = None) -> Op:
        return cls("move", item_id=item_id, after_id=after_id, index=index, key=key)

    @classmethod
    def remove(cls, item_id: int, *, key: str | None = None) -> Op:
        return cls("remove", item_id=item_id, key=key)

    @classmethod
    def edit(cls, item_id: int, *, key: str | None = None, **changes: Any) -> Op:
        return cls("edit", item_id=item_id, values=changes, key=key)

    @classmethod
    def rename(cls, name: str, *, key: str | None = None) -> Op:
        return cls("rename", values={"name": name}, key=key)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind}
        for name in ("item_id", "after_id", "index", "key"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        if self.values:
            data["values"] = dict(self.values)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Op:
        kind = data.get("kind")
        if kind not in KINDS:
            raise InvalidInput("That change isn't one SOLEil knows.")

        def number(name: str) -> int | None:
            value = data.get(name)
            if value is None:
                return None
            if type(value) is not int:
                raise InvalidInput("That change refers to an entry SOLEil doesn't know.")
            return value

        values = data.get("values") or {}
        if not isinstance(values, Mapping):
            raise InvalidInput("That change isn't one SOLEil knows.")
        key = data.get("key")
        return cls(str(kind), number("item_id"), number("after_id"), number("index"), dict(values),
                   str(key)[:64] if key else None)


@dataclass(frozen=True, slots=True)
class OpResult:
    version: int
    effective: bool  # False: nothing to change (e.g. the entry was already removed)
    item_id: int | None  # the entry the op created or touched
    replayed: bool = False  # an op with this key was applied before; this is that earlier result


# --- reading --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SetlistEntry:
    item_id: int
    position: int
    is_break: bool
    label: str  # song title, or the break's label
    song_id: int | None
    notes: str
    musical_key: str | None
    duration_seconds: int | None = None  # what counts for the running time: typed, else the song's or recording's
    typed_duration: int | None = None  # typed for this entry
    number: int = 0  # the song's number in the whole list (breaks: 0)


@dataclass(frozen=True, slots=True)
class SetSummary:
    label: str  # "Set 1", "Encore"… (songs before any break form an unnamed first set: "Set 1")
    break_item_id: int | None
    songs: int
    seconds: int
    unknown: int  # songs whose duration isn't known (the running time is then a lower bound)


def format_duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def parse_duration(text: str | None) -> int | None:
    """``"3:45"``, ``"225"`` or ``"1:02:00"`` as seconds; empty is None."""
    value = (text or "").strip()
    if not value:
        return None
    parts = value.split(":")
    if len(parts) > 3 or not all(p.strip().isdigit() for p in parts):
        raise InvalidInput("Type a duration like 3:45.")
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + int(part)
    return _clean_duration(seconds)


def sets_of(entries: Sequence[SetlistEntry]) -> list[SetSummary]:
    """The sets and each one's running time. Songs before the first break make an unnamed "Set 1"."""
    result: list[SetSummary] = []
    label, break_id, songs, seconds, unknown = "Set 1", None, 0, 0, 0
    for entry in entries:
        if entry.is_break:
            if songs or break_id is not None:
                result.append(SetSummary(label, break_id, songs, seconds, unknown))
            label, break_id, songs, seconds, unknown = entry.label, entry.item_id, 0, 0, 0
            continue
        songs += 1
        if entry.duration_seconds is None:
            unknown += 1
        else:
            seconds += entry.duration_seconds
    if songs or break_id is not None:
        result.append(SetSummary(label, break_id, songs, seconds, unknown))
    return result


async def list_setlists(session: AsyncSession, actor: Actor) -> list[Setlist]:
    query = select(Setlist).where(Setlist.band_id == actor.band_id).order_by(col(Setlist.updated_at).desc())
    if actor.is_sub:
        query = query.where(Setlist.id == (await song_scope.sub_setlist_id(session, actor) or 0))
    return list((await session.exec(query)).all())


async def get_setlist(session: AsyncSession, actor: Actor, setlist_id: int) -> Setlist:
    setlist = await session.get(Setlist, setlist_id)
    if setlist is None or setlist.band_id != actor.band_id or (
            actor.is_sub and setlist_id != await song_scope.sub_setlist_id(session, actor)):
        raise NotFound("That setlist doesn't exist.")
    return setlist


async def entries(session: AsyncSession, actor: Actor, setlist_id: int) -> list[SetlistEntry]:
    await get_setlist(session, actor, setlist_id)
    return await entries_of(session, actor.band_id, setlist_id)


async def entries_of(session: AsyncSession, band_id: int, setlist_id: int) -> list[SetlistEntry]:
    """The entries of a setlist the caller has already checked (``get_setlist``) the member may see."""
    query = (select(SetlistItem, Song).join(Song, col(Song.id) == SetlistItem.song_id, isouter=True)
             .where(SetlistItem.setlist_id == setlist_id, SetlistItem.band_id == band_id)
             .order_by(col(SetlistItem.position), col(SetlistItem.id)))
    rows = (await session.exec(query)).all()
    song_ids = [s.id for _, s in rows if s is not None and s.id is not None and s.duration_seconds is None]
    recorded: dict[int, int] = {}
    if song_ids:
        tracks = select(AudioTrack.song_id, sa.func.max(AudioTrack.duration_seconds)).where(
            AudioTrack.band_id == band_id, col(AudioTrack.song_id).in_(song_ids)).group_by(col(AudioTrack.song_id))
        recorded = {sid: sec for sid, sec in (await session.exec(tracks)).all() if sid is not None and sec}
    result, number = [], 0
    for item, song in rows:
        assert item.id is not None
        if item.is_break:
            result.append(SetlistEntry(item.id, item.position, True, item.label, None, item.notes, None))
            continue
        number += 1
        known = song.duration_seconds or recorded.get(song.id or 0) if song else None
        result.append(SetlistEntry(item.id, item.position, False, song.title if song else "(removed song)",
                                   item.song_id, item.notes, item.musical_key,
                                   item.duration_seconds or known, item.duration_seconds, number))
    return result


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    version: int
    kind: str
    summary: str
    who: str
    at: datetime
    effective: bool
    undone: bool


async def history(session: AsyncSession, actor: Actor, setlist_id: int, *, limit: int = 30) -> list[HistoryEntry]:
    """The latest changes, newest first, with who made them."""
    await get_setlist(session, actor, setlist_id)
    query = (select(SetlistOp, User.name).join(Membership, col(Membership.id) == SetlistOp.membership_id,
                                               isouter=True)
             .join(User, col(User.id) == Membership.user_id, isouter=True)
             .where(SetlistOp.setlist_id == setlist_id, SetlistOp.band_id == actor.band_id)
             .order_by(col(SetlistOp.version).desc()).limit(min(max(limit, 1), 200)))
    return [HistoryEntry(op.version, op.kind, str(op.data.get("summary", op.kind)), name or "Someone",
                         op.created_at, op.effective, op.undone) for op, name in (await session.exec(query)).all()]


async def ops_since(session: AsyncSession, actor: Actor, setlist_id: int, version: int = 0) -> list[SetlistOp]:
    """The recorded operations after ``version``, in order (replaying them rebuilds the list)."""
    await get_setlist(session, actor, setlist_id)
    query = (select(SetlistOp).where(SetlistOp.setlist_id == setlist_id, SetlistOp.band_id == actor.band_id,
                                     col(SetlistOp.version) > version).order_by(col(SetlistOp.version)))
    return list((await session.exec(query)).all())


# --- whole setlists -------------------------------------------------------------------------------------------
def _list_changed(session: AsyncSession, band_id: int, setlist_id: int) -> None:
    hub.publish_after_commit(session, Event(band_id, LIST_TOPIC, {"setlist": setlist_id}))


async def create_setlist(session: AsyncSession, actor: Actor, name: str) -> Setlist:
    actor.require_leader()
    setlist = Setlist(band_id=actor.band_id, name=clean_text(name, "Setlist name", max_length=120))
    session.add(setlist)
    await session.flush()
    assert setlist.id is not None
    _list_changed(session, actor.band_id, setlist.id)
    return setlist


async def rename_setlist(session: AsyncSession, actor: Actor, setlist_id: int, name: str) -> OpResult:
    return await apply_op(session, actor, setlist_id, Op.rename(name))


async def duplicate_setlist(session: AsyncSession, actor: Actor, setlist_id: int, name: str | None = None
                            ) -> Setlist:
    """A copy with every entry (keys, notes, durations); its history starts afresh."""
    actor.require_leader()
    source = await get_setlist(session, actor, setlist_id)
    copy_name = clean_text(name if name is not None else f"{source.name} (copy)"[:120], "Setlist name",
                           max_length=120)
    copy = Setlist(band_id=actor.band_id, name=copy_name)
    session.add(copy)
    await session.flush()
    assert copy.id is not None
    items = (await session.exec(select(SetlistItem).where(SetlistItem.setlist_id == setlist_id,
                                                          SetlistItem.band_id == actor.band_id)
                                .order_by(col(SetlistItem.position), col(SetlistItem.id)))).all()
    for number, item in enumerate(items, 1):
        session.add(SetlistItem(setlist_id=copy.id, band_id=actor.band_id, position=number, song_id=item.song_id,
                                is_break=item.is_break, label=item.label, notes=item.notes,
                                musical_key=item.musical_key, duration_seconds=item.duration_seconds))
    await session.flush()
    _list_changed(session, actor.band_id, copy.id)
    return copy


async def delete_setlist(session: AsyncSession, actor: Actor, setlist_id: int) -> None:
    """Delete a setlist, its entries and history. Gigs keep their date and lose only the link."""
    actor.require_leader()
    setlist = await get_setlist(session, actor, setlist_id)
    await session.exec(update(Gig).where(col(Gig.setlist_id) == setlist_id, col(Gig.band_id) == actor.band_id)
                       .values(setlist_id=None))
    await session.exec(delete(SetlistOp).where(col(SetlistOp.setlist_id) == setlist_id))
    await session.exec(delete(SetlistItem).where(col(SetlistItem.setlist_id) == setlist_id))
    await session.delete(setlist)
    await session.flush()
    hub.publish_after_commit(session, Event(actor.band_id, topic(setlist_id), {"deleted": True}))
    _list_changed(session, actor.band_id, setlist_id)


# --- compatibility helpers (seeding, scripts) -----------------------------------------------------------------
async def add_song(session: AsyncSession, actor: Actor, setlist_id: int, song_id: int, *, notes: str = "",
                   musical_key: str | None = None) -> SetlistItem:
    """Append a song (an insert op at the end)."""
    result = await apply_op(session, actor, setlist_id, Op.insert_song(song_id, notes=notes,
                                                                       musical_key=musical_key))
    return await _item(session, result)


async def add_break(session: AsyncSession, actor: Actor, setlist_id: int, label: str) -> SetlistItem:
    """Append a set break ("Set 2", "Encore")."""
    result = await apply_op(session, actor, setlist_id, Op.insert_break(label))
    return await _item(session, result)


async def _item(session: AsyncSession, result: OpResult) -> SetlistItem:
    item = await session.get(SetlistItem, result.item_id or 0)
    assert item is not None
    return item


# --- applying operations --------------------------------------------------------------------------------------
async def _lock(session: AsyncSession, actor: Actor, setlist_id: int) -> Setlist:
    """Take the setlist's row lock for the rest of this unit of work and return it freshly read."""
    bind = session.get_bind()
    if bind.dialect.name == "sqlite":
        # A write first: SQLite grants the write lock now (waiting up to busy_timeout), so nothing read below
        # can be changed by another writer before we commit: BEGIN IMMEDIATE semantics.
        for attempt in range(3):
            try:
                await session.exec(update(Setlist).where(col(Setlist.id) == setlist_id,
                                                         col(Setlist.band_id) == actor.band_id)
                                   .values(version=Setlist.version))
                break
            except OperationalError as exc:
                if "locked" not in str(exc) or attempt == 2:
                    raise Conflict("The setlist is busy; please try again.") from exc
    query = select(Setlist).where(Setlist.id == setlist_id, Setlist.band_id == actor.band_id)
    if bind.dialect.name != "sqlite":
        query = query.with_for_update()
    setlist = (await session.exec(query.execution_options(populate_existing=True))).first()
    if setlist is None:
        raise NotFound("That setlist doesn't exist.")
    return setlist


async def apply_op(session: AsyncSession, actor: Actor, setlist_id: int, op: Op) -> OpResult:
    """Apply one leader's edit in the server's order; see the module docstring for the rules."""
    actor.require_leader()
    if op.kind not in KINDS:
        raise InvalidInput("That change isn't one SOLEil knows.")
    setlist = await _lock(session, actor, setlist_id)
    if op.key:
        done = (await session.exec(select(SetlistOp).where(SetlistOp.setlist_id == setlist_id,
                                                           SetlistOp.op_key == op.key))).first()
        if done is not None:
            return OpResult(done.version, done.effective, done.data.get("item_id"), replayed=True)
    if op.kind == "insert":
        op = replace(op, item_id=None)  # only undo may bring an entry back under its old id
    return await _apply_locked(session, actor, setlist, op, kind=op.kind)


async def undo(session: AsyncSession, actor: Actor, setlist_id: int, *, key: str | None = None) -> OpResult | None:
    """Reverse the latest change not yet undone (whoever made it). None when there is nothing left to undo."""
    actor.require_leader()
    setlist = await _lock(session, actor, setlist_id)
    if key:
        done = (await session.exec(select(SetlistOp).where(SetlistOp.setlist_id == setlist_id,
                                                           SetlistOp.op_key == key))).first()
        if done is not None:
            return OpResult(done.version, done.effective, done.data.get("item_id"), replayed=True)
    last = (await session.exec(
        select(SetlistOp).where(SetlistOp.setlist_id == setlist_id, col(SetlistOp.effective).is_(True),
                                col(SetlistOp.undone).is_(False), SetlistOp.kind != "undo")
        .order_by(col(SetlistOp.version).desc()).limit(1))).first()
    if last is None or not last.data.get("inverse"):
        return None
    inverse = replace(Op.from_json(last.data["inverse"]), key=key)
    result = await _apply_locked(session, actor, setlist, inverse, kind="undo", undo_of=last.id,
                                 prefix=f"Undid: {last.data.get('summary', last.kind)}")
    last.undone = True
    session.add(last)
    return result


async def _apply_locked(session: AsyncSession, actor: Actor, setlist: Setlist, op: Op, *, kind: str,
                        undo_of: int | None = None, prefix: str | None = None) -> OpResult:
    assert setlist.id is not None
    items = list((await session.exec(
        select(SetlistItem).where(SetlistItem.setlist_id == setlist.id, SetlistItem.band_id == actor.band_id)
        .order_by(col(SetlistItem.position), col(SetlistItem.id)).execution_options(populate_existing=True))).all())
    change = await _change(session, actor, setlist, items, op)
    setlist.version += 1
    setlist.updated_at = utcnow()
    session.add(setlist)
    data: dict[str, Any] = {"op": op.to_json(), "item_id": change.item_id, "summary": prefix or change.summary}
    if change.inverse is not None:
        data["inverse"] = change.inverse.to_json()
    session.add(SetlistOp(band_id=actor.band_id, setlist_id=setlist.id, version=setlist.version, kind=kind,
                          op_key=op.key, effective=change.effective, data=data, undo_of=undo_of,
                          membership_id=actor.membership_id))
    await session.flush()
    hub.publish_after_commit(session, Event(actor.band_id, topic(setlist.id), {"version": setlist.version}))
    if op.kind == "rename" and change.effective:
        _list_changed(session, actor.band_id, setlist.id)
    return OpResult(setlist.version, change.effective, change.item_id)


@dataclass(slots=True)
class _Change:
    effective: bool
    item_id: int | None
    summary: str
    inverse: Op | None = None


def target_index(order: Sequence[int], after_id: int | None, index: int | None) -> int:
    """Where an entry lands in ``order`` (a list of ids not containing it): after ``after_id`` while that is
    still there, else at ``index`` clamped to the list, else at the end."""
    if after_id is not None and after_id in order:
        return list(order).index(after_id) + 1
    if index is not None:
        return max(0, min(index, len(order)))
    return len(order)


def _renumber(items: Sequence[SetlistItem], session: AsyncSession) -> None:
    for number, item in enumerate(items, 1):
        if item.position != number:
            item.position = number
            session.add(item)


async def _name_of(session: AsyncSession, item: SetlistItem) -> str:
    if item.is_break:
        return item.label or "a break"
    song = await session.get(Song, item.song_id) if item.song_id else None
    return song.title if song else "a song"


async def _change(session: AsyncSession, actor: Actor, setlist: Setlist, items: list[SetlistItem],
                  op: Op) -> _Change:
    by_id = {item.id: item for item in items}
    order = [item.id for item in items if item.id is not None]  # every stored entry has one
    if op.kind == "rename":
        name = clean_text(str(op.values.get("name", "")), "Setlist name", max_length=120)
        if name == setlist.name:
            return _Change(False, None, f"Renamed to {name}")
        old, setlist.name = setlist.name, name
        return _Change(True, None, f"Renamed to {name}", Op.rename(old))
    if op.kind == "insert":
        if len(items) >= MAX_ITEMS:
            raise InvalidInput(f"A setlist holds at most {MAX_ITEMS} entries.")
        new = await _new_item(session, actor, setlist, op)
        at = target_index(order, op.after_id, op.index)
        items.insert(at, new)
        _renumber(items, session)
        await session.flush()
        assert new.id is not None
        return _Change(True, new.id, f"Added {await _name_of(session, new)}", Op.remove(new.id))
    item = by_id.get(op.item_id)
    if op.kind == "edit" and op.values:
        _clean_changes(op.values, item)  # a bad value is refused even when the entry is gone
    if item is None:
        return _Change(False, op.item_id, f"{op.kind.capitalize()} of an entry already removed")
    name = await _name_of(session, item)
    assert item.id is not None  # a stored entry
    here = order.index(item.id)
    before = order[here - 1] if here else None
    if op.kind == "remove":
        restore = {"song_id": item.song_id, "is_break": item.is_break, "label": item.label, "notes": item.notes,
                   "musical_key": item.musical_key, "duration_seconds": item.duration_seconds}
        items.remove(item)
        await session.delete(item)
        _renumber(items, session)
        return _Change(True, item.id, f"Removed {name}",
                       Op("insert", item_id=item.id, after_id=before, index=here, values=restore))
    if op.kind == "move":
        rest = [i for i in items if i is not item]
        at = target_index([i.id for i in rest if i.id is not None], op.after_id, op.index)
        if at == here:
            return _Change(False, item.id, f"Moved {name}")
        rest.insert(at, item)
        items[:] = rest
        _renumber(items, session)
        return _Change(True, item.id, f"Moved {name}", Op.move(item.id or 0, after_id=before, index=here))
    if op.kind == "edit":
        changes = _clean_changes(op.values, item)
        was = {name_: getattr(item, name_) for name_ in changes}
        if was == changes:
            return _Change(False, item.id, f"Edited {name}")
        for name_, value in changes.items():
            setattr(item, name_, value)
        session.add(item)
        what = ", ".join({"label": "name", "notes": "note", "musical_key": "key",
                          "duration_seconds": "duration"}[n] for n in changes if was[n] != changes[n])
        return _Change(True, item.id, f"Changed the {what} of {name}", Op.edit(item.id or 0, **was))
    raise InvalidInput("That change isn't one SOLEil knows.")


async def _new_item(session: AsyncSession, actor: Actor, setlist: Setlist, op: Op) -> SetlistItem:
    values = op.values
    assert setlist.id is not None
    restore_id = op.item_id if op.item_id is not None and await session.get(SetlistItem, op.item_id) is None \
        else None
    if values.get("is_break"):
        return _added(session, SetlistItem(
            id=restore_id, setlist_id=setlist.id, band_id=actor.band_id, is_break=True,
            label=clean_text(_text(values.get("label")), "Set name", max_length=120),
            notes=clean_text(_text(values.get("notes")), "Note", max_length=500, required=False)))
    song_id = values.get("song_id")
    song = await session.get(Song, song_id) if type(song_id) is int else None
    if song is None or song.band_id != actor.band_id:
        if restore_id is None:
            raise NotFound("That song isn't in your library.")
        song = None  # undoing the removal of a song that has since left the library
    changes = _clean_changes({k: values.get(k) for k in ("notes", "musical_key", "duration_seconds")}, None)
    item = _added(session, SetlistItem(id=restore_id, setlist_id=setlist.id, band_id=actor.band_id,
                                       song_id=song.id if song else None, **changes))
    if song is not None and song.duration_seconds is None:
        await recordings.fill_recording_durations(session, actor.band_id, [song.id or 0])
    return item


def _added(session: AsyncSession, item: SetlistItem) -> SetlistItem:
    session.add(item)
    return item


def _text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput("That text isn't valid.")
    return value


def clean_key(value: Any) -> str | None:
    """A musical key as people write it ("Bb", "f#m", "E flat minor") in one spelling: "B♭", "F♯m", "E♭m"."""
    text = _text(value).strip()
    if not text:
        return None
    match = _KEY.match(text)
    if match is None:
        raise InvalidInput("Type a key like B♭, F#m or Eb.")
    letter, accidental, quality = match.groups()
    sign = {"#": "♯", "♯": "♯", "sharp": "♯", "b": "♭", "♭": "♭", "flat": "♭"}.get((accidental or "").lower(), "")
    minor = "m" if quality and quality.lower().startswith("m") and not quality.lower().startswith("maj") else ""
    return f"{letter.upper()}{sign}{minor}"


def _clean_duration(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if type(value) is not int or not 0 < value <= MAX_DURATION:
        raise InvalidInput("A duration is between 0:01 and 3:00:00.")
    return value


def _clean_changes(values: Mapping[str, Any], item: SetlistItem | None) -> dict[str, Any]:
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise InvalidInput("That change isn't one SOLEil knows.")
    changes: dict[str, Any] = {}
    for name, value in values.items():
        if name == "label":
            if item is not None and not item.is_break:
                raise InvalidInput("A song's title comes from the library; rename the song there.")
            changes[name] = clean_text(_text(value), "Set name", max_length=120)
        elif name == "notes":
            changes[name] = clean_text(_text(value), "Note", max_length=500, required=False)
        elif name == "musical_key":
            changes[name] = clean_key(value)
        else:
            changes[name] = _clean_duration(value)
    return changes
