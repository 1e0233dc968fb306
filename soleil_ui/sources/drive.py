"""Google Drive as a chart source: a band's shared folder, listed recursively and followed through the changes feed.

Every call here blocks on HTTP (httplib2 under google-api-python-client): callers run them in a worker thread
(``asyncio.to_thread``), never on the event loop. One ``DriveSource`` may be shared by many threads: httplib2 is
not thread-safe, so each thread gets its own connection and client (``threading.local``), and a semaphore shared
by every ``DriveSource`` of the same folder caps the band's requests in flight, to stay within Drive's quota.

Failures become domain errors with plain-words messages: Google being busy or slow (429, 5xx, rate-limit 403s,
timeouts) is retried with truncated exponential backoff and full jitter, then ``UpstreamUnavailable``; a revoked
grant or an unshared folder is a ``DriveAccessError`` the band leader has to act on.
"""

from __future__ import annotations

import io
import logging
import random
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

import google.oauth2.credentials
import google_auth_httplib2
import httplib2
from google.auth.credentials import Credentials
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaIoBaseDownload

from ..errors import BrokenFile, ConfigError, Forbidden, InvalidInput, NotFound, SoleilError, UpstreamUnavailable
from .base import SourceFile

log = logging.getLogger(__name__)

SCOPE = "https://www.googleapis.com/auth/drive.readonly"
METADATA_SCOPE = "https://www.googleapis.com/auth/drive.metadata.readonly"  # proves a leader sees a folder
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 - a public URL
FOLDER = "application/vnd.google-apps.folder"
SHORTCUT = "application/vnd.google-apps.shortcut"
GOOGLE_DOC = "application/vnd.google-apps.document"
GOOGLE_APPS = "application/vnd.google-apps."
PDF = "application/pdf"

_FILE_FIELDS = "id, name, mimeType, size, md5Checksum, modifiedTime, version, parents, shortcutDetails"
_LIST_FIELDS = f"nextPageToken, files({_FILE_FIELDS})"
_CHANGE_FIELDS = f"nextPageToken, newStartPageToken, changes(fileId, removed, file({_FILE_FIELDS}, trashed))"
_ROOT_FIELDS = "id, name, mimeType, trashed, parents"
VERIFICATION_FILE = re.compile(r"soleil-verify-[0-9a-f]+\.txt")  # see services/library_source.py
_MAX_DEPTH = 64  # folders above a band folder we follow, and levels below it we look into, at most
_MAX_SUBFOLDERS = 5000
_RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
_BUSY = (
    "Google Drive is busy or not answering right now. SOLEil will try again later; charts already synced still work."
)
_REVOKED = (
    "SOLEil can no longer open the band's Google Drive: the connection was revoked or has expired. "
    "The band leader needs to reconnect Google Drive in the band settings."
)
_DENIED = (
    "Google Drive refused access to a file in the band's folder. Check that the folder is still shared with SOLEil."
)

T = TypeVar("T")


# --------------------------------------------------------------------------------------------------------------
# Public value types.


class DriveAccessError(Forbidden):
    """SOLEil lost access to the band's Drive; only a person can fix it, so retrying is pointless.

    ``reason`` is ``"revoked"`` (reconnect Drive), ``"unshared"`` (share the folder again) or ``"denied"``.
    """

    def __init__(self, user_message: str, *, reason: str, detail: str | None = None) -> None:
        super().__init__(user_message, detail=detail)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Truncated exponential backoff with full jitter, as Google advises for 429, 5xx and rate-limit 403s."""

    max_tries: int = 5
    base_delay: float = 1.0
    max_delay: float = 32.0

    def delay(self, failures: int, rng: random.Random) -> float:
        """Seconds to wait after ``failures`` consecutive failures: uniform in [0, min(max, base·2^(failures-1))]."""
        return rng.uniform(0, min(self.max_delay, self.base_delay * 2 ** (failures - 1)))


@dataclass(slots=True)
class DriveState:
    """What one band's Drive sync must remember between polls; store ``to_dict()`` (plain JSON) per band.

    * ``page_token``: where the changes feed continues.
    * ``folders``: every folder of the tree, id → (parent id, name); the root is ``("", "")``. Folder names of a
      file come from here, and a change to a file only counts if its parent is one of these.
    * ``files``: every file listed, ``SourceFile.id`` → id of the folder it is in. The feed reports a folder moved
      out of the tree as one change, so this is how we know which files left with it.
    * ``linked``: ids of shortcuts in the tree and of their targets. A shortcut can pull in anything, so a change
      to one of these makes the next poll list the whole tree again instead of patching it.
    """

    root_id: str
    page_token: str
    folders: dict[str, tuple[str, str]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    linked: set[str] = field(default_factory=set)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "root_id": self.root_id,
            "page_token": self.page_token,
            "folders": {k: list(v) for k, v in self.folders.items()},
            "files": dict(self.files),
            "linked": sorted(self.linked),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DriveState:
        return cls(
            root_id=data["root_id"],
            page_token=data["page_token"],
            folders={k: (v[0], v[1]) for k, v in data.get("folders", {}).items()},
            files=dict(data.get("files", {})),
            linked=set(data.get("linked", [])),
        )

    def path(self, folder_id: str) -> tuple[str, ...]:
        return _folder_path(self.folders, folder_id)


@dataclass(frozen=True, slots=True)
class FolderFacts:
    """What the caller's credentials see of a folder: its name, the folders above it (nearest first, as far as
    Drive's ``parents`` show them to this caller) and, when asked for, every folder below it."""

    id: str
    name: str
    ancestry: tuple[str, ...]
    below: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """What changed in the band's folder since the last poll. Persist ``state`` (its token is ``new_token``)."""

    upserts: list[SourceFile]
    removed_ids: list[str]
    new_token: str
    state: DriveState


# --------------------------------------------------------------------------------------------------------------
# Helpers a leader's input and the settings go through.

_ID = r"[A-Za-z0-9_-]{10,}"


def parse_folder_id(text: str) -> str:
    """The folder id inside whatever a leader pasted: a folder link (any of Drive's shapes) or a bare id."""
    text = text.strip()
    if re.fullmatch(_ID, text):
        return text
    url = urllib.parse.urlsplit(text if "://" in text else "https://" + text)
    if url.hostname == "drive.google.com":
        if match := re.search(rf"/folders/({_ID})", url.path):
            return match[1]
        ids = urllib.parse.parse_qs(url.query).get("id", [])
        if url.path.rstrip("/") in ("/open", "/folderview") and ids and re.fullmatch(_ID, ids[0]):
            return ids[0]
        if "/file/" in url.path:
            raise InvalidInput("That's a link to a single file. Paste the link to the folder that holds the charts.")
    raise InvalidInput(
        "That isn't a Google Drive folder link. Open the folder in Drive, choose Share → Copy link, and paste it here."
    )


def service_account_credentials(path: str, token_uri: str | None = None) -> service_account.Credentials:
    """Read-only Drive credentials from a service-account key file (``token_uri`` overrides the file's, for tests)."""
    try:
        credentials = service_account.Credentials.from_service_account_file(path, scopes=[SCOPE])
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(
            f"SOLEIL_GOOGLE_SERVICE_ACCOUNT_FILE: {path} is not a readable Google service-account key file",
            detail=f"{type(exc).__name__}: {exc}",
        ) from exc
    return credentials.with_token_uri(token_uri) if token_uri else credentials


def access_token_credentials(token: str) -> google.oauth2.credentials.Credentials:
    """Credentials for one short look with a token a leader just granted (never stored, never refreshed)."""
    return google.oauth2.credentials.Credentials(token=token)


def user_credentials(
    refresh_token: str, client_id: str, client_secret: str, token_uri: str = GOOGLE_TOKEN_URI
) -> google.oauth2.credentials.Credentials:
    """Read-only Drive credentials from a leader's OAuth grant (the refresh token stored for the band)."""
    return google.oauth2.credentials.Credentials(
        token=None,
        refresh_token=refresh_token,
        client_id=client_id,
        client_secret=client_secret,
        token_uri=token_uri,
        scopes=[SCOPE],
    )


# --------------------------------------------------------------------------------------------------------------
# The source.

_LIMITS: dict[tuple[str, int], threading.BoundedSemaphore] = {}
_LIMITS_LOCK = threading.Lock()


def _band_limit(folder_id: str, max_concurrent: int) -> threading.BoundedSemaphore:
    """One semaphore per band folder, so two ``DriveSource`` objects of a band (sync + UI) share the limit."""
    with _LIMITS_LOCK:
        return _LIMITS.setdefault((folder_id, max_concurrent), threading.BoundedSemaphore(max_concurrent))


class _Client(NamedTuple):
    """One thread's Drive resources."""

    files: Any
    changes: Any


class _NeedsExport(SoleilError):
    """Drive says the file has no binary content (a Google Doc): export it instead."""


@dataclass(slots=True)
class _Walk:
    """What a walk of (part of) the tree found."""

    folders: dict[str, tuple[str, str]]
    linked: set[str]
    files: dict[str, SourceFile] = field(default_factory=dict)
    placed: dict[str, str] = field(default_factory=dict)  # file id -> folder id


class DriveSource:
    """A band's Drive folder as a ``ChartSource``, plus the changes feed for cheap incremental syncs."""

    def __init__(
        self,
        folder_id: str,
        credentials: Credentials,
        api_endpoint: str | None = None,
        max_concurrent: int = 4,
        page_size: int = 1000,
        *,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        chunk_size: int = 10 * 1024 * 1024,
        sleep: Callable[[float], None] = time.sleep,
        foreign: frozenset[str] = frozenset(),
    ) -> None:
        self.folder_id = folder_id
        # Folders other bands have proven theirs: never read for this band, whether they sit below the band folder or
        # a shortcut in it points into them (see services/library_source.py).
        self._foreign = foreign
        self._credentials = credentials
        self._endpoint = api_endpoint or None
        self._page_size = page_size
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self._chunk_size = chunk_size
        self._sleep = sleep
        self._limit = _band_limit(folder_id, max_concurrent)
        self._local = threading.local()
        self._rng = random.Random()  # noqa: S311 - jitter, not secrets
        self._google_docs: set[str] = set()  # ids seen as Google Docs: fetch exports these as PDF

    # ---- ChartSource ----------------------------------------------------------------------------------------

    def list_files(self) -> list[SourceFile]:
        """Every usable file under the folder, recursively, shortcuts followed. One request per folder page."""
        return list(self._walk_tree().files.values())

    def fetch(self, file_id: str) -> bytes:
        """The bytes of a file (a Google Doc comes exported as PDF), downloaded in chunks retried one by one."""
        if file_id not in self._google_docs:
            try:
                return self._download(lambda c: c.files.get_media(fileId=file_id, supportsAllDrives=True))
            except _NeedsExport:
                self._google_docs.add(file_id)
        return self._download(lambda c: c.files.export_media(fileId=file_id, mimeType=PDF))

    # ---- changes feed -----------------------------------------------------------------------------------------

    def start_page_token(self) -> str:
        """Where the changes feed starts now."""
        page = self._call("start the changes feed", lambda c: c.changes.getStartPageToken(supportsAllDrives=True))
        return page["startPageToken"]

    def snapshot(self) -> tuple[list[SourceFile], DriveState]:
        """A full listing plus the state to poll changes from. The token is taken first, so nothing is missed."""
        token = self.start_page_token()
        walk = self._walk_tree()
        state = DriveState(self.folder_id, token, walk.folders, walk.placed, walk.linked)
        return list(walk.files.values()), state

    def changes_since(self, state: DriveState) -> ChangeSet:
        """What changed in the folder tree since ``state`` was saved. An unchanged folder costs one request.

        Files added, edited or renamed in the tree are upserts; files trashed, deleted, moved out of the tree (alone
        or with their folder) are ``removed_ids``. A folder that is new to the tree or renamed is listed again.
        Raises ``DriveAccessError`` if the folder itself was trashed or unshared (rather than reporting every
        chart as removed).
        """
        if self.folder_id in self._foreign:
            self._open_root()  # raises: another band has proven the folder theirs
        changes, new_token = self._read_changes(state.page_token)
        stale = bool(self._foreign & (set(state.folders) | state.linked))  # another band proved part of the tree
        if not changes and not stale:
            return ChangeSet([], [], new_token, replace(state, page_token=new_token))
        if state.root_id in changes:
            self._open_root()
        if stale or state.root_id != self.folder_id or any(self._touches_shortcut(c, state) for c in changes.values()):
            return self._relist(state, changes, new_token)
        return self._patch(state, changes, new_token)

    # ---- proving a folder is the band's ---------------------------------------------------------------------

    def folder_facts(self, *, with_subfolders: bool = False) -> FolderFacts:
        """The folder's name and ancestry (and every folder below it, if asked), as these credentials see them.

        Raises ``DriveAccessError`` (``unshared``) if they can't see the folder, ``InvalidInput`` if it is a file.
        """
        root = self._open_root()
        ancestry = self.ancestry_of(self.folder_id, root.get("parents") or [])
        below = frozenset(self._subfolders()) if with_subfolders else frozenset()
        return FolderFacts(self.folder_id, str(root.get("name", "")), tuple(ancestry), below)

    def ancestry_of(self, item_id: str, parents: list[str] | None = None) -> list[str]:
        """The folders above ``item_id``, nearest first, as far as these credentials can see (Drive leaves out a
        parent the caller can't open). Empty if the item itself can't be seen."""
        if parents is None:
            try:
                parents = self._call("look up a file", lambda c: c.files.get(
                    fileId=item_id, fields="id, parents", supportsAllDrives=True)).get("parents") or []
            except (NotFound, DriveAccessError):
                return []
        found: list[str] = []
        while parents and len(found) < _MAX_DEPTH and parents[0] not in found and parents[0] != item_id:
            found.append(parents[0])
            try:
                parents = self._call("look up a parent folder", lambda c, p=parents[0]: c.files.get(
                    fileId=p, fields="id, parents", supportsAllDrives=True)).get("parents") or []
            except (NotFound, DriveAccessError):
                break
        return found

    def has_file_named(self, name: str) -> bool:
        """True if the folder itself (not a subfolder) holds a file called exactly ``name``, not in the trash."""
        if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
            raise ValueError("a plain file name only")  # it goes into a Drive query between quotes
        page = self._call("look for a file", lambda c: c.files.list(
            q=f"'{self.folder_id}' in parents and name = '{name}' and trashed = false", fields="files(id, name)",
            pageSize=10, supportsAllDrives=True, includeItemsFromAllDrives=True))
        return any(f.get("name") == name for f in page.get("files", []))

    def _subfolders(self) -> set[str]:
        """Every folder below the band folder (folders only; shortcuts aren't followed), within sane limits."""
        found: set[str] = set()
        level = [self.folder_id]
        for _ in range(_MAX_DEPTH):
            following: list[str] = []
            for folder_id in level:
                token: str | None = None
                while True:
                    page = self._call("list subfolders", lambda c, f=folder_id, t=token: c.files.list(
                        q=f"'{f}' in parents and mimeType = '{FOLDER}' and trashed = false",
                        fields="nextPageToken, files(id)", pageSize=self._page_size, pageToken=t,
                        supportsAllDrives=True, includeItemsFromAllDrives=True))
                    following += [f["id"] for f in page.get("files", []) if f["id"] not in found]
                    found.update(f["id"] for f in page.get("files", []))
                    token = page.get("nextPageToken")
                    if not token:
                        break
                if len(found) > _MAX_SUBFOLDERS:
                    return found
            if not following:
                break
            level = following
        return found

    # ---- listing ------------------------------------------------------------------------------------------------

    def _walk_tree(self) -> _Walk:
        self._open_root()
        walk = _Walk(folders={self.folder_id: ("", "")}, linked=set())
        self._walk(self.folder_id, walk)
        return walk

    def _open_root(self) -> dict[str, Any]:
        """The root folder's metadata; turns "not found" into the leader-facing "no longer shared" error."""
        if self.folder_id in self._foreign:
            raise DriveAccessError(
                "SOLEil no longer syncs this Drive folder for the band: it couldn't be verified as the band's. "
                "Verify it in Library files, or connect another folder.",
                reason="denied",
                detail=f"folder {self.folder_id} was proven by another band",
            )
        try:
            root = self._call(
                "open the band folder",
                lambda c: c.files.get(fileId=self.folder_id, fields=_ROOT_FIELDS, supportsAllDrives=True),
            )
        except NotFound as exc:
            raise self._unshared_error(exc.detail) from exc
        if root.get("trashed"):
            raise DriveAccessError(
                "The band's Drive folder is in the trash. Restore it in Google Drive, or connect another folder.",
                reason="unshared",
            )
        if root.get("mimeType") != FOLDER:
            raise InvalidInput("That Drive link points to a file, not a folder. Connect the folder of charts.")
        return root

    def _walk(self, start: str, walk: _Walk) -> None:
        """List ``start`` (already in ``walk.folders``) and everything below it."""
        todo = [start]
        while todo:
            folder_id = todo.pop()
            for item in self._children(folder_id):
                self._place(item, folder_id, walk, todo)

    def _children(self, folder_id: str) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            page = self._call(
                "list a folder",
                lambda c, t=token: c.files.list(
                    q=f"'{folder_id}' in parents and trashed = false",
                    fields=_LIST_FIELDS,
                    pageSize=self._page_size,
                    pageToken=t,
                    supportsAllDrives=True,
                    includeItemsFromAllDrives=True,
                ),
            )
            yield from page.get("files", [])
            token = page.get("nextPageToken")
            if not token:
                return

    def _place(self, item: dict[str, Any], folder_id: str, walk: _Walk, todo: list[str]) -> None:
        """File one item found in ``folder_id``: queue folders, follow shortcuts, keep usable files."""
        if item["mimeType"] == SHORTCUT:
            details = item.get("shortcutDetails") or {}
            target = details.get("targetId")
            if not target:
                return
            walk.linked |= {item["id"], target}
            found = self._target(target) if self._foreign else None
            if self._foreign and (target in self._foreign or set((found or {}).get("parents") or []) & self._foreign):
                log.warning("Drive: a shortcut in band folder %s points into another band's folder; not followed",
                            self.folder_id)
                return
            if details.get("targetMimeType") == FOLDER:  # the shortcut's name is the folder name the band sees
                item = {"id": target, "name": item["name"], "mimeType": FOLDER}
            elif (found := found or self._target(target)) is not None:
                item = found
            else:
                return
        if item["mimeType"] == FOLDER and item["id"] in self._foreign:
            log.warning("Drive: folder %s, below band folder %s, belongs to another band; skipped", item["id"],
                        self.folder_id)
            return
        if item["mimeType"] == FOLDER:
            if item["id"] not in walk.folders:  # otherwise a cycle, or a second shortcut to the same folder
                walk.folders[item["id"]] = (folder_id, item["name"])
                todo.append(item["id"])
            return
        source = self._source_file(item, _folder_path(walk.folders, folder_id))
        if source is not None and source.id not in walk.files:
            walk.files[source.id] = source
            walk.placed[source.id] = folder_id

    def _target(self, file_id: str) -> dict[str, Any] | None:
        """A shortcut's target file, or None if it is gone or not shared with us (a dangling shortcut)."""
        try:
            found = self._call(
                "open a shortcut target",
                lambda c: c.files.get(fileId=file_id, fields=f"{_FILE_FIELDS}, trashed", supportsAllDrives=True),
            )
        except (NotFound, DriveAccessError):
            return None
        return None if found.get("trashed") else found

    def _source_file(self, item: dict[str, Any], folder: tuple[str, ...]) -> SourceFile | None:
        """A Drive file as SOLEil sees it; None for Google files that are not Docs (Sheets, Slides, …)."""
        file_id, name, mime = item["id"], item["name"], item["mimeType"]
        if VERIFICATION_FILE.fullmatch(name):
            return None  # the band's proof the folder is its own, not a chart
        checksum = item.get("md5Checksum") or f"{file_id}:{item.get('version', '')}"
        if mime == GOOGLE_DOC:
            self._google_docs.add(file_id)
            name, mime = (name if name.lower().endswith(".pdf") else name + ".pdf"), PDF
        elif mime.startswith(GOOGLE_APPS):
            return None
        modified = datetime.fromisoformat(item["modifiedTime"]) if item.get("modifiedTime") else None
        return SourceFile(file_id, name, folder, mime, int(item.get("size") or 0), checksum, modified)

    # ---- changes --------------------------------------------------------------------------------------------

    def _read_changes(self, token: str) -> tuple[dict[str, dict[str, Any]], str]:
        """Every change since ``token``, latest per file and in feed order, plus the token to continue from."""
        found: dict[str, dict[str, Any]] = {}
        while True:
            page = self._call(
                "read Drive changes",
                lambda c, t=token: c.changes.list(
                    pageToken=t,
                    fields=_CHANGE_FIELDS,
                    pageSize=self._page_size,
                    includeItemsFromAllDrives=True,
                    supportsAllDrives=True,
                    includeRemoved=True,
                ),
            )
            for change in page.get("changes", []):
                found.pop(change["fileId"], None)
                found[change["fileId"]] = change
            if "newStartPageToken" in page:
                return found, page["newStartPageToken"]
            token = page["nextPageToken"]

    @staticmethod
    def _touches_shortcut(change: dict[str, Any], state: DriveState) -> bool:
        file = change.get("file") or {}
        in_tree = any(p in state.folders for p in file.get("parents", []))
        return change["fileId"] in state.linked or (file.get("mimeType") == SHORTCUT and in_tree)

    def _patch(self, state: DriveState, changes: dict[str, dict[str, Any]], new_token: str) -> ChangeSet:
        """Apply the feed to the saved tree; list again only folders that are new to the tree or renamed."""
        folders = dict(state.folders)
        changed_folders = {
            fid for fid, c in changes.items() if fid != state.root_id and (fid in folders or _mime(c) == FOLDER)
        }
        for fid in changed_folders:  # re-place each changed folder; it may have moved, left or joined
            folders.pop(fid, None)
        pending = set(changed_folders)
        while placed := {f for f in pending if _mime(changes[f]) == FOLDER and _parent_in(changes[f], folders)
                         and f not in self._foreign}:
            for fid in placed:
                folders[fid] = (_parent_in(changes[fid], folders) or "", changes[fid]["file"]["name"])
            pending -= placed
        folders = _reachable(folders, state.root_id)  # drops whatever sat below a folder that left

        moved = {f for f in folders if f in changed_folders and state.path(f) != _folder_path(folders, f)}
        tops = {f for f in moved if not any(a in moved for a in _ancestors(folders, f))}
        below = _descendants(folders, tops)
        walk = _Walk(folders={f: v for f, v in folders.items() if f not in below}, linked=set(state.linked))
        for top in tops:
            self._walk(top, walk)

        files = {f: parent for f, parent in state.files.items() if parent in walk.folders and parent not in below}
        files.update(walk.placed)
        upserts = dict(walk.files)
        for fid, change in changes.items():
            if fid in changed_folders or fid == state.root_id or fid in walk.files:  # the walk's view is fresher
                continue
            parent = _parent_in(change, walk.folders)
            source = self._source_file(change["file"], _folder_path(walk.folders, parent)) if parent else None
            if source is None or parent is None:
                files.pop(fid, None)
            else:
                upserts[fid], files[fid] = source, parent
        removed = [f for f in state.files if f not in files]
        new_state = DriveState(state.root_id, new_token, walk.folders, files, walk.linked)
        return ChangeSet(list(upserts.values()), removed, new_token, new_state)

    def _relist(self, state: DriveState, changes: dict[str, dict[str, Any]], new_token: str) -> ChangeSet:
        """List the whole tree again (a shortcut changed, or another folder) and compare with what we knew."""
        walk = self._walk_tree()
        upserts = [
            f
            for f in walk.files.values()
            if f.id in changes or f.id not in state.files or f.folder != state.path(state.files[f.id])
        ]
        removed = [f for f in state.files if f not in walk.files]
        new_state = DriveState(self.folder_id, new_token, walk.folders, walk.placed, walk.linked)
        return ChangeSet(upserts, removed, new_token, new_state)

    # ---- HTTP, retries and errors ---------------------------------------------------------------------------

    def _client(self) -> _Client:
        """This thread's Drive client (httplib2 connections must not be shared between threads)."""
        client = getattr(self._local, "client", None)
        if client is None:
            # Our own Http (not build(credentials=…)) so the timeout applies to API and token requests alike.
            self._local.http = httplib2.Http(timeout=self._timeout)
            authed = google_auth_httplib2.AuthorizedHttp(self._credentials, http=self._local.http)
            options = {"api_endpoint": self._endpoint} if self._endpoint else None
            service = build(
                "drive", "v3", http=authed, client_options=options, static_discovery=True, cache_discovery=False
            )
            # Each service.files() call builds a resource afresh (~10 ms of CPU): build them once per thread.
            client = self._local.client = _Client(files=service.files(), changes=service.changes())
        return client

    def _drop_connections(self) -> None:
        """After a timeout the connection may still carry the late answer: start the next try on a fresh one."""
        http = getattr(self._local, "http", None)
        for connection in getattr(http, "connections", {}).values():
            connection.close()

    def _download(self, make_request: Callable[[_Client], Any]) -> bytes:
        buffer = io.BytesIO()
        downloader = MediaIoBaseDownload(buffer, make_request(self._client()), chunksize=self._chunk_size)
        done = False
        while not done:
            _, done = self._attempt("download a file", lambda _: downloader.next_chunk(num_retries=0))
        return buffer.getvalue()

    def _call(self, what: str, make_request: Callable[..., Any]) -> dict[str, Any]:
        """Build a request with this thread's client and execute it, with retries. ``make_request(client)`` (typed
        loosely: callers bind loop variables as lambda defaults, which mypy cannot infer against ``[_Client]``)."""
        return self._attempt(what, lambda c: make_request(c).execute(num_retries=0))

    def _attempt(self, what: str, action: Callable[[_Client], T]) -> T:
        """Run ``action`` within the band's concurrency limit, retrying what a later try may fix."""
        tries = max(1, self._retry.max_tries)
        for attempt in range(1, tries + 1):
            try:
                with self._limit:
                    return action(self._client())
            except (HttpError, RefreshError, TransportError, httplib2.HttpLib2Error, OSError) as exc:
                error, why = self._classify(exc), _describe(exc)
                if isinstance(error, _NeedsExport):
                    raise error from exc
                if error is not None:
                    log.warning("Drive: %s failed for folder %s: %s", what, self.folder_id, why)
                    raise error from exc
                if attempt == tries:
                    log.error("Drive: %s gave up after %d tries for folder %s: %s", what, tries, self.folder_id, why)
                    raise UpstreamUnavailable(_BUSY, detail=f"Drive {what}: {why}") from exc
                pause = self._retry.delay(attempt, self._rng)
                log.warning("Drive: %s failed (try %d of %d), again in %.2fs: %s", what, attempt, tries, pause, why)
                if isinstance(exc, OSError | httplib2.HttpLib2Error):
                    self._drop_connections()
                self._sleep(pause)
        raise AssertionError("unreachable")

    def _classify(self, exc: Exception) -> SoleilError | None:
        """None if another try may succeed; otherwise the error to raise."""
        detail = _describe(exc)
        if isinstance(exc, HttpError):
            status, reason = exc.resp.status, _reason(exc)
            if status == 429 or status >= 500 or (status == 403 and reason in _RATE_LIMIT_REASONS):
                return None
            if status == 401:
                return DriveAccessError(_REVOKED, reason="revoked", detail=detail)
            if status == 404:
                return NotFound("That chart is no longer in the band's Drive folder.", detail=detail)
            if status == 403 and reason == "exportSizeLimitExceeded":
                return BrokenFile("This Google Doc is too big for Google to turn into a PDF. Save it as PDF in Drive.")
            if status == 403 and reason == "fileNotDownloadable":
                return _NeedsExport(detail=detail)
            if status == 403:
                return DriveAccessError(_DENIED, reason="denied", detail=detail)
            return SoleilError(detail=f"Drive rejected SOLEil's request: {detail}")
        if isinstance(exc, RefreshError) and not exc.retryable:
            return DriveAccessError(_REVOKED, reason="revoked", detail=detail)
        return None  # timeouts, dropped connections, retryable token-endpoint failures

    def _unshared_error(self, detail: str) -> DriveAccessError:
        email = getattr(self._credentials, "service_account_email", None)
        how = (
            f"Share it with {email} again"
            if email
            else "Check it still exists and is shared with the connected account"
        )
        return DriveAccessError(
            f"The band's Drive folder is no longer shared with SOLEil. {how}, or connect another folder.",
            reason="unshared",
            detail=detail,
        )


# --------------------------------------------------------------------------------------------------------------
# Small pure helpers.


def _describe(exc: BaseException) -> str:
    if isinstance(exc, HttpError):
        return f"HTTP {exc.resp.status} {_reason(exc) or exc.reason}".strip()
    return f"{type(exc).__name__}: {exc}"


def _reason(exc: HttpError) -> str:
    details = exc.error_details
    if isinstance(details, list) and details and isinstance(details[0], dict):
        return str(details[0].get("reason", ""))
    return ""


def _mime(change: dict[str, Any]) -> str:
    return (change.get("file") or {}).get("mimeType", "")


def _parent_in(change: dict[str, Any], folders: dict[str, tuple[str, str]]) -> str | None:
    """The parent through which a changed item is (still) in the tree; None if gone, trashed or outside."""
    file = change.get("file")
    if change.get("removed") or not file or file.get("trashed"):
        return None
    return next((p for p in file.get("parents", []) if p in folders), None)


def _folder_path(folders: dict[str, tuple[str, str]], folder_id: str | None) -> tuple[str, ...]:
    """Folder names from the root (excluded) down to ``folder_id``."""
    names: list[str] = []
    seen: set[str] = set()
    while folder_id in folders and folder_id not in seen:
        seen.add(folder_id)
        parent, name = folders[folder_id]
        if not parent:
            break
        names.append(name)
        folder_id = parent
    return tuple(reversed(names))


def _ancestors(folders: dict[str, tuple[str, str]], folder_id: str) -> Iterator[str]:
    seen = {folder_id}
    parent = folders[folder_id][0]
    while parent in folders and parent not in seen:
        seen.add(parent)
        yield parent
        parent = folders[parent][0]


def _children_index(folders: dict[str, tuple[str, str]]) -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for fid, (parent, _) in folders.items():
        index.setdefault(parent, []).append(fid)
    return index


def _descendants(folders: dict[str, tuple[str, str]], tops: set[str]) -> set[str]:
    """Folders strictly below any of ``tops``."""
    index, found, todo = _children_index(folders), set(), list(tops)
    while todo:
        for child in index.get(todo.pop(), []):
            if child not in found and child not in tops:
                found.add(child)
                todo.append(child)
    return found


def _reachable(folders: dict[str, tuple[str, str]], root: str) -> dict[str, tuple[str, str]]:
    """The folders still hanging from the root."""
    keep = _descendants(folders, {root}) | {root}
    return {f: v for f, v in folders.items() if f in keep}
