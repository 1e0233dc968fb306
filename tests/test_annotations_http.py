"""The pencil's HTTP routes: the member's band only, the session's anti-forgery header on every POST, JSON checked,
and the per-account rate limit."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from typing import Any

import pytest
from itsdangerous import TimestampSigner
from nicegui.testing import User

from soleil_ui.models import Role
from soleil_ui.runtime import get_runtime
from soleil_ui.security import csrf_token
from soleil_ui.settings import Settings, get_settings
from tests.library_helpers import add_member, band_with_member
from tests.markers import SQLITE_ONLY
from tests.test_annotations import _chart, stroke


def sign_in(app: User, token: str) -> str:
    """Put the member's session (with a browser session id) in the client's cookie; the CSRF token for it."""
    secret = get_runtime().settings.effective_secret_key()
    data = base64.b64encode(json.dumps({"soleil_sid": token, "id": "browser-1"}).encode())
    app.http_client.cookies.set("session", TimestampSigner(secret).sign(data).decode())
    return csrf_token(secret, "browser-1")


@pytest.fixture
def tight(app_env: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("SOLEIL_LIMIT_ANNOTATIONS", "4/minute")
    get_settings.cache_clear()
    return get_settings()


async def test_push_and_fetch_marks_with_csrf_band_isolation_and_limits(tight: Settings, user: User) -> None:
    leader = await band_with_member("Hot Five", [{"instrument": "piano"}], role=Role.LEADER)
    _alice, alice_token = await add_member(leader.band_id, "alice@example.org", [{"instrument": "trumpet"}])
    chart, _song = await _chart(leader.band_id)
    other = await band_with_member("Other", [{"instrument": "trumpet"}], role=Role.LEADER)
    _eve, eve_token = await add_member(other.band_id, "eve@example.org", [{"instrument": "trumpet"}])

    csrf = sign_in(user, alice_token)
    mark = stroke("part")
    body = {"part": None, "add": [mark], "delete": []}
    refused = await user.http_client.post(f"/annotations/{chart}", json=body)
    assert refused.status_code == 403  # no token: another site can't draw on our charts
    wrong = await user.http_client.post(f"/annotations/{chart}", json=body, headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 403
    sent = await user.http_client.post(f"/annotations/{chart}", json=body, headers={"X-CSRF-Token": csrf})
    assert sent.status_code == 200, sent.text
    assert sent.json()["added"] == [mark["id"]]
    fetched = await user.http_client.get(f"/annotations/{chart}?page=0")
    assert fetched.status_code == 200 and [s["id"] for s in fetched.json()["strokes"]] == [mark["id"]]
    by_id = await user.http_client.get(f"/annotations/{chart}", params={"ids": f"{mark['id']},{uuid.uuid4()}"})
    assert [s["points"] for s in by_id.json()["strokes"]] == [[[0.1, 0.2], [0.3, 0.25]]]
    junk = await user.http_client.post(f"/annotations/{chart}", content=b"{not json",
                                       headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"})
    assert junk.status_code == 422 and "JSON" in junk.text
    bad = await user.http_client.post(f"/annotations/{chart}", json={"add": [stroke(points=[[2, 2]])]},
                                      headers={"X-CSRF-Token": csrf})
    assert bad.status_code == 422 and "between 0 and 1" in bad.text
    busy = await user.http_client.post(f"/annotations/{chart}", json=body, headers={"X-CSRF-Token": csrf})
    assert busy.status_code == 200  # the same batch again: nothing new (4th request)
    limited = await user.http_client.post(f"/annotations/{chart}", json=body, headers={"X-CSRF-Token": csrf})
    assert limited.status_code == 429 and "retry-after" in limited.headers

    eve_csrf = sign_in(user, eve_token)
    assert (await user.http_client.get(f"/annotations/{chart}")).status_code == 404
    theirs = await user.http_client.post(f"/annotations/{chart}", json={"delete": [mark["id"]]},
                                         headers={"X-CSRF-Token": eve_csrf})
    assert theirs.status_code == 404
    user.http_client.cookies.clear()
    assert (await user.http_client.get(f"/annotations/{chart}")).status_code == 401


async def test_the_pdf_download_carries_my_marks_and_the_shared_ones_not_others_private(user: User) -> None:
    import io

    from PIL import Image

    from soleil_ui import rendering
    from soleil_ui.db import db
    from soleil_ui.models import Chart
    from soleil_ui.services import annotations
    from tests.library_helpers import titled_pdf

    leader = await band_with_member("Hot Five", [{"instrument": "piano"}], role=Role.LEADER)
    alice, alice_token = await add_member(leader.band_id, "alice@example.org", [{"instrument": "trumpet"}])
    bob, _ = await add_member(leader.band_id, "bob@example.org", [{"instrument": "trumpet"}])
    chart, _song = await _chart(leader.band_id)
    original = titled_pdf("Take Five", 2)
    await get_runtime().blobs.put("c1", original)
    async with db.session() as session:
        row = await session.get(Chart, chart)
        assert row is not None
        row.page_sizes = [[595.28, 841.89]] * 2
        session.add(row)
        line = {"color": "#000000", "width": 0.02, "tool": "pen"}
        await annotations.apply(session, alice, chart, None, add=[  # hers and shared, across the middle
            stroke("mine", **line, points=[[0.1, 0.5], [0.9, 0.5]]), stroke("part", page=1, **line,
                                                                           points=[[0.1, 0.5], [0.9, 0.5]]),
            stroke("part", tool="link", points=[[0.8, 0.1], [0.2, 0.1]], text="1")])  # a jump: where it goes
        await annotations.apply(session, bob, chart, None, add=[  # bob's own, at 30 %: not in alice's print
            stroke("mine", **line, points=[[0.1, 0.3], [0.9, 0.3]])])
        await annotations.apply(session, leader, chart, None, add=[
            stroke("song", tool="text", text="Cut to letter C", points=[])])
    sign_in(user, alice_token)
    answer = await user.http_client.get(f"/annotations/{chart}/print.pdf")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf" and "attachment" in answer.headers["content-disposition"]

    def shade(data: bytes, page: int, at: float) -> int:
        image = Image.open(io.BytesIO(rendering.render_page(data, page, 400))).convert("L")
        return min(int(image.getpixel((x, round(image.height * at))) or 0) for x in range(150, 250))  # type: ignore[arg-type]

    assert shade(original, 0, 0.5) == 255 and shade(original, 1, 0.5) == 255
    assert shade(answer.content, 0, 0.5) < 80 and shade(answer.content, 1, 0.5) < 80  # mine and the part's
    assert shade(answer.content, 0, 0.3) == 255  # bob's private mark stays his
    import pypdfium2 as pdfium

    with pdfium.PdfDocument(answer.content) as pdf:
        text = pdf[0].get_textpage().get_text_range()
    assert "Cut to letter C" in text  # the song's note, on page 1
    assert "-> p. 2" in text  # the link's sign says where it jumps (paper can't)


async def test_the_stand_carries_the_pen_and_relays_only_what_the_reader_may_see(user: User) -> None:
    from components.pencil import Pencil
    from soleil_ui.events import Event, hub
    from soleil_ui.services import annotations

    leader = await band_with_member("Hot Five", [{"instrument": "piano"}], role=Role.LEADER)
    alice, alice_token = await add_member(leader.band_id, "alice@example.org", [{"instrument": "trumpet"}])
    chart, song = await _chart(leader.band_id)
    csrf = sign_in(user, alice_token)
    await user.open(f"/stand/{chart}")
    pencil = next(iter(user.find(kind=Pencil).elements))
    assert pencil.props["layers"] == ["mine", "part"] and pencil.props["leader"] is False  # no band layer for her
    assert pencil.props["csrf"] == csrf  # what the pen sends in X-CSRF-Token

    # Notices go out once per instance, to rooms (components/live_room.py): recorded on their way into socket.io
    from nicegui import core

    rooms: list[tuple[str, str, dict[str, Any]]] = []
    three = asyncio.Event()
    emit = core.sio.emit

    async def recorded_emit(event: str, data: Any = None, room: str | None = None, **kwargs: Any) -> None:
        if event == "soleil_marks":
            rooms.append((event, str(room), data))
            if len(rooms) >= 3:
                three.set()
        await emit(event, data, room=room, **kwargs)

    core.sio.emit = recorded_emit  # type: ignore[method-assign]
    sent: list[str] = []
    reloaded = asyncio.Event()
    outbox_emit = pencil.client.outbox._emit

    async def recorded(message: Any) -> None:  # what the server sends this browser alone, recorded on its way out
        _target, kind, data = message
        code = str(data.get("code", "")) if isinstance(data, dict) else ""
        if kind == "run_javascript" and f"runMethod({pencil.id}," in code:
            sent.append(code)
            reloaded.set()
        await outbox_emit(message)

    pencil.client.outbox._emit = recorded  # type: ignore[method-assign]
    topic = annotations.TOPIC
    try:
        await hub.publish(Event(leader.band_id, topic, {"chart": chart, "part": "bb", "song": song, "ids": ["a"],
                                                        "author": leader.membership_id}))  # the leader's private mark
        await hub.publish(Event(leader.band_id, topic, {"chart": chart, "part": "bb", "song": song, "ids": ["b"],
                                                        "author": None}))  # a shared one: its ids, nothing more
        await hub.publish(Event(leader.band_id, topic, {"chart": chart, "part": "bb", "song": song, "ids": ["c"],
                                                        "author": alice.membership_id}))  # hers, from another device
        await hub.publish(Event(leader.band_id, topic, {"resync": True}))  # events were lost: re-read
        await asyncio.wait_for(three.wait(), timeout=10)
        await asyncio.wait_for(reloaded.wait(), timeout=10)
    finally:
        core.sio.emit = emit  # type: ignore[method-assign]
    band = leader.band_id
    assert [room for _e, room, _d in rooms] == [f"marks:{band}:{leader.membership_id}", f"marks:{band}",
                                                f"marks:{band}:{alice.membership_id}"]  # private: the author's only
    assert rooms[1][2] == {"chart": chart, "part": "bb", "song": song, "ids": ["b"]}  # ids, never strokes or authors
    assert len(sent) == 1 and '"reload"' in sent[0]  # the resync is this page's own: nothing else went to it alone
    assert annotations.notice_room(band, alice.membership_id) != annotations.notice_room(band + 1,
                                                                                         alice.membership_id)


@SQLITE_ONLY  # the services it goes through run on both databases in tests/test_annotations.py
async def test_an_engraved_part_and_the_stage_print_carry_the_marks_or_go_without(user: User) -> None:
    import io
    from pathlib import Path
    from urllib.parse import urlencode

    import pypdfium2 as pdfium
    from PIL import Image

    from soleil_ui import rendering
    from soleil_ui.db import db
    from soleil_ui.models import Chart, Setlist, SetlistItem, Song
    from soleil_ui.services import annotations

    leader = await band_with_member("Hot Five", [{"instrument": "piano"}], role=Role.LEADER)
    alice, alice_token = await add_member(leader.band_id, "alice@example.org", [{"instrument": "trumpet"}])
    source = (Path(__file__).parent / "fixtures" / "notation" / "Amazing Grace_Chords.cho").read_bytes()
    await get_runtime().blobs.put("a" * 64, source)
    async with db.session() as session:
        song = Song(band_id=leader.band_id, title="Amazing Grace", song_key="amazing grace")
        session.add(song)
        await session.flush()
        sheet = Chart(band_id=leader.band_id, song_id=song.id, source_file_id="ag.cho",
                      file_name="Amazing Grace_Chords.cho", kind="chordpro", part_key="", parts=["bb"],
                      checksum="a" * 64)
        session.add(sheet)
        setlist = Setlist(band_id=leader.band_id, name="Friday")
        session.add(setlist)
        await session.flush()
        session.add(SetlistItem(setlist_id=setlist.id, band_id=leader.band_id, song_id=song.id))
        chart, setlist_id = sheet.id, setlist.id
    assert chart is not None
    shown = "w=800&part=bb"
    line = {"color": "#000000", "width": 0.02, "tool": "pen"}
    async with db.session() as session:  # along the bottom margin, where the part has no ink
        await annotations.apply(session, alice, chart, "bb", layout=shown,
                                add=[stroke("part", **line, points=[[0.1, 0.97], [0.9, 0.97]])])
        await annotations.apply(session, alice, chart, "bb", layout=shown + "&ck=C",  # another layout: stays out
                                add=[stroke("mine", **line, points=[[0.1, 0.94], [0.9, 0.94]])])
        await annotations.apply(session, leader, chart, "bb", add=[
            stroke("song", tool="text", text="Cut to letter C", points=[])])
    sign_in(user, alice_token)
    url = f"/annotations/{chart}/print.pdf?" + urlencode({"part": "bb", "layout": shown})
    marked, plain = await user.http_client.get(url), await user.http_client.get(url + "&marks=0")
    assert marked.status_code == 200 and plain.status_code == 200, marked.text
    assert "without%20marks" in plain.headers["content-disposition"]

    def shade(data: bytes, at: float) -> int:
        image = Image.open(io.BytesIO(rendering.render_page(data, 0, 400))).convert("L")
        return min(int(image.getpixel((x, round(image.height * at))) or 0) for x in range(150, 250))  # type: ignore[arg-type]

    assert shade(marked.content, 0.97) < 80 and shade(plain.content, 0.97) > 200  # the mark, where it was drawn
    assert shade(marked.content, 0.94) > 200  # drawn on tonight's other key: its place here is unknown
    with pdfium.PdfDocument(marked.content) as pdf, pdfium.PdfDocument(plain.content) as bare:
        assert len(pdf) == len(bare) == await get_runtime().engraver.page_count(
            "a" * 64, annotations.layout_spec(sheet, shown)[0], 800, lambda: source)  # the stand's pages
        assert "Cut to letter C" in pdf[0].get_textpage().get_text_range()
        assert "Amazing Grace" in bare[0].get_textpage().get_text_range()
        assert "Cut to letter C" not in bare[0].get_textpage().get_text_range()

    stage = await user.http_client.get(f"/setlists/{setlist_id}/print.pdf")
    without = await user.http_client.get(f"/setlists/{setlist_id}/print.pdf?marks=0")
    with pdfium.PdfDocument(stage.content) as pdf, pdfium.PdfDocument(without.content) as bare:
        assert "Cut to letter C" in pdf[0].get_textpage().get_text_range()  # the leader's note, under its title
        assert "Cut to letter C" not in bare[0].get_textpage().get_text_range()
        assert "Amazing Grace" in bare[0].get_textpage().get_text_range()
