"""A held public's memory with a week of history: decoded (as the engine works on it) against its
records only (what ``--state-idle-s`` leaves of an idle public), and what decoding it again costs.

    python -m bench.state_memory                       # 3 000 publics, 168 h of history
    python -m bench.state_memory --publics 20000 --hours 12

The simulator's publics (``streams.produce.synth``) and their history go through one pipeline in
contract batches, as ``gospulse publish`` sends them, written after every 500 messages as the agent
does. Then, traced by ``tracemalloc`` (Python's own allocations: the process's fixed part and the
allocator's slack are not in it): the memory per public with every state decoded, and after the
idle eviction (records only). Then per public: a table from the decoded state, a decode for a
reader (``current_state``: without the ids) and a full decode (the next event's).
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc

from streams.core.engine import Engine
from streams.core.layout import load
from streams.core.registry import Registry
from streams.core.timebase import now_ms
from streams.pipeline import Pipeline
from streams.produce.batching import Batcher
from streams.produce.synth import log_events, make_publics
from streams.topics import Topics


class Records:
    """The state table as a dict (the worker's is Faust's memory store: a dict too)."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def put(self, key: str, partition: int, value: bytes | None) -> None:
        if value is None:
            self.data.pop(key, None)
        else:
            self.data[key] = value


def per_public_us(publics: list[str], call: object) -> float:
    started = time.perf_counter()
    for public_id in publics:
        call(public_id)  # type: ignore[operator]
    return (time.perf_counter() - started) / len(publics) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--publics", type=int, default=3000)
    parser.add_argument("--hours", type=float, default=168.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    topics = Topics("m.")
    at = now_ms()
    batcher = Batcher(topics)
    messages = []
    for ev in log_events(
        make_publics(args.publics, args.seed), at - int(args.hours * 3_600_000), at, args.seed
    ):
        messages += list(batcher.add(ev))
    messages += list(batcher.drain())
    events = sum(m[3] for m in messages)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    store = Records()
    pipeline = Pipeline(store, Engine(Registry()), families=topics.families())
    for offset, (topic, key, value, _) in enumerate(messages):
        pipeline.apply_message(topic, 0, offset, key.encode(), value)
        if offset % 500 == 499:
            pipeline.flush()
    pipeline.flush()
    gc.collect()
    publics = sorted(pipeline.held())
    decoded = (tracemalloc.get_traced_memory()[0] - base) / len(publics) / 1024
    pipeline.idle_since_last()
    pipeline.evict_idle()
    gc.collect()
    records_only = (tracemalloc.get_traced_memory()[0] - base) / len(publics) / 1024
    tracemalloc.stop()
    values = sum(len(v) for v in store.data.values()) / len(publics) / 1024
    reader_us = per_public_us(publics, lambda p: load(p, store.get(p), store.get, ids=False))
    full_us = per_public_us(publics, pipeline.state)  # held decoded again, as by its next event
    engine = pipeline.engine
    table_us = per_public_us(publics, lambda p: engine.table_of(engine.get(p), at))
    print(f"{len(publics):,} publics, {events:,} events of {args.hours:g} h in {len(messages):,} messages")
    print(f"{'KiB per public, every state decoded (baseline)':52}{decoded:>10.1f}")
    ratio = records_only / decoded
    print(f"{'KiB per public, records only (idle evicted)':52}{records_only:>10.1f}   ratio {ratio:.3f}")
    print(f"{'  of which record values, KiB':52}{values:>10.1f}")
    print(f"{'table from a decoded state, us':52}{table_us:>10.0f}")
    print(f"{'decode for a reader (no ids), us':52}{reader_us:>10.0f}")
    print(f"{'decode for the next event (with ids), us':52}{full_us:>10.0f}")


if __name__ == "__main__":
    main()
