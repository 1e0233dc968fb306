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
    reading: dict[str, str] = field(default_factory=dict)  # ``Membership.reading``: how they read, per instrument
    gig_id: int | None = None  # a substitute's one gig: all they may see of the band

    @property
    def is_leader(self) -> bool:
        return self.role == Role.LEADER

    @property
    def is_sub(self) -> bool:
        return self.role == Role.SUB

    def require_leader(self) -> None:
        if not self.is_leader:
            raise Forbidden("Only the band's leaders can do that.")
