"""The bridge on a real broker: VK's notifications answered only once the broker holds their events,
refused without the community's secret, 503 while the broker is away and landing once when VK
delivers again, and end to end into a worker's table."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer
from kafka import KafkaConsumer

from streams.bridge.config import BridgeConfig, MaxBot, TelegramBot, VkCommunity
from streams.bridge.metrics import BridgeMetrics
from streams.bridge.publisher import AckedPublisher
from streams.bridge.service import Bridge, Counts, build_app
from streams.kafka_client import ensure_topics, producer
from streams.local.redis_server import EmbeddedRedis
from streams.local.tansu import EmbeddedBroker, free_port
from streams.topics import Topics
from tests.integration.test_worker import PARTITIONS, get_json
from tests.integration.worker import GOSPULSE, WorkerProcess, eventually
from tests.streams.bridge.test_vk import GROUP, comment, note, wallpost

COMMUNITY = VkCommunity(GROUP, "vk:-48241", "a1b2c3d4", "s3cret")
CONFIG = BridgeConfig("test", {GROUP: COMMUNITY}, {}, {})

Client = Callable[[TestClient, BridgeMetrics], Awaitable[None]]


def run_bridge(
    bootstrap: str,
    topics: Topics,
    body: Client,
    ack_timeout_s: float = 8.0,
    config: BridgeConfig = CONFIG,
    redis_url: str | None = None,
) -> None:
    async def main() -> None:
        redis = aioredis.Redis.from_url(redis_url) if redis_url else None
        metrics = BridgeMetrics()
        publisher = AckedPublisher(
            lambda: producer(bootstrap, "t-bridge", timeout_s=ack_timeout_s),
            topics,
            linger_s=0.005,
            ack_timeout_s=ack_timeout_s,
        )
        counts = Counts(redis, prefix=f"t:{topics.prefix}")
        app = build_app(Bridge(config, publisher, metrics, counts=counts), max_body_bytes=64 * 1024)
        async with TestClient(TestServer(app)) as client:
            await body(client, metrics)
        await publisher.close()
        if redis is not None:
            await redis.aclose()

    asyncio.run(main())


def records(bootstrap: str, topic: str) -> list[tuple[bytes | None, Any, dict[str, bytes]]]:
    """Every record of ``topic`` (key, value, headers), read until a quiet second."""
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    out = []
    try:
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < 1.5:
            for batch in consumer.poll(timeout_ms=300).values():
                for r in batch:
                    out.append((r.key, orjson.loads(r.value), dict(r.headers)))
                    quiet_since = time.monotonic()
    finally:
        consumer.close()
    return out


def events_of(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for _, value, _ in records(bootstrap, topic):
        out += value if isinstance(value, list) else [value]
    return out


def test_vk_notifications_are_answered_once_the_broker_holds_them(broker: EmbeddedBroker) -> None:
    topics = Topics("t-bridge-vk.")
    ensure_topics(broker.bootstrap, topics, PARTITIONS)

    async def body(client: TestClient, metrics: BridgeMetrics) -> None:
        confirm = await client.post("/vk", json={"type": "confirmation", "group_id": GROUP})
        assert (confirm.status, await confirm.text()) == (200, "a1b2c3d4")
        forged = note("wall_post_new", wallpost(id=1)) | {"secret": "guess"}
        assert (await client.post("/vk", json=forged)).status == 403
        stranger = note("wall_post_new", wallpost(id=1)) | {"group_id": 999}
        assert (await client.post("/vk", json=stranger)).status == 403
        assert (await client.post("/vk", data=b"x" * (65 * 1024))).status == 413
        assert (await client.post("/vk", data=b"{not json")).status == 400
        # posts and comments arriving together: each answered ok, after the broker acknowledged
        sent = [note("wall_post_new", wallpost(id=100 + i), event_id=f"post-{i}") for i in range(10)]
        sent += [note("wall_reply_new", comment(id=500 + i), event_id=f"reply-{i}") for i in range(10)]
        answers = await asyncio.gather(*(client.post("/vk", json=n) for n in sent))
        assert [(a.status, await a.text()) for a in answers] == [(200, "ok")] * 20
        ignored = await client.post("/vk", json=note("message_new", {"message": {"text": "привет"}}, "m1"))
        assert (ignored.status, await ignored.text()) == (200, "ok")
        broken = await client.post("/vk", json=note("wall_post_new", {"text": "секрет"}, "broken-1"))
        assert (broken.status, await broken.text()) == (200, "ok")
        # an older Callback API version sends no event_id: not ok, so VK delivers it again
        old = {k: v for k, v in note("wall_post_new", wallpost(id=77)).items() if k != "event_id"}
        refused = await client.post("/vk", json=old)
        assert refused.status == 400 and "select Callback API version 5.199" in await refused.text()
        for odd in (["wall_post_new"], {"a": 1}, None, 7):  # a type no VK sends: acknowledged, never 500
            assert (
                await client.post("/vk", json=note("wall_post_new", wallpost(id=1)) | {"type": odd})
            ).status == 200
        scrape = (await (await client.get("/metrics")).read()).decode()
        assert 'gospulse_bridge_rejected_total{platform="vk",reason="no_event_id"} 1.0' in scrape
        # requests are counted once authenticated: the forged, unknown and refused ones are not
        assert 'gospulse_bridge_requests_total{platform="vk",type="wall_post_new"} 12.0' in scrape
        assert 'gospulse_bridge_rejected_total{platform="vk",reason="bad_secret"} 1.0' in scrape
        assert 'gospulse_bridge_rejected_total{platform="vk",reason="too_large"} 1.0' in scrape
        assert 'gospulse_bridge_events_published_total{kind="post.published"} 10.0' in scrape
        assert 'gospulse_bridge_ignored_total{platform="vk"} 5.0' in scrape  # message_new and the odd types

    run_bridge(broker.bootstrap, topics, body)
    posts = events_of(broker.bootstrap, topics.posts)
    assert sorted(e["event_id"] for e in posts) == sorted(f"post-{i}" for i in range(10))  # nothing forged
    assert {e["kind"] for e in posts} == {"post.published"}
    replies = events_of(broker.bootstrap, topics.comments)
    assert len(replies) == 10 and all(set(e) >= {"comment_id", "author"} and "text" not in e for e in replies)
    keys = {key for key, _, _ in records(broker.bootstrap, topics.posts)}
    assert keys == {b"vk:-48241"}
    [(_, dead, headers)] = records(broker.bootstrap, topics.dead_letter)
    assert dead == {"platform": "vk", "type": "wall_post_new", "group_id": GROUP, "event_id": "broken-1"}
    assert headers["gospulse-reason"].startswith(b"vk wall_post_new: object.id: missing")


def test_while_the_broker_is_away_vk_is_told_to_retry_and_its_retry_lands_once(tmp_path: Path) -> None:
    port = free_port()
    bootstrap = f"127.0.0.1:{port}"
    topics = Topics("t-bridge-away.")
    post = note("wall_post_new", wallpost(id=42), event_id="retried-1")

    async def body(client: TestClient, metrics: BridgeMetrics) -> None:
        started = time.monotonic()
        away = await client.post("/vk", json=post)
        assert away.status == 503 and away.headers["Retry-After"] == "5"
        assert time.monotonic() - started < 10  # within the acknowledgement timeout, before VK gives up
        # the broker comes (back): VK delivers the same notification again
        with EmbeddedBroker(port=port, log_path=tmp_path / "broker.log") as back:
            ensure_topics(back.bootstrap, topics, PARTITIONS)
            again = await client.post("/vk", json=post)
            assert (again.status, await again.text()) == (200, "ok")
            scrape = (await (await client.get("/metrics")).read()).decode()
            assert 'gospulse_bridge_unavailable_total{platform="vk"} 1.0' in scrape
            landed = await asyncio.get_running_loop().run_in_executor(
                None, events_of, back.bootstrap, topics.posts
            )
            assert [e["event_id"] for e in landed] == ["retried-1"]

    run_bridge(bootstrap, topics, body, ack_timeout_s=3.0)


def test_vk_into_a_workers_table_with_a_retried_delivery_counted_once(
    broker: EmbeddedBroker, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    prefix = "t-bridge-e2e."
    topics = Topics(prefix)
    worker = WorkerProcess(broker, "t-bridge-e2e", prefix, PARTITIONS, tmp_path).start()
    workers.append(worker)
    worker.wait_ready()
    now_s = int(time.time())
    notes = [
        note("wall_post_new", wallpost(id=i, date=now_s - 3600 * i), event_id=f"e2e-post-{i}")
        for i in (1, 2, 3)
    ]
    notes.append(note("wall_reply_new", comment(id=7, post_id=1, date=now_s - 600), event_id="e2e-reply"))
    notes.append(notes[0])  # VK delivers the first post again (it did not see our "ok")

    async def body(client: TestClient, metrics: BridgeMetrics) -> None:
        for n in notes:
            answer = await client.post("/vk", json=n)
            assert (answer.status, await answer.text()) == (200, "ok")

    run_bridge(broker.bootstrap, topics, body)
    api = f"http://127.0.0.1:{worker.web_port}"

    def counted() -> dict:
        status, table = get_json(f"{api}/publics/vk:-48241")
        assert status == 200 and table["posts_7d"] == 3 and table["citizen_comments_7d"] == 1, table
        return table

    table = eventually(counted, timeout_s=60)
    status, health = get_json(f"{api}/health")
    assert status == 200 and health["duplicates"] >= 1  # the repeat arrived and was caught
    assert table["last_post_at"] == (now_s - 3600) * 1000


def test_telegram_and_max_webhooks_check_their_secret_headers_and_publish(
    broker: EmbeddedBroker, redis_server: EmbeddedRedis
) -> None:
    chat, max_chat = -1001234567890, -68123
    config = BridgeConfig(
        "test",
        {},
        {"mincult": TelegramBot("mincult", "tg-secret", {chat: "tg:mincult52"})},
        {"mincult": MaxBot("mincult", "max-secret", {max_chat: "max:mincult"})},
        id_key=b"t" * 32,
    )
    topics = Topics("t-bridge-tgmax.")
    ensure_topics(broker.bootstrap, topics, PARTITIONS)
    channel = {"id": chat, "type": "channel", "title": "Минкульт"}
    tg = {"X-Telegram-Bot-Api-Secret-Token": "tg-secret"}
    mx = {"X-Max-Bot-Api-Secret": "max-secret"}

    def reactions(update_id: int, total: int, message_id: int = 77) -> dict[str, Any]:
        counts = [{"type": {"type": "emoji", "emoji": "👍"}, "total_count": total}]
        body = {"chat": channel, "message_id": message_id, "date": int(time.time()), "reactions": counts}
        return {"update_id": update_id, "message_reaction_count": body}

    async def body(client: TestClient, metrics: BridgeMetrics) -> None:
        post = {
            "update_id": 1,
            "channel_post": {"message_id": 77, "chat": channel, "date": int(time.time()), "text": "Анонс"},
        }
        assert (await client.post("/telegram/mincult", json=post)).status == 403  # no header
        wrong = {"X-Telegram-Bot-Api-Secret-Token": "guess"}
        assert (await client.post("/telegram/mincult", json=post, headers=wrong)).status == 403
        assert (await client.post("/telegram/other", json=post, headers=tg)).status == 404
        assert (await client.post("/telegram/mincult", json=post, headers=tg)).status == 200
        assert (await client.post("/telegram/mincult", json=reactions(2, 3), headers=tg)).status == 200
        assert (
            await client.post("/telegram/mincult", json=reactions(2, 3), headers=tg)
        ).status == 200  # again
        assert (await client.post("/telegram/mincult", json=reactions(3, 2), headers=tg)).status == 200
        # two totals of another post at once: each counts from the one before, whichever comes first
        both = [
            client.post("/telegram/mincult", json=reactions(n, total, 78), headers=tg)
            for n, total in ((10, 4), (11, 6))
        ]
        assert [r.status for r in await asyncio.gather(*both)] == [200, 200]
        created = {
            "update_type": "message_created",
            "timestamp": int(time.time() * 1000),
            "message": {"recipient": {"chat_id": max_chat, "chat_type": "channel"}, "body": {"mid": "mid.1"}},
        }
        assert (await client.post("/max/mincult", json=created)).status == 403
        assert (
            await client.post("/max/mincult", json=created, headers={"X-Max-Bot-Api-Secret": "x"})
        ).status == 403
        assert (await client.post("/max/mincult", json=created, headers=mx)).status == 200
        added = {
            "update_type": "user_added",
            "timestamp": int(time.time() * 1000),
            "chat_id": max_chat,
            "user": {"user_id": 987654, "first_name": "Пётр"},
            "is_channel": True,
        }
        assert (await client.post("/max/mincult", json=added, headers=mx)).status == 200

    run_bridge(broker.bootstrap, topics, body, config=config, redis_url=redis_server.url)
    posts = events_of(broker.bootstrap, topics.posts)
    by_kind: dict[str, list[str]] = {}
    for e in posts:
        by_kind.setdefault(e["kind"], []).append(e["public_id"])
    # the repeated total of 3 added nothing; the drop to 2 removed one
    assert sorted(by_kind["post.published"]) == ["max:mincult", "tg:mincult52"]
    on_77 = [e["kind"] for e in posts if e.get("post_id") == "77" and e["kind"].startswith("reaction")]
    assert sorted(on_77) == ["reaction.added"] * 3 + ["reaction.removed"]
    on_78 = [e["kind"] for e in posts if e.get("post_id") == "78"]
    last_78 = asyncio.run(_get(redis_server.url, f"t:{topics.prefix}:{chat}:78"))
    assert last_78 is not None and on_78.count("reaction.added") - on_78.count("reaction.removed") == int(
        last_78
    )
    [joined] = events_of(broker.bootstrap, topics.subscriptions)
    assert (joined["kind"], joined["public_id"]) == ("subscription.joined", "max:mincult")
    total = asyncio.run(_get(redis_server.url, f"t:{topics.prefix}:{chat}:77"))
    assert total == b"2"


async def _get(url: str, key: str) -> bytes | None:
    client = aioredis.Redis.from_url(url)
    try:
        return await client.get(key)
    finally:
        await client.aclose()


def test_the_poller_reads_views_and_counts_from_the_vk_api_and_publishes_them(broker: EmbeddedBroker) -> None:
    """VK's API cannot be reached here: a local server answers wall.get and groups.getById with the
    shapes VK documents, and an error for a wrong token, as VK does."""
    from aiohttp import web

    from streams.bridge.vk_poll import VkPoller

    topics = Topics("t-bridge-poll.")
    ensure_topics(broker.bootstrap, topics, PARTITIONS)
    now_s = int(time.time())
    asked: list[dict[str, str]] = []

    async def method(request: web.Request) -> web.Response:
        form = dict(await request.post())
        asked.append({"method": request.match_info["name"], "query": request.query_string, **form})
        if form.get("access_token") != "good-token":
            return web.json_response({"error": {"error_code": 5, "error_msg": "User authorization failed"}})
        if request.match_info["name"] == "wall.get":
            items = [
                {"id": 11, "owner_id": -GROUP, "from_id": -GROUP, "date": now_s - 60, "views": {"count": 40}},
                {"id": 12, "owner_id": -GROUP, "from_id": -GROUP, "date": now_s - 120, "views": {"count": 7}},
            ]
            return web.json_response({"response": {"count": 2, "items": items}})
        return web.json_response(
            {"response": {"groups": [{"id": GROUP, "members_count": 15230}], "profiles": []}}
        )

    async def main() -> tuple[int, int]:
        api = web.Application()
        api.router.add_post("/method/{name}", method)
        errors: list[int] = []
        async with TestServer(api) as server:
            publisher = AckedPublisher(lambda: producer(broker.bootstrap, "t-poll", timeout_s=8), topics)
            url = str(server.make_url("/method"))
            good = VkCommunity(GROUP, "vk:-48241", "c", "s", token="good-token")
            bad = VkCommunity(7, "vk:-7", "c", "s", token="revoked")
            poller = VkPoller([good, bad], publisher.publish, api_url=url, on_error=lambda: errors.append(1))
            import aiohttp

            async with aiohttp.ClientSession() as session:
                published = await poller.round(session)
            await publisher.close()
        return published, len(errors)

    published, errors = asyncio.run(main())
    assert (published, errors) == (3, 1)  # two posts' views and the count; the revoked token failed
    # the token travels in the body, never in a URL a proxy's log would keep
    assert all(a["query"] == "" for a in asked) and {a["access_token"] for a in asked} == {
        "good-token",
        "revoked",
    }
    views = {(e["post_id"], e["views"]) for e in events_of(broker.bootstrap, topics.posts)}
    assert views == {("11", 40), ("12", 7)}
    [counted] = events_of(broker.bootstrap, topics.subscriptions)
    assert (counted["kind"], counted["count"]) == ("subscribers.counted", 15230)


def test_gospulse_bridge_starts_the_poller_with_its_token_from_the_environment(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """The documented ``token_env``: ``gospulse bridge`` reads the token from the variable it names and
    its poller's first round reaches VK's API (here a local server answering as VK documents)."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs

    from streams.local.embedded import Child

    now_s = int(time.time())
    tokens: list[str] = []

    class VkApi(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
            tokens.append(form["access_token"][0])
            if self.path.endswith("/wall.get"):
                item = {
                    "id": 21,
                    "owner_id": -GROUP,
                    "from_id": -GROUP,
                    "date": now_s - 60,
                    "views": {"count": 9},
                }
                body: Any = {"response": {"count": 1, "items": [item]}}
            else:
                body = {"response": {"groups": [{"id": GROUP, "members_count": 77}], "profiles": []}}
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    api = ThreadingHTTPServer(("127.0.0.1", 0), VkApi)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    topics = Topics("t-bridge-token.")
    config = tmp_path / "bridge.toml"
    config.write_text(
        f'[[vk]]\ngroup_id = {GROUP}\nconfirmation = "c"\nsecret = "s"\ntoken_env = "GOSPULSE_VK_TOKEN"\n'
    )
    argv = [str(GOSPULSE), "bridge", "--broker", broker.bootstrap, "--topic-prefix", topics.prefix]
    argv += ["--partitions", str(PARTITIONS), "--bridge-config", str(config), "--bridge-host", "127.0.0.1"]
    argv += [
        "--bridge-port",
        str(free_port()),
        "--bridge-vk-api-url",
        f"http://127.0.0.1:{api.server_port}/method",
    ]
    bridge = Child("bridge", argv, tmp_path / "bridge.log", env={"GOSPULSE_VK_TOKEN": "from-env"}).start()
    try:
        counted = eventually(lambda: events_of(broker.bootstrap, topics.subscriptions), timeout_s=60)
        assert [e["count"] for e in counted] == [77]
        assert [(e["post_id"], e["views"]) for e in events_of(broker.bootstrap, topics.posts)] == [("21", 9)]
        assert set(tokens) == {"from-env"}
    finally:
        bridge.stop()
        api.shutdown()
