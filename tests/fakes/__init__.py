"""Fakes of outside services that speak the real wire protocol, so tests exercise the real client libraries.

Names are imported lazily, so ``python -m tests.fakes.drive_server`` runs the module only once.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FakeDrive", "write_service_account_json"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import drive_server

        return getattr(drive_server, name)
    raise AttributeError(name)
