"""Composition root: the one module that imports ``pages`` and builds the app.

``soleil run`` (the console script ``main:cli``), ``python main.py`` and NiceGUI's test ``User`` fixture
(which executes this file) all come through here. Everything below ``pages`` is importable without it.
"""

from __future__ import annotations

import warnings

import authlib.deprecate

# authlib 1.9 forces its deprecation warnings to "always" when imported and then warns about its own httpx
# module on import; that is noise for operators and breaks the one line `soleil` prints on a start-up error.
warnings.filterwarnings("ignore", category=authlib.deprecate.AuthlibDeprecationWarning)

import asyncio
import gc
import logging
import signal
import sys
import time

from nicegui import app, background_tasks, helpers, ui
from starlette.middleware.sessions import SessionMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

import components.design
import components.errors
from components import live_room
from components.protect import ProtectMiddleware, SecureCookiesMiddleware
from pages import (
    annotations,
    api,
    auth_google,
    bands,
    calendar,
    drive_consent,
    gigs,
    health,
    home,
    join,
    library,
    library_files,
    login,
    media,
    members,
    profile,
    pwa,
    setlists,
    song,
    stand,
    welcome,
)
from soleil_ui import cli as core_cli
from soleil_ui import events, ratelimit, runtime
from soleil_ui.db import db
from soleil_ui.settings import Settings, get_settings

log = logging.getLogger("soleil")
PAGES = [health, login, auth_google, join, welcome, profile, members, bands, home, library, library_files,
         drive_consent, song, stand, setlists, gigs, media, calendar, pwa, api, annotations]


# Phones sleep and venue Wi-Fi flaps. A page whose socket drops keeps its server state (and NiceGUI's history of the
# messages it missed, replayed on reconnect) for SOLEIL_RECONNECT_TIMEOUT, so a phone that slept two minutes carries on
# with no reload; after longer, NiceGUI reloads the page and the stand reopens at the reader's song and page. The
# heartbeat (SOLEIL_PING_INTERVAL + SOLEIL_PING_TIMEOUT; NiceGUI would derive 96 s + 48 s from the window) finds a
# silently dead link on both ends. Meanwhile the stand works on in the browser (components/static/stand.js) and shows
# how old its news is.
LANGUAGE = "en-US"  # the language every page is written in (members have no language setting; the UI is English)
MESSAGE_HISTORY = 1000  # messages kept per page for the replay; a busier outage reloads the page instead


def _tune_heartbeat(settings: Settings) -> None:
    from nicegui import core

    core.sio.eio.ping_interval, core.sio.eio.ping_timeout = settings.ping_interval, settings.ping_timeout


async def _startup() -> None:
    """Runs as a background task (NiceGUI doesn't await start-up handlers); sets ``runtime.started`` when done."""
    rt = runtime.get_runtime()
    settings = rt.settings
    _tune_heartbeat(settings)  # after NiceGUI set its own, before pages connect
    try:
        await db.migrate()
        events.configure_hub(settings.resolved_database_url)  # LISTEN/NOTIFY between instances on PostgreSQL
        live_room.install()  # each instance passes the leader's calls to its own sockets, once per live setlist
        await events.hub.start()
        if settings.demo_enabled:
            from soleil_ui.demo import ensure_demo

            await ensure_demo(settings)
    finally:
        rt.started.set()
    print(f"SOLEil is ready on {listening_on(settings)}", flush=True)  # the line a newcomer looks for
    background_tasks.create(_prune_caches(), name="page cache pruning")
    background_tasks.create(_release_memory(), name="memory back to the system")
    if settings.sync_interval:
        background_tasks.create(_scheduled_sync(settings.sync_interval), name="scheduled library sync")


async def _warm_start() -> None:
    """The real server only (not the test harness): start the renderer's worker processes now rather than on the
    first chart after a restart, then tune the garbage collector over the settled start-up heap."""
    rt = runtime.get_runtime()
    try:
        await rt.renderer.start()
    except Exception:  # a chart would start the pool again; the server works without this head start
        log.warning("could not start the page renderer's workers", exc_info=True)
    await rt.started.wait()
    if rt.settings.gc_tuning:
        runtime.tune_collector()


async def _prune_caches() -> None:
    """Keep rendered pages and engraved parts within their disk budgets, least recently used first, and remove stored
    files no chart uses any more, once an hour."""
    while True:
        try:
            freed = await asyncio.to_thread(runtime.get_runtime().prune_caches)
            if freed:
                log.info("page caches pruned: %.1f MB freed", freed / 1e6)
        except OSError:
            log.warning("could not prune the page caches", exc_info=True)
        try:
            if removed := await runtime.get_runtime().collect_blobs():
                log.info("stored files no chart or track uses any more: %d removed", removed)
        except Exception:  # a database or disk hiccup: try again next hour
            log.warning("could not collect unused stored files", exc_info=True)
        try:
            await ratelimit.get_limiter().sweep()  # finished rate-limit windows in the database storage
        except Exception:
            log.warning("could not sweep the rate-limit table", exc_info=True)
        await asyncio.sleep(3600)


async def _release_memory() -> None:
    """Every minute, collect what the pages NiceGUI pruned left in reference cycles and hand the heap's free pages
    back to the system. A page's cycles outlive its client long enough to reach the oldest generation, which Python
    collects rarely: under a gig's load they piled up into one ~10 s pause (bench soak); a minute's worth is short."""
    while True:
        await asyncio.sleep(60)
        started = time.perf_counter()
        gc.collect()
        log.debug("collected in %.0f ms", (time.perf_counter() - started) * 1000)
        await asyncio.to_thread(runtime.release_memory)


async def _scheduled_sync(interval: int) -> None:
    from soleil_ui.services.sync import sync_all

    while True:
        await asyncio.sleep(interval)
        try:
            from soleil_ui.services.live import sync_leadership

            async with sync_leadership() as leading:  # one instance syncs; the others skip this turn
                if leading:
                    await sync_all()
        except Exception:
            log.exception("scheduled library sync failed")


async def _shutdown() -> None:
    await api.shutdown()
    live_room.uninstall()
    await events.hub.stop()
    runtime.end_workers()
    await db.dispose()


def _session_cookie(settings: Settings) -> dict[str, object]:
    https = bool(settings.tls_cert) or settings.public_url.startswith("https://")
    return {"secret_key": settings.effective_secret_key(), "same_site": "lax", "https_only": https,
            "max_age": 60 * 24 * 3600}


def _middleware(settings: Settings) -> None:
    """Outermost last: the trusted proxy's headers first, then Secure cookies, the session, headers and bounds.

    The session middleware is added here rather than by ``ui.run`` so the Secure-cookie wrapper can sit outside it;
    NiceGUI then only adds its request tracking inside. Forwarded headers count only from SOLEIL_TRUSTED_PROXIES
    (uvicorn's own proxy handling is off, see ``serve``).
    """
    app.add_middleware(ProtectMiddleware)
    app.add_middleware(SessionMiddleware, **_session_cookie(settings))  # type: ignore[arg-type]
    app.add_middleware(SecureCookiesMiddleware)
    if settings.trusted_proxy_list:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxy_list)
def listening_on(settings: Settings) -> str:
    """Where to point a browser, said the way a newcomer can use it."""
    scheme = "https" if settings.tls_cert else "http"
    if settings.host in ("0.0.0.0", "::", ""):  # noqa: S104 — describing the bind, not binding
        return f"{scheme}://127.0.0.1:{settings.port} and port {settings.port} of every address of this machine"
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"{scheme}://{host}:{settings.port}"


def _exit_on_sigterm(_signum: int, _frame: object) -> None:
    """Uvicorn shuts down gracefully on SIGTERM and then raises it again: exit like Ctrl+C does, through ``finally``
    blocks, so ``serve`` can end the worker processes instead of dying with them still running."""
    raise SystemExit(0)  # a stop that was asked for and completed


def build(settings: Settings) -> None:
    """Register routes, pages and lifecycle hooks on NiceGUI's app."""
    components.errors.install()
    components.design.install()
    _middleware(settings)
    lifespan = app.router.lifespan_context
    for module in PAGES:
        app.include_router(module.router)
    # FastAPI wraps the app's lifespan around each included router's (ours have none). The test harness rebuilds
    # the one app for every test, so those empty wrappers would pile up until the recursion limit: keep the app's.
    app.router.lifespan_context = lifespan
    app.on_startup(_startup)
    app.on_shutdown(_shutdown)


def serve(settings: Settings) -> None:
    build(settings)
    if helpers.is_user_simulation():  # NiceGUI's User fixture: nothing is served, the test owns the runtime
        _run_ui(settings)
        return
    app.on_startup(_warm_start)
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        _run_ui(settings)
    finally:
        # Whatever signals arrived, in whatever order: no worker outlives the server. A further Ctrl+C or SIGTERM
        # must not cut this short, so both wait until the workers are gone.
        interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            runtime.end_workers()
        finally:
            signal.signal(signal.SIGINT, interrupt)
            signal.signal(signal.SIGTERM, previous)


def _run_ui(settings: Settings) -> None:
    ui.run(
        host=settings.host,
        port=settings.port,
        title="SOLEil",
        language=LANGUAGE,  # <html lang>: screen readers pick their voice by it
        favicon="☀️",
        reload=False,
        show=False,
        storage_secret=settings.effective_secret_key(),
        proxy_headers=False,  # forwarded headers are trusted only from SOLEIL_TRUSTED_PROXIES (see _middleware)
        ssl_certfile=str(settings.tls_cert) if settings.tls_cert else None,
        ssl_keyfile=str(settings.tls_key) if settings.tls_key else None,
        reconnect_timeout=settings.reconnect_timeout,  # see above
        message_history_length=MESSAGE_HISTORY,
        show_welcome_message=False,
    )


def cli() -> None:
    """Entry point of the ``soleil`` console script."""
    sys.exit(core_cli.main(serve=serve))


if __name__ == "__main__":  # `python main.py`, and NiceGUI's User fixture, which runs this file
    _settings = get_settings()
    core_cli.configure_logging(_settings.log_level)
    runtime.configure(_settings)
    serve(_settings)
