"""Builds the chart source a band's ``LibrarySource`` record describes.

Drive credentials are either the server's service account (``SOLEIL_GOOGLE_SERVICE_ACCOUNT_FILE``, the folder
shared with its email) or a leader's own consent (a refresh token, encrypted at rest in the record).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ..errors import ConfigError, InvalidInput
from ..models import LibrarySource
from ..runtime import get_runtime
from .base import ChartSource
from .local import LocalFolderSource

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


def source_for(record: LibrarySource) -> ChartSource:
    """One source object per band and location, so a local folder's checksum cache survives between syncs."""
    if record.kind == "local":
        key = (record.band_id, record.location)
        if key not in _local_cache:
            _local_cache[key] = LocalFolderSource(Path(record.location))
        return _local_cache[key]
    if record.kind == "drive":
        return _drive_source(record)
    raise InvalidInput(f"Unknown library source kind {record.kind!r}.")


def _drive_source(record: LibrarySource) -> ChartSource:
    from .drive import DriveSource, RetryPolicy, service_account_credentials, user_credentials

    runtime = get_runtime()
    settings = runtime.settings
    grant = json.loads(runtime.secrets.decrypt(record.credentials_enc)) if record.credentials_enc else {}
    if grant.get("type") == "user":
        credentials = user_credentials(grant["refresh_token"], settings.google_client_id,
                                       settings.google_client_secret, grant["token_uri"])
    elif settings.google_service_account_file:
        credentials = service_account_credentials(str(settings.google_service_account_file))
    else:
        raise ConfigError("Drive access isn't set up: connect Drive again, or configure a service account "
                          "(SOLEIL_GOOGLE_SERVICE_ACCOUNT_FILE).")
    return DriveSource(record.location, credentials, api_endpoint=settings.drive_api_endpoint or None,
                       retry=RetryPolicy(base_delay=settings.drive_retry_base_delay))
