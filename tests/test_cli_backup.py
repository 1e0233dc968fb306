"""The `soleil` command: clear one-line failures, migrate, create-band, and backup/restore across databases."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from sqlmodel import col, func, select

from soleil_ui import cli, runtime
from soleil_ui.db import db
from soleil_ui.models import Band, Chart, LibrarySource, Membership, Role, User
from soleil_ui.services.sync import sync_configured
from soleil_ui.settings import get_settings
from tests.library_helpers import band_with_member, real_library

SOLEIL = Path(sys.executable).with_name("soleil")


def _run(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    child = {k: v for k, v in os.environ.items() if not k.startswith(("SOLEIL_", "PYTEST_", "NICEGUI_"))}
    return subprocess.run([str(SOLEIL), *args], env={**child, **env}, cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, check=False)


def test_unreachable_postgres_stops_run_with_one_clear_line(tmp_path: Path) -> None:
    result = _run(["run"], {"SOLEIL_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere",
                            "SOLEIL_SECRET_KEY": "k" * 40, "SOLEIL_DATA_DIR": str(tmp_path)}, tmp_path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("soleil: The database at postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    assert "unreachable" in lines[0] and "Traceback" not in result.stderr
    assert lines[0].endswith("Check SOLEIL_DATABASE_URL.")


def test_missing_tls_file_stops_run_with_one_line_naming_it(tmp_path: Path) -> None:
    result = _run(["run"], {"SOLEIL_TLS_CERT": "/nope/cert.pem", "SOLEIL_TLS_KEY": "/nope/key.pem",
                            "SOLEIL_DATA_DIR": str(tmp_path / "data")}, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "soleil: SOLEIL_TLS_CERT: /nope/cert.pem is not a file (or can't be read)"]
    assert not (tmp_path / "data").exists()


def test_healthcheck_asks_readyz_where_the_settings_say(tmp_path: Path) -> None:
    # The container's HEALTHCHECK: SOLEIL_PORT decides where it asks (nothing listens on port 1), and it runs
    # without the web app; the live server's answer is checked in tests/e2e/test_server.py.
    child = {k: v for k, v in os.environ.items() if not k.startswith(("SOLEIL_", "PYTEST_", "NICEGUI_"))}
    result = subprocess.run([sys.executable, "-m", "soleil_ui.healthcheck"], capture_output=True, text=True,
                            env={**child, "SOLEIL_PORT": "1", "SOLEIL_DATA_DIR": str(tmp_path / "data")},
                            cwd=tmp_path, timeout=60, check=False)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("soleil: http://127.0.0.1:1/readyz did not answer ready")
    assert not (tmp_path / "data").exists()


def test_bad_setting_stops_with_the_variable_named(tmp_path: Path) -> None:
    result = _run(["migrate"], {"SOLEIL_PORT": "eighty", "SOLEIL_DATA_DIR": str(tmp_path)}, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "soleil: SOLEIL_PORT: Input should be a valid integer, unable to parse string as an integer"]


def test_help_explains_each_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("run", "migrate", "sync", "backup", "restore", "create-band"):
        assert command in out


def test_migrate_and_create_band(app_env: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["migrate"]) == 0
    assert capsys.readouterr().out.startswith("Database at revision ")
    assert cli.main(["create-band", "The Night Owls", "--leader", "Boss@Example.org"]) == 0
    out = capsys.readouterr().out
    assert "boss@example.org leads it" in out and "can sign in now" not in out
    assert "No sign-in is configured yet: set SOLEIL_GOOGLE_CLIENT_ID and SOLEIL_GOOGLE_CLIENT_SECRET" in out
    assert cli.main(["create-band", "the night owls ", "--leader", "other@example.org"]) == 1
    assert "A band named 'The Night Owls' already exists (id 1); nothing was created." in capsys.readouterr().err
    assert cli.main(["create-band", "", "--leader", "boss@example.org"]) == 2
    assert "Band name can't be empty" in capsys.readouterr().err

    async def check() -> tuple[str, str, str]:
        runtime.configure(get_settings())
        async with db.session() as session:
            band, membership, user = (await session.exec(
                select(Band, Membership, User).join(Membership, col(Membership.band_id) == Band.id)
                .join(User, col(User.id) == Membership.user_id))).one()
        await db.dispose()
        return band.name, membership.role, user.email

    import asyncio

    assert asyncio.run(check()) == ("The Night Owls", Role.LEADER, "boss@example.org")


def test_sync_command_reports_each_band(app_env: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    async def seed() -> None:
        runtime.configure(get_settings())
        await db.migrate()
        await band_with_member("Band", [{"instrument": "trumpet"}], role=Role.LEADER,
                               library=real_library(tmp_path / "lib"))
        await db.dispose()

    asyncio.run(seed())
    assert cli.main(["sync"]) == 0
    out = capsys.readouterr().out
    assert "band 1: 21 files, 20 added" in out and "4 broken, 1 unsorted" in out
    assert cli.main(["sync", "--band", "99"]) == 1
    assert capsys.readouterr().err.strip() == "soleil: There is no band 99."


def test_restore_of_a_missing_file_creates_nothing(app_env: object, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["restore", "missing.tar.gz"]) == 2
    assert capsys.readouterr().err.strip() == "soleil: missing.tar.gz doesn't exist (or isn't a file)."
    assert not (tmp_path / "data").exists()


async def _counts() -> dict[str, int]:
    async with db.session() as session:
        return {"bands": (await session.exec(select(func.count()).select_from(Band))).one(),
                "charts": (await session.exec(select(func.count()).select_from(Chart))).one(),
                "users": (await session.exec(select(func.count()).select_from(User))).one()}


async def test_backup_restores_into_a_fresh_database_with_files(core: runtime.Runtime, tmp_path: Path,
                                                                database_url: str) -> None:
    # The library folder lives in the data dir, as the demo's does: it must follow the data dir to its new place.
    leader = await band_with_member("Band", [{"instrument": "trumpet"}], role=Role.LEADER,
                                    library=real_library(core.data_dir / "demo-library"))
    await sync_configured(leader.band_id, prerender=False)
    from soleil_ui.backup import backup, restore
    from soleil_ui.services import annotations

    async with db.session() as session:
        marked = (await session.exec(select(Chart).where(Chart.file_name == "TakeFive_Bb.pdf"))).one()
        assert marked.id is not None
        mark = {"id": "0b6f3c1e-8a57-4b7e-9a51-3d2f6c8e9a10", "page": 0, "layer": "band", "tool": "pen",
                "color": "#d00000", "width": 0.004, "points": [[0.1, 0.2], [0.3, 0.25]]}
        await annotations.apply(session, leader, marked.id, None, add=[mark])
    before = await _counts()
    archive = tmp_path / "backups" / "soleil.tar.gz"
    summary = await backup(archive)
    assert summary.startswith(f"Backup written to {archive}")
    assert archive.stat().st_mode & 0o777 == 0o600  # it holds the secrets: readable by its owner only
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert manifest["revision"] == await db.current_revision()
    assert "tables/chart.jsonl" in names and "tables/annotation.jsonl" in names
    assert any(n.startswith("data/blobs/") for n in names)

    from soleil_ui.errors import InvalidInput

    with pytest.raises(InvalidInput, match="already holds bands"):
        await restore(archive)

    # Restore into a brand-new SQLite database and data dir: the way off (or onto) PostgreSQL.
    await db.dispose()
    core.renderer.close()
    fresh = tmp_path / "fresh"
    os.environ["SOLEIL_DATA_DIR"] = str(fresh)
    os.environ["SOLEIL_DATABASE_URL"] = f"sqlite+aiosqlite:///{fresh / 'soleil.db'}"
    get_settings.cache_clear()
    rt = runtime.configure(get_settings())
    message = await restore(archive)
    assert message.startswith("Restored")
    assert await _counts() == before
    async with db.session() as session:
        chart = (await session.exec(select(Chart).where(Chart.file_name == "TakeFive_Bb.pdf"))).one()
    assert await rt.blobs.has(chart.checksum) and chart.modified_at is not None and chart.modified_at.tzinfo
    async with db.session() as session:
        assert chart.id is not None
        kept = await annotations.list_strokes(session, leader, chart.id)
    assert [(s["id"], s["points"], s["layer"]) for s in kept["strokes"]] == [
        (mark["id"], mark["points"], "band")]  # the pencil's marks come back with the band
    async with db.session() as session:
        source = (await session.exec(select(LibrarySource))).one()
    assert source.location == str((fresh / "demo-library").resolve())
    shutil.rmtree(core.data_dir / "demo-library")  # the old machine's folder is gone: sync reads the restored copy
    resynced = await sync_configured(leader.band_id, prerender=False)
    assert resynced.error is None and (resynced.added, resynced.removed, resynced.unchanged) == (0, 0, 20)
    await db.dispose()
    rt.renderer.close()


async def test_restore_under_another_key_says_how_to_keep_drive_grants(core: runtime.Runtime, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from soleil_ui.backup import backup, restore

    leader = await band_with_member("Band", [{"instrument": "trumpet"}], role=Role.LEADER)
    async with db.session() as session:
        session.add(LibrarySource(band_id=leader.band_id, kind="drive", location="folder-id",
                                  credentials_enc=core.secrets.encrypt('{"type": "user", "refresh_token": "1//x"}')))
    archive = tmp_path / "b.tar.gz"
    await backup(archive)
    assert (await restore(archive, force=True)).count("\n") == 0  # same key: nothing to say

    await db.dispose()
    core.renderer.close()
    monkeypatch.setenv("SOLEIL_SECRET_KEY", "another-key-" + "y" * 40)
    get_settings.cache_clear()
    runtime.configure(get_settings())
    summary, warning = (await restore(archive, force=True)).split("\n")
    assert summary.startswith("Restored")
    assert warning.startswith("Warning: 1 stored Drive grant(s) can't be decrypted: this server's SOLEIL_SECRET_KEY")
    assert f"set SOLEIL_SECRET_KEY to the old server's SOLEIL_SECRET_KEY, then run `soleil restore {archive} --force`" \
        in warning


async def test_restore_refuses_a_newer_schema_and_junk(core: runtime.Runtime, tmp_path: Path) -> None:
    from soleil_ui.backup import backup, restore
    from soleil_ui.errors import InvalidInput

    archive = tmp_path / "b.tar.gz"
    await backup(archive)
    newer = tmp_path / "newer.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(newer, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else None  # type: ignore[union-attr]
            if member.name == "manifest.json" and data is not None:
                manifest = json.loads(data)
                manifest["revision"] = "9999_from_the_future"
                data = json.dumps(manifest).encode()
                member.size = len(data)
            import io

            dst.addfile(member, io.BytesIO(data) if data is not None else None)
    with pytest.raises(InvalidInput, match="newer SOLEil"):
        await restore(newer, force=True)
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a backup")
    with pytest.raises(InvalidInput, match="isn't a SOLEil backup"):
        await restore(junk)
