"""The one event hub: band-scoped publish/subscribe for live updates, within one process or across instances.

Topics always start with the band (``band:{id}:…``) and ``subscribe`` takes the band id separately, so a
subscriber can never receive another band's events by choosing a topic. Handlers are plain callables invoked on
the event loop; they must be quick (update existing elements in place, never rebuild pages).

Delivery is built for a few hundred open pages per process: ``publish`` runs the handlers in chunks of
``CHUNK`` and yields to the loop between chunks, so one broadcast never stalls every other client, and one lock
keeps events in publish order even though delivery yields. Payloads are small by contract (ids and versions,
never whole lists: subscribers re-read what changed), at most ``MAX_PAYLOAD`` bytes as JSON.

With PostgreSQL, ``configure_hub(url)`` adds a LISTEN/NOTIFY transport: every event is also sent on one channel
to the other instances, each of which delivers it to its own subscribers. The listening connection is dedicated
and reconnects by itself; after a reconnect every subscriber gets a ``{"resync": True}`` event, because
notifications sent while it was away are lost and pages must re-read the state. With SQLite the in-process hub
does the same job behind the same interface.

Lifecycle (composition root)::

    events.configure_hub(settings.resolved_database_url)   # before serving
    await events.hub.start()                                 # in start-up, after migrations
    await events.hub.stop()                                  # in shut-down
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

log = logging.getLogger(__name__)
Handler = Callable[["Event"], Any]
CHUNK = 25  # handlers run between two yields to the loop (their pages' sends start in between)
MAX_PAYLOAD = 7900  # bytes of JSON; PostgreSQL's NOTIFY takes at most 8000 including our envelope
CHANNEL = "soleil_events"


@dataclass(frozen=True, slots=True)
class Event:
    band_id: int
    topic: str  # e.g. "setlist:12", "library", "live", "membership"
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
        self._relays: list[Handler] = []  # see ``add_relay``
        self.instance_id = uuid.uuid4().hex  # this process among the app's instances
        self._transport: PgNotifyTransport | None = None
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._sent = 0  # numbers this instance's notifications, so a resent one is recognised
        self._last_heard: dict[str, int] = {}  # per other instance: the newest number delivered

    # --- subscribers -------------------------------------------------------------------------------------------
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

    def add_relay(self, handler: Handler) -> None:
        """Run ``handler`` first for every event this process delivers, of every band and topic.

        For transports that pass an event on as it is, once per process (the live call to a socket.io room): they
        hear every band, so they must address by ``event.band_id`` themselves. Pages never relay; they subscribe.
        """
        if handler not in self._relays:
            self._relays.append(handler)

    def remove_relay(self, handler: Handler) -> None:
        if handler in self._relays:
            self._relays.remove(handler)

    def reset(self) -> None:
        """Forget every subscriber (tests, between simulated app runs)."""
        self._handlers.clear()

    def subscriber_count(self, band_id: int, topic: str) -> int:
        return len(self._handlers.get((band_id, topic), ()))

    # --- publishing --------------------------------------------------------------------------------------------
    async def publish(self, event: Event) -> None:
        """Send to the other instances (if any) and deliver to this process's subscribers, in publish order."""
        if self._transport is not None:
            self._sent += 1
            self._transport.send(encode(event, self.instance_id, self._sent))
        else:
            encode(event, self.instance_id, 0)  # the same size rule with or without other instances
        await self.deliver_async(event)

    def publish_after_commit(self, session: AsyncSession, event: Event) -> None:
        """Publish ``event`` once this unit of work commits (never if it rolls back).

        Subscribers re-read the database when told, so telling them before the commit would show them the old
        state; on PostgreSQL another instance could not even see the change yet.
        """
        import sqlalchemy as sa

        def fire(_session: Any) -> None:
            self._spawn(self.publish(event))

        sa.event.listen(session.sync_session, "after_commit", fire, once=True)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def drain(self) -> None:
        """Wait until every publish started after a commit has been delivered here (tests, benchmarks)."""
        while self._in_flight:
            await asyncio.gather(*list(self._in_flight), return_exceptions=True)

    def deliver(self, event: Event) -> None:
        """Run every handler of the event's band and topic now; one failing handler never stops the others."""
        for relay in list(self._relays):
            self._call(relay, event)
        for handler in list(self._handlers.get((event.band_id, event.topic), ())):
            self._call(handler, event)

    async def deliver_async(self, event: Event) -> None:
        """Like ``deliver`` but yielding to the loop every ``CHUNK`` handlers; events keep their order."""
        handlers = list(self._handlers.get((event.band_id, event.topic), ()))
        if len(handlers) <= CHUNK:
            async with self._ordering():
                for handler in [*self._relays, *handlers]:
                    self._call(handler, event)
            return
        async with self._ordering():
            for relay in list(self._relays):
                self._call(relay, event)
            for start in range(0, len(handlers), CHUNK):
                if start:
                    await asyncio.sleep(0)
                for handler in handlers[start:start + CHUNK]:
                    self._call(handler, event)

    def _ordering(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:  # tests run each case on a fresh loop
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock

    @staticmethod
    def _call(handler: Handler, event: Event) -> None:
        try:
            handler(event)
        except Exception:
            log.exception("event handler failed for band %s topic %s", event.band_id, event.topic)

    def _resync_everyone(self) -> None:
        """Tell every subscriber that events may have been missed (after the transport reconnected)."""
        for band_id, topic in list(self._handlers):
            self._spawn(self.deliver_async(Event(band_id, topic, {"resync": True})))

    def _heard(self, wire: str) -> None:
        """An event from another instance."""
        try:
            origin, number, event = decode(wire)
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed event notification")
            return
        if origin == self.instance_id:
            return
        if number <= self._last_heard.get(origin, 0):
            return  # a resend after the sender lost its connection mid-send: delivered already
        self._last_heard[origin] = number
        self._spawn(self.deliver_async(event))

    # --- instances ---------------------------------------------------------------------------------------------
    def use_transport(self, transport: PgNotifyTransport | None) -> None:
        self._transport = transport

    @property
    def is_distributed(self) -> bool:
        return self._transport is not None

    async def start(self) -> None:
        if self._transport is not None:
            await self._transport.start(self)

    async def stop(self) -> None:
        await self.drain()
        if self._transport is not None:
            await self._transport.stop()


def encode(event: Event, origin: str, number: int) -> str:
    """The notification: origin instance, its running number, band, topic and payload, as compact JSON."""
    wire = json.dumps({"o": origin, "n": number, "b": event.band_id, "t": event.topic, "p": event.payload},
                      separators=(",", ":"), ensure_ascii=False)
    if len(wire.encode()) > MAX_PAYLOAD:
        raise ValueError(f"event payload for {event.topic} is {len(wire.encode())} bytes; send ids, not data")
    return wire


def decode(wire: str) -> tuple[str, int, Event]:
    data = json.loads(wire)
    return str(data["o"]), int(data["n"]), Event(int(data["b"]), str(data["t"]), dict(data.get("p") or {}))


def asyncpg_dsn(url: str) -> str:
    """``postgresql+asyncpg://…`` (SQLAlchemy) as the plain ``postgresql://…`` asyncpg connects to."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PgNotifyTransport:
    """Events between instances over PostgreSQL LISTEN/NOTIFY, on two dedicated asyncpg connections.

    One connection only listens; the other sends from a queue in order. Either reconnects with a backoff when
    lost; a watchdog pings the listener so a silently dead connection is noticed too. A send whose answer was
    lost with the connection is sent again; receivers drop it by its number (at-least-once on the wire,
    exactly once to subscribers).
    """

    PING_EVERY = 10.0
    BACKOFF = (0.2, 0.5, 1.0, 2.0, 5.0)
    QUEUE_LIMIT = 10_000

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._hub: EventHub | None = None
        self._listener: Any = None
        self._sender: Any = None
        self._queue: asyncio.Queue[str] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._lost = asyncio.Event()
        self.connected = asyncio.Event()  # set while listening (tests wait on it)
        self.reconnects = 0

    async def start(self, hub: EventHub) -> None:
        self._hub = hub
        self._queue = asyncio.Queue()
        self._lost = asyncio.Event()
        self.connected = asyncio.Event()
        await self._listen()
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._watch(), name="event hub listener"),
                       loop.create_task(self._send_loop(), name="event hub sender")]

    async def stop(self) -> None:
        """Send what is queued (for a few seconds at most), then close both connections."""
        if self._queue is not None and self._tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), timeout=5)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        for conn in (self._listener, self._sender):
            if conn is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(), timeout=2)
        self._listener = self._sender = None
        self.connected.clear()

    def send(self, wire: str) -> None:
        if self._queue is None:
            return  # not started (e.g. a CLI command): nobody else to tell
        if self._queue.qsize() >= self.QUEUE_LIMIT:
            log.warning("event hub: the database is away and the queue is full; dropping the oldest event")
            self._queue.get_nowait()
            self._queue.task_done()
        self._queue.put_nowait(wire)

    async def _connect(self) -> Any:
        import asyncpg

        return await asyncpg.connect(self.dsn, timeout=10)

    async def _listen(self) -> None:
        conn = await self._connect()
        assert self._hub is not None
        hub = self._hub
        await conn.add_listener(CHANNEL, lambda _c, _pid, _ch, payload: hub._heard(payload))
        conn.add_termination_listener(lambda _c: self._lost.set())
        self._listener = conn
        self._lost.clear()
        self.connected.set()

    async def _watch(self) -> None:
        """Keep the listener alive: reconnect when it is lost or stops answering, then have pages re-read."""
        while True:
            try:
                await asyncio.wait_for(self._lost.wait(), timeout=self.PING_EVERY)
            except TimeoutError:
                try:
                    await asyncio.wait_for(self._listener.fetchval("SELECT 1"), timeout=5)
                    continue
                except Exception:
                    log.warning("event hub: the listening connection stopped answering")
            self.connected.clear()
            with contextlib.suppress(Exception):
                self._listener.terminate()
            for attempt in range(1_000_000):
                try:
                    await self._listen()
                    break
                except Exception as exc:
                    delay = self.BACKOFF[min(attempt, len(self.BACKOFF) - 1)]
                    log.warning("event hub: reconnecting in %.1f s (%s)", delay, type(exc).__name__)
                    await asyncio.sleep(delay)
            self.reconnects += 1
            log.info("event hub: listening again")
            assert self._hub is not None
            self._hub._resync_everyone()

    async def _send_loop(self) -> None:
        assert self._queue is not None
        attempt = 0
        while True:
            wire = await self._queue.get()
            while True:
                try:
                    if self._sender is None or self._sender.is_closed():
                        self._sender = await self._connect()
                    await self._sender.execute("SELECT pg_notify($1, $2)", CHANNEL, wire)
                    attempt = 0
                    self._queue.task_done()
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    delay = self.BACKOFF[min(attempt, len(self.BACKOFF) - 1)]
                    attempt += 1
                    log.warning("event hub: could not send an event (%s); retrying in %.1f s", type(exc).__name__,
                                delay)
                    if self._sender is not None:
                        with contextlib.suppress(Exception):
                            self._sender.terminate()
                    self._sender = None
                    await asyncio.sleep(delay)


def configure_hub(url: str) -> EventHub:
    """Choose how events travel from the database URL: LISTEN/NOTIFY with PostgreSQL, in-process otherwise."""
    hub.use_transport(PgNotifyTransport(asyncpg_dsn(url)) if url.startswith("postgresql") else None)
    return hub


hub = EventHub()
