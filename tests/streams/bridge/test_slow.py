"""Slow clients against the bridge's listener: a trickled head or body is cut off at its deadline,
counted, and never holds the connection, while a request sent in one go is answered."""

from __future__ import annotations

import asyncio
import time

from streams.bridge import slow
from streams.bridge.config import BridgeConfig, VkCommunity
from streams.bridge.metrics import BridgeMetrics
from streams.bridge.publisher import AckedPublisher
from streams.bridge.service import Bridge, build_app
from streams.topics import Topics
from tests.streams.bridge.test_vk import GROUP

CONFIG = BridgeConfig("test", {GROUP: VkCommunity(GROUP, "vk:-48241", "a1b2c3d4", "s3cret")}, {}, {})
HEAD = b"POST /vk HTTP/1.1\r\nHost: bridge\r\nContent-Type: application/json\r\n"
CONFIRM = b'{"type": "confirmation", "group_id": %d}' % GROUP


def unused_publisher() -> AckedPublisher:
    def no_broker() -> None:
        raise AssertionError("nothing here publishes")

    return AckedPublisher(no_broker, Topics("t-slow."))


async def trickle(port: int, data: bytes, every_s: float, give_up_s: float) -> tuple[float, bytes]:
    """Send ``data`` a byte every ``every_s``; returns when the bridge closed the connection (seconds
    after it was opened, and what it answered), or after ``give_up_s`` with the connection still held."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    answer = b""

    async def read() -> None:
        nonlocal answer
        while chunk := await reader.read(4096):
            answer += chunk

    reading = asyncio.ensure_future(read())
    try:
        for byte in data:
            if reading.done():
                break
            try:
                writer.write(bytes([byte]))
                await writer.drain()
            except ConnectionError:
                break
            await asyncio.wait([reading], timeout=every_s)
        await asyncio.wait([reading], timeout=max(0.0, give_up_s - (time.monotonic() - started)))
        return time.monotonic() - started, answer
    finally:
        reading.cancel()
        writer.close()


def test_a_trickled_head_or_body_is_cut_off_and_a_prompt_request_answered() -> None:
    async def main() -> None:
        metrics = BridgeMetrics()
        bridge = Bridge(CONFIG, unused_publisher(), metrics, body_timeout_s=1.0)
        runner = slow.runner_of(build_app(bridge, 64 * 1024))
        await runner.setup()
        server = await slow.serve(runner, "127.0.0.1", 0, 1.0, metrics.slow_connections.inc)
        port = server.sockets[0].getsockname()[1]
        try:
            head = HEAD + b"Content-Length: %d\r\n\r\n" % len(CONFIRM)
            # 40 clients trickling their heads, one trickling its body: a byte every 0.2 s would take
            # 20 s; each is closed after its 1 s deadline (loose bounds: the machine may be loaded)
            heads = [trickle(port, head + CONFIRM, 0.2, 15.0) for _ in range(40)]
            prompt = trickle(port, head + CONFIRM, 0.0, 15.0)
            *cut, slow_body, answered = await asyncio.gather(*heads, _body_slowly(port, head), prompt)
            assert all(seconds < 10.0 and answer == b"" for seconds, answer in cut), cut
            seconds, answer = slow_body
            assert seconds < 10.0 and answer.startswith(b"HTTP/1.1 408"), slow_body
            seconds, answer = answered
            assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"a1b2c3d4"), answered
            assert (
                b"Connection: close" in answer
            )  # one request per connection: its head deadline is the request's
            scrape = metrics.render().decode()
            assert "gospulse_bridge_slow_connections_total 40.0" in scrape
            assert 'gospulse_bridge_rejected_total{platform="vk",reason="slow_body"} 1.0' in scrape
        finally:
            server.close()
            await runner.cleanup()
            await server.wait_closed()

    asyncio.run(main())


async def _body_slowly(port: int, head: bytes) -> tuple[float, bytes]:
    """The head at once, then the body a byte every 0.5 s (12 s in all)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    writer.write(head)
    await writer.drain()
    answer = b""
    try:
        for byte in CONFIRM[:24]:
            try:
                writer.write(bytes([byte]))
                await writer.drain()
            except ConnectionError:
                break
            try:
                chunk = await asyncio.wait_for(reader.read(4096), 0.5)
            except TimeoutError:
                continue
            answer += chunk
            if not chunk:
                break
        return time.monotonic() - started, answer
    finally:
        writer.close()
