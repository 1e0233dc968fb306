"""The stand's crop: each PDF page's ink box, measured once at sync and stored on the chart, shown filling a phone's
width; and a member's own crop per chart (auto, off, manual margins), kept in the database and scoped to their band.
The measure of the issue: with crop on, the music's ink spans >= 90 % of a 390 px screen's width."""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw
from sqlmodel import select

from soleil_ui.crop import WHOLE, ink_on_screen, margins_box, valid_box
from soleil_ui.db import db
from soleil_ui.errors import InvalidInput, NotFound
from soleil_ui.models import Chart, StandCrop
from soleil_ui.rendering import CROP_MIN_WIDTH, NO_CROP, _ink_box, ink_box, ink_boxes, inspect_pdf
from soleil_ui.services import chart_pages, crops, stand_view
from soleil_ui.services.sync import sync_configured
from tests.conftest import FIXTURES, copy_fixture_charts
from tests.library_helpers import band_with_member

PHONE = (390, 664)  # the browser tests' iPhone 13 viewport
TRUMPET = [{"instrument": "trumpet", "chair": 1}]


def _letter_with_margins(data: bytes) -> bytes:
    """The fixture's first page set on US Letter with 1-inch margins all round, as many publishers print parts."""
    source = pdfium.PdfDocument(data)
    letter = pdfium.PdfDocument.new()
    page = letter.new_page(612, 792)
    width, height = source[0].get_size()
    scale = min((612 - 144) / width, (792 - 144) / height)
    placed = source.page_as_xobject(0, letter)
    obj = placed.as_pageobject()
    at = ((612 - width * scale) / 2, 792 - 72 - height * scale)
    obj.transform(pdfium.PdfMatrix().scale(scale, scale).translate(*at))
    page.insert_obj(obj)
    page.gen_content()
    out = io.BytesIO()
    letter.save(out)
    return out.getvalue()


@pytest.mark.parametrize("name", ["BlueTrain_Bb_Chart.pdf", "All of Me - Eb.pdf"])
def test_with_crop_the_ink_spans_ninety_percent_of_a_phone(name: str) -> None:
    data = (FIXTURES / "charts" / name).read_bytes()
    sizes = inspect_pdf(data).page_sizes
    for index, box in enumerate(ink_boxes(data)):
        ink = ink_box(data, index, pad=0)
        width, height = sizes[index]
        cropped = ink_on_screen(ink, box, width, height, *PHONE)
        whole = ink_on_screen(ink, WHOLE, width, height, *PHONE)
        assert cropped >= 0.9, (name, index, cropped)
        assert cropped > whole  # these LilyPond pages have narrow margins already (92 %): crop still widens them
        assert box[0] < ink[0] and box[2] > ink[2] and box[1] < ink[1] and box[3] > ink[3]  # padded, never cut


def test_a_letter_page_with_wide_margins_fills_the_phone_only_cropped() -> None:
    data = _letter_with_margins((FIXTURES / "charts" / "TakeFive_Bb.pdf").read_bytes())
    box, ink = ink_box(data, 0), ink_box(data, 0, pad=0)
    assert ink_on_screen(ink, WHOLE, 612, 792, *PHONE) < 0.8  # a quarter of the screen is white margin
    assert ink_on_screen(ink, box, 612, 792, *PHONE) >= 0.9


def test_blank_pages_specks_and_nearly_empty_pages() -> None:
    blank = Image.new("L", (400, 518), 255)
    assert _ink_box(blank, 612 / 792, 0.015) == NO_CROP
    speck = blank.copy()
    speck.putpixel((5, 5), 0)  # one dark pixel of scanner dust
    ImageDraw.Draw(speck).rectangle((100, 200, 300, 260), fill=0)
    left, top, right, _ = _ink_box(speck, 612 / 792, 0.015)
    assert (left, right) == (pytest.approx(0.235), pytest.approx(0.7675))  # the dust doesn't hold the margin open
    assert top == pytest.approx(200 / 518 - 0.015 * 612 / 792, abs=1e-3)  # the same padding up and down
    title = blank.copy()
    ImageDraw.Draw(title).rectangle((380, 10, 395, 20), fill=0)  # a page number alone: magnified 2x at most
    left, _, right, _ = _ink_box(title, 612 / 792, 0.015)
    assert right == 1.0 and right - left == pytest.approx(CROP_MIN_WIDTH)
    assert valid_box([0.1, 0.1, 0.9, 0.9]) == (0.1, 0.1, 0.9, 0.9)
    assert valid_box([0.5, 0.1, 0.4, 0.9]) is None and valid_box("abcd") is None and valid_box([True, 0, 1, 1]) is None
    assert margins_box((0.1, 0.05, 0.2, 0.0)) == (0.1, 0.05, 0.8, 1.0)


@pytest.mark.usefixtures("core")
async def test_sync_measures_the_stand_carries_it_and_a_member_overrides_it_in_their_band(tmp_path: Path) -> None:
    folder = copy_fixture_charts(tmp_path / "lib", "BlueTrain_Bb_Chart.pdf")
    member = await band_with_member("Crop Band", TRUMPET, library=folder)
    theirs_folder = copy_fixture_charts(tmp_path / "o", "TakeFive_Bb.pdf")
    other = await band_with_member("Other Band", TRUMPET, library=theirs_folder)
    for actor in (member, other):
        assert (await sync_configured(actor.band_id, prerender=False)).error is None
    async with db.session() as session:
        chart = (await session.exec(select(Chart).where(Chart.band_id == member.band_id))).one()
        theirs = (await session.exec(select(Chart).where(Chart.band_id == other.band_id))).one()
    assert len(chart.page_crops) == chart.page_count == 3  # measured at sync, one box per page
    pages = chart_pages.pdf_pages(chart)
    assert [p["crop"] for p in pages] == chart.page_crops and pages[0]["crop"][2] - pages[0]["crop"][0] < 0.96

    # a chart synced before crops existed is measured once, by the first stand that shows it, and stored
    async with db.session() as session:
        row = await session.get(Chart, chart.id)
        assert row is not None
        row.page_crops = []
        session.add(row)
    _, shown = await stand_view.single_chart(member, (await _chart(chart.id or 0)), None)
    assert [p.get("crop") for p in shown] == chart.page_crops
    assert (await _chart(chart.id or 0)).page_crops == chart.page_crops

    # the member's own crop: off, manual margins, back to auto (no row); another band's chart is a 404
    assert chart.id is not None and theirs.id is not None
    await stand_view.save_crop(member, chart.id, "manual", [0.05, 0.0, 0.1, 0.2])
    async with db.session() as session:
        assert await crops.member_crops(session, member) == {chart.id: {"mode": "manual",
                                                                        "margins": [0.05, 0.0, 0.1, 0.2]}}
        assert await crops.member_crops(session, other) == {}
    opening = await stand_view.open_chart(member, chart.id)
    assert opening.crops == {chart.id: {"mode": "manual", "margins": [0.05, 0.0, 0.1, 0.2]}}
    await stand_view.save_crop(member, chart.id, "off", None)
    with pytest.raises(InvalidInput):
        await stand_view.save_crop(member, chart.id, "manual", [0.5, 0, 0, 0])  # more than 40 % off one side
    with pytest.raises(InvalidInput):
        await stand_view.save_crop(member, chart.id, "zoom", [])
    with pytest.raises(NotFound):
        await stand_view.save_crop(member, theirs.id, "off", [])
    async with db.session() as session:
        assert [(r.chart_id, r.mode) for r in (await session.exec(select(StandCrop))).all()] == [(chart.id, "off")]
    await stand_view.save_crop(member, chart.id, "auto", [])
    async with db.session() as session:
        assert (await session.exec(select(StandCrop))).all() == []


async def _chart(chart_id: int) -> Chart:
    async with db.session() as session:
        chart = await session.get(Chart, chart_id)
    assert chart is not None
    return chart
