"""Two instances sharing one PostgreSQL database and an S3-compatible store: 50 members open the same charts at once.

Each instance is what ``soleil run`` builds from settings with ``SOLEIL_S3_*`` set: an ``S3Store`` (its own cache dir)
and a ``PageRenderer`` sharing page images through the bucket, with the render lease in the database. The bucket is
moto's S3-compatible server on 127.0.0.1 (MinIO's binary isn't available here). 25 members per instance open every
page of the fixture charts at the stand's widths (800 and 1200 px), all at once, on cold caches. Printed: pages and
widths asked for, renders summed over both instances, **pages rendered twice** (renders − distinct; the brief's
figure, target 0), images taken from the bucket instead, and per-image latency.

``python -m bench.bench_store``. Needs PostgreSQL on 127.0.0.1:5432 (falls back to one SQLite file, which the two
instances then share, saying so).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
import uuid
from pathlib import Path

import asyncpg

from bench.common import REPO_ROOT, Report, Target, percentile, temp_dir
from soleil_ui.db import db
from soleil_ui.objectstore import S3Store
from soleil_ui.rendering import PageRenderer, inspect_pdf

MEMBERS = 50
WIDTHS = (800, 1200)
CHARTS = sorted((REPO_ROOT / "tests" / "fixtures" / "charts").glob("*.pdf"))[:6]


async def _database(tmp: Path) -> tuple[str, str | None]:
    name = f"soleil_bench_store_{uuid.uuid4().hex[:8]}"
    try:
        conn = await asyncpg.connect(host="127.0.0.1", port=5432, user="postgres", database="postgres", timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return f"sqlite+aiosqlite:///{tmp / 'soleil.db'}", None
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", name


async def _drop(name: str | None) -> None:
    if name:
        conn = await asyncpg.connect(host="127.0.0.1", port=5432, user="postgres", database="postgres", timeout=5)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def run(endpoint: str, tmp: Path) -> Report:
    url, pg_name = await _database(tmp)
    db.configure(url)
    await db.migrate()
    bucket = f"bench-{uuid.uuid4().hex[:8]}"
    instances = []
    for name in ("a", "b"):
        store = S3Store(endpoint=endpoint, bucket=bucket, access_key="bench", secret_key="bench", region="us-east-1",
                        cache_dir=tmp / name / "objects")
        instances.append((store, PageRenderer(tmp / name / "pages", workers=1, shared=store.shared_pages)))
    wanted: list[tuple[str, int, int]] = []
    for path in CHARTS:
        data = path.read_bytes()
        checksum = hashlib.md5(data).hexdigest()  # as Drive names it
        await instances[0][0].put(checksum, data)  # the sync, on instance A
        wanted += [(checksum, page, width) for page in range(inspect_pdf(data).page_count) for width in WIDTHS]
    for _, renderer in instances:  # start the worker processes before the clock
        await renderer.inspect(CHARTS[0].read_bytes())
    latencies: list[float] = []

    async def member(index: int) -> None:
        store, renderer = instances[index % 2]
        for checksum, page, width in wanted:
            started = time.perf_counter()
            await renderer.page_image(checksum, page, width, lambda c=checksum, s=store: s.read(c))
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(member(i) for i in range(MEMBERS)))
    wall = time.perf_counter() - started
    for _, renderer in instances:
        await renderer.uploads_done()
        renderer.close()
    renders = sum(renderer.renders for _, renderer in instances)
    fetches = sum(store.shared_pages.fetches for store, _ in instances)
    twice = renders - len(wanted)
    await db.dispose()
    await _drop(pg_name)

    report = Report("store", f"Two instances, one store: {MEMBERS} members open the same pages at once")
    report.figures = {"members": MEMBERS, "images_wanted": len(wanted), "renders": renders, "rendered_twice": twice,
                      "bucket_fetches": fetches, "wall_s": round(wall, 2), "database": "postgresql" if pg_name else
                      "sqlite", "p50_ms": round(percentile(latencies, 50) * 1000, 1),
                      "p95_ms": round(percentile(latencies, 95) * 1000, 1)}
    report.row("pages × widths asked for", str(len(wanted)))
    report.row("renders (both instances)", str(renders))
    report.row("pages rendered twice", str(twice))
    report.row("images taken from the bucket", str(fetches))
    report.row("per-image latency p50", percentile(latencies, 50) * 1000, unit=" ms")
    report.row("per-image latency p95", percentile(latencies, 95) * 1000, unit=" ms")
    report.row("all members done", wall, unit=" s")
    report.targets.append(Target("pages rendered twice", twice, "<=", 0))
    if not pg_name:
        report.notes.append("PostgreSQL unreachable: both instances shared one SQLite file")
    return report


def main() -> int:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request log

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    try:
        with temp_dir("soleil-bench-store-") as tmp:
            report = asyncio.run(run(f"http://{host}:{port}", tmp))
    finally:
        server.stop()
    report.show()
    print(f"pages rendered twice: {report.figures['rendered_twice']}")
    report.save()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
