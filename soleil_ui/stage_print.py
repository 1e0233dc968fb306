"""The stage print: a setlist as a PDF to tape to the floor, one page per set, in type readable from standing.

Pages are A4 portrait. The type is as big as the set allows (up to 40 pt titles), shrinking only until the whole
set fits on its page; key, notes and the leaders' song notes (the pencil's, unless printed without marks) sit
under each title in smaller type. DejaVu Sans (Debian's fonts-dejavu) is
used when installed, so accents, ♭ and ♯ print as typed; without it the core Helvetica font prints what Latin-1
can and spells ♭/♯ as b/#.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from fpdf import FPDF

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
MAX_TITLE_PT, MIN_TITLE_PT = 40.0, 16.0
NUMBER_EM = 2.1  # the number column, in title ems
MARGIN = 12.0  # mm


@dataclass(frozen=True, slots=True)
class PrintSong:
    number: int
    title: str
    musical_key: str | None = None
    notes: str = ""
    duration: str = ""
    marks: Sequence[str] = ()  # the leaders' song notes from the pencil ("cut to letter C")


@dataclass(frozen=True, slots=True)
class PrintPage:
    heading: str  # "Set 1"
    songs: Sequence[PrintSong]
    running_time: str = ""


def _font_files() -> tuple[Path, Path] | None:
    for folder in FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


class _Sheet(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.set_auto_page_break(False)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        fonts = _font_files()
        self.unicode = fonts is not None
        if fonts is not None:
            self.add_font("Stage", "", str(fonts[0]))
            self.add_font("Stage", "B", str(fonts[1]))
            self.family = "Stage"
        else:
            self.family = "helvetica"

    def text_for(self, value: str) -> str:
        if self.unicode:
            return value
        value = value.replace("♭", "b").replace("♯", "#")
        return value.encode("latin-1", "replace").decode("latin-1")


def _detail(song: PrintSong) -> str:
    """The line under a title: key, the setlist's note, the leaders' song notes."""
    return " · ".join(x for x in (song.musical_key or "", song.notes, *song.marks) if x)


def _fits(sheet: _Sheet, page: PrintPage, size: float) -> bool:
    return _layout_height(sheet, page, size) <= sheet.h - 2 * MARGIN


def _layout_height(sheet: _Sheet, page: PrintPage, size: float) -> float:
    pt = 0.3528  # mm per point
    small = max(size * 0.55, 11.0)
    height = size * 0.8 * pt * 1.5  # heading
    width = sheet.w - 2 * MARGIN
    for song in page.songs:
        sheet.set_font(sheet.family, "B", size)
        lines = max(1, len(cast(list[str], sheet.multi_cell(width - size * pt * NUMBER_EM, size * pt * 1.15,
                                                            sheet.text_for(song.title), dry_run=True,
                                                            output="LINES"))))
        height += lines * size * pt * 1.15
        if _detail(song):
            sheet.set_font(sheet.family, "", small)
            detail = _detail(song)
            height += len(cast(list[str], sheet.multi_cell(  # output="LINES": the wrapped lines
                width - size * pt * NUMBER_EM, small * pt * 1.2, sheet.text_for(detail), dry_run=True,
                output="LINES"))) * small * pt * 1.2
        height += size * pt * 0.35
    return height


def _split(sheet: _Sheet, pages: Sequence[PrintPage]) -> list[PrintPage]:
    """A set too long for one page even in the smallest type continues on the next ("Set 2, continued")."""
    result: list[PrintPage] = []
    for page in pages:
        parts = 1
        while not all(_fits(sheet, chunk, MIN_TITLE_PT) for chunk in _chunks(page, parts)) \
                and parts < len(page.songs):
            parts += 1
        for number, chunk in enumerate(_chunks(page, parts)):
            result.append(chunk if number == 0 else PrintPage(f"{page.heading}, continued", chunk.songs,
                                                              page.running_time))
    return result


def _chunks(page: PrintPage, parts: int) -> list[PrintPage]:
    if parts <= 1:
        return [page]
    size = -(-len(page.songs) // parts)
    return [PrintPage(page.heading, page.songs[i:i + size], page.running_time)
            for i in range(0, len(page.songs), size)]


def render(title: str, pages: Sequence[PrintPage]) -> bytes:
    """The PDF bytes: a page per set (an empty setlist still gets one page saying so)."""
    sheet = _Sheet()
    sheet.set_title(sheet.text_for(title))
    sheet.set_creator("SOLEil")
    pt = 0.3528
    measure = _Sheet()  # a scratch document: fpdf2 measures text only on a page
    measure.add_page()
    for page in _split(measure, pages or [PrintPage(title, [])]):
        sheet.add_page()
        size = MAX_TITLE_PT
        while size > MIN_TITLE_PT and not _fits(measure, page, size):
            size -= 1.0
        small = max(size * 0.55, 11.0)
        width = sheet.w - 2 * MARGIN
        heading = sheet.text_for(f"{page.heading} — {title}" if page.heading != title else title)
        heading_pt = size * 0.8
        sheet.set_font(sheet.family, "B", heading_pt)
        while heading_pt > 10 and sheet.get_string_width(heading) > width * 0.75:
            heading_pt -= 1
            sheet.set_font(sheet.family, "B", heading_pt)
        sheet.cell(width * 0.75, size * 0.8 * pt * 1.5, heading, new_x="RIGHT", new_y="TOP")
        sheet.set_font(sheet.family, "", small)
        sheet.cell(width * 0.25, size * 0.8 * pt * 1.5, sheet.text_for(page.running_time), align="R",
                   new_x="LMARGIN", new_y="NEXT")
        if not page.songs:
            sheet.set_font(sheet.family, "", small * 1.5)
            sheet.cell(width, 20, sheet.text_for("No songs in this set."), new_x="LMARGIN", new_y="NEXT")
        for song in page.songs:
            number_width = size * pt * NUMBER_EM
            sheet.set_font(sheet.family, "B", size)
            sheet.set_text_color(120, 120, 120)
            sheet.cell(number_width, size * pt * 1.15, str(song.number), new_x="RIGHT", new_y="TOP")
            sheet.set_text_color(0, 0, 0)
            sheet.multi_cell(width - number_width, size * pt * 1.15, sheet.text_for(song.title), align="L",
                             new_x="LMARGIN", new_y="NEXT")
            if _detail(song):
                sheet.set_font(sheet.family, "", small)
                detail = _detail(song)
                sheet.set_x(MARGIN + number_width)
                sheet.multi_cell(width - number_width, small * pt * 1.2, sheet.text_for(detail), align="L",
                                 new_x="LMARGIN", new_y="NEXT")
            sheet.ln(size * pt * 0.35)
    return bytes(sheet.output())
