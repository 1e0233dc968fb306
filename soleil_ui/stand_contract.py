"""What the stand (``components.stand.Stand`` and ``static/stand.js``) receives, typed once for every side that builds
or reads it: ``services.chart_pages`` makes pages and songs, the setlist stand and the chart stand pass them on, the
component normalizes them for the browser. Plain dicts at run time (they go to the browser as JSON as they are)."""

from __future__ import annotations

from typing import NotRequired, TypedDict


class StandPage(TypedDict):
    """One page image in reading order: ``src`` at the stand's base width, ``srcset`` for a PDF's other widths (an
    engraved page has none: each width is its own layout), and its size in CSS pixels for the layout before it loads.
    ``crop`` is a PDF page's measured ink box ``[left, top, right, bottom]`` in fractions of the whole page (absent:
    not measured, or nothing to trim); the stand shows that region filling the width (``services.crops``)."""

    src: str
    width: int
    height: int
    srcset: NotRequired[str]
    crop: NotRequired[list[float]]


class StandSong(TypedDict):
    """One song of a setlist in the reader's part: its pages ([] when there is no chart to show, ``explanation`` says
    why), the label under the title (part, what it is drawn from, key of the night, the leader's note)."""

    title: str
    part_label: str
    pages: list[StandPage]
    item_id: int | None
    chart_id: int | None
    explanation: str
    song_id: NotRequired[int]  # the offline set and the tests match songs by it; the browser doesn't need it
    recording: NotRequired[str]  # the song's reference recording (``/media/audio/…``), when it has one
