"""Builds the chart source a band's ``LibrarySource`` record describes."""

from __future__ import annotations

from pathlib import Path

from ..errors import InvalidInput
from ..models import LibrarySource
from .base import ChartSource
from .local import LocalFolderSource

_local_cache: dict[tuple[int, str], LocalFolderSource] = {}


def source_for(record: LibrarySource) -> ChartSource:
    """One source object per band and location, so a local folder's checksum cache survives between syncs."""
    if record.kind == "local":
        key = (record.band_id, record.location)
        if key not in _local_cache:
            _local_cache[key] = LocalFolderSource(Path(record.location))
        return _local_cache[key]
    raise InvalidInput(f"Unknown library source kind {record.kind!r}.")
