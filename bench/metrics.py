"""What a scrape of /metrics costs at the national scale, and what it does to the event loop.

    python -m bench.metrics                      # 175 000 publics in 85 regions
    python -m bench.metrics --publics 20000 --rounds 3

Builds ``--publics`` realistic states (``bench.refresh.build``), registers every public in one of 85
regions × 4 levels × 10 themes, and judges every one with ``agents.kpi.KpiLive.evaluate`` (the
worker's sweep), which fills the per-segment tally and the breach series. Then renders the worker's
registry (``agents.metrics.WorkerMetrics``) ``--rounds`` times and reports the median render time, the
size (plain and gzip), the number of samples, and the process's peak RSS (every state held, as by a
worker owning every public).

The stall: a heartbeat task asks the loop for a 1 ms sleep again and again while scrapes run; its
longest wait is what a consuming agent would have waited. Side by side, in the same run: scrapes
rendered as the worker renders them (in a thread, ``render_off_loop``) and, as the baseline, rendered
on the event loop (what an ``async`` handler calling ``generate_latest`` would do), and the heartbeat
with no scrape at all.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import itertools
import json
import statistics
import string
import sys
import time
from typing import Any

from bench.kpi import _timed, sent_by

LEVELS = ("federal", "regional", "municipal", "settlement")
THEMES = ("culture", "sport", "education", "health", "social", "transport", "housing", "economy")
THEMES += ("youth", "security")


def regions(n: int) -> list[str]:
    return [f"RU-{a}{b}" for a, b in itertools.islice(itertools.product(string.ascii_uppercase, repeat=2), n)]


def build(publics: int, seed: int) -> tuple[Any, Any, int]:
    from agents.kpi import KpiLive
    from bench.refresh import build as build_states
    from streams.core.registry import PublicInfo, Registry

    end = 1_795_795_200_000  # 2026-11-27T16:00:00Z, a Friday
    pipeline, ids = build_states(publics, seed, end)
    registry = Registry()
    places = list(itertools.product(regions(85), LEVELS, THEMES))
    for i, public_id in enumerate(ids):
        region, level, theme = places[(i * 7919) % len(places)]
        record = {"v": 1, "public_id": public_id, "name": public_id, "region": region, "level": level}
        registry.put(PublicInfo.from_record(record | {"theme": theme}))
    pipeline.engine.registry = registry
    for public_id, st in list(pipeline.engine.held()):
        st.calendar = pipeline.engine.calendar_of(public_id)
    live = KpiLive(pipeline, {}, sent_by([]), set, list, 8)  # type: ignore[arg-type]
    at = end + 3_600_000
    started = time.perf_counter()
    asyncio.run(live.evaluate(ids, at))
    print(f"judged {publics} publics in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return pipeline, live, len(ids)


def peak_rss_mib() -> float:
    """This process's peak resident memory: 175 000 states held and their records stored, as a worker
    owning every public holds them (a live worker adds its Faust app and Kafka clients to this)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def measure(pipeline: Any, live: Any, publics: int, cap: int, rounds: int) -> dict[str, Any]:
    from agents.metrics import Sources, WorkerMetrics

    store = pipeline.store.data
    metrics = WorkerMetrics(Sources(pipeline, live, lambda: publics, lambda: list(store.values())), cap)
    renders, body = [], b""
    for _ in range(rounds):
        started = time.perf_counter()
        body = metrics.render()
        renders.append(time.perf_counter() - started)
    text = body.decode()
    samples = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    breach_series = sum(
        1 for line in text.splitlines() if line.startswith("gospulse_public_kpi_breach_value{")
    )
    segments = sum(1 for line in text.splitlines() if line.startswith("gospulse_publics{"))

    async def scrapes(off_loop: bool) -> None:
        for _ in range(rounds):
            if off_loop:
                await metrics.render_off_loop()
            else:
                metrics.render()
            await asyncio.sleep(0.05)

    async def idle() -> None:
        await asyncio.sleep(0.05 * rounds)

    _, idle_stall = asyncio.run(_timed(idle()))
    _, on_loop_stall = asyncio.run(_timed(scrapes(off_loop=False)))
    _, off_loop_stall = asyncio.run(_timed(scrapes(off_loop=True)))
    metrics.close()
    return {
        "peak_rss_mib": peak_rss_mib(),
        "publics": publics,
        "breaching_publics": len(live.tally.breaching),
        "breaches": sum(len(b) for b in live.tally.breaching.values()),
        "breach_series_cap": cap,
        "render_s_median": round(statistics.median(renders), 3),
        "scrape_bytes": len(body),
        "scrape_bytes_gzip": len(gzip.compress(body, compresslevel=1)),
        "samples": samples,
        "per_public_breach_series": breach_series,
        "segment_series": segments,
        "idle_longest_stall_ms": round(idle_stall * 1000, 1),
        "on_loop_longest_stall_ms": round(on_loop_stall * 1000, 1),
        "off_loop_longest_stall_ms": round(off_loop_stall * 1000, 1),
        "off_loop_stall_over_on_loop": round(off_loop_stall / on_loop_stall, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--publics", type=int, default=175_000)
    parser.add_argument("--cap", type=int, default=10_000, help="per-public breach series (the setting)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    pipeline, live, publics = build(args.publics, args.seed)
    print(json.dumps(measure(pipeline, live, publics, args.cap, args.rounds), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
