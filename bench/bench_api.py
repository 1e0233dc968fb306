"""The JSON API under load: 50 concurrent clients, each with its own token, reading the demo band.

Each client is an httpx connection pool of its own sending ``Authorization: Bearer <its token>``; tokens are spread over
the demo band's members (so parts, and the answers, differ). Every client walks the read endpoints round-robin: song
search (a page of 25, each song in the member's part), a song, a member's part with its page URLs, the setlists, a
setlist with its running times, the gigs, a gig, live state and when songs were last played.

Baseline, same run, same clients, same concurrency: ``GET /healthz`` (no database). The brief's target: p95 of the read
endpoints ≤ 5× the p95 of ``/healthz``. Rate limits: this build has none on the API yet; once the limiter lands its
limits must be raised for the run (the benchmark prints what it found).

``python -m bench.bench_api``: about a minute on 2 cores.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time
from contextlib import closing

import httpx

from bench.common import AppServer, Report, Target, percentile, ratio
from soleil_ui.services import tokens
from soleil_ui.settings import Settings

CLIENTS = 50
ROUNDS = 30  # requests per client per phase
WARMUP = 3


def _plant_tokens(server: AppServer, count: int) -> list[str]:
    """``count`` read tokens over the demo band's members, written the way ``tokens.create_token`` stores them."""
    rows = server.query("SELECT m.id, m.band_id FROM membership m WHERE m.role != 'sub' ORDER BY m.id")
    made = []
    with closing(sqlite3.connect(server.data_dir / "soleil.db", timeout=10)) as conn:
        for n in range(count):
            membership_id, band_id = rows[n % len(rows)]
            secret, token_hash, prefix = tokens.new_secret()
            conn.execute("INSERT INTO api_token (band_id, membership_id, name, token_hash, prefix, scope, created_at, "
                         "expires_at) VALUES (?, ?, ?, ?, ?, ?, '2026-01-01 00:00:00.000000', "
                         "'2099-01-01 00:00:00.000000')",
                         (band_id, membership_id, f"bench {n}", token_hash, prefix, tokens.READ))
            made.append(secret)
        conn.commit()
    return made


def _read_paths(server: AppServer) -> list[str]:
    song = server.query("SELECT id FROM song ORDER BY id LIMIT 1")[0][0]
    setlist = server.query("SELECT id FROM setlist ORDER BY id LIMIT 1")[0][0]
    gig = server.query("SELECT id FROM gig ORDER BY id LIMIT 1")[0][0]
    return ["/api/v1/songs?limit=25", f"/api/v1/songs/{song}", f"/api/v1/songs/{song}/my-part", "/api/v1/setlists",
            f"/api/v1/setlists/{setlist}", "/api/v1/gigs", f"/api/v1/gigs/{gig}", "/api/v1/live",
            f"/api/v1/songs/last-played?song_id={song}"]


async def _phase(url: str, secrets_: list[str], paths: list[str], rounds: int) -> dict[str, list[float]]:
    """Every client sends ``rounds`` requests, one at a time, all clients at once; latencies (ms) per path."""
    timings: dict[str, list[float]] = {p: [] for p in paths}
    failures: list[str] = []

    async def client(index: int, secret: str) -> None:
        async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {secret}"},
                                     timeout=60) as http:
            for n in range(rounds):
                path = paths[(index + n) % len(paths)]
                start = time.perf_counter()
                response = await http.get(path)
                elapsed = (time.perf_counter() - start) * 1000
                if response.status_code != 200:
                    failures.append(f"{path}: {response.status_code} {response.text[:120]}")
                timings[path].append(elapsed)

    await asyncio.gather(*(client(i, s) for i, s in enumerate(secrets_)))
    if failures:
        raise RuntimeError(f"{len(failures)} requests failed, e.g. {failures[:3]}")
    return timings


async def run() -> Report:
    report = Report("api_read", f"JSON API reads: {CLIENTS} concurrent clients, each with its own token, vs /healthz")
    with AppServer() as server:
        tokens = _plant_tokens(server, CLIENTS)
        paths = _read_paths(server)
        # the default per-account budget stays on: the demo members share the 50 tokens, each account well under it
        api_limit = Settings.model_fields["limit_api"].default
        report.notes.append(f"SOLEIL_LIMIT_API (per account, default kept): {api_limit}")
        print(f"rate limit: SOLEIL_LIMIT_API={api_limit} per account (default)")
        await _phase(server.url, tokens, paths, WARMUP)  # caches, connections, pre-rendered pages
        await _phase(server.url, tokens, ["/healthz"], WARMUP)
        health = (await _phase(server.url, tokens, ["/healthz"], ROUNDS))["/healthz"]
        api = await _phase(server.url, tokens, paths, ROUNDS)
        health_again = (await _phase(server.url, tokens, ["/healthz"], ROUNDS))["/healthz"]
    baseline = health + health_again  # before and after, so a drift in the machine's load shows in both
    base_p50, base_p95 = percentile(baseline, 50), percentile(baseline, 95)
    every = [t for values in api.values() for t in values]
    p50, p95 = percentile(every, 50), percentile(every, 95)
    report.figures = {"clients": CLIENTS, "requests_per_client": ROUNDS,
                      "healthz_ms": {"p50": round(base_p50, 2), "p95": round(base_p95, 2), "n": len(baseline)},
                      "api_ms": {"p50": round(p50, 2), "p95": round(p95, 2), "n": len(every)},
                      "per_endpoint_p95_ms": {p: round(percentile(v, 95), 2) for p, v in api.items()}}
    report.row("read endpoints p50", p50, base_p50, " ms", (p50, base_p50))
    report.row("read endpoints p95", p95, base_p95, " ms", (p95, base_p95))
    for path, values in api.items():
        report.row(f"  {path.split('?')[0]} p95", percentile(values, 95), base_p95, " ms",
                   (percentile(values, 95), base_p95))
    report.targets.append(Target("read p95 / healthz p95", ratio(p95, base_p95), "<=", 5.0, "×"))
    report.notes.append("one app process on SQLite, the load generator on the same machine; /healthz measured before "
                        "and after the API phase with the same clients")
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
