"""Liveness and readiness for load balancers and the container HEALTHCHECK."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from soleil_ui.db import db, head_revision
from soleil_ui.runtime import get_runtime

router = APIRouter()
log = logging.getLogger(__name__)
HEAD = head_revision()


@router.get("/healthz")
async def healthz() -> JSONResponse:
    """The process is alive and serving HTTP."""
    return JSONResponse({"status": "ok"})


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
