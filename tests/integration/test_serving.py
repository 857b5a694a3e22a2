"""Pushing changed publics' tables to Redis (a real one, from the integration fixtures' starter)."""

from __future__ import annotations

import asyncio

import orjson
import redis.asyncio

from streams import redis_keys
from streams.local.redis_server import EmbeddedRedis
from streams.pipeline import Pipeline
from streams.serving import RedisTables
from tests.logs import BASE, event
from tests.streams.test_pipeline import DictStore, run_batches


def test_only_changed_publics_are_pushed_and_a_failed_push_is_retried(redis_server: EmbeddedRedis) -> None:
    redis_url = redis_server.url
    pipeline = Pipeline(DictStore())

    async def scenario() -> None:
        client = redis.asyncio.Redis.from_url(redis_url)
        await client.delete(redis_keys.tables("t"))
        tables = RedisTables(client, "t", pipeline.current_table)
        dead = RedisTables(redis.asyncio.Redis.from_url("redis://127.0.0.1:1/0"), "t", pipeline.current_table)
        pipeline.add_sink(tables)
        run_batches(pipeline, [[event("post.published", BASE, public_id="vk:-1", post_id="1")]])
        run_batches(pipeline, [[event("post.published", BASE + 1, public_id="vk:-2", post_id="1")]])
        at = BASE + 3_600_000
        assert await tables.push(at) == 2
        assert await tables.push(at) == 0, "nothing changed since"
        pipeline.add_sink(dead)
        run_batches(pipeline, [[event("post.published", BASE + 2, public_id="vk:-2", post_id="2")]])
        assert await dead.push(at) == 0 and dead.failures == 1
        assert dead.pending == {"vk:-2"}, "the failed public is offered again"
        assert await tables.push(at) == 1
        stored = {
            k.decode(): orjson.loads(v) for k, v in (await client.hgetall(redis_keys.tables("t"))).items()
        }
        assert stored["vk:-2"] == pipeline.engine.table("vk:-2", at)
        assert stored["vk:-2"]["posts_24h"] == 2 and stored["vk:-1"]["posts_24h"] == 1
        await client.aclose()

    asyncio.run(scenario())


def test_every_owned_public_is_rewritten_each_round_events_or_not_and_an_emptied_redis_is_refilled(
    redis_server: EmbeddedRedis,
) -> None:
    store = DictStore()
    writer = Pipeline(store)
    publics = [f"vk:-{i}" for i in range(1, 41)]
    run_batches(writer, [[event("post.published", BASE, public_id=p, post_id="1") for p in publics]])
    reader = Pipeline(store)  # a restarted worker: the states are in its table, none in its memory
    store.data["vk:-13"] = b"gp\x03Rbroken"  # a public whose state cannot be read is skipped, not fatal

    async def scenario() -> None:
        client = redis.asyncio.Redis.from_url(redis_server.url)
        await client.delete(redis_keys.tables("r"))
        tables = RedisTables(client, "r", reader.current_table, owned=lambda: publics, refresh_s=10.0)
        at = BASE + 25 * 3_600_000  # a day later: the windows slid without an event
        ticks = 0
        while tables.refreshed < len(publics) - 1:
            await tables.refresh(at)
            ticks += 1
        assert ticks <= 9  # a round fits in 90 % of the interval, one slice a tick
        assert tables.skipped == 1
        stored = {
            k.decode(): orjson.loads(v) for k, v in (await client.hgetall(redis_keys.tables("r"))).items()
        }
        assert len(stored) == len(publics) - 1
        assert (
            stored["vk:-1"]["at"] == at
            and stored["vk:-1"]["posts_24h"] == 0
            and stored["vk:-1"]["posts_7d"] == 1
        )
        assert len(reader.engine) == 0  # read for the answer, not kept
        await client.delete(redis_keys.tables("r"))  # Redis lost its data
        for _ in range(ticks):
            await tables.refresh(at + 1)
        assert await client.hlen(redis_keys.tables("r")) == len(publics) - 1
        await client.aclose()

    asyncio.run(scenario())


def test_publics_whose_partitions_went_elsewhere_are_not_pushed(redis_server: EmbeddedRedis) -> None:
    pipeline = Pipeline(DictStore())

    async def scenario() -> None:
        client = redis.asyncio.Redis.from_url(redis_server.url)
        await client.delete(redis_keys.tables("f"))
        tables = RedisTables(client, "f", pipeline.current_table)
        pipeline.add_sink(tables)
        run_batches(pipeline, [[event("post.published", BASE, public_id="vk:-1", post_id="1")]])
        assert tables.pending == {"vk:-1"}
        pipeline.forget_partitions({pipeline.held()["vk:-1"]})
        assert await tables.push(BASE + 1) == 0 and await client.hlen(redis_keys.tables("f")) == 0
        await client.aclose()

    asyncio.run(scenario())


def test_a_catch_ups_worth_of_changed_publics_is_pushed_in_bounded_round_trips(
    redis_server: EmbeddedRedis, monkeypatch: object
) -> None:
    """After a catch-up every held public is pending at once: they go in round trips of at most
    ``PUSH_CHUNK`` tables, all of them, and a Redis failure leaves the rest pending whole."""
    import streams.serving as serving

    monkeypatch.setattr(serving, "PUSH_CHUNK", 7)  # type: ignore[attr-defined]
    pipeline = Pipeline(DictStore())
    publics = [f"vk:-{i}" for i in range(1, 31)]
    run_batches(pipeline, [[event("post.published", BASE, public_id=p, post_id="1") for p in publics]])

    async def scenario() -> None:
        client = redis.asyncio.Redis.from_url(redis_server.url)
        await client.delete(redis_keys.tables("c"))
        tables = RedisTables(client, "c", pipeline.current_table)
        sizes: list[int] = []
        write = tables._write

        async def counted(public_ids: list[str], now_ms: int) -> int | None:
            sizes.append(len(public_ids))
            return await write(public_ids, now_ms)

        tables._write = counted  # type: ignore[method-assign]
        tables.changed(publics)
        assert await tables.push(BASE + 3_600_000) == 30 and not tables.pending
        assert sizes == [7, 7, 7, 7, 2]
        assert sorted(k.decode() for k in await client.hkeys(redis_keys.tables("c"))) == sorted(publics)
        dead = RedisTables(redis.asyncio.Redis.from_url("redis://127.0.0.1:1/0"), "c", pipeline.current_table)
        dead.changed(publics)
        assert await dead.push(BASE) == 0 and dead.pending == set(publics) and dead.failures == 1
        await client.aclose()

    asyncio.run(scenario())
