"""Setlists from spreadsheets and back (issue 18 point 4): CSV reading and column mapping, title matching with doubt,
the Google Sheets path over real HTTP against the fake Sheets API (in tests/fakes/drive_server.py), which sheets a band
may read, and CSV export with formulas neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from soleil_ui import setlist_table
from soleil_ui.access import Actor
from soleil_ui.db import db
from soleil_ui.errors import Forbidden, InvalidInput
from soleil_ui.models import Role, Setlist
from soleil_ui.services import library, library_source, setlist_import, setlists
from soleil_ui.services.library_source import verification_file_name
from soleil_ui.settings import get_settings
from tests.fakes.drive_server import FakeDrive
from tests.library_helpers import band_with_member

SA = "band-sync@soleil-test.iam.gserviceaccount.com"
TITLES = ["Blue Harbor", "Take Five", "Señor Blues", "Autumn Leaves", "So What", "Blue Bossa", "Footprints",
          "Cantaloupe Island", "Watermelon Man", "Song for My Father", "Maiden Voyage", "Moanin'", "Night in Tunisia",
          "All the Things You Are", "Stella by Starlight", "Recorda Me", "Impressions", "Caravan", "Mr. P.C.",
          "Blue Monk"]
MISSPELT = {"Cantaloupe Island": "Cantalope Island", "Stella by Starlight": "Stela by Starlite"}
HEADER = ["Order", "Song Title", "Key", "Duration", "Notes", "Status"]


def sheet_rows() -> list[list[str]]:
    """The original SOLEil's sheet: 20 songs in two sets, two titles misspelt, a formula typed as a note."""
    rows: list[list[str]] = [HEADER]
    for number, title in enumerate(TITLES, 1):
        if number == 11:
            rows.append(["", "--- Set 2 ---", "", "", "", ""])
        rows.append([str(number), MISSPELT.get(title, title.upper() if number == 2 else title),
                     "Bb" if number == 1 else "", "3:45" if number == 1 else "", "=1+1" if number == 3 else "",
                     "confirmed"])
    return rows


async def library_songs(actor: Actor) -> dict[str, int]:
    async with db.session() as session:
        found = {t: (await library.song_titled(session, actor.band_id, t)).id or 0 for t in [*TITLES, "Blue Moon"]}
    return found


async def leader(name: str) -> Actor:
    return await band_with_member(name, [{"instrument": "trumpet"}], role=Role.LEADER,
                                  email=f"{name.lower().replace(' ', '')}@x.org")


# --- pure: CSV and columns ---------------------------------------------------------------------------------------
def test_a_csv_maps_the_known_columns_shows_the_others_and_reads_breaks() -> None:
    text = "\n".join(",".join(f'"{c}"' for c in row) for row in sheet_rows())
    table = setlist_table.read_csv(text.encode("utf-8-sig"))
    mapping = setlist_table.guess_mapping(table.headers)
    assert mapping == {"title": 1, "key": 2, "duration": 3, "notes": 4, "break": None}
    assert setlist_table.ignored_columns(table.headers, mapping) == ["Order", "Status"]
    rows = setlist_table.import_rows(table, mapping)
    assert [r.title for r in rows if r.is_break] == ["Set 2"]
    assert len([r for r in rows if not r.is_break]) == 20
    semicolons = setlist_table.read_csv("Titel;Tonart\nBlue Bossa;Cm\n".encode("cp1252"))
    assert setlist_table.guess_mapping(semicolons.headers)["key"] == 1


@pytest.mark.parametrize("data", [b"x" * (setlist_table.MAX_CSV_BYTES + 1), b"",
                                  b"Title\n" + b"Song\n" * (setlist_table.MAX_ROWS + 1), b"\x00\x01PK binary"])
def test_an_oversized_empty_or_binary_csv_is_refused_in_plain_words(data: bytes) -> None:
    with pytest.raises(InvalidInput) as refused:
        setlist_table.read_csv(data)
    assert refused.value.status_code == 422 and refused.value.user_message


def test_export_neutralises_formulas() -> None:
    text = setlist_table.write_csv(["Title", "Notes"], [["=HYPERLINK(\"http://x\")", "+1"], ["-2", "@SUM(A1)"],
                                                        ["Plain", " =cmd|' /C calc'!A0"]])
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert not any(c.lstrip().startswith(("=", "+", "-", "@")) for c in cells)
    assert "'=HYPERLINK(\"http://x\")" in cells and "Plain" in cells


# --- matching and creating -----------------------------------------------------------------------------------------
async def test_misspelt_titles_are_doubtful_until_chosen_then_the_setlist_is_made(core: object) -> None:
    band = await leader("Import Band")
    songs = await library_songs(band)
    table = setlist_table.table_from_cells(sheet_rows())
    async with db.session() as session:
        preview = await setlist_import.preview(session, band, table)
    assert [(r.title, r.status) for r in preview.to_choose] == [
        ("Cantalope Island", setlist_import.DOUBTFUL), ("Stela by Starlite", setlist_import.DOUBTFUL)]
    for row in preview.to_choose:
        right = next(t for t, wrong in MISSPELT.items() if wrong == row.title)
        assert row.candidates[0].song_id == songs[right]
    take_five = next(r for r in preview.rows if r.line == 3)
    assert (take_five.status, take_five.song_id) == (setlist_import.MATCHED, songs["Take Five"])  # "TAKE FIVE"
    first = next(r for r in preview.rows if r.line == 2)
    assert (first.key, first.duration_seconds) == ("B♭", 225)

    async with db.session() as session:
        with pytest.raises(InvalidInput, match="Cantalope Island"):  # nothing saved on a guess
            await setlist_import.create_from_preview(session, band, "Friday", preview.rows)
        assert (await session.exec(select(Setlist).where(Setlist.band_id == band.band_id))).first() is None
    choices = {r.line: r.candidates[0].song_id for r in preview.to_choose}
    async with db.session() as session:
        made = await setlist_import.create_from_preview(session, band, "Friday", preview.rows, choices)
    async with db.session() as session:
        entries = await setlists.entries(session, band, made.id or 0)
    assert [e.label for e in entries if not e.is_break] == TITLES
    assert [e.label for e in entries if e.is_break] == ["Set 2"] and entries[10].is_break
    assert entries[0].musical_key == "B♭" and entries[2].notes == "=1+1"

    async with db.session() as session:
        name, text = await setlist_import.export_csv(session, band, made.id or 0)
    rows = list(csv.reader(io.StringIO(text)))
    assert name == "Friday" and rows[0] == list(setlist_table.EXPORT_HEADERS)
    assert rows[3][4] == "'=1+1" and rows[11][5] == "Set 2"
    again = setlist_table.read_csv(text)  # an export reads back as the same list
    async with db.session() as session:
        back = await setlist_import.preview(session, band, again)
    assert [r.status for r in back.rows].count(setlist_import.MATCHED) == 20 and back.to_choose == []


async def test_a_chosen_song_of_another_band_is_refused(core: object) -> None:
    band, other = await leader("Band A"), await leader("Band B")
    await library_songs(band)
    theirs = await library_songs(other)
    table = setlist_table.table_from_cells([["Title"], ["Nothing like it at all"]])
    async with db.session() as session:
        preview = await setlist_import.preview(session, band, table)
        assert preview.rows[0].status == setlist_import.UNMATCHED
        with pytest.raises(InvalidInput):
            await setlist_import.create_from_preview(session, band, "X", preview.rows, {2: theirs["Take Five"]})


# --- Google Sheets over HTTP ---------------------------------------------------------------------------------------
@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, app_env: object, tmp_path: Path) -> Iterator[FakeDrive]:
    with FakeDrive(page_size_cap=3) as drive:
        key = drive.create_service_account(tmp_path, name="band-sync")
        monkeypatch.setenv("SOLEIL_GOOGLE_SERVICE_ACCOUNT_FILE", str(key))
        monkeypatch.setenv("SOLEIL_DRIVE_API_ENDPOINT", drive.base_url)
        monkeypatch.setenv("SOLEIL_SHEETS_API_ENDPOINT", drive.sheets_url)
        monkeypatch.setenv("SOLEIL_DRIVE_RETRY_BASE_DELAY", "0.01")
        monkeypatch.setenv("SOLEIL_GOOGLE_CLIENT_ID", "client-1")
        monkeypatch.setenv("SOLEIL_GOOGLE_CLIENT_SECRET", "secret-1")
        get_settings.cache_clear()
        yield drive


async def test_a_sheet_in_the_verified_folder_is_read_and_any_other_sheet_is_refused(
        fake: FakeDrive, core: object) -> None:
    ours = fake.add_folder("Our charts", shared_with=(SA,))
    sheet = fake.add_sheet("Gig list", fake.add_folder("Admin", ours), sheet_rows())
    theirs = fake.add_folder("Their charts", shared_with=(SA,))
    their_sheet = fake.add_sheet("Their gig list", theirs, sheet_rows())
    fake.add_shortcut("Borrowed", ours, their_sheet)
    band = await leader("Sheet Band")
    await library_songs(band)
    link = f"https://docs.google.com/spreadsheets/d/{sheet}/edit#gid=0"

    async with db.session() as session:
        with pytest.raises(Forbidden):  # no verified folder yet: nothing is read
            await setlist_import.read_sheet(session, band, link)
    assert fake.requests["sheets.values.get"] == 0
    fake.add_file(verification_file_name(band.band_id), ours, b"", mime="text/plain")
    async with db.session() as session:
        await library_source.connect_drive(session, band, ours)

    async with db.session() as session:
        table = await setlist_import.read_sheet(session, band, link)
        preview = await setlist_import.preview(session, band, table)
    assert table.headers == tuple(HEADER) and len(table.rows) == 21
    assert [r.title for r in preview.to_choose] == list(MISSPELT.values())
    assert fake.requests["sheets.values.get"] == 1

    for outside in (their_sheet, "1NoSuchSheetAnywhere00000000", ours):
        async with db.session() as session:
            with pytest.raises(Forbidden) as refused:
                await setlist_import.read_sheet(session, band, outside)
        assert refused.value.status_code == 403
    assert fake.requests["sheets.values.get"] == 2  # only the folder itself got as far as Sheets (not a sheet)
    async with db.session() as session:
        with pytest.raises(InvalidInput):
            await setlist_import.read_sheet(session, band, "https://example.org/not-a-sheet")


async def test_with_the_leaders_own_grant_a_sheet_the_account_sees_is_read_and_others_refused(
        fake: FakeDrive, core: object) -> None:
    fake.register_user("refresh-1", "client-1", "secret-1", principal="lead@x.org")
    ours = fake.add_folder("Our charts", shared_with=("lead@x.org",))
    elsewhere = fake.add_sheet("My own gig list", fake.add_folder("Lists", shared_with=("lead@x.org",)),
                               sheet_rows())
    hidden = fake.add_sheet("Someone else's", fake.add_folder("Private", shared_with=("else@x.org",)), sheet_rows())
    band = await leader("Grant Band")
    async with db.session() as session:
        await library_source.connect_drive(session, band, ours, refresh_token="refresh-1",
                                           token_uri=fake.token_uri)
    async with db.session() as session:
        table = await setlist_import.read_sheet(session, band, elsewhere)
    assert len(table.rows) == 21
    async with db.session() as session:
        with pytest.raises(Forbidden):
            await setlist_import.read_sheet(session, band, hidden)
