"""Shared fixtures: a fresh database per test on SQLite and on PostgreSQL, an app environment, and the
NiceGUI ``User`` fixture bound to it.

Every test also has its server log checked (``server_errors``, autouse): an ERROR logged with a traceback, in this
process or in an app the test started (``live_server``, ``session_live_server``), fails the test unless the test
declares it: ``@pytest.mark.expected_error(r"regex")`` or ``server_errors.expect(r"regex")``; the regex is searched in
the record's text (message and traceback). Fix the cause rather than declaring it.

``database_url`` is parametrised over both databases, so every test that touches the database runs on
both. PostgreSQL is the server on 127.0.0.1:5432 (trust auth): the run creates its own database and drops
it at the end. When the server is unreachable the PostgreSQL cases are skipped, except under ``CI=true``,
where that is a failure.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import traceback
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest
from nicegui.testing.general_fixtures import get_path_to_main_file
from nicegui.testing.user import User
from nicegui.testing.user_simulation import user_simulation

from soleil_ui import runtime
from soleil_ui.db import Database, db
from soleil_ui.events import hub
from soleil_ui.settings import Settings, get_settings

if TYPE_CHECKING:
    from tests.fakes.drive_server import FakeDrive

FIXTURES = Path(__file__).parent / "fixtures"
PG_HOST = os.environ.get("SOLEIL_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("SOLEIL_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("SOLEIL_TEST_PG_USER", "postgres")
IN_CI = os.environ.get("CI", "").lower() == "true"
TEST_SECRET_KEY = "test-secret-key-" + "x" * 32


# --- no unexpected ERROR with a traceback in any server log -----------------------------------------------------------
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "expected_error(*patterns): server ERRORs with a traceback this test expects "
                                       "(regexes searched in the record's text)")
    config.addinivalue_line("markers", "sqlite_only: the test's database is SQLite only (tests/markers.py says why)")


@pytest.hookimpl(tryfirst=True)  # before the fixture's own params apply
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_url" in metafunc.fixturenames and metafunc.definition.get_closest_marker("sqlite_only"):
        # as a mark, so that pytest's own hooks (after this one) take it in place of the fixture's params
        metafunc.definition.add_marker(pytest.mark.parametrize("database_url", ["sqlite"], indirect=True))


# --- the longest files start first --------------------------------------------------------------------------------
# xdist hands out whole files (--dist loadfile, with --no-loadscope-reorder so this order holds). Started last, a
# file of one 90 s browser walk keeps one core busy while the other idles; started first, the many short files fill
# in around it. Longest first, as measured in a full run (pytest --durations); the rest keep their order.
LONGEST_FIRST = (
    "tests/test_hostile_routes.py", "tests/e2e/test_reconnect_browser.py", "tests/e2e/test_a11y_browser.py",
    "tests/e2e/test_multi_instance_browser.py", "tests/e2e/test_live_browser.py", "tests/test_ratelimit.py",
    "tests/test_web_security.py", "tests/e2e/test_offline.py",
    "tests/e2e/test_server.py", "tests/test_ui_setlists.py", "tests/test_ui_demo.py", "tests/test_ui_generated.py",
    "tests/test_api.py", "tests/e2e/test_pencil_browser.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))  # stable: the rest as collected


LOG_START = re.compile(r"^(\d{4}-\d\d-\d\d[ T][\d:,.]+ |(DEBUG|INFO|WARNING|ERROR|CRITICAL):)")
ERROR_START = re.compile(r"^(\d{4}-\d\d-\d\d[ T][\d:,.]+ (ERROR|CRITICAL) |(ERROR|CRITICAL):)")


def errors_with_traceback(output: str) -> list[str]:
    """The ERROR records of a server's output (our log format or uvicorn's) that carry a traceback."""
    found: list[str] = []
    record: list[str] | None = None
    for line in output.splitlines():
        if LOG_START.match(line):
            if record is not None and any("Traceback (most recent call last)" in x for x in record):
                found.append("\n".join(record))
            record = [line] if ERROR_START.match(line) else None
        elif record is not None:
            record.append(line)
    if record is not None and any("Traceback (most recent call last)" in x for x in record):
        found.append("\n".join(record))
    return found


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            trace = "".join(traceback.format_exception(*record.exc_info))
        elif record.exc_text:
            trace = record.exc_text
        else:
            return
        self.texts.append(f"{record.levelname} {record.name}: {record.getMessage()}\n{trace}")


class ServerErrors:
    """What a test declares it expects among the server ERRORs with a traceback (see the module docstring)."""

    # The User fixture cancels a test's leftover tasks at teardown; one cancelled while its connection goes back to
    # the pool makes SQLAlchemy log the pool's interrupted reset. That is the harness ending the test, not the app.
    TEARDOWN_CANCEL = r"Exception during reset or similar[\s\S]*CancelledError"

    def __init__(self, patterns: list[str]) -> None:
        self.patterns = [re.compile(p) for p in [*patterns, self.TEARDOWN_CANCEL]]

    def expect(self, pattern: str) -> None:
        self.patterns.append(re.compile(pattern))

    def unexpected(self, texts: list[str]) -> list[str]:
        return [t for t in texts if not any(p.search(t) for p in self.patterns)]


def _app_servers(request: pytest.FixtureRequest) -> list[Any]:
    """The apps this test started (the e2e ``live_server`` factories keep theirs on ``.servers``)."""
    servers: list[Any] = []
    for name in ("live_server", "session_live_server"):
        factory = request.node.funcargs.get(name) if hasattr(request.node, "funcargs") else None
        held = getattr(factory, "servers", None)
        servers.extend(held.values() if isinstance(held, dict) else held or [])
    return servers


_checked: dict[Any, int] = {}


@pytest.fixture(autouse=True)
def server_errors(request: pytest.FixtureRequest) -> Iterator[ServerErrors]:
    marker_patterns = [p for m in request.node.iter_markers("expected_error") for p in m.args]
    declared = ServerErrors(marker_patterns)
    handler = _Collect()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield declared
    finally:
        root.removeHandler(handler)
    texts = list(handler.texts)
    for server in _app_servers(request):
        output = server.output()
        start = _checked.get(server.log_path, 0)  # a shared server: earlier tests had their part checked
        _checked[server.log_path] = len(output)
        texts += errors_with_traceback(output[start:])
    unexpected = declared.unexpected(texts)
    if unexpected:
        pytest.fail("server logged an ERROR with a traceback the test does not expect "
                    "(fix it, or declare it with @pytest.mark.expected_error):\n\n" + "\n\n".join(unexpected),
                    pytrace=False)


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres", timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str | None]:
    """A database of this test run's own on the local PostgreSQL server, dropped at the end."""
    name = f"soleil_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
        # this run's database only: a commit doesn't wait for the disk (the suite commits and truncates thousands
        # of times; durability across a crash of the server is no test's business)
        asyncio.run(_pg_admin(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL at {PG_HOST}:{PG_PORT} is unreachable under CI=true: {exc}")
        yield None
        return
    yield f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _migrate(url: str) -> None:
    """Run the migrations into ``url`` with a database object of its own (the app's ``db`` is left alone)."""
    database = Database()
    database.configure(url)
    try:
        await database.migrate()
    finally:
        await database.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the newest schema once per run: each test starts from a copy (the migrations
    themselves are tested on a fresh database in test_migrations.py and by every ``soleil run``)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "soleil.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def pg_migrated(pg_database: str | None) -> str | None:
    """The run's PostgreSQL database, migrated once; each test empties its tables (``_empty_pg``)."""
    if pg_database is not None:
        asyncio.run(_migrate(pg_database))
    return pg_database


async def _empty_pg(url: str) -> None:
    """Every table empty and every id counting from 1 again: a fresh database but for the schema."""
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"), timeout=5)
    try:
        tables = [r["tablename"] for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")]
        if tables:
            await conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """This test's own database, already at the newest schema: a copy of the SQLite template, or the run's
    PostgreSQL database with every table emptied."""
    if request.param == "sqlite":
        shutil.copy(sqlite_template, tmp_path / "soleil.db")
        return f"sqlite+aiosqlite:///{tmp_path / 'soleil.db'}"
    url = request.getfixturevalue("pg_migrated")
    if url is None:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    asyncio.run(_empty_pg(url))
    return url


@pytest.fixture(scope="session")
def demo_library_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated demo library, made once per run (tests copy or point at it read-only)."""
    from soleil_ui.demo_library import generate_demo_library

    target = tmp_path_factory.mktemp("demo-library")
    generate_demo_library(target)
    return target


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Iterator[Settings]:
    """SOLEIL_* for one test: its own data dir and database; demo off unless a test turns it on."""
    for key in [k for k in os.environ if k.startswith("SOLEIL_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("SOLEIL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SOLEIL_DATABASE_URL", database_url)
    monkeypatch.setenv("SOLEIL_SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("SOLEIL_DEMO", "0")
    monkeypatch.setenv("SOLEIL_SYNC_INTERVAL", "0")
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path, demo_library_dir: Path) -> Path:
    """The demo band created and its library synced once per worker, into a SQLite file and a data directory (its
    content-addressed blobs). A SQLite test on the demo band starts from copies instead of seeding and syncing at
    start-up; the seeding itself still runs on PostgreSQL, in tests/test_first_run.py and in every browser test."""
    from tests import demo_seed

    base = tmp_path_factory.mktemp("demo-template")
    (base / "data").mkdir()
    shutil.copy(sqlite_template, base / "data" / "soleil.db")
    env = {**demo_seed.app_env(base, f"sqlite+aiosqlite:///{base / 'data' / 'soleil.db'}", demo_library_dir),
           "SOLEIL_SECRET_KEY": TEST_SECRET_KEY}
    demo_seed.seed(env, "plans", [])
    return base / "data"  # soleil.db and blobs/, as demo_seed.copy_seeded takes them


@pytest.fixture
def demo_env(app_env: Settings, monkeypatch: pytest.MonkeyPatch, demo_library_dir: Path, tmp_path: Path,
             request: pytest.FixtureRequest) -> Settings:
    # only onto a database nothing has opened yet (a fixture set up before this one, ``core``, may hold it: SQLite
    # keeps its -wal and -shm files beside it while open); otherwise the band is seeded at start-up as before
    if app_env.database_url.startswith("sqlite") and not (tmp_path / "soleil.db-wal").exists():
        from tests import demo_seed

        demo_seed.copy_seeded(request.getfixturevalue("demo_template"), tmp_path / "soleil.db", tmp_path / "data")
    monkeypatch.setenv("SOLEIL_DEMO", "1")
    monkeypatch.setenv("SOLEIL_LIBRARY_DIR", str(demo_library_dir))
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture
async def core(app_env: Settings) -> AsyncIterator[runtime.Runtime]:
    """The core configured on the test's database, migrated, with no UI: what services and the CLI see."""
    rt = runtime.configure(get_settings())
    await db.migrate()
    yield rt
    rt.renderer.close()
    rt.engraver.close()
    await db.dispose()


ROOT = Path(__file__).resolve().parents[1]
WATCHED = tuple(str(ROOT / d) for d in ("components", "pages", "soleil_ui/events.py", "soleil_ui/services"))
# Our loops that live as long as the app, and the pre-rendering a sync leaves running in the background
ENDLESS = {"touch", "_watch", "_send_loop", "_listen", "_prerender"}


def _ours(task: asyncio.Task[object]) -> bool:
    """A task doing work a tap or a page started: a navigation, a handler, a publish, a page's refresh; not an
    app-long loop. NiceGUI runs handlers inside wrappers of its own, so follow the chain of awaited coroutines (and
    a wrapper's not yet started ``awaitable``) looking for our code."""
    if task.get_name().startswith("navigate"):
        return True
    coro: object = task.get_coro()
    for _ in range(20):
        code = getattr(coro, "cr_code", None)
        if code is None:
            return False
        if code.co_filename.startswith(WATCHED):
            return code.co_name not in ENDLESS
        frame = getattr(coro, "cr_frame", None)
        coro = getattr(coro, "cr_await", None) or (frame.f_locals.get("awaitable") if frame else None)
    return False


async def settle() -> None:
    """Wait until the work the last tap or page load started is done (navigations, handlers, the hub's deliveries,
    pages' in-place refreshes): awaited, not timed."""
    me = asyncio.current_task()
    pending: list[asyncio.Task[object]] = []
    for _ in range(10):
        pending = [t for t in asyncio.all_tasks() if t is not me and not t.done() and _ours(t)]
        if not pending:
            return
        await asyncio.wait(pending, timeout=10)
    raise AssertionError(f"still busy: {[t.get_name() for t in pending]}")


def settling(simulated: User) -> None:
    """``should_see``/``should_not_see`` look once the page's work in flight is done, so neither depends on how
    fast this machine is (NiceGUI's own retries only span 0.3 s)."""
    for name in ("should_see", "should_not_see"):
        check = getattr(simulated, name)

        async def settled_check(*args: object, __check: object = check, **kwargs: object) -> None:
            await settle()
            await __check(*args, **kwargs)  # type: ignore[operator]

        setattr(simulated, name, settled_check)


@pytest.fixture
async def user(app_env: Settings, caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest
               ) -> AsyncIterator[User]:
    """NiceGUI's simulated user, running main.py against this test's database (overrides the plugin's)."""
    try:
        async with user_simulation(main_file=get_path_to_main_file(request)) as simulated:
            await asyncio.wait_for(runtime.get_runtime().started.wait(), timeout=60)  # migrations, demo seeding
            settling(simulated)
            yield simulated
    finally:  # the app is stopped and reset before anything fails: a failed test never leaves NiceGUI "started"
        runtime.get_runtime().renderer.close()
        runtime.get_runtime().engraver.close()
        hub.reset()
        await db.dispose()
    errors = [r for r in caplog.get_records("call") if r.levelname == "ERROR"]
    if errors:
        pytest.fail(f"unexpected ERROR logs: {[r.getMessage() for r in errors]}", pytrace=False)


def copy_fixture_charts(target: Path, *names: str) -> Path:
    """Copy real engraved charts from tests/fixtures/charts into a library folder for a test."""
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(FIXTURES / "charts" / name, target / name)
    return target


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """An S3-compatible server on 127.0.0.1 (moto's, in a thread of this run): the endpoint URL. Test subprocesses
    (``soleil run`` servers) reach it over HTTP like any S3 service."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_env(app_env: Settings, monkeypatch: pytest.MonkeyPatch, s3_server: str) -> Settings:
    """``app_env`` with the object store on: a bucket of this test's own (created by the first upload)."""
    monkeypatch.setenv("SOLEIL_S3_ENDPOINT", s3_server)
    monkeypatch.setenv("SOLEIL_S3_BUCKET", f"soleil-{uuid.uuid4().hex[:12]}")
    monkeypatch.setenv("SOLEIL_S3_ACCESS_KEY", "testing")
    monkeypatch.setenv("SOLEIL_S3_SECRET_KEY", "testing")
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, app_env: Settings, tmp_path: Path) -> Iterator[FakeDrive]:
    """The fake Drive over HTTP as the band's Drive: SOLEIL_* point the app at it, with its service account
    ``band-sync@…`` (small pages, so listing pages through; quick retries)."""
    from tests.fakes.drive_server import FakeDrive  # local: the Google client libraries only for the tests that use it

    with FakeDrive(page_size_cap=3) as drive:
        key = drive.create_service_account(tmp_path, name="band-sync")
        monkeypatch.setenv("SOLEIL_GOOGLE_SERVICE_ACCOUNT_FILE", str(key))
        monkeypatch.setenv("SOLEIL_DRIVE_API_ENDPOINT", drive.base_url)
        monkeypatch.setenv("SOLEIL_DRIVE_RETRY_BASE_DELAY", "0.01")
        get_settings.cache_clear()
        yield drive
