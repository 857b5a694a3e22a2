"""Leaderboard queries over 175 000 publics in a real Redis, and what the rankings cost Redis.

    python -m bench.rankings                        # 175 000 publics, 2 000 queries
    python -m bench.rankings --publics 20000 --queries 500 --redis redis://127.0.0.1:6379/0

Fills Redis (an embedded one unless ``--redis``) with the rankings a worker writes
(``streams.core.rankings``: five KPIs, eight sets each per public) for publics spread over 85
regions × 4 levels × 10 themes, with realistic scores. Then asks ``agents.segments.ranking`` — one
page of 20 — for random KPIs, segments (each of region, level, theme given or open), orders and
pages, and reports p50/p99/max latency. Side by side in the same run, the baseline: the bare
``ZREVRANGE … WITHSCORES`` of the same key, the least any leaderboard on these sets can cost. Also
Redis's memory for the rankings (``used_memory`` before and after the fill).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import statistics
import sys
import time
from typing import Any

from bench.metrics import LEVELS, THEMES, regions


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def fill(client: Any, app_id: str, publics: int, rng: random.Random) -> None:
    from streams import redis_keys
    from streams.core.rankings import RANKED, places_of

    places = list(itertools.product(regions(85), LEVELS, THEMES))
    batch: dict[str, dict[str, float]] = {}
    for i in range(publics):
        public_id = f"vk:-{100000 + i}"
        where = places[(i * 7919) % len(places)]
        values = {
            "er_day_7d": round(rng.lognormvariate(-1, 1), 4),
            "response_wh_p90_s_7d": round(rng.expovariate(1 / 9000), 1),
            "posts_7d": rng.randint(0, 30),
            "net_subscribers_7d": rng.randint(-50, 80),
            "overdue_wh": rng.choice((0, 0, 0, 1, 2, 5)),
        }
        for kpi in RANKED:
            for place in places_of(where):
                batch.setdefault(redis_keys.ranking(app_id, kpi, *place), {})[public_id] = values[kpi]
        if i % 2000 == 1999 or i == publics - 1:
            async with client.pipeline(transaction=False) as pipe:
                for key, mapping in batch.items():
                    pipe.zadd(key, mapping)
                await pipe.execute()
            batch = {}
            print(f"ranked {i + 1} publics", file=sys.stderr, flush=True)


async def measure(redis_url: str, publics: int, queries: int, seed: int) -> dict[str, Any]:
    import redis.asyncio

    from agents.segment_filter import Filters
    from agents.segments import RankingQuery, ranking
    from streams import redis_keys
    from streams.core.rankings import RANKED

    app_id = "bench-rank"
    client = redis.asyncio.Redis.from_url(redis_url)
    async for key in client.scan_iter(match=f"{app_id}:*", count=1000):
        await client.delete(key)
    before = (await client.info("memory"))["used_memory"]
    rng = random.Random(seed)
    started = time.perf_counter()
    await fill(client, app_id, publics, rng)
    fill_s = time.perf_counter() - started
    after = (await client.info("memory"))["used_memory"]

    region_names, ours, bare = regions(85), [], []
    for _ in range(queries):
        kpi = rng.choice(RANKED)
        filters = Filters(
            rng.choice((None, *region_names)), rng.choice((None, *LEVELS)), rng.choice((None, *THEMES))
        )
        offset = rng.choice((0, 0, 0, 20, 100))
        q = RankingQuery(kpi, filters, rng.choice(("asc", "desc")), 20, offset)
        t0 = time.perf_counter()
        await client.zrevrange(
            redis_keys.ranking(app_id, kpi, *filters.place()), offset, offset + 19, withscores=True
        )
        bare.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        await ranking(client, app_id, q)
        ours.append(time.perf_counter() - t0)
    async for key in client.scan_iter(match=f"{app_id}:*", count=1000):
        await client.delete(key)
    await client.aclose()
    ms = 1000.0
    return {
        "publics": publics,
        "queries": queries,
        "fill_s": round(fill_s, 1),
        "rankings_used_memory_mib": round((after - before) / 2**20, 1),
        "ranking_p50_ms": round(statistics.median(ours) * ms, 2),
        "ranking_p99_ms": round(percentile(ours, 0.99) * ms, 2),
        "ranking_max_ms": round(max(ours) * ms, 2),
        "bare_zrevrange_p50_ms": round(statistics.median(bare) * ms, 2),
        "bare_zrevrange_p99_ms": round(percentile(bare, 0.99) * ms, 2),
        "p99_over_bare": round(percentile(ours, 0.99) / percentile(bare, 0.99), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--publics", type=int, default=175_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--redis", metavar="URL", help="a Redis to use (default: start an embedded one)")
    args = parser.parse_args()
    if args.redis:
        report = asyncio.run(measure(args.redis, args.publics, args.queries, args.seed))
    else:
        from streams.local.redis_server import EmbeddedRedis

        with EmbeddedRedis() as server:
            report = asyncio.run(measure(server.url, args.publics, args.queries, args.seed))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
