"""Builds the chart source a band's ``LibrarySource`` record describes.

Drive credentials are either the server's service account (``SOLEIL_GOOGLE_SERVICE_ACCOUNT_FILE``, the folder
shared with its email) or a leader's own consent (a refresh token, encrypted at rest in the record).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError, InvalidInput
from ..models import LibrarySource
from ..runtime import get_runtime
from .base import ChartSource
from .local import LocalFolderSource

if TYPE_CHECKING:
    from google.auth.credentials import Credentials

    from .drive import DriveSource

log = logging.getLogger(__name__)
_local_cache: dict[tuple[int, str], LocalFolderSource] = {}


def service_account_email() -> str | None:
    """The email a band shares its folder with, when the server has a service account configured."""
    path = get_runtime().settings.google_service_account_file
    if not path:
        return None
    try:
        return str(json.loads(Path(path).read_text())["client_email"])
    except (OSError, ValueError, KeyError):
        log.warning("SOLEIL_GOOGLE_SERVICE_ACCOUNT_FILE %s is unreadable or not a service-account key", path)
        return None


def source_for(record: LibrarySource, *, foreign: frozenset[str] = frozenset()) -> ChartSource:
    """One source object per band and location, so a local folder's checksum cache survives between syncs.
    ``foreign``: Drive folders other bands have proven theirs, never read for this band."""
    if record.kind == "local":
        key = (record.band_id, record.location)
        if key not in _local_cache:
            _local_cache[key] = LocalFolderSource(Path(record.location))
        return _local_cache[key]
    if record.kind == "drive":
        return stored_grant_source(record.location, record.credentials_enc, foreign=foreign)
    raise InvalidInput(f"Unknown library source kind {record.kind!r}.")


def uses_own_grant(record: LibrarySource) -> bool:
    """True if the band reads its Drive folder with a leader's own consent (not the shared service account)."""
    if record.kind != "drive" or not record.credentials_enc:
        return False
    return json.loads(get_runtime().secrets.decrypt(record.credentials_enc)).get("type") == "user"


def drive_source(folder_id: str, credentials: Credentials, *, foreign: frozenset[str] = frozenset()) -> DriveSource:
    """A Drive source on the configured endpoint and retry policy, with whatever credentials are given."""
    from .drive import DriveSource, RetryPolicy

    settings = get_runtime().settings
    return DriveSource(folder_id, credentials, api_endpoint=settings.drive_api_endpoint or None,
                       retry=RetryPolicy(base_delay=settings.drive_retry_base_delay), foreign=foreign)


def service_account_source(folder_id: str, *, foreign: frozenset[str] = frozenset()) -> DriveSource:
    """The folder as the server's service account sees it (the one account every band on the server shares)."""
    from .drive import service_account_credentials

    path = get_runtime().settings.google_service_account_file
    if not path:
        raise ConfigError("Drive access isn't set up: connect Drive with your Google account, or configure a service "
                          "account (SOLEIL_GOOGLE_SERVICE_ACCOUNT_FILE).")
    return drive_source(folder_id, service_account_credentials(str(path)), foreign=foreign)


def stored_grant_source(folder_id: str, credentials_enc: str | None, *,
                        foreign: frozenset[str] = frozenset()) -> DriveSource:
    """The folder read with a band's stored grant (encrypted), or with the service account when there is none."""
    return drive_source(folder_id, stored_credentials(credentials_enc), foreign=foreign)


def stored_credentials(credentials_enc: str | None) -> Credentials:
    """A band's stored grant (a leader's refresh token, encrypted) as credentials; the service account's without one.
    Both are read-only Drive scopes, which cover reading Google Sheets too."""
    from .drive import service_account_credentials, user_credentials

    runtime = get_runtime()
    settings = runtime.settings
    grant = json.loads(runtime.secrets.decrypt(credentials_enc)) if credentials_enc else {}
    if grant.get("type") == "user":
        return user_credentials(grant["refresh_token"], settings.google_client_id, settings.google_client_secret,
                                grant["token_uri"])
    path = settings.google_service_account_file
    if not path:
        raise ConfigError("Drive access isn't set up: connect Drive with your Google account, or configure a service "
                          "account (SOLEIL_GOOGLE_SERVICE_ACCOUNT_FILE).")
    return service_account_credentials(str(path))
