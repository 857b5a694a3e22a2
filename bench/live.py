"""Live benchmark: publisher → broker → one worker, against a naive agent and a bare consumer.

    python -m bench.live                         # 3 723 publics, 4 days of traffic (~0.4 M events)
    python -m bench.live --publics 500 --days 2 --naive-events 20000

One embedded broker (tansu) per run. The generated traffic goes out twice: in contract batches
(at most 500 events, one public, one topic) as ``gospulse publish`` sends it, and, for the first
``--naive-events`` events, one event per message. Then, each in its own process and in this order:

- **ceiling**: a bare aiokafka consumer reading the batched topics and decoding every message
  (orjson), no state at all: what the broker and the client library allow;
- **gospulse**: ``gospulse worker`` on the batched topics, timed through its ``/health`` counts:
  time from process start to its first processed event, and events/s from then until the last;
- **floor**: ``bench.naive --floor``, a Faust agent on the batched topics that takes them in the
  worker's batches and only decodes them: the most any Faust worker could reach here;
- **naive**: ``bench.naive``, one event per message and one state write per event, same engine.

Reported: events/s of each, the worker's ratios to all three, its time to first event and peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from bench.children import status_kib, worker_health
from streams.core.timebase import DAY_MS, now_ms
from streams.local.tansu import EmbeddedBroker, free_port
from streams.produce.batching import Batcher
from streams.produce.synth import log_events, make_publics
from streams.topics import Topics

OUT = Path(__file__).resolve().parent / "out"
GOSPULSE = Path(sys.executable).parent / "gospulse"


def publish(
    broker: str, publics: int, days: float, seed: int, naive_events: int, partitions: int
) -> dict[str, Any]:

    from streams.kafka_client import ensure_topics
    from streams.kafka_client import producer as kafka_producer

    batched, naive = Topics("bench."), Topics("naive.")
    ensure_topics(broker, batched, partitions)
    ensure_topics(broker, naive, partitions)
    producer = kafka_producer(broker, "bench-live")
    habits = make_publics(publics, seed)
    for h in habits:
        producer.send(batched.publics, key=h.public_id.encode(), value=orjson.dumps(h.registry_record()))
    now = now_ms()
    batcher = Batcher(batched)
    events = messages = 0
    started = time.perf_counter()
    for ev in log_events(habits, now - int(days * DAY_MS), now - 60_000, seed):
        for topic, key, value, _ in batcher.add(ev):
            producer.send(topic, key=key.encode(), value=value)
            messages += 1
        if events < naive_events:
            producer.send(naive.for_kind(ev["kind"]), key=ev["public_id"].encode(), value=orjson.dumps(ev))
        events += 1
    for topic, key, value, _ in batcher.drain():
        producer.send(topic, key=key.encode(), value=value)
        messages += 1
    producer.flush()
    elapsed = time.perf_counter() - started
    producer.close()
    naive_sent = min(events, naive_events)
    return {"events": events, "messages": messages, "publish_s": elapsed, "naive_events": naive_sent}


async def _ceiling(broker: str, expect: int) -> dict[str, Any]:
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        *Topics("bench.").events, bootstrap_servers=broker, group_id=None, auto_offset_reset="earliest"
    )
    started = time.time()
    await consumer.start()
    events, first = 0, 0.0
    try:
        while events < expect:
            for records in (await consumer.getmany(timeout_ms=1000, max_records=2000)).values():
                if not first:
                    first = time.time()
                for record in records:
                    value = orjson.loads(record.value)
                    events += len(value) if isinstance(value, list) else 1
    finally:
        await consumer.stop()
    return {"started": started, "first": first, "done": time.time(), "events": events}


def run_ceiling(broker: str, expect: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.live", "--ceiling", broker, "--expect", str(expect)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.splitlines()[-1])


def run_worker(broker: str, expect: int, partitions: int) -> dict[str, Any]:
    port = free_port()
    log = OUT / "live-worker.log"
    started = time.time()
    argv = [str(GOSPULSE), "worker", "--broker", broker, "--topic-prefix", "bench."]
    argv += ["--partitions", str(partitions), "--app-id", f"bench-{int(started)}", "--web-port", str(port)]
    argv += ["--data-dir", str(OUT / "live-data")]
    proc = subprocess.Popen(
        argv,
        stdout=open(log, "wb"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )
    first = done = 0.0
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"the worker exited; see {log}")
            health = worker_health(port, 2.0)
            seen = 0 if health is None else health["events_applied"] + health["duplicates"]
            now = time.time()
            if seen and not first:
                first = now
            if seen >= expect:
                done = now
                break
            time.sleep(0.05)
        rss = (status_kib(proc.pid, "VmHWM") or 0) / 1024
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"started": started, "first": first, "done": done, "events": expect, "peak_rss_mib": rss}


def run_naive(broker: str, expect: int, partitions: int, floor: bool = False) -> dict[str, Any]:
    """The naive agent on the single-event topics, or (``floor``) the decode-only one on the batched."""
    prefix = "bench." if floor else "naive."
    argv = [sys.executable, "-m", "bench.naive", "--broker", broker, "--topic-prefix", prefix]
    argv += ["--expect", str(expect), "--partitions", str(partitions), "--web-port", str(free_port())]
    argv += ["--floor"] if floor else []
    out = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    # Faust's worker logs what the agent prints, so the result line may carry a log prefix
    mark = '{"started"'
    lines = [line[line.index(mark) :] for line in (out.stdout + out.stderr).splitlines() if mark in line]
    if not lines:
        raise SystemExit(f"the {'floor' if floor else 'naive'} agent failed:\n{out.stderr[-3000:]}")
    return json.loads(lines[-1].strip())


def rate(result: dict[str, Any]) -> float:
    return result["events"] / (result["done"] - result["first"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--publics", type=int, default=3723)
    parser.add_argument("--days", type=float, default=4.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--naive-events", type=int, default=40_000)
    parser.add_argument("--ceiling", metavar="BROKER", help=argparse.SUPPRESS)
    parser.add_argument("--expect", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ceiling:  # the child process of run_ceiling
        print(json.dumps(asyncio.run(_ceiling(args.ceiling, args.expect))))
        return
    OUT.mkdir(exist_ok=True)
    with EmbeddedBroker(log_path=OUT / "live-tansu.log") as broker:
        print(f"publishing {args.publics} publics × {args.days:g} days …", file=sys.stderr, flush=True)
        sent = publish(
            broker.bootstrap, args.publics, args.days, args.seed, args.naive_events, args.partitions
        )
        print(
            f"published {sent['events']:,} events in {sent['messages']:,} batched messages "
            f"({sent['events'] / sent['publish_s']:,.0f} events/s), "
            f"and {sent['naive_events']:,} single-event ones",
            file=sys.stderr,
        )
        ceiling = run_ceiling(broker.bootstrap, sent["events"])
        print(f"ceiling  {rate(ceiling):>10,.0f} events/s", file=sys.stderr, flush=True)
        ours = run_worker(broker.url, sent["events"], args.partitions)
        print(f"gospulse {rate(ours):>10,.0f} events/s", file=sys.stderr, flush=True)
        floor = run_naive(broker.bootstrap, sent["events"], args.partitions, floor=True)
        print(f"floor    {rate(floor):>10,.0f} events/s", file=sys.stderr, flush=True)
        naive = run_naive(broker.bootstrap, sent["naive_events"], args.partitions)
        print(f"naive    {rate(naive):>10,.0f} events/s", file=sys.stderr, flush=True)
    report = {
        "publics": args.publics,
        "days": args.days,
        "events": sent["events"],
        "messages": sent["messages"],
        "publish_events_per_s": round(sent["events"] / sent["publish_s"]),
        "ceiling_events_per_s": round(rate(ceiling)),
        "faust_floor_events_per_s": round(rate(floor)),
        "gospulse_events_per_s": round(rate(ours)),
        "naive_events_per_s": round(rate(naive)),
        "naive_events": naive["events"],
        "gospulse_over_naive": round(rate(ours) / rate(naive), 1),
        "gospulse_over_ceiling": round(rate(ours) / rate(ceiling), 3),
        "gospulse_over_faust_floor": round(rate(ours) / rate(floor), 3),
        "gospulse_first_event_s": round(ours["first"] - ours["started"], 1),
        "naive_first_event_s": round(naive["first"] - naive["started"], 1),
        "gospulse_peak_rss_mib": round(ours["peak_rss_mib"], 1),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
