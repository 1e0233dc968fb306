"""Where a band's library comes from: connecting a Drive folder (a local folder is set up by the demo only).

A source belongs to one band alone; only its leaders see or change it. A Drive grant (a leader's refresh
token) is stored encrypted; switching folders starts the next sync from a full listing.

**A Drive folder must be proven to be the band's.** The server's service account is shared by every band on the
server, so that it can read a folder proves nothing: a former member who kept a folder link, leading another band
here, could otherwise sync the whole library. A folder connected through the service account is proven one of two
ways:

* ``leader``: the leader's own Google account can see the folder. SOLEil asks for the read-only *metadata* scope for
  this one look (``pages/drive_consent.py``) and keeps nothing;
* ``file``: the leader puts a file named ``soleil-verify-<code>.txt`` in the folder. The code is an HMAC of the band id
  under the server's secret (``verification_code``): stable for the band, unguessable for anyone else, and only
  someone who may write into the folder can place it.

Connecting with the leader's own Drive grant (``drive.readonly``) is proof by itself (``account``): SOLEil then reads
with the leader's own rights. Whatever the proof, a folder that is, lies inside or holds another band's folder is
refused with a neutral message that doesn't reveal that band (the ancestry Drive reports through ``parents`` is kept
for this, and each band's synced folder tree). Connections made before proofs existed keep syncing; their leaders are
asked to verify (``needs_verification``). Any other Google file a band reads later (say, a spreadsheet to import) must
lie inside the band's verified folder: ``ensure_readable_by_band``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..access import Actor
from ..errors import Conflict, Forbidden, InvalidInput
from ..models import LibrarySource, utcnow
from ..runtime import get_runtime
from ..security import derive_key
from ..sources.drive import DriveAccessError, DriveSource, FolderFacts, access_token_credentials, parse_folder_id
from ..sources.factory import (
    drive_source,
    service_account_email,
    service_account_source,
    stored_grant_source,
    uses_own_grant,
)

log = logging.getLogger(__name__)

PROOF_ACCOUNT, PROOF_LEADER, PROOF_FILE = "account", "leader", "file"
IN_USE = ("That folder can't be connected: it, a folder inside it or a folder around it is already connected to "
          "SOLEil on this server. Choose another folder, or ask the server's operator.")
_LEADER_CANT_SEE = ("The Google account you chose can't see that folder, so it can't show the folder is the band's. "
                    "Choose the account that owns the folder, or use the verification file.")


def verification_code(band_id: int) -> str:
    """The band's code for its verification file: stable, and unguessable without the server's secret."""
    key = derive_key(get_runtime().settings.effective_secret_key(), "drive-folder-proof")
    return hmac.new(key, f"band:{band_id}".encode(), hashlib.sha256).hexdigest()[:20]


def verification_file_name(band_id: int) -> str:
    return f"soleil-verify-{verification_code(band_id)}.txt"


def needs_verification(record: LibrarySource | None) -> bool:
    """A Drive folder connected before proofs existed: it keeps syncing, and its leader is asked to verify it."""
    return record is not None and record.kind == "drive" and record.verified_at is None


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
        record.proof, record.verified_at, record.ancestry = None, None, []
    record.kind, record.location, record.credentials_enc = kind, location, credentials_enc
    session.add(record)
    await session.flush()
    return record


async def connect_drive(session: AsyncSession, actor: Actor, folder: str, *, refresh_token: str | None = None,
                        token_uri: str | None = None, access_token: str | None = None) -> LibrarySource:
    """Use a Drive folder (link or id), once it is proven to be the band's.

    * ``refresh_token`` (and ``token_uri``): the leader's own ``drive.readonly`` consent; SOLEil reads with it, which
      is proof by itself (``access_token``, if given, is the same grant's fresh token, used for the first look);
    * ``access_token`` alone: the leader's own account, with the metadata scope, sees the folder; the service
      account reads it;
    * neither: the service account reads it, and the band's verification file must be in it.
    """
    actor.require_leader()
    folder_id = parse_folder_id(folder)
    settings = get_runtime().settings
    grant: str | None = None
    if refresh_token:
        if not token_uri:
            raise InvalidInput("The Google sign-in didn't say where to refresh access; try connecting again.")
        grant = get_runtime().secrets.encrypt(json.dumps({"type": "user", "refresh_token": refresh_token,
                                                          "token_uri": token_uri}))
        source = _grant_source(folder_id, grant, access_token)
        facts, proof = await _look(source, _LEADER_CANT_SEE, below=True), PROOF_ACCOUNT
    elif not settings.google_service_account_file:
        existing = await current_source(session, actor)
        if existing is None or not uses_own_grant(existing) or not existing.credentials_enc:
            raise InvalidInput("Connect with your Google account, or ask the server's operator to set up a "
                               "service account.")
        grant = existing.credentials_enc  # keep the leader's earlier consent for a new folder
        facts, proof = await _look(_grant_source(folder_id, grant), _LEADER_CANT_SEE, below=True), PROOF_ACCOUNT
    else:
        service = service_account_source(folder_id)
        if access_token:
            await _look(service, _share_first())
            facts = await _look(drive_source(folder_id, access_token_credentials(access_token)), _LEADER_CANT_SEE,
                                below=True)
            proof = PROOF_LEADER
        else:
            facts = await _look(service, _share_first(), below=True)
            await _require_verification_file(service, actor)
            proof = PROOF_FILE
    await _refuse_if_used_elsewhere(session, actor, facts, only_verified=False)
    record = await _upsert(session, actor, "drive", folder_id, grant)
    _mark_proven(record, proof, facts)
    session.add(record)
    await session.flush()
    log.info("band %s connected Drive folder %s (proof: %s)", actor.band_id, folder_id, proof)
    return record


async def verify_drive(session: AsyncSession, actor: Actor, *, access_token: str | None = None) -> LibrarySource:
    """Prove the band's connected Drive folder is its own (a connection made before proofs existed): with the
    leader's account (``access_token``, metadata scope), or by reading it with the band's own grant, or by the
    verification file. Only another band's *proven* folder refuses it: two old connections to one folder must not
    block each other, and the band that proves it first keeps it."""
    record = await current_source(session, actor)
    if record is None or record.kind != "drive":
        raise InvalidInput("Connect the band's Drive folder first.")
    if access_token:
        facts = await _look(drive_source(record.location, access_token_credentials(access_token)),
                            _LEADER_CANT_SEE, below=True)
        proof = PROOF_LEADER
    else:
        if not uses_own_grant(record) and not get_runtime().settings.google_service_account_file:
            raise InvalidInput("SOLEil has no way to open the folder: connect it with your Google account.")
        source = stored_grant_source(record.location, record.credentials_enc)
        if uses_own_grant(record):
            facts, proof = await _look(source, _LEADER_CANT_SEE, below=True), PROOF_ACCOUNT
        else:
            facts = await _look(source, _share_first(), below=True)
            await _require_verification_file(source, actor)
            proof = PROOF_FILE
    await _refuse_if_used_elsewhere(session, actor, facts, only_verified=True)
    _mark_proven(record, proof, facts)
    session.add(record)
    await session.flush()
    log.info("band %s verified its Drive folder %s (proof: %s)", actor.band_id, record.location, proof)
    return record


async def ensure_readable_by_band(session: AsyncSession, actor: Actor, file_id: str) -> None:
    """Refuse (``Forbidden``) unless the Drive file ``file_id`` lies inside the band's *verified* folder.

    For any Google file a band reads besides its synced library (a spreadsheet to import, …): the service account
    could read other bands' files too. "Inside" follows the file's real ``parents`` up to the band's folder (a
    shortcut in the folder to a file elsewhere doesn't count). Blocking Drive calls run in a thread.
    """
    record = (await session.exec(select(LibrarySource).where(LibrarySource.band_id == actor.band_id))).first()
    if record is None or record.kind != "drive" or record.verified_at is None:
        raise Forbidden("SOLEil reads Google files only from the band's verified Drive folder. A leader needs to "
                        "connect and verify that folder first (Library files).")
    source = stored_grant_source(record.location, record.credentials_enc)
    if file_id != record.location and record.location not in await asyncio.to_thread(source.ancestry_of, file_id):
        log.warning("band %s asked to read Drive file %s, which is outside its folder %s; refused",
                    actor.band_id, file_id, record.location)
        raise Forbidden("That Google file isn't in the band's Drive folder, so SOLEil won't read it for this band. "
                        "Move it into the band's folder first.")


async def foreign_folders(session: AsyncSession, band_id: int) -> frozenset[str]:
    """Drive folders other bands have proven theirs (each folder and every folder their sync found below it): the
    band's sync never reads them, whether they sit below its own folder or a shortcut in it points there. Another
    band's *unproven* connection doesn't count, so old connections keep syncing until one band proves the folder."""
    others = (await session.exec(select(LibrarySource).where(
        LibrarySource.kind == "drive", LibrarySource.band_id != band_id,
        col(LibrarySource.verified_at).is_not(None)))).all()
    return frozenset().union(*(_tree(other) for other in others))


def _grant_source(folder_id: str, grant_enc: str, access_token: str | None = None) -> DriveSource:
    if access_token:
        return drive_source(folder_id, access_token_credentials(access_token))
    return stored_grant_source(folder_id, grant_enc)


def _share_first() -> str:
    email = service_account_email()
    how = f"share it (Viewer is enough) with {email}" if email else "share it with SOLEil's service account"
    return f"SOLEil can't open that folder. In Google Drive, {how}, then connect again."


async def _look(source: DriveSource, cant_see: str, *, below: bool = False) -> FolderFacts:
    """The folder's facts through ``source``'s credentials; "can't see it" becomes ``cant_see`` (a 403)."""
    try:
        return await asyncio.to_thread(source.folder_facts, with_subfolders=below)
    except DriveAccessError as exc:
        log.info("Drive folder %s not visible to the credentials tried: %s", source.folder_id, exc.detail)
        raise Forbidden(cant_see, detail=exc.detail) from exc


async def _require_verification_file(source: DriveSource, actor: Actor) -> None:
    name = verification_file_name(actor.band_id)
    if not await asyncio.to_thread(source.has_file_named, name):
        log.info("band %s: no verification file in Drive folder %s", actor.band_id, source.folder_id)
        raise InvalidInput(f"SOLEil can open the folder, but nothing shows it is this band's yet. Put a file named "
                           f"{name} in the folder itself (an empty file is enough; not in a subfolder), then try "
                           f"again. Or verify with your Google account.")


def _mark_proven(record: LibrarySource, proof: str, facts: FolderFacts) -> None:
    record.proof, record.verified_at, record.ancestry = proof, utcnow(), list(facts.ancestry)


def _tree(record: LibrarySource) -> set[str]:
    """A band's folder and every folder its sync found really below it. Folders reached through a shortcut (and what
    lies below them) are left out: a shortcut to someone else's folder doesn't make it yours."""
    drive = (record.state or {}).get("drive") or {}
    folders: dict[str, list[str]] = drive.get("folders") or {}
    linked = set(drive.get("linked") or []) - {record.location}
    own: dict[str, bool] = {record.location: True}

    def is_own(folder_id: str) -> bool:
        chain: list[str] = []
        while folder_id not in own:
            if folder_id in linked or folder_id not in folders or folder_id in chain:
                own[folder_id] = False
                break
            chain.append(folder_id)
            folder_id = folders[folder_id][0]
        for seen in chain:
            own[seen] = own[folder_id]
        return own[chain[0]] if chain else own[folder_id]

    return {f for f in folders if is_own(f)} | {record.location}


async def _refuse_if_used_elsewhere(session: AsyncSession, actor: Actor, facts: FolderFacts, *,
                                    only_verified: bool) -> None:
    """``Conflict`` if the folder is, lies inside, or holds another band's Drive folder, checked both ways: through
    the ancestry Drive showed for each folder and the folder trees seen below each."""
    others = (await session.exec(select(LibrarySource).where(LibrarySource.kind == "drive",
                                                             LibrarySource.band_id != actor.band_id))).all()
    for other in others:
        if only_verified and other.verified_at is None:
            continue
        inside = facts.id in _tree(other) or other.location in facts.ancestry
        around = facts.id in (other.ancestry or []) or other.location in facts.below
        if inside or around:
            log.warning("band %s asked to connect Drive folder %s, which %s band %s's folder %s; refused",
                        actor.band_id, facts.id, "is or lies inside" if inside else "holds", other.band_id,
                        other.location)
            raise Conflict(IN_USE)


