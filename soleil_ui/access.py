"""Who is asking. Every service call takes an ``Actor`` and scopes its queries to ``actor.band_id``.

Authorization lives here and in the services, never only in the UI: hiding a button is a courtesy,
``require_leader`` is the rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import Forbidden
from .models import Role


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int
    band_id: int
    membership_id: int
    role: str
    name: str
    email: str
    band_name: str = ""
    instruments: tuple[dict[str, Any], ...] = field(default=())

    @property
    def is_leader(self) -> bool:
        return self.role == Role.LEADER

    def require_leader(self) -> None:
        if not self.is_leader:
            raise Forbidden("Only the band's leaders can do that.")
