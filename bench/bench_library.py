"""The library at band scale: search over 10,000 songs, page rendering throughput, and syncing a 2,000-file folder.

search
    10,000 songs with realistic titles (accents, apostrophes, "Blues in F") and 3-6 charts each, in a fresh SQLite
    database, and in PostgreSQL too when a server answers on 127.0.0.1:5432 (trust auth, user postgres; the
    benchmark creates and drops its own database). Times ``soleil_ui.services.library.search_songs`` as the library
    page calls it (one session per search) for typical queries of 1-3 words, typed with and without accents.
    Baseline: a bare ``SELECT id FROM song LIMIT 50`` through the same session machinery. Target: p95 < 20 ms.
    The query plans of the statements ``search_songs`` sends are recorded in results.json.

render
    Pages per second per core on the engraved fixture charts (tests/fixtures/charts) at the phone and tablet widths:
    ``soleil_ui.rendering.render_page`` in this one process, and ``PageRenderer`` with its process pool as the app
    pre-renders after a sync (one chart after another, every page and width of a chart at once). Baseline:
    pypdfium2 opening and rasterising the same pages without encoding.

sync
    ``sync_band`` with a ``LocalFolderSource`` over 2,000 small generated PDFs named the ways bands name files:
    the first sync, an unchanged re-sync (same source object, as the app keeps it), and an unchanged re-sync with a
    new source object (after a restart: every file hashed again). Baseline: walking and hashing the folder alone.

Usage: ``python -m bench library [search] [render] [sync]``. ``BENCH_PG=0`` skips PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import os
import shutil
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from random import Random
from typing import Any

from bench.common import REPO_ROOT, Report, Target, parts_wanted, ratio, summary, temp_dir

SONGS = 10_000
SYNC_FILES = 2_000
PRERENDER_SAMPLE = 40  # charts of the first sync pre-rendered to measure what pre-rendering costs
SEARCH_REPS = 20
PG = dict(host="127.0.0.1", port=5432, user="postgres")
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "charts"
RENDER_WIDTHS = (800, 1200, 1600)  # pre-render widths (phone, tablet / high density) and what an iPhone 13 asks for
RENDER_ROUNDS = 2
# What musicians type: 1-3 words, with and without the accents of the title, a partial word, and a miss.
QUERIES = ["blue", "senor", "Señor", "café", "cafe ole", "moon river", "noel", "the night", "blues in f",
           "midnight train", "sao paulo", "don't", "corazon", "rhap", "zzz nothing"]

# --- realistic titles ------------------------------------------------------------------------------------------------
ADJ = ["Blue", "Midnight", "Golden", "Lazy", "Crazy", "Sweet", "Lonely", "Silver", "Velvet", "Little", "Old", "Smoky",
       "Hungry", "Quiet", "Electric", "Rainy", "Sunny", "Wild", "Broken", "Happy", "Dusty", "Easy", "Late", "Red"]
NOUN = ["Moon", "River", "Train", "Harbor", "Street", "Morning", "Night", "Heart", "Rain", "Road", "City", "Window",
        "Coffee", "Summer", "Winter", "Garden", "Dream", "Shadow", "Bridge", "Waltz", "Samba", "Serenade", "Groove",
        "Shuffle", "Boogie", "Stomp", "Swing", "Lullaby", "Rhapsody", "Song", "Avenue", "Sky", "Ferry", "Lights"]
ACCENTED = ["Señor", "Café", "Olé", "Noël", "São Paulo", "Été", "Ça Va", "Mañana", "Añoranza", "Crème", "Déjà Vu",
            "Niño", "Canción", "Corazón", "Otoño", "Garçon", "Über", "Bossa Açaí", "Adiós", "Pequeña"]
NAMES = ["Rosa", "Marguerite", "Tomás", "Lena", "Ana", "Jo", "Theo", "Nina", "Louis", "Ella", "Duke", "Billie", "Zoë"]
PLACES = ["Harlem", "New Orleans", "Havana", "Paris", "Rio", "Chicago", "Memphis", "Lisbon", "Kansas City", "Montréal",
          "Bogotá", "Zürich", "Brooklyn", "St. Louis"]
STYLES = ["Blues", "Stomp", "Rag", "Bossa", "Mambo", "Waltz", "Shuffle", "Ballad", "Cha-Cha", "Two-Step"]
KEYS = ["F", "B♭", "E♭", "C", "G", "D", "A♭", "Bb", "Eb"]
VERBS = ["Stop", "Wait", "Cry", "Go", "Look Back", "Forget Me", "Let Go", "Say Goodbye"]
PATTERNS = [
    lambda r: f"{r.choice(ADJ)} {r.choice(NOUN)}",
    lambda r: f"{r.choice(NOUN)} of {r.choice(PLACES)}",
    lambda r: f"{r.choice(NAMES)}'s {r.choice(NOUN)}",
    lambda r: f"{r.choice(ACCENTED)} {r.choice(NOUN)}",
    lambda r: f"The {r.choice(ADJ)} {r.choice(NOUN)} {r.choice(STYLES)}",
    lambda r: f"{r.choice(STYLES)} in {r.choice(KEYS)}",
    lambda r: f"Don't {r.choice(VERBS)}",
    lambda r: f"{r.choice(ADJ)} {r.choice(NOUN)} & {r.choice(NOUN)}",
    lambda r: f"{r.choice(NOUN)} for {r.choice(NAMES)}",
    lambda r: f"{r.choice(ACCENTED)} de {r.choice(PLACES)}",
    lambda r: f"{r.choice(ADJ)} {r.choice(NOUN)} ({r.choice(NAMES)}'s Version)",
    lambda r: f"{r.choice(PLACES)} {r.choice(STYLES)}",
]
# (as written in a file name, how many pages)
PART_NAMES = ["Bb", "Eb", "Concert", "Bass Clef", "Chords", "Trumpet 1", "Trumpet 2", "Alto Sax", "Tenor Sax",
              "Trombone", "Lyrics", "Piano", "Drums", "Guitar"]


def make_titles(count: int, seed: int = 42) -> list[str]:
    """``count`` titles whose grouping keys are all different (the song table is unique on band and key)."""
    from soleil_ui.naming import song_key

    rng = Random(seed)
    titles: list[str] = []
    keys: set[str] = set()
    for attempt in range(count * 50):
        title = rng.choice(PATTERNS)(rng)
        if song_key(title) in keys:
            title = f"{title} No. {attempt % 97 + 2}"
            if song_key(title) in keys:
                continue
        keys.add(song_key(title))
        titles.append(title)
        if len(titles) == count:
            return titles
    raise RuntimeError(f"could only make {len(titles)} distinct titles")


def _part_keys() -> dict[str, str]:
    from soleil_ui.naming import parse_filename

    keys = {}
    for name in PART_NAMES:
        part = parse_filename(f"Song - {name}.pdf").part
        assert part is not None, name
        keys[name] = part.key()
    return keys


# --- search ----------------------------------------------------------------------------------------------------------
async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(**PG, database="postgres", timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _with_defaults(model: Any, row: dict[str, Any]) -> dict[str, Any]:
    """A raw insert row completed with the model's defaults, so columns added later don't break the bench."""
    for name, field in model.model_fields.items():
        if name not in row and name != "id" and name in model.__table__.c:
            row[name] = field.get_default(call_default_factory=True)
    return row


async def _fill_library(titles: list[str]) -> Any:
    """Band, member and songs with charts in the configured database; returns the member's ``Actor``."""
    from sqlmodel import select

    from soleil_ui.db import db
    from soleil_ui.models import Band, Chart, ChartStatus, Membership, Role, Song, User
    from soleil_ui.naming import search_key, song_key
    from soleil_ui.services.auth import actor_of

    now = datetime.now(UTC)
    instruments = [{"instrument": "trumpet", "chair": 1}]
    async with db.session() as session:
        band = Band(name="The Big Library Band", timezone="UTC")
        user = User(email="trumpet@bench.invalid", name="Ava Bench")
        session.add_all([band, user])
        await session.flush()
        membership = Membership(band_id=band.id, user_id=user.id, role=Role.MEMBER, instruments=instruments)
        session.add(membership)
        await session.flush()
        actor = actor_of(membership, user, band)
    async with db.session() as session:
        conn = await session.connection()
        await conn.execute(Song.__table__.insert(), [  # type: ignore[attr-defined]
            _with_defaults(Song, {"band_id": actor.band_id, "title": t, "song_key": song_key(t),
                                  "search_key": search_key(t), "title_locked": False, "created_at": now})
            for t in titles])
    async with db.session() as session:
        ids = dict((await session.exec(select(Song.song_key, Song.id).where(Song.band_id == actor.band_id))).all())
    keys, rng, charts = _part_keys(), Random(7), []
    for title in titles:
        song_id = ids[song_key(title)]
        for part in rng.sample(PART_NAMES, rng.randint(3, 6)):
            name = f"{title} - {part}.pdf"
            charts.append(_with_defaults(Chart, {
                "band_id": actor.band_id, "song_id": song_id, "source_file_id": f"{song_id}/{name}",
                "file_name": name, "folder": "", "mime_type": "application/pdf", "kind": "chart",
                "checksum": hashlib.sha256(name.encode()).hexdigest(), "size": 40_000, "part_key": keys[part],
                "page_count": rng.choice((1, 1, 2, 2, 3)), "page_sizes": [[595.3, 841.9]], "pdf_title": title,
                "status": ChartStatus.OK, "problem": None, "manual": False, "modified_at": now, "synced_at": now}))
    for start in range(0, len(charts), 5000):
        async with db.session() as session:
            conn = await session.connection()
            await conn.execute(Chart.__table__.insert(), charts[start:start + 5000])  # type: ignore[attr-defined]
    return actor, len(charts)


async def _search_plans(actor: Any, text: str, part: str | None = None) -> list[str]:
    """The statements ``search_songs`` sends for ``text``, each with its query plan."""
    from sqlalchemy import event

    from soleil_ui.db import db
    from soleil_ui.services import library

    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        sent.append((statement, parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with db.session() as session:
            if part:
                await library.search_songs(session, actor, text, part=part)
            else:
                await library.search_songs(session, actor, text)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", capture)
    plans = []
    prefix = "EXPLAIN QUERY PLAN " if db.is_sqlite else "EXPLAIN ANALYZE "
    async with db.engine.connect() as conn:
        for statement, parameters in sent:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            try:
                rows = (await conn.exec_driver_sql(prefix + statement, parameters)).all()
                plan = "\n".join(" | ".join(str(c) for c in row) for row in rows)
            except Exception as exc:  # a plan is a diagnostic; never fail the benchmark on it
                plan = f"(no plan: {type(exc).__name__}: {exc})"
            plans.append(" ".join(statement.split()) + "\n" + plan)
    return plans


async def _search_on(url: str, label: str, titles: list[str]) -> dict[str, Any]:
    from sqlalchemy import text as sql
    from sqlmodel import select

    from soleil_ui.db import db
    from soleil_ui.models import Song
    from soleil_ui.services import library

    db.configure(url)
    try:
        t0 = time.perf_counter()
        await db.migrate()
        actor, charts = await _fill_library(titles)
        if not db.is_sqlite:
            async with db.engine.connect() as conn:  # autovacuum would soon; the bench can't wait for it
                await conn.exec_driver_sql("ANALYZE")
        filled = time.perf_counter() - t0

        mine = getattr(library, "MINE", None)  # the "in my part" filter, where this version has it
        if mine is not None and "part" not in inspect.signature(library.search_songs).parameters:
            mine = None

        async def one(text: str, part: str | None = None) -> tuple[float, int]:
            start = time.perf_counter()
            async with db.session() as session:
                if part:
                    page = await library.search_songs(session, actor, text, part=part)
                else:
                    page = await library.search_songs(session, actor, text)
            return (time.perf_counter() - start) * 1000, page.total

        async def bare() -> float:
            start = time.perf_counter()
            async with db.session() as session:
                (await session.exec(sql("SELECT id FROM song LIMIT 50"))).all()  # type: ignore[call-overload]
            return (time.perf_counter() - start) * 1000

        async with db.session() as session:
            song_ids = list((await session.exec(select(Song.id).where(Song.band_id == actor.band_id))).all())
        picks = Random(3)

        async def by_key() -> float:
            """The issue's yardstick: one song by its primary key, through the same session machinery."""
            song_id = picks.choice(song_ids)
            start = time.perf_counter()
            async with db.session() as session:
                await session.get(Song, song_id)
            return (time.perf_counter() - start) * 1000

        for q in QUERIES:  # warm-up: connections, statement caches, the OS page cache
            await one(q)
        await bare()
        await by_key()
        samples: list[float] = []
        per_query: dict[str, dict[str, Any]] = {}
        baseline: list[float] = []
        pk: list[float] = []
        in_my_part: list[float] = []
        for rep in range(SEARCH_REPS):  # interleaved, so drift over the run hits search and baselines alike
            for q in QUERIES:
                ms, total = await one(q)
                samples.append(ms)
                per_query.setdefault(q, {"ms": [], "matches": total})["ms"].append(ms)
                baseline.append(await bare())
                pk.append(await by_key())
                if mine and rep % 2 == 0:
                    in_my_part.append((await one(q, mine))[0])
                    pk.append(await by_key())
        empty = []
        for _ in range(SEARCH_REPS):
            empty.append((await one(""))[0])
            pk.append(await by_key())
        plans = await _search_plans(actor, "moon river")
        mine_plans = await _search_plans(actor, "moon river", mine) if mine else []
        return {
            "database": label, "songs": len(titles), "charts": charts, "fill_seconds": round(filled, 1),
            "search_ms": summary(samples), "bare_select_ms": summary(baseline), "empty_query_ms": summary(empty),
            "primary_key_lookup_ms": summary(pk),
            "in_my_part_filter_ms": summary(in_my_part) if in_my_part else None,
            "per_query": {q: {"p50_ms": summary(v["ms"])["p50"], "p95_ms": summary(v["ms"])["p95"],
                              "matches": v["matches"]} for q, v in per_query.items()},
            "plans_for_moon_river": plans,
            "plans_for_moon_river_in_my_part": mine_plans,
        }
    finally:
        await db.dispose()


async def bench_search() -> None:
    report = Report("library_search", f"Library search over {SONGS:,} songs (search_songs, one session per search)")
    titles = make_titles(SONGS)
    results = []
    with temp_dir("soleil-bench-search-") as tmp:
        results.append(await _search_on(f"sqlite+aiosqlite:///{tmp / 'search.db'}", "sqlite", titles))
    if os.environ.get("BENCH_PG", "1") != "0":
        name = f"soleil_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        try:
            await _pg_admin(f'CREATE DATABASE "{name}"')
        except Exception as exc:  # no server: PostgreSQL is optional here
            report.notes.append(f"PostgreSQL at {PG['host']}:{PG['port']} not used: {type(exc).__name__}: {exc}")
        else:
            try:
                results.append(await _search_on(f"postgresql+asyncpg://{PG['user']}@{PG['host']}:{PG['port']}/{name}",
                                                 "postgresql", titles))
            finally:
                await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    for r in results:
        db_name, s, b, e = r["database"], r["search_ms"], r["bare_select_ms"], r["empty_query_ms"]
        k = r["primary_key_lookup_ms"]
        report.figures[db_name] = r
        report.row(f"{db_name}: search p95 vs one song by primary key", s["p95"], k["p95"], " ms", (s["p95"], k["p95"]))
        report.targets.append(Target(f"{db_name} search p95 / primary-key lookup p95", ratio(s["p95"], k["p95"]),
                                     "<=", 3.0, "×"))
        report.targets.append(Target(f"{db_name} empty query (library opens) p95 / primary-key lookup p95",
                                     ratio(e["p95"], k["p95"]), "<=", 3.0, "×"))
        if r["in_my_part_filter_ms"]:
            m = r["in_my_part_filter_ms"]
            report.row(f"{db_name}: 'in my part' p95 vs one song by primary key", m["p95"], k["p95"], " ms",
                       (m["p95"], k["p95"]))
            report.targets.append(Target(f"{db_name} 'in my part' search p95 / primary-key lookup p95",
                                         ratio(m["p95"], k["p95"]), "<=", 3.0, "×"))
        report.row(f"{db_name}: search p50", s["p50"], b["p50"], " ms", (s["p50"], b["p50"]))
        report.row(f"{db_name}: search p95", s["p95"], b["p95"], " ms", (s["p95"], b["p95"]))
        report.row(f"{db_name}: empty query (library opens) p95", e["p95"], b["p95"], " ms", (e["p95"], b["p95"]))
        if r["in_my_part_filter_ms"]:
            m = r["in_my_part_filter_ms"]
            report.row(f"{db_name}: same queries, 'in my part' filter p50", m["p50"], b["p50"], " ms",
                       (m["p50"], b["p50"]))
            report.row(f"{db_name}: same queries, 'in my part' filter p95", m["p95"], b["p95"], " ms",
                       (m["p95"], b["p95"]))
        slowest = max(r["per_query"].items(), key=lambda kv: kv[1]["p95_ms"])
        report.row(f"{db_name}: slowest query {slowest[0]!r} p95", slowest[1]["p95_ms"], b["p95"], " ms",
                   (slowest[1]["p95_ms"], b["p95"]))
        report.targets.append(Target(f"{db_name} search p95", s["p95"], "<", 20.0, " ms"))
        if r["in_my_part_filter_ms"]:
            report.targets.append(Target(f"{db_name} search with 'in my part' filter p95",
                                         r["in_my_part_filter_ms"]["p95"], "<", 20.0, " ms", source="proposed"))
        page_plan = next((p for p in r["plans_for_moon_river"] if "ORDER BY" in p.split("\n", 1)[0]), "")
        plan_lines = [line.strip() for line in page_plan.split("\n")[1:] if line.strip()]
        if db_name == "sqlite":
            report.notes.append("sqlite plan of the page query: " + "; ".join(plan_lines))
        else:
            report.notes.append("postgresql plan of the page query: "
                                + "; ".join(line for line in plan_lines if "Scan" in line or "Filter" in line))
    report.notes.append(f"{len(QUERIES)} queries × {SEARCH_REPS} runs, interleaved with the baseline; "
                        "per-query p50/p95 and match counts are in results.json")
    report.save()
    report.show()


# --- render ----------------------------------------------------------------------------------------------------------
def _pdfium_only(data: bytes, index: int, width: int) -> None:
    """What render_page does minus the WebP encode: open, rasterise greyscale at the width, hand PIL the bitmap."""
    import pypdfium2 as pdfium

    from soleil_ui.rendering import MAX_HEIGHT_RATIO

    pdf = pdfium.PdfDocument(data)
    try:
        page = pdf[index]
        w, h = page.get_size()
        page.render(scale=min(width / w, MAX_HEIGHT_RATIO * width / h), grayscale=True).to_pil()
    finally:
        pdf.close()


def _time_each(fn: Any, jobs: list[tuple[bytes, int, int]]) -> dict[int, list[float]]:
    per_width: dict[int, list[float]] = {}
    for data, index, width in jobs:
        start = time.perf_counter()
        fn(data, index, width)
        per_width.setdefault(width, []).append((time.perf_counter() - start) * 1000)
    return per_width


async def _pool_round(charts: list[tuple[str, bytes]], cache: Path, workers: int, *, at_once: bool) -> float:
    """Seconds for the pool to render every page of every chart at every width into an empty cache."""
    from soleil_ui.rendering import PageRenderer

    shutil.rmtree(cache, ignore_errors=True)
    renderer = PageRenderer(cache, workers=workers)
    try:
        await asyncio.gather(*(renderer.inspect(data) for _, data in charts[:workers]))  # start every worker
        start = time.perf_counter()
        if at_once:
            await asyncio.gather(*(renderer.prerender(c, lambda d=data: d, RENDER_WIDTHS) for c, data in charts))
        else:  # as the app does after a sync: chart after chart
            for checksum, data in charts:
                await renderer.prerender(checksum, lambda d=data: d, RENDER_WIDTHS)
        return time.perf_counter() - start
    finally:
        renderer.close()


async def bench_render() -> None:
    import pypdfium2 as pdfium

    from soleil_ui.rendering import render_page

    report = Report("library_render", "Page rendering throughput (fixture charts, pages per second per core)")
    charts, jobs = [], []
    for path in sorted(FIXTURES.glob("*.pdf")):
        data = path.read_bytes()
        charts.append((hashlib.sha256(data).hexdigest(), data))
        pages = len(pdfium.PdfDocument(data))
        jobs += [(data, i, w) for i in range(pages) for w in RENDER_WIDTHS]
    page_count = len(jobs) // len(RENDER_WIDTHS)
    _time_each(_pdfium_only, jobs[:3])
    _time_each(render_page, jobs[:3])  # warm-up: libraries loaded, caches filled
    raster: dict[int, list[float]] = {}
    encoded: dict[int, list[float]] = {}
    for _ in range(RENDER_ROUNDS):
        for width, ms in _time_each(_pdfium_only, jobs).items():
            raster.setdefault(width, []).extend(ms)
        for width, ms in _time_each(render_page, jobs).items():
            encoded.setdefault(width, []).extend(ms)
    raster_rate = 1000 * len(jobs) * RENDER_ROUNDS / sum(sum(v) for v in raster.values())
    single_rate = 1000 * len(jobs) * RENDER_ROUNDS / sum(sum(v) for v in encoded.values())

    workers = os.cpu_count() or 1
    plain_times: list[float] = []
    sequential: list[float] = []
    with temp_dir("soleil-bench-render-") as tmp, _plain_pool(jobs, workers) as plain_round:
        for _ in range(RENDER_ROUNDS):  # interleaved, so a burst of other work on the machine hits both alike
            plain_times.append(plain_round())
            sequential.append(await _pool_round(charts, tmp / "cache", workers, at_once=False))
        at_once = await _pool_round(charts, tmp / "cache", workers, at_once=True)
        one_worker = await _pool_round(charts, tmp / "cache", 1, at_once=False)
    plain_rate = len(jobs) / min(plain_times)
    pool_rate = len(jobs) / min(sequential)
    burst_rate = len(jobs) / at_once
    one_rate = len(jobs) / one_worker
    report.figures = {
        "charts": len(charts), "pages": page_count, "widths": list(RENDER_WIDTHS), "images_per_round": len(jobs),
        "rounds": RENDER_ROUNDS, "workers": workers,
        "pdfium_raster_only_pages_per_s_per_core": round(raster_rate, 1),
        "render_page_pages_per_s_per_core": round(single_rate, 1),
        "plain_process_pool_pages_per_s": round(plain_rate, 1),
        "machine_parallel_efficiency": ratio(plain_rate / workers, single_rate),
        "pool_after_sync_pages_per_s": round(pool_rate, 1),
        "pool_after_sync_pages_per_s_per_core": round(pool_rate / workers, 1),
        "pool_all_at_once_pages_per_s_per_core": round(burst_rate / workers, 1),
        "pool_one_worker_pages_per_s": round(one_rate, 1),
        "ms_per_page_by_width": {str(w): {"raster_only_p50": summary(raster[w])["p50"],
                                          "render_page_p50": summary(encoded[w])["p50"],
                                          "render_page_p95": summary(encoded[w])["p95"]} for w in RENDER_WIDTHS},
    }
    per_core = f"per core ({workers} workers)"
    report.row("pypdfium2 raster only, 1 process", round(raster_rate, 1), unit=" p/s")
    report.row("render_page (raster + WebP), 1 process", round(single_rate, 1), round(raster_rate, 1), " p/s",
               (single_rate, raster_rate))
    report.row(f"render_page in a plain process pool, {per_core}", round(plain_rate / workers, 1),
               round(single_rate, 1), " p/s", (plain_rate / workers, single_rate))
    report.row(f"PageRenderer as after a sync, {per_core}", round(pool_rate / workers, 1),
               round(plain_rate / workers, 1), " p/s", (pool_rate, plain_rate))
    report.row(f"PageRenderer everything at once, {per_core}", round(burst_rate / workers, 1),
               round(plain_rate / workers, 1), " p/s", (burst_rate, plain_rate))
    report.row("PageRenderer with 1 worker", round(one_rate, 1), round(single_rate, 1), " p/s",
               (one_rate, single_rate))
    for w in RENDER_WIDTHS:
        r, e = summary(raster[w])["p50"], summary(encoded[w])["p50"]
        report.row(f"ms per page at {w} px: render_page p50", e, r, " ms", (e, r))
    report.targets = [
        Target("PageRenderer after sync / plain process pool", ratio(pool_rate, plain_rate), ">=", 0.8, "×",
               source="proposed"),
    ]
    report.notes.append("no throughput target in the issue; the proposed one asks that the app's pool get at least "
                        "80% of what a plain process pool of the same size gets from this machine on the same pages "
                        f"(this machine's own parallel efficiency now: {ratio(plain_rate / workers, single_rate)}× "
                        "per core; below ~0.9 the cores are shared with other work and per-core figures are noisy)")
    report.notes.append("render_page / raster-only is the cost of the lossless WebP encode")
    report.save()
    report.show()


def _render_job(job: tuple[bytes, int, int]) -> int:
    from soleil_ui.rendering import render_page

    return len(render_page(*job))


@contextlib.contextmanager
def _plain_pool(jobs: list[tuple[bytes, int, int]], workers: int) -> Iterator[Callable[[], float]]:
    """A bare spawn process pool, workers started; yields a function timing ``render_page`` over every job."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(_render_job, jobs[:workers]))  # start every worker, import everything

        def one_round() -> float:
            start = time.perf_counter()
            list(pool.map(_render_job, jobs))
            return time.perf_counter() - start

        yield one_round


# --- sync ------------------------------------------------------------------------------------------------------------
def _small_chart(title: str, part: str, pages: int) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_creation_date(datetime(2024, 1, 1, tzinfo=UTC))
    pdf.set_title(title)
    pdf.set_subject(part)
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.set_font("helvetica", "B", 20)
        pdf.text(20, 25, title.encode("latin-1", "replace").decode("latin-1"))
        pdf.set_font("helvetica", "", 12)
        pdf.text(20, 35, f"{part}    {number}/{pages}")
        pdf.set_line_width(0.2)
        for staff in range(9):
            y = 50 + staff * 24
            for line in range(5):
                pdf.line(15, y + line * 2, 195, y + line * 2)
    return bytes(pdf.output())


def make_sync_folder(root: Path, files: int = SYNC_FILES) -> int:
    """``files`` small PDFs, five parts per song, named in the styles bands use (and some in part folders)."""
    rng = Random(11)
    titles = make_titles(files // 5 + 1, seed=5)
    written = 0
    for index, title in enumerate(titles):
        style = index % 6
        flat = "".join(w.capitalize() for w in title.replace("'", "").split() if w.isalnum())
        for part in rng.sample(PART_NAMES, 5):
            if written == files:
                return written
            if style == 0:
                name = f"{title} - {part}.pdf"
            elif style == 1:
                name = f"{title}_{part.replace(' ', '')}.pdf"
            elif style == 2:
                name = f"{title} ({part}).pdf"
            elif style == 3 and part in ("Bb", "Eb", "Concert", "Bass Clef"):
                name = f"{part}/{title}.pdf"
            elif style == 4:
                name = f"{flat}_{part.replace(' ', '')}.pdf"
            else:
                name = f"Charts/{title}/{title} - {part}.pdf"
            path = root / name.replace(":", "")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(_small_chart(title, part, 2 if written % 7 == 0 else 1))
            written += 1
    return written


def _walk_and_hash(root: Path) -> int:
    count = 0
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = Path(dirpath) / name
            path.stat()
            hashlib.sha256(path.read_bytes()).hexdigest()
            count += 1
    return count


async def bench_sync() -> None:
    from soleil_ui import runtime
    from soleil_ui.db import db
    from soleil_ui.services import members
    from soleil_ui.services.sync import _prerender, sync_band
    from soleil_ui.settings import Settings
    from soleil_ui.sources.local import LocalFolderSource

    report = Report("library_sync", f"Library sync of a {SYNC_FILES:,}-file local folder (sync_band, SQLite)")
    with temp_dir("soleil-bench-sync-") as tmp:
        folder = tmp / "library"
        t0 = time.perf_counter()
        written = make_sync_folder(folder)
        generated = time.perf_counter() - t0
        walks = []
        for _ in range(3):
            start = time.perf_counter()
            _walk_and_hash(folder)
            walks.append(time.perf_counter() - start)
        baseline_rate = written / min(walks)

        settings = Settings(_env_file=None, data_dir=tmp / "data", database_url="", secret_key="bench-" + "x" * 40,
                            demo=False, sync_interval=0)
        rt = runtime.configure(settings)
        try:
            await db.migrate()
            async with db.session() as session:
                band = await members.create_band(session, "Bench Sync Band")
                band_id = band.id
            assert band_id is not None
            source = LocalFolderSource(folder)
            await rt.renderer.start()  # as the server does at start-up: the first sync doesn't wait for the pool
            runs: dict[str, Any] = {}
            new_checksums: list[str] = []
            for label, src in (("first", source), ("unchanged", source), ("unchanged_again", source),
                               ("unchanged_new_source", LocalFolderSource(folder))):
                walk_start = time.perf_counter()  # the baseline right before each run: the load moves on a shared box
                _walk_and_hash(folder)
                walk = time.perf_counter() - walk_start
                walks.append(walk)
                start = time.perf_counter()
                progress = await sync_band(band_id, src, prerender=False)
                seconds = time.perf_counter() - start
                if progress.error:
                    raise RuntimeError(f"{label} sync failed: {progress.error}")
                new_checksums = new_checksums or list(progress.new_checksums)
                runs[label] = {"seconds": round(seconds, 3), "files_per_s": round(progress.total / seconds, 1),
                               "walk_and_hash_seconds": round(walk, 4), "ratio_to_walk": round(seconds / walk, 2),
                               "total": progress.total, "added": progress.added, "updated": progress.updated,
                               "unchanged": progress.unchanged, "broken": progress.broken,
                               "unsorted": progress.unsorted}
            # What pre-rendering (after a sync, in the background) adds: a sample of the new charts, every page at
            # the three pre-render widths, extrapolated to all of them.
            sample = new_checksums[:PRERENDER_SAMPLE]
            start = time.perf_counter()
            await _prerender(sample)
            per_chart = (time.perf_counter() - start) / max(1, len(sample))
            prerender = {"sampled_charts": len(sample), "seconds_per_chart": round(per_chart, 4),
                         "estimated_seconds_all": round(per_chart * len(new_checksums), 1)}
        finally:
            rt.renderer.close()
            await db.dispose()
    first = runs["first"]
    again = min(runs["unchanged"], runs["unchanged_again"], key=lambda r: r["ratio_to_walk"])
    fresh = runs["unchanged_new_source"]
    report.figures = {"files": written, "generate_seconds": round(generated, 1),
                      "walk_and_hash_files_per_s": round(baseline_rate, 1), "runs": runs, "prerender": prerender}
    report.row("walk + sha256 the folder (before the first sync)", round(first["walk_and_hash_seconds"] * 1000, 1),
               unit=" ms")
    for label, run in (("first sync (no pre-render)", first), ("unchanged re-sync (same source)", again),
                       ("unchanged re-sync (new source, rehash)", fresh)):
        report.row(label, run["seconds"] * 1000, run["walk_and_hash_seconds"] * 1000, " ms",
                   (run["seconds"], run["walk_and_hash_seconds"]))
    report.row("pre-rendering, per chart (3 widths, every page)", prerender["seconds_per_chart"] * 1000, unit=" ms")
    report.row(f"pre-rendering all {first['added']} charts (estimated)", prerender["estimated_seconds_all"], unit=" s")
    report.targets = [
        Target("unchanged re-sync / walk+hash", again["ratio_to_walk"], "<=", 1.5, "×"),
        Target("first sync of 2,000 files / walk+hash (no pre-render)", first["ratio_to_walk"], "<=", 20.0, "×"),
    ]
    report.notes.append(f"first sync: {first['added']} added, {first['unsorted']} unsorted, {first['broken']} broken; "
                        "pre-rendering runs in the background after a sync: its cost is the prerender figures "
                        f"({prerender['sampled_charts']} charts timed, extrapolated)")
    report.notes.append("each ratio is to walking and hashing the folder right before that run; the render pool is "
                        "started first, as the server does at start-up")
    report.save()
    report.show()


async def _main(parts: list[str]) -> None:
    if "search" in parts:
        await bench_search()
    if "render" in parts:
        await bench_render()
    if "sync" in parts:
        await bench_sync()


def main(argv: list[str]) -> int:
    parts = parts_wanted(argv, ["search", "render", "sync"])
    asyncio.run(_main(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
