"""A tiny TCP proxy between a browser and a test server that can cut the network for real.

Playwright's offline switch leaves WebSockets and service-worker fetches alone; this doesn't. ``cut()`` drops every
open connection (both directions, at once) and stops listening, so new connections are refused
(ECONNREFUSED, as when a phone loses the venue's Wi-Fi); ``restore()`` listens again on the same port.
``hold()`` is the other kind of outage, a link that goes silent (a phone walking out of Wi-Fi range): connections
stay open and new ones are accepted, but nothing moves either way until ``restore()``, which delivers what was held,
late, as TCP would; the ends only learn of it from their heartbeats.
``forwarded`` counts the connections that reached the server, so a test can prove nothing got through while cut.

Loopback only, bounded (``MAX_CONNECTIONS`` at a time, ``CHUNK`` bytes per read), asyncio streams in one daemon
thread so sync Playwright tests can drive it::

    with TcpProxy(server_port) as proxy:
        page.goto(proxy.url + "/")
        proxy.cut(); ...; proxy.restore()
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from types import TracebackType

HOST = "127.0.0.1"
MAX_CONNECTIONS = 256
CHUNK = 64 * 1024


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = HOST) -> None:
        if target_host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the test proxy forwards to loopback only")
        self.target = (target_host, target_port)
        self.port = 0
        self.forwarded = 0  # connections that reached the server
        self.dropped = 0  # open connections cut by cut()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._pairs: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._flowing: asyncio.Event | None = None  # cleared while held

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def is_cut(self) -> bool:
        return self._server is None

    # --- control, from the test's thread ------------------------------------------------------------------------
    def start(self) -> TcpProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def cut(self) -> None:
        """Drop every open connection and refuse new ones."""
        self._call(self._cut())

    def hold(self) -> None:
        """Keep every connection (and accept new ones) but move no byte until ``restore()``."""
        self._call(self._hold())

    def restore(self) -> None:
        """Accept connections again (same port), and deliver what a hold kept back."""
        self._call(self._listen())

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        with contextlib.suppress(Exception):
            self._call(self._cut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    def _call(self, coro: object) -> object:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)  # type: ignore[arg-type]

    # --- inside the proxy's loop ------------------------------------------------------------------------------------
    async def _gate(self) -> asyncio.Event:
        if self._flowing is None:
            self._flowing = asyncio.Event()
            self._flowing.set()
        return self._flowing

    async def _hold(self) -> None:
        (await self._gate()).clear()

    async def _listen(self) -> None:
        (await self._gate()).set()
        if self._server is None:
            self._server = await asyncio.start_server(self._accept, HOST, self.port, reuse_address=True)
            self.port = self._server.sockets[0].getsockname()[1]

    async def _cut(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for client, upstream in list(self._pairs):
            self.dropped += 1
            for writer in (client, upstream):
                writer.transport.abort()
        self._pairs.clear()
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._server is None or len(self._pairs) >= MAX_CONNECTIONS:
            writer.transport.abort()
            return
        await (await self._gate()).wait()  # held: the connection hangs as on a silent link
        try:
            up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(*self.target), 5)
        except (OSError, TimeoutError):
            writer.transport.abort()
            return
        if self._server is None:  # cut while connecting
            writer.transport.abort()
            up_writer.transport.abort()
            return
        self.forwarded += 1
        pair = (writer, up_writer)
        self._pairs.add(pair)
        gate = await self._gate()
        try:
            await asyncio.gather(self._pipe(reader, up_writer, gate), self._pipe(up_reader, writer, gate))
        finally:
            self._pairs.discard(pair)
            for w in pair:
                w.close()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, gate: asyncio.Event) -> None:
        try:
            while data := await reader.read(CHUNK):
                await gate.wait()  # held: kept back, delivered late
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                await gate.wait()
                if not writer.transport.is_closing():
                    writer.write_eof()
