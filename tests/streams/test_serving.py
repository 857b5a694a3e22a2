"""Pushing changed publics' tables to Redis (a real one, from the integration fixtures' starter)."""

from __future__ import annotations

import asyncio

import orjson
import redis.asyncio

from streams.pipeline import Pipeline
from streams.redis_server import EmbeddedRedis
from streams.serving import RedisTables, tables_key
from tests.logs import BASE, event
from tests.streams.test_pipeline import DictStore, run_batches


def test_only_changed_publics_are_pushed_and_a_failed_push_is_retried(redis_server: EmbeddedRedis) -> None:
    redis_url = redis_server.url
    pipeline = Pipeline(DictStore())
    run_batches(pipeline, [[event("post.published", BASE, public_id="vk:-1", post_id="1")]])
    run_batches(pipeline, [[event("post.published", BASE + 1, public_id="vk:-2", post_id="1")]])

    async def scenario() -> None:
        client = redis.asyncio.Redis.from_url(redis_url)
        await client.delete(tables_key("t"))
        tables = RedisTables(client, "t")
        at = BASE + 3_600_000
        assert await tables.push(pipeline, at) == 2
        assert await tables.push(pipeline, at) == 0, "nothing changed since"
        run_batches(pipeline, [[event("post.published", BASE + 2, public_id="vk:-2", post_id="2")]])
        dead = RedisTables(redis.asyncio.Redis.from_url("redis://127.0.0.1:1/0"), "t")
        assert await dead.push(pipeline, at) == 0 and dead.failures == 1
        assert await tables.push(pipeline, at) == 1, "the failed public is offered again"
        stored = {k.decode(): orjson.loads(v) for k, v in (await client.hgetall(tables_key("t"))).items()}
        assert stored["vk:-2"] == pipeline.engine.table("vk:-2", at)
        assert stored["vk:-2"]["posts_24h"] == 2 and stored["vk:-1"]["posts_24h"] == 1
        await client.aclose()

    asyncio.run(scenario())
