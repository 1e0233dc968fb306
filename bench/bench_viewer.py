"""The viewer on a phone: opening a chart until its first page is decoded, and turning a page.

Runs the real app (``main.py``) as a subprocess with a fresh data dir and the demo band, and drives Debian's
Chromium through Playwright in the "iPhone 13" viewport (390×664 CSS px at 3× density, touch), signed in as the demo
trumpet player. The chart is "Brass Tacks" in B♭, two pages.

open
    From the song page, click "Open my part" and time until the stand has decoded its first page image (the stand's
    ``data-ready`` hook, itself set when ``img.decode()`` resolves; a MutationObserver installed before any page
    script puts a ``performance.mark`` on it). Three figures per run:

    * ``open``  — navigation start of the stand document → first page decoded (``performance.timeOrigin`` based),
    * ``click`` — the click on "Open my part" → first page decoded (adds the websocket round trip that navigates),
    * ``image`` — the page image's request start (Resource Timing) → decoded: the media route, transfer and decode.

    *warm*: the server's page cache holds the image the phone asks for. *cold*: ``<data>/cache/pages`` is deleted
    before every run, so the page is rendered on demand. Every run uses a new browser context, so the browser's HTTP
    cache is cold in both. Baseline, *static*: the very same cached ``.webp`` served by ``python -m http.server`` and
    loaded with ``new Image()`` + ``img.decode()`` (how the stand loads pages) in a new context of the same browser.

turn
    With both pages preloaded, press ArrowRight/ArrowLeft (a pedal) and time from the keydown's ``timeStamp`` until
    the new page's ``<img>`` is the one in the slot *and* a frame has been produced (a ``requestAnimationFrame``
    callback, then a MessageChannel task, which runs after that frame's paint). Baseline: the frame interval,
    the median ``requestAnimationFrame`` interval measured in the same page just before.

Usage: ``python -m bench viewer [open] [turn]``; ``BENCH_VIEWER_RUNS`` (default 20) runs per mode.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from typing import Any
from urllib.parse import parse_qs, urlparse

from bench.common import (
    PHONE,
    AppServer,
    Report,
    Target,
    device,
    free_port,
    http_status,
    launch_chromium,
    parts_wanted,
    ratio,
    sign_in,
    summary,
    temp_dir,
    wait_until,
)

SONG = "Brass Tacks"
PLAYER = "Ava Brooks"  # trumpet, chair 1: "Open my part" opens the B♭ chart
RUNS = max(1, int(os.environ.get("BENCH_VIEWER_RUNS", "20")))
TURNS = max(2, int(os.environ.get("BENCH_VIEWER_TURNS", "60")))
WHATIF_RUNS = max(3, RUNS // 2)  # per arm of the preload experiment
PRIMING = 2  # unmeasured opens before the warm runs: the phone's width rendered, the app's code paths warm

# Installed in every document before its own scripts.
INIT_JS = """
(() => {
  if (window.__bench) return;
  window.__bench = true;
  document.addEventListener("click", (e) => {
    const button = e.target && e.target.closest ? e.target.closest("button") : null;
    if (button && (button.textContent || "").includes("Open my part")) {
      try { sessionStorage.setItem("bench.click", String(performance.timeOrigin + e.timeStamp)); } catch {}
    }
  }, true);
  const check = () => {
    if (performance.getEntriesByName("bench:first-page-decoded").length) return true;
    const stand = document.querySelector("[data-testid=stand]");
    if (!stand || stand.dataset.ready === undefined) return false;
    if (!stand.dataset.ready.split(",").includes(stand.dataset.page || "0")) return false;
    performance.mark("bench:first-page-decoded");
    return true;
  };
  new MutationObserver((_, observer) => { if (check()) observer.disconnect(); })
    .observe(document, { subtree: true, attributes: true, attributeFilter: ["data-ready"] });
})();
"""

# The what-if arm: fetch the first page as the stand document starts (same URL the stand will ask for, so its
# <img> joins this request), which is what <link rel="preload" as="image"> in the page's <head> would do.
EARLY_IMAGE_JS = """
(() => {
  if (!location.pathname.startsWith("/stand/")) return;
  const img = new Image();
  img.src = IMAGE_URL;
  window.__benchEarlyImage = img;
})();
"""

COLLECT_JS = """
() => {
  const mark = performance.getEntriesByName("bench:first-page-decoded")[0];
  const nav = performance.getEntriesByType("navigation")[0];
  const img = document.querySelector("[data-testid=stand-slot] img");
  const src = img ? img.currentSrc : "";
  const resources = performance.getEntriesByType("resource");
  const res = resources.find((r) => r.name === src) || resources.find((r) => r.name.includes("/pages/0?"));
  const click = Number(sessionStorage.getItem("bench.click") || 0);
  return {
    decoded: mark.startTime,
    click_to_decoded: click ? performance.timeOrigin + mark.startTime - click : null,
    html_response_end: nav ? nav.responseEnd : null,
    dom_content_loaded: nav ? nav.domContentLoadedEventEnd : null,
    img_start: res ? res.startTime : null,
    img_response_start: res ? res.responseStart : null,
    img_response_end: res ? res.responseEnd : null,
    img_bytes: res ? res.encodedBodySize : null,
    src,
    page: document.querySelector("[data-testid=stand]").dataset.page,
  };
}
"""

STATIC_JS = """
async (url) => {
  const t0 = performance.now();
  const img = new Image();
  img.decoding = "async";
  img.src = url;
  await img.decode();
  return { ms: performance.now() - t0, width: img.naturalWidth };
}
"""

FRAME_JS = """
() => new Promise((resolve) => {
  const stamps = [];
  const tick = (t) => { stamps.push(t); if (stamps.length < 91) requestAnimationFrame(tick); else resolve(stamps); };
  requestAnimationFrame(tick);
})
"""

ARM_TURN_JS = """
(target) => {
  window.__turn = new Promise((resolve) => {
    let keydown = null;
    window.addEventListener("keydown", (e) => { keydown = e.timeStamp; }, { capture: true, once: true });
    const slot = document.querySelector("[data-testid=stand-slot]");
    const observer = new MutationObserver(() => {
      const img = slot.firstElementChild;
      if (!img || img.dataset.index !== String(target)) return;
      observer.disconnect();
      const swapped = performance.now();
      requestAnimationFrame((frame) => {
        const channel = new MessageChannel();
        channel.port1.onmessage = () => resolve({
          keydown, swapped, frame, painted: performance.now(),
          decoded: img.complete && img.naturalWidth > 0,
        });
        channel.port2.postMessage(0);
      });
    });
    observer.observe(slot, { childList: true });
  });
}
"""


def _chart_of(server: AppServer, chart_id: int) -> tuple[str, int]:
    rows = server.query("SELECT checksum, page_count FROM chart WHERE id = ?", (chart_id,))
    if not rows:
        raise RuntimeError(f"chart {chart_id} not found")
    return rows[0][0], rows[0][1]


RETRIES: list[str] = []  # opens given up on (a socket that didn't connect in 30 s on a loaded box) and run again


def _open_once(browser: Any, playwright: Any, server: AppServer, state: dict[str, Any], song_id: int,
               early_image: str | None = None) -> tuple[dict[str, Any], int]:
    """``_open_one``, run again once when a step times out (counted in ``RETRIES`` and in the report's notes)."""
    try:
        return _open_one(browser, playwright, server, state, song_id, early_image)
    except Exception as exc:  # Playwright's TimeoutError; a second failure is a real one
        RETRIES.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
        return _open_one(browser, playwright, server, state, song_id, early_image)


def _open_one(browser: Any, playwright: Any, server: AppServer, state: dict[str, Any], song_id: int,
             early_image: str | None = None) -> tuple[dict[str, Any], int]:
    """One measured open in a new browser context; returns the timings and the chart id opened.

    ``early_image``: the what-if experiment — request this image as the stand document starts, as a
    ``<link rel=preload>`` in its ``<head>`` would."""
    context = browser.new_context(**device(playwright, PHONE), storage_state=state)
    try:
        context.set_default_timeout(30_000)
        context.add_init_script(INIT_JS)
        if early_image is not None:
            context.add_init_script(EARLY_IMAGE_JS.replace("IMAGE_URL", json.dumps(early_image)))
        page = context.new_page()
        page.goto(f"{server.url}/songs/{song_id}")
        page.wait_for_function("window.did_handshake === true")
        page.get_by_role("button", name="Open my part").click()
        page.wait_for_url("**/stand/**")
        page.wait_for_function("performance.getEntriesByName('bench:first-page-decoded').length > 0")
        timings = page.evaluate(COLLECT_JS)
        # Let the preload of page 2 finish, so no render from this run overlaps the next one.
        page.wait_for_function("(document.querySelector('[data-testid=stand]')?.dataset.ready || '').includes('1')")
        chart_id = int(urlparse(page.url).path.rstrip("/").split("/")[-1])
        return timings, chart_id
    finally:
        context.close()


def _static_once(browser: Any, playwright: Any, base: str, run: int) -> dict[str, Any]:
    context = browser.new_context(**device(playwright, PHONE))
    try:
        page = context.new_page()
        page.goto(f"{base}/index.html")
        return page.evaluate(STATIC_JS, f"{base}/page.webp?run={run}")
    finally:
        context.close()


def _http_times(port: int, path: str, cookie: str, runs: int = 30) -> dict[str, float]:
    """Milliseconds to GET ``path`` over a new loopback connection each time (no browser): the server's own time."""
    times = []
    for run in range(runs + 1):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            start = time.perf_counter()
            conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
            response = conn.getresponse()
            response.read()
            elapsed = (time.perf_counter() - start) * 1000
        finally:
            conn.close()
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status}")
        if run:  # the first one is a warm-up
            times.append(elapsed)
    return summary(times)


def _figures(samples: list[dict[str, Any]]) -> dict[str, Any]:
    opens = [s["decoded"] for s in samples]
    clicks = [s["click_to_decoded"] for s in samples if s["click_to_decoded"] is not None]
    images = [s["decoded"] - s["img_start"] for s in samples if s["img_start"] is not None]
    served = [s["img_response_end"] - s["img_start"] for s in samples if s["img_start"] is not None]
    html = [s["html_response_end"] for s in samples if s["html_response_end"] is not None]
    requested = [s["img_start"] for s in samples if s["img_start"] is not None]
    return {
        "open_ms": summary(opens),
        "click_ms": summary(clicks),
        "image_ms": summary(images),
        "breakdown_p50_ms": {
            "html_response_end": summary(html)["p50"],
            "image_requested": summary(requested)["p50"],
            "image_received_after_request": summary(served)["p50"],
            "decoded": summary(opens)["p50"],
        },
        "image_bytes": samples[0]["img_bytes"] if samples else None,
    }


def bench_open(browser: Any, playwright: Any, server: AppServer, state: dict[str, Any], song_id: int) -> None:
    report = Report("viewer_open", "Open a chart on a phone until the first page is decoded (iPhone 13, Chromium)")
    # The width the phone asks for, and whether the pre-render after sync already covers it.
    first, chart_id = _open_once(browser, playwright, server, state, song_id)
    checksum, pages = _chart_of(server, chart_id)
    width = int(parse_qs(urlparse(first["src"]).query)["w"][0])
    from soleil_ui.rendering import PRERENDER_WIDTHS, PageRenderer

    cache_file = PageRenderer(server.page_cache).cache_path(checksum, 0, width)
    for _ in range(PRIMING - 1):
        _open_once(browser, playwright, server, state, song_id)
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in state["cookies"])
    media_path = f"/media/charts/{chart_id}/pages/0?w={width}&v={checksum[:16]}"
    http_media_early = _http_times(server.port, media_path, cookie)

    warm = [_open_once(browser, playwright, server, state, song_id)[0] for _ in range(RUNS)]

    with temp_dir("soleil-bench-static-") as static_dir:
        shutil.copy(cache_file, static_dir / "page.webp")
        (static_dir / "index.html").write_text("<!doctype html><meta name=viewport content='width=device-width'>"
                                               "<title>static</title>")
        port = free_port()
        httpd = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                                  "--directory", str(static_dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until(lambda: http_status(base + "/index.html") == 200, 15, "the static file server")
            _static_once(browser, playwright, base, -1)  # unmeasured: the server's first request
            static = [_static_once(browser, playwright, base, run) for run in range(RUNS)]
            http_media = _http_times(server.port, media_path, cookie)
            http_static = _http_times(port, "/page.webp", "")
        finally:
            httpd.terminate()
            httpd.wait(timeout=10)

    cold = []
    for _ in range(RUNS):
        shutil.rmtree(server.page_cache, ignore_errors=True)
        cold.append(_open_once(browser, playwright, server, state, song_id)[0])

    # What if the stand's HTML named its first page in <head> (<link rel=preload as=image>)? The image, and on a
    # cold cache its render, would start while the JavaScript boots. Cold, the two arms interleaved.
    whatif: dict[str, list[dict[str, Any]]] = {"control": [], "early": []}
    for run in range(WHATIF_RUNS * 2):
        arm = ("control", "early")[run % 2]
        shutil.rmtree(server.page_cache, ignore_errors=True)
        early = f"{server.url}{media_path}" if arm == "early" else None
        whatif[arm].append(_open_once(browser, playwright, server, state, song_id, early_image=early)[0])

    static_ms = summary([s["ms"] for s in static])
    w, c = _figures(warm), _figures(cold)
    report.figures = {
        "chart": {"song": SONG, "chart_id": chart_id, "pages": pages, "phone_width_requested": width,
                  "prerender_widths": list(PRERENDER_WIDTHS),
                  "prerender_covers_phone_width": width in PRERENDER_WIDTHS},
        "warm": w, "cold": c, "static_fetch_decode_ms": static_ms, "runs": RUNS,
        "whatif_cold_first_page_preloaded_in_head": {arm: _figures(v) for arm, v in whatif.items()},
        "http_only_ms": {"media_route_cached_after_priming": http_media_early,
                         "media_route_cached_after_warm_runs": http_media, "static_server": http_static,
                         "healthz": _http_times(server.port, "/healthz", "")},
    }
    report.row("static file fetch+decode p50", static_ms["p50"], unit=" ms")
    report.row("static file fetch+decode p95", static_ms["p95"], unit=" ms")
    for label, fig in (("warm", w), ("cold", c)):
        for measure in ("open", "click", "image"):
            for p in ("p50", "p95"):
                value = fig[f"{measure}_ms"][p]
                report.row(f"{label} {measure} {p}", value, static_ms[p], " ms", (value, static_ms[p]))
    control, early = (_figures(whatif[arm])["open_ms"]["p50"] for arm in ("control", "early"))
    report.row("what-if, cold open p50 if <head> preloaded page 1", early, control, " ms", (early, control))
    for label, times in (("before", http_media_early), ("after", http_media)):
        report.row(f"HTTP only, {label} the warm runs: media route p50", times["p50"], http_static["p50"], " ms",
                   (times["p50"], http_static["p50"]))
    report.targets = [
        Target("warm open p50 / static p50", ratio(w["open_ms"]["p50"], static_ms["p50"]), "<=", 1.5, "×"),
        Target("warm image p50 / static p50", ratio(w["image_ms"]["p50"], static_ms["p50"]), "<=", 1.5, "×",
               source="proposed"),
        Target("cold open p95 (2-page chart)", c["open_ms"]["p95"], "<", 300.0, " ms"),
    ]
    report.notes.append(f"the phone (390 CSS px at 3×) picks w={width} from the srcset; pre-render after sync writes "
                        f"{list(PRERENDER_WIDTHS)}" + ("" if width in PRERENDER_WIDTHS else
                                                       " — so its first open of every chart renders on demand"))
    report.notes.append("open = stand navigation start → decoded; click = tap on 'Open my part' → decoded; "
                        "image = image request start → decoded; warm breakdown p50 (ms from navigation start): "
                        + ", ".join(f"{k} {v:.0f}" for k, v in w["breakdown_p50_ms"].items()))
    if RETRIES:
        report.notes.append(f"{len(RETRIES)} open(s) timed out and were run again: {RETRIES[0]}")
    report.save()
    report.show()


def bench_turn(browser: Any, playwright: Any, server: AppServer, state: dict[str, Any], song_id: int) -> None:
    report = Report("viewer_page_turn", "Page turn on a phone until the next page is on screen (preloaded)")
    context = browser.new_context(**device(playwright, PHONE), storage_state=state)
    try:
        context.set_default_timeout(30_000)
        page = context.new_page()
        page.goto(f"{server.url}/songs/{song_id}")
        page.wait_for_function("window.did_handshake === true")
        page.get_by_role("button", name="Open my part").click()
        page.wait_for_url("**/stand/**")
        ready = "(document.querySelector('[data-testid=stand]')?.dataset.ready || '').split(',').length >= 2"
        page.wait_for_function(ready)
        time.sleep(2.0)  # the page indicator's flash and any first-paint work settle
        stamps = page.evaluate(FRAME_JS)
        intervals = [b - a for a, b in itertools.pairwise(stamps)]
        frame = summary(intervals)
        samples, swaps, not_decoded = [], [], 0
        for turn in range(TURNS):
            target, key = (1, "ArrowRight") if turn % 2 == 0 else (0, "ArrowLeft")
            page.wait_for_function(ready)
            page.evaluate(ARM_TURN_JS, target)
            page.keyboard.press(key)
            result = page.evaluate("window.__turn")
            samples.append(result["painted"] - result["keydown"])
            swaps.append(result["swapped"] - result["keydown"])
            not_decoded += 0 if result["decoded"] else 1
            time.sleep(0.15)  # a musician doesn't turn twice within a few frames
    finally:
        context.close()
    turn = summary(samples)
    report.figures = {"turn_ms": turn, "swap_ms": summary(swaps), "frame_ms": frame, "turns": TURNS,
                      "turn_p50_frames": ratio(turn["p50"], frame["p50"]),
                      "turn_p95_frames": ratio(turn["p95"], frame["p50"]),
                      "turns_showing_undecoded_image": not_decoded}
    report.row("frame interval (rAF) p50", frame["p50"], unit=" ms")
    report.row("keydown → image swapped p50", summary(swaps)["p50"], frame["p50"], " ms",
               (summary(swaps)["p50"], frame["p50"]))
    report.row("keydown → painted p50", turn["p50"], frame["p50"], " ms", (turn["p50"], frame["p50"]))
    report.row("keydown → painted p95", turn["p95"], frame["p50"], " ms", (turn["p95"], frame["p50"]))
    report.targets = [
        Target("turn p95 / frame interval", ratio(turn["p95"], frame["p50"]), "<=", 1.0, " frames"),
        Target("turns showing an undecoded image", not_decoded, "<=", 0),
    ]
    report.save()
    report.show()


def main(argv: list[str]) -> int:
    parts = parts_wanted(argv, ["open", "turn"])
    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    with AppServer() as server:
        server.wait_prerendered()
        rows = server.query("SELECT id FROM song WHERE title = ?", (SONG,))
        if not rows:
            raise RuntimeError(f"demo song {SONG!r} not found")
        song_id = rows[0][0]
        print(f"app ready at {server.url} with pre-rendered demo charts in {time.monotonic() - started:.0f}s",
              flush=True)
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            try:
                context = browser.new_context(**device(playwright, PHONE))
                sign_in(context, server, PLAYER)
                state = context.storage_state()
                context.close()
                if "open" in parts:
                    bench_open(browser, playwright, server, state, song_id)
                if "turn" in parts:
                    bench_turn(browser, playwright, server, state, song_id)
            finally:
                browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

