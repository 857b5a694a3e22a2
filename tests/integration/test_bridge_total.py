"""The bridge is total and bounded on the real broker: whatever JSON an authenticated request holds,
the answer is 200 or 4xx, never 500; and one small request never becomes millions of events."""

from __future__ import annotations

import asyncio
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.bridge.config import BridgeConfig, MaxBot, TelegramBot, VkCommunity
from streams.bridge.metrics import BridgeMetrics
from streams.bridge.publisher import AckedPublisher
from streams.bridge.service import Bridge, build_app
from streams.kafka_client import ensure_topics, producer
from streams.local.tansu import EmbeddedBroker, free_port
from streams.topics import Topics
from tests.examples import examples
from tests.integration.test_bridge import events_of, records
from tests.integration.test_worker import PARTITIONS
from tests.streams.bridge.test_vk import GROUP, note, wallpost

CHAT, MAX_CHAT = -1001234567890, -68123
CONFIG = BridgeConfig(
    "test",
    {GROUP: VkCommunity(GROUP, "vk:-48241", "c", "s3cret")},
    {"b": TelegramBot("b", "tg-secret", {CHAT: "tg:mincult52"})},
    {"b": MaxBot("b", "max-secret", {MAX_CHAT: "max:mincult"})},
    id_key=b"t" * 32,
)
TOPICS = Topics("t-bridge-total.")
MAX_EVENTS = 50

#: Any JSON value: what a platform, a proxy or an attacker holding a secret could send.
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
#: Keys the mappings read, so that arbitrary values reach them rather than only unknown keys.
KEYS = st.sampled_from(
    [
        "type", "object", "event_id", "update_id", "channel_post", "message_reaction_count", "chat_member",
        "update_type", "timestamp", "message", "chat_id", "user", "is_channel", "message_id",
    ]
)  # fmt: skip


class Served:
    """The bridge on a port of its own, in a thread with its own loop, publishing to the broker."""

    def __init__(self, bootstrap: str) -> None:
        self.port = free_port()
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.bootstrap = bootstrap
        threading.Thread(target=self.loop.run_until_complete, args=(self._serve(),), daemon=True).start()
        assert self.ready.wait(30)

    async def _serve(self) -> None:
        from aiohttp import web

        self.publisher = AckedPublisher(
            lambda: producer(self.bootstrap, "t-total", timeout_s=8), TOPICS, linger_s=0.005
        )
        bridge = Bridge(CONFIG, self.publisher, BridgeMetrics(), max_events=MAX_EVENTS)
        self.runner = web.AppRunner(build_app(bridge, 64 * 1024))
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        self.stopped = asyncio.Event()
        self.ready.set()
        await self.stopped.wait()
        await self.runner.cleanup()
        await self.publisher.close()

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> int:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=orjson.dumps(body),
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.stopped.set)


@pytest.fixture(scope="module")
def served(broker: EmbeddedBroker) -> Iterator[Served]:
    ensure_topics(broker.bootstrap, TOPICS, PARTITIONS)
    bridge = Served(broker.bootstrap)
    yield bridge
    bridge.stop()


EXAMPLES = settings(
    max_examples=examples(120), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@EXAMPLES
@given(body=JSON, mixed=st.dictionaries(KEYS, JSON, max_size=4))
def test_vk_answers_any_json_with_200_or_4xx(served: Served, body: Any, mixed: dict[str, Any]) -> None:
    assert served.post("/vk", body) < 500
    assert served.post("/vk", note("wall_post_new", wallpost(id=1)) | {"secret": "s3cret"} | mixed) < 500
    obj = note("wall_reply_new", {}) | {"object": mixed}
    assert served.post("/vk", obj) < 500


@EXAMPLES
@given(body=JSON, mixed=st.dictionaries(KEYS, JSON, max_size=4))
def test_telegram_answers_any_json_with_200_or_4xx(served: Served, body: Any, mixed: dict[str, Any]) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": "tg-secret"}
    assert served.post("/telegram/b", body, headers) < 500
    chat = {"chat": {"id": CHAT, "type": "channel"}}
    for kind in ("channel_post", "message_reaction_count", "chat_member"):
        inner = chat | {k: v for k, v in mixed.items() if k != "chat"}
        assert served.post("/telegram/b", {"update_id": 5, kind: inner}, headers) < 500
        assert served.post("/telegram/b", {kind: inner} | mixed, headers) < 500


@EXAMPLES
@given(body=JSON, mixed=st.dictionaries(KEYS, JSON, max_size=4))
def test_max_answers_any_json_with_200_or_4xx(served: Served, body: Any, mixed: dict[str, Any]) -> None:
    headers = {"X-Max-Bot-Api-Secret": "max-secret"}
    assert served.post("/max/b", body, headers) < 500
    for kind in ("message_created", "message_removed", "user_added"):
        update = {"update_type": kind, "chat_id": MAX_CHAT, "timestamp": 1} | mixed
        assert served.post("/max/b", update, headers) < 500


def test_a_reaction_total_of_a_billion_is_dead_lettered_not_built(
    served: Served, broker: EmbeddedBroker
) -> None:
    """212 bytes once made 20 000 events and a billion would exhaust memory: past
    ``--bridge-max-events-per-request`` the update is dead-lettered with what locates it."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": "tg-secret"}

    def total(update_id: int, count: int) -> dict[str, Any]:
        reactions = [{"type": {"type": "emoji", "emoji": "👍"}, "total_count": count}]
        body = {"chat": {"id": CHAT, "type": "channel"}, "message_id": 4242, "date": 1_794_990_000}
        return {"update_id": update_id, "message_reaction_count": body | {"reactions": reactions}}

    assert served.post("/telegram/b", total(901, 3), headers) == 200
    assert served.post("/telegram/b", total(902, 10**9), headers) == 200
    assert served.post("/telegram/b", total(903, 10**9 + 2), headers) == 200  # counts on from the total
    mine = [e for e in events_of(broker.bootstrap, TOPICS.posts) if e.get("post_id") == "4242"]
    assert len(mine) == 3 + 2 and {e["kind"] for e in mine} == {"reaction.added"}
    dead = [
        (v, h) for _, v, h in records(broker.bootstrap, TOPICS.dead_letter) if v.get("message_id") == 4242
    ]
    assert [v for v, _ in dead] == [
        {
            "platform": "telegram",
            "type": "message_reaction_count",
            "chat": CHAT,
            "message_id": 4242,
            "update_id": 902,
        }
    ]
    assert (
        b"moved from 3 to 1000000000, more than --bridge-max-events-per-request 50"
        in dead[0][1]["gospulse-reason"]
    )
