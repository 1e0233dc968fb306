"""Generated parts through NiceGUI's simulated user on a demo band whose library holds a MusicXML lead sheet, a
ChordPro sheet and a PDF: the song page (my engraved part, every part, PDFs to print, my key and octave), and the
SVG and print routes — headers, caching, junk, and band isolation. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, unquote, urlsplit

from nicegui import background_tasks
from nicegui.testing import User
from sqlmodel import select

from soleil_ui.db import db
from soleil_ui.demo import demo_band_id
from soleil_ui.models import Chart, MemberSongPref
from soleil_ui.models import User as UserAccount
from soleil_ui.runtime import get_runtime
from soleil_ui.settings import Settings
from tests.generated_helpers import generated_library, ready, song
from tests.library_helpers import demo_sign_in, leader_token, session_cookie
from tests.markers import SQLITE_ONLY

pytestmark = SQLITE_ONLY

__all__ = ["generated_library"]  # autouse: the library of one score, one chord sheet and one PDF
NOTATION = Path(__file__).parent / "fixtures" / "notation"
CHARTS = Path(__file__).parent / "fixtures" / "charts"




async def enter_as(user: User, name: str) -> None:
    async with db.session() as session:
        user_id = (await session.exec(select(UserAccount.id).where(UserAccount.name == name))).one()
    response = await demo_sign_in(user.http_client, user_id)
    assert response.status_code == 303






async def chart(file_name: str) -> Chart:
    async with db.session() as session:
        return (await session.exec(select(Chart).where(Chart.file_name == file_name))).one()


def href(user: User, marker: str) -> str:
    element = next(iter(user.find(marker=marker).elements))
    return str(element.props.get("href") or element.props.get("src") or getattr(element, "source", ""))


async def settled(action: Callable[[], object]) -> None:
    """Do ``action`` (a tap) and wait for the handlers it started (awaited, not timed)."""
    before = set(background_tasks.running_tasks)
    action()
    started = [t for t in background_tasks.running_tasks if t not in before]
    if started:
        await asyncio.wait(started, timeout=30)


async def test_song_page_offers_my_engraved_part_every_part_and_pdfs(user: User) -> None:
    await ready()
    await enter_as(user, "Theo Marsh")  # trombone
    tune = await song("Tune")
    await user.open(f"/songs/{tune.id}")
    await user.should_see("Your part: Trombone — generated from the MusicXML score")
    await user.should_see("Open my part")
    await user.should_see("All parts")
    for key, label in (("concert", "Concert"), ("bb", "B♭"), ("eb", "E♭"), ("bass_clef", "Bass clef"),
                       ("chords", "Chords")):
        await user.should_see(label, marker=f"part-{key}")
    await user.should_see("Generated from the MusicXML score")

    preview = href(user, "my-preview")
    assert preview.startswith("/media/charts/") and "part=instrument%3Atrombone" in preview
    svg = await user.http_client.get(preview)
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.headers["x-content-type-options"] == "nosniff" and "immutable" in svg.headers["cache-control"]
    assert "default-src 'none'" in svg.headers["content-security-policy"]
    assert svg.text.lstrip().startswith("<svg") and "E062" in svg.text  # the F clef

    pdf = await user.http_client.get(href(user, "my-pdf"))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert unquote(pdf.headers["content-disposition"]) == "attachment; filename*=utf-8''Tune - Trombone.pdf"
    concert = await user.http_client.get(href(user, "pdf-concert"))
    assert concert.status_code == 200 and concert.content.startswith(b"%PDF")
    marked = parse_qs(urlsplit(href(user, "my-marked-pdf")).query)  # with my marks: printed as the stand lays it out
    assert dict(parse_qsl(marked["layout"][0]))["part"] == parse_qs(urlsplit(preview).query)["part"][0]

    user.find(marker="part-eb").click()  # any member may open any part
    await user.should_see(kind=__import__("components.stand", fromlist=["Stand"]).Stand)


async def test_singer_gets_the_words_and_a_pdf_chart_still_prints_its_own_file(user: User) -> None:
    await ready()
    await enter_as(user, "Rosa Díaz")  # vocals
    grace = await song("Amazing Grace")
    await user.open(f"/songs/{grace.id}")
    await user.should_see("Your part: Lyrics — generated from the chord sheet")
    await user.should_see("Generated from the chord sheet")
    take_five = await song("Take Five")
    await enter_as(user, "Ava Brooks")  # trumpet: the B♭ PDF is her part
    await user.open(f"/songs/{take_five.id}")
    await user.should_see("Your part: B♭")
    original = await chart("Take Five - Bb.pdf")
    printed = await user.http_client.get(href(user, "my-pdf"))
    assert printed.status_code == 200 and printed.content == await get_runtime().blobs.read(original.checksum)
    assert unquote(printed.headers["content-disposition"]).endswith("Take Five - B♭.pdf")


async def test_member_keeps_their_own_key_and_octave_for_a_song(user: User) -> None:
    await ready()
    await enter_as(user, "Ava Brooks")
    tune = await song("Tune")
    await user.open(f"/songs/{tune.id}")
    await user.should_see("Your part: Trumpet — generated from the MusicXML score")
    user.find(marker="pref-octave").click()
    await settled(lambda: user.find("An octave down").click())
    await user.should_see("Saved for you: in the engraved key, an octave down")
    key = next(iter(user.find(marker="pref-key").elements))
    assert "D♭" in key.options.values() and "B♭" in key.options.values()  # "D" alone is too common to click by text
    await settled(lambda: key.set_value("D"))
    await user.should_see("Saved for you: in D, an octave down")
    assert "key=D" in href(user, "my-preview") and "oct=-1" in href(user, "my-preview")
    async with db.session() as session:
        [pref] = (await session.exec(select(MemberSongPref))).all()
    assert (pref.song_id, pref.musical_key, pref.octave_shift) == (tune.id, "D", -1)
    await user.open(f"/songs/{tune.id}")  # remembered
    assert "key=D" in href(user, "my-preview")


async def test_engraved_pages_and_prints_stay_in_the_band(user: User, generated_library: Settings) -> None:
    await ready()
    tune = await chart("Tune.musicxml")
    pdf = await chart("Take Five - Bb.pdf")
    url = f"/media/charts/{tune.id}/svg/0?w=800&part=bb&kind=musicxml&v={tune.checksum[:16]}"
    printed = f"/media/charts/{tune.id}/print.pdf?part=bb&ck=C"
    anonymous = await user.http_client.get(url)
    assert anonymous.status_code == 401 and "Traceback" not in anonymous.text

    await enter_as(user, "Luis Ortega")  # any member may open any part
    first = await user.http_client.get(url)
    assert first.status_code == 200 and "<svg" in first.text
    etag = first.headers["etag"]
    again = await user.http_client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert (await user.http_client.get(url.replace("w=800", "w=790"))).headers["etag"] == etag  # snapped width
    tonight = await user.http_client.get(url + "&ck=C")
    assert tonight.status_code == 200 and tonight.headers["etag"] != etag
    same_key = await user.http_client.get(url + "&ck=B%E2%99%AD")  # the file's own key: the same drawing
    assert same_key.headers["etag"] == etag
    assert (await user.http_client.get(printed)).content.startswith(b"%PDF")
    missing = await user.http_client.get(url.replace("/svg/0", "/svg/7"))
    assert missing.status_code == 404 and missing.text == "That page doesn't exist."
    junk = await user.http_client.get(url.replace("part=bb", "part=kazoo"))
    assert junk.status_code == 422 and "Traceback" not in junk.text
    assert (await user.http_client.get(url + "&oct=9")).status_code == 422
    assert (await user.http_client.get(f"/media/charts/{pdf.id}/svg/0?w=800")).status_code == 404
    as_pdf_page = await user.http_client.get(f"/media/charts/{tune.id}/pages/0?w=800")
    assert as_pdf_page.status_code == 303 and "/svg/0?" in as_pdf_page.headers["location"]

    _band_id, token = await leader_token("Another Band", "other@example.org")
    user.http_client.cookies.set("session", session_cookie(token, generated_library.effective_secret_key()))
    for foreign in (url, printed, f"/media/charts/{pdf.id}/print.pdf"):
        answer = await user.http_client.get(foreign)
        assert answer.status_code == 404, foreign
    async with db.session() as session:
        assert (await session.get(Chart, tune.id)) is not None


async def test_the_stand_opens_my_engraved_part_any_part_and_the_setlists_key(user: User) -> None:
    from components.stand import Stand
    from soleil_ui.services import auth, setlists

    await ready()
    await enter_as(user, "Ava Brooks")  # trumpet
    tune = await chart("Tune.musicxml")
    await user.open(f"/stand/{tune.id}")  # from the library: my part, engraved for a trumpet
    stand = next(iter(user.find(kind=Stand).elements))
    src = str(stand.props["pages"][0]["src"])
    assert src.startswith(f"/media/charts/{tune.id}/svg/0?") and "part=instrument%3Atrumpet" in src
    assert stand.props["part_label"] == "Trumpet · engraved from the score"
    assert (await user.http_client.get(src)).status_code == 200
    html = (await user.http_client.get(f"/stand/{tune.id}")).text  # the first page before the app's scripts run
    assert '<div id="sl-first" class="sl-first"' in html and f"i.src = {json.dumps(src)}" in html

    await user.open(f"/stand/{tune.id}?part=eb")  # the song page's list: any part
    stand = next(iter(user.find(kind=Stand).elements))
    assert "part=eb" in str(stand.props["pages"][0]["src"]) and stand.props["part_label"].startswith("E♭")
    junk = await user.http_client.get(f"/stand/{tune.id}?part=%3Cscript%3E")
    assert "Choose a part to show." in junk.text and "Traceback" not in junk.text

    band_id = await demo_band_id()
    assert band_id is not None
    async with db.session() as session:
        leader_id = (await session.exec(select(UserAccount.id).where(UserAccount.name == "Morgan Lee"))).one()
        token = await auth.start_session(session, leader_id, band_id)
    async with db.session() as session:
        leader = await auth.resolve(session, token)
        setlist = await setlists.create_setlist(session, leader, "Key of the night")
        assert setlist.id is not None
        tune_song = await song("Tune")
        await setlists.add_song(session, leader, setlist.id, tune_song.id or 0, musical_key="C")
        await setlists.add_song(session, leader, setlist.id, (await song("Take Five")).id or 0)
    await user.open(f"/live/{setlist.id}")
    stand = next(iter(user.find(kind=Stand).elements))
    first, second = stand.props["songs"]
    assert "ck=C" in str(first["pages"][0]["src"])
    assert first["part_label"] == ("Trumpet · engraved from the score · Tonight: concert C · your B♭ part reads D · "
                                   "engraved in D for you")
    assert "/pages/0?" in str(second["pages"][0]["src"]) and second["part_label"] == "B♭"
    assert stand.props["pages"] == first["pages"]
    await user.open(f"/stand/{tune.id}?setlist={setlist.id}")  # the setlist's stand, stepping through its songs
    stand = next(iter(user.find(kind=Stand).elements))
    assert stand.props["songs"] and "ck=C" in str(stand.props["pages"][0]["src"])
