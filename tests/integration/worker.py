"""Helpers to drive real workers and read back what they persisted."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from kafka import KafkaConsumer, TopicPartition

from streams.core.layout import decode
from streams.core.table import snapshot
from streams.local.embedded import Child
from streams.local.tansu import EmbeddedBroker, free_port

GOSPULSE = Path(sys.executable).parent / "gospulse"
REPO = Path(__file__).resolve().parents[2]


class WorkerProcess:
    """``gospulse worker`` (or ``command``) as a child process (``streams.local.embedded.Child``) on the
    test broker, with its own port, data directory and log."""

    def __init__(
        self,
        broker: EmbeddedBroker,
        app_id: str,
        prefix: str,
        partitions: int,
        workdir: Path,
        redis_url: str | None = None,
        command: list[str] | None = None,
        env: dict[str, str] | None = None,
        data_dir: Path | None = None,
    ) -> None:
        """``command`` runs instead of the installed ``gospulse`` (e.g. a faulty one), with ``env`` added;
        ``data_dir`` is kept across starts (default: a new one per worker)."""
        self.broker, self.app_id, self.prefix, self.partitions = broker, app_id, prefix, partitions
        self.web_port = free_port()
        self.log = workdir / f"worker-{self.web_port}.log"
        argv = [
            *(command or [str(GOSPULSE)]),
            "worker",
            "--broker",
            broker.url,
            "--web-host",
            "127.0.0.1",
            "--topic-prefix",
            prefix,
            "--partitions",
            str(partitions),
            "--app-id",
            app_id,
            "--web-port",
            str(self.web_port),
            "--data-dir",
            str(data_dir or workdir / f"data-{self.web_port}"),
            "--loglevel",
            "info",
            *(["--redis", redis_url] if redis_url else []),
        ]
        self.child = Child("worker", argv, self.log, env=env, cwd=REPO)

    def start(self) -> WorkerProcess:
        self.child.start()
        return self

    def wait_exit(self, timeout_s: float) -> int:
        """The worker's exit status, once it has stopped by itself."""
        try:
            return self.child.wait(timeout_s)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"worker still running after {timeout_s} s:\n{self.log.read_text()[-3000:]}"
            ) from None

    def wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.child.alive(), self.log.read_text()[-3000:]
            if b"Worker ready" in self.log.read_bytes():
                return
            time.sleep(0.2)
        raise AssertionError(f"worker not ready in {timeout_s} s:\n{self.log.read_text()[-3000:]}")

    def terminate(self, timeout_s: float) -> tuple[int, float]:
        """SIGTERM, as an orchestrator stops a worker; the exit status and the seconds it took."""
        started = time.monotonic()
        self.child.signal(signal.SIGTERM)
        code = self.wait_exit(timeout_s)
        return code, time.monotonic() - started

    def kill9(self) -> None:
        self.child.signal(signal.SIGKILL)
        self.child.wait(60)

    def stop(self) -> None:
        self.child.stop()


def read_topic(broker: EmbeddedBroker, topic: str, stall_s: float = 30.0) -> list[Any]:
    """Every record of ``topic`` up to its current end; raises TimeoutError, never answers short,
    when the broker gives nothing for ``stall_s`` before the end is reached (a partial read would
    pass off a record older than the last as a public's state)."""
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        if not partitions:
            return []
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        records: list[Any] = []
        stalled_since = time.monotonic()
        while short := [tp for tp in partitions if consumer.position(tp) < ends[tp]]:
            if time.monotonic() - stalled_since > stall_s:
                raise TimeoutError(
                    f"reading {topic}: nothing for {stall_s:g} s with {len(short)} partitions short of "
                    f"their end ({len(records)} records read)"
                )
            for batch in consumer.poll(timeout_ms=300).values():
                records.extend(batch)
                stalled_since = time.monotonic()
        return records
    finally:
        consumer.close()


def events_on_broker(broker: EmbeddedBroker, prefix: str) -> list[dict[str, Any]]:
    """Every event on the three event topics, each partition in offset order: the log order the
    contract defines tables in, as the broker holds it (a producer's retries may reorder a log)."""
    events: list[dict[str, Any]] = []
    for topic in ("posts", "comments", "subscriptions"):
        for record in sorted(read_topic(broker, prefix + topic), key=lambda r: (r.partition, r.offset)):
            value = orjson.loads(record.value)
            events += value if isinstance(value, list) else [value]
    return events


def tables_from_changelog(broker: EmbeddedBroker, app_id: str, at: int) -> list[dict[str, Any]]:
    """Rebuild every public's table from what the workers wrote to the state changelog."""
    latest: dict[str, bytes] = {}
    for record in read_topic(broker, f"{app_id}-state-changelog"):
        if record.value is None:
            latest.pop(record.key.decode(), None)
        else:
            latest[record.key.decode()] = record.value
    roots = sorted(k for k in latest if "|" not in k)
    return [snapshot(decode(public_id, latest), at) for public_id in roots]


def eventually(check: Callable[[], Any], timeout_s: float = 90, every_s: float = 1.0) -> Any:
    """Call ``check`` until it stops raising AssertionError; re-raise the last one at the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(every_s)


def replay_breaches(log: Path, registry: Path, at: int, profiles: Path | None = None) -> list[dict[str, Any]]:
    """``gospulse replay --breaches`` of the events file ``log`` with ``registry`` at ``at``: what the
    live ``GET /breaches?at=`` must equal (contract §4)."""
    argv = [str(GOSPULSE), "replay", str(log), "--registry", str(registry), "--at", str(at), "--breaches"]
    if profiles is not None:
        argv += ["--profiles", str(profiles)]
    done = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=300)
    return [orjson.loads(line) for line in done.stdout.splitlines()]


def all_breaches(api: str, at: int, limit: int | None = None, timeout_s: float = 60) -> list[dict[str, Any]]:
    """Every page of ``GET /breaches?at=`` from the worker at ``api``, in order, ``limit`` breaches a
    page (default: the API's), following the cursor."""
    from streams.local.up import get_json

    out: list[dict[str, Any]] = []
    cursor = ""
    while True:
        size = f"&limit={limit}" if limit is not None else ""
        status, body = get_json(f"{api}/breaches?at={at}{size}{cursor}", timeout_s)
        assert status == 200, body
        assert isinstance(body, dict) and body["at"] == at
        if limit is not None:
            publics = {b["public_id"] for b in body["breaches"]}
            assert len(body["breaches"]) <= limit or len(publics) == 1, "a page past its limit"
        out += body["breaches"]
        if body["next_cursor"] is None:
            return out
        cursor = f"&cursor={body['next_cursor']}"
