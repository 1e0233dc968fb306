"""Moving a band's files into the shared store (``soleil store-import``), and backup/restore with the bucket."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest
from sqlmodel import select

from soleil_ui import cli, runtime
from soleil_ui.db import db
from soleil_ui.models import Chart, ChartStatus, Role
from soleil_ui.objectstore import LocalStore, S3Store
from soleil_ui.settings import get_settings
from tests.library_helpers import band_with_member, real_library


async def _charts() -> dict[str, str]:
    async with db.session() as session:
        charts = (await session.exec(select(Chart).where(Chart.status != ChartStatus.BROKEN))).all()
    return {c.file_name: c.checksum for c in charts if c.checksum}


def test_store_import_copies_a_bands_files_into_the_bucket(app_env: object, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch, s3_server: str,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    async def seed() -> dict[str, str]:
        runtime.configure(get_settings())
        await db.migrate()
        await band_with_member("Band", [{"instrument": "trumpet"}], role=Role.LEADER,
                               library=real_library(tmp_path / "lib"))
        await db.dispose()
        return {}

    asyncio.run(seed())
    assert cli.main(["sync"]) == 0  # one instance, files in its data dir
    assert cli.main(["store-import"]) == 2, "no store configured yet"
    assert "set SOLEIL_S3_ENDPOINT" in capsys.readouterr().err

    for key, value in {"SOLEIL_S3_ENDPOINT": s3_server, "SOLEIL_S3_BUCKET": "import-" + os.urandom(4).hex(),
                       "SOLEIL_S3_ACCESS_KEY": "testing", "SOLEIL_S3_SECRET_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    assert cli.main(["store-import", "--band", "1"]) == 0
    first = capsys.readouterr().out
    assert cli.main(["store-import"]) == 0
    assert "0 files copied" in capsys.readouterr().out and "copied into the store" in first

    async def check() -> None:
        # Another instance: its own, empty data dir, the same database and bucket.
        rt = runtime.configure(get_settings().model_copy(update={"data_dir": tmp_path / "instance-b"}))
        assert isinstance(rt.blobs, S3Store)
        try:
            charts = await _charts()
            assert charts
            for name, checksum in charts.items():
                assert await rt.blobs.read(checksum) == (tmp_path / "lib").rglob(name).__next__().read_bytes()
        finally:
            rt.renderer.close()
            rt.engraver.close()
            await db.dispose()

    asyncio.run(check())


async def test_backup_from_the_bucket_restores_into_a_data_dir(s3_env: object, tmp_path: Path) -> None:
    from soleil_ui.backup import backup, restore
    from soleil_ui.services.sync import sync_configured

    rt = runtime.configure(get_settings())
    await db.migrate()
    leader = await band_with_member("Band", [{"instrument": "trumpet"}], role=Role.LEADER,
                                    library=real_library(tmp_path / "lib"))
    await sync_configured(leader.band_id, prerender=False)
    charts = await _charts()
    archive = tmp_path / "soleil.tar.gz"
    assert isinstance(rt.blobs, S3Store)
    shutil.rmtree(rt.blobs.cache_dir)  # a cold instance: the backup reads the bucket, and keeps no copies
    await backup(archive)
    assert not [path for path in rt.blobs.cache_dir.rglob("*") if path.is_file()]
    await db.dispose()
    rt.renderer.close()
    rt.engraver.close()

    fresh = tmp_path / "fresh"  # the way back to one machine: no bucket, SQLite
    for key in [k for k in os.environ if k.startswith("SOLEIL_S3_")]:
        del os.environ[key]
    os.environ["SOLEIL_DATA_DIR"] = str(fresh)
    os.environ["SOLEIL_DATABASE_URL"] = f"sqlite+aiosqlite:///{fresh / 'soleil.db'}"
    get_settings.cache_clear()
    rt = runtime.configure(get_settings())
    try:
        assert isinstance(rt.blobs, LocalStore)
        assert (await restore(archive)).startswith("Restored")
        for name, checksum in charts.items():
            assert await rt.blobs.read(checksum) == next((tmp_path / "lib").rglob(name)).read_bytes()
    finally:
        await db.dispose()
        rt.renderer.close()
        rt.engraver.close()
