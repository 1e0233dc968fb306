"""``soleil backup`` / ``soleil restore``: one file holding the database and the data dir's state.

The database is dumped logically (every table as JSON lines, read in one snapshot transaction), so a
backup is consistent while the app runs and restores into SQLite or PostgreSQL alike — which is also the
way to move a band from the embedded SQLite to PostgreSQL. Stored files (``blobs/``) and a generated
secret key come along; caches don't (they are rebuilt). A backup from a newer schema is refused. With the S3-compatible
store the stored files are read from the bucket into the archive, and a restore puts them into the configured bucket;
the archive's layout is the same either way, so a backup also moves a server between the data dir and a bucket.

The archive contains the band's encrypted secrets and, when SOLEIL_SECRET_KEY was generated, the key that
opens them: it is written readable by its owner only (0600); keep it as private as the server itself.
A local library folder inside the data dir (the demo's) follows the data dir to where it is restored; Drive grants
are checked against the restoring server's key, and a restore says how to keep them when that key differs.
"""

from __future__ import annotations

import io
import json
import logging
import os
import tarfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.script import ScriptDirectory
from alembic.script.revision import ResolutionError
from alembic.util.exc import CommandError
from sqlalchemy import MetaData, inspect, select, text
from sqlalchemy.engine import Connection

from . import __version__
from .blobs import blob_name
from .db import alembic_config, db, head_revision
from .errors import ConfigError, InvalidInput, NotFound
from .objectstore import LocalStore, S3Store
from .runtime import get_runtime
from .security import SecretBox

log = logging.getLogger(__name__)

FORMAT = 1
DATA_ITEMS = ("blobs", "secret.key", "demo-library")  # what of the data dir a restore needs


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()}
    return value


def _decode(value: Any, sqlite: bool) -> Any:
    if isinstance(value, dict) and set(value) == {"$dt"}:
        moment = datetime.fromisoformat(value["$dt"]).astimezone(UTC)
        return moment.replace(tzinfo=None) if sqlite else moment
    return value


def _dump_tables(connection: Connection) -> dict[str, list[dict[str, Any]]]:
    metadata = MetaData()
    metadata.reflect(connection)
    return {table.name: [{k: _encode(v) for k, v in row._mapping.items()}
                         for row in connection.execute(select(table))] for table in metadata.sorted_tables}


async def backup(target: Path) -> str:
    """Write the backup archive to ``target``; returns a one-line summary."""
    async with db.engine.connect() as connection:
        if not db.is_sqlite:
            connection = await connection.execution_options(isolation_level="REPEATABLE READ")
        async with connection.begin():
            tables = await connection.run_sync(_dump_tables)
    revision = tables.get("alembic_version", [{}])[0].get("version_num") if tables.get("alembic_version") else None
    data_dir = get_runtime().data_dir
    manifest = {"format": FORMAT, "soleil": __version__, "revision": revision,
                "created": datetime.now(UTC).isoformat(), "tables": {k: len(v) for k, v in tables.items()},
                "data_dir": str(data_dir.resolve())}
    store = get_runtime().blobs
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".partial")
    # Owner-only from the first byte: the archive may hold the secret key and the encrypted Drive grants.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a leftover .partial keeps its old mode through O_CREAT
    with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
        _add_bytes(archive, "manifest.json", json.dumps(manifest, indent=2).encode())
        for name, rows in tables.items():
            _add_bytes(archive, f"tables/{name}.jsonl", "".join(json.dumps(r) + "\n" for r in rows).encode())
        for item in DATA_ITEMS:
            if item == "blobs" and not isinstance(store, LocalStore):
                continue
            if (data_dir / item).exists():
                archive.add(data_dir / item, arcname=f"data/{item}")
        if isinstance(store, S3Store):  # the bucket's files, laid out as the data dir's blobs/ would be
            for checksum in sorted(_referenced(tables)):
                try:
                    data = await store.fetch(checksum)  # not into this instance's cache: every file, used once
                except NotFound:
                    log.warning("stored file %s is missing from the file store; not in the backup", checksum)
                    continue
                name = blob_name(checksum)
                _add_bytes(archive, f"data/blobs/{name[:2]}/{name}", data)
    tmp.replace(target)
    count = sum(len(v) for k, v in tables.items() if k != "alembic_version")
    return f"Backup written to {target}: {count} rows at schema {revision}."


def _referenced(tables: dict[str, list[dict[str, Any]]]) -> set[str]:
    """The checksums the charts and recordings in a dump refer to: the files a backup must hold."""
    return {row["checksum"] for name in ("chart", "audio_track") for row in tables.get(name, []) if row.get("checksum")}


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime = len(data), int(time.time())
    archive.addfile(info, io.BytesIO(data))


def check_archive(source: Path) -> None:
    """Refuse a missing or unreadable file before anything (a data dir, a database) is created for it."""
    if not source.is_file():
        raise InvalidInput(f"{source} doesn't exist (or isn't a file).")
    _read_archive(source)[2].close()


def _read_archive(source: Path) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]], tarfile.TarFile]:
    try:
        archive = tarfile.open(source, "r:gz")
        manifest = json.loads(archive.extractfile("manifest.json").read())  # type: ignore[union-attr]
    except (OSError, tarfile.TarError, KeyError, ValueError, AttributeError):
        raise InvalidInput(f"{source} isn't a SOLEil backup (or it is damaged).") from None
    tables: dict[str, list[dict[str, Any]]] = {}
    for member in archive.getmembers():
        if member.name.startswith("tables/") and member.name.endswith(".jsonl"):
            lines = archive.extractfile(member).read().decode().splitlines()  # type: ignore[union-attr]
            tables[member.name[7:-6]] = [json.loads(line) for line in lines if line]
    return manifest, tables, archive


def _known_revision(revision: str | None) -> bool:
    if revision is None:
        return True
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except (ResolutionError, CommandError):
        return False


async def restore(source: Path, *, force: bool = False) -> str:
    """Restore into an empty database (or replace one with ``force``); refuses a newer schema."""
    manifest, tables, archive = _read_archive(source)
    revision = manifest.get("revision")
    if manifest.get("format") != FORMAT or not _known_revision(revision):
        raise InvalidInput(f"This backup is from a newer SOLEil (schema {revision}); upgrade SOLEil first, "
                           "then restore.")
    async with db.engine.begin() as connection:
        existing = await connection.run_sync(lambda c: inspect(c).get_table_names())
        if existing and not force:
            has_data = await connection.run_sync(_holds_data)
            if has_data:
                raise InvalidInput("The database already holds bands. Restore into an empty database, or pass "
                                   "--force to replace everything in it.")
        data_dir = get_runtime().data_dir.resolve()
        _follow_data_dir(tables, manifest, data_dir)
        await connection.run_sync(_drop_everything)
        await connection.run_sync(lambda c: _load(c, revision, tables))
    await db.migrate()
    store = get_runtime().blobs
    data_dir.mkdir(parents=True, exist_ok=True)
    into_bucket = not isinstance(store, LocalStore)
    with archive:
        members = [m for m in archive.getmembers() if m.name.startswith("data/") and (m.isfile() or m.isdir())
                   and not (into_bucket and m.name.startswith("data/blobs"))]
        for member in members:
            member.name = member.name[5:]
        archive.extractall(data_dir, members=members, filter="data")
        if into_bucket:  # the files go to the configured bucket, under the checksums the restored rows name
            by_name = {blob_name(c): c for c in _referenced(tables)}
            for member in archive.getmembers():
                checksum = by_name.get(Path(member.name).name) if member.name.startswith("data/blobs/") else None
                if checksum is not None and member.isfile():
                    await store.put(checksum, archive.extractfile(member).read())  # type: ignore[union-attr]
    rows = sum(len(v) for k, v in tables.items() if k != "alembic_version")
    summary = f"Restored {rows} rows from {source} (schema {revision}, now {head_revision()})."
    warning = _unreadable_grants(tables, data_dir, source, any(m.name == "secret.key" for m in members))
    return f"{summary}\n{warning}" if warning else summary


def _follow_data_dir(tables: dict[str, list[dict[str, Any]]], manifest: dict[str, Any], data_dir: Path) -> None:
    """A local library folder inside the old data dir (the demo's ``demo-library``) comes along in the archive:
    point it at its restored copy instead of the old machine's absolute path."""
    old = manifest.get("data_dir")
    for row in tables.get("library_source", []):
        location = str(row.get("location") or "")
        if row.get("kind") != "local" or not location:
            continue
        inside = Path(location).relative_to(old).parts if old and location.startswith(old.rstrip("/") + "/") else ()
        if inside and inside[0] in DATA_ITEMS:  # only what the archive carries
            row["location"] = str(data_dir.joinpath(*inside))
        elif not old and Path(location).name in DATA_ITEMS:  # a backup from before the manifest said where it was
            row["location"] = str(data_dir / Path(location).name)


def _unreadable_grants(tables: dict[str, list[dict[str, Any]]], data_dir: Path, source: Path,
                       key_restored: bool) -> str | None:
    """Say so when this server's key can't open the Drive grants of the backup, and how to keep them."""
    grants = [row["credentials_enc"] for row in tables.get("library_source", []) if row.get("credentials_enc")]
    if not grants:
        return None
    box = SecretBox(get_runtime().settings.effective_secret_key())
    unreadable = 0
    for grant in grants:
        try:
            box.decrypt(grant)
        except ConfigError:
            unreadable += 1
    if not unreadable:
        return None
    old_key = (f"the contents of {data_dir / 'secret.key'}, restored from the backup" if key_restored
               else "the old server's SOLEIL_SECRET_KEY")
    return (f"Warning: {unreadable} stored Drive grant(s) can't be decrypted: this server's SOLEIL_SECRET_KEY isn't "
            "the key the backup was made with. Their leaders must connect Drive again, unless you keep the old key: "
            f"set SOLEIL_SECRET_KEY to {old_key}, then run `soleil restore {source} --force` again.")


def _holds_data(connection: Connection) -> bool:
    if "band" not in inspect(connection).get_table_names():
        return False
    return bool(connection.execute(text("SELECT COUNT(*) FROM band")).scalar())


def _drop_everything(connection: Connection) -> None:
    metadata = MetaData()
    metadata.reflect(connection)
    metadata.drop_all(connection)


def _load(connection: Connection, revision: str | None, tables: dict[str, list[dict[str, Any]]]) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    if revision is None:
        return
    command.upgrade(config, revision)
    metadata = MetaData()
    metadata.reflect(connection)
    sqlite = connection.dialect.name == "sqlite"
    for table in metadata.sorted_tables:
        rows = tables.get(table.name, [])
        if table.name == "alembic_version" or not rows:
            continue
        connection.execute(table.insert(), [{k: _decode(v, sqlite) for k, v in row.items()} for row in rows])
        if not sqlite and "id" in table.c:
            name = table.name  # from our own reflected schema, never from input
            sql = f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {name}))"  # noqa: S608
            connection.execute(text(sql))
