"""Stored chart files no chart or track uses any more are collected by the hourly job, never one a sync is using.

A sync writes a blob before it commits the chart that refers to it; the collector reads the references first and then
takes only blobs unreferenced *and* untouched for the grace period (24 h), so a sync in flight never loses its file.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from sqlmodel import select

from soleil_ui.blobs import GRACE_SECONDS
from soleil_ui.db import db
from soleil_ui.files import TOUCH_AFTER, touch_if_stale
from soleil_ui.models import Chart, Role
from soleil_ui.runtime import Runtime
from soleil_ui.services.sync import sync_configured
from tests.library_helpers import FIXTURE_CHARTS, band_with_member

TRUMPET = [{"instrument": "trumpet"}]


def _age(path: Path, hours: float) -> None:
    stamp = time.time() - hours * 3600
    os.utime(path, (stamp, stamp))


async def _checksums() -> dict[str, str]:
    async with db.session() as session:
        return {c.file_name: c.checksum for c in (await session.exec(select(Chart))).all()}


async def test_the_hourly_job_removes_only_old_unreferenced_blobs(tmp_path: Path, core: Runtime) -> None:
    folder = tmp_path / "lib"
    folder.mkdir()
    for name in ("TakeFive_Bb.pdf", "All of Me - Eb.pdf"):
        shutil.copy(FIXTURE_CHARTS / name, folder / name)
    leader = await band_with_member("Band", TRUMPET, role=Role.LEADER, library=folder)
    await sync_configured(leader.band_id, prerender=False)
    before = await _checksums()
    (folder / "TakeFive_Bb.pdf").unlink()
    await sync_configured(leader.band_id, prerender=False)
    assert set(await _checksums()) == {"All of Me - Eb.pdf"}
    gone, kept = before["TakeFive_Bb.pdf"], before["All of Me - Eb.pdf"]
    assert await core.blobs.has(gone) and await core.blobs.has(kept)
    local = core.blobs.blobs  # type: ignore[attr-defined]  # the data dir store (LocalStore) underneath

    assert await core.collect_blobs() == 0, "unreferenced but younger than the grace period: kept"
    for checksum in (gone, kept):
        _age(local.path_for(checksum), 25)
    assert await core.collect_blobs() == 1
    assert not local.path_for(gone).exists()
    assert await core.blobs.read(kept) == (folder / "All of Me - Eb.pdf").read_bytes()
    assert await core.collect_blobs() == 0


async def test_a_blob_written_by_a_sync_that_has_not_committed_yet_survives(tmp_path: Path, core: Runtime) -> None:
    """The race: the sync has stored the file (blobs.put) but its chart row isn't committed when the job runs."""
    data = (FIXTURE_CHARTS / "TakeFive_Bb.pdf").read_bytes()
    await core.blobs.put("fresh-checksum", data)  # the sync's write; no Chart row refers to it yet
    assert await core.collect_blobs() == 0
    assert await core.blobs.read("fresh-checksum") == data


async def test_an_old_orphan_a_sync_is_about_to_reuse_survives(tmp_path: Path, core: Runtime) -> None:
    """A file removed two days ago comes back (same bytes): the sync finds the blob stored and reuses it, so the
    collector must not take it between that moment and the sync's commit."""
    data = b"%PDF-1.4 the same bytes as before"
    local = core.blobs.blobs  # type: ignore[attr-defined]
    old = local.put("orphan", data)
    _age(old, 48)
    leftover = local.root / "or" / ".orphan.abc.tmp"  # a write a crash cut short, long ago
    leftover.write_bytes(b"half")
    _age(leftover, 48)

    assert await core.blobs.has("orphan")  # what sync asks before reading a stored copy instead of fetching
    await core.blobs.put("orphan", data)  # or writes it again: either way the blob is in use from now on
    assert await core.collect_blobs() == 1, "only the crash leftover goes"
    assert await core.blobs.read("orphan") == data and not leftover.exists()
    assert time.time() - old.stat().st_mtime < 60

    _age(old, 48)  # nobody used it since: now it goes
    assert await core.collect_blobs(grace=GRACE_SECONDS) == 1
    assert not old.exists() and not old.parent.exists()


def test_a_used_file_is_touched_at_most_hourly_and_a_gone_one_is_a_miss(tmp_path: Path) -> None:
    """``files.touch_if_stale``, what blob, object-cache, page and engraving hits share: an old mtime is refreshed
    (the pruners keep the file), a recent one left alone (no write per hit), a missing file answers False."""
    old, recent = tmp_path / "old", tmp_path / "recent"
    for path in (old, recent):
        path.write_bytes(b"x")
    _age(old, 2)
    stamp = time.time() - TOUCH_AFTER / 2
    os.utime(recent, (stamp, stamp))
    assert touch_if_stale(old) and touch_if_stale(recent)
    assert time.time() - old.stat().st_mtime < 60
    assert recent.stat().st_mtime == stamp
    assert not touch_if_stale(tmp_path / "pruned")
