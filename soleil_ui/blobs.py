"""Content-addressed copies of library files under the data dir.

Sync stores each chart and audio file once, by checksum, so rendering a page or streaming audio never
goes back to Drive, and charts keep working while Google is unreachable.

Blobs no chart or track refers to any more are collected by the hourly maintenance job
(``Runtime.collect_blobs``). A sync writes a blob *before* it commits the row that refers to it, so collection only
takes blobs that are unreferenced *and* untouched for a grace period (24 h): ``put`` and ``has`` refresh a blob's
mtime when a sync is about to use it, and an exclusive lock per deletion (``flock`` on ``.lock``; ``put``/``has``
take it shared) closes the gap between the collector's last look and the unlink, across processes too.
"""

from __future__ import annotations

import fcntl
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import NotFound
from .files import touch_if_stale, write_atomic

_SAFE = re.compile(r"[^A-Za-z0-9_-]")
GRACE_SECONDS = 24 * 3600  # longer than any sync takes from writing a blob to committing its chart
# (a used blob's mtime is refreshed hourly at most: files.TOUCH_AFTER, well inside the grace period)


def blob_name(checksum: str) -> str:
    """The file name a checksum is stored under (Drive's ``id:version`` has characters a path shouldn't)."""
    if not checksum:
        raise NotFound("That file has no content yet.")
    return _SAFE.sub("_", checksum)[:128]


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def path_for(self, checksum: str) -> Path:
        safe = blob_name(checksum)
        return self.root / safe[:2] / safe

    def has(self, checksum: str) -> bool:
        """True if stored; a sync asks before referring to it, so this also keeps it from being collected."""
        with self._lock(exclusive=False):
            return touch_if_stale(self.path_for(checksum))

    def put(self, checksum: str, data: bytes) -> Path:
        """Write atomically: a reader never sees half a file, even if the process dies mid-write."""
        path = self.path_for(checksum)
        with self._lock(exclusive=False):
            if touch_if_stale(path):  # its mtime refreshed, restarting its grace period
                return path
            return write_atomic(path, data)

    def read(self, checksum: str) -> bytes:
        path = self.path_for(checksum)
        if not path.is_file():
            raise NotFound("That file isn't stored here yet; run a library sync.")
        return path.read_bytes()

    def remove_unreferenced(self, keep: set[str], *, grace: float = GRACE_SECONDS) -> int:
        """Delete blobs no chart or track refers to (``keep``, read from the database *before* this call) and
        nobody wrote or used for ``grace`` seconds, plus temporary files that old; returns how many went.
        Blocking file I/O: run it in a thread."""
        wanted = {self.path_for(c).name for c in keep if c}
        removed = 0
        for path in self.root.glob("*/*"):
            if path.name in wanted or not self._stale(path, grace):
                continue
            with self._lock(exclusive=True):  # no put/has between this last look and the unlink
                if self._stale(path, grace):
                    path.unlink(missing_ok=True)
                    removed += 1
        for folder in self.root.iterdir():
            if folder.is_dir():
                try:
                    folder.rmdir()  # only succeeds once empty
                except OSError:
                    pass
        return removed

    @staticmethod
    def _stale(path: Path, grace: float) -> bool:
        try:
            stat = path.stat()
        except FileNotFoundError:
            return False
        is_blob = not path.name.startswith(".")
        is_leftover = path.name.endswith(".tmp")  # a write_atomic cut short by a crash
        return path.is_file() and (is_blob or is_leftover) and time.time() - stat.st_mtime > grace

    @contextmanager
    def _lock(self, *, exclusive: bool) -> Iterator[None]:
        with open(self.root / ".lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield  # closing the file releases the lock
