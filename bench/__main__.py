"""``python -m bench`` runs every benchmark listed in ``BENCHMARKS``; ``python -m bench NAME [part ...]`` runs one.

Each benchmark runs in its own interpreter (``python -m bench.<module>``), so one crashing, or leaving an event loop or
a browser behind, can't spoil the next. The exit status is non-zero only if a benchmark failed to run; missed targets
are printed as MISSED (add ``--strict`` to fail on them too). ``--reps N`` runs each benchmark N times and stores one
entry per key with min/median/max of every figure over the runs (``repetitions``); a target counts as met when its
median value meets it.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from datetime import UTC, datetime

from bench.common import REPO_ROOT, RESULTS, combine_repetitions, entries_since, update_results

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
    "bench_pencil_live",
    "bench_crop",
]


def _module(name: str) -> str:
    for candidate in (name, f"bench_{name}"):
        if candidate in BENCHMARKS or importlib.util.find_spec(f"bench.{candidate}") is not None:
            return candidate
    raise SystemExit(f"no benchmark {name!r}; known: {', '.join(BENCHMARKS)}")


def main(argv: list[str]) -> int:
    strict = "--strict" in argv
    argv = [a for a in argv if a != "--strict"]
    reps = 1
    if "--reps" in argv:
        at = argv.index("--reps")
        reps = max(1, int(argv[at + 1]))
        argv = argv[:at] + argv[at + 2:]
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
        runs: dict[str, list[dict[str, object]]] = {}
        for rep in range(1, reps + 1):
            label = f" (repetition {rep} of {reps})" if reps > 1 else ""
            print(f"\n### {name} {' '.join(extra)}".rstrip() + label, flush=True)
            t0 = time.monotonic()
            mark = datetime.now(UTC).isoformat(timespec="seconds")
            code = subprocess.call([sys.executable, "-m", f"bench.{name}", *extra], cwd=REPO_ROOT)
            print(f"### {name}: {'done' if code == 0 else f'FAILED (exit {code})'} in {time.monotonic() - t0:.0f}s",
                  flush=True)
            if code != 0:
                failed.append(name)
                break
            for key, entry in entries_since(mark).items():
                if not runs.get(key) or runs[key][-1] != entry:  # not the previous repetition's, left unchanged
                    runs.setdefault(key, []).append(entry)
        for key, entries in runs.items():
            if reps > 1 and len(entries) == reps:
                update_results(key, combine_repetitions(entries))
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
