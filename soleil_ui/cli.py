"""The ``soleil`` command. ``run`` is supplied by the composition root (``main.py``), which alone imports the UI."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from . import runtime
from .db import db
from .errors import Conflict, NotFound, SoleilError, UpstreamUnavailable
from .settings import Settings, get_settings

log = logging.getLogger("soleil")

DESCRIPTION = """SOLEil: a band's charts, setlists and gigs on every musician's phone.

Every setting is an environment variable (SOLEIL_*) or a line in .env; see README.md."""


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if level != "DEBUG":  # every schema check (each /readyz) would log these two lines; migrations still show
        logging.getLogger("alembic.runtime.migration").addFilter(_quiet_alembic)


def _quiet_alembic(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith(("Context impl", "Will assume"))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="soleil", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", help="serve the web app (applies migrations first; demo band when enabled)")
    sub.add_parser("migrate", help="bring the database schema up to date, then exit")
    sync = sub.add_parser("sync", help="sync every band's library once (for cron), then exit")
    sync.add_argument("--band", type=int, help="only this band id")
    backup = sub.add_parser("backup", help="write a consistent backup (database + data dir state) to FILE")
    backup.add_argument("file", type=Path)
    restore = sub.add_parser("restore", help="restore a backup FILE into an empty database (refuses a newer schema)")
    restore.add_argument("file", type=Path)
    restore.add_argument("--force", action="store_true", help="replace a database that already holds data")
    store = sub.add_parser("store-import", help="copy stored files from this data dir into the S3-compatible store",
                           description="Run on the instance whose data dir holds the files, with SOLEIL_S3_* set: "
                           "every file the band's charts and recordings refer to is uploaded (checked by SHA-256). "
                           "Safe to run again; the data dir's blobs/ is left as it is.")
    store.add_argument("--band", type=int, help="only this band id (default: every band)")
    band = sub.add_parser("create-band", help="create a band and its first leader")
    band.add_argument("name")
    band.add_argument("--leader", required=True, metavar="EMAIL")
    names = sub.add_parser("names", help="show how SOLEil reads file names (arguments, or one per line on stdin)",
                           description="Print one JSON object per file name: file, title, kind, instrument, chair, "
                           "transposition, role, unsorted_reason. A name may include folders (Take Five/Bb.pdf).")
    names.add_argument("files", nargs="*", metavar="NAME")
    sub.add_parser("healthcheck", help="exit 0 if the server these settings describe answers /readyz (containers)")
    return parser


def _names(files: Sequence[str]) -> int:
    """``soleil names``: how the sync would read each name, so a leader can check a naming scheme first."""
    import json

    from .naming import describe, parse_filename

    lines = files or (line.rstrip("\r\n") for line in sys.stdin)
    for name in lines:
        if name.strip():
            print(json.dumps(describe(name, parse_filename(name)), ensure_ascii=False), flush=True)
    return 0


async def _migrated() -> str | None:
    """``db.migrate``, with the setting to look at named when the database doesn't answer."""
    try:
        return await db.migrate()
    except UpstreamUnavailable as exc:
        raise UpstreamUnavailable(f"{exc.detail}. Check SOLEIL_DATABASE_URL.") from exc


async def _migrate() -> str | None:
    try:
        return await _migrated()
    finally:
        await db.dispose()


async def _sync(band: int | None) -> int:
    from .models import Band
    from .services.sync import sync_all, sync_configured

    try:
        await _migrated()
        if band is not None:
            async with db.session() as session:
                if await session.get(Band, band) is None:
                    raise NotFound(f"There is no band {band}.")
            results = [await sync_configured(band, prerender=False)]
        else:
            results = await sync_all(prerender=False)
        if not results:
            print("No band has a library folder connected yet.")
        for p in results:
            print(f"band {p.band_id}: {p.total} files, {p.added} added, {p.updated} updated, {p.removed} removed, "
                  f"{p.unchanged} unchanged, {p.broken} broken, {p.unsorted} unsorted"
                  + (f" — {p.error}" if p.error else ""))
        return 1 if any(p.error for p in results) else 0
    finally:
        runtime.get_runtime().renderer.close()
        runtime.get_runtime().engraver.close()
        await db.dispose()


async def _store_import(band: int | None) -> int:
    """``soleil store-import``: a band's files from ``<data dir>/blobs`` into the bucket every instance reads."""
    from sqlmodel import select

    from .blobs import BlobStore
    from .models import AudioTrack, Chart, ChartStatus
    from .objectstore import LocalStore

    store = runtime.get_runtime().blobs
    if isinstance(store, LocalStore):
        raise SoleilError("No object store is configured: set SOLEIL_S3_ENDPOINT and SOLEIL_S3_BUCKET first.")
    try:
        await db.migrate()
        async with db.session() as session:
            checksums: set[str] = set()
            for model in (Chart, AudioTrack):
                query = select(model.checksum).where(model.checksum != "").distinct()
                if band is not None:
                    query = query.where(model.band_id == band)
                if model is Chart:  # a broken file was never stored
                    query = query.where(Chart.status != ChartStatus.BROKEN)
                checksums |= set((await session.exec(query)).all())
        local = BlobStore(runtime.get_runtime().data_dir / "blobs")
        copied = present = 0
        missing: list[str] = []
        for checksum in sorted(checksums):
            if await store.has(checksum):
                present += 1
                continue
            path = local.path_for(checksum)
            if not path.is_file():
                missing.append(checksum)
                continue
            await store.put(checksum, await asyncio.to_thread(path.read_bytes))
            copied += 1
        print(f"{copied} files copied into the store, {present} already there, {len(missing)} not in this data dir"
              + (" (run `soleil sync` to fetch them again from their source)" if missing else "") + ".")
        return 1 if missing else 0
    finally:
        await db.dispose()


async def _create_band(name: str, leader: str, settings: Settings) -> None:
    from sqlalchemy import func
    from sqlmodel import select

    from .models import Band, Role
    from .services import members

    try:
        await _migrated()
        async with db.session() as session:
            same = (await session.exec(select(Band).where(func.lower(Band.name) == name.strip().lower()))).first()
            if same is not None:
                raise Conflict(f"A band named {same.name!r} already exists (id {same.id}); nothing was created.")
            band = await members.create_band(session, name)
            user = await members.get_or_create_user(session, leader)
            assert band.id is not None and user.id is not None
            await members.add_member(session, band.id, user.id, role=Role.LEADER)
        print(f"Created band {band.name!r} (id {band.id}); {user.email} leads it.")
        if settings.google_configured:
            print(f"{user.email} can sign in now at {settings.public_url or 'the server'}.")
        else:
            print("No sign-in is configured yet: set SOLEIL_GOOGLE_CLIENT_ID and SOLEIL_GOOGLE_CLIENT_SECRET "
                  "(README: Setting up Google sign-in), restart, and they can sign in.")
    finally:
        await db.dispose()


def main(argv: Sequence[str] | None = None, *, serve: Callable[[Settings], None] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "run"
    if command == "names":  # pure: needs no settings, database or data directory
        return _names(args.files)
    try:
        settings = get_settings()
        configure_logging(settings.log_level)
        if command == "healthcheck":  # touches nothing: no data dir, no database
            from .healthcheck import check

            return check(settings)
        if command == "restore":
            from .backup import check_archive

            check_archive(args.file)  # before the data dir and database are made for it
        runtime.configure(settings)
        if command == "run":
            if serve is None:
                raise SoleilError("The web app isn't available in this installation.")
            revision = asyncio.run(_migrate())
            log.info("database %s at revision %s", db.safe_url, revision)
            serve(settings)
        elif command == "migrate":
            print(f"Database at revision {asyncio.run(_migrate())}.")
        elif command == "sync":
            return asyncio.run(_sync(args.band))
        elif command == "backup":
            from .backup import backup

            print(asyncio.run(backup(args.file)))
        elif command == "restore":
            from .backup import restore

            print(asyncio.run(restore(args.file, force=args.force)))
        elif command == "store-import":
            return asyncio.run(_store_import(args.band))
        elif command == "create-band":
            asyncio.run(_create_band(args.name, args.leader, settings))
    except SoleilError as exc:
        print(f"soleil: {exc.detail}", file=sys.stderr)
        return 2 if exc.status_code in (422, 500) else 1
    except KeyboardInterrupt:
        return 130
    return 0
