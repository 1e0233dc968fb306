"""Liveness and readiness for load balancers and the container HEALTHCHECK."""

from __future__ import annotations

import logging
import os
import socket

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from soleil_ui.db import db, head_revision
from soleil_ui.runtime import get_runtime

router = APIRouter()
log = logging.getLogger(__name__)
HEAD = head_revision()
INSTANCE = f"{socket.gethostname()}:{os.getpid()}"


@router.get("/healthz")
async def healthz() -> JSONResponse:
    """The process is alive and serving HTTP; ``instance`` tells instances apart behind a proxy (stickiness checks)."""
    return JSONResponse({"status": "ok", "instance": INSTANCE})


@router.get("/readyz")
async def readyz() -> JSONResponse:
    """Ready for traffic: start-up work is done, the database answers and its schema is the newest."""
    if not get_runtime().started.is_set():
        return JSONResponse({"status": "unavailable", "reason": "starting"}, status_code=503)
    try:
        await db.ping()
        revision = await db.current_revision()
    except Exception as exc:
        log.warning("readiness check failed: %s", type(exc).__name__)
        return JSONResponse({"status": "unavailable", "reason": "database unreachable"}, status_code=503)
    if revision != HEAD:
        reason = f"database schema at {revision}, expected {HEAD}; run `soleil migrate`"
        return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
    return JSONResponse({"status": "ready", "revision": revision})


@router.get("/healthz/metrics")
async def metrics() -> JSONResponse:
    """This instance's work counters (renders, not cache hits): summed over instances they show that a page and
    width is rendered once however many instances serve it (tests and bench read them)."""
    rt = get_runtime()
    shared = getattr(rt.blobs, "shared_pages", None)
    return JSONResponse({"renders": rt.renderer.renders, "engravings": rt.engraver.engravings,
                         "shared_fetches": shared.fetches if shared is not None else 0})
