"""Chaos soak: a worker group under published traffic and random faults, then every table and every
breach compared with ``replay`` of the log the broker holds.

    python -m bench.chaos                    # 20 minutes, 300 publics, 2 to 3 workers
    python -m bench.chaos --minutes 5 --seed 2

The embedded tansu and Redis, and ``gospulse worker`` processes sharing one ``--app-id``. A producer
publishes the registry, then three days of generated events in small slices spread over the soak.
Every 15 to 45 s one fault, drawn at random:

- **kill**: SIGKILL a worker, and start it again;
- **term**: SIGTERM a worker (a clean stop), and start it again;
- **join**: start another worker (at most ``--max-workers``);
- **leave**: SIGTERM a worker for good (at least one stays);
- **redis**: stop Redis and start it again on the same port (its data is gone);
- **slow-broker**: SIGSTOP the broker for 3 to 10 s, then SIGCONT.

Then the faults stop, the rest of the log is published, and once every worker's consumer has caught
up the soak compares, at one instant T after the last event: the tables rebuilt from the state
changelog, and ``GET /breaches?at=T`` of a live worker, with ``gospulse replay`` (``--breaches``) of the
events read back from the broker and the registry. Prints the faults injected and the differences;
exits 1 on any difference. Each run's logs stay under ``bench/out/chaos/<run>/``.

The workers keep their tables on disk at a clean stop (``agents.snapshot``, on as shipped): a worker
killed or stopped is started again in its own data directory (onto the snapshot of its last clean
stop), and one that joins takes the directory of one that left (an older snapshot).
``--no-state-snapshot`` runs them without (every start reads the whole changelog).
Idle publics' decoded states are dropped every 15 s (``--state-idle-s``), so that redeliveries and
takeovers meet publics held as records only.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import orjson

from bench.rundir import new_run_dir
from schemas.contract import KINDS
from streams.core.engine import Engine
from streams.core.layout import decode
from streams.core.table import snapshot
from streams.kafka_client import producer
from streams.local.redis_server import EmbeddedRedis
from streams.local.tansu import EmbeddedBroker
from streams.local.up import get_json
from streams.produce.synth import log_events, make_publics
from streams.replay import replay_events
from tests.integration.worker import (
    WorkerProcess,
    all_breaches,
    events_on_broker,
    read_topic,
    replay_breaches,
    tables_from_changelog,
)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "chaos"
PROFILES = ROOT / "deploy" / "kpi" / "profiles.toml"
PREFIX, APP_ID, PARTITIONS = "chaos.", "chaos", 8
HOUR_MS = 3_600_000
FAULTS = ("kill", "term", "join", "leave", "redis", "slow-broker")


def say(text: str) -> None:
    print(f"chaos {time.strftime('%H:%M:%S')}  {text}", flush=True)


class Soak:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.rng = random.Random(args.seed)
        self.broker = EmbeddedBroker(log_path=workdir / "tansu.log").start()
        self.redis = EmbeddedRedis(log_path=workdir / "redis.log").start()
        self.workers: list[WorkerProcess] = []
        self.faults = dict.fromkeys(FAULTS, 0)
        self.published = 0
        self.stopped = threading.Event()
        #: Data directories of workers that left (snapshots on): the next to join takes one.
        self.left: list[Path] = []

    def worker(self, data_dir: Path | None = None) -> WorkerProcess:
        """A worker; with snapshots (the default), in ``data_dir`` (a restarted worker's own, so it reads
        the snapshot its clean stop kept, or the one before a kill) or else one a worker left."""
        env = {
            "GOSPULSE_PROFILES": str(PROFILES),
            "GOSPULSE_KPI_SWEEP_S": "10",
            "GOSPULSE_STATE_IDLE_S": "15",
        }
        if self.args.no_state_snapshot:
            env["GOSPULSE_STATE_SNAPSHOT_MAX_AGE_S"] = "0"
        else:
            if data_dir is None:
                data_dir = self.left.pop() if self.left else self.workdir / f"data-{len(self.workers)}"
        started = WorkerProcess(
            self.broker, APP_ID, PREFIX, PARTITIONS, self.workdir, self.redis.url, env=env, data_dir=data_dir
        ).start()
        started.data_dir = data_dir  # type: ignore[attr-defined]
        self.workers.append(started)
        return started

    def live(self) -> list[WorkerProcess]:
        return [w for w in self.workers if w.child.alive()]

    def publish(self, registry: list[dict[str, Any]], events: list[dict[str, Any]], until: float) -> None:
        """The registry, then ``events`` in slices spread until ``until`` (monotonic)."""
        send = producer(self.broker.bootstrap, "chaos")
        for record in registry:
            send.send(PREFIX + "publics", key=record["public_id"].encode(), value=orjson.dumps(record))
        send.flush()
        slices = max(1, int((until - time.monotonic()) / 2))
        size = max(1, len(events) // slices + 1)
        for start in range(0, len(events), size):
            for ev in events[start : start + size]:
                topic = PREFIX + KINDS[ev["kind"]][0]
                send.send(topic, key=ev["public_id"].encode(), value=orjson.dumps(ev))
            send.flush()
            self.published = min(len(events), start + size)
            time.sleep(max(0.0, min(2.0, until - time.monotonic())))
        send.close()

    def inject(self) -> str:
        fault = self.rng.choice(FAULTS)
        live = self.live()
        if fault in ("kill", "term", "leave") and not live:
            fault = "join"
        if fault == "leave" and len(live) <= 1:
            fault = "term"
        if fault == "join" and len(live) >= self.args.max_workers:
            fault = "kill"
        if fault == "kill":
            victim = self.rng.choice(live)
            victim.kill9()
            self.worker(victim.data_dir)  # type: ignore[attr-defined]
        elif fault == "term":
            victim = self.rng.choice(live)
            victim.terminate(60)
            self.worker(victim.data_dir)  # type: ignore[attr-defined]
        elif fault == "join":
            self.worker()
        elif fault == "leave":
            victim = self.rng.choice(live)
            victim.terminate(60)
            if victim.data_dir is not None:  # type: ignore[attr-defined]
                self.left.append(victim.data_dir)  # type: ignore[attr-defined]
        elif fault == "redis":
            port = self.redis.port
            self.redis.stop()
            time.sleep(self.rng.uniform(1, 5))
            self.redis = EmbeddedRedis(port=port, log_path=self.workdir / "redis.log").start()
        else:
            pause = self.rng.uniform(3, 10)
            self.broker.signal(signal.SIGSTOP)
            time.sleep(pause)
            self.broker.signal(signal.SIGCONT)
        self.faults[fault] += 1
        return fault

    def watch_commits(self, every_s: float = 5.0) -> None:
        """Every ``every_s``, the group's committed offsets into ``commits.jsonl`` of the run: a commit
        that goes back or vanishes shows there (a thread, until the soak stops)."""
        from kafka import KafkaAdminClient

        with (self.workdir / "commits.jsonl").open("ab") as out:
            while not self.stopped.is_set():
                try:
                    admin = KafkaAdminClient(bootstrap_servers=self.broker.bootstrap, request_timeout_ms=5000)
                    try:
                        got = admin.list_group_offsets(APP_ID)
                    finally:
                        admin.close()
                    got = got.get(APP_ID, got) if isinstance(got, dict) else got
                    line = {f"{tp.topic}/{tp.partition}": o.offset for tp, o in got.items()}
                    out.write(orjson.dumps({"t": time.time(), "committed": line}) + b"\n")
                    out.flush()
                except Exception as exc:  # the broker may be stopped on purpose
                    out.write(orjson.dumps({"t": time.time(), "error": repr(exc)}) + b"\n")
                self.stopped.wait(every_s)

    def caught_up(self, timeout_s: float) -> bool:
        """Every live worker ready, and the group's committed offsets at the end of every partition."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                healths = [get_json(f"http://127.0.0.1:{w.web_port}/health", 10) for w in self.live()]
            except OSError:
                time.sleep(2)
                continue
            if healths and all(status == 200 for status, _ in healths):
                lag = _group_lag(self.broker)
                if lag == 0:
                    return True
            time.sleep(5)
        return False

    def stop(self) -> None:
        self.stopped.set()
        for w in self.workers:
            w.stop()
        self.redis.stop()
        self.broker.stop()


def _group_lag(broker: EmbeddedBroker) -> int | None:
    """Messages of the event topics past the group's committed offsets (None: not known yet). The
    ends are read from the records themselves: tansu's ListOffsets answers short (docs/upstream)."""
    from kafka import KafkaAdminClient, TopicPartition

    ends: dict[Any, int] = {}
    for family in ("posts", "comments", "subscriptions"):
        for record in read_topic(broker, PREFIX + family):
            tp = TopicPartition(record.topic, record.partition)
            ends[tp] = max(ends.get(tp, 0), record.offset + 1)
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        committed = admin.list_group_offsets({APP_ID: list(ends)})[APP_ID]
    finally:
        admin.close()
    lag = 0
    for tp, end in ends.items():
        done = committed.get(tp)
        if done is None:
            return None
        lag += max(0, end - done.offset)
    return lag


def run(args: argparse.Namespace) -> int:
    workdir = new_run_dir(OUT, f"seed{args.seed}")
    habits = make_publics(args.publics, args.seed)
    at = time.time_ns() // 1_000_000
    events = list(log_events(habits, at - 3 * 24 * HOUR_MS, at - 60_000, args.seed))
    # Moscow time for every public: a zone read by a worker after a reply is applied would make the
    # working latency depend on timing (contract §4 lets it be computed when the reply is applied)
    registry = [{**h.registry_record(), "tz": "Europe/Moscow"} for h in habits]
    say(f"{len(events):,} events of {args.publics} publics over {args.minutes:g} min; logs in {workdir}")
    soak = Soak(args, workdir)
    try:
        for _ in range(2):
            soak.worker()
        soak.workers[0].wait_ready(120)
        traffic_until = time.monotonic() + args.minutes * 60
        traffic = threading.Thread(target=soak.publish, args=(registry, events, traffic_until), daemon=True)
        traffic.start()
        threading.Thread(target=soak.watch_commits, daemon=True).start()
        while time.monotonic() < traffic_until:
            time.sleep(soak.rng.uniform(15, 45))
            if time.monotonic() >= traffic_until:
                break
            fault = soak.inject()
            say(f"{fault:<12} workers alive {len(soak.live())}, events published {soak.published:,}")
        traffic.join()
        if not soak.live():
            soak.worker()
        say("faults stopped; waiting for the group to catch up")
        if not soak.caught_up(timeout_s=600):
            say("the group did not catch up within 10 minutes")
            return 1
        time.sleep(15)  # a sweep of every live worker after the last commit
        return compare(soak, registry, at, workdir)
    finally:
        soak.stop()
        say(f"faults injected: {json.dumps(soak.faults)}")


def compare(soak: Soak, registry: list[dict[str, Any]], at: int, workdir: Path) -> int:
    on_broker = events_on_broker(soak.broker, PREFIX)
    want = {t["public_id"]: t for t in replay_events(on_broker, at, Engine())}
    got = {t["public_id"]: t for t in tables_from_changelog(soak.broker, APP_ID, at)}
    table_diffs = [
        (p, name, got.get(p, {}).get(name), t[name])
        for p, t in want.items()
        for name in t
        if got.get(p, {}).get(name) != t[name]
    ] + [(p, "extra public", None, None) for p in got if p not in want]
    log = workdir / "log.jsonl"
    log.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in on_broker))
    reg = workdir / "registry.jsonl"
    reg.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in registry))
    want_breaches = replay_breaches(log, reg, at, PROFILES)
    live = soak.live()[0]
    try:
        got_breaches = all_breaches(f"http://127.0.0.1:{live.web_port}", at, timeout_s=120)
    except AssertionError as exc:
        say(f"GET /breaches failed: {exc}")
        got_breaches = None
    breach_diffs = (
        0
        if got_breaches == want_breaches
        else len({orjson.dumps(b) for b in want_breaches} ^ {orjson.dumps(b) for b in got_breaches or []})
        or 1
    )
    say(
        f"events on the broker {len(on_broker):,}; publics {len(want):,}; table differences "
        f"{len(table_diffs)}; breaches {len(want_breaches):,}, differences {breach_diffs}"
    )
    for diff in table_diffs[:10]:
        say(f"  differs: {diff}")
    # a public the changelog has wrong: does the worker holding it have it right? (right: a stale or
    # lost state write; wrong too: an event committed past without being applied)
    for public_id in sorted({d[0] for d in table_diffs if d[1] != "extra public"})[:10]:
        status, live_table = get_json(f"http://127.0.0.1:{live.web_port}/publics/{public_id}?at={at}", 60)
        if status != 200:
            say(f"  {public_id}: the API answered {status}")
            continue
        fields = [d[1] for d in table_diffs if d[0] == public_id]  # the API's tables carry segments too
        wrong = [name for name in fields if live_table.get(name) != want[public_id][name]]
        verdict = f"differs in {', '.join(wrong)}" if wrong else "has them as replay does"
        say(f"  {public_id}: the worker's API, for the fields the changelog has wrong, {verdict}")
        try:
            for line in changelog_history(soak.broker, public_id, fields, at, workdir):
                say(f"    {line}")
        except Exception as exc:  # the evidence written so far stays in the run's directory
            say(f"    could not trace its changelog: {exc!r}")
    for line in commits_gone_back(workdir / "commits.jsonl"):
        say(f"  commit went back: {line}")
    return 1 if table_diffs or breach_diffs else 0


def commits_gone_back(path: Path) -> list[str]:
    """Each time a partition's committed offset was lower than, or gone since, the one seen before."""
    last: dict[str, int] = {}
    out = []
    for raw in path.read_bytes().splitlines() if path.exists() else []:
        entry = orjson.loads(raw)
        committed = entry.get("committed")
        if committed is None:
            continue
        stamp = time.strftime("%H:%M:%S", time.localtime(entry["t"]))
        for tp, before in last.items():
            now = committed.get(tp)
            if now is None or now < before:
                out.append(f"{stamp} {tp} {before} -> {now}")
        last.update(committed)
    return out


def changelog_history(
    broker: EmbeddedBroker, public_id: str, fields: list[str], at: int, workdir: Path
) -> list[str]:
    """Each root record the workers wrote for ``public_id``, in changelog order, with the ``fields`` of
    the table it gives: a later record giving less than an earlier one is a stale write landing last.
    The records themselves are kept in ``workdir`` (``changelog-<public>.jsonl``)."""
    changelog = read_topic(broker, f"{APP_ID}-state-changelog")
    mine = [r for r in changelog if r.key.decode().split("|")[0] == public_id]
    records = sorted(mine, key=lambda r: r.offset)
    kept = [
        {
            "key": r.key.decode(),
            "partition": r.partition,
            "offset": r.offset,
            "timestamp": r.timestamp,
            "value": None if r.value is None else r.value.hex(),
        }
        for r in records
    ]
    (workdir / f"changelog-{public_id.replace(':', '_')}.jsonl").write_bytes(
        b"".join(orjson.dumps(k) + b"\n" for k in kept)
    )
    held: dict[str, bytes] = {}
    lines = []
    for r in records:
        key = r.key.decode()
        if r.value is None:
            held.pop(key, None)
            continue
        held[key] = r.value
        if key == public_id:
            table = snapshot(decode(public_id, held), at)
            stamp = time.strftime("%H:%M:%S", time.localtime(r.timestamp / 1000))
            when = f"{stamp}.{r.timestamp % 1000:03d}"
            values = ", ".join(f"{name}={table.get(name)}" for name in fields)
            lines.append(f"changelog {r.partition}@{r.offset} written {when}: {values}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=20.0, help="how long faults and traffic last")
    parser.add_argument("--publics", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-workers", type=int, default=3)
    parser.add_argument(
        "--no-state-snapshot",
        action="store_true",
        help="workers read the whole changelog at every start, as with --state-snapshot-max-age-s 0 "
        "(by default they keep their tables on disk at a clean stop and restart onto them)",
    )
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
