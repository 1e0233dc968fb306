"""The app (``main.py``) with cProfile switched on by SIGUSR1 and off by SIGUSR2, for bench_soak's page profile,
and a census of what the process holds on SIGRTMIN (bench_soak ``--census``: leak or allocator?).

Bench code, not the app's: the app has no profiling switch and needs none. SIGUSR2 writes the stats (CPU time of the
event loop's thread, ``time.thread_time``) to ``$BENCH_PROFILE_OUT``; the benchmark reads them with ``pstats``.
SIGRTMIN writes ``$BENCH_PROFILE_OUT.census.json``: NiceGUI clients alive, objects the collector tracks, before and
after a full collection. Render workers are spawned as usual (they re-run ``main.py``, not this file).
"""

from __future__ import annotations

import cProfile
import gc
import json
import os
import runpy
import signal
import sys
import time
from pathlib import Path

MAIN = Path(__file__).resolve().parents[1] / "main.py"
profiler = cProfile.Profile(time.thread_time)


def _start(_signum: int, _frame: object) -> None:
    profiler.clear()  # each SIGUSR1 starts a new profile
    profiler.enable()


def _stop(_signum: int, _frame: object) -> None:
    profiler.disable()
    profiler.dump_stats(os.environ["BENCH_PROFILE_OUT"])


def _census(_signum: int, _frame: object) -> None:
    from nicegui import Client

    before = {"clients": len(Client.instances), "gc_objects": len(gc.get_objects())}
    gc.collect()
    after = {"clients": len(Client.instances), "gc_objects": len(gc.get_objects())}
    Path(os.environ["BENCH_PROFILE_OUT"] + ".census.json").write_text(json.dumps({"before_collect": before,
                                                                               "after_collect": after}))


if __name__ == "__main__":
    signal.signal(signal.SIGRTMIN, _census)
    signal.signal(signal.SIGUSR1, _start)
    signal.signal(signal.SIGUSR2, _stop)
    sys.argv = [str(MAIN)]
    sys.path[0] = str(MAIN.parent)  # as `python main.py` would have it
    runpy.run_path(str(MAIN), run_name="__main__")
