"""Replay benchmark: the engine against a parse-only baseline on the same generated log, same run.

    python -m bench.replay                    # 3 723 publics, 30 days (about 3 million events)
    python -m bench.replay --publics 500 --days 7 --rounds 1

Each measurement runs in a fresh child process pinned to one core, so that peak RSS is its own.
Rounds alternate the baseline (parse-only), a floor and the replay; the median of each is reported,
with their ratios. The floor decodes, validates and remembers each event's id per public and counts
nothing: the least any exact engine does, so replay/floor says how much the counting itself costs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import orjson

from bench.children import peak_rss_mib, pin, run_child

OUT = Path(__file__).resolve().parent / "out"
START = 1_793_491_200_000  # 2026-11-01T00:00:00Z
DAY_MS = 86_400_000


def generate(publics: int, days: int, seed: int) -> tuple[Path, Path, int]:
    from streams.produce.synth import log_events, make_publics

    OUT.mkdir(exist_ok=True)
    log = OUT / f"log-{publics}p-{days}d-s{seed}.jsonl"
    registry = OUT / f"registry-{publics}p-s{seed}.jsonl"
    end = START + days * DAY_MS
    if not log.exists():
        habits = make_publics(publics, seed)
        print(f"generating {log.name} …", file=sys.stderr, flush=True)
        tmp = log.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            for ev in log_events(habits, START, end, seed):
                f.write(orjson.dumps(ev) + b"\n")
        tmp.rename(log)
        with open(registry, "wb") as f:
            for h in habits:
                f.write(orjson.dumps(h.registry_record()) + b"\n")
    return log, registry, end - 1


def worker_parse(log: Path) -> dict:
    loads = orjson.loads
    lines = 0
    started = time.perf_counter()
    with open(log, "rb") as f:
        for line in f:
            loads(line)
            lines += 1
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "events": lines}


def worker_floor(log: Path) -> dict:
    """The least any exact engine does per event: decode, validate, and look up and remember its id
    in its public's memory (§2 dedup). No counting at all: a bound on replay, not a rival to it."""
    from schemas.validate import check_event

    loads = orjson.loads
    memories: dict[str, dict[str, int]] = {}
    lines = 0
    started = time.perf_counter()
    with open(log, "rb") as f:
        for line in f:
            ev = loads(line)
            lines += 1
            if check_event(ev) is None:
                seen = memories.get(ev["public_id"])
                if seen is None:
                    seen = memories[ev["public_id"]] = {}
                if ev["event_id"] not in seen:
                    seen[ev["event_id"]] = ev["occurred_at"]
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "events": lines}


def worker_replay(log: Path, registry_path: Path, at: int) -> dict:
    from streams.core.engine import Engine
    from streams.core.layout import records_of
    from streams.core.registry import Registry
    from streams.replay import ReplayReport, load_registry, replay_lines

    report = ReplayReport()
    registry = Registry()
    with open(registry_path, "rb") as f:
        load_registry(f, registry, report, strict=True)
    engine = Engine(registry)
    started = time.perf_counter()
    with open(log, "rb") as f:
        replay_lines(f, at, engine, report)
    tables = sum(1 for _ in engine.tables(at))
    seconds = time.perf_counter() - started
    sizes = []
    records: dict[str, list[int]] = {}
    for public_id, state in engine.held():
        records[public_id] = [len(value) for _, value in records_of(state) if value is not None]
        sizes.append(sum(records[public_id]))
    sizes.sort()
    per_public: dict[str, int] = {}
    with open(log, "rb") as f:
        for line in f:
            public_id = orjson.loads(line)["public_id"]
            per_public[public_id] = per_public.get(public_id, 0) + 1
    busiest = max(per_public, key=per_public.__getitem__)
    return {
        "seconds": seconds,
        "events": report.lines,
        "applied": report.applied,
        "duplicates": report.duplicates,
        "bad": report.bad_events,
        "tables": tables,
        "state_mean_bytes": statistics.fmean(sizes),
        "state_p99_bytes": sizes[int(len(sizes) * 0.99)],
        "state_max_bytes": sizes[-1],
        "largest_record_bytes": max(max(r) for r in records.values()),
        "busiest_public": busiest,
        "busiest_public_events": per_public[busiest],
        "busiest_public_records": len(records[busiest]),
        "busiest_public_largest_record_bytes": max(records[busiest]),
    }


def _child(args: list[str]) -> dict:
    return run_child("bench.replay", args)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--publics", type=int, default=3723)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        pin()
        kind, *rest = args.child
        if kind == "parse":
            result = worker_parse(Path(rest[0]))
        elif kind == "floor":
            result = worker_floor(Path(rest[0]))
        else:
            result = worker_replay(Path(rest[0]), Path(rest[1]), int(rest[2]))
        result["max_rss_mib"] = peak_rss_mib()
        print(json.dumps(result))
        return 0

    log, registry, at = generate(args.publics, args.days, args.seed)
    parse_runs, floor_runs, replay_runs = [], [], []
    for i in range(args.rounds):
        parse_runs.append(_child(["parse", str(log)]))
        floor_runs.append(_child(["floor", str(log)]))
        replay_runs.append(_child(["replay", str(log), str(registry), str(at)]))
        print(f"round {i + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    events = replay_runs[0]["events"]
    parse_rate = statistics.median(events / r["seconds"] for r in parse_runs)
    floor_rate = statistics.median(events / r["seconds"] for r in floor_runs)
    replay_rate = statistics.median(events / r["seconds"] for r in replay_runs)
    last = replay_runs[-1]
    report = {
        "log": log.name,
        "publics": args.publics,
        "days": args.days,
        "events": events,
        "rounds": args.rounds,
        "parse_only_events_per_s": round(parse_rate),
        "replay_events_per_s": round(replay_rate),
        "replay_to_parse_ratio": round(replay_rate / parse_rate, 3),
        "floor_events_per_s": round(floor_rate),
        "floor_to_parse_ratio": round(floor_rate / parse_rate, 3),
        "replay_to_floor_ratio": round(replay_rate / floor_rate, 3),
        "parse_only_peak_rss_mib": round(max(r["max_rss_mib"] for r in parse_runs), 1),
        "replay_peak_rss_mib": round(max(r["max_rss_mib"] for r in replay_runs), 1),
        "state_mean_bytes_per_public": round(last["state_mean_bytes"]),
        "state_p99_bytes_per_public": last["state_p99_bytes"],
        "state_max_bytes_per_public": last["state_max_bytes"],
        "largest_state_record_bytes": last["largest_record_bytes"],
        "busiest_public": last["busiest_public"],
        "busiest_public_events": last["busiest_public_events"],
        "busiest_public_records": last["busiest_public_records"],
        "busiest_public_largest_record_bytes": last["busiest_public_largest_record_bytes"],
        "tables": last["tables"],
        "duplicates_skipped": last["duplicates"],
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
