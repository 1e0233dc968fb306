"""Where library files live: this instance's data dir (the embedded default) or an S3-compatible bucket every instance
reaches, behind one async interface (``ChartStore``) so sync, media routes, backups and the renderer never care which.

**Local** (``LocalStore``): ``blobs.BlobStore`` as it always was, run in threads.

**S3** (``S3Store``), for instances on separate machines. Objects are named by the SHA-256 of their bytes
(``blobs/<sha256>``), computed here and sent with the upload so the service checks it too (``ChecksumSHA256``);
downloads are checked again before they enter the local cache. A source's own checksum (Drive's md5 or
``id:version``) is not content, so the ``stored_object`` table maps it to the SHA-256; instances writing the same bytes
write the same object, never conflicting. Each instance keeps copies in ``<data dir>/cache/objects`` within
``SOLEIL_STORE_CACHE_MB`` (least recently used go first), and serves from there (audio with Range, PDFs, renders).

The client is boto3 (the field's standard; botocore retries, signs v4 and speaks to MinIO and every S3 clone), called
in threads so blocking I/O never runs on the event loop. obstore is async and fast but young, and its Python API has
changed between minor versions; boto3 has not broken this API in a decade.

**Collection** runs on one instance at a time (``db.leadership(COLLECT_LOCK_KEY)``, the advisory lock the scheduled
sync uses, its own key). A sync writes an object *before* it commits the chart that refers to it, so only objects
unreferenced *and* untouched for 24 h go (``touched_at``, refreshed by ``put`` and ``has``). Each deletion holds an
exclusive transaction advisory lock (``BLOB_LOCK_KEY``) that ``put``/``has`` take shared: no upload or refresh falls
between the collector's last look and the delete, on any instance (the ``flock`` of ``BlobStore``, across machines).
Rendered pages whose source is gone are pruned in the same pass.

**Rendered pages** are shared as ``pages/<cache path>``: see ``PageRenderer`` for the render-once lease.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, delete, func, select, update

from .blobs import GRACE_SECONDS, BlobStore
from .db import db
from .errors import NotFound, UpstreamUnavailable
from .files import prune_lru, touch_if_stale, write_atomic
from .models import RenderLease, StoredObject, utcnow
from .rendering import LEASE_SECONDS  # a claim outlives any render; a crashed holder's then passes on

log = logging.getLogger(__name__)
COLLECT_LOCK_KEY = 0x50_1E_11_5D  # one collector at a time (the scheduled sync's lock is ...5C)
BLOB_LOCK_KEY = 0x50_1E_11_5E  # deletions exclusive, uploads and refreshes shared


class ChartStore(Protocol):
    """Library files by their source checksum. Every method is safe to await on the event loop."""

    async def has(self, checksum: str) -> bool:
        """True if stored; a sync asks before referring to it, so this also keeps it from being collected."""

    async def put(self, checksum: str, data: bytes) -> None:
        """Store ``data`` (idempotent: the same checksum again costs a lookup)."""

    async def read(self, checksum: str) -> bytes:
        """The bytes, or ``NotFound``."""

    async def local_path(self, checksum: str) -> Path:
        """A file on this instance's disk holding the bytes (for responses with Range), or ``NotFound``."""

    async def collect(self, keep: set[str], *, grace: float = GRACE_SECONDS) -> int:
        """Delete what no chart or track refers to (``keep``, read before the call) and nobody touched for ``grace``
        seconds; returns how many went."""

    def prune(self, max_bytes: int) -> int:
        """Keep this instance's copies within ``max_bytes``; blocking file I/O (a thread)."""


class LocalStore:
    """The data dir's ``blobs/`` (one machine): ``BlobStore`` in threads, unchanged."""

    shared_pages = None

    def __init__(self, root: Path) -> None:
        self.blobs = BlobStore(root)

    async def has(self, checksum: str) -> bool:
        return await asyncio.to_thread(self.blobs.has, checksum)

    async def put(self, checksum: str, data: bytes) -> None:
        await asyncio.to_thread(self.blobs.put, checksum, data)

    async def read(self, checksum: str) -> bytes:
        return await asyncio.to_thread(self.blobs.read, checksum)

    async def local_path(self, checksum: str) -> Path:
        path = self.blobs.path_for(checksum)
        if not await asyncio.to_thread(path.is_file):
            raise NotFound("That file isn't stored here yet; run a library sync.")
        return path

    async def collect(self, keep: set[str], *, grace: float = GRACE_SECONDS) -> int:
        return await asyncio.to_thread(self.blobs.remove_unreferenced, keep, grace=grace)

    def prune(self, max_bytes: int) -> int:
        return 0  # the blobs are the only copy


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class S3Store:
    """Objects in an S3-compatible bucket, keyed by SHA-256, with a local cache in front (see the module doc)."""

    def __init__(self, *, endpoint: str, bucket: str, access_key: str, secret_key: str, region: str,
                 cache_dir: Path) -> None:
        self.endpoint, self.bucket = endpoint, bucket
        self._credentials = (access_key or None, secret_key or None, region or None)
        self.cache_dir = Path(cache_dir)
        self.holder = uuid.uuid4().hex  # who holds a render lease
        self.shared_pages = SharedPages(self)
        self._client: Any = None
        self._client_lock = threading.Lock()
        self._sha: dict[str, str] = {}  # source checksum -> sha256; immutable once stored, so a plain memo
        self._downloads: dict[str, asyncio.Future[Path]] = {}
        self._local = asyncio.Lock()  # SQLite (one instance): the in-process stand-in for the advisory lock

    # --- the S3 calls (blocking; always via asyncio.to_thread) ---------------------------------------------------
    @property
    def client(self) -> Any:
        """The boto3 client, made on first use. Its first uses come from several threads at once, and boto3's default
        session isn't safe to make clients from concurrently: one made under a lock, from a session of its own (the
        client itself is thread-safe)."""
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = self._new_client()
        return self._client

    def _new_client(self) -> Any:
        import boto3.session
        from botocore.config import Config

        access, secret, region = self._credentials
        return boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id=access, aws_secret_access_key=secret,
            region_name=region or "us-east-1",
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                          retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=30))

    def _upload(self, key: str, data: bytes, sha: str) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data,
                                   ChecksumSHA256=base64.b64encode(bytes.fromhex(sha)).decode())
        except Exception as exc:
            if _code(exc) != "NoSuchBucket":
                raise
            self.client.create_bucket(Bucket=self.bucket)  # private: no ACL or policy is ever set on it
            self._upload(key, data, sha)

    def _get(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except Exception as exc:
            if _code(exc) in ("NoSuchKey", "404", "NoSuchBucket"):
                return None
            raise

    def _exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
            return True
        except Exception as exc:
            if _code(exc) in ("NoSuchKey", "404", "NoSuchBucket", "NotFound"):
                return False
            raise

    def _delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def _list(self, prefix: str) -> list[tuple[str, float]]:
        """(key, last modified as a Unix time) of every object under ``prefix``."""
        found: list[tuple[str, float]] = []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                found += [(o["Key"], o["LastModified"].timestamp()) for o in page.get("Contents", ())]
        except Exception as exc:
            if _code(exc) != "NoSuchBucket":
                raise
        return found

    async def _call(self, fn: Any, *args: Any) -> Any:
        try:
            return await asyncio.to_thread(fn, *args)
        except (OSError, ImportError) as exc:
            raise UpstreamUnavailable("The file store can't be reached right now; try again in a moment.",
                                      detail=f"{type(exc).__name__}: {exc}") from exc
        except Exception as exc:
            if type(exc).__module__.startswith(("botocore", "boto3")):
                raise UpstreamUnavailable("The file store can't be reached right now; try again in a moment.",
                                          detail=f"{type(exc).__name__}: {exc}") from exc
            raise

    # --- ChartStore ---------------------------------------------------------------------------------------------
    async def has(self, checksum: str) -> bool:
        async with self._guard(exclusive=False) as session:
            result = await session.exec(update(StoredObject).where(col(StoredObject.checksum) == checksum)
                                        .values(touched_at=utcnow()))
            return bool(result.rowcount)

    async def put(self, checksum: str, data: bytes) -> None:
        if not checksum:
            raise NotFound("That file has no content yet.")
        sha = await asyncio.to_thread(sha256_hex, data)
        key = f"blobs/{sha}"
        async with self._guard(exclusive=False) as session:  # the collector can't delete between upsert and upload
            values = {"checksum": checksum, "sha256": sha, "size": len(data), "touched_at": utcnow()}
            insert = sqlite_insert if db.is_sqlite else pg_insert
            await session.exec(insert(StoredObject).values(**values).on_conflict_do_update(
                index_elements=["checksum"], set_={k: v for k, v in values.items() if k != "checksum"}))
            if not await self._call(self._exists, key):
                await self._call(self._upload, key, data, sha)
        self._sha[checksum] = sha
        await asyncio.to_thread(write_atomic, self._cache_path(sha), data)

    async def read(self, checksum: str) -> bytes:
        return await asyncio.to_thread((await self.local_path(checksum)).read_bytes)

    async def local_path(self, checksum: str) -> Path:
        sha = await self._sha_for(checksum)
        path = self._cache_path(sha)
        if await asyncio.to_thread(touch_if_stale, path):  # kept from pruning while in use
            return path
        task = self._downloads.get(sha)
        if task is None:  # many members opening one chart on a cold instance: one download
            task = self._downloads[sha] = asyncio.ensure_future(self._download(sha, path))
            task.add_done_callback(lambda _: self._downloads.pop(sha, None))
        return await asyncio.shield(task)

    async def fetch(self, checksum: str) -> bytes:
        """The bytes, for a reader of every file once (the backup): this instance's copy if it has one, else the
        bucket's, checked, and *not* kept: a backup would push out of the cache what the members are using."""
        sha = await self._sha_for(checksum)
        try:
            return await asyncio.to_thread(self._cache_path(sha).read_bytes)
        except FileNotFoundError:
            return await self._get_checked(sha)

    async def _download(self, sha: str, path: Path) -> Path:
        return await asyncio.to_thread(write_atomic, path, await self._get_checked(sha))

    async def _get_checked(self, sha: str) -> bytes:
        data = await self._call(self._get, f"blobs/{sha}")
        if data is None:
            raise NotFound("That file is missing from the file store; run a library sync.")
        if await asyncio.to_thread(sha256_hex, data) != sha:
            log.error("object blobs/%s in the store doesn't match its SHA-256; not serving it", sha)
            raise NotFound("That file is damaged in the file store; run a library sync.")
        return data

    async def _sha_for(self, checksum: str) -> str:
        if not checksum:
            raise NotFound("That file has no content yet.")
        sha = self._sha.get(checksum)
        if sha is None:
            async with db.session() as session:
                row = await session.get(StoredObject, checksum)
            if row is None:
                raise NotFound("That file isn't stored yet; run a library sync.")
            sha = self._sha[checksum] = row.sha256
        return sha

    def _cache_path(self, sha: str) -> Path:
        return self.cache_dir / sha[:2] / sha

    def prune(self, max_bytes: int) -> int:
        return prune_lru(self.cache_dir, max_bytes)

    async def collect(self, keep: set[str], *, grace: float = GRACE_SECONDS) -> int:
        async with db.leadership(COLLECT_LOCK_KEY) as leading:
            if not leading:
                return 0  # another instance is collecting now
            cutoff = utcnow() - timedelta(seconds=grace)
            async with db.session() as session:
                stale = set((await session.exec(select(StoredObject.checksum)
                                                 .where(StoredObject.touched_at < cutoff))).all())
            removed = 0
            for checksum in sorted(stale - keep):
                removed += await self._collect_one(checksum, cutoff)
            removed += await self._collect_orphans(keep, cutoff.timestamp())
            return removed

    async def _collect_one(self, checksum: str, cutoff: Any) -> int:
        async with self._guard(exclusive=True) as session:  # no put/has on any instance until this commits
            row = await session.get(StoredObject, checksum)
            if row is None or row.touched_at >= cutoff:
                return 0
            await session.delete(row)
            await session.flush()
            self._sha.pop(checksum, None)
            others = await session.scalar(select(func.count()).where(StoredObject.sha256 == row.sha256))
            if others:
                return 0  # the same bytes under another source checksum
            await self._call(self._delete, f"blobs/{row.sha256}")
            return 1

    async def _collect_orphans(self, keep: set[str], cutoff: float) -> int:
        """Objects no row names (an upload whose transaction failed) and rendered pages whose source is gone."""
        async with db.session() as session:
            known = set((await session.exec(select(StoredObject.sha256).distinct())).all())
        removed = 0
        for key, modified in await self._call(self._list, "blobs/"):
            if modified < cutoff and key.removeprefix("blobs/") not in known:
                async with self._guard(exclusive=True) as session:
                    if not await session.scalar(select(func.count()).where(
                            StoredObject.sha256 == key.removeprefix("blobs/"))):
                        await self._call(self._delete, key)
                        removed += 1
        for key, modified in await self._call(self._list, "pages/"):
            parts = key.split("/")  # pages/r1/ab/<checksum>/p0-w800.webp
            if len(parts) == 5 and parts[3] not in keep and modified < cutoff:
                await self._call(self._delete, key)
                removed += 1
        return removed

    @asynccontextmanager
    async def _guard(self, *, exclusive: bool) -> AsyncIterator[Any]:
        """A session holding the blob lock until it commits: exclusive for a deletion, shared for uploads."""
        if db.is_sqlite:
            async with self._local, db.session() as session:
                yield session
            return
        fn = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        async with db.session() as session:
            await session.exec(text(f"SELECT {fn}(:key)").bindparams(key=BLOB_LOCK_KEY))  # type: ignore[call-overload]
            yield session


class SharedPages:
    """Rendered page images in the bucket (``pages/<cache path>``) and the render lease rows in the database.

    Why a lease row and not a conditional put (``If-None-Match: *``): a conditional put only stops the *second
    upload*; both instances would already have rendered. The claim must come before the render, and it must expire
    when its holder dies mid-render; an ``INSERT … ON CONFLICT DO NOTHING`` with an expiry does both, on PostgreSQL and
    SQLite, while S3 has no compare-and-delete to take over a stale marker object safely."""

    def __init__(self, store: S3Store) -> None:
        self.store = store
        self.fetches = 0  # images taken from the bucket instead of rendered; for metrics and tests

    async def fetch(self, name: str) -> bytes | None:
        data = await self.store._call(self.store._get, f"pages/{name}")
        if data is not None:
            self.fetches += 1
        return data

    async def upload(self, name: str, data: bytes) -> None:
        await self.store._call(self.store._upload, f"pages/{name}", data, sha256_hex(data))

    async def claim(self, name: str) -> bool:
        """True if this instance may render ``name`` now (no live claim by anyone else)."""
        now = utcnow()
        insert = sqlite_insert if db.is_sqlite else pg_insert
        async with db.session() as session:
            await session.exec(delete(RenderLease).where(
                col(RenderLease.key) == name, col(RenderLease.expires_at) < now))
            result = await session.exec(insert(RenderLease).values(
                key=name, holder=self.store.holder, expires_at=now + timedelta(seconds=LEASE_SECONDS),
            ).on_conflict_do_nothing(index_elements=["key"]))
            return bool(result.rowcount)

    async def release(self, name: str) -> None:
        async with db.session() as session:
            await session.exec(delete(RenderLease).where(
                col(RenderLease.key) == name, col(RenderLease.holder) == self.store.holder))


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def build_store(settings: Any) -> LocalStore | S3Store:
    """The store the settings choose: the bucket when ``SOLEIL_S3_ENDPOINT``/``_BUCKET`` are set, else the data dir."""
    if settings.object_store:
        return S3Store(endpoint=settings.s3_endpoint, bucket=settings.s3_bucket, access_key=settings.s3_access_key,
                       secret_key=settings.s3_secret_key, region=settings.s3_region,
                       cache_dir=settings.data_dir / "cache" / "objects")
    return LocalStore(settings.data_dir / "blobs")
