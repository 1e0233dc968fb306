"""A band library in a local folder (the demo band's, or a folder under the server's data dir)."""

from __future__ import annotations

import hashlib
import mimetypes
import os
from datetime import UTC, datetime
from pathlib import Path

from ..errors import NotFound, UpstreamUnavailable
from .base import SourceFile

mimetypes.add_type("audio/mp4", ".m4a")
mimetypes.add_type("audio/flac", ".flac")
mimetypes.add_type("application/vnd.recordare.musicxml+xml", ".musicxml")
mimetypes.add_type("application/vnd.recordare.musicxml", ".mxl")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class LocalFolderSource:
    """Lists a folder recursively. File ids are POSIX paths relative to the root, so they survive a restart.

    Checksums are cached by (path, size, mtime): an unchanged folder is listed without reading file bytes.
    """

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._checksums: dict[str, tuple[int, int, str]] = {}

    def list_files(self) -> list[SourceFile]:
        if not self.root.is_dir():
            raise UpstreamUnavailable(f"The library folder {self.root} doesn't exist or isn't readable.")
        files: list[SourceFile] = []
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            folder = Path(dirpath).relative_to(self.root).parts
            for name in sorted(filenames):
                path = Path(dirpath) / name
                try:
                    stat = path.stat()
                    if not path.is_file():
                        continue
                    rel = path.relative_to(self.root).as_posix()
                    cached = self._checksums.get(rel)
                    if cached and cached[:2] == (stat.st_size, stat.st_mtime_ns):
                        checksum = cached[2]
                    else:
                        checksum = _sha256(path)
                        self._checksums[rel] = (stat.st_size, stat.st_mtime_ns, checksum)
                except OSError:
                    continue  # vanished or unreadable mid-listing: the next sync sees it again
                files.append(SourceFile(
                    id=rel, name=name, folder=tuple(folder), size=stat.st_size, checksum=checksum,
                    mime_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
                    modified=datetime.fromtimestamp(stat.st_mtime, UTC)))
        return files

    def _path(self, file_id: str) -> Path:
        path = (self.root / file_id).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise NotFound("That file is no longer in the library folder.")
        return path

    def fetch(self, file_id: str) -> bytes:
        return self._path(file_id).read_bytes()
