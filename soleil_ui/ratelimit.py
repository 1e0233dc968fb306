"""Rate limits: every route that starts a sign-in, joins a band, creates invites or builds server work counts here.

The ``limits`` library does the counting (fixed windows) in one of three storages: in this process's memory (one
instance, the default), in Redis (``SOLEIL_REDIS_URL``), or in our database table (``ratelimit_sql``: several
instances on PostgreSQL with no Redis, the default with PostgreSQL). Signed-in people are counted per account;
only signed-out routes count per client address, because a whole band shares one venue Wi-Fi address.

Each rule is a setting (``SOLEIL_LIMIT_*``, limits' notation such as ``"30/minute;300/hour"``). Going over raises
``TooManyRequests`` with the seconds until the window ends: HTTP 429 with ``Retry-After``, or a message in a page.
If the counter storage fails, the request is let through and the failure logged: a broken Redis must not lock a
band out on a gig night.
"""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from .errors import TooManyRequests
from .ratelimit_sql import DatabaseStorage
from .settings import Settings, get_settings

log = logging.getLogger(__name__)

RULES = {  # rule -> the setting holding its limits
    "sign_in": "limit_sign_in",  # OpenID starts and callbacks, demo sign-ins: per address
    "join": "limit_join",  # invite links: per address signed out, per account signed in
    "invites": "limit_invites",  # invites a leader creates: per account
    "media": "limit_media",  # page images, engraved pages, printable PDFs, audio: per account
    "work": "limit_work",  # other routes that build server work (offline manifests, stage prints): per account
    "anonymous_pages": "limit_anonymous_pages",  # pages opened while signed out: per address
    "api": "limit_api",  # JSON API and MCP requests: per token's account (all of a member's tokens together)
    "annotations": "limit_annotations",  # marks sent from the stand's pencil: per account
}


def make_storage(settings: Settings) -> Storage:
    kind = settings.limit_storage
    if kind == "redis":
        return storage_from_string("async+" + settings.redis_url, implementation="redispy",  # type: ignore[return-value]
                                   wrap_exceptions=True)
    if kind == "database":
        return DatabaseStorage(wrap_exceptions=True)
    return MemoryStorage(wrap_exceptions=True)


class Limiter:
    """The app's rate limits, read from one ``Settings``."""

    def __init__(self, settings: Settings, storage: Storage | None = None) -> None:
        self.settings = settings
        self.storage = storage or make_storage(settings)
        self.strategy = FixedWindowRateLimiter(self.storage)
        self.rules: dict[str, list[RateLimitItem]] = {
            rule: parse_many(getattr(settings, field)) for rule, field in RULES.items()}

    async def hit(self, rule: str, *who: str) -> None:
        """Count one request under ``rule`` for ``who`` (e.g. ``"user:7"`` or ``"ip:10.0.0.2"``), or refuse it."""
        for item in self.rules[rule]:
            try:
                if await self.strategy.hit(item, rule, *who):
                    continue
                reset = (await self.strategy.get_window_stats(item, rule, *who)).reset_time
            except StorageError:
                log.warning("rate-limit storage failed; letting %s through", rule, exc_info=True)
                return
            raise TooManyRequests(math.ceil(reset - time.time()), detail=f"{rule} limit {item} reached by {who}")

    async def sweep(self) -> int:
        """Forget finished windows in the database storage (the others expire keys themselves)."""
        return await self.storage.sweep() if isinstance(self.storage, DatabaseStorage) else 0


_limiter: Limiter | None = None


def get_limiter() -> Limiter:
    """The limiter for the current settings (tests that change settings get a fresh one, with fresh counters)."""
    global _limiter
    settings = get_settings()
    if _limiter is None or _limiter.settings is not settings:
        _limiter = Limiter(settings)
    return _limiter


async def hit(rule: str, *who: str) -> None:
    await get_limiter().hit(rule, *who)
