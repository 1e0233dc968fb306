"""The stand's crop as plain geometry, shared by the stand's page list, the member's choice, the tests and the bench.

A crop is ``(left, top, right, bottom)`` in fractions of the whole page (0..1), as ``rendering.ink_box`` measures it.
The stand lays the cropped region out exactly like a page (``static/stand.js``, ``box()``): as wide as the screen,
unless that would make it taller than the screen (then as tall as the screen). ``ink_on_screen`` answers the issue's
measure: how much of a phone's width the music's ink spans.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Box = tuple[float, float, float, float]
WHOLE: Box = (0.0, 0.0, 1.0, 1.0)
MAX_MARGIN = 0.4  # a manual margin: at most 40 % of the page off one side (what is left stays readable)


def valid_box(value: object) -> Box | None:
    """A crop box from JSON (four numbers, 0 <= left < right <= 1, 0 <= top < bottom <= 1), else None."""
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 4:
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        return None
    left, top, right, bottom = (float(v) for v in value)
    if not (0 <= left < right <= 1 and 0 <= top < bottom <= 1):
        return None
    return (left, top, right, bottom)


def valid_margins(value: object) -> Box | None:
    """Manual margins ``(left, top, right, bottom)``, each 0..``MAX_MARGIN`` of the page, else None."""
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 4:
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= MAX_MARGIN for v in value):
        return None
    left, top, right, bottom = (round(float(v), 4) for v in value)
    return (left, top, right, bottom)


def margins_box(margins: Box) -> Box:
    left, top, right, bottom = margins
    return (left, top, 1 - right, 1 - bottom)


def shown_box(page_crop: object, choice: Mapping[str, object] | None) -> Box:
    """The region of a page the stand shows (as ``stand.js`` ``cropOf``): the reader's choice for the chart (off: the
    whole page; manual: their margins), else the page's measured box (none: the whole page)."""
    mode = (choice or {}).get("mode")
    if mode == "off":
        return WHOLE
    if mode == "manual":
        margins = valid_margins((choice or {}).get("margins"))
        return margins_box(margins) if margins is not None else WHOLE
    return valid_box(page_crop) or WHOLE


def shown_size(crop: Box, page_w: float, page_h: float, screen_w: float, screen_h: float) -> tuple[float, float]:
    """The cropped region's size on a screen, fitted as the stand fits a page (width first, within the height)."""
    region_w, region_h = page_w * (crop[2] - crop[0]), page_h * (crop[3] - crop[1])
    ratio = region_w / max(region_h, 1e-9)
    width = min(screen_w, screen_h * ratio)
    return width, width / ratio


def ink_on_screen(ink: Box, crop: Box, page_w: float, page_h: float, screen_w: float, screen_h: float) -> float:
    """The fraction of the screen's width the ink (unpadded, whole-page fractions) spans with ``crop`` shown."""
    width, _ = shown_size(crop, page_w, page_h, screen_w, screen_h)
    left, right = max(ink[0], crop[0]), min(ink[2], crop[2])
    return max(0.0, right - left) / (crop[2] - crop[0]) * width / screen_w
