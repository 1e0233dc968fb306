"""The one event hub: band-scoped publish/subscribe for live updates.

Topics always start with the band (``band:{id}:…``) and ``subscribe`` takes the band id separately, so a
subscriber can never receive another band's events by choosing a topic. The in-process hub serves SQLite
and single-instance installs; a PostgreSQL LISTEN/NOTIFY hub implements the same interface for several
instances. Handlers are plain callables invoked on the event loop; they must be quick (update existing
elements in place, never rebuild pages) because one publish runs every subscriber's handler.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)
Handler = Callable[["Event"], Any]


@dataclass(frozen=True, slots=True)
class Event:
    band_id: int
    topic: str  # e.g. "setlist:12", "library", "live:12", "membership"
    payload: dict[str, Any] = field(default_factory=dict)


class Subscription:
    """Returned by ``subscribe``; call ``close()`` (e.g. when the client disconnects)."""

    def __init__(self, hub: EventHub, key: tuple[int, str], handler: Handler) -> None:
        self._hub, self._key, self._handler = hub, key, handler

    def close(self) -> None:
        self._hub._remove(self._key, self._handler)


class EventHub:
    def __init__(self) -> None:
        self._handlers: dict[tuple[int, str], list[Handler]] = defaultdict(list)

    def subscribe(self, band_id: int, topic: str, handler: Handler) -> Subscription:
        key = (band_id, topic)
        self._handlers[key].append(handler)
        return Subscription(self, key, handler)

    def _remove(self, key: tuple[int, str], handler: Handler) -> None:
        handlers = self._handlers.get(key)
        if handlers and handler in handlers:
            handlers.remove(handler)
            if not handlers:
                del self._handlers[key]

    def reset(self) -> None:
        """Forget every subscriber (tests, between simulated app runs)."""
        self._handlers.clear()

    def subscriber_count(self, band_id: int, topic: str) -> int:
        return len(self._handlers.get((band_id, topic), ()))

    async def publish(self, event: Event) -> None:
        self.deliver(event)

    def deliver(self, event: Event) -> None:
        """Run every handler of the event's band and topic; one failing handler never stops the others."""
        for handler in list(self._handlers.get((event.band_id, event.topic), ())):
            try:
                handler(event)
            except Exception:
                log.exception("event handler failed for band %s topic %s", event.band_id, event.topic)


hub = EventHub()
