"""The leader's library screen, for the acting member: where the charts come from, and syncing them now.

Each entry point checks the role itself, so the screen that calls it decides nothing (``sync_configured`` and
``progress_of`` stay band-level: the schedule and ``soleil sync`` call them with no member).
"""

from __future__ import annotations

from ..access import Actor
from ..db import db
from ..models import LibrarySource
from . import library_source
from .sync import SyncProgress, progress_of, sync_configured


async def sync_progress(actor: Actor) -> SyncProgress:
    actor.require_leader()
    return await progress_of(actor.band_id)


async def sync_now(actor: Actor) -> SyncProgress:
    """Sync my band's library from its connected folder (leaders only)."""
    actor.require_leader()
    return await sync_configured(actor.band_id)


def verification_file_name(actor: Actor) -> str:
    """The file whose presence proves a Drive folder is my band's (shown to leaders only)."""
    actor.require_leader()
    return library_source.verification_file_name(actor.band_id)


async def current_source(actor: Actor) -> LibrarySource | None:
    async with db.session() as session:
        return await library_source.current_source(session, actor)


async def connect_drive(actor: Actor, folder: str) -> LibrarySource:
    async with db.session() as session:
        return await library_source.connect_drive(session, actor, folder)


async def verify_drive(actor: Actor) -> LibrarySource:
    async with db.session() as session:
        return await library_source.verify_drive(session, actor)
