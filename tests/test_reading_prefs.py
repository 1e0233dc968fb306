"""Reading preferences in the database: set on the profile or by a leader, kept per band, used for every chart a
member is given (the stand, setlists, the "in my part" filter). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from soleil_ui.access import Actor
from soleil_ui.api import calls
from soleil_ui.db import db
from soleil_ui.errors import Forbidden, InvalidInput, NotFound
from soleil_ui.models import Membership, Role, Song
from soleil_ui.models import User as Account
from soleil_ui.services import auth, library, members, offline, setlist_plan, setlists, tokens
from soleil_ui.services.sync import sync_configured
from soleil_ui.settings import Settings
from tests.api_helpers import token_for
from tests.library_helpers import add_member, band_with_member, titled_pdf

pytestmark = pytest.mark.usefixtures("core")
BASS = [{"instrument": "bass", "chair": None}]


async def _again(actor: Actor) -> Actor:
    """The actor as the next request sees it (the session resolved again)."""
    async with db.session() as session:
        token = await auth.start_session(session, actor.user_id, actor.band_id)
    async with db.session() as session:
        return await auth.resolve(session, token)


def _folder(target: Path) -> Path:
    target.mkdir()
    for name in ("Low Tide - Chords.pdf", "Low Tide - Trombone.pdf", "Low Tide - Concert.pdf",
                 "High Tide - Chords.pdf", "High Tide - Bass.pdf"):
        (target / name).write_bytes(titled_pdf(name))
    return target


async def test_a_bassists_preference_changes_the_stand_the_setlist_and_the_filter(tmp_path: Path) -> None:
    leader = await band_with_member("Tide Band", [{"instrument": "keys", "chair": None}], role=Role.LEADER,
                                    library=_folder(tmp_path / "lib"))
    bassist, _ = await add_member(leader.band_id, "bass@example.org", BASS)
    assert bassist.reading == {}
    await sync_configured(leader.band_id, prerender=False)
    async with db.session() as session:
        low = (await session.exec(select(Song).where(Song.title == "Low Tide"))).one()
        setlist = await setlists.create_setlist(session, leader, "Set")
        await setlists.add_song(session, leader, setlist.id or 0, low.id or 0)
        written = await library.chart_for_member(session, bassist, low.id or 0)
    assert (written.part_label, written.explanation) == ("Trombone", "Trombone part (no Bass chart)")

    async with db.session() as session:
        await members.save_profile(session, bassist, name="Sam", instruments=BASS, reading={"bass": "chords"})
    chords = await _again(bassist)
    assert chords.reading == {"bass": "chords"}
    async with db.session() as session:
        stand = await library.chart_for_member(session, chords, low.id or 0)
        plan = await setlist_plan.stand_plan(session, chords, setlist.id or 0)
        mine = await library.search_songs(session, chords, part=library.MINE)
        offline_before = await offline.offline_set(session, bassist, setlist.id or 0)
        offline_after = await offline.offline_set(session, chords, setlist.id or 0)
    assert (stand.part_label, stand.explanation) == ("Chords", "Your part: Chords")
    assert plan.stops[0].part_label == "Chords"
    assert [s.part_label for s in offline_before.songs] == ["Trombone"]
    assert [s.part_label for s in offline_after.songs] == ["Chords"]
    assert offline_before.digest != offline_after.digest  # a set kept offline is refreshed
    assert {r.title for r in mine.rows} == {"Low Tide", "High Tide"}
    assert library.reader_key(chords) != library.reader_key(bassist)  # the setlist stand's cache tells them apart

    async with db.session() as session:  # saving the profile without a reading keeps it
        await members.save_profile(session, chords, name="Sam O.", instruments=BASS)
    assert (await _again(chords)).reading == {"bass": "chords"}
    async with db.session() as session:  # a choice for an instrument no longer played goes with it
        await members.set_instruments(session, chords, [{"instrument": "tuba", "chair": None}])
    assert (await _again(chords)).reading == {}


async def test_an_api_token_reads_the_part_the_stand_gives(tmp_path: Path) -> None:
    """A token acts as the same member as the pages: the API and MCP (``calls``) give a bassist who reads chords
    the Chords part the stand gives, and a leader asking "what does the bassist read?" hears the same."""
    leader = await band_with_member("Token Tide", [{"instrument": "keys", "chair": None}], role=Role.LEADER,
                                    library=_folder(tmp_path / "lib"))
    bassist, _ = await add_member(leader.band_id, "bass@example.org", BASS)
    await sync_configured(leader.band_id, prerender=False)
    async with db.session() as session:
        await members.save_profile(session, bassist, name="Sam", instruments=BASS, reading={"bass": "chords"})
    chords = await _again(bassist)
    secret = await token_for(chords)
    async with db.session() as session:
        low = (await session.exec(select(Song).where(Song.title == "Low Tide"))).one()
        stand = await library.chart_for_member(session, chords, low.id or 0)
        grant = await tokens.resolve(session, secret)
    assert stand.part_label == "Chords"
    assert grant.actor.reading == {"bass": "chords"}
    by_token = await calls.my_part(grant, low.id or 0, pages=False)
    assert (by_token.chart_id, by_token.part_label) == (stand.chart_id, "Chords")
    leader_grant = tokens.Grant(leader, tokens.READ, 0)
    asked = await calls.my_part(leader_grant, low.id or 0, member_id=chords.membership_id, pages=False)
    assert (asked.chart_id, asked.part_label) == (stand.chart_id, "Chords")


async def test_a_lead_sheet_reader_finds_lead_sheets_in_my_part(tmp_path: Path) -> None:
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "Sea Breeze - Concert.pdf").write_bytes(titled_pdf("Sea Breeze"))
    pianist = await band_with_member("Band", [{"instrument": "piano", "chair": None}], library=folder)
    await sync_configured(pianist.band_id, prerender=False)
    async with db.session() as session:
        before = await library.search_songs(session, pianist, part=library.MINE)
        await members.save_profile(session, pianist, name="Nina", instruments=[{"instrument": "piano"}],
                                   reading={"piano": "lead_sheet"})
    async with db.session() as session:
        after = await library.search_songs(session, await _again(pianist), part=library.MINE)
    assert (before.total, [r.title for r in after.rows]) == (0, ["Sea Breeze"])
    assert after.rows[0].playable


async def test_a_leader_sets_what_a_member_plays_and_how_they_read() -> None:
    leader = await band_with_member("Band", [{"instrument": "keys", "chair": None}], role=Role.LEADER)
    singer, _ = await add_member(leader.band_id, "rosa@example.org", [{"instrument": "piano", "chair": None}])
    async with db.session() as session:
        await members.set_member_instruments(session, leader, singer.membership_id,
                                             instruments=[{"instrument": "vocals", "chair": None}],
                                             reading={"vocals": "lyrics"})
    again = await _again(singer)
    assert (again.instruments, again.reading) == (({"instrument": "vocals", "chair": None},), {"vocals": "lyrics"})
    assert library.member_instruments(again)[0].reads == "lyrics"


@pytest.mark.parametrize("reading", [{"bass": "lyrics"}, {"bass": 3}, "chords", {"bass": "x" * 1000}])
async def test_bad_reading_choices_get_a_clear_message(reading: object) -> None:
    bassist = await band_with_member("Band", BASS)
    async with db.session() as session:
        with pytest.raises(InvalidInput, match="how you read"):
            await members.save_profile(session, bassist, name="Sam", instruments=BASS, reading=reading)  # type: ignore


async def test_only_the_bands_leaders_set_someone_elses_instruments() -> None:
    leader = await band_with_member("Band", BASS, role=Role.LEADER)
    member, _ = await add_member(leader.band_id, "m@example.org", BASS)
    stranger = await band_with_member("Other Band", BASS, role=Role.LEADER)
    async with db.session() as session:
        with pytest.raises(Forbidden):
            await members.set_member_instruments(session, member, leader.membership_id, instruments=BASS,
                                                 reading={"bass": "chords"})
        with pytest.raises(NotFound):
            await members.set_member_instruments(session, stranger, member.membership_id, instruments=BASS,
                                                 reading={"bass": "chords"})
    async with db.session() as session:
        rows = (await session.exec(select(Membership.reading))).all()
    assert all(r == {} for r in rows)


async def test_the_demo_bassist_gets_bass_clef_parts_not_chords(demo_env: Settings) -> None:
    """The issue's first bug, on the demo band itself: Sam (bass) was handed Chords or a treble lead sheet."""
    from soleil_ui.demo import demo_email, ensure_demo

    band_id = await ensure_demo(demo_env)
    async with db.session() as session:
        user = (await session.exec(select(Account).where(Account.email == demo_email("bass")))).one()
        token = await auth.start_session(session, user.id or 0, band_id)
    async with db.session() as session:
        sam = await auth.resolve(session, token)
        songs = {s.title: s.id for s in (await session.exec(select(Song).where(Song.band_id == band_id))).all()}
        got = {title: await library.chart_for_member(session, sam, song_id or 0) for title, song_id in songs.items()}
    labels = {title: r.part_label for title, r in got.items()}
    assert labels["Green Street Groove"] == "Trombone"
    assert {labels[t] for t in ("Midnight Ferry", "Blue Harbor Blues", "Café Olé", "Brass Tacks")} == {"Bass clef"}
    assert labels["Saint Clair Shuffle"] == "Chords" and labels["Coffee at Five"] == "Concert"
    assert got["Green Street Groove"].explanation == "Trombone part (no Bass chart)"
