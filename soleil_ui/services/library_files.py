"""The library's files as a leader checks them: how each file was understood, which guesses are doubtful, and which
a leader corrected (``library.assign_chart`` corrects, ``library.undo_correction`` undoes).

"Understood" is what the file itself says: the file name (and folders) read by ``naming.parse_filename``, and for a
MusicXML file with no part in its name, the part its own staves give (``Chart.parsed_part_key``). A guess is flagged
*doubtful* by the parser's own confidence, one rule set: Unsorted files (with the reason) and a part the parser
marks ``ParsedName.guessed`` (taken from a folder rather than the file's own name, or from words run into the title:
"TAKE FIVE BB"). The name is read again here (pure and deterministic), so nothing about it is stored. On stage a
wrong part is worse than a question, so the leader is asked to look.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import col, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..access import Actor
from ..models import Chart, ChartStatus, Song
from ..parts import PartRef, Role, label_for_key
from .library import filing_problem, is_generated, parsed_name

PAGE_SIZE = 50
SHOW = {"all": "All files", "check": "Unsorted and unreadable", "corrected": "Corrected by a leader"}
KIND_LABELS = {"chart": "PDF", "notation": "MusicXML", "chordpro": "ChordPro"}


@dataclass(frozen=True, slots=True)
class FileRow:
    """One library file as the files screen shows it."""

    chart: Chart
    title: str  # the song it is filed under ("" when unsorted)
    part_label: str  # the part it is filed as: "Trumpet 2", "Score", "Lyrics" ("" when unsorted or unreadable)
    what: str  # "PDF · part", "PDF · score", "MusicXML · part"...
    understood: str  # what the file itself says: "Take Five · B♭", or why it says nothing usable
    corrected: bool
    doubt: str | None  # why the guess may be wrong, or None

    @property
    def chart_id(self) -> int:
        assert self.chart.id is not None
        return self.chart.id


@dataclass(frozen=True, slots=True)
class FilePage:
    rows: list[FileRow]
    total: int
    offset: int


def _what(chart: Chart, part: PartRef | None) -> str:
    kind = KIND_LABELS.get(chart.kind, chart.kind)
    if part is None:
        return kind
    if part.role is Role.SCORE:
        return f"{kind} · score"
    if part.role is Role.LYRICS:
        return f"{kind} · lyrics sheet"
    if part.instrument == "vocals":
        return f"{kind} · vocal part"
    return f"{kind} · part"


def understanding(chart: Chart) -> tuple[str, str | None]:
    """(what the file itself says, why that may be wrong or None) — pure: the name is read again, no database."""
    parsed = parsed_name(chart)
    part = PartRef.try_from_key(chart.parsed_part_key) or parsed.part
    if not chart.manual and chart.status == ChartStatus.OK:
        part = PartRef.try_from_key(chart.part_key) or part
    reason = filing_problem(parsed, part, is_generated(chart))
    if reason is not None:
        return f"Unsorted: {reason}", reason
    assert part is not None
    said = f"{parsed.title} · {part.label()}"
    if not parsed.guessed:
        return said, None
    if parsed_name(chart, folders=False).part is None:
        return said, f"The part comes from the folder “{chart.folder}”, not the file name"
    return said, f"The part is read from words run into the title: is it really {part.label()}?"


async def library_files(session: AsyncSession, actor: Actor, *, text: str = "", show: str = "all",
                        offset: int = 0, limit: int = PAGE_SIZE) -> FilePage:
    """One page of the band's chart files for a leader: unreadable and unsorted first, then corrected ones, then by
    folder and name; ``text`` narrows to file or folder names containing it, ``show`` to one of ``SHOW``."""
    actor.require_leader()
    query = select(Chart, Song.title).join(Song, col(Song.id) == Chart.song_id, isouter=True).where(
        Chart.band_id == actor.band_id)
    words = text.strip().lower()[:200]
    if words:
        escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(or_(func.lower(col(Chart.file_name)).like(f"%{escaped}%", escape="\\"),
                                func.lower(col(Chart.folder)).like(f"%{escaped}%", escape="\\")))
    if show == "check":
        query = query.where(col(Chart.status).in_([ChartStatus.BROKEN, ChartStatus.UNSORTED]))
    elif show == "corrected":
        query = query.where(col(Chart.manual).is_(True))
    total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
    problems = sa.case((col(Chart.status) == ChartStatus.OK, 1), else_=0)
    query = query.order_by(problems, col(Chart.manual).desc(), col(Chart.folder), col(Chart.file_name), col(Chart.id))
    rows = []
    for chart, title in (await session.exec(query.offset(max(offset, 0)).limit(min(max(limit, 1), 200)))).all():
        said, doubt = understanding(chart)
        part = PartRef.try_from_key(chart.part_key) if chart.status == ChartStatus.OK else None
        if chart.status == ChartStatus.BROKEN:
            doubt = None  # not a guess: the problem says why it can't be read
        rows.append(FileRow(chart, title or "", label_for_key(chart.part_key) if part else "", _what(chart, part),
                            said, chart.manual, None if chart.manual else doubt))
    return FilePage(rows, int(total), offset)
