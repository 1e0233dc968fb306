"""Annotations through the service, on SQLite and PostgreSQL: who sees and writes each layer, band isolation,
idempotent batches, tombstones that win, limits, a removed member's marks, and a new file version's flags."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from soleil_ui.access import Actor
from soleil_ui.db import db
from soleil_ui.errors import Forbidden, InvalidInput, NotFound
from soleil_ui.events import Event, hub
from soleil_ui.models import Annotation, Chart, Gig, Role, Setlist, SetlistItem, Song
from soleil_ui.services import annotations, members
from tests.library_helpers import add_member, band_with_member

pytestmark = pytest.mark.usefixtures("core")


async def _chart(band_id: int, title: str = "Take Five", part: str = "bb", pages: int = 2) -> tuple[int, int]:
    async with db.session() as session:
        song = Song(band_id=band_id, title=title, song_key=title.lower())
        session.add(song)
        await session.flush()
        chart = Chart(band_id=band_id, song_id=song.id, source_file_id=f"{title}-{part}.pdf",
                      file_name=f"{title} - {part}.pdf", part_key=part, page_count=pages, checksum="c1",
                      page_sizes=[[612.0, 792.0]] * pages)
        session.add(chart)
        await session.flush()
        assert chart.id and song.id
        return chart.id, song.id


def stroke(layer: str = "part", page: int = 0, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"id": str(uuid.uuid4()), "page": page, "layer": layer, "tool": "pen",
                            "color": "#d00000", "width": 0.004, "points": [[0.1, 0.2], [0.3, 0.25]]}
    data.update(extra)
    return data


async def push(actor: Actor, chart_id: int, *, add: list[dict[str, Any]] | None = None,
               delete: list[str] | None = None, part: str | None = None) -> dict[str, Any]:
    async with db.session() as session:
        return await annotations.apply(session, actor, chart_id, part, add=add or [], delete=delete or [])


async def seen(actor: Actor, chart_id: int, **kwargs: Any) -> set[str]:
    async with db.session() as session:
        listed = await annotations.list_strokes(session, actor, chart_id, **kwargs)
    return {s["id"] for s in listed["strokes"]}


async def band() -> tuple[Actor, Actor, Actor, int]:
    """A leader, two trumpets of one section (members), and a chart."""
    leader = await band_with_member("Hot Five", [{"instrument": "piano"}], role=Role.LEADER)
    alice, _ = await add_member(leader.band_id, "alice@example.org", [{"instrument": "trumpet", "chair": 1}])
    bob, _ = await add_member(leader.band_id, "bob@example.org", [{"instrument": "trumpet", "chair": 2}])
    chart_id, _song = await _chart(leader.band_id)
    return leader, alice, bob, chart_id


async def test_layers_decide_who_sees_a_mark() -> None:
    leader, alice, bob, chart = await band()
    mine, part = stroke("mine"), stroke("part")
    band_mark = stroke("band")
    await push(alice, chart, add=[mine, part])
    await push(leader, chart, add=[band_mark])
    assert await seen(alice, chart) == {mine["id"], part["id"], band_mark["id"]}
    assert await seen(bob, chart) == {part["id"], band_mark["id"]}  # alice's own mark is hers alone
    assert await seen(leader, chart) == {part["id"], band_mark["id"]}
    async with db.session() as session:
        listed = await annotations.list_strokes(session, bob, chart)
    by_id = {s["id"]: s for s in listed["strokes"]}
    assert by_id[part["id"]]["points"] == [[0.1, 0.2], [0.3, 0.25]] and by_id[part["id"]]["mine"] is False
    assert listed["part"] == "bb" and listed["pages"] == 2
    assert await seen(alice, chart, page=1) == set()  # one page at a time
    assert await seen(alice, chart, ids=[part["id"]]) == {part["id"]}  # what an event names


async def test_only_leaders_write_band_and_song_layers_and_song_notes_show_on_every_part() -> None:
    leader, alice, _bob, chart = await band()
    with pytest.raises(Forbidden):
        await push(alice, chart, add=[stroke("band")])
    with pytest.raises(Forbidden):
        await push(alice, chart, add=[stroke("song", tool="text", text="cut to C", points=[])])
    async with db.session() as session:
        song_id = (await session.get(Chart, chart)).song_id  # type: ignore[union-attr]
        sax = Chart(band_id=leader.band_id, song_id=song_id, source_file_id="tf-alto.pdf", file_name="tf alto.pdf",
                    part_key="eb", page_count=1)
        session.add(sax)
        await session.flush()
        sax_id = sax.id
    assert sax_id is not None
    note = stroke("song", tool="text", text="Cut to letter C", points=[])
    await push(leader, chart, add=[note])
    assert note["id"] in await seen(alice, sax_id)  # on the alto part too
    assert note["id"] in await seen(alice, chart, page=1)
    with pytest.raises(InvalidInput, match="another chart"):
        await push(alice, sax_id, delete=[(await push(alice, chart, add=[stroke("mine")]))["added"][0]])
    await push(leader, sax_id, delete=[note["id"]])  # a song note is removed from any part of the song
    assert note["id"] not in await seen(alice, chart)


async def test_bands_never_see_each_others_marks_or_charts() -> None:
    _leader, alice, _bob, chart = await band()
    other = await band_with_member("Other Band", [{"instrument": "trumpet"}], role=Role.LEADER)
    mark = stroke("part")
    await push(alice, chart, add=[mark])
    with pytest.raises(NotFound):
        await seen(other, chart)
    with pytest.raises(NotFound):
        await push(other, chart, add=[stroke("part")])
    with pytest.raises(NotFound):
        await push(other, chart, delete=[mark["id"]])
    # the same id in another band is another stroke: it neither collides nor reveals anything
    other_chart, _ = await _chart(other.band_id)
    await push(other, other_chart, add=[dict(mark, points=[[0.9, 0.9]])])
    assert await seen(alice, chart) == {mark["id"]}
    async with db.session() as session:
        ours = await annotations.list_strokes(session, alice, chart)
    assert ours["strokes"][0]["points"] == [[0.1, 0.2], [0.3, 0.25]]


async def test_a_batch_is_idempotent_and_a_deletion_wins_over_a_late_add() -> None:
    _leader, alice, bob, chart = await band()
    a, b = stroke("part"), stroke("part")
    first = await push(alice, chart, add=[a, b])
    assert sorted(first["added"]) == sorted([a["id"], b["id"]])
    again = await push(alice, chart, add=[a, b, a])  # a retried request after a lost answer
    assert again["added"] == [] and sorted(again["ignored"]) == sorted([a["id"], b["id"], a["id"]])
    assert await seen(bob, chart) == {a["id"], b["id"]}
    await push(alice, chart, delete=[a["id"]])
    await push(alice, chart, add=[a])  # an offline device sends its queue again: the tombstone wins
    assert await seen(bob, chart) == {b["id"]}
    async with db.session() as session:
        listed = await annotations.list_strokes(session, bob, chart)
    assert listed["deleted"] == [a["id"]]
    # deleted before its add arrived (out of order): the add never brings it back
    late = stroke("mine")
    assert (await push(alice, chart, delete=[late["id"]]))["deleted"] == [late["id"]]
    assert (await push(alice, chart, add=[late]))["added"] == []
    assert late["id"] not in await seen(alice, chart)


async def test_only_the_author_or_a_leader_deletes_a_shared_mark() -> None:
    leader, alice, bob, chart = await band()
    a, b, c = stroke("part"), stroke("part"), stroke("mine")
    await push(alice, chart, add=[a, b, c])
    with pytest.raises(Forbidden):
        await push(bob, chart, delete=[a["id"]])
    with pytest.raises(Forbidden):
        await push(leader, chart, delete=[c["id"]])  # a private mark is its author's alone
    await push(leader, chart, delete=[a["id"]])
    await push(alice, chart, delete=[b["id"], c["id"]])
    assert await seen(alice, chart) == set()


async def test_a_substitute_reads_shared_layers_and_writes_only_their_own() -> None:
    leader, alice, _bob, chart = await band()
    async with db.session() as session:
        song_id = (await session.get(Chart, chart)).song_id  # type: ignore[union-attr]
        setlist = Setlist(band_id=leader.band_id, name="Friday")
        session.add(setlist)
        await session.flush()
        session.add(SetlistItem(setlist_id=setlist.id, band_id=leader.band_id, song_id=song_id))
        gig = Gig(band_id=leader.band_id, title="Friday", starts_at=datetime.now(UTC) + timedelta(days=1),
                  setlist_id=setlist.id)
        session.add(gig)
        await session.flush()
        gig_id = gig.id
    sub, _ = await add_member(leader.band_id, "sub@example.org", [{"instrument": "trumpet"}], role=Role.SUB)
    async with db.session() as session:
        from soleil_ui.models import Membership
        membership = await session.get(Membership, sub.membership_id)
        assert membership is not None
        membership.gig_id = gig_id
        session.add(membership)
    sub = Actor(**{**{f: getattr(sub, f) for f in sub.__dataclass_fields__}, "gig_id": gig_id})
    shared = stroke("part")
    await push(alice, chart, add=[shared])
    assert await seen(sub, chart) == {shared["id"]}
    with pytest.raises(Forbidden, match="substitute"):
        await push(sub, chart, add=[stroke("part")])
    own = stroke("mine")
    await push(sub, chart, add=[own])
    assert await seen(sub, chart) == {shared["id"], own["id"]}
    with pytest.raises(Forbidden):
        await push(sub, chart, delete=[shared["id"]])


async def test_limits_refuse_with_a_plain_reason() -> None:
    _leader, alice, _bob, chart = await band()
    with pytest.raises(InvalidInput, match="at most 2000 points"):
        await push(alice, chart, add=[stroke(points=[[0.5, 0.5]] * 2001)])
    with pytest.raises(InvalidInput, match="at most 100 marks"):
        await push(alice, chart, add=[stroke() for _ in range(101)])
    with pytest.raises(InvalidInput, match="page this chart doesn't have"):
        await push(alice, chart, add=[stroke(page=2)])
    with pytest.raises(InvalidInput, match="between 0 and 1"):
        await push(alice, chart, add=[stroke(points=[[1.5, 0.2]])])
    with pytest.raises(InvalidInput, match="id"):
        await push(alice, chart, add=[stroke(id="not-a-uuid")])
    with pytest.raises(InvalidInput, match="stamp"):
        await push(alice, chart, add=[stroke(tool="stamp", text="skull", points=[[0.5, 0.5]])])
    await push(alice, chart, add=[stroke(tool="stamp", text="breath", points=[[0.5, 0.5]])])
    old = annotations.MAX_PER_PAGE
    annotations.MAX_PER_PAGE = 3
    try:
        await push(alice, chart, add=[stroke(), stroke()])
        with pytest.raises(InvalidInput, match="Page 1 already has 3 marks"):
            await push(alice, chart, add=[stroke()])
        await push(alice, chart, add=[stroke(page=1)])  # another page has room
    finally:
        annotations.MAX_PER_PAGE = old


async def test_a_new_file_keeps_marks_and_flags_them_when_the_page_count_changed() -> None:
    _leader, alice, bob, chart = await band()
    mark = stroke("part", page=1)
    await push(alice, chart, add=[mark])
    async with db.session() as session:
        row = await session.get(Chart, chart)
        assert row is not None
        row.checksum = "c2"  # a new version with the same page count: the mark stays put, unflagged
        session.add(row)
    async with db.session() as session:
        listed = await annotations.list_strokes(session, bob, chart)
    assert [(s["id"], s["page"], s["earlier"]) for s in listed["strokes"]] == [(mark["id"], 1, False)]
    async with db.session() as session:
        row = await session.get(Chart, chart)
        assert row is not None
        row.checksum, row.page_count = "c3", 3
        session.add(row)
    async with db.session() as session:
        listed = await annotations.list_strokes(session, bob, chart)
    assert [(s["id"], s["earlier"]) for s in listed["strokes"]] == [(mark["id"], True)]  # kept, flagged
    await push(alice, chart, delete=[mark["id"]])  # dismissed by its author
    assert await seen(bob, chart) == set()


async def test_a_removed_member_keeps_shared_marks_and_loses_private_ones() -> None:
    leader, alice, bob, chart = await band()
    shared, private = stroke("part"), stroke("mine")
    await push(alice, chart, add=[shared, private])
    async with db.session() as session:
        await members.remove_member(session, leader, alice.membership_id)
    assert await seen(bob, chart) == {shared["id"]}
    async with db.session() as session:
        rows = (await session.exec(select(Annotation))).all()
    assert [(r.stroke_id, r.author_id) for r in rows] == [(shared["id"], None)]
    await push(leader, chart, delete=[shared["id"]])  # a leader can still remove it


async def test_events_carry_ids_only_and_private_ones_name_their_author() -> None:
    leader, alice, _bob, chart = await band()
    heard: list[Event] = []
    sub = hub.subscribe(leader.band_id, annotations.TOPIC, heard.append)
    try:
        big = stroke("part", points=[[0.5, 0.5]] * 2000)
        private = stroke("mine")
        await push(alice, chart, add=[big, private] + [stroke("part") for _ in range(98)])
        await hub.drain()
    finally:
        sub.close()
    shared = next(e for e in heard if e.payload["author"] is None)
    mine = next(e for e in heard if e.payload["author"] == alice.membership_id)
    assert big["id"] in shared.payload["ids"] and len(shared.payload["ids"]) == 99
    assert mine.payload["ids"] == [private["id"]] and mine.payload["chart"] == chart
    assert "points" not in str(shared.payload)


async def test_an_earlier_mark_moves_to_another_page_or_is_dragged_and_a_deletion_still_wins() -> None:
    leader, alice, bob, chart = await band()
    mark, other = stroke("part", page=1), stroke("part", page=1)
    await push(alice, chart, add=[mark, other])
    async with db.session() as session:
        row = await session.get(Chart, chart)
        assert row is not None
        row.checksum, row.page_count = "c2", 3  # a new version: both flagged
        session.add(row)
    copy = str(uuid.uuid4())
    move = {"id": mark["id"], "to": copy, "page": 2, "dx": 0.8, "dy": -0.05}  # dragged past the edge: it stops
    with pytest.raises(Forbidden):
        await _move(bob, chart, move)  # not his
    done = await _move(alice, chart, move)
    assert done["added"] == [copy] and done["deleted"] == [mark["id"]]
    assert (await _move(alice, chart, move))["added"] == []  # sent again after a lost answer: once
    async with db.session() as session:
        listed = await annotations.list_strokes(session, bob, chart)
    by_id = {s["id"]: s for s in listed["strokes"]}
    assert set(by_id) == {copy, other["id"]} and listed["deleted"] == [mark["id"]]
    assert by_id[copy]["page"] == 2 and by_id[copy]["earlier"] is False and by_id[other["id"]]["earlier"] is True
    assert by_id[copy]["points"] == [[0.8, 0.15], [1.0, 0.2]] and by_id[copy]["mine"] is False
    with pytest.raises(InvalidInput, match="page this chart doesn't have"):
        await _move(alice, chart, {"id": other["id"], "to": str(uuid.uuid4()), "page": 3})
    # a stale device dismisses the original it still shows: the deletion wins, over the copy too
    assert sorted((await push(leader, chart, delete=[mark["id"]]))["deleted"]) == [copy]
    assert await seen(bob, chart) == {other["id"]}
    # drawn, moved and erased offline, sent as one batch: nothing of it stays
    drawn, moved = stroke("mine"), str(uuid.uuid4())
    async with db.session() as session:
        result = await annotations.apply(session, alice, chart, None, add=[drawn], delete=[moved],
                                         move=[{"id": drawn["id"], "to": moved, "page": 0}])
    assert result["added"] == [drawn["id"], moved] and result["deleted"] == [drawn["id"], moved]
    assert await seen(alice, chart) == {other["id"]}


async def _move(actor: Actor, chart_id: int, move: dict[str, Any]) -> dict[str, Any]:
    async with db.session() as session:
        return await annotations.apply(session, actor, chart_id, None, move=[move])


async def test_marks_on_an_engraved_part_are_flagged_when_its_layout_changes() -> None:
    leader, alice, bob, _chart_id = await band()
    async with db.session() as session:
        song = Song(band_id=leader.band_id, title="Blue Bossa", song_key="blue bossa")
        session.add(song)
        await session.flush()
        lead = Chart(band_id=leader.band_id, song_id=song.id, source_file_id="bb.cho", file_name="Blue Bossa.cho",
                     kind="chordpro", part_key="", parts=["bb", "eb"], page_count=0, checksum="s" * 64)
        session.add(lead)
        await session.flush()
        chart = lead.id
    assert chart is not None
    shown = "w=800&part=bb&v=ssssssssssssssss"
    mark = stroke("part", page=3)  # an engraved part's page count depends on the layout: not checked
    async with db.session() as session:
        await annotations.apply(session, alice, chart, "bb", add=[mark], layout=shown)

    async def earlier(layout: str | None, part: str = "bb") -> list[bool]:
        async with db.session() as session:
            listed = await annotations.list_strokes(session, bob, chart, part, layout=layout)
        return [s["earlier"] for s in listed["strokes"]]

    assert await earlier(shown) == [False] and await earlier(None) == [False]
    assert await earlier("w=800&part=bb&ck=Eb") == [True]  # tonight's key moves every line
    assert await earlier("w=1200&part=bb") == [True]  # a wider screen breaks the lines elsewhere
    assert await earlier("w=800&part=eb", "eb") == []  # another part's marks are its own
    with pytest.raises(InvalidInput):
        await earlier("w=800&part=nonsense!")
    async with db.session() as session:
        row = await session.get(Chart, chart)
        assert row is not None
        row.checksum = "t" * 64  # a new source: flagged, even by a stand that didn't say its layout
        session.add(row)
    assert await earlier(shown) == [True] and await earlier(None) == [True]
    copy = str(uuid.uuid4())
    async with db.session() as session:  # moved onto the layout shown now: in place again
        await annotations.apply(session, alice, chart, "bb", move=[{"id": mark["id"], "to": copy, "page": 0}],
                                layout="w=800&part=bb")
    assert await earlier("w=800&part=bb") == [False]


async def test_a_link_jumps_to_a_page_the_chart_has_and_moving_it_keeps_its_target() -> None:
    _leader, alice, bob, chart = await band()
    link = stroke("part", page=1, tool="link", points=[[0.8, 0.9], [0.1, 0.2]], text="0")  # D.S. back to the segno
    await push(alice, chart, add=[link])
    async with db.session() as session:
        [shown] = (await annotations.list_strokes(session, bob, chart, page=1))["strokes"]
    assert (shown["tool"], shown["points"], shown["text"]) == ("link", [[0.8, 0.9], [0.1, 0.2]], "0")
    for bad in ({"text": "2"}, {"text": "two"}, {"points": [[0.5, 0.5]]}, {"layer": "song", "points": []}):
        with pytest.raises(InvalidInput):
            await push(alice, chart, add=[stroke(**{"layer": "part", "tool": "link",
                                                   "points": [[0.8, 0.9], [0.1, 0.2]], "text": "0", **bad})])
    copy = str(uuid.uuid4())
    await _move(alice, chart, {"id": link["id"], "to": copy, "page": 1, "dx": -0.1, "dy": 0.05})
    async with db.session() as session:
        [moved] = (await annotations.list_strokes(session, bob, chart))["strokes"]
    assert moved["points"] == [[0.7, 0.95], [0.1, 0.2]] and moved["text"] == "0"  # the sign moved, the segno stays
