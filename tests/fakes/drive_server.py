"""A fake Google Drive v3 that speaks the real HTTP wire protocol on 127.0.0.1.

Google is not reachable from the test machines, so the real ``google-api-python-client`` and ``google-auth``
talk to this server instead (pass ``FakeDrive.base_url`` as the client's ``api_endpoint``). It is strict where
Google is strict, because leniency here would hide bugs that only show up in production:

* ``fields`` is honoured: only requested fields come back (a listing that forgets ``nextPageToken`` cannot
  page), and field names are checked against the schemas of the bundled discovery document;
* query parameters the discovery document does not define for a method are rejected (400 ``invalidParameter``);
* every API call needs a bearer token from ``POST /token`` (service-account JWT grant, verified against the
  generated key, or a registered refresh token), or one a trusted OpenID provider vouches for (``trust_userinfo``:
  the fake asks the provider's userinfo endpoint, as Google checks its own tokens);
* answers are per caller: each token belongs to a principal (the service account's email, a user), and an item is
  seen by everyone it is shared with (``shared=True``: every caller; ``shared_with``/``share(id, who)``: one
  principal), inherited by everything below; ``parents`` only lists folders the caller can see. Tokens a provider
  vouches for carry the read-only *metadata* scope: they can list and get metadata, never download;
* shared-drive items only show up with ``supportsAllDrives``/``includeItemsFromAllDrives``;
* pages are small (``page_size_cap``), so paging is always exercised.

Tests mutate the tree with ``add_folder``/``add_file``/``rename``/``move``/``trash``/… (each mutation is logged
so ``changes.list`` works), inject faults (``fail_next``, ``timeout_next``, ``random_faults``, ``revoke_access``)
and read ``requests`` (a per-endpoint counter) and ``peak_in_flight``.

Run it by hand with ``python -m tests.fakes.drive_server`` (prints the endpoint, a service-account file and the
demo folder id).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import random
import re
import secrets
import socket
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import googleapiclient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import jwt

FOLDER = "application/vnd.google-apps.folder"
SHORTCUT = "application/vnd.google-apps.shortcut"
GOOGLE_DOC = "application/vnd.google-apps.document"
GOOGLE_SHEET = "application/vnd.google-apps.spreadsheet"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"  # the audience google-auth always signs for
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
DRIVE_SCOPES = {"https://www.googleapis.com/auth/drive", "https://www.googleapis.com/auth/drive.readonly"}
METADATA_SCOPE = "https://www.googleapis.com/auth/drive.metadata.readonly"
SHEETS_SCOPES = {"https://www.googleapis.com/auth/spreadsheets", "https://www.googleapis.com/auth/spreadsheets.readonly"}
_SHEETS_PARAMETERS = frozenset({"majorDimension", "valueRenderOption", "dateTimeRenderOption", "alt", "prettyPrint",
                                "fields", "key", "access_token", "oauth_token", "quotaUser", "$.xgafv", "callback",
                                "upload_protocol", "uploadType"})
EVERYONE = "*"  # the audience of an item shared with every caller
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
_API_PREFIXES = ("/drive/v3/", "/download/drive/v3/")

# Default field masks, as Google applies them when a request has no ``fields``.
_DEFAULT_FIELDS = {
    "files.list": "kind, incompleteSearch, nextPageToken, files(kind, id, name, mimeType)",
    "files.get": "kind, id, name, mimeType",
    "changes.list": "kind, nextPageToken, newStartPageToken, "
    "changes(kind, changeType, time, removed, fileId, file(kind, id, name, mimeType))",
    "changes.getStartPageToken": "kind, startPageToken",
}
_RESPONSE_SCHEMA = {
    "files.list": "FileList",
    "files.get": "File",
    "changes.list": "ChangeList",
    "changes.getStartPageToken": "StartPageToken",
}


# --------------------------------------------------------------------------------------------------------------
# The bundled discovery document: which parameters and fields exist.


@cache
def discovery_document() -> dict[str, Any]:
    """The Drive v3 discovery document shipped inside googleapiclient (the one the client builds from)."""
    path = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / "drive.v3.json"
    return json.loads(path.read_text())


@cache
def allowed_parameters(method: str) -> frozenset[str]:
    """Query parameters Google accepts for ``method`` (e.g. ``"files.list"``): its own plus the global ones."""
    doc = discovery_document()
    resource, name = method.split(".")
    own = doc["resources"][resource]["methods"][name].get("parameters", {})
    return frozenset(own) | frozenset(doc["parameters"])


class FieldMaskError(ValueError):
    """A ``fields`` value Google would reject."""


def parse_fields(text: str) -> dict[str, Any]:
    """Parse a partial-response mask: ``"a, b(c, d/e)"`` → ``{"a": None, "b": {"c": None, "d": {"e": None}}}``."""
    pos = 0
    name_re = re.compile(r"\s*([A-Za-z_$*][\w$*]*)\s*")

    def merge(out: dict[str, Any], name: str, sub: dict[str, Any] | None) -> None:
        if name in out and (out[name] is None or sub is None):
            out[name] = None
        elif name in out:
            for key, value in sub.items():  # type: ignore[union-attr]
                merge(out[name], key, value)
        else:
            out[name] = sub

    def item() -> tuple[str, dict[str, Any] | None]:
        nonlocal pos
        match = name_re.match(text, pos)
        if not match:
            raise FieldMaskError(f"Invalid field selection at {text[pos:]!r}")
        pos = match.end()
        if text.startswith("/", pos):
            pos += 1
            child, sub = item()
            return match.group(1), {child: sub}
        if text.startswith("(", pos):
            pos += 1
            sub = items()
            if not text.startswith(")", pos):
                raise FieldMaskError(f"Invalid field selection {text!r}: unbalanced parentheses")
            pos += 1
            while pos < len(text) and text[pos].isspace():
                pos += 1
            return match.group(1), sub
        return match.group(1), None

    def items() -> dict[str, Any]:
        nonlocal pos
        out: dict[str, Any] = {}
        while True:
            name, sub = item()
            merge(out, name, sub)
            if not text.startswith(",", pos):
                return out
            pos += 1

    result = items()
    if pos != len(text):
        raise FieldMaskError(f"Invalid field selection {text!r}")
    return result


def check_fields(mask: dict[str, Any], schema_name: str) -> None:
    """Reject field names the discovery schema does not have, as Google does (400 invalid field selection)."""
    schemas = discovery_document()["schemas"]

    def resolve(prop: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in prop:
            return schemas[prop["$ref"]]
        if prop.get("type") == "array":
            return resolve(prop["items"])
        return prop

    def walk(sub: dict[str, Any], schema: dict[str, Any], where: str) -> None:
        props = schema.get("properties", {})
        for name, child in sub.items():
            if name == "*":
                continue
            if name not in props:
                raise FieldMaskError(f"Invalid field selection {where}{name}")
            if child is not None:
                walk(child, resolve(props[name]), f"{where}{name}/")

    walk(mask, schemas[schema_name], "")


def project(value: Any, mask: dict[str, Any] | None) -> Any:
    """Keep only the masked fields of a response (lists are projected element by element)."""
    if mask is None or "*" in mask:
        return value
    if isinstance(value, list):
        return [project(v, mask) for v in value]
    if isinstance(value, dict):
        return {k: project(value[k], sub) for k, sub in mask.items() if k in value}
    return value


# --------------------------------------------------------------------------------------------------------------
# Service-account keys.


def write_service_account_json(
    path: str | Path, *, token_uri: str, client_email: str = "soleil-sync@soleil-test.iam.gserviceaccount.com"
) -> dict[str, str]:
    """Write a throwaway service-account key file (fresh RSA key) whose ``token_uri`` is ``token_uri``.

    Returns the JSON as a dict; ``FakeDrive.register_service_account`` trusts it.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "soleil-test",
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": client_email,
        "client_id": str(random.randrange(10**20, 10**21)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/" + client_email,
        "universe_domain": "googleapis.com",
    }
    Path(path).write_text(json.dumps(info, indent=2))
    return info


@cache
def _public_pem(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None, unsafe_skip_rsa_key_validation=True)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


# --------------------------------------------------------------------------------------------------------------
# The in-memory Drive.


@dataclass
class FakeItem:
    """One file, folder or shortcut. ``parent`` is a folder id, a shared-drive id, or None (top of My Drive)."""

    id: str
    name: str
    mime_type: str
    parent: str | None
    data: bytes = b""
    version: int = 1
    modified: int = 0  # logical clock tick
    trashed: bool = False  # explicitly trashed; children of a trashed folder are trashed implicitly
    shared: bool = False  # shared directly with every caller (inherited by everything below)
    audience: frozenset[str] = frozenset()  # principals it is shared with directly (inherited by everything below)
    drive_id: str | None = None
    target_id: str | None = None  # shortcuts only
    deleted: bool = False


@dataclass
class _Fault:
    kind: int | str  # an HTTP status, or "timeout"
    reason: str | None
    endpoint: str | None
    remaining: int
    hold: float = 0.0


@dataclass
class _Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] | None = None


class ApiError(Exception):
    """Raised inside a handler to answer with a Google-style JSON error."""

    def __init__(self, status: int, reason: str, message: str, location: str | None = None, domain: str = "global"):
        super().__init__(message)
        self.status, self.reason, self.message, self.location, self.domain = status, reason, message, location, domain

    def response(self) -> _Response:
        detail: dict[str, str] = {"domain": self.domain, "reason": self.reason, "message": self.message}
        if self.location:
            detail |= {"location": self.location, "locationType": "parameter"}
        body = {"error": {"code": self.status, "message": self.message, "errors": [detail]}}
        headers = {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'} if self.status == 401 else {}
        return _Response(self.status, json.dumps(body).encode(), {"Content-Type": "application/json"} | headers)


_FAULT_ERRORS = {
    429: ("rateLimitExceeded", "Rate Limit Exceeded", "usageLimits"),
    500: ("backendError", "Internal Error", "global"),
    502: ("backendError", "Bad Gateway", "global"),
    503: ("backendError", "Service Unavailable", "global"),
    504: ("backendError", "Gateway Timeout", "global"),
}


class FakeDrive:
    """An in-memory Drive v3 plus its HTTP server. Use as a context manager or call ``start()``/``stop()``."""

    def __init__(self, *, page_size_cap: int | None = 3, seed: int = 1) -> None:
        self.page_size_cap = page_size_cap  # largest page served, whatever the client asks for
        self.latency = 0.0  # seconds every API request takes (makes concurrency observable)
        self.requests: Counter[str] = Counter()  # per endpoint: "files.list", "files.get_media", "token", …
        self.peak_in_flight = 0
        self._in_flight = 0
        self._lock = threading.RLock()
        self._items: dict[str, FakeItem] = {}
        self._drives: dict[str, str] = {}  # shared-drive id -> name (the caller is a member of all of them)
        self._log: list[tuple[str, frozenset[str]]] = []  # (item id, who could see it then); token N = index N-1
        self._clock = 0
        self._ids = 0
        self._seed = seed
        self._tokens: dict[str, tuple[str, frozenset[str]]] = {}  # access token -> (principal, scopes)
        self._service_accounts: dict[str, tuple[str, str]] = {}  # key id -> (email, public key PEM)
        self._users: dict[str, tuple[str, str, str]] = {}  # refresh token -> (client id, client secret, principal)
        self._userinfo_url: str | None = None
        self._revoked = False
        self._faults: list[_Fault] = []
        self._random: tuple[float, random.Random, tuple[int | str, ...], str | None, float] | None = None
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- server lifecycle ----------------------------------------------------------------------------------

    def start(self, port: int = 0) -> FakeDrive:
        """Serve on 127.0.0.1 (an ephemeral port unless ``port`` is given) from a background thread."""
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; held (timeout-fault) requests are released at once."""
        self._stopping.set()
        with self._lock:
            for connection in self._connections:  # idle keep-alive connections would hold handler threads
                with suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeDrive:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server, "FakeDrive is not started"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """The ``api_endpoint`` to give the client (Google's is ``https://www.googleapis.com/drive/v3/``)."""
        return f"http://127.0.0.1:{self.port}/drive/v3/"

    @property
    def sheets_url(self) -> str:
        """The Sheets API's ``api_endpoint`` here (Google's is ``https://sheets.googleapis.com/``)."""
        return f"http://127.0.0.1:{self.port}/"

    @property
    def token_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    # ---- credentials --------------------------------------------------------------------------------------

    def register_service_account(self, info: dict[str, str]) -> None:
        """Trust JWTs signed by this service-account key."""
        self._service_accounts[info["private_key_id"]] = (info["client_email"], _public_pem(info["private_key"]))

    def create_service_account(self, directory: str | Path, name: str = "soleil-sync") -> Path:
        """Write a service-account key file pointing at this server's token endpoint and trust it."""
        path = Path(directory) / f"{name}.json"
        email = f"{name}@soleil-test.iam.gserviceaccount.com"
        self.register_service_account(write_service_account_json(path, token_uri=self.token_uri, client_email=email))
        return path

    def register_user(self, refresh_token: str, client_id: str, client_secret: str, *, principal: str = "user") -> None:
        """Accept a ``refresh_token`` grant with these OAuth client credentials; its tokens act as ``principal``."""
        self._users[refresh_token] = (client_id, client_secret, principal)

    def trust_userinfo(self, url: str) -> None:
        """Accept access tokens this OpenID provider's userinfo endpoint vouches for; the caller is the ``sub`` it
        answers, with the read-only metadata scope (what SOLEil asks a leader for to prove a folder is theirs)."""
        self._userinfo_url = url

    def revoke_access(self) -> None:
        """The grant is revoked: issued access tokens stop working and the token endpoint says ``invalid_grant``."""
        with self._lock:
            self._revoked = True
            self._tokens.clear()

    def restore_access(self) -> None:
        self._revoked = False

    def expire_tokens(self) -> None:
        """Forget issued access tokens (the client must refresh, which still works)."""
        with self._lock:
            self._tokens.clear()

    # ---- faults and counters ------------------------------------------------------------------------------

    def fail_next(self, count: int, status: int, *, reason: str | None = None, endpoint: str | None = None) -> None:
        """Answer the next ``count`` API requests (to ``endpoint`` if given) with ``status``.

        ``status=403`` needs a ``reason`` (``rateLimitExceeded``, ``userRateLimitExceeded``, ``forbidden``, …).
        """
        self._faults.append(_Fault(status, reason, endpoint, count))

    def timeout_next(self, count: int, seconds: float, *, endpoint: str | None = None) -> None:
        """Hold the next ``count`` API responses for ``seconds`` (longer than the client's timeout)."""
        self._faults.append(_Fault("timeout", None, endpoint, count, hold=seconds))

    def random_faults(
        self,
        probability: float,
        *,
        seed: int = 0,
        kinds: tuple[int | str, ...] = (429, 500, 503),
        endpoint: str | None = None,
        hold: float = 1.0,
    ) -> None:
        """Fail each API request with ``probability`` (reproducibly, from ``seed``); ``"timeout"`` may be a kind."""
        self._random = (probability, random.Random(seed), kinds, endpoint, hold)

    def clear_faults(self) -> None:
        self._faults.clear()
        self._random = None

    def reset_counters(self) -> None:
        with self._lock:
            self.requests.clear()
            self.peak_in_flight = 0

    def api_requests(self) -> int:
        """Requests to the Drive API (everything but the token endpoint)."""
        return sum(n for name, n in self.requests.items() if name != "token")

    # ---- tree mutations (each one is logged for changes.list) ----------------------------------------------

    def add_shared_drive(self, name: str) -> str:
        """A shared drive the caller is a member of; use its id as a parent."""
        drive_id = "0A" + self._new_id()[:17]
        self._drives[drive_id] = name
        return drive_id

    def add_folder(
        self, name: str, parent: str | None = None, *, shared: bool | None = None, shared_with: tuple[str, ...] = ()
    ) -> str:
        """A folder; a top-level one (``parent=None``) is shared with every caller unless ``shared=False``;
        ``shared_with`` shares it with those principals only (then ``shared`` defaults to False)."""
        if shared_with and shared is None:
            shared = False
        return self._add(name, FOLDER, parent, shared=shared, audience=frozenset(shared_with))

    def add_file(
        self, name: str, parent: str | None, data: bytes = b"", mime: str = "application/pdf", *, shared: bool = False
    ) -> str:
        return self._add(name, mime, parent, data=data, shared=shared)

    def add_google_doc(self, name: str, parent: str | None, text: str = "") -> str:
        return self._add(name, GOOGLE_DOC, parent, data=text.encode())

    def add_sheet(self, name: str, parent: str | None, rows: list[list[Any]], *, shared: bool | None = None) -> str:
        """A Google Sheet whose first sheet holds ``rows`` (read through the Sheets API's ``values.get``)."""
        return self._add(name, GOOGLE_SHEET, parent, data=json.dumps(rows).encode(), shared=shared)

    def add_shortcut(self, name: str, parent: str | None, target_id: str) -> str:
        return self._add(name, SHORTCUT, parent, target_id=target_id)

    def rename(self, item_id: str, name: str) -> None:
        with self._mutating(item_id) as item:
            item.name = name

    def move(self, item_id: str, new_parent: str | None) -> None:
        """Move an item (and what is below it); only the item itself shows up in changes, as on Google."""
        with self._mutating(item_id) as item:
            item.parent = new_parent
            for sub in self._subtree(item_id):
                sub.drive_id = self._drive_of(new_parent)

    def update_content(self, item_id: str, data: bytes) -> None:
        with self._mutating(item_id) as item:
            item.data = data

    def trash(self, item_id: str) -> None:
        """Trash an item; everything below a trashed folder is trashed too (and logged, as Google does)."""
        with self._mutating(item_id, whole_tree=True) as item:
            item.trashed = True

    def untrash(self, item_id: str) -> None:
        with self._mutating(item_id, whole_tree=True) as item:
            item.trashed = False

    def delete(self, item_id: str) -> None:
        """Delete for good, with everything below it; changes.list then reports ``removed``."""
        with self._mutating(item_id, whole_tree=True):
            for sub in self._subtree(item_id):
                sub.deleted = True

    def unshare(self, item_id: str, principal: str | None = None) -> None:
        """Stop sharing an item with every caller (or with ``principal`` only): it and everything below disappear
        for them (``removed`` changes)."""
        with self._mutating(item_id, whole_tree=True) as item:
            if principal is None:
                item.shared = False
            else:
                item.audience = item.audience - {principal}

    def share(self, item_id: str, principal: str | None = None) -> None:
        """Share an item with every caller, or with ``principal`` only."""
        with self._mutating(item_id, whole_tree=True) as item:
            if principal is None:
                item.shared = True
            else:
                item.audience = item.audience | {principal}

    def item(self, item_id: str) -> FakeItem:
        return self._item(item_id)

    # ---- internals: tree -------------------------------------------------------------------------------------

    def _new_id(self) -> str:
        self._ids += 1
        digest = hashlib.sha256(f"{self._seed}:{self._ids}".encode()).digest()
        return "1" + base64.urlsafe_b64encode(digest).decode()[:32]

    def _add(self, name: str, mime: str, parent: str | None, **fields: Any) -> str:
        with self._lock:
            if parent is not None and parent not in self._items and parent not in self._drives:
                raise KeyError(f"no such parent {parent}")
            shared = fields.pop("shared", None)
            item = FakeItem(id=self._new_id(), name=name, mime_type=mime, parent=parent, **fields)
            item.shared = parent is None if shared is None else shared
            item.drive_id = self._drive_of(parent)
            self._items[item.id] = item
            self._clock += 1
            item.modified = self._clock
            self._log.append((item.id, self._audience(item)))
            return item.id

    def _item(self, item_id: str) -> FakeItem:
        item = self._items.get(item_id)
        if item is None or item.deleted:
            raise KeyError(item_id)
        return item

    def _drive_of(self, parent: str | None) -> str | None:
        if parent is None:
            return None
        if parent in self._drives:
            return parent
        return self._items[parent].drive_id

    def _ancestry(self, item: FakeItem) -> Iterator[FakeItem]:
        seen: set[str] = set()
        current: FakeItem | None = item
        while current is not None and current.id not in seen:
            seen.add(current.id)
            yield current
            current = self._items.get(current.parent) if current.parent else None

    def _audience(self, item: FakeItem) -> frozenset[str]:
        """Who can see ``item`` (``EVERYONE`` for every caller): its sharing and its ancestors'."""
        if item.deleted:
            return frozenset()
        if item.drive_id in self._drives:
            return frozenset({EVERYONE})
        found: set[str] = set()
        for a in self._ancestry(item):
            found |= a.audience | ({EVERYONE} if a.shared else set())
        return frozenset(found)

    def _visible(self, item: FakeItem, who: str) -> bool:
        return _sees(self._audience(item), who)

    def _is_trashed(self, item: FakeItem) -> bool:
        return any(a.trashed for a in self._ancestry(item))

    def _subtree(self, item_id: str) -> list[FakeItem]:
        out, todo = [], [self._item(item_id)]
        while todo:
            item = todo.pop()
            out.append(item)
            todo.extend(i for i in self._items.values() if i.parent == item.id and not i.deleted)
        return out

    @contextmanager
    def _mutating(self, item_id: str, *, whole_tree: bool = False) -> Iterator[FakeItem]:
        """Log a mutation: the item, plus everything below it whose state changed (all of it if ``whole_tree``).

        A change is visible to the caller if the item was visible before or after (lost access = ``removed``).
        """
        with self._lock:
            below = self._subtree(item_id)
            before = {i.id: self._audience(i) for i in below}
            yield self._item(item_id)
            self._clock += 1
            for sub in below:
                after = self._audience(sub)
                if whole_tree or sub.id == item_id or after != before[sub.id]:
                    sub.version += 1
                    sub.modified = self._clock
                    self._log.append((sub.id, before[sub.id] | after))

    def _resource(self, item: FakeItem, who: str) -> dict[str, Any]:
        """The full Drive ``File`` resource as ``who`` sees it (``fields`` projects it): a parent folder the caller
        can't see isn't listed, as on Google."""
        res: dict[str, Any] = {
            "kind": "drive#file",
            "id": item.id,
            "name": item.name,
            "mimeType": item.mime_type,
            "trashed": self._is_trashed(item),
            "explicitlyTrashed": item.trashed,
            "modifiedTime": (_EPOCH + timedelta(seconds=item.modified)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "version": str(item.version),
        }
        parent = self._items.get(item.parent) if item.parent else None
        if item.parent in self._drives or (parent is not None and self._visible(parent, who)):
            res["parents"] = [item.parent]
        if not item.mime_type.startswith("application/vnd.google-apps."):
            res["size"] = str(len(item.data))
            res["md5Checksum"] = hashlib.md5(item.data).hexdigest()  # Drive's checksum is md5
        if item.drive_id:
            res["driveId"] = item.drive_id
        if item.target_id:
            target = self._items.get(item.target_id)
            res["shortcutDetails"] = {
                "targetId": item.target_id,
                "targetMimeType": target.mime_type if target else "application/octet-stream",
            }
        return res

    # ---- internals: HTTP ----------------------------------------------------------------------------------------

    def handle(self, verb: str, target: str, headers: Any, body: bytes) -> _Response:
        """Answer one HTTP request (called from the server's handler threads)."""
        url = urllib.parse.urlsplit(target)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        params = {k: v[-1] for k, v in query.items()}
        if url.path == "/token":
            with self._lock:
                self.requests["token"] += 1
            if verb != "POST":
                return ApiError(405, "methodNotAllowed", "Use POST").response()
            return self._token(urllib.parse.parse_qs(body.decode()))
        if url.path.startswith("/v4/spreadsheets/"):
            return self._sheets(verb, url.path, headers, params, set(query))
        endpoint, path_args = self._route(url.path, params)
        if endpoint is None:
            return ApiError(404, "notFound", f"Not Found: {url.path}").response()
        with self._lock:
            self.requests[endpoint] += 1
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
        try:
            if verb != "GET":
                raise ApiError(405, "methodNotAllowed", f"{verb} is not supported here")
            if self.latency:
                self._stopping.wait(self.latency)
            who, scopes = self._authorize(headers, params)
            self._inject_fault(endpoint)
            unknown = sorted(set(query) - allowed_parameters(endpoint.replace("_media", "")))
            if unknown:
                raise ApiError(400, "invalidParameter", f"Invalid parameter: {unknown[0]}", location=unknown[0])
            if endpoint in ("files.get_media", "files.export") and not scopes & DRIVE_SCOPES:
                raise ApiError(403, "insufficientPermissions", "Request had insufficient authentication scopes.")
            return self._dispatch(endpoint, path_args, params, headers, who)
        except ApiError as exc:
            return exc.response()
        finally:
            with self._lock:
                self._in_flight -= 1

    def _sheets(self, verb: str, path: str, headers: Any, params: dict[str, str], names: set[str]) -> _Response:
        """Sheets API v4 ``spreadsheets.values.get``: the cells of the first sheet, trailing blanks trimmed as Google
        does. The caller must see the file (as in Drive) and hold a Drive or Sheets read scope."""
        parts = [urllib.parse.unquote(p) for p in path[len("/v4/spreadsheets/"):].split("/")]
        with self._lock:
            self.requests["sheets.values.get"] += 1
        try:
            if verb != "GET":
                raise ApiError(405, "methodNotAllowed", f"{verb} is not supported here")
            if len(parts) != 3 or parts[1] != "values" or not parts[2]:
                raise ApiError(404, "notFound", f"Not Found: {path}")
            unknown = sorted(names - _SHEETS_PARAMETERS)
            if unknown:
                raise ApiError(400, "invalidParameter", f"Invalid parameter: {unknown[0]}", location=unknown[0])
            who, scopes = self._authorize(headers, params)
            self._inject_fault("sheets.values.get")
            if not scopes & (DRIVE_SCOPES | SHEETS_SCOPES):
                raise ApiError(403, "insufficientPermissions", "Request had insufficient authentication scopes.")
            with self._lock:
                item = self._items.get(parts[0])
                if item is None or item.deleted or not self._visible(item, who) or self._is_trashed(item):
                    raise ApiError(404, "notFound", "Requested entity was not found.")
                if item.mime_type != GOOGLE_SHEET:
                    raise ApiError(400, "failedPrecondition", "This operation is not supported for this document")
                rows = json.loads(item.data or b"[]")
            values = [[str(c) for c in row] for row in rows]
            while values and not any(values[-1]):
                values.pop()
            values = [row[: max((i + 1 for i, c in enumerate(row) if c), default=0)] for row in values]
            body: dict[str, Any] = {"range": f"Sheet1!{parts[2]}", "majorDimension": "ROWS"}
            if values:
                body["values"] = values
            return _json(body)
        except ApiError as exc:
            return exc.response()

    def _route(self, path: str, params: dict[str, str]) -> tuple[str | None, list[str]]:
        prefix = next((p for p in _API_PREFIXES if path.startswith(p)), None)
        if prefix is None:
            return None, []
        parts = [urllib.parse.unquote(p) for p in path[len(prefix) :].split("/")]
        media = params.get("alt") == "media"
        match parts:
            case ["files"]:
                return "files.list", []
            case ["files", file_id]:
                return ("files.get_media" if media else "files.get"), [file_id]
            case ["files", file_id, "export"]:
                return "files.export", [file_id]
            case ["changes", "startPageToken"]:
                return "changes.getStartPageToken", []
            case ["changes"]:
                return "changes.list", []
        return None, []

    def _authorize(self, headers: Any, params: dict[str, str]) -> tuple[str, frozenset[str]]:
        """The caller (principal) and scopes of the request's access token; a 401 if nobody vouches for it."""
        auth = headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else params.get("access_token") or params.get("oauth_token")
        with self._lock:
            found = self._tokens.get(token or "")
        if found is None and token and self._userinfo_url:
            found = self._vouched(token)
        if found is None:
            message = "Request had invalid authentication credentials."
            raise ApiError(401, "authError", message, location="Authorization")
        return found

    def _vouched(self, token: str) -> tuple[str, frozenset[str]] | None:
        """Ask the trusted provider who the token belongs to (its userinfo endpoint)."""
        request = urllib.request.Request(self._userinfo_url or "", headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # a test URL on 127.0.0.1
                sub = json.loads(answer.read()).get("sub")
        except (OSError, ValueError):
            return None
        if not sub:
            return None
        found = (str(sub), frozenset({METADATA_SCOPE}))
        with self._lock:
            self._tokens[token] = found
        return found

    def _inject_fault(self, endpoint: str) -> None:
        with self._lock:
            fault = next((f for f in self._faults if f.remaining > 0 and f.endpoint in (None, endpoint)), None)
            if fault:
                fault.remaining -= 1
                kind, reason, hold = fault.kind, fault.reason, fault.hold
            elif self._random and self._random[3] in (None, endpoint) and self._random[1].random() < self._random[0]:
                _, rng, kinds, _, hold = self._random
                kind, reason = rng.choice(kinds), None
            else:
                return
        if kind == "timeout":
            self._stopping.wait(hold)  # then answer normally: the client has long given up
            return
        assert isinstance(kind, int)
        if kind == 403:
            reason = reason or "rateLimitExceeded"
            domain = "usageLimits" if "RateLimit" in reason or "rateLimit" in reason else "global"
            raise ApiError(403, reason, f"{reason} (injected)", domain=domain)
        default_reason, message, domain = _FAULT_ERRORS.get(kind, ("backendError", "Error", "global"))
        raise ApiError(kind, reason or default_reason, message, domain=domain)

    def _dispatch(self, endpoint: str, args: list[str], params: dict[str, str], headers: Any, who: str) -> _Response:
        if endpoint == "files.get_media":
            return self._get_media(args[0], params, headers.get("Range"), who)
        if endpoint == "files.export":
            return self._export(args[0], params, who)
        handler: Callable[..., Any] = {
            "files.list": self._list_files,
            "files.get": self._get_file,
            "changes.getStartPageToken": self._start_page_token,
            "changes.list": self._list_changes,
        }[endpoint]
        mask_text = params.get("fields") or _DEFAULT_FIELDS[endpoint]
        try:
            mask = parse_fields(mask_text)
            check_fields(mask, _RESPONSE_SCHEMA[endpoint])
        except FieldMaskError as exc:
            raise ApiError(400, "invalidParameter", str(exc), location="fields") from None
        with self._lock:
            payload = handler(*args, params=params, who=who)
        return _json(project(payload, mask))

    # ---- endpoints -------------------------------------------------------------------------------------------

    def _token(self, form: dict[str, list[str]]) -> _Response:
        field = {k: v[-1] for k, v in form.items()}
        grant = field.get("grant_type")
        if self._revoked:
            return _oauth_error("invalid_grant", "Token has been expired or revoked.")
        if grant == JWT_GRANT:
            found = self._valid_assertion(field.get("assertion", ""))
            if found is None:
                return _oauth_error("invalid_grant", "Invalid JWT Signature.")
        elif grant == "refresh_token":
            client = self._users.get(field.get("refresh_token", ""))
            if client is None:
                return _oauth_error("invalid_grant", "Bad Request")
            if client[:2] != (field.get("client_id"), field.get("client_secret")):
                return _oauth_error("invalid_client", "The OAuth client was not found.", status=401)
            found = (client[2], frozenset(DRIVE_SCOPES))
        else:
            return _oauth_error("unsupported_grant_type", f"Invalid grant_type: {grant}")
        token = "ya29.fake-" + secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = found
        return _json({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def _valid_assertion(self, assertion: str) -> tuple[str, frozenset[str]] | None:
        """The service account (its email) and scopes a JWT grant is good for, or None."""
        try:
            header = jwt.decode_header(assertion)
            email, public_pem = self._service_accounts[header.get("kid", "")]
            claims = jwt.decode(assertion, certs=public_pem, audience=[GOOGLE_TOKEN_URI, self.token_uri])
        except (KeyError, ValueError):
            return None
        scopes = frozenset(claims.get("scope", "").split())
        if claims.get("iss") != email or not scopes & (DRIVE_SCOPES | {METADATA_SCOPE}):
            return None
        return email, scopes

    def _get_visible(self, file_id: str, params: dict[str, str], who: str) -> FakeItem:
        item = self._items.get(file_id)
        if item is None or not self._visible(item, who) or (item.drive_id and not _flag(params, "supportsAllDrives")):
            raise ApiError(404, "notFound", f"File not found: {file_id}.", location="fileId")
        return item

    def _get_file(self, file_id: str, *, params: dict[str, str], who: str) -> dict[str, Any]:
        return self._resource(self._get_visible(file_id, params, who), who)

    def _list_files(self, *, params: dict[str, str], who: str) -> dict[str, Any]:
        all_drives = _flag(params, "includeItemsFromAllDrives")
        if all_drives and not _flag(params, "supportsAllDrives"):
            raise ApiError(403, "teamDrivesParameterNotSupported", "includeItemsFromAllDrives needs supportsAllDrives.")
        query = params.get("q", "")
        matches = _compile_query(query, self)
        page_size = min(_page_size(params, default=100), self.page_size_cap or 1000)
        found = sorted(
            (
                i
                for i in self._items.values()
                if self._visible(i, who) and (all_drives or not i.drive_id) and all(m(i) for m in matches)
            ),
            key=lambda i: (i.name.lower(), i.id),
        )
        offset = _decode_page_token(params.get("pageToken"), query)
        page = found[offset : offset + page_size]
        out: dict[str, Any] = {
            "kind": "drive#fileList",
            "incompleteSearch": False,
            "files": [self._resource(i, who) for i in page],
        }
        if offset + page_size < len(found):
            out["nextPageToken"] = _encode_page_token(offset + page_size, query)
        return out

    def _start_page_token(self, *, params: dict[str, str], who: str) -> dict[str, Any]:
        return {"kind": "drive#startPageToken", "startPageToken": str(len(self._log) + 1)}

    def _list_changes(self, *, params: dict[str, str], who: str) -> dict[str, Any]:
        token = params.get("pageToken", "")
        if not token.isdigit() or not 1 <= int(token) <= len(self._log) + 1:
            raise ApiError(400, "invalid", f"Invalid Value: pageToken {token!r}", location="pageToken")
        all_drives = _flag(params, "includeItemsFromAllDrives") and _flag(params, "supportsAllDrives")
        include_removed = params.get("includeRemoved", "true") != "false"
        last: dict[str, int] = {}  # Google reports each file once: its latest change in the window
        for seq in range(int(token), len(self._log) + 1):
            last[self._log[seq - 1][0]] = seq
        entries: list[tuple[int, dict[str, Any]]] = []
        for item_id, seq in sorted(last.items(), key=lambda kv: kv[1]):
            item = self._items[item_id]
            visible = self._visible(item, who)
            if not (visible or _sees(self._log[seq - 1][1], who)) or (item.drive_id and not all_drives):
                continue
            change: dict[str, Any] = {
                "kind": "drive#change",
                "changeType": "file",
                "fileId": item_id,
                "removed": not visible,
                "time": (_EPOCH + timedelta(seconds=item.modified)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            }
            if visible:
                change["file"] = self._resource(item, who)
            elif not include_removed:
                continue
            entries.append((seq, change))
        page_size = min(_page_size(params, default=100), self.page_size_cap or 1000)
        out: dict[str, Any] = {"kind": "drive#changeList", "changes": [c for _, c in entries[:page_size]]}
        if len(entries) > page_size:
            out["nextPageToken"] = str(entries[page_size][0])
        else:
            out["newStartPageToken"] = str(len(self._log) + 1)
        return out

    def _get_media(self, file_id: str, params: dict[str, str], range_header: str | None, who: str) -> _Response:
        with self._lock:
            item = self._get_visible(file_id, params, who)
            if item.mime_type.startswith("application/vnd.google-apps."):
                raise ApiError(
                    403,
                    "fileNotDownloadable",
                    "Only files with binary content can be downloaded. Use Export with Docs Editors files.",
                    location="alt",
                )
            data, mime = item.data, item.mime_type
        total = len(data)
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", range_header or "")
        if not match:
            return _Response(200, data, {"Content-Type": mime})
        start = int(match.group(1))
        end = min(int(match.group(2) or total - 1), total - 1)
        if start >= total:
            return _Response(416, b"", {"Content-Range": f"bytes */{total}"})
        headers = {"Content-Type": mime, "Content-Range": f"bytes {start}-{end}/{total}"}
        return _Response(206, data[start : end + 1], headers)

    def _export(self, file_id: str, params: dict[str, str], who: str) -> _Response:
        with self._lock:
            item = self._get_visible(file_id, params, who)
            if not item.mime_type.startswith("application/vnd.google-apps."):
                raise ApiError(403, "fileNotExportable", "Export only supports Docs Editors files.", location="fileId")
            if item.mime_type != GOOGLE_DOC or params.get("mimeType") != "application/pdf":
                raise ApiError(400, "badRequest", "The requested conversion is not supported.", location="mimeType")
            text, name = item.data.decode(), item.name
        return _Response(200, fake_pdf(name, text), {"Content-Type": "application/pdf"})


def fake_pdf(title: str, text: str) -> bytes:
    """What exporting a Google Doc returns here: a stand-in PDF whose bytes depend on the doc."""
    return f"%PDF-1.4\n% fake export of {title}\n% {text}\n%%EOF\n".encode()


# --------------------------------------------------------------------------------------------------------------
# Small helpers.


def _sees(audience: frozenset[str], who: str) -> bool:
    return EVERYONE in audience or who in audience


def _json(payload: Any, status: int = 200) -> _Response:
    return _Response(status, json.dumps(payload).encode(), {"Content-Type": "application/json; charset=UTF-8"})


def _oauth_error(error: str, description: str, status: int = 400) -> _Response:
    return _json({"error": error, "error_description": description}, status)


def _flag(params: dict[str, str], name: str) -> bool:
    return params.get(name, "false").lower() == "true"


def _page_size(params: dict[str, str], default: int) -> int:
    raw = params.get("pageSize", str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        raise ApiError(400, "invalid", f"Invalid value for pageSize: {raw}", location="pageSize")
    return int(raw)


def _encode_page_token(offset: int, query: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([offset, query]).encode()).decode()


def _decode_page_token(token: str | None, query: str) -> int:
    if not token:
        return 0
    try:
        offset, token_query = json.loads(base64.urlsafe_b64decode(token.encode()))
    except ValueError:
        offset, token_query = None, None
    if token_query != query or not isinstance(offset, int):
        raise ApiError(400, "invalid", "Invalid Value", location="pageToken")
    return offset


_TERM = re.compile(
    r"""\s*(?:'(?P<pid>[^']+)'\s+in\s+parents"""
    r"""|trashed\s*=\s*(?P<trashed>true|false)"""
    r"""|name\s*=\s*'(?P<name>[^']*)'"""
    r"""|mimeType\s*(?P<op>!=|=)\s*'(?P<mime>[^']+)')\s*""",
    re.IGNORECASE,
)


def _compile_query(q: str, drive: FakeDrive) -> list[Callable[[FakeItem], bool]]:
    """The subset of Drive's query language SOLEil uses, joined by ``and``; anything else is a 400."""
    if not q.strip():
        return []
    tests: list[Callable[[FakeItem], bool]] = []
    for term in re.split(r"\s+and\s+", q.strip(), flags=re.IGNORECASE):
        m = _TERM.fullmatch(term)
        if not m:
            raise ApiError(400, "invalid", f"Invalid Value: unsupported query term {term!r}", location="q")
        if m["pid"]:
            tests.append(lambda i, pid=m["pid"]: i.parent == pid)
        elif m["name"] is not None:
            tests.append(lambda i, name=m["name"]: i.name == name)
        elif m["trashed"]:
            tests.append(lambda i, want=m["trashed"].lower() == "true": drive._is_trashed(i) == want)
        else:
            tests.append(lambda i, mime=m["mime"], eq=m["op"] == "=": (i.mime_type == mime) == eq)
    return tests


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a timeout fault, a test that is done) is no error worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Thin stdlib adapter: HTTP/1.1 keep-alive (httplib2 reuses connections), always a Content-Length."""

    protocol_version = "HTTP/1.1"
    timeout = 10  # reap idle keep-alive connections
    disable_nagle_algorithm = True
    wbufsize = -1  # headers and body in one segment (else Nagle + delayed ACK cost 40 ms per request)

    def setup(self) -> None:
        super().setup()
        fake: FakeDrive = self.server.fake  # type: ignore[attr-defined]
        with fake._lock:
            fake._connections.add(self.connection)

    def finish(self) -> None:
        fake: FakeDrive = self.server.fake  # type: ignore[attr-defined]
        with fake._lock:
            fake._connections.discard(self.connection)
        with suppress(OSError):
            super().finish()

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def _answer(self, verb: str) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake: FakeDrive = self.server.fake  # type: ignore[attr-defined]
        response = fake.handle(verb, self.path, self.headers, body)
        try:
            self.send_response(response.status)
            for name, value in (response.headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
            self.wfile.flush()  # buffered (wbufsize): a client that left fails here, not later in the stdlib
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. a timeout fault)

    def log_message(self, format: str, *args: Any) -> None:
        pass


# --------------------------------------------------------------------------------------------------------------
# Manual runs.


def _demo_tree(fake: FakeDrive) -> str:
    root = fake.add_folder("Band charts")
    horns = fake.add_folder("Horns", root)
    fake.add_file("Autumn Leaves - Trumpet.pdf", horns, b"%PDF-1.4 trumpet part")
    fake.add_file("Autumn Leaves - Score.pdf", root, b"%PDF-1.4 score")
    fake.add_google_doc("Setlist notes", root, "Open with Autumn Leaves")
    return root


def main(argv: list[str] | None = None) -> None:
    """``python -m tests.fakes.drive_server``: serve a demo library until Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--page-size-cap", type=int, default=None)
    args = parser.parse_args(argv)
    fake = FakeDrive(page_size_cap=args.page_size_cap).start(args.port)
    root = _demo_tree(fake)
    key_file = fake.create_service_account(tempfile.mkdtemp(prefix="fake-drive-"))
    print(f"SOLEIL_DRIVE_API_ENDPOINT={fake.base_url}")
    print(f"SOLEIL_GOOGLE_SERVICE_ACCOUNT_FILE={key_file}")
    print(f"Demo folder id: {root}   (token endpoint {fake.token_uri})")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
