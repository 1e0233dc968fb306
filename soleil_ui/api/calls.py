"""What programs may do, once for both interfaces: each call is one unit of work on the pages' own services.

Every call takes the ``Grant`` a token resolved to: reads act as the token's member (the services scope every query
to their band and role), and every change first checks the token's scope (``Grant.require_write``), then lets the
service check the role, exactly as for a click on a page. Setlist changes are the editor's operations
(``setlists.apply_op``), so open editors and stands update in place through the hub.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from .. import ratelimit
from ..access import Actor
from ..db import db
from ..errors import InvalidInput, NotFound
from ..ids import MAX_ID
from ..models import Chart, utcnow
from ..parts import PartRef
from ..services import chart_pages, gigs, library, live, members, setlists, tokens
from ..services.tokens import Grant
from . import schemas as s

API_PREFIX = "/api/v1"
MAX_SONGS_AT_ONCE = 100


async def authorize(authorization: str | None) -> Grant:
    """The one door of the JSON API and MCP: the ``Grant`` behind an ``Authorization: Bearer`` header (``NotSignedIn``
    without a valid token, before anything is counted), then one request of the token's account under
    ``SOLEIL_LIMIT_API`` (all of a member's tokens share one budget, so making more tokens buys nothing;
    ``TooManyRequests`` when over)."""
    async with db.session() as session:
        grant = await tokens.resolve(session, tokens.bearer(authorization))
    await ratelimit.hit("api", f"user:{grant.actor.user_id}")
    return grant


def _limit(offset: int, limit: int) -> tuple[int, int]:
    if type(offset) is not int or not 0 <= offset <= MAX_ID:  # the API's and the MCP tools' one gate
        raise InvalidInput(f"offset is between 0 and {MAX_ID}.")
    if type(limit) is not int or not 1 <= limit <= s.MAX_LIMIT:
        raise InvalidInput(f"limit is between 1 and {s.MAX_LIMIT}.")
    return offset, limit


def _my_part(resolved: library.ResolvedChart | library.SongRow, key: str | None = None) -> s.MyPart:
    part_key = resolved.part_key
    part = PartRef.try_from_key(part_key)
    return s.MyPart(chart_id=resolved.chart_id, part_key=part_key, part_label=part.label() if part else "",
                    quality=resolved.match.quality, playable=resolved.playable, generated=resolved.generated,
                    explanation=resolved.match.explanation, key_of_the_night=key)


# --- who am I ---------------------------------------------------------------------------------------------------
async def me(grant: Grant) -> s.Me:
    a = grant.actor
    return s.Me(name=a.name, band_id=a.band_id, band=a.band_name, role=a.role, instruments=list(a.instruments),
                scope=grant.scope, token_id=grant.token_id)


async def band_members(grant: Grant) -> list[s.Member]:
    async with db.session() as session:
        people = await members.list_members(session, grant.actor)
    return [s.Member(membership_id=m.id or 0, name=u.name or u.email.split("@")[0], role=m.role,
                     instruments=list(m.instruments)) for m, u in people]


async def _as_member(session: Any, actor: Actor, member_id: int | None) -> Actor:
    """The actor reading as another member of the band (their instruments and preferences): "what does Sam read?".
    Any member may open any part of their band, so this shows nothing the pages don't."""
    if member_id is None or member_id == actor.membership_id:
        return actor
    for membership, user in await members.list_members(session, actor):
        if membership.id == member_id:
            return replace(actor, membership_id=member_id, instruments=tuple(membership.instruments),
                           reading=dict(membership.reading or {}), name=user.name or user.email)
    raise NotFound("That person isn't in your band.")


# --- the library ------------------------------------------------------------------------------------------------
async def part_filters(grant: Grant) -> list[s.PartFilter]:
    async with db.session() as session:
        found = await library.part_filters(session, grant.actor)
    return [s.PartFilter(key=k, label=v) for k, v in found.items() if k]


async def search_songs(grant: Grant, q: str = "", *, part: str = "", offset: int = 0,
                       limit: int = s.DEFAULT_LIMIT) -> dict[str, Any]:
    offset, limit = _limit(offset, limit)
    async with db.session() as session:
        page = await library.search_songs(session, grant.actor, q, part=part, offset=offset, limit=limit)
    items = [s.SongSummary(id=row.song_id, title=row.title, my_part=_my_part(row)) for row in page.rows]
    return s.paged(items, page.total, offset, limit)


async def song(grant: Grant, song_id: int) -> s.Song:
    async with db.session() as session:
        detail = await library.song_detail(session, grant.actor, song_id)
        played = await gigs.last_played(session, grant.actor, song_id)
    assert detail.resolved is not None and detail.song.id is not None
    parts = [s.PartOption(chart_id=p.chart_id, part_key=p.part_key, label=p.label, generated=p.generated, kind=p.kind,
                          page_count=p.page_count, source=p.source_label, file_name=p.file_name) for p in detail.parts]
    return s.Song(id=detail.song.id, title=detail.song.title, musical_key=detail.song.musical_key,
                  duration_seconds=detail.song.duration_seconds, last_played_at=played,
                  my_part=_my_part(detail.resolved), parts=parts, recordings=len(detail.audio))


async def my_part(grant: Grant, song_id: int, *, key: str | None = None, member_id: int | None = None,
                  pages: bool = True, width: int = chart_pages.BASE_WIDTH) -> s.MyPart:
    """The part this member (or ``member_id``) reads for a song, in ``key`` (the key of the night), with its pages."""
    async with db.session() as session:
        actor = await _as_member(session, grant.actor, member_id)
        resolved = await library.chart_for_member(session, actor, song_id, key or None)
        chart = await library.get_chart(session, actor, resolved.chart_id) if resolved.chart_id else None
    result = _my_part(resolved, key or None)
    if pages and chart is not None:
        found = await chart_pages.resolved_pages(resolved, chart, width=width)
        result.pages = [s.PageImage(url=API_PREFIX + str(p["src"]), width=int(str(p["width"])),
                                    height=int(str(p["height"]))) for p in found]
    return result


async def chart(grant: Grant, chart_id: int) -> Chart:
    """A chart of the band this member may open (for the page image routes)."""
    async with db.session() as session:
        return await library.get_chart(session, grant.actor, chart_id)


async def play_history(grant: Grant, song_id: int, *, limit: int = 10) -> list[s.Played]:
    async with db.session() as session:
        await library.song_detail(session, grant.actor, song_id)  # a sub's scope, like the song page
        found = await gigs.play_history(session, grant.actor, song_id, limit=limit)
    return [s.Played(played_at=p.played_at, gig_id=p.gig_id, gig_title=p.gig_title) for p in found]


async def last_played(grant: Grant, song_ids: Sequence[int] | None = None, *, q: str = "",
                      part: str = "") -> list[s.LastPlayed]:
    """When each song was last played (the given ones, else up to 100 of the library matching ``q``/``part``)."""
    if song_ids is not None and len(song_ids) > MAX_SONGS_AT_ONCE:
        raise InvalidInput(f"Ask about at most {MAX_SONGS_AT_ONCE} songs at once.")
    async with db.session() as session:
        if song_ids is None:
            page = await library.search_songs(session, grant.actor, q, part=part, limit=MAX_SONGS_AT_ONCE)
            wanted = [(row.song_id, row.title) for row in page.rows]
        else:
            rows = await library.rows_for_songs(session, grant.actor, list(song_ids))
            scope = await library.song_scope(session, grant.actor)
            wanted = [(row.song_id, row.title) for row in rows if scope is None or row.song_id in scope]
            if len(wanted) != len(set(song_ids)):
                raise NotFound(library.NOT_IN_LIBRARY)
        played = await gigs.last_played_many(session, grant.actor, [song_id for song_id, _ in wanted])
    now = utcnow()
    return [s.LastPlayed(song_id=song_id, title=title, last_played_at=played.get(song_id),
                         days_ago=(now - played[song_id]).days if song_id in played else None)
            for song_id, title in wanted]


# --- setlists ---------------------------------------------------------------------------------------------------
def _setlist(setlist: Any, entries: list[setlists.SetlistEntry]) -> s.Setlist:
    sets = setlists.sets_of(entries)
    return s.Setlist(
        id=setlist.id, name=setlist.name, version=setlist.version, updated_at=setlist.updated_at,
        entries=[s.Entry(item_id=e.item_id, position=e.position, number=e.number, is_break=e.is_break, title=e.label,
                         song_id=e.song_id, notes=e.notes, musical_key=e.musical_key,
                         duration_seconds=e.duration_seconds) for e in entries],
        sets=[s.SetSummary(label=x.label, break_item_id=x.break_item_id, songs=x.songs, seconds=x.seconds,
                           running_time=setlists.format_duration(x.seconds), songs_without_duration=x.unknown)
              for x in sets],
        total_seconds=sum(x.seconds for x in sets))


async def list_setlists(grant: Grant, *, offset: int = 0, limit: int = s.DEFAULT_LIMIT) -> dict[str, Any]:
    offset, limit = _limit(offset, limit)
    async with db.session() as session:
        found = await setlists.list_setlists(session, grant.actor)
    items = [s.SetlistSummary(id=x.id or 0, name=x.name, version=x.version, updated_at=x.updated_at)
             for x in found[offset:offset + limit]]
    return s.paged(items, len(found), offset, limit)


async def get_setlist(grant: Grant, setlist_id: int) -> s.Setlist:
    async with db.session() as session:
        setlist = await setlists.get_setlist(session, grant.actor, setlist_id)
        entries = await setlists.entries(session, grant.actor, setlist_id)
    return _setlist(setlist, entries)


async def create_setlist(grant: Grant, name: str) -> s.Setlist:
    grant.require_write()
    async with db.session() as session:
        setlist = await setlists.create_setlist(session, grant.actor, name)
    return await get_setlist(grant, setlist.id or 0)


async def apply_ops(grant: Grant, setlist_id: int, ops: Sequence[s.Op | dict[str, Any]]) -> s.OpsOut:
    """The editor's operations, in order, in one unit of work: all of them or none."""
    grant.require_write()
    results = []
    async with db.session() as session:
        for op in ops:
            data = op.model_dump(exclude_none=True) if isinstance(op, s.Op) else dict(op)
            done = await setlists.apply_op(session, grant.actor, setlist_id, setlists.Op.from_json(data))
            results.append(s.OpResult(version=done.version, effective=done.effective, item_id=done.item_id,
                                      replayed=done.replayed))
    return s.OpsOut(results=results, setlist=await get_setlist(grant, setlist_id))


async def add_songs(grant: Grant, setlist_id: int, song_ids: Sequence[int], *, after_item_id: int | None = None,
                    break_label: str | None = None) -> s.OpsOut:
    """Put songs in a setlist in the order given (after ``after_item_id``, else at the end), optionally behind a new
    set break: one insert operation each, chained so they stay together even while someone else edits."""
    grant.require_write()
    if len(song_ids) > MAX_SONGS_AT_ONCE:
        raise InvalidInput(f"Add at most {MAX_SONGS_AT_ONCE} songs at once.")
    results = []
    after = after_item_id
    async with db.session() as session:
        wanted = [setlists.Op.insert_break(break_label, after_id=after)] if break_label is not None else []
        wanted += [setlists.Op.insert_song(song_id, after_id=after) for song_id in song_ids]
        for op in wanted:
            if after is not None:
                op = replace(op, after_id=after)
            done = await setlists.apply_op(session, grant.actor, setlist_id, op)
            after = done.item_id if done.item_id is not None else after
            results.append(s.OpResult(version=done.version, effective=done.effective, item_id=done.item_id,
                                      replayed=done.replayed))
    return s.OpsOut(results=results, setlist=await get_setlist(grant, setlist_id))


async def undo(grant: Grant, setlist_id: int) -> s.Setlist:
    """Take back the setlist's latest change (whoever made it), like the editor's Undo."""
    grant.require_write()
    async with db.session() as session:
        await setlists.undo(session, grant.actor, setlist_id)
    return await get_setlist(grant, setlist_id)


# --- gigs -------------------------------------------------------------------------------------------------------
def _gig(gig: Any, answer: str | None) -> dict[str, Any]:
    return {"id": gig.id, "title": gig.title, "starts_at": gig.starts_at, "ends_at": gig.ends_at,
            "load_in_at": gig.load_in_at, "venue": gig.venue, "address": gig.address, "dress_code": gig.dress_code,
            "notes": gig.notes, "setlist_id": gig.setlist_id, "my_answer": answer}


async def list_gigs(grant: Grant, *, when: str = "upcoming", offset: int = 0,
                    limit: int = s.DEFAULT_LIMIT) -> dict[str, Any]:
    offset, limit = _limit(offset, limit)
    if when not in ("upcoming", "past"):
        raise InvalidInput("when is upcoming or past.")
    async with db.session() as session:
        read = gigs.upcoming if when == "upcoming" else gigs.past
        found = await read(session, grant.actor, limit=offset + limit + 1)
        page = found[offset:offset + limit]
        answers = await gigs.my_availability(session, grant.actor, [g.id for g in page if g.id is not None])
    items = [s.Gig(**_gig(g, answers.get(g.id or 0))) for g in page]
    total = offset + len(found[offset:])  # a lower bound when there are more: next_offset says so
    return s.paged(items, total, offset, limit)


async def get_gig(grant: Grant, gig_id: int) -> s.GigDetail:
    async with db.session() as session:
        gig = await gigs.get_gig(session, grant.actor, gig_id)
        mine = (await gigs.my_availability(session, grant.actor, [gig_id])).get(gig_id)
        answers = None
        if grant.actor.is_leader:
            answers = [s.Answer(membership_id=a.membership_id, name=a.name, role=a.role, status=a.status)
                       for a in await gigs.availability(session, grant.actor, gig_id)]
    return s.GigDetail(**_gig(gig, mine), answers=answers)


async def set_availability(grant: Grant, gig_id: int, status: str) -> s.GigDetail:
    grant.require_write()
    async with db.session() as session:
        await gigs.set_availability(session, grant.actor, gig_id, status)
    return await get_gig(grant, gig_id)


# --- live mode --------------------------------------------------------------------------------------------------
async def live_state(grant: Grant) -> s.Live:
    async with db.session() as session:
        state = await live.current(session, grant.actor)
        if state is None:
            return s.Live(live=False)
        entries = await setlists.entries(session, grant.actor, state.setlist_id)
    title = next((e.label for e in entries if e.item_id == state.current_item_id), None)
    return s.Live(live=True, live_id=state.live_id, setlist_id=state.setlist_id, setlist_name=state.setlist_name,
                  current_item_id=state.current_item_id, current_title=title, seq=state.seq,
                  started_at=state.started_at, gig_id=state.gig_id)


async def live_start(grant: Grant, setlist_id: int, item_id: int | None = None) -> s.Live:
    grant.require_write()
    async with db.session() as session:
        await live.start(session, grant.actor, setlist_id, item_id=item_id)
    return await live_state(grant)


async def live_call(grant: Grant, *, item_id: int | None = None, step: int = 0) -> s.Live:
    """Call a song in the band's live session: every follower's stand turns to it."""
    grant.require_write()
    async with db.session() as session:
        state = await live.current(session, grant.actor)
        if state is None:
            raise InvalidInput("The band isn't live. Start live mode on a setlist first.")
        await live.move(session, grant.actor, state.live_id, item_id=item_id, step=step)
    return await live_state(grant)


async def live_stop(grant: Grant) -> s.Live:
    grant.require_write()
    async with db.session() as session:
        await live.stop(session, grant.actor)
    return await live_state(grant)
