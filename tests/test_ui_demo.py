"""The demo band through NiceGUI's simulated user: sign in with one tap, home, library, stand, media access."""

from __future__ import annotations

import pytest
from nicegui.testing import User
from sqlmodel import select

from soleil_ui.db import db
from soleil_ui.models import Chart, ChartStatus, Song
from soleil_ui.models import User as UserAccount
from soleil_ui.settings import Settings
from tests.library_helpers import demo_sign_in, open_refused
from tests.markers import SQLITE_ONLY

pytestmark = [SQLITE_ONLY, pytest.mark.usefixtures("demo_env")]


async def _enter_as(user: User, name: str) -> None:
    """What a tap on a demo member does: POST /auth/demo/<id> (with the session's CSRF token) sets the session
    cookie and redirects home.

    (The simulated user can't follow an HTTP redirect from a click; the browser test taps for real.)
    """
    await user.open("/login")
    await user.should_see(name)
    async with db.session() as session:
        user_id = (await session.exec(select(UserAccount.id).where(UserAccount.name == name))).one()
    response = await demo_sign_in(user.http_client, user_id)
    assert response.status_code == 303 and response.headers["location"] == "/"
    await user.open("/")
    await user.should_see("The Sunset Swing Band")


async def test_anonymous_visitor_is_sent_to_sign_in(user: User) -> None:
    await user.open("/")
    await user.should_see("Try the demo band")
    await user.should_see("Ava Brooks")
    await user.should_not_see("Friday Night Swing")


async def test_trumpet_player_signs_in_and_sees_band_gig_and_library(user: User) -> None:
    await _enter_as(user, "Ava Brooks")
    await user.should_see("Hi Ava")
    await user.should_see("Friday Night Swing")
    await user.should_see("The Blue Room")
    await user.should_see("Friday at the Blue Room")
    await user.open("/library")
    await user.should_see("12 songs")
    await user.should_see("Brass Tacks")


async def test_library_search_as_you_type(user: User) -> None:
    await _enter_as(user, "Ava Brooks")
    await user.open("/library")
    await user.should_see("12 songs")
    user.find("Search songs").type("cafe")
    await user.should_see("1 songs")
    await user.should_see("Café Olé")
    await user.should_not_see("Brass Tacks")


async def test_song_page_offers_my_part_and_stand_opens(user: User) -> None:
    await _enter_as(user, "Ava Brooks")
    async with db.session() as session:
        song = (await session.exec(select(Song).where(Song.title == "Brass Tacks"))).one()
    await user.open(f"/songs/{song.id}")
    await user.should_see("Your part: B♭")
    user.find("Open my part").trigger("click")
    await user.should_see(kind=__import__("components.stand", fromlist=["Stand"]).Stand)


async def test_leader_sees_broken_demo_files_with_reasons(user: User) -> None:
    await _enter_as(user, "Morgan Lee")
    await user.open("/library/files")
    await user.should_see("Broken - Bb.pdf")
    await user.should_see("Can't be read: The file is empty")


async def test_member_is_refused_the_leaders_page(user: User) -> None:
    await _enter_as(user, "Ava Brooks")
    shown = await open_refused(user.http_client, "/library/files", 403)
    assert "Only the band's leaders can do that." in shown


async def test_page_images_need_a_member_of_the_band(user: User, demo_env: Settings) -> None:
    async with db.session() as session:
        chart = (
            await session.exec(
                select(Chart).where(Chart.status == ChartStatus.OK, Chart.file_name == "Brass Tacks - Bb.pdf")
            )
        ).one()
    url = f"/media/charts/{chart.id}/pages/0?w=800&v={chart.checksum[:16]}"
    anonymous = await user.http_client.get(url)
    assert anonymous.status_code == 401
    assert "Traceback" not in anonymous.text
    await _enter_as(user, "Ava Brooks")
    response = await user.http_client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/webp"
    assert response.content[:4] == b"RIFF"
    assert "immutable" in response.headers["cache-control"]
    etag = response.headers["etag"]
    again = await user.http_client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    missing = await user.http_client.get(f"/media/charts/{chart.id}/pages/99")
    assert missing.status_code == 404 and missing.text == "That page doesn't exist."


async def test_reference_audio_streams_with_range_and_stays_in_the_band(user: User, demo_env: Settings) -> None:
    from soleil_ui.models import AudioTrack
    from tests.library_helpers import leader_token, session_cookie

    async with db.session() as session:
        track = (await session.exec(select(AudioTrack))).first()
        chart = (await session.exec(select(Chart).where(Chart.status == ChartStatus.OK))).first()
    assert track is not None and chart is not None
    await _enter_as(user, "Ava Brooks")
    whole = await user.http_client.get(f"/media/audio/{track.id}")
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    part = await user.http_client.get(f"/media/audio/{track.id}", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole.content)}"
    assert part.content == whole.content[100:200]

    _band_id, token = await leader_token("Another Band", "other@example.org")
    user.http_client.cookies.set("session", session_cookie(token, demo_env.effective_secret_key()))
    assert (await user.http_client.get(f"/media/audio/{track.id}")).status_code == 404
    assert (await user.http_client.get(f"/media/charts/{chart.id}/pages/0?w=800")).status_code == 404


async def test_the_stand_offers_the_songs_recording_and_only_with_one(user: User) -> None:
    """The stand's recording button (``Stand.recording``): the song's own track, served to this member by the
    band-scoped media route; a song without a recording gets none; a setlist's songs each carry theirs."""
    from components.stand import Stand
    from soleil_ui.models import AudioTrack, Setlist, SetlistItem

    async with db.session() as session:
        tracks = (await session.exec(select(AudioTrack).where(AudioTrack.checksum != ""))).all()
        heard = {t.song_id for t in tracks}
        charts = (await session.exec(select(Chart).where(Chart.status == ChartStatus.OK))).all()
        setlist = (await session.exec(select(Setlist))).first()
        assert setlist is not None
        items = (await session.exec(select(SetlistItem).where(SetlistItem.setlist_id == setlist.id))).all()
    with_track = next(c for c in charts if c.song_id in heard)
    without = next(c for c in charts if c.song_id is not None and c.song_id not in heard)
    track = min((t for t in tracks if t.song_id == with_track.song_id), key=lambda t: (t.file_name, t.id))
    await _enter_as(user, "Ava Brooks")

    await user.open(f"/stand/{with_track.id}")
    url = next(iter(user.find(kind=Stand).elements)).recording
    assert url == f"/media/audio/{track.id}?v={track.checksum[:16]}"
    assert (await user.http_client.get(url)).status_code == 200  # the very URL plays for this member
    await user.open(f"/stand/{without.id}")
    assert next(iter(user.find(kind=Stand).elements)).recording == ""  # no button without a recording

    await user.open(f"/live/{setlist.id}")
    songs = next(iter(user.find(kind=Stand).elements)).props["songs"]
    by_item = {i.id: i.song_id for i in items}
    assert songs and all(bool(s.get("recording")) == (by_item[s["item_id"]] in heard) for s in songs)
    assert any(s.get("recording") for s in songs) and not all(s.get("recording") for s in songs)

    from soleil_ui.services.recordings import recording_urls
    assert with_track.song_id is not None
    async with db.session() as session:  # a substitute's scope (their gig's songs) leaves other songs without one
        assert await recording_urls(session, with_track.band_id, [with_track.song_id], scope=set()) == {}
        assert await recording_urls(session, with_track.band_id + 1000, [with_track.song_id]) == {}  # another band
