"""What the KPIs cost: a full breach sweep at the national scale, and working time in replay.

    python -m bench.kpi                         # 175 000 publics; replay of 3 723 publics × 7 days
    python -m bench.kpi --publics 20000 --replay-days 2

**An hour of rounds.** The same held publics through an hour with no event as the worker judges
them now: a first round judging all of them, then a round a minute judging only the publics due
(``streams.core.due``); beside it, what a sweep a minute would cost (the sweep above × 60).

**Sweep.** Builds ``--publics`` small realistic states (``bench.refresh.build``: a week of posts,
reactions, views, answered and unanswered comments, subscriber counts), half of them registered in
zones from Kaliningrad to Kamchatka, and judges every one with ``agents.kpi.KpiLive.evaluate`` as the
worker's sweep does: in slices that yield to the event loop. In the same run, as the baseline, the
same publics' tables alone (``Pipeline.current_table``), which the sweep must compute anyway. Both with
the states held in memory and restored from the store (a worker restarted onto quiet publics). While
each sweep runs, a heartbeat task asks the loop for a 1 ms sleep again and again: its longest wait is
the longest stall the sweep caused, what a consuming agent would have waited.

**Replay.** The same generated log (``bench.replay``) replayed with working time on (every reply's
working latency on the public's calendar, ``overdue_wh`` at T) and off (a calendar that answers 0
at once), alternating, median of ``--rounds``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ZONES = ("Europe/Kaliningrad", "Europe/Moscow", "Asia/Yekaterinburg", "Asia/Novosibirsk", "Asia/Kamchatka")


class NoWorkingTime:
    """A calendar that counts nothing: working time off."""

    def work_ms(self, a: int, b: int) -> int:
        return 0

    def cumulative_ms(self, t: int) -> int:
        return 0


async def _heartbeat(stop: asyncio.Event, waits: list[float]) -> None:
    while not stop.is_set():
        t0 = time.perf_counter()
        await asyncio.sleep(0.001)
        waits.append(time.perf_counter() - t0 - 0.001)


async def _timed(work: Any) -> tuple[float, float]:
    """Seconds ``work`` (a coroutine) took and the longest the heartbeat waited meanwhile."""
    stop, waits = asyncio.Event(), []
    beat = asyncio.create_task(_heartbeat(stop, waits))
    await asyncio.sleep(0.01)
    started = time.perf_counter()
    await work
    seconds = time.perf_counter() - started
    stop.set()
    await beat
    return seconds, max(waits, default=0.0)


def sent_by(sink: list[bytes]) -> Any:
    """A transitions topic that keeps what it is sent."""
    return lambda key, value: sink.append(value)


def sweep(publics: int, seed: int) -> dict[str, Any]:
    from agents.kpi import KpiLive
    from bench.refresh import build
    from streams.core.registry import PublicInfo, Registry
    from streams.pipeline import Pipeline

    end = 1_795_795_200_000  # 2026-11-27T16:00:00Z, a Friday
    pipeline, ids = build(publics, seed, end)
    assert isinstance(pipeline, Pipeline)
    registry = Registry()
    for i, public_id in enumerate(ids[::2]):
        record = {"v": 1, "public_id": public_id, "name": public_id, "region": "RU-NIZ", "level": "municipal"}
        registry.put(PublicInfo.from_record(record | {"theme": "culture", "tz": ZONES[i % len(ZONES)]}))
    out: dict[str, Any] = {"publics": publics}
    at = end + 3_600_000

    async def tables_only(reader: Pipeline) -> None:
        started = time.perf_counter()
        for public_id in ids:
            reader.current_table(public_id, at)
            if time.perf_counter() - started > 0.02:
                await asyncio.sleep(0)
                started = time.perf_counter()

    for variant in ("held", "restored"):
        reader = pipeline if variant == "held" else Pipeline(pipeline.store, clock=lambda: end)
        reader.engine.registry = registry
        for public_id, st in list(reader.engine.held()):
            st.calendar = reader.engine.calendar_of(public_id)
        sent: list[bytes] = []
        live = KpiLive(reader, {}, sent_by(sent), set, list, 8)  # type: ignore[arg-type]
        base_s, base_stall = asyncio.run(_timed(tables_only(reader)))
        sweep_s, sweep_stall = asyncio.run(_timed(live.evaluate(ids, at)))
        again_s, _ = asyncio.run(_timed(live.evaluate(ids, at)))
        out[f"{variant}_tables_only_s"] = round(base_s, 2)
        out[f"{variant}_sweep_s"] = round(sweep_s, 2)
        out[f"{variant}_sweep_over_tables"] = round(sweep_s / base_s, 3)
        out[f"{variant}_sweep_us_per_public"] = round(sweep_s / publics * 1e6, 1)
        out[f"{variant}_longest_stall_ms"] = round(sweep_stall * 1000, 1)
        out[f"{variant}_tables_only_longest_stall_ms"] = round(base_stall * 1000, 1)
        out[f"{variant}_second_sweep_s"] = round(again_s, 2)
        out[f"{variant}_transitions_first_sweep"] = len(sent)
        print(f"sweep {variant}: {sweep_s:.1f} s", file=sys.stderr, flush=True)
    out |= hour_of_rounds(pipeline, ids, at, out["held_sweep_s"])
    return out


def hour_of_rounds(pipeline: Any, ids: list[str], at: int, sweep_s: float) -> dict[str, Any]:
    """An hour without events as the worker lives it now: a judging round a minute, each judging
    only the publics due (``KpiLive.judge_due``), after a first round that judges every public of
    its new partitions. The baseline, a sweep of every public each minute, is the sweep measured
    above times 60 (running it 60 times would take the benchmark an hour)."""
    from agents.kpi import KpiLive

    live = KpiLive(pipeline, {}, sent_by([]), lambda: set(range(8)), lambda: ids, 8)  # type: ignore[arg-type]
    first_s, _ = asyncio.run(_timed(live.judge_due(at)))
    judged_before = live.stats.evaluated
    rounds_s, longest_stall = 0.0, 0.0
    for minute in range(1, 61):
        seconds, stall = asyncio.run(_timed(live.judge_due(at + minute * 60_000)))
        rounds_s += seconds
        longest_stall = max(longest_stall, stall)
    judged = live.stats.evaluated - judged_before
    print(f"an hour of rounds: {judged:,} judgements, {rounds_s:.1f} s", file=sys.stderr, flush=True)
    return {
        "hour_first_round_s": round(first_s, 2),
        "hour_rounds_judgements": judged,
        "hour_sweeps_judgements": 60 * len(ids),
        "hour_rounds_s": round(rounds_s, 2),
        "hour_sweeps_s_estimated": round(60 * sweep_s, 1),
        "hour_rounds_over_sweeps": round(rounds_s / (60 * sweep_s), 4),
        "hour_rounds_longest_stall_ms": round(longest_stall * 1000, 1),
        "publics_due_within_the_hour": sum(1 for d in live.due.values() if d <= at + 3_600_000),
    }


def replay_once(log: Path, registry_path: Path, at: int, working_time: bool) -> float:
    from streams.core.engine import Engine
    from streams.core.registry import Registry
    from streams.replay import ReplayReport, load_registry, replay_lines

    report = ReplayReport()
    registry = Registry()
    with open(registry_path, "rb") as f:
        load_registry(f, registry, report, strict=True)
    engine = Engine(registry)
    if not working_time:
        off = NoWorkingTime()
        engine.calendar_of = lambda public_id: off  # type: ignore[method-assign,assignment,return-value]
    started = time.perf_counter()
    with open(log, "rb") as f:
        replay_lines(f, at, engine, report)
    for _ in engine.tables(at):
        pass
    return report.lines / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--publics", type=int, default=175_000)
    parser.add_argument("--replay-publics", type=int, default=3723)
    parser.add_argument("--replay-days", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    from bench.replay import generate

    log, registry, at = generate(args.replay_publics, args.replay_days, args.seed)
    on, off = [], []
    for i in range(args.rounds):
        off.append(replay_once(log, registry, at, working_time=False))
        on.append(replay_once(log, registry, at, working_time=True))
        print(
            f"replay round {i + 1}/{args.rounds}: on {on[-1]:,.0f}, off {off[-1]:,.0f} ev/s", file=sys.stderr
        )
    report: dict[str, Any] = {
        "replay_log": log.name,
        "replay_working_time_on_events_per_s": round(statistics.median(on)),
        "replay_working_time_off_events_per_s": round(statistics.median(off)),
        "replay_on_over_off": round(statistics.median(on) / statistics.median(off), 3),
    }
    report |= sweep(args.publics, args.seed)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
