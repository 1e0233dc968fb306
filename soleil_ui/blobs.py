"""Content-addressed copies of library files under the data dir.

Sync stores each chart and audio file once, by checksum, so rendering a page or streaming audio never
goes back to Drive, and charts keep working while Google is unreachable.
"""

from __future__ import annotations

import re
from pathlib import Path

from .errors import NotFound
from .files import write_atomic

_SAFE = re.compile(r"[^A-Za-z0-9_-]")


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def path_for(self, checksum: str) -> Path:
        if not checksum:
            raise NotFound("That file has no content yet.")
        safe = _SAFE.sub("_", checksum)[:128]
        return self.root / safe[:2] / safe

    def has(self, checksum: str) -> bool:
        return self.path_for(checksum).is_file()

    def put(self, checksum: str, data: bytes) -> Path:
        """Write atomically: a reader never sees half a file, even if the process dies mid-write."""
        path = self.path_for(checksum)
        if path.is_file():
            return path
        return write_atomic(path, data)

    def read(self, checksum: str) -> bytes:
        path = self.path_for(checksum)
        if not path.is_file():
            raise NotFound("That file isn't stored here yet; run a library sync.")
        return path.read_bytes()

    def remove_unreferenced(self, keep: set[str]) -> int:
        """Delete blobs no chart or track refers to any more; returns how many went."""
        wanted = {self.path_for(c).name for c in keep if c}
        removed = 0
        for path in self.root.glob("*/*"):
            if path.is_file() and path.name not in wanted and not path.name.startswith("."):
                path.unlink(missing_ok=True)
                removed += 1
        return removed
