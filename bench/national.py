"""The nation as one running deployment, beside a region's in the same run.

    python -m bench.national                          # 175 000 publics, 12 h of history, 2 workers
    python -m bench.national --publics 20000 --hours 6 --steady-s 60   # a quicker look

One embedded tansu and one Redis; the same ``gospulse worker`` processes (``--workers``, 2) with the
shipped profiles (``deploy/kpi/profiles.toml``), first on the baseline (``--baseline-publics`` 3 723,
Nizhny Novgorod, ``--baseline-days`` of history) then on the nation (``--publics``, ``--hours`` of
history), each on topics of its own. For each:

1. **catch-up**: the registry and the history are published in contract batches (as ``gospulse
   publish`` sends them) before the workers start; events/s and messages/s from the first event
   applied to the last, read from every worker's ``/health``, and the time until every public they
   changed is judged too (``agents.catchup`` holds the judging for the end of a backlog);
2. **memory**: each worker's resident memory over the publics it holds (KiB per public), after the
   catch-up and again after the steady phase (the KPI rounds have judged every public by then);
3. **steady**: ``--steady-s`` of live traffic (``--live-rate`` events/s) with Prometheus-like scrapes
   of ``/metrics`` every 15 s; meanwhile the pages are timed (``/health`` as the baseline, a public's
   table, the first page of ``/breaches``, gzipped); at its end the longest event-loop stall of the
   last minute (``agents.looplag``), the KPI judging figures and Redis's memory;
4. **restart**: one worker is stopped (SIGTERM) and started again; measured are its exit, the time
   until every worker is ready again (the rebalance), and the time until every sampled public
   (``--sample``, not fed live traffic) answers exactly what ``replay`` of its events gives; any 200
   answer that differed from replay meanwhile is counted as a wrong table served. Twice: reading the
   snapshot its clean stop kept (``agents.snapshot``), then, as the baseline, the whole changelog.

Then, as the baseline of the catch-up and memory designs, the nation's catch-up and steady phase once
more on topics of their own, the way workers ran before them: judging and writing Redis after every
batch, every state kept decoded (``--catch-up-after-s 0 --state-idle-s 0``; ``--no-baseline`` skips
it). The workers drop idle decoded states after ``--state-idle-s`` (60 s here, so that the steady
phase sees it).

Prints one table, and the figures as JSON on the last line (for docs/production.md's sizing section).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import orjson

from bench.children import status_kib, worker_health
from bench.rundir import new_run_dir
from streams.core.engine import Engine
from streams.core.registry import Registry, parse_record
from streams.core.timebase import DAY_MS, now_ms
from streams.kafka_client import ensure_topics, producer
from streams.local.redis_server import EmbeddedRedis
from streams.local.tansu import EmbeddedBroker
from streams.produce.batching import Batcher
from streams.produce.synth import log_events, make_publics
from streams.profiles_file import read_profiles
from streams.replay import replay_events
from streams.topics import Topics
from tests.integration.worker import WorkerProcess

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "national"
PROFILES = ROOT / "deploy" / "kpi" / "profiles.toml"
HOUR_MS = 3_600_000


def say(text: str) -> None:
    print(f"national {time.strftime('%H:%M:%S')}  {text}", file=sys.stderr, flush=True)


def fetch(url: str, timeout_s: float = 30.0, gzipped: bool = False) -> tuple[int, bytes, float]:
    """Status, body (decompressed) and seconds to the last byte."""
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"} if gzipped else {})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            status, body, encoding = (
                response.status,
                response.read(),
                response.headers.get("Content-Encoding"),
            )
    except urllib.error.HTTPError as error:
        status, body, encoding = error.code, error.read(), error.headers.get("Content-Encoding")
    except OSError:  # not listening (yet), or reset
        return 0, b"", time.perf_counter() - started
    elapsed = time.perf_counter() - started
    return status, gzip.decompress(body) if encoding == "gzip" else body, elapsed


class Deployment:
    """One traffic set (its topics, its consumer group) and the workers on it."""

    def __init__(
        self,
        args: argparse.Namespace,
        name: str,
        publics: int,
        history_ms: int,
        workdir: Path,
        env: dict[str, str] | None = None,
    ):
        self.args, self.name = args, name
        #: Settings of this deployment's workers beyond the shared ones (environment variables).
        self.env = env or {}
        self.prefix, self.app_id = f"{name}.", f"{name}-{int(time.time())}"
        self.topics = Topics(self.prefix)
        self.workdir = workdir / name
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.habits = make_publics(publics, args.seed)
        self.registry = [h.registry_record() for h in self.habits]
        rng = random.Random(args.seed)
        self.sample = set(rng.sample([h.public_id for h in self.habits], min(args.sample, publics)))
        self.at = now_ms() - 30_000
        self.history_ms = history_ms
        self.sample_events: list[dict[str, Any]] = []
        self.workers: list[WorkerProcess] = []
        self.figures: dict[str, Any] = {"publics": publics}

    def publish_history(self, broker: EmbeddedBroker) -> None:
        ensure_topics(broker.bootstrap, self.topics, self.args.partitions)
        send = producer(broker.bootstrap, f"bench-{self.name}")
        for record in self.registry:
            send.send(self.topics.publics, key=record["public_id"].encode(), value=orjson.dumps(record))
        batcher = Batcher(self.topics)
        events = messages = 0
        started = time.perf_counter()
        for ev in log_events(self.habits, self.at - self.history_ms, self.at, self.args.seed):
            if ev["public_id"] in self.sample:
                self.sample_events.append(ev)
            for topic, key, value, _ in batcher.add(ev):
                send.send(topic, key=key.encode(), value=value)
                messages += 1
            events += 1
            if events % 200_000 == 0:
                say(f"{self.name}: published {events:,} events")
        for topic, key, value, _ in batcher.drain():
            send.send(topic, key=key.encode(), value=value)
            messages += 1
        send.flush()
        send.close()
        self.figures.update(events=events, messages=messages)
        say(f"{self.name}: {events:,} events in {messages:,} messages, {time.perf_counter() - started:.0f} s")

    def start_worker(
        self, broker: EmbeddedBroker, redis: EmbeddedRedis, slot: int, snapshot: bool = True
    ) -> WorkerProcess:
        """A worker in ``slot`` (its data directory, kept across restarts); with ``snapshot``, its
        tables are kept on disk at a clean stop and read back at the next start (agents.snapshot)."""
        env = {
            "GOSPULSE_PROFILES": str(PROFILES),
            "GOSPULSE_STATE_SNAPSHOT_MAX_AGE_S": "43200" if snapshot else "0",
            "GOSPULSE_STATE_IDLE_S": self.args.state_idle_s,
            "GOSPULSE_CATCH_UP_AFTER_S": "30",
            **self.env,
        }
        data_dir = self.workdir / f"{self.name}-data-{slot}"
        worker = WorkerProcess(
            broker,
            self.app_id,
            self.prefix,
            self.args.partitions,
            self.workdir,
            redis.url,
            env=env,
            data_dir=data_dir,
        ).start()
        worker.slot = slot  # type: ignore[attr-defined]
        self.workers.append(worker)
        return worker

    def healths(self) -> list[dict[str, Any] | None]:
        return [worker_health(w.web_port) for w in self.workers]

    def catch_up(self, broker: EmbeddedBroker, redis: EmbeddedRedis) -> None:
        started = time.monotonic()
        for slot in range(self.args.workers):
            self.start_worker(broker, redis, slot)
        expect, first, last_said, applied = self.figures["events"], 0.0, 0.0, 0.0
        while True:
            for w in self.workers:
                assert w.child.alive(), f"a worker exited: {w.log}"
            healths = self.healths()
            seen = sum(h["events_applied"] + h["duplicates"] for h in healths if h)
            now = time.monotonic()
            if seen and not first:
                first = now
            if seen >= expect and all(healths) and not applied:
                applied = now
            if applied and all(
                h and not h.get("catching_up") and h["kpi_publics_waiting"] == 0 for h in healths
            ):
                break  # every event applied, and every public it changed judged
            if now - last_said > 30:
                say(f"{self.name}: {seen:,} of {expect:,} events applied")
                last_said = now
            time.sleep(0.25)
        done = time.monotonic()
        self.figures.update(
            first_event_s=round(first - started, 1),
            catch_up_s=round(applied - first, 1),
            catch_up_events_per_s=round(expect / max(applied - first, 1e-3)),
            catch_up_messages_per_s=round(self.figures["messages"] / max(applied - first, 1e-3)),
            catch_up_to_judged_s=round(done - first, 1),
        )
        self.figures["kib_per_public_after_catch_up"] = self.kib_per_public()
        self.figures["loop_stall_catch_up_s"] = max(h["loop_lag_longest_s"] for h in self.healths() if h)
        say(f"{self.name}: caught up at {self.figures['catch_up_events_per_s']:,} events/s")

    def kib_per_public(self) -> float:
        rss = held = 0
        for w, h in zip(self.workers, self.healths(), strict=True):
            if h and w.child.alive():
                rss += status_kib(w.child.proc.pid, "VmRSS") or 0
                held += h["publics_held"]
        return round(rss / max(held, 1), 1)

    def steady(self, broker: EmbeddedBroker, redis: EmbeddedRedis) -> None:
        stop = threading.Event()
        traffic = threading.Thread(target=self._live_traffic, args=(broker, stop), daemon=True)
        traffic.start()
        timings: dict[str, list[float]] = {
            "health": [],
            "public": [],
            "breaches_first_page": [],
            "metrics": [],
        }
        sizes: dict[str, int] = {}
        quiet = sorted(self.sample)
        until = time.monotonic() + self.args.steady_s
        next_scrape = 0.0
        while time.monotonic() < until:
            w = random.choice(self.workers)
            base = f"http://127.0.0.1:{w.web_port}"
            for name, url, gz in (
                ("health", f"{base}/health", False),
                ("public", f"{base}/publics/{random.choice(quiet)}", False),
                ("breaches_first_page", f"{base}/breaches?limit=1000", True),
            ):
                status, body, seconds = fetch(url, 60, gz)
                if status == 200:
                    timings[name].append(seconds)
                    sizes[name] = len(body)
            if time.monotonic() >= next_scrape:
                for scraped in self.workers:
                    status, body, seconds = fetch(f"http://127.0.0.1:{scraped.web_port}/metrics", 60, True)
                    if status == 200:
                        timings["metrics"].append(seconds)
                        sizes["metrics"] = len(body)
                next_scrape = time.monotonic() + 15
            time.sleep(1.0)
        stop.set()
        traffic.join()
        healths = [h for h in self.healths() if h]
        self.figures.update(
            {f"{name}_median_s": round(statistics.median(t), 4) for name, t in timings.items() if t}
        )
        self.figures.update({f"{name}_max_s": round(max(t), 4) for name, t in timings.items() if t})
        self.figures.update({f"{name}_bytes": size for name, size in sizes.items()})
        self.figures.update(
            kib_per_public_steady=self.kib_per_public(),
            loop_stall_steady_last_minute_s=max(h["loop_lag_last_minute_s"] for h in healths),
            kpi_longest_slice_s=max(h["kpi_longest_slice_s"] for h in healths),
            kpi_evaluated=sum(h["kpi_evaluated"] for h in healths),
            kpi_publics_judged=sum(h["kpi_publics_judged"] for h in healths),
            redis_used_memory_mib=round(self._redis_memory(redis) / 2**20, 1),
        )

    def _live_traffic(self, broker: EmbeddedBroker, stop: threading.Event) -> None:
        """``--live-rate`` events/s for publics outside the sample (their answers are checked later)."""
        send = producer(broker.bootstrap, f"bench-{self.name}-live")
        live = [h for h in self.habits if h.public_id not in self.sample]
        rng, sent = random.Random(self.args.seed + 1), 0
        started = time.monotonic()
        while not stop.is_set():
            due = int((time.monotonic() - started) * self.args.live_rate)
            for _ in range(due - sent):
                habit = rng.choice(live)
                ev = {
                    "v": 1,
                    "event_id": f"live-{self.name}-{sent}",
                    "kind": "reaction.added",
                    "public_id": habit.public_id,
                    "occurred_at": now_ms() - 1000,
                    "post_id": f"live-{habit.public_id}",
                }
                send.send(
                    self.topics.for_kind(ev["kind"]), key=habit.public_id.encode(), value=orjson.dumps(ev)
                )
                sent += 1
            time.sleep(0.05)
        send.flush()
        send.close()
        self.figures["live_events"] = sent

    def _redis_memory(self, redis: EmbeddedRedis) -> int:
        import redis as redis_client

        client = redis_client.Redis.from_url(redis.url)
        try:
            return int(client.info("memory")["used_memory"])
        finally:
            client.close()

    def restart(self, broker: EmbeddedBroker, redis: EmbeddedRedis) -> None:
        """The same worker restarted twice: reading its snapshot, then (the baseline) the whole changelog."""
        self.figures.update(self._restart(broker, redis, snapshot=True, key="restart"))
        self.figures.update(self._restart(broker, redis, snapshot=False, key="restart_full_read"))
        with_snapshot, full = (
            self.figures["restart_to_correct_s"],
            self.figures["restart_full_read_to_correct_s"],
        )
        if with_snapshot and full:
            self.figures["restart_snapshot_over_full_read"] = round(with_snapshot / full, 3)

    def _restart(
        self, broker: EmbeddedBroker, redis: EmbeddedRedis, snapshot: bool, key: str
    ) -> dict[str, Any]:
        engine = Engine(self._registry(), read_profiles(PROFILES))
        want = {t["public_id"]: t for t in replay_events(self.sample_events, self.at, engine)}
        victim = self.workers[0]
        code, exit_s = victim.terminate(120)
        stopped = time.monotonic()
        self.workers.remove(victim)
        self.start_worker(broker, redis, victim.slot, snapshot=snapshot)  # type: ignore[attr-defined]
        self.workers.insert(0, self.workers.pop())  # the restarted one is the next victim
        ready_s = correct_s = None
        wrong_served = asked = 0
        pending = set(want)
        deadline = stopped + 600
        while (ready_s is None or pending) and time.monotonic() < deadline:
            if ready_s is None and all(h and h["status"] == "ready" for h in self.healths()):
                ready_s = time.monotonic() - stopped
            for public_id in sorted(pending):
                w = random.choice(self.workers)
                status, body, _ = fetch(f"http://127.0.0.1:{w.web_port}/publics/{public_id}?at={self.at}", 30)
                asked += 1
                if status != 200:
                    continue
                table = orjson.loads(body)
                if all(table.get(k) == v for k, v in want[public_id].items()):
                    pending.discard(public_id)
                else:
                    wrong_served += 1
            if not pending and correct_s is None:
                correct_s = time.monotonic() - stopped
            time.sleep(0.5)
        how = "reading its snapshot" if snapshot else "reading the whole changelog"
        say(f"{self.name}: restart {how}: ready in {ready_s} s, every sampled table correct in {correct_s} s")
        return {
            f"{key}_exit_status": code,
            f"{key}_exit_s": round(exit_s, 1),
            f"{key}_to_ready_s": None if ready_s is None else round(ready_s, 1),
            f"{key}_to_correct_s": None if correct_s is None else round(correct_s, 1),
            f"{key}_sampled_publics": len(want),
            f"{key}_answers": asked,
            f"{key}_wrong_tables_served": wrong_served,
        }

    def _registry(self) -> Registry:
        registry = Registry()
        for record in self.registry:
            parsed = parse_record(orjson.dumps(record))
            assert not isinstance(parsed, str), parsed
            registry.put(parsed)
        return registry

    def stop(self) -> None:
        for w in self.workers:
            w.stop()


def run_one(
    args: argparse.Namespace,
    broker: EmbeddedBroker,
    redis: EmbeddedRedis,
    dep: Deployment,
    restarts: bool = True,
) -> None:
    """Publish, catch up and the steady phase; with ``restarts``, the restarts too."""
    say(f"{dep.name}: {dep.figures['publics']:,} publics, {dep.history_ms / HOUR_MS:g} h of history")
    dep.publish_history(broker)
    try:
        dep.catch_up(broker, redis)
        dep.steady(broker, redis)
        if restarts:
            dep.restart(broker, redis)
    finally:
        dep.stop()
        say(f"{dep.name}: {json.dumps(dep.figures)}")  # kept even if a later phase fails


ROWS = [
    ("events published", "events"),
    ("catch-up, events/s", "catch_up_events_per_s"),
    ("catch-up, messages/s", "catch_up_messages_per_s"),
    ("catch-up: first event to all applied, s", "catch_up_s"),
    ("catch-up: first event to all judged, s", "catch_up_to_judged_s"),
    ("start to first event, s", "first_event_s"),
    ("KiB per held public after catch-up", "kib_per_public_after_catch_up"),
    ("KiB per held public, steady (judged)", "kib_per_public_steady"),
    ("longest loop stall during catch-up, s", "loop_stall_catch_up_s"),
    ("longest loop stall, steady last minute, s", "loop_stall_steady_last_minute_s"),
    ("KPI longest slice, s", "kpi_longest_slice_s"),
    ("publics judged", "kpi_publics_judged"),
    ("Redis used memory, MiB", "redis_used_memory_mib"),
    ("/health median, s", "health_median_s"),
    ("/publics/{id} median, s", "public_median_s"),
    ("/breaches first page median, s", "breaches_first_page_median_s"),
    ("/breaches first page max, s", "breaches_first_page_max_s"),
    ("/metrics scrape median, s", "metrics_median_s"),
    ("restart: exit, s", "restart_exit_s"),
    ("restart: all workers ready, s", "restart_to_ready_s"),
    ("restart: sampled tables correct, s", "restart_to_correct_s"),
    ("restart: wrong tables served", "restart_wrong_tables_served"),
    ("restart, whole changelog read: ready, s", "restart_full_read_to_ready_s"),
    ("restart, whole changelog read: correct, s", "restart_full_read_to_correct_s"),
    ("restart, whole changelog read: wrong served", "restart_full_read_wrong_tables_served"),
    ("restart: snapshot over whole read", "restart_snapshot_over_full_read"),
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--publics", type=int, default=175_000)
    parser.add_argument("--hours", type=float, default=12.0, help="history published for the nation")
    parser.add_argument("--baseline-publics", type=int, default=3723)
    parser.add_argument("--baseline-days", type=float, default=4.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--steady-s", type=float, default=180.0)
    parser.add_argument("--live-rate", type=float, default=100.0, help="events/s during the steady phase")
    parser.add_argument("--sample", type=int, default=200, help="publics checked against replay")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--no-baseline",
        dest="baseline",
        action="store_false",
        help="skip the nation's catch-up and steady phase again as before agents.catchup and idle "
        "eviction (--catch-up-after-s 0 --state-idle-s 0)",
    )
    parser.add_argument(
        "--state-idle-s",
        default="60",
        help="the workers' --state-idle-s (the shipped 600 would evict nothing within the steady phase)",
    )
    args = parser.parse_args()
    workdir = new_run_dir(OUT)
    say(f"logs in {workdir}")
    deployments = [
        Deployment(args, "region", args.baseline_publics, int(args.baseline_days * DAY_MS), workdir),
        Deployment(args, "nation", args.publics, int(args.hours * HOUR_MS), workdir),
    ]
    if args.baseline:  # the nation again, judging and writing Redis after every batch, every state decoded
        deployments.append(
            Deployment(
                args,
                "before",
                args.publics,
                int(args.hours * HOUR_MS),
                workdir,
                env={"GOSPULSE_CATCH_UP_AFTER_S": "0", "GOSPULSE_STATE_IDLE_S": "0"},
            )
        )
    with EmbeddedBroker(log_path=workdir / "tansu.log") as broker:
        redis = EmbeddedRedis(log_path=workdir / "redis.log").start()
        try:
            for dep in deployments:
                run_one(args, broker, redis, dep, restarts=dep.name != "before")
        finally:
            redis.stop()
    figures = {d.name: d.figures for d in deployments}
    region, nation = figures["region"], figures["nation"]
    ratios = {
        "catch_up_nation_over_region": nation["catch_up_events_per_s"] / region["catch_up_events_per_s"],
        "catch_up_messages_nation_over_region": nation["catch_up_messages_per_s"]
        / region["catch_up_messages_per_s"],
    }
    if "before" in figures:
        before = figures["before"]
        for name, key in (
            ("catch_up_nation_over_before", "catch_up_events_per_s"),
            ("to_judged_nation_over_before", "catch_up_to_judged_s"),
            ("kib_steady_nation_over_before", "kib_per_public_steady"),
        ):
            ratios[name] = nation[key] / before[key]
    print("".join([f"{'':46}", *(f"{name:>14}" for name in figures)]))
    for label, key in ROWS:
        print("".join([f"{label:46}", *(f"{f.get(key)!s:>14}" for f in figures.values())]))
    for name, ratio in ratios.items():
        print(f"{name:60}{ratio:>10.2f}")
    print(json.dumps({**figures, **{k: round(v, 3) for k, v in ratios.items()}}))


if __name__ == "__main__":
    main()
