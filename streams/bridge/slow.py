"""Slow clients cut off: a deadline for a request's headers, on every connection the bridge accepts.

aiohttp bounds how large a request may be, not how long it may take to arrive: a client sending a
byte every few seconds holds its connection (and a slot of the proxy before it) for as long as it
likes. The bridge answers one request per connection (``Connection: close``, see ``one_request``),
so a deadline from the connection's start to the end of its headers bounds every request's head;
the body's own deadline is the handler's (``streams.bridge.service.Bridge.body``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import web

#: Where an HTTP/1.x request's headers end.
_HEAD_END = b"\r\n\r\n"


class HeadDeadline(asyncio.Protocol):
    """Wraps the server's protocol for one connection: closes it unless its request headers have
    all arrived within ``timeout_s`` of the connection being made; ``on_timeout()`` is told."""

    def __init__(self, inner: asyncio.Protocol, timeout_s: float, on_timeout: Callable[[], None]) -> None:
        self.inner = inner
        self.timeout_s = timeout_s
        self.on_timeout = on_timeout
        self.transport: asyncio.Transport | None = None
        self.deadline: asyncio.TimerHandle | None = None
        self.tail = b""  # the last bytes seen, for a head end split across reads

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.deadline = asyncio.get_running_loop().call_later(self.timeout_s, self._expired)
        self.inner.connection_made(transport)

    def _expired(self) -> None:
        self.deadline = None
        self.on_timeout()
        if self.transport is not None:
            self.transport.abort()  # nothing to answer: the request is not even read

    def data_received(self, data: bytes) -> None:
        if self.deadline is not None:
            seen = self.tail + data
            if _HEAD_END in seen:
                self.deadline.cancel()
                self.deadline = None
            else:
                self.tail = seen[-(len(_HEAD_END) - 1) :]
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


def guarded(
    factory: Callable[[], Any], timeout_s: float, on_timeout: Callable[[], None]
) -> Callable[[], Any]:
    """The protocol factory ``factory`` (aiohttp's ``runner.server``) with a head deadline per connection."""
    return lambda: HeadDeadline(factory(), timeout_s, on_timeout)


@web.middleware
async def one_request(request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
    """Every answer closes its connection, so the head deadline of a connection is its request's."""
    response = await handler(request)
    response.force_close()
    return response


def runner_of(app: web.Application) -> web.AppRunner:
    """The runner ``serve`` expects: what is left of a refused or timed-out body is read for at most
    a second (so its client can read the answer), never aiohttp's default ten."""
    return web.AppRunner(app, access_log=None, lingering_time=1.0)


async def serve(
    runner: web.AppRunner, host: str, port: int, header_timeout_s: float, on_timeout: Callable[[], None]
) -> asyncio.Server:
    """Listen on ``host:port`` with ``runner``'s application behind the head deadline."""
    assert runner.server is not None, "runner.setup() first"
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        guarded(runner.server, header_timeout_s, on_timeout), host, port, reuse_address=True
    )
