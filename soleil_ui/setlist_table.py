"""Setlists as spreadsheets: reading a CSV or a sheet's cells into rows, guessing which column is which, and writing
a setlist back out as CSV that a spreadsheet can't run.

Pure functions on text (no database, no network): ``services/setlist_import.py`` matches the titles to the library
and ``sources/sheets.py`` reads Google Sheets. Bands kept setlists in sheets with the columns Order, Song Title, Key,
Duration, Notes, Status; any of those names (and a few others) is recognised, and a column that maps to nothing is
shown and ignored.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import InvalidInput
from .naming import search_key

MAX_CSV_BYTES = 256 * 1024  # a 250-song setlist with long notes is ~40 kB
MAX_ROWS = 250  # as many entries as a setlist may hold (services.setlists.MAX_ITEMS)
MAX_COLUMNS = 40
MAX_CELL = 500
FIELDS = ("title", "key", "duration", "notes", "break")
FIELD_LABELS = {"title": "Title", "key": "Key", "duration": "Duration", "notes": "Notes", "break": "Set break"}
_HEADER_NAMES: dict[str, tuple[str, ...]] = {  # folded header text → field, most specific first
    "title": ("song title", "title", "song", "tune", "name", "song name", "titel", "titre"),
    "key": ("key", "concert key", "tonart", "tonalite"),
    "duration": ("duration", "length", "time", "dauer", "duree"),
    "notes": ("notes", "note", "comments", "comment", "remarks", "bemerkung"),
    "break": ("break", "set break"),
}
_BREAK_TITLE = re.compile(r"^[\s\-=*_#~]*((set\s*(break|\d+|[ivx]+))|break|encore|intermission|interval|pause)"
                          r"[\s\-=*_#~:]*$", re.IGNORECASE)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_CSV_BREAK = "Set break"  # the break column's header in exported files


@dataclass(frozen=True, slots=True)
class Table:
    """A header row and the rows below it, every row padded to the header's width, blank rows dropped."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One entry to import, as the sheet says it (titles are matched later)."""

    line: int  # the row's number in the sheet (the header is line 1)
    title: str  # the song's title, or the break's label
    is_break: bool = False
    key: str = ""
    duration: str = ""
    notes: str = ""


def read_csv(data: bytes | str) -> Table:
    """A CSV a leader pasted or uploaded: size-limited, any common encoding and delimiter, the first row a header."""
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > MAX_CSV_BYTES:
        raise InvalidInput(f"That file is too big for a setlist ({-(-len(raw) // 1024)} kB); the most SOLEil reads is "
                           f"{MAX_CSV_BYTES // 1024} kB. Export just the setlist's sheet as CSV.")
    text = _decode(raw)
    if "\x00" in text:
        raise InvalidInput("That isn't a CSV file. Save the sheet as CSV (comma-separated values) and try again.")
    header = text.split("\n", 1)[0]  # the delimiter is the one the header uses most (csv.Sniffer guesses quotes too,
    delimiter = max((",", ";", "\t"), key=header.count)  # and an apostrophe in "Moanin'" fooled it)
    try:
        cells = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as exc:
        raise InvalidInput("SOLEil couldn't read that CSV. Save the sheet as CSV again and retry.",
                           detail=f"csv: {exc}") from exc
    return table_from_cells(cells)


def table_from_cells(cells: Iterable[Sequence[Any]]) -> Table:
    """Rows of cells (a CSV's, or a Google Sheet's values) as a ``Table``, within the limits."""
    rows = [tuple(_cell(c) for c in row) for row in cells]
    rows = [row for row in rows if any(row)]
    if not rows:
        raise InvalidInput("That sheet is empty. The first row names the columns (e.g. Song Title, Key, Duration).")
    width = max(len(row) for row in rows)
    if width > MAX_COLUMNS:
        raise InvalidInput(f"That sheet has {width} columns; a setlist needs a few (title, key, duration, notes).")
    if len(rows) - 1 > MAX_ROWS:
        raise InvalidInput(f"That sheet has {len(rows) - 1} rows; a setlist holds at most {MAX_ROWS}.")
    padded = [row + ("",) * (width - len(row)) for row in rows]
    return Table(padded[0], tuple(padded[1:]))


def guess_mapping(headers: Sequence[str]) -> dict[str, int | None]:
    """Which column holds what, from the header names; a field with no column is None. A column is used once."""
    folded = [search_key(h) for h in headers]
    mapping: dict[str, int | None] = {}
    used: set[int] = set()
    for field in FIELDS:
        mapping[field] = None
        for name in _HEADER_NAMES[field]:
            found = next((i for i, h in enumerate(folded) if h == name and i not in used), None)
            if found is not None:
                mapping[field] = found
                used.add(found)
                break
    if mapping["title"] is None and headers:
        mapping["title"] = next((i for i in range(len(headers)) if i not in used), None)
    return mapping


def check_mapping(headers: Sequence[str], mapping: Mapping[str, int | None]) -> dict[str, int | None]:
    """A mapping a person chose, made safe: known fields, real columns, a title column, no column twice."""
    clean: dict[str, int | None] = {}
    for field in FIELDS:
        column = mapping.get(field)
        if column is not None and (type(column) is not int or not 0 <= column < len(headers)):
            raise InvalidInput("That column isn't in the sheet.")
        clean[field] = column
    if clean["title"] is None:
        raise InvalidInput("Choose the column that holds the song titles.")
    chosen = [c for c in clean.values() if c is not None]
    if len(chosen) != len(set(chosen)):
        raise InvalidInput("Each column can be used for one thing only.")
    return clean


def ignored_columns(headers: Sequence[str], mapping: Mapping[str, int | None]) -> list[str]:
    """The columns nothing reads (Order, Status, …), to show the leader they are left out."""
    used = {c for c in mapping.values() if c is not None}
    return [h or f"Column {i + 1}" for i, h in enumerate(headers) if i not in used]


def import_rows(table: Table, mapping: Mapping[str, int | None]) -> list[ImportRow]:
    """The entries the sheet describes, in its order. A row is a set break when its break column says so (its text
    is the break's name), or when its title reads like one ("Set 2", "--- Break ---", "Encore")."""
    mapping = check_mapping(table.headers, mapping)

    def cell(row: tuple[str, ...], field: str) -> str:
        column = mapping[field]
        return row[column] if column is not None else ""

    rows: list[ImportRow] = []
    for line, row in enumerate(table.rows, start=2):
        title, marker = cell(row, "title"), cell(row, "break")
        if marker and marker.lower() not in ("no", "false", "0", "n"):
            label = title if title and _BREAK_TITLE.match(title) else (marker if not _is_yes(marker) else "")
            rows.append(ImportRow(line, _break_label(label or title or "Set break"), is_break=True))
            if title and not _BREAK_TITLE.match(title):  # "break after this song": the song, then the break
                rows.insert(len(rows) - 1, ImportRow(line, title, key=cell(row, "key"),
                                                     duration=cell(row, "duration"), notes=cell(row, "notes")))
            continue
        if not title:
            continue
        if _BREAK_TITLE.match(title):
            rows.append(ImportRow(line, _break_label(title), is_break=True))
            continue
        rows.append(ImportRow(line, title, key=cell(row, "key"), duration=cell(row, "duration"),
                              notes=cell(row, "notes")))
    return rows


def neutralise(value: str) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula (=, +, -, @, tab, CR) gets a leading quote,
    so opening an exported setlist never runs ``=HYPERLINK(…)`` or ``=IMPORTXML(…)`` someone typed as a note."""
    return "'" + value if value.lstrip(" ").startswith(_FORMULA_START) else value


def write_csv(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """CSV text with every cell neutralised; quoted where needed, CRLF line ends as spreadsheets expect."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL)
    writer.writerow([neutralise(h) for h in headers])
    for row in rows:
        writer.writerow([neutralise(str(c)) for c in row])
    return out.getvalue()


EXPORT_HEADERS = ("Order", "Song Title", "Key", "Duration", "Notes", _CSV_BREAK)


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "utf-16") if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig",):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("cp1252", errors="replace")  # Excel on Windows still saves CSV this way


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return " ".join(text.split())[:MAX_CELL]


def _is_yes(text: str) -> bool:
    return text.strip().lower() in ("yes", "y", "x", "true", "1", "✓", "break")


def _break_label(text: str) -> str:
    label = text.strip(" -=*_#~:")
    return (label[:1].upper() + label[1:])[:120] if label else "Set break"
