"""What keeping every table fresh in Redis costs, at the national scale of 175 000 publics.

    python -m bench.refresh                    # 175 000 publics, refresh interval 60 s
    python -m bench.refresh --publics 20000

Builds ``--publics`` small but realistic states (a week of posts, reactions, views, comments with
replies, subscriber counts; one public in ten with an unanswered comment), writes them to an
in-memory store as a worker's changelogged table holds them, and starts a Redis of its own. Then, in
the same run:

- **baseline**: ``HSET`` of every public's table, already serialized: what Redis alone costs;
- **held**: one full refresh round (``streams.serving.RedisTables.refresh``, slice by slice) with every
  state in the worker's memory, as after it has applied their events;
- **restored**: the same with no state in memory, each decoded from the store for its answer, as on
  a worker restarted onto quiet publics.

Reported: seconds per round and per public, the share of one core a round takes at the refresh
interval, the longest slice (how long the event loop waits behind one tick), and Redis's memory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time

import orjson


def public_events(public_id: str, end: int, rng: random.Random) -> dict[str, list[dict]]:
    """A week of one small public's traffic, by topic family: a post a day with reactions and a view
    snapshot, a citizen comment answered within hours (one public in ten leaves its last one)."""
    from schemas.contract import TOPIC_OF_KIND

    hour = 3_600_000
    by_topic: dict[str, list[dict]] = {}

    def add(kind: str, ts: int, **fields: object) -> None:
        n = sum(len(evs) for evs in by_topic.values())
        ev = {"v": 1, "event_id": f"{public_id}#{n}", "kind": kind, "public_id": public_id, "occurred_at": ts}
        by_topic.setdefault(TOPIC_OF_KIND[kind], []).append(ev | fields)

    add("subscribers.counted", end - 7 * 24 * hour, count=rng.randrange(100, 200_000))
    for day in range(7):
        t0 = end - (7 - day) * 24 * hour + 9 * hour
        post = f"{day}"
        add("post.published", t0, post_id=post)
        for k in range(rng.randrange(0, 6)):
            add("reaction.added", t0 + (k + 1) * 600_000, post_id=post)
        add("post.metrics", t0 + 3 * hour, post_id=post, views=rng.randrange(10, 5000))
        add("comment.created", t0 + hour, post_id=post, comment_id=f"c{day}", author="citizen")
        if day < 6 or rng.random() < 0.9:
            add(
                "comment.created",
                t0 + 2 * hour,
                post_id=post,
                comment_id=f"o{day}",
                author="official",
                reply_to_comment_id=f"c{day}",
            )
    return by_topic


def build(publics: int, seed: int, end: int) -> tuple[object, list[str]]:
    from bench.busy import MeasuringStore
    from streams.pipeline import Pipeline

    rng = random.Random(seed)
    pipeline = Pipeline(MeasuringStore(), clock=lambda: end)
    ids = [f"vk:-{100000 + p}" for p in range(publics)]
    for p, public_id in enumerate(ids):
        for topic, evs in public_events(public_id, end, rng).items():
            pipeline.apply_message(topic, 0, 0, public_id.encode(), orjson.dumps(evs))
        if p % 2000 == 1999:
            pipeline.flush()
            print(f"built {p + 1} publics", file=sys.stderr, flush=True)
    pipeline.flush()
    return pipeline, ids


async def measure(pipeline: object, ids: list[str], redis_url: str, refresh_s: float, at: int) -> dict:
    import redis.asyncio

    from streams import redis_keys
    from streams.pipeline import Pipeline
    from streams.serving import RedisTables

    assert isinstance(pipeline, Pipeline)
    client = redis.asyncio.Redis.from_url(redis_url)
    out: dict = {}

    blobs = {public_id: orjson.dumps(pipeline.current_table(public_id, at)) for public_id in ids}
    await client.delete("baseline")
    started = time.perf_counter()
    for i in range(0, len(ids), 3000):
        await client.hset("baseline", mapping={k: blobs[k] for k in ids[i : i + 3000]})
    out["baseline_hset_s"] = time.perf_counter() - started
    await client.delete("baseline")

    for variant, reader in (("held", pipeline), ("restored", Pipeline(pipeline.store))):
        tables = RedisTables(
            client, f"bench-{variant}", reader.current_table, owned=lambda: ids, refresh_s=refresh_s
        )
        await client.delete(redis_keys.tables(f"bench-{variant}"))
        slices = []
        started = time.perf_counter()
        while tables.refreshed < len(ids):
            t0 = time.perf_counter()
            await tables.refresh(at)
            slices.append(time.perf_counter() - t0)
        out[f"{variant}_round_s"] = time.perf_counter() - started
        out[f"{variant}_longest_slice_s"] = max(slices)
        out[f"{variant}_slices"] = len(slices)
        assert await client.hlen(redis_keys.tables(f"bench-{variant}")) == len(ids)
    info = await client.info("memory")
    out["redis_used_memory_mib"] = info["used_memory"] / 2**20
    await client.aclose()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--publics", type=int, default=175_000)
    parser.add_argument("--refresh-s", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    from streams.local.redis_server import EmbeddedRedis

    end = 1_793_491_200_000 + 30 * 86_400_000
    started = time.perf_counter()
    pipeline, ids = build(args.publics, args.seed, end)
    print(f"built {len(ids)} publics in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    with EmbeddedRedis() as redis_server:
        result = asyncio.run(measure(pipeline, ids, redis_server.url, args.refresh_s, end + 3_600_000))
    n = len(ids)
    report = {
        "publics": n,
        "refresh_interval_s": args.refresh_s,
        "baseline_hset_round_s": round(result["baseline_hset_s"], 2),
        "held_round_s": round(result["held_round_s"], 2),
        "held_us_per_public": round(result["held_round_s"] / n * 1e6, 1),
        "held_over_baseline": round(result["held_round_s"] / result["baseline_hset_s"], 2),
        "held_core_share_at_interval": round(result["held_round_s"] / args.refresh_s, 3),
        "held_longest_slice_s": round(result["held_longest_slice_s"], 3),
        "restored_round_s": round(result["restored_round_s"], 2),
        "restored_us_per_public": round(result["restored_round_s"] / n * 1e6, 1),
        "restored_core_share_at_interval": round(result["restored_round_s"] / args.refresh_s, 3),
        "restored_longest_slice_s": round(result["restored_longest_slice_s"], 3),
        "slices_per_round": result["held_slices"],
        "redis_used_memory_mib": round(result["redis_used_memory_mib"], 1),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
