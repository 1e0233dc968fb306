"""A tiny NiceGUI app hosting the music stand for the browser tests (started by ``live_server``).

Two generated charts: "Autumn Leaves" (5 pages) and "Blue Bossa" (3 pages), PNGs drawn with Pillow at start-up
and served at ``/charts/<chart>/<index>?w=<width>``. The page reports what the server heard in hidden labels
(``data-testid`` ``last-page``, ``last-song-request``, ``night``, ``closed``); the "next song" button swaps the
chart in place with ``Stand.set_chart``; the back button removes the stand.
Query parameters: ``start``, ``night=1``, ``chart=b``, ``rec=1`` (a two-second reference recording, served at
``/audio/take.wav``). ``/songs`` holds a three-song setlist in the browser; its first song has the recording.
"""

from __future__ import annotations

import os
import sys
import tempfile
import wave
from pathlib import Path

from fastapi import HTTPException
from fastapi.responses import FileResponse
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root, for `components`

from nicegui import app, ui

from components.stand import STAND_VIEWPORT, Stand

WIDTHS = (480, 800, 1200)
PAGE_W, PAGE_H = 800, 1035
CHARTS = {
    "a": ("Autumn Leaves", "Trumpet in B♭", 5),
    "b": ("Blue Bossa", "Trumpet in B♭", 3),
}
IMAGES = Path(tempfile.mkdtemp(prefix="soleil-stand-app-"))


def draw_page(chart: str, index: int, width: int) -> Path:
    title, part, count = CHARTS[chart]
    scale = width / PAGE_W
    height = round(PAGE_H * scale)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    big = ImageFont.load_default(size=int(360 * scale))
    small = ImageFont.load_default(size=int(28 * scale))
    draw.text((width / 2, 70 * scale), f"{title} - {part}".replace("♭", "b"), fill="black", font=small, anchor="mm")
    for staff in range(9):  # staves, five lines each
        top = (130 + staff * 98) * scale
        for line in range(5):
            y = top + line * 10 * scale
            draw.line([(50 * scale, y), (width - 50 * scale, y)], fill=(40, 40, 40), width=max(1, round(scale)))
    draw.text(
        (width / 2, height / 2),
        str(index + 1),
        fill=(200, 30, 30),
        font=big,
        anchor="mm",
        stroke_width=max(2, round(6 * scale)),
        stroke_fill="white",
    )
    draw.text(
        (width / 2, height - 40 * scale),
        f"{chart}{index + 1}: page {index + 1} of {count}",
        fill="black",
        font=small,
        anchor="mm",
    )
    path = IMAGES / f"{chart}-{index}-{width}.png"
    image.save(path, optimize=False)
    return path


for key, (_, _, count) in CHARTS.items():
    for index in range(count):
        for width in WIDTHS:
            draw_page(key, index, width)


RECORDING = IMAGES / "take.wav"
with wave.open(str(RECORDING), "wb") as take:  # two seconds of a quiet square wave, 8 kHz mono
    take.setnchannels(1)
    take.setsampwidth(1)
    take.setframerate(8000)
    take.writeframes(bytes(128 + (8 if (n // 20) % 2 else -8) for n in range(16000)))


@app.get("/audio/take.wav")
def recording() -> FileResponse:
    return FileResponse(RECORDING, media_type="audio/wav")


@app.get("/charts/{chart}/{index}")
def chart_image(chart: str, index: int, w: int = 800) -> FileResponse:
    path = IMAGES / f"{chart}-{index}-{w}.png"
    if not path.is_file():
        raise HTTPException(404)
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "public, max-age=3600"})


def pages_of(chart: str) -> list[dict]:
    return [
        {
            "src": f"/charts/{chart}/{index}?w=800",
            "srcset": ", ".join(f"/charts/{chart}/{index}?w={width} {width}w" for width in WIDTHS),
            "width": PAGE_W,
            "height": PAGE_H,
        }
        for index in range(CHARTS[chart][2])
    ]


@ui.page("/", viewport=STAND_VIEWPORT)
def index(start: int = 0, night: int = 0, chart: str = "a", rec: int = 0) -> None:
    current = {"chart": chart if chart in CHARTS else "a"}
    other = {"a": "b", "b": "a"}

    def heard_page(e) -> None:
        last_page.set_text(str(e.page))

    def closed_stand() -> None:
        closed.set_text("yes")
        stand.delete()  # a real page would navigate back to the setlist

    def heard_song(e) -> None:
        last_song.set_text(e.direction)
        current["chart"] = other[current["chart"]]
        title, part, _ = CHARTS[current["chart"]]
        neighbour = CHARTS[other[current["chart"]]][0]
        stand.set_chart(title, part, pages_of(current["chart"]), 0, prev_title=neighbour, next_title=neighbour)

    with ui.column().classes("p-4"):
        ui.input("Notes").props('data-testid="notes"')
        last_page = ui.label("").props('data-testid="last-page"')
        last_song = ui.label("").props('data-testid="last-song-request"')
        night_label = ui.label("").props('data-testid="night"')
        closed = ui.label("").props('data-testid="closed"')
        ui.button("Night on", on_click=lambda: stand.set_night(True)).props('data-testid="server-night"')

    title, part, _ = CHARTS[current["chart"]]
    neighbour = CHARTS[other[current["chart"]]][0]
    stand = Stand(
        title=title,
        part_label=part,
        pages=pages_of(current["chart"]),
        night=bool(night),
        start_page=start,
        next_title=neighbour,
        recording="/audio/take.wav" if rec else None,
        on_page_change=heard_page,
        on_song_request=heard_song,
        on_night_change=lambda e: night_label.set_text(str(e.night)),
        on_close=closed_stand,
    )


def songs_of(*charts: str) -> list[dict]:
    return [{"title": CHARTS[c][0], "part_label": CHARTS[c][1], "pages": pages_of(c), "item_id": n + 1,
             "chart_id": None, "explanation": ""} for n, c in enumerate(charts)]


@ui.page("/songs", viewport=STAND_VIEWPORT)
def setlist_page() -> None:
    """A whole setlist in the browser: the server moves the reader by index (``show_song``) and edits the list."""
    songs = songs_of("a", "b", "a")
    songs[2]["title"] = "Autumn Leaves (reprise)"
    songs[0]["recording"] = "/audio/take.wav"

    def heard_song(e) -> None:
        last_song.set_text(f"{e.index}:{e.item_id}")

    with ui.column().classes("p-4"):
        last_song = ui.label("").props('data-testid="last-song-change"')
        ui.button("Show 2", on_click=lambda: stand.show_song(1)).props('data-testid="server-show-1"')
        ui.button("Show 1", on_click=lambda: stand.show_song(0)).props('data-testid="server-show-0"')
        ui.button("Drop 2", on_click=lambda: stand.set_songs([songs[0], songs[2]])).props(
            'data-testid="server-drop-1"')
    stand = Stand(title=songs[0]["title"], part_label=songs[0]["part_label"], pages=songs[0]["pages"], songs=songs,
                  setlist_id=9, on_song_change=heard_song)


@ui.page("/follow", viewport=STAND_VIEWPORT)
def follow_page() -> None:
    """A follower's stand hearing the live room's calls (``heardCall``): the server sends them here by hand."""
    songs = songs_of("a", "b", "a")

    def call(item: int | None, seq: int, kind: str = "move", live: int = 1) -> dict:
        return {"kind": kind, "live": live, "setlist": 9, "item": item, "seq": seq}

    with ui.column().classes("p-4"):
        for label, message in [("call-2", call(2, 2)), ("call-3", call(3, 3)), ("replay-2", call(2, 2)),
                               ("stale-1", call(1, 1)), ("new-session", call(1, 1, "start", live=2)),
                               ("turn-1", {**call(1, 2, "page", live=2), "turns": True, "page": 1})]:
            ui.button(label, on_click=lambda m=message: stand.hear_call(m)).props(f'data-testid="{label}"')
        ui.button("sync", on_click=lambda: stand.set_night(not stand.night)).props('data-testid="sync"')
    stand = Stand(title=songs[0]["title"], part_label=songs[0]["part_label"], pages=songs[0]["pages"], songs=songs,
                  setlist_id=9)
    stand.set_live(call(1, 1), True)


ui.run(
    port=int(os.environ["PORT"]),
    host="127.0.0.1",
    reload=False,
    show=False,
    title="SOLEil stand test",
    reconnect_timeout=10,
)
