"""``soleil healthcheck`` / ``python -m soleil_ui.healthcheck``: is the server these settings describe ready?

The container runs it every 30 s, so it imports only the settings (no database, no web app, no renderer): on a busy
machine the whole ``soleil`` command took longer to import than the health check's time-out.
"""

from __future__ import annotations

import ssl
import sys
import urllib.request

from .errors import ConfigError
from .settings import Settings, load_settings


def check(settings: Settings) -> int:
    """Ask /readyz where the settings say the app listens (SOLEIL_HOST/PORT, HTTPS with SOLEIL_TLS_CERT)."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "", "::") else settings.host  # noqa: S104 — not a bind
    scheme = "https" if settings.tls_cert else "http"
    # Our own certificate on the loopback: whether a phone trusts it is not this check's question.
    context = ssl._create_unverified_context() if settings.tls_cert else None  # noqa: S323
    url = f"{scheme}://{host}:{settings.port}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=4, context=context) as response:  # noqa: S310 — our own URL
            return 0 if response.status == 200 else 1
    except OSError as exc:
        print(f"soleil: {url} did not answer ready: {exc}", file=sys.stderr)
        return 1


def main() -> int:
    try:
        return check(load_settings())
    except ConfigError as exc:
        print(f"soleil: {exc.detail}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
