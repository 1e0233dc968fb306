"""The chart store's contract on both backends (the data dir, and an S3-compatible bucket on moto's server), on SQLite
and PostgreSQL; then what only the bucket does: SHA-256 object names checked on the way in and out, collection across
instances, and pages rendered once for two instances sharing the database and the bucket."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from sqlmodel import update

from soleil_ui import runtime
from soleil_ui.db import db
from soleil_ui.errors import NotFound
from soleil_ui.models import StoredObject, utcnow
from soleil_ui.objectstore import COLLECT_LOCK_KEY, LocalStore, S3Store
from soleil_ui.rendering import PRERENDER_WIDTHS, PageRenderer, inspect_pdf, webp_problem
from soleil_ui.services import members
from soleil_ui.settings import Settings, get_settings
from tests.library_helpers import FIXTURE_CHARTS, band_with_member

PDF = (FIXTURE_CHARTS / "TakeFive_Bb.pdf").read_bytes()


@pytest.fixture(params=["local", "s3"])
async def store(request: pytest.FixtureRequest, app_env: Settings) -> runtime.Runtime:
    """The runtime with one backend or the other, chosen by settings as in production."""
    if request.param == "s3":
        request.getfixturevalue("s3_env")
    rt = runtime.configure(get_settings())
    await db.migrate()
    assert isinstance(rt.blobs, S3Store if request.param == "s3" else LocalStore)
    yield rt
    rt.renderer.close()
    rt.engraver.close()
    await db.dispose()


async def _age(rt: runtime.Runtime, checksum: str, hours: float) -> None:
    """Make a stored file look untouched for ``hours`` (a file's mtime, or the bucket's ``touched_at``)."""
    if isinstance(rt.blobs, LocalStore):
        stamp = time.time() - hours * 3600
        os.utime(rt.blobs.blobs.path_for(checksum), (stamp, stamp))
        return
    async with db.session() as session:
        await session.exec(update(StoredObject).where(StoredObject.checksum == checksum)  # type: ignore[call-overload]
                           .values(touched_at=utcnow() - timedelta(hours=hours)))


async def test_put_read_has_and_a_local_file_for_range_requests(store: runtime.Runtime) -> None:
    blobs = store.blobs
    assert not await blobs.has("md5-of-take-five")
    with pytest.raises(NotFound):
        await blobs.read("md5-of-take-five")
    await blobs.put("md5-of-take-five", PDF)
    await blobs.put("md5-of-take-five", PDF)  # idempotent
    assert await blobs.has("md5-of-take-five")
    assert await blobs.read("md5-of-take-five") == PDF
    path = await blobs.local_path("md5-of-take-five")
    assert path.read_bytes() == PDF and path.is_relative_to(store.data_dir)


async def test_collection_takes_only_old_unreferenced_files(store: runtime.Runtime) -> None:
    """Unreferenced and untouched for 24 h: gone. Referenced, or written by a sync that hasn't committed: kept."""
    blobs = store.blobs
    for checksum, data in (("gone", b"%PDF old"), ("kept", b"%PDF in use"), ("fresh", b"%PDF a sync in flight")):
        await blobs.put(checksum, data)
    await _age(store, "gone", 25)
    await _age(store, "kept", 25)
    assert await blobs.collect({"kept"}) == 1
    assert not await blobs.has("gone")
    assert await blobs.read("kept") == b"%PDF in use"
    assert await blobs.read("fresh") == b"%PDF a sync in flight", "younger than the grace period: the sync's race"


async def test_asking_for_an_old_file_keeps_it(store: runtime.Runtime) -> None:
    """A file removed two days ago comes back: the sync finds it stored and reuses it, restarting its grace."""
    await store.blobs.put("orphan", b"%PDF the same bytes as before")
    await _age(store, "orphan", 48)
    assert await store.blobs.has("orphan")
    assert await store.blobs.collect(set()) == 0
    assert await store.blobs.read("orphan") == b"%PDF the same bytes as before"


# --- only the bucket --------------------------------------------------------------------------------------------
def _bucket(settings: Settings) -> object:
    return boto3.client("s3", endpoint_url=settings.s3_endpoint, aws_access_key_id="testing",
                        aws_secret_access_key="testing", region_name="us-east-1")


def test_the_client_is_made_once_from_a_session_of_its_own(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The first uploads of a sync ask for the client from several threads at once: one client, and boto3's shared
    default session (not safe to make clients from concurrently) is never touched."""
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    store = S3Store(endpoint="http://127.0.0.1:9", bucket="b", access_key="k", secret_key="s", region="",
                    cache_dir=tmp_path)
    with ThreadPoolExecutor(4) as pool:
        clients = list(pool.map(lambda _: store.client, range(8)))
    assert all(c is clients[0] for c in clients)
    assert boto3.DEFAULT_SESSION is None


async def test_objects_are_named_by_sha256_and_a_damaged_one_is_never_served(s3_env: Settings) -> None:
    rt = runtime.configure(get_settings())
    await db.migrate()
    try:
        await rt.blobs.put("0123456789abcdef0123456789abcdef", PDF)  # Drive's md5 is not content
        s3 = _bucket(s3_env)
        sha = hashlib.sha256(PDF).hexdigest()
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=s3_env.s3_bucket)["Contents"]]  # type: ignore[attr-defined]
        assert keys == [f"blobs/{sha}"]
        assert s3.head_object(Bucket=s3_env.s3_bucket, Key=f"blobs/{sha}",  # type: ignore[attr-defined]
                              ChecksumMode="ENABLED")["ContentLength"] == len(PDF)

        s3.put_object(Bucket=s3_env.s3_bucket, Key=f"blobs/{sha}", Body=b"%PDF tampered")  # type: ignore[attr-defined]
        other = runtime.configure(get_settings().model_copy(update={"data_dir": s3_env.data_dir / "b"}))  # a cold one
        with pytest.raises(NotFound, match="damaged"):
            await other.blobs.read("0123456789abcdef0123456789abcdef")
        other.renderer.close()
        other.engraver.close()
    finally:
        rt.renderer.close()
        rt.engraver.close()
        await db.dispose()


async def test_one_collector_at_a_time_and_rendered_pages_of_gone_files_go_too(s3_env: Settings) -> None:
    rt = runtime.configure(get_settings())
    await db.migrate()
    try:
        store = rt.blobs
        assert isinstance(store, S3Store)
        await store.put("gone", PDF)
        await store.shared_pages.upload("r1/go/gone/p0-w800.webp", b"RIFF image")
        await store.shared_pages.upload("r1/ke/kept/p0-w800.webp", b"RIFF image")
        await _age(rt, "gone", 25)
        async with db.leadership(COLLECT_LOCK_KEY) as leading:  # another instance is collecting
            assert leading
            assert await store.collect({"kept"}, grace=0) == 0
        assert await store.has("gone")
        await _age(rt, "gone", 25)
        assert await store.collect({"kept"}, grace=0) == 2  # the file and its page
        keys = {o["Key"] for o in _bucket(s3_env).list_objects_v2(  # type: ignore[attr-defined]
            Bucket=s3_env.s3_bucket).get("Contents", ())}
        assert keys == {"pages/r1/ke/kept/p0-w800.webp"}
    finally:
        rt.renderer.close()
        rt.engraver.close()
        await db.dispose()


async def test_two_instances_render_each_page_and_width_once(s3_env: Settings, tmp_path: Path) -> None:
    """Ten members per instance open every page of a chart at two widths at once: each image is rendered once."""
    settings = get_settings()
    rt = runtime.configure(settings)
    await db.migrate()
    await rt.blobs.put("take-five", PDF)
    instances = []
    for name in ("a", "b"):
        store = S3Store(endpoint=settings.s3_endpoint, bucket=settings.s3_bucket, access_key="testing",
                        secret_key="testing", region="us-east-1", cache_dir=tmp_path / name / "objects")
        instances.append((store, PageRenderer(tmp_path / name / "pages", workers=1, shared=store.shared_pages)))
    pages = inspect_pdf(PDF).page_count
    wanted = [(page, width) for page in range(pages) for width in PRERENDER_WIDTHS[:2]]
    try:
        jobs = [renderer.page_image("take-five", page, width, lambda s=store: s.read("take-five"))
                for store, renderer in instances for _member in range(10) for page, width in wanted]
        paths = await asyncio.gather(*jobs)
        for _, renderer in instances:
            await renderer.uploads_done()
        assert sum(renderer.renders for _, renderer in instances) == len(wanted)
        for page, width in wanted:  # both instances serve the same image from their own disk
            a, b = (renderer.cache_path("take-five", page, width).read_bytes() for _, renderer in instances)
            assert a == b and webp_problem(a) is None
        assert len(paths) == 20 * len(wanted)
        assert sum(store.shared_pages.fetches for store, _ in instances) >= len(wanted)
    finally:
        for _, renderer in instances:
            renderer.close()
        rt.renderer.close()
        rt.engraver.close()
        await db.dispose()


async def test_night_mode_is_the_readers_on_every_instance(core: runtime.Runtime) -> None:
    """Kept in the database (it was one browser's storage on one instance): a second session sees it."""
    reader = await band_with_member("Band", [{"instrument": "trumpet"}])
    async with db.session() as session:
        assert await members.night_mode(session, reader) is False
        await members.set_night_mode(session, reader, True)
    async with db.session() as session:
        assert await members.night_mode(session, reader) is True


async def test_a_sync_asking_while_the_collector_deletes_never_keeps_a_missing_file(store: runtime.Runtime) -> None:
    """The race itself, run at once many times: whenever ``has`` says yes (the sync will refer to the file without
    storing it again), the file is still there after the collector's pass."""
    blobs = store.blobs
    for round_ in range(8):
        checksum = f"orphan-{round_}"
        await blobs.put(checksum, f"%PDF round {round_}".encode())
        await _age(store, checksum, 48)
        collected, kept = await asyncio.gather(blobs.collect(set()), blobs.has(checksum))
        if kept:
            assert await blobs.read(checksum) == f"%PDF round {round_}".encode()
        else:
            assert collected == 1
            with pytest.raises(NotFound):
                await blobs.read(checksum)
