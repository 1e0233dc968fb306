"""A shared mark reaching 24 readers of that part, against the leader's live call reaching 24 followers, same run.

Both sides are real NiceGUI clients driven without a browser from this process (``bench_fanout``'s ``Page``: a GET of
the page, then python-socketio on ``/_nicegui_ws/socket.io`` with the browser's query), on one clock:

* ``mark`` — a section member POSTs one part-layer stroke to ``/annotations/<chart>`` (with the page's anti-forgery
  token, as ``pencil.js`` does) while 24 readers have ``/stand/<chart>`` open. A reader *has* the mark when the
  marks room's notice naming the stroke's id arrives over its socket (``soleil_marks``) and its own
  ``GET /annotations/<chart>?ids=…`` (what the stand then does) answers the stroke. Two figures: ``event`` (the
  notice arrived) and ``mark`` (the stroke fetched), both from the POST's start.
* ``call`` — the leader's "Next song" click sent over the leader's socket → the follower's stand gets the new song
  (``bench_fanout.measure_moves``), 24 followers on ``/live/<setlist>``.

Each side has its own app process from one seeded data dir (one side's pages would otherwise hear the other's
events), and the rounds alternate, a mark then a call, so on a shared machine both see the same moments' load.
Figures: p50/p95/p99 of each, and mark / call ratios.

Usage: ``python -m bench pencil_live``; ``BENCH_PENCIL_LIVE_READERS`` (default 24) and ``BENCH_PENCIL_LIVE_MARKS``
(default 20, the same count of the leader's calls).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from typing import Any

import httpx

from bench.bench_fanout import (
    Page,
    SeededServer,
    close_all,
    followers,
    leader_page,
    measure_moves,
    open_page,
    seed,
    signed_in,
)
from bench.common import Report, Target, percentile, ratio, temp_dir

CHART_FILE = "Brass Tacks - Bb.pdf"
READERS = max(1, int(os.environ.get("BENCH_PENCIL_LIVE_READERS", "24")))
MARKS = max(2, int(os.environ.get("BENCH_PENCIL_LIVE_MARKS", "20")))
WAIT = 15.0  # seconds a mark may take to reach every reader before it counts as lost


class Reader:
    """One open stand on the chart: notes when the marks room's notice names a stroke, then fetches it."""

    def __init__(self, page: Page, http: httpx.AsyncClient, chart: int) -> None:
        self.page, self.http, self.chart = page, http, chart
        self.heard: dict[str, float] = {}
        self.fetched: dict[str, float] = {}
        self.changed = asyncio.Event()
        self.waiting: set[str] = set()

        @page.sio.on("soleil_marks")
        async def notice(data: dict[str, Any]) -> None:  # the marks' room (components/live_room.py): ids only
            now = time.perf_counter()
            ids = data.get("ids") or []
            for sid in [s for s in self.waiting if s in ids]:
                self.waiting.discard(sid)
                self.heard[sid] = now
                asyncio.get_running_loop().create_task(self.fetch(sid))

    async def fetch(self, sid: str) -> None:
        answer = await self.http.get(f"{self.page.base}/annotations/{self.chart}", params={"part": "", "ids": sid})
        if answer.status_code == 200 and any(s["id"] == sid for s in answer.json()["strokes"]):
            self.fetched[sid] = time.perf_counter()
            self.changed.set()


def pencil_csrf(page: Page) -> str:
    """The anti-forgery token the stand's pen sends in ``X-CSRF-Token`` (the ``Pencil`` element's prop)."""
    for element in page.elements().values():
        props = element.get("props", {}) if isinstance(element, dict) else {}
        if "csrf" in props and "layers" in props:
            return str(props["csrf"])
    raise RuntimeError("no pen on the stand page")


async def open_readers(server: SeededServer, seeded: dict[str, Any], chart: int
                       ) -> tuple[httpx.AsyncClient, str, list[Reader], list[httpx.AsyncClient]]:
    """The writer (a section member, signed in, with the pen's token) and ``READERS`` stands open on the chart."""
    members = [uid for uid, role in seeded["people"] if role != "leader"]
    writer_id, others = members[0], members[1:] or members
    writer = await signed_in(server.url, writer_id)
    csrf = pencil_csrf(await open_page(writer, server.url, f"/stand/{chart}"))
    clients = [await signed_in(server.url, uid) for uid in others]
    readers: list[Reader] = []
    for n in range(READERS):  # one at a time: 24 pages open in a second or two
        http = clients[n % len(clients)]
        reader = Reader(await open_page(http, server.url, f"/stand/{chart}"), http, chart)
        await reader.page.connect()
        readers.append(reader)
    return writer, csrf, readers, clients


async def one_mark(base: str, chart: int, writer: httpx.AsyncClient, csrf: str, readers: list[Reader], n: int
                   ) -> tuple[list[float], list[float], int]:
    """One part-layer stroke POSTed; (event delays, fetched delays, readers it never reached) in ms."""
    sid = str(uuid.uuid4())
    for reader in readers:
        reader.waiting.add(sid)
    stroke = {"id": sid, "page": 0, "layer": "part", "tool": "pen", "color": "#d00000", "width": 0.004,
              "points": [[0.1, 0.1 + 0.03 * (n % 25)], [0.6, 0.12 + 0.03 * (n % 25)]]}
    start = time.perf_counter()
    sent = await writer.post(f"{base}/annotations/{chart}", json={"part": "", "add": [stroke]},
                             headers={"X-CSRF-Token": csrf})
    sent.raise_for_status()

    async def everyone() -> None:
        for reader in readers:
            while sid not in reader.fetched:
                reader.changed.clear()
                await reader.changed.wait()

    try:
        await asyncio.wait_for(everyone(), WAIT)
    except TimeoutError:
        pass
    reached = [r for r in readers if sid in r.fetched]
    return ([(r.heard[sid] - start) * 1000 for r in reached], [(r.fetched[sid] - start) * 1000 for r in reached],
            len(readers) - len(reached))


async def interleaved(marks_server: SeededServer, calls_server: SeededServer, seeded: dict[str, Any], chart: int
                      ) -> dict[str, Any]:
    """A mark, then a call, ``MARKS`` times: on a shared, busy machine both sides see the same moments' load."""
    writer, csrf, readers, clients = await open_readers(marks_server, seeded, chart)
    leader, leader_http, buttons = await leader_page(calls_server.url, seeded)
    await asyncio.sleep(0.5)  # going live settles before the followers arrive
    pages, follower_clients = await followers(calls_server.url, seeded, READERS)
    event: list[float] = []
    fetched: list[float] = []
    calls: list[float] = []
    marks_lost = calls_lost = 0
    for n in range(-2, MARKS):  # two warm-up rounds
        heard, got, lost = await one_mark(marks_server.url, chart, writer, csrf, readers, n)
        called, missing, _ = await measure_moves(leader, buttons, pages, 1) if n % 2 == 0 else \
            await measure_moves(leader, buttons[1:] + buttons[:1], pages, 1)  # next, previous, next…
        if n >= 0:
            event += heard
            fetched += got
            calls += called
            marks_lost += lost
            calls_lost += missing
    await close_all([r.page for r in readers], [*clients, writer])
    await close_all([*pages, leader], [*follower_clients, leader_http])
    return {"event": event, "mark": fetched, "call": calls, "marks_lost": marks_lost, "calls_lost": calls_lost}


def quantiles(values: list[float]) -> dict[str, float]:
    return {f"p{q}_ms": round(percentile(values, q), 1) for q in (50, 95, 99)}


async def run() -> Report:
    report = Report("pencil_live", f"A shared mark reaching {READERS} readers vs the live call reaching {READERS} "
                                   "followers")
    with temp_dir("soleil-pencil-live-") as root:
        library = root / "library"
        from soleil_ui.demo_library import generate_demo_library

        generate_demo_library(library)
        template = root / "template"
        seeded = seed(template, library)
        with SeededServer(template, library) as marks_server, SeededServer(template, library) as calls_server:
            rows = marks_server.query("SELECT id FROM chart WHERE file_name = ?", (CHART_FILE,))
            if not rows:
                raise RuntimeError(f"demo chart {CHART_FILE!r} not found")
            result = await interleaved(marks_server, calls_server, seeded, int(rows[0][0]))
    event, mark, calls = result["event"], result["mark"], result["call"]
    figures = {"mark": quantiles(mark), "event": quantiles(event), "call": quantiles(calls)}
    report.figures = {**figures, "readers": READERS, "marks": MARKS, "marks_lost": result["marks_lost"],
                      "calls_lost": result["calls_lost"], "samples": {"mark": len(mark), "call": len(calls)}}
    for q in ("p50_ms", "p95_ms", "p99_ms"):
        report.row(f"mark fetched by a reader {q[:3]}", figures["mark"][q], figures["call"][q], " ms",
                   ratio_of=(figures["mark"][q], figures["call"][q]))
        report.row(f"  its event arrived {q[:3]}", figures["event"][q], figures["call"][q], " ms",
                   ratio_of=(figures["event"][q], figures["call"][q]))
    report.figures["ratio_p95_mark_to_call"] = round(ratio(figures["mark"]["p95_ms"], figures["call"]["p95_ms"]), 2)
    report.targets = [
        Target(f"mark p95 / live call p95 ({READERS} readers)", report.figures["ratio_p95_mark_to_call"], "<=", 3.0,
               "×", source="proposed"),
        Target("marks lost", result["marks_lost"], "<=", 0, source="proposed"),
        Target("calls lost", result["calls_lost"], "<=", 0, source="proposed"),
    ]
    report.notes.append("mark = the writer's POST started → the reader's socket brought the marks room's notice (ids) "
                        "and its GET of those ids answered the stroke; event = the socket part only; call = the "
                        "leader's click sent → the follower's stand got the song (bench_fanout); baseline = call")
    return report


def main(argv: list[str]) -> int:
    started = time.monotonic()
    report = asyncio.run(run())
    report.figures["seconds"] = round(time.monotonic() - started)
    report.show()
    report.save()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
