"""Gigs through the service layer, on SQLite and PostgreSQL: editing, availability, private calendar feeds,
substitutes for one gig, and what was played; plus the feed's HTTP route."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from nicegui.testing import User
from sqlmodel import select, update

from soleil_ui.access import Actor
from soleil_ui.db import db
from soleil_ui.errors import Forbidden, InvalidInput, NotFound, NotSignedIn
from soleil_ui.models import AudioTrack, Chart, Gig, Membership, Role, utcnow
from soleil_ui.services import auth, gigs, library, members, setlist_plan, setlists, song_scope
from soleil_ui.services.setlists import Op
from tests.factories import apply_op, band_with_songs, member_of, new_gig, new_setlist, new_sub


@pytest.mark.usefixtures("core")
async def test_leaders_edit_and_delete_gigs_with_validation() -> None:
    leader, _, _ = await band_with_songs("Gigs")
    member = await member_of(leader, "m@gigs.org")
    gig_id = await new_gig(leader)
    start = datetime(2031, 5, 2, 18, 0, tzinfo=UTC)
    async with db.session() as session:
        gig = await gigs.update_gig(session, leader, gig_id, title=" Saturday  ", starts_at=start,
                                    load_in_at=start - timedelta(hours=2), ends_at=start + timedelta(hours=4),
                                    dress_code="All black")
        assert (gig.title, gig.dress_code, gig.ends_at) == ("Saturday", "All black", start + timedelta(hours=4))
        for bad, message in [({"ends_at": start - timedelta(minutes=1)}, "end after"),
                             ({"load_in_at": start + timedelta(minutes=1)}, "Load-in"),
                             ({"starts_at": datetime(2031, 1, 1)}, "time zone"),
                             ({"title": ""}, "Gig title can't be empty"),
                             ({"notes": "x" * 2001}, "Notes is too long"),
                             ({"colour": "red"}, "isn't something")]:
            with pytest.raises(InvalidInput, match=message):
                await gigs.update_gig(session, leader, gig_id, **bad)
        with pytest.raises(NotFound):
            await gigs.update_gig(session, leader, gig_id, setlist_id=999999)
        with pytest.raises(Forbidden):
            await gigs.update_gig(session, member, gig_id, title="Mine")
        with pytest.raises(Forbidden):
            await gigs.delete_gig(session, member, gig_id)
    async with db.session() as session:
        await gigs.delete_gig(session, leader, gig_id)
    async with db.session() as session:
        with pytest.raises(NotFound):
            await gigs.get_gig(session, member, gig_id)


@pytest.mark.usefixtures("core")
async def test_members_answer_and_leaders_see_who_is_available() -> None:
    leader, _, _ = await band_with_songs("Avail")
    ava = await member_of(leader, "ava@avail.org")
    luis = await member_of(leader, "luis@avail.org")
    gig_id = await new_gig(leader)
    async with db.session() as session:
        await gigs.set_availability(session, ava, gig_id, "yes")
        await gigs.set_availability(session, luis, gig_id, "maybe")
        await gigs.set_availability(session, luis, gig_id, "no")  # changed their mind: one answer each
        with pytest.raises(InvalidInput, match="yes, no or maybe"):
            await gigs.set_availability(session, ava, gig_id, "perhaps")
        with pytest.raises(Forbidden):
            await gigs.availability(session, ava, gig_id)
        assert await gigs.my_availability(session, ava, [gig_id]) == {gig_id: "yes"}
    async with db.session() as session:
        answers = {a.membership_id: a.status for a in await gigs.availability(session, leader, gig_id)}
    assert answers == {leader.membership_id: None, ava.membership_id: "yes", luis.membership_id: "no"}
    assert gigs.availability_counts(await _answers(leader, gig_id)) == {"yes": 1, "maybe": 0, "no": 1,
                                                                         "unanswered": 1}
    other, _, _ = await band_with_songs("Other")
    async with db.session() as session:
        with pytest.raises(NotFound):
            await gigs.set_availability(session, other, gig_id, "yes")


async def _answers(leader: Actor, gig_id: int) -> list[gigs.Answer]:
    async with db.session() as session:
        return await gigs.availability(session, leader, gig_id)


async def _ics(token: str) -> Calendar:
    async with db.session() as session:
        return Calendar.from_ical(await gigs.calendar_ics(session, token, base_url="https://band.example.org"))


@pytest.mark.usefixtures("core")
async def test_private_calendar_feed_regenerate_and_revoke() -> None:
    leader, _, _ = await band_with_songs("Feeds")
    ava = await member_of(leader, "ava@feeds.org")
    await new_gig(leader, "Soon", days=2)
    await new_gig(leader, "Long ago", days=-200)
    async with db.session() as session:
        token = await gigs.new_feed(session, ava)
        assert (await gigs.my_feed(session, ava)).token_hash != token  # type: ignore[union-attr]
    calendar = await _ics(token)
    events = calendar.walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == ["Soon"]
    assert str(events[0]["LOCATION"]) == "The Blue Room, 1 Harbour St"
    assert "https://band.example.org/gigs/" in str(events[0]["DESCRIPTION"])
    assert events[0].decoded("DTEND") - events[0].decoded("DTSTART") == timedelta(hours=3)
    async with db.session() as session:
        fresh = await gigs.new_feed(session, ava)  # regenerate: the old URL stops working
    with pytest.raises(NotFound):
        await _ics(token)
    assert (await _ics(fresh)).walk("VEVENT")
    async with db.session() as session:
        with pytest.raises(Forbidden):
            await gigs.revoke_feed(session, await member_of(leader, "luis@feeds.org"), ava.membership_id)
        rows = {row.membership_id: row for row in await gigs.feeds(session, leader)}
        assert rows[ava.membership_id].created_at is not None and rows[ava.membership_id].last_used_at is not None
        assert await gigs.revoke_feed(session, leader, ava.membership_id) == 1
    for dead in (fresh, "", "x" * 500, "guess"):
        with pytest.raises(NotFound):
            await _ics(dead)


@pytest.mark.usefixtures("core")
async def test_a_feed_dies_with_the_membership() -> None:
    leader, _, _ = await band_with_songs("Leaving")
    ava = await member_of(leader, "ava@leaving.org")
    async with db.session() as session:
        token = await gigs.new_feed(session, ava)
    async with db.session() as session:
        await members.remove_member(session, leader, ava.membership_id)
    with pytest.raises(NotFound):
        await _ics(token)




@pytest.mark.usefixtures("core")
async def test_a_substitute_sees_only_their_gig_and_loses_access_after_it() -> None:
    leader, songs, _ = await band_with_songs("Subs", songs=2)
    ours = await new_setlist(leader, "Tonight")
    await apply_op(leader, ours, Op.insert_song(songs[0]))
    secret = await new_setlist(leader, "Other night")
    gig_id = await new_gig(leader, "Tonight", days=0.1, setlist_id=ours)
    other_gig = await new_gig(leader, "Next month", days=30, setlist_id=secret)
    sub = await new_sub(leader, gig_id)
    assert sub.is_sub and sub.gig_id == gig_id and not sub.is_leader
    async with db.session() as session:
        assert [g.id for g in await gigs.upcoming(session, sub, limit=10)] == [gig_id]
        assert [s.id for s in await setlists.list_setlists(session, sub)] == [ours]
        assert [e.label for e in await setlists.entries(session, sub, ours)] == ["Subs song 1"]
        assert [s.title for s in (await setlist_plan.stand_plan(session, sub, ours)).stops] == ["Subs song 1"]
        assert await song_scope.sub_song_ids(session, sub) == {songs[0]}
        assert await song_scope.sub_song_ids(session, leader) is None
        for refused in (setlists.get_setlist(session, sub, secret), gigs.get_gig(session, sub, other_gig)):
            with pytest.raises(NotFound):
                await refused
        with pytest.raises(Forbidden):
            await gigs.invite_sub(session, sub, gig_id, email="x@y.org", name="X", instruments=[
                {"instrument": "bass", "chair": None}])
        with pytest.raises(InvalidInput, match="already in the band"):
            await gigs.invite_sub(session, leader, gig_id, email="lead@subs.org", name="Lead", instruments=[
                {"instrument": "bass", "chair": None}])
        assert [u.email for _, u in await gigs.subs(session, leader, gig_id)] == ["sub@elsewhere.org"]
        expiry = (await session.get(Membership, sub.membership_id)).expires_at  # type: ignore[union-attr]
    assert expiry is not None and expiry > utcnow()
    async with db.session() as session:  # the gig moves a day later: so does the sub's access
        gig = await session.get(Gig, gig_id)
        assert gig is not None
        await gigs.update_gig(session, leader, gig_id, starts_at=gig.starts_at + timedelta(days=1))
        later = (await session.get(Membership, sub.membership_id)).expires_at  # type: ignore[union-attr]
        assert later is not None and later - expiry == timedelta(days=1)
    async with db.session() as session:
        await session.exec(update(Membership).where(Membership.id == sub.membership_id)  # type: ignore[arg-type]
                           .values(expires_at=utcnow() - timedelta(seconds=1)))
        token = await auth.start_session(session, sub.user_id, leader.band_id)
    async with db.session() as session:
        with pytest.raises(NotSignedIn, match="substitute has ended"):
            await auth.resolve(session, token)


@pytest.mark.usefixtures("core")
async def test_deleting_the_gig_ends_the_substitute() -> None:
    leader, _, _ = await band_with_songs("Cancelled")
    gig_id = await new_gig(leader, days=1)
    sub = await new_sub(leader, gig_id)
    async with db.session() as session:
        token = await auth.start_session(session, sub.user_id, leader.band_id)
        await gigs.delete_gig(session, leader, gig_id)
    async with db.session() as session:
        with pytest.raises(NotSignedIn):
            await auth.resolve(session, token)
        assert (await session.exec(select(Membership).where(Membership.role == Role.SUB))).all() == []


@pytest.mark.usefixtures("core")
async def test_finished_gigs_record_what_was_played() -> None:
    leader, songs, _ = await band_with_songs("Played", songs=3)
    setlist_id = await new_setlist(leader)
    for song in songs[:2]:
        await apply_op(leader, setlist_id, Op.insert_song(song))
    gig_id = await new_gig(leader, "Last week", days=-7, setlist_id=setlist_id)
    await new_gig(leader, "Next week", days=7, setlist_id=setlist_id)  # not played yet
    async with db.session() as session:
        when = await gigs.last_played(session, leader, songs[0])
        gig = await session.get(Gig, gig_id)
        history = await gigs.play_history(session, leader, songs[1])
        assert await gigs.last_played(session, leader, songs[2]) is None
        assert await gigs.settle_history(session, leader.band_id) == 0  # recorded once
        many = await gigs.last_played_many(session, leader, songs)
    assert gig is not None and when == gig.starts_at
    assert many == {songs[0]: when, songs[1]: when}  # one query for a list, the same answers
    assert [(h.gig_id, h.gig_title) for h in history] == [(gig_id, "Last week")]
    await apply_op(leader, setlist_id, Op.remove(await _first_item(leader, setlist_id)))
    async with db.session() as session:  # editing the setlist later doesn't rewrite history
        assert [p.song_id for p in await gigs.played_at_gig(session, leader, gig_id)] == songs[:2]
        other, _, _ = await band_with_songs("Nosy")
        with pytest.raises(NotFound):
            await gigs.last_played(session, other, songs[0])
        assert await gigs.last_played_many(session, other, songs) == {}  # another band's songs: nothing


async def _first_item(leader: Actor, setlist_id: int) -> int:
    async with db.session() as session:
        return (await setlists.entries(session, leader, setlist_id))[0].item_id


async def test_the_feed_url_needs_no_session_and_nothing_else(user: User) -> None:
    leader, _, _ = await band_with_songs("Http")
    ava = await member_of(leader, "ava@http.org")
    await new_gig(leader, "Friday Night Swing", days=2)
    async with db.session() as session:
        token = await gigs.new_feed(session, ava)
    response = await user.http_client.get(f"/calendar/{token}.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert "Friday Night Swing" in response.text and "BEGIN:VCALENDAR" in response.text
    for bad in (f"/calendar/{token}x.ics", "/calendar/nothing.ics", f"/calendar/{token}"):
        missing = await user.http_client.get(bad)
        assert missing.status_code == 404 and "Traceback" not in missing.text


@pytest.mark.usefixtures("core")
async def test_a_substitute_reads_only_their_gigs_songs_in_the_library() -> None:
    """Search, the song page, a chart, a recording and a key preference: the sub's gig's setlist and nothing else."""
    leader, songs, _ = await band_with_songs("Sub Library", songs=3)
    ours = await new_setlist(leader, "Tonight")
    await apply_op(leader, ours, Op.insert_song(songs[0]))
    gig_id = await new_gig(leader, "Tonight", days=0.1, setlist_id=ours)
    async with db.session() as session:
        charts = [Chart(band_id=leader.band_id, song_id=song_id, file_name=f"{n}.pdf", source_file_id=f"f{n}",
                        checksum=f"{n}" * 16, part_key="instrument:trombone", page_count=1)
                  for n, song_id in enumerate(songs[:2])]
        tracks = [AudioTrack(band_id=leader.band_id, song_id=song_id, file_name=f"{n}.mp3", source_file_id=f"a{n}",
                             checksum=f"a{n}" * 8, mime_type="audio/mpeg", size=10)
                  for n, song_id in enumerate(songs[:2])]
        session.add_all([*charts, *tracks])
    sub = await new_sub(leader, gig_id)
    async with db.session() as session:
        assert [r.song_id for r in (await library.search_songs(session, sub)).rows] == [songs[0]]
        assert [r.song_id for r in (await library.search_songs(session, leader)).rows] == songs
        assert (await library.song_detail(session, sub, songs[0])).chart_id == charts[0].id
        assert (await library.get_chart(session, sub, charts[0].id or 0)).id == charts[0].id
        assert (await library.get_audio(session, sub, tracks[0].id or 0)).id == tracks[0].id
        for refused in (library.song_detail(session, sub, songs[1]), library.chart_for_member(session, sub, songs[1]),
                        library.get_chart(session, sub, charts[1].id or 0),
                        library.get_audio(session, sub, tracks[1].id or 0),
                        library.set_member_pref(session, sub, songs[1], octave_shift=1)):
            with pytest.raises(NotFound):
                await refused
