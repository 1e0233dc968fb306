"""``python -m bench`` runs every benchmark listed in ``BENCHMARKS``; ``python -m bench NAME [part ...]`` runs one.

Each benchmark runs in its own interpreter (``python -m bench.<module>``), so one crashing, or leaving an event loop or
a browser behind, can't spoil the next. The exit status is non-zero only if a benchmark failed to run; missed targets
are printed as MISSED (add ``--strict`` to fail on them too).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from datetime import UTC, datetime

from bench.common import REPO_ROOT, RESULTS

# Module names under bench/, run in this order. A listed module that isn't there yet is reported and skipped.
BENCHMARKS = [
    "bench_viewer",
    "bench_library",
    "bench_fanout",
    "bench_engraving",
    "bench_reconnect",
    "bench_api",
    "bench_store",
    "bench_soak",
    "bench_pencil",
]


def _module(name: str) -> str:
    for candidate in (name, f"bench_{name}"):
        if candidate in BENCHMARKS or importlib.util.find_spec(f"bench.{candidate}") is not None:
            return candidate
    raise SystemExit(f"no benchmark {name!r}; known: {', '.join(BENCHMARKS)}")


def main(argv: list[str]) -> int:
    strict = "--strict" in argv
    argv = [a for a in argv if a != "--strict"]
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    runs = [(_module(argv[0]), argv[1:])] if argv else [(name, []) for name in BENCHMARKS]
    failed: list[str] = []
    started = time.monotonic()
    since = datetime.now(UTC).isoformat(timespec="seconds")
    for name, extra in runs:
        if importlib.util.find_spec(f"bench.{name}") is None:
            print(f"\n### {name}: not present, skipped")
            continue
        print(f"\n### {name} {' '.join(extra)}".rstrip(), flush=True)
        t0 = time.monotonic()
        code = subprocess.call([sys.executable, "-m", f"bench.{name}", *extra], cwd=REPO_ROOT)
        print(f"### {name}: {'done' if code == 0 else f'FAILED (exit {code})'} in {time.monotonic() - t0:.0f}s",
              flush=True)
        if code != 0:
            failed.append(name)
    missed = _missed(since)
    print(f"\n### all benchmarks: {time.monotonic() - started:.0f}s; results in {RESULTS.relative_to(REPO_ROOT)}")
    for line in missed:
        print(f"MISSED {line}")
    if failed:
        print(f"FAILED to run: {', '.join(failed)}")
    return 1 if failed or (strict and missed) else 0


def _missed(since: str) -> list[str]:
    """Targets missed by the entries this run wrote (older entries in results.json are left out)."""
    try:
        data = json.loads(RESULTS.read_text())
    except (OSError, json.JSONDecodeError):
        return []
    lines = []
    for key, entry in sorted(data.items()):
        if not isinstance(entry, dict) or str(entry.get("measured_at", "")) < since:
            continue
        targets = entry.get("targets", {})
        for name, target in targets.items():
            if isinstance(target, dict) and not target.get("met", True):
                lines.append(f"{key}: {name} = {target.get('value')} (target {target.get('op')} {target.get('limit')})")
    return lines


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
