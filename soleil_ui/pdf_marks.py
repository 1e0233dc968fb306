"""The pencil's marks drawn into a chart's PDF, as vectors, to print or keep (``/annotations/<chart>/print.pdf``);
an engraved part is first laid out as the stand showed it (``mark_svg_pages``), so its marks land where they were drawn.

Marks are page coordinates (0..1 of the page as displayed, top-left origin); PDF user space has its origin at the
bottom left of the crop box and the page may be displayed rotated, so each point is mapped through the page's crop box
and ``/Rotate``. PDFium is not thread-safe and a hostile PDF can crash it: ``mark_pdf`` is a plain function that runs
in the renderer's worker processes (``PageRenderer.marked_pdf``), never on the event loop.
"""

from __future__ import annotations

import ctypes
import io
from collections.abc import Sequence
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from .errors import BrokenFile

HIGHLIGHT_ALPHA = 90  # of 255
TEXT_SIZE = 0.03  # of the page's displayed width
# the stand's stamps in what PDF's standard Helvetica can write (no emoji or music font in a standard font)
STAMP_TEXT = {"breath": "'", "fermata": "(fermata)", "accent": ">", "up-bow": "V", "down-bow": "n", "watch": "WATCH",
              "glasses": "(o-o)", "cut-start": "[", "cut-end": "]"}


def _mapper(page: pdfium.PdfPage) -> tuple[Any, float]:
    """A function from displayed (u, v) to PDF user space, and the displayed width in points."""
    left, bottom, right, top = page.get_bbox()  # the crop box as PDFium shows it (inherited boxes included)
    width, height = right - left, top - bottom
    rotation = page.get_rotation() % 360

    def to_pdf(u: float, v: float) -> tuple[float, float]:
        if rotation == 90:
            return left + v * width, bottom + u * height
        if rotation == 180:
            return right - u * width, bottom + v * height
        if rotation == 270:
            return right - v * width, top - u * height
        return left + u * width, top - v * height

    return to_pdf, (height if rotation in (90, 270) else width)


def _rgba(color: str, alpha: int) -> tuple[int, int, int, int]:
    value = color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16), alpha


def _path(points: Sequence[Sequence[float]], to_pdf: Any, width: float, rgba: tuple[int, int, int, int]) -> Any:
    x, y = to_pdf(*points[0])
    obj = pdfium_c.FPDFPageObj_CreateNewPath(x, y)
    if len(points) == 1:  # a dot: a zero-length segment with round caps
        pdfium_c.FPDFPath_LineTo(obj, x + 0.01, y)
    for u, v in points[1:]:
        pdfium_c.FPDFPath_LineTo(obj, *to_pdf(u, v))
    pdfium_c.FPDFPageObj_SetStrokeColor(obj, *rgba)
    pdfium_c.FPDFPageObj_SetStrokeWidth(obj, ctypes.c_float(width))
    pdfium_c.FPDFPageObj_SetLineCap(obj, pdfium_c.FPDF_LINECAP_ROUND)
    pdfium_c.FPDFPageObj_SetLineJoin(obj, pdfium_c.FPDF_LINEJOIN_ROUND)
    pdfium_c.FPDFPath_SetDrawMode(obj, pdfium_c.FPDF_FILLMODE_NONE, True)
    return obj


def _text(pdf: pdfium.PdfDocument, words: str, x: float, y: float, size: float, rgba: tuple[int, int, int, int]
          ) -> Any:
    obj = pdfium_c.FPDFPageObj_NewTextObj(pdf.raw, b"Helvetica", ctypes.c_float(size))
    encoded = words.encode("utf-16-le") + b"\0\0"
    buffer = ctypes.create_string_buffer(encoded, len(encoded))
    pdfium_c.FPDFText_SetText(obj, ctypes.cast(buffer, ctypes.POINTER(pdfium_c.FPDF_WCHAR)))
    pdfium_c.FPDFPageObj_SetFillColor(obj, *rgba)
    pdfium_c.FPDFPageObj_Transform(obj, 1, 0, 0, 1, x, y)
    return obj


def mark_pdf(data: bytes, marks: Sequence[dict[str, Any]], notes: Sequence[str] = ()) -> bytes:
    """``data`` with every mark drawn on its page (``{"page", "tool", "color", "width", "points", "text"}``) and the
    song's notes written at the top of the first page. Marks on pages the file doesn't have are left out."""
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise BrokenFile(detail=f"marking a PDF: {exc}") from exc
    with pdf:
        by_page: dict[int, list[dict[str, Any]]] = {}
        for mark in marks:
            by_page.setdefault(int(mark["page"]), []).append(mark)
        if notes:
            by_page.setdefault(0, [])
        for index, page_marks in sorted(by_page.items()):
            if not 0 <= index < len(pdf):
                continue
            page = pdf[index]
            to_pdf, shown_width = _mapper(page)
            for mark in page_marks:
                points = mark.get("points") or []
                if not points:
                    continue
                highlight = mark["tool"] == "highlighter"
                rgba = _rgba(mark["color"], HIGHLIGHT_ALPHA if highlight else 255)
                if mark["tool"] in ("text", "stamp", "link"):
                    words = mark.get("text") or ""
                    words = STAMP_TEXT.get(words, words) if mark["tool"] == "stamp" else words
                    if mark["tool"] == "link":  # a jump prints as where it goes, at the sign it starts from
                        words = f"-> p. {int(words) + 1}" if words.isdigit() else "->"
                    x, y = to_pdf(*points[0])
                    obj = _text(pdf, words, x, y, TEXT_SIZE * shown_width, rgba)
                else:
                    obj = _path(points, to_pdf, max(0.3, float(mark["width"]) * shown_width), rgba)
                pdfium_c.FPDFPage_InsertObject(page.raw, obj)
            if index == 0:
                for line, note in enumerate(notes):
                    x, y = to_pdf(0.04, 0.03 + (line + 1) * TEXT_SIZE * 1.2)
                    pdfium_c.FPDFPage_InsertObject(page.raw, _text(pdf, note, x, y, TEXT_SIZE * shown_width * 0.8,
                                                                   (160, 0, 0, 255)))
            page.gen_content()
            page.close()
        out = io.BytesIO()
        pdf.save(out)
    return out.getvalue()


def mark_svg_pages(svgs: Sequence[str], marks: Sequence[dict[str, Any]], notes: Sequence[str] = (),
                   title: str | None = None) -> bytes:
    """An engraved part's pages (SVG, as the stand showed them) as a Letter PDF, each page edge to edge, with the
    marks drawn in like ``mark_pdf``: a mark sits at the same fraction of the printed page as of the stand's."""
    from .engraving.musicxml import svg_pages_to_pdf

    return mark_pdf(svg_pages_to_pdf(svgs, title=title, full_page=True), marks, notes)
