"""The pencil on a phone: main-thread time per pointer move while drawing, and frame times drawing vs. idle.

Runs the real app (``main.py``, demo band) and Debian's Chromium in the "iPhone 13" viewport, signed in as the demo
trumpet player on "Brass Tacks" in B♭. The stand is put in pen mode, then a stroke is drawn by pointer events
dispatched from the page itself, paced by ``requestAnimationFrame`` (two moves per frame: a 120 Hz stylus at 60 Hz),
so what is timed is the page's own work, not Playwright's round trips:

* ``move`` — ``dispatchEvent`` of one ``pointermove`` on the pen's canvas, start to end (synchronous: exactly the
  main-thread time of the pencil's handler, the incremental canvas drawing included). Baseline: the same dispatch on
  a bare ``<div>`` with no listener, in the same page.
* ``frame`` — ``requestAnimationFrame`` intervals while drawing, against the same page in pen mode with the pen idle.

Targets (issue 14): move p95 <= 4 ms; frame p95 drawing <= 1.2 × frame p95 idle.
The live delay of a shared mark at 24 connected readers against the live call's is ``bench_pencil_live``.

Usage: ``python -m bench pencil``; ``BENCH_PENCIL_STROKES`` (default 20) strokes of ``BENCH_PENCIL_MOVES`` (default 60)
moves.
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from typing import Any

from bench.common import PHONE, AppServer, Report, Target, device, launch_chromium, ratio, sign_in, summary

PLAYER = "Ava Brooks"
CHART_FILE = "Brass Tacks - Bb.pdf"
STROKES = max(2, int(os.environ.get("BENCH_PENCIL_STROKES", "20")))
MOVES = max(10, int(os.environ.get("BENCH_PENCIL_MOVES", "60")))

FRAMES_JS = """
(count) => new Promise((resolve) => {
  const stamps = [];
  const tick = (t) => {
    stamps.push(t);
    if (stamps.length < count + 1) requestAnimationFrame(tick); else resolve(stamps);
  };
  requestAnimationFrame(tick);
})
"""

DRAW_JS = """
async ([strokes, moves]) => {
  const canvas = document.querySelector("[data-testid=pencil-canvas]");
  const bare = document.createElement("div");
  document.body.appendChild(bare);
  const r = canvas.getBoundingClientRect();
  const ev = (type, x, y) => new PointerEvent(type, {
    pointerId: 7, pointerType: "pen", isPrimary: true, bubbles: true, cancelable: true,
    clientX: r.left + x * r.width, clientY: r.top + y * r.height, buttons: type === "pointerup" ? 0 : 1 });
  const move = [], base = [], frames = [];
  let last = null;
  const frame = () => new Promise((res) => requestAnimationFrame((t) => {
    if (last !== null) frames.push(t - last);
    last = t;
    res();
  }));
  for (let s = 0; s < strokes; s++) {
    const y0 = 0.1 + 0.8 * (s / strokes);
    canvas.dispatchEvent(ev("pointerdown", 0.1, y0));
    for (let m = 0; m < moves; m++) {
      for (let k = 0; k < 2; k++) {
        const t = (2 * m + k) / (2 * moves);
        const x = 0.1 + 0.8 * t, y = y0 + 0.03 * Math.sin(t * 12);
        let a = performance.now();
        canvas.dispatchEvent(ev("pointermove", x, y));
        move.push(performance.now() - a);
        a = performance.now();
        bare.dispatchEvent(ev("pointermove", x, y));
        base.push(performance.now() - a);
      }
      await frame();
    }
    canvas.dispatchEvent(ev("pointerup", 0.9, y0));
    last = null;
    await frame();
  }
  bare.remove();
  return { move, base, frames };
}
"""


def main(argv: list[str]) -> int:
    from playwright.sync_api import sync_playwright

    report = Report("pencil_draw", "Drawing with the pen on a phone: main-thread time per move, frames drawing vs idle")
    with AppServer() as server:
        rows = server.query("SELECT id FROM chart WHERE file_name = ?", (CHART_FILE,))
        if not rows:
            raise RuntimeError(f"demo chart {CHART_FILE!r} not found")
        chart_id = rows[0][0]
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            try:
                context = browser.new_context(**device(playwright, PHONE))
                context.set_default_timeout(30_000)
                sign_in(context, server, PLAYER)
                page = context.new_page()
                page.goto(f"{server.url}/stand/{chart_id}")
                page.wait_for_function("window.did_handshake === true")
                page.wait_for_selector("[data-testid=pencil-canvas]", state="attached")
                size = page.viewport_size or {"width": 390, "height": 664}
                page.touchscreen.tap(size["width"] / 2, size["height"] / 2)
                page.get_by_test_id("pencil-open").click()
                page.wait_for_selector("[data-testid=pencil][data-mode=pen]")
                time.sleep(1.0)  # the stand's indicator flash and first paints settle
                idle_stamps: list[float] = page.evaluate(FRAMES_JS, STROKES * (MOVES + 1))
                idle = [b - a for a, b in itertools.pairwise(idle_stamps)]
                drawn: dict[str, Any] = page.evaluate(DRAW_JS, [STROKES, MOVES])
                page.wait_for_selector("[data-testid=pencil][data-pending='0']")
                kept = len((page.get_by_test_id("pencil").get_attribute("data-ids") or "").split(","))
                context.close()
            finally:
                browser.close()
    move, base, frames, idle_s = (summary(drawn["move"], 3), summary(drawn["base"], 3), summary(drawn["frames"]),
                                  summary(idle))
    report.figures = {"move_ms": move, "bare_dispatch_ms": base, "frame_drawing_ms": frames, "frame_idle_ms": idle_s,
                      "strokes": STROKES, "moves_per_stroke": 2 * MOVES, "strokes_kept": kept}
    report.row("pointermove main-thread p50", move["p50"], base["p50"], " ms", (move["p50"], base["p50"]))
    report.row("pointermove main-thread p95", move["p95"], base["p95"], " ms", (move["p95"], base["p95"]))
    report.row("frame p95 drawing vs idle", frames["p95"], idle_s["p95"], " ms", (frames["p95"], idle_s["p95"]))
    report.targets = [
        Target("pointermove main-thread p95", move["p95"], "<=", 4.0, " ms"),
        Target("frame p95 drawing / idle", ratio(frames["p95"], idle_s["p95"]), "<=", 1.2, "×"),
        Target("strokes kept and sent", kept, ">=", STROKES, "", "proposed"),
    ]
    report.notes.append("the live delay of a shared mark at 24 readers: pencil_live (bench_pencil_live.py)")
    report.save()
    report.show()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
