"""Rankings and segment counts in a real Redis: written with the tables, moved when a public changes
segment, dropped when a value goes, and caught up after Redis comes back empty — while the stream
never waits for Redis."""

from __future__ import annotations

import asyncio

import redis.asyncio

from agents.kpi import KpiLive
from streams import redis_keys
from streams.core.registry import PublicInfo, Registry
from streams.local.redis_server import EmbeddedRedis
from streams.local.tansu import free_port
from streams.pipeline import Pipeline
from streams.serving import RedisTables, segment_counts
from tests.logs import BASE, event
from tests.streams.test_pipeline import DictStore, run_batches

AT = BASE + 3_600_000
NIZ = {"region": "RU-NIZ", "level": "municipal", "theme": "culture"}


def registered(pipeline: Pipeline, segments: dict[str, dict]) -> None:
    registry = Registry()
    for public_id, segment in segments.items():
        registry.put(PublicInfo.from_record({"v": 1, "public_id": public_id, "name": public_id, **segment}))
    pipeline.engine.registry = registry


def posts(public_id: str, n: int, start: int = 0) -> list[dict]:
    return [
        event("post.published", BASE + i, public_id=public_id, post_id=f"p{i}")
        for i in range(start, start + n)
    ]


async def ranking(client: redis.asyncio.Redis, key: str) -> list[tuple[str, float]]:
    return [(m.decode(), s) for m, s in await client.zrevrange(key, 0, -1, withscores=True)]


def test_publics_are_ranked_in_their_segments_and_move_with_them(redis_server: EmbeddedRedis) -> None:
    pipeline = Pipeline(DictStore())
    registered(pipeline, {"vk:-1": NIZ, "vk:-2": NIZ, "vk:-3": NIZ | {"theme": "sport"}})

    async def scenario() -> None:
        client = redis.asyncio.Redis.from_url(redis_server.url)
        for key in await client.keys("rk:*"):
            await client.delete(key)
        tables = RedisTables(client, "rk", pipeline.current_table)
        pipeline.add_sink(tables)
        run_batches(pipeline, [posts("vk:-1", 2) + posts("vk:-2", 5) + posts("vk:-3", 3)])
        assert await tables.push(AT) == 3
        culture = redis_keys.ranking("rk", "posts_7d", "RU-NIZ", "municipal", "culture")
        assert await ranking(client, culture) == [("vk:-2", 5), ("vk:-1", 2)]
        assert await ranking(client, redis_keys.ranking("rk", "posts_7d", "RU-NIZ")) == [
            ("vk:-2", 5), ("vk:-3", 3), ("vk:-1", 2)
        ]  # fmt: skip
        assert await ranking(client, redis_keys.ranking("rk", "posts_7d", theme="sport")) == [("vk:-3", 3)]
        # no views: no engagement rate, so no place in its ranking; no replies: no response time
        assert await client.zcard(redis_keys.ranking("rk", "er_day_7d")) == 0
        assert await client.zcard(redis_keys.ranking("rk", "response_wh_p90_s_7d")) == 0
        # no citizen wrote to any: none is ranked on late answers (a silent page would lead it)
        assert await client.zcard(redis_keys.ranking("rk", "overdue_wh", "RU-NIZ")) == 0

        # the registry moves vk:-1 to sport: it leaves culture's sets, joins sport's, once in the rest
        registered(
            pipeline, {"vk:-1": NIZ | {"theme": "sport"}, "vk:-2": NIZ, "vk:-3": NIZ | {"theme": "sport"}}
        )
        pipeline.segment_changed("vk:-1")
        assert await tables.push(AT) == 1
        assert await ranking(client, culture) == [("vk:-2", 5)]
        assert await ranking(client, redis_keys.ranking("rk", "posts_7d", theme="sport")) == [
            ("vk:-3", 3),
            ("vk:-1", 2),
        ]
        assert await client.zcard(redis_keys.ranking("rk", "posts_7d")) == 3
        await client.aclose()

    asyncio.run(scenario())


def test_a_redis_outage_stops_nothing_and_is_caught_up_when_redis_returns(tmp_path) -> None:
    port = free_port()
    pipeline = Pipeline(DictStore())
    registered(pipeline, {"vk:-1": NIZ, "vk:-2": NIZ})
    down = EmbeddedRedis(port=port, log_path=tmp_path / "redis-1.log").start()

    async def scenario() -> None:
        client = redis.asyncio.Redis.from_url(down.url, socket_timeout=2, socket_connect_timeout=2)
        owned = ["vk:-1", "vk:-2"]
        tables = RedisTables(client, "out", pipeline.current_table, owned=lambda: owned, refresh_s=2.0)
        pipeline.add_sink(tables)
        run_batches(pipeline, [posts("vk:-1", 1) + posts("vk:-2", 2)])
        assert await tables.push(AT) == 2
        down.stop()  # Redis goes away
        run_batches(pipeline, [posts("vk:-1", 3, start=10)])  # the stream goes on without it
        assert pipeline.engine.table("vk:-1", AT)["posts_7d"] == 4
        assert await tables.push(AT) == 0 and tables.failures == 1 and tables.pending == {"vk:-1"}
        again = EmbeddedRedis(port=port, log_path=tmp_path / "redis-2.log").start()  # back, and empty
        try:
            assert await tables.push(AT) == 1  # the push that failed is written now
            culture = redis_keys.ranking("out", "posts_7d", "RU-NIZ", "municipal", "culture")
            assert await ranking(client, culture) == [("vk:-1", 4)]  # vk:-2 was lost with Redis
            for _ in range(3):  # the refresh round sees the rankings were lost and writes them all
                await tables.refresh(AT)
            assert await ranking(client, culture) == [("vk:-1", 4), ("vk:-2", 2)]
        finally:
            await client.aclose()
            again.stop()

    asyncio.run(scenario())


def test_segment_counts_of_every_worker_add_up(redis_server: EmbeddedRedis) -> None:
    async def scenario() -> None:
        client = redis.asyncio.Redis.from_url(redis_server.url)
        for key in await client.keys("sg:*"):
            await client.delete(key)
        workers = []
        for name, publics in (("w1", {"vk:-1": NIZ, "vk:-2": NIZ}), ("w2", {"vk:-3": NIZ})):
            pipeline = Pipeline(DictStore())
            registered(pipeline, publics)
            live = KpiLive(pipeline, {}, lambda key, value: None, set, list, 8, redis=client)  # type: ignore[arg-type]
            await live.evaluate(sorted(publics), AT)  # no posts: every public breaks posting and silence
            assert await live.write_segments(f"sg:segments:{name}", ttl_s=30)
            workers.append(live)
        counts = await segment_counts(client, "sg")
        segment = ("RU-NIZ", "municipal", "culture", "default")
        assert counts == {segment: {"publics": 3, "in_breach": {"posting": 3, "silence": 3}}}
        assert 0 < await client.ttl("sg:segments:w1") <= 30  # a worker that dies stops counting
        await client.aclose()

    asyncio.run(scenario())
