"""Where a band's library comes from: connecting a Drive folder (or a local folder under the server's data).

A source belongs to one band alone; only its leaders see or change it. A Drive grant (a leader's refresh
token) is stored encrypted; switching folders starts the next sync from a full listing.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..access import Actor
from ..errors import InvalidInput
from ..models import LibrarySource
from ..runtime import get_runtime
from ..sources.drive import parse_folder_id


async def current_source(session: AsyncSession, actor: Actor) -> LibrarySource | None:
    actor.require_leader()
    return (await session.exec(select(LibrarySource).where(LibrarySource.band_id == actor.band_id))).first()


async def _upsert(session: AsyncSession, actor: Actor, kind: str, location: str,
                  credentials_enc: str | None) -> LibrarySource:
    record = await current_source(session, actor)
    if record is None:
        record = LibrarySource(band_id=actor.band_id, kind=kind, location=location)
    if (record.kind, record.location) != (kind, location):
        record.state, record.last_sync_at, record.last_error = {}, None, None
    record.kind, record.location, record.credentials_enc = kind, location, credentials_enc
    session.add(record)
    await session.flush()
    return record


async def connect_drive(session: AsyncSession, actor: Actor, folder: str, *, refresh_token: str | None = None,
                        token_uri: str | None = None) -> LibrarySource:
    """Use a Drive folder (link or id). With ``refresh_token`` the leader's own consent is used; without it,
    the server's service account (the folder must be shared with its email)."""
    folder_id = parse_folder_id(folder)
    grant = None
    if refresh_token:
        if not token_uri:
            raise InvalidInput("The Google sign-in didn't say where to refresh access; try connecting again.")
        grant = get_runtime().secrets.encrypt(json.dumps({"type": "user", "refresh_token": refresh_token,
                                                          "token_uri": token_uri}))
    elif not get_runtime().settings.google_service_account_file:
        existing = await current_source(session, actor)
        if existing is None or existing.kind != "drive" or not existing.credentials_enc:
            raise InvalidInput("Connect with your Google account, or ask the server's operator to set up a "
                               "service account.")
        grant = existing.credentials_enc  # keep the leader's earlier consent for a new folder
    return await _upsert(session, actor, "drive", folder_id, grant)


def _local_folder(folder: str) -> Path:
    settings = get_runtime().settings
    allowed = [settings.data_dir.resolve()] + ([settings.library_dir.resolve()] if settings.library_dir else [])
    path = Path(folder.strip()).expanduser()
    path = (settings.data_dir / path if not path.is_absolute() else path).resolve()
    if not any(path.is_relative_to(root) for root in allowed):
        raise InvalidInput(f"A local library must be a folder under the server's data folder ({allowed[0]}).")
    if not path.is_dir():
        raise InvalidInput("That folder doesn't exist on the server.")
    return path


async def connect_local(session: AsyncSession, actor: Actor, folder: str) -> LibrarySource:
    """A folder on the server, which must lie under its data dir (a band can't read the rest of the disk)."""
    actor.require_leader()
    path = await asyncio.to_thread(_local_folder, folder)
    return await _upsert(session, actor, "local", str(path), None)
