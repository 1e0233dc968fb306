"""The chart-source interface: a band's library as a flat list of files.

Both the local folder and Google Drive implement it, so sync, parsing and rendering never care where
a file lives. Implementations are synchronous and blocking on purpose: callers run them in a worker
thread (``asyncio.to_thread``), never on the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One file in a band's library as the source reports it."""

    id: str  # stable identifier within the source (relative path for a folder, file id on Drive)
    name: str  # file name with extension, as the band named it
    folder: tuple[str, ...] = field(default=())  # folder names from the library root down to the file
    mime_type: str = "application/octet-stream"
    size: int = 0
    checksum: str = ""  # content hash (md5 on Drive, sha256 locally); equal checksum = unchanged bytes
    modified: datetime | None = None


@runtime_checkable
class ChartSource(Protocol):
    """Where a band's charts come from."""

    def list_files(self) -> list[SourceFile]:
        """Every file under the library root, recursively."""
        ...

    def fetch(self, file_id: str) -> bytes:
        """The bytes of one file. Raises ``NotFound`` or ``UpstreamUnavailable``."""
        ...
