"""The process-wide services built once from settings: blob store, page renderer, engraver, library sources.

``configure`` is called by the composition root (``main.py``) and by the CLI; tests call it with a
temporary data dir. Everything else asks ``get_runtime()``, so there is one of each.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import multiprocessing
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import select

from .blobs import GRACE_SECONDS
from .db import db
from .engraving import Engraver
from .models import AudioTrack, Chart
from .objectstore import ChartStore, build_store
from .rendering import PageRenderer
from .security import SecretBox
from .settings import Settings


@dataclass
class Runtime:
    settings: Settings
    blobs: ChartStore  # the data dir's blobs/, or the S3-compatible bucket every instance shares
    renderer: PageRenderer
    secrets: SecretBox
    engraver: Engraver  # MusicXML and ChordPro parts, engraved in worker processes (SVG pages and PDFs)
    started: asyncio.Event = field(default_factory=asyncio.Event)  # set once start-up work (demo seeding) is done

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    def prune_caches(self) -> int:
        """Keep rendered page images and engraved parts within their disk budgets (least recently used go first);
        returns bytes freed. Blocking file I/O: run it in a thread (the hourly maintenance job does)."""
        mb = 1024 * 1024
        return (self.renderer.prune(self.settings.page_cache_mb * mb)
                + self.engraver.prune(self.settings.engrave_cache_mb * mb)
                + self.blobs.prune(self.settings.store_cache_mb * mb))

    async def collect_blobs(self, grace: float = GRACE_SECONDS) -> int:
        """Delete stored files no chart or track of any band refers to any more (hourly, with the cache pruning);
        returns how many went. The references are read first: a blob a sync writes meanwhile is younger than
        ``grace`` and stays (see ``blobs`` and ``objectstore``; with the bucket, one instance collects at a time
        under its own advisory lock and rendered pages whose source is gone go too)."""
        async with db.session() as session:
            keep = set((await session.exec(select(Chart.checksum).distinct())).all())
            keep |= set((await session.exec(select(AudioTrack.checksum).distinct())).all())
        return await self.blobs.collect(keep, grace=grace)


_runtime: Runtime | None = None


def configure(settings: Settings) -> Runtime:
    """Build the runtime and point the database at the configured URL."""
    global _runtime
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if _runtime is not None:
        _runtime.renderer.close()
        _runtime.engraver.close()
    db.configure(settings.resolved_database_url)
    store = build_store(settings)
    _runtime = Runtime(
        settings=settings,
        blobs=store,
        renderer=PageRenderer(settings.data_dir / "cache" / "pages", shared=store.shared_pages),
        secrets=SecretBox(settings.effective_secret_key()),
        engraver=Engraver(settings.data_dir / "cache" / "engraved"),
    )
    return _runtime


# A leader's call used to be one message per follower (tens of thousands of short-lived objects in one fan-out), so
# the collector ran inside the fan-out; it now goes to a room once per instance (components/live_room.py), and the
# collector keeps CPython's own thresholds.
def tune_collector() -> None:
    """Once start-up is done (modules, routes, migrations, the demo band): move everything alive now out of the
    collector's sight (``gc.freeze``: it is never garbage, and a full collection no longer walks it). The thresholds
    stay Python's own: raised (50000/20/10) they let a page's cycles pile up into millions of objects, and the rare
    full collection then froze the loop for ~10 s under a gig's load (bench soak), long enough to drop followers."""
    gc.collect()
    gc.freeze()


def release_memory() -> bool:
    """Hand the heap's free pages back to the system (glibc's ``malloc_trim``), as a page burst's memory is freed:
    Python's allocator keeps it otherwise. False where there is no glibc (the call is then a no-op)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    return bool(libc.malloc_trim(0))


def end_workers(grace: float = 5.0) -> None:
    """End every worker process this process started (render pool, engravers) now, and close the pools.

    The server calls it when it shuts down and once more after its event loop has stopped: a render retried
    during the shutdown (its worker killed by a SIGTERM sent to the whole process group) may have started a fresh
    worker after the pools were closed. Workers are stopped rather than waited for: a page being rendered is
    simply rendered again on the next start. Once no worker holds it, multiprocessing's resource tracker sees its
    pipe close with this process and exits too.
    """
    if _runtime is not None:
        _unblock_pool_feeder(_runtime.renderer)
    children = multiprocessing.active_children()
    for child in children:
        child.terminate()
    deadline = time.monotonic() + grace  # one grace period for all of them, not one each
    for child in children:
        child.join(max(0.0, deadline - time.monotonic()))
    for child in children:
        if child.is_alive():
            child.kill()
            child.join(grace)
    if _runtime is not None:
        _runtime.renderer.close()
        _runtime.engraver.close()


def _unblock_pool_feeder(renderer: PageRenderer) -> None:
    """Pythons before 3.11.7 (Debian 12 ships 3.11.2) hang shutting down a process pool whose worker died while a job
    was being written to it (CPython gh-94777): the write never fails, because this process holds the job pipe's
    reading end too. Newer Pythons close that end once a worker dies; closing it first is harmless on those, and the
    workers keep their own copies."""
    queue = getattr(renderer._pool, "_call_queue", None)  # the stdlib's queue of jobs for the workers
    reader = getattr(queue, "_reader", None)
    if reader is not None:
        reader.close()


def get_runtime() -> Runtime:
    if _runtime is None:
        raise RuntimeError("runtime not configured; call soleil_ui.runtime.configure(settings) at start-up")
    return _runtime
