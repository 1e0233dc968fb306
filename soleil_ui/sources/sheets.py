"""Google Sheets, read-only: the cells of a spreadsheet's first sheet, for importing a setlist.

The same credentials as the Drive client (``drive.readonly`` covers reading Sheets) and the same HTTP stack; calls
block, so callers run them in a worker thread. Whether a band may read a given sheet at all is decided before, in
``services/setlist_import.py``: this module only reads.
"""

from __future__ import annotations

import logging
import re
import urllib.parse
from typing import Any

import google_auth_httplib2
import httplib2
from google.auth.credentials import Credentials
from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from ..errors import Forbidden, InvalidInput, NotFound, UpstreamUnavailable

log = logging.getLogger(__name__)

RANGE = "A1:Z300"  # the first sheet's first 26 columns and 300 rows: more than any setlist
_ID = r"[A-Za-z0-9_-]{20,}"
_CANT_READ = ("SOLEil can't open that Google Sheet. Check the link, and that the sheet is in the band's Drive folder "
              "or shared with your Google account.")


def parse_sheet_id(text: str) -> str:
    """The spreadsheet id inside a link a leader pasted (``docs.google.com/spreadsheets/d/<id>/…``) or a bare id."""
    text = (text or "").strip()
    if re.fullmatch(_ID, text):
        return text
    url = urllib.parse.urlsplit(text if "://" in text else "https://" + text)
    if url.hostname in ("docs.google.com", "drive.google.com"):
        if match := re.search(rf"/(?:spreadsheets/d|file/d)/({_ID})", url.path):
            return match[1]
        ids = urllib.parse.parse_qs(url.query).get("id", [])
        if ids and re.fullmatch(_ID, ids[0]):
            return ids[0]
    raise InvalidInput("That isn't a Google Sheets link. Open the sheet, choose Share → Copy link, and paste it here.")


def read_values(sheet_id: str, credentials: Credentials, api_endpoint: str | None = None, *,
                timeout: float = 30.0) -> list[list[Any]]:
    """The first sheet's cells as shown (formatted values), row by row. Blocks: run it in a thread."""
    http = google_auth_httplib2.AuthorizedHttp(credentials, http=httplib2.Http(timeout=timeout))
    options = {"api_endpoint": api_endpoint} if api_endpoint else None
    try:
        service = build("sheets", "v4", http=http, client_options=options, static_discovery=True,
                        cache_discovery=False)
        answer = service.spreadsheets().values().get(
            spreadsheetId=sheet_id, range=RANGE, majorDimension="ROWS", valueRenderOption="FORMATTED_VALUE",
        ).execute(num_retries=2)
    except HttpError as exc:
        status = exc.resp.status
        log.info("Sheets: reading %s failed: HTTP %s", sheet_id, status)
        if status in (400, 404):
            raise NotFound(_CANT_READ, detail=f"Sheets HTTP {status}") from exc
        if status in (401, 403):
            raise Forbidden(_CANT_READ, detail=f"Sheets HTTP {status}") from exc
        raise UpstreamUnavailable("Google Sheets isn't answering right now. Try again in a minute.",
                                  detail=f"Sheets HTTP {status}") from exc
    except RefreshError as exc:
        raise Forbidden("SOLEil can no longer use the band's Google connection. A leader needs to reconnect "
                        "Google Drive in Library files.", detail=f"Sheets: {exc}") from exc
    except (TransportError, httplib2.HttpLib2Error, OSError) as exc:
        raise UpstreamUnavailable("Google Sheets isn't answering right now. Try again in a minute.",
                                  detail=f"Sheets: {type(exc).__name__}: {exc}") from exc
    values = answer.get("values") or []
    return [list(row) for row in values if isinstance(row, list)]
