"""The import screen through NiceGUI's simulated user (issue 18 point 4): a 20-song sheet with two misspelt titles
shows them in the preview, nothing is saved until they are chosen, then the setlist is made; an oversized upload is
refused in plain words; the export link answers CSV with formulas neutralised."""

from __future__ import annotations

import csv
import io

import pytest
from nicegui import ui
from nicegui.elements.upload_files import SmallFileUpload
from nicegui.testing import User
from sqlmodel import select

from soleil_ui import setlist_table
from soleil_ui.db import db
from soleil_ui.demo_library import DEMO_SONGS
from soleil_ui.models import Setlist
from soleil_ui.services import library, setlists
from tests.conftest import settle
from tests.library_helpers import open_refused
from tests.markers import SQLITE_ONLY
from tests.test_ui_setlists import enter_as

pytestmark = [SQLITE_ONLY, pytest.mark.usefixtures("demo_env")]
EXTRA = ["Harbour Lights", "Quiet Street", "Morning Ferry Reprise", "Sandpiper", "Old Mill Stomp", "Copper Kettle",
         "Late Train North", "Lanterns"]
TYPOS = {"Waltz for Marguerite": "Walts for Margerite", "Green Street Groove": "Green Stret Grove"}


def sheet_csv(titles: list[str]) -> str:
    lines = ["Order,Song Title,Key,Duration,Notes,Status"]
    for number, title in enumerate(titles, 1):
        if number == 11:
            lines.append(",Set 2,,,,")
        note = '"=HYPERLINK(""http://evil"")"' if number == 1 else ""
        lines.append(f"{number},\"{TYPOS.get(title, title)}\",Bb,4:05,{note},ok")
    return "\n".join(lines)


async def test_a_twenty_song_sheet_with_two_misspelt_titles_is_previewed_chosen_and_created(user: User) -> None:
    leader = await enter_as(user, "Morgan Lee")
    async with db.session() as session:
        for title in EXTRA:
            await library.song_titled(session, leader.band_id, title)
    titles = [s.title for s in DEMO_SONGS] + EXTRA
    assert len(titles) == 20
    await user.open("/setlists")
    user.find(marker="import-setlist").click()
    await user.should_see(marker="import-paste")
    user.find(marker="import-paste").type(sheet_csv(titles))
    user.find(marker="import-read-paste").click()
    await settle()
    await user.should_see("18 found · 2 to check · 0 not found")
    await user.should_see("Not imported: Order, Status")
    for wrong in TYPOS.values():
        await user.should_see(wrong)
    doubtful = [e for e in user.find(marker="import-preview").elements.pop().descendants()
                if e.props.get("data-status") == "doubtful"]
    assert len(doubtful) == 2

    user.find(marker="import-name").type(" for Friday")
    user.find(marker="import-create").click()  # not chosen yet: nothing is saved
    await settle()
    await user.should_see("Choose a song (or skip) for")
    async with db.session() as session:
        assert (await session.exec(select(Setlist).where(Setlist.name == "Imported setlist for Friday"))).first() \
            is None
        songs = await library.search_songs(session, leader, "", limit=100)
    ids = {row.title: row.song_id for row in songs.rows}
    rows = {int(e.props["data-line"]) for e in doubtful}  # their lines in the sheet
    for line, right in zip(sorted(rows), TYPOS, strict=True):
        choose = user.find(marker=f"import-choose-{line}").elements.pop()
        assert isinstance(choose, ui.select) and ids[right] in choose.options
        choose.value = ids[right]
    user.find(marker="import-create").click()
    await settle()
    async with db.session() as session:
        made = (await session.exec(select(Setlist).where(Setlist.name == "Imported setlist for Friday"))).one()
        entries = await setlists.entries(session, leader, made.id or 0)
    assert [e.label for e in entries if not e.is_break] == titles
    assert [e.label for e in entries if e.is_break] == ["Set 2"]
    await user.should_see(marker="setlist-rows")  # the new setlist's page

    response = await user.http_client.get(f"/setlists/{made.id}/export.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    exported = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert exported[1][4] == "'=HYPERLINK(\"http://evil\")" and exported[1][1] == titles[0]


async def test_an_oversized_upload_is_refused_in_plain_words_and_members_cannot_import(user: User) -> None:
    await enter_as(user, "Morgan Lee")
    await user.open("/setlists/import")
    upload = user.find(marker="import-upload").elements.pop()
    assert isinstance(upload, ui.upload)
    await upload.handle_uploads([SmallFileUpload("big.csv", "text/csv", b"x" * (setlist_table.MAX_CSV_BYTES + 1))])
    await settle()
    await user.should_see("too big for a setlist")
    await upload.handle_uploads([SmallFileUpload("set.csv", "text/csv", b"Title\nMidnight Ferry\nBrass Tacks\n")])
    await settle()
    await user.should_see("2 found · 0 to check · 0 not found")

    member = await enter_as(user, "Ava Brooks")
    assert not member.is_leader
    await open_refused(user.http_client, "/setlists/import", 403)
    response = await user.http_client.get("/setlists/999999/export.csv")
    assert response.status_code == 404
