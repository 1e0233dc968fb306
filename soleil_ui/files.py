"""Writing files so that a reader never sees half of one, even if the process dies mid-write; keeping the ones in use
out of the reach of the pruners (``prune_lru``, the blob collector), which go by mtime."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

TOUCH_AFTER = 3600  # seconds: a file in use has its mtime refreshed at most hourly (a write per hit would be a waste)


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def touch_if_stale(path: Path) -> bool:
    """True if ``path`` exists; its mtime is refreshed when older than ``TOUCH_AFTER``, so the pruners see it as in use.

    False if it is gone, also when a pruner took it between the look and the touch. Blocking file I/O: a thread."""
    try:
        if time.time() - path.stat().st_mtime > TOUCH_AFTER:
            os.utime(path)
        return True
    except FileNotFoundError:
        return False


def prune_lru(root: Path, max_bytes: int) -> int:
    """Delete the least recently used files under ``root`` until it fits ``max_bytes``; returns bytes freed.

    "Used" is the file's mtime, which cache hits refresh (hourly at most). Not atime: many disks are mounted noatime,
    and a backup or virus scan reading every file would make them all look fresh. A temporary file younger than a
    minute is a write in progress and stays. Blocking file I/O: call it from a thread.
    """
    entries = []
    for path in root.rglob("*"):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        if path.is_file() and not (path.suffix == ".tmp" and time.time() - stat.st_mtime < 60):
            entries.append((stat.st_mtime, stat.st_size, path))
    entries.sort(reverse=True)  # most recently used first
    kept = freed = 0
    for _, size, path in entries:
        if kept + size <= max_bytes:
            kept += size
            continue
        path.unlink(missing_ok=True)
        freed += size
        for folder in (path.parent, path.parent.parent):
            try:
                folder.rmdir()  # only succeeds once empty
            except OSError:
                break
    return freed
