"""Busy publics: a million events in a day, and a hundred thousand comments nobody answers.

    python -m bench.busy                      # 1 000 000 events in a day + 100 000 pending comments
    python -m bench.busy --events 200000 --pending 20000

The log (``streams.produce.synth.busy_log``) holds two publics: ``vk:-1``, whose day brings ``--events``
events (reactions, view snapshots of 200 posts, citizen comments answered within the day, joins and
leaves, 0.3 % redelivered), and ``vk:-2``, whose ``--pending`` citizen comments over 14 days are never
answered. Three children, each a fresh process pinned to one core, read the same log:

- **parse**: ``orjson.loads`` of every line, the baseline;
- **replay**: ``gospulse replay``'s engine over the log, then every record a write of each public
  from scratch would produce (``streams.core.layout``);
- **live**: the worker's pipeline (``streams.pipeline``) fed the log as Kafka messages of 40 events,
  flushed every 500 messages as the agent does, with a settle tick every 30 flushes, into an
  in-memory store that measures every record written.

Reported: events/s of each and their ratio to parse-only, each child's peak RSS, whether the live
pipeline's tables equal replay's, and the record sizes: the largest record written, records and
bytes per flush, against the bound (``--max-record-bytes``).
Before format v3 the busy public's single state record passed Kafka's 1 MB limit.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from hashlib import blake2b
from pathlib import Path

import orjson

from bench.children import peak_rss_mib, pin, run_child
from bench.replay import OUT

HOUR_MS = 3_600_000
END = 1_793_491_200_000 + 30 * 24 * HOUR_MS


def generate(events: int, pending: int, seed: int) -> Path:
    from streams.produce.synth import busy_log

    OUT.mkdir(exist_ok=True)
    log = OUT / f"busy-{events}e-{pending}p-s{seed}.jsonl"
    if not log.exists():
        print(f"generating {log.name} …", file=sys.stderr, flush=True)
        tmp = log.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            for ev in busy_log(events, pending, END, seed):
                f.write(orjson.dumps(ev) + b"\n")
        tmp.rename(log)
    return log


def child_parse(log: Path) -> dict:
    loads = orjson.loads
    lines = 0
    started = time.perf_counter()
    with open(log, "rb") as f:
        for line in f:
            loads(line)
            lines += 1
    return {"seconds": time.perf_counter() - started, "events": lines}


def child_replay(log: Path, record_bytes: int) -> dict:
    from streams.core.engine import Engine
    from streams.core.layout import Limits, records_of
    from streams.replay import ReplayReport, replay_lines

    engine = Engine()
    report = ReplayReport()
    started = time.perf_counter()
    with open(log, "rb") as f:
        replay_lines(f, END, engine, report)
    tables = list(engine.tables(END))
    seconds = time.perf_counter() - started
    digest = blake2b(orjson.dumps(tables)).hexdigest()
    sizes = {
        public_id: [len(v) for _, v in records_of(st, Limits(record_bytes)) if v is not None]
        for public_id, st in engine.held()
    }
    return {
        "seconds": seconds,
        "events": report.lines,
        "applied": report.applied,
        "unanswered_vk_2": next(t["unanswered"] for t in tables if t["public_id"] == "vk:-2"),
        "tables_digest": digest,
        "records": {p: len(s) for p, s in sizes.items()},
        "state_bytes": {p: sum(s) for p, s in sizes.items()},
        "largest_record_bytes": {p: max(s) for p, s in sizes.items()},
    }


class MeasuringStore:
    """An in-memory chunk store that measures what is written."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.records = 0
        self.bytes = 0
        self.largest = 0

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def put(self, key: str, partition: int, value: bytes | None) -> None:
        self.records += 1
        if value is None:
            self.data.pop(key, None)
            return
        self.data[key] = value
        self.bytes += len(value)
        self.largest = max(self.largest, len(value))


def child_live(log: Path, record_bytes: int) -> dict:
    from schemas.contract import TOPIC_OF_KIND
    from streams.core.layout import Limits
    from streams.pipeline import Pipeline

    store = MeasuringStore()
    pipeline = Pipeline(
        store,
        clock=lambda: END,
        families={t: t for t in set(TOPIC_OF_KIND.values())},
        limits=Limits(record_bytes),
    )
    # messages as publish cuts them: per public and topic, 40 events each, in log order
    messages: list[tuple[str, bytes, bytes]] = []
    pending: dict[tuple[str, str], list[bytes]] = {}
    with open(log, "rb") as f:
        for line in f:
            ev = orjson.loads(line)
            group = pending.setdefault((ev["public_id"], TOPIC_OF_KIND[ev["kind"]]), [])
            group.append(line.rstrip(b"\n"))
            if len(group) == 40:
                messages.append(
                    (TOPIC_OF_KIND[ev["kind"]], ev["public_id"].encode(), b"[" + b",".join(group) + b"]")
                )
                group.clear()
    for (public_id, topic), group in pending.items():
        if group:
            messages.append((topic, public_id.encode(), b"[" + b",".join(group) + b"]"))
    flushes = 0
    per_flush_bytes = []
    started = time.perf_counter()
    for i in range(0, len(messages), 500):
        before = store.bytes
        for topic, key, value in messages[i : i + 500]:
            pipeline.apply_message(topic, 0, 0, key, value)
        pipeline.flush()
        flushes += 1
        per_flush_bytes.append(store.bytes - before)
        if flushes % 30 == 0:
            pipeline.settle()
    seconds = time.perf_counter() - started
    tables = [pipeline.current_table(public_id, END) for public_id in sorted(pipeline.held())]
    return {
        "seconds": seconds,
        "tables_digest": blake2b(orjson.dumps(tables)).hexdigest(),
        "events": pipeline.applied + pipeline.duplicates + pipeline.rejected,
        "flushes": flushes,
        "records_written": store.records,
        "bytes_written": store.bytes,
        "largest_record_bytes": store.largest,
        "max_flush_bytes": max(per_flush_bytes),
        "records_in_store": len(store.data),
    }


def _child(args: list[str]) -> dict:
    return run_child("bench.busy", args)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000, help="events of vk:-1 in its day")
    parser.add_argument("--pending", type=int, default=100_000, help="unanswered comments of vk:-2")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-record-bytes", type=int, default=256 * 1024)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        pin()
        kind, path, *rest = args.child
        if kind == "parse":
            result = child_parse(Path(path))
        elif kind == "replay":
            result = child_replay(Path(path), int(rest[0]))
        else:
            result = child_live(Path(path), int(rest[0]))
        result["max_rss_mib"] = round(peak_rss_mib(), 1)
        print(json.dumps(result))
        return 0

    log = generate(args.events, args.pending, args.seed)
    bound = str(args.max_record_bytes)
    parse = _child(["parse", str(log)])
    print("parse-only done", file=sys.stderr, flush=True)
    replay = _child(["replay", str(log), bound])
    print("replay done", file=sys.stderr, flush=True)
    live = _child(["live", str(log), bound])
    parse_rate = parse["events"] / parse["seconds"]
    report = {
        "log": log.name,
        "events": parse["events"],
        "max_record_bytes": args.max_record_bytes,
        "parse_only_events_per_s": round(parse_rate),
        "replay_events_per_s": round(replay["events"] / replay["seconds"]),
        "replay_to_parse_ratio": round(replay["events"] / replay["seconds"] / parse_rate, 3),
        "live_pipeline_events_per_s": round(live["events"] / live["seconds"]),
        "live_to_parse_ratio": round(live["events"] / live["seconds"] / parse_rate, 3),
        "parse_only_peak_rss_mib": parse["max_rss_mib"],
        "replay_peak_rss_mib": replay["max_rss_mib"],
        "live_peak_rss_mib": live["max_rss_mib"],
        "live_tables_equal_replay": live["tables_digest"] == replay["tables_digest"],
        "replay_unanswered_vk_2": replay["unanswered_vk_2"],
        "replay_state_bytes": replay["state_bytes"],
        "replay_records": replay["records"],
        "replay_largest_record_bytes": replay["largest_record_bytes"],
        "live_flushes": live["flushes"],
        "live_records_written": live["records_written"],
        "live_bytes_written": live["bytes_written"],
        "live_largest_record_bytes": live["largest_record_bytes"],
        "live_max_bytes_per_flush": live["max_flush_bytes"],
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
