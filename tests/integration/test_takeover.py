"""A worker killed under traffic: every answer a client gets while the survivor takes its partitions
over is either exact or a 503 that says when to ask again, never a table that looks right and is not."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import orjson

from schemas.contract import KINDS
from streams.core.engine import Engine
from streams.kafka_client import producer
from streams.local.tansu import EmbeddedBroker
from streams.produce.synth import log_events, make_publics
from streams.replay import replay_events
from tests.integration.test_worker import PARTITIONS, record_of, registry_of
from tests.integration.worker import WorkerProcess, eventually

HOUR = 3_600_000
#: Fields that only grow as more of the log is applied, for a fixed ``at`` (contract §2: a deletion
#: does not subtract a comment; view deltas are never negative).
GROWING = (
    "joins_7d",
    "leaves_7d",
    "reposts_7d",
    "views_7d",
    "citizen_comments_7d",
    "official_comments_7d",
    "joins_30d",
    "leaves_30d",
)
#: Fields the registry gives: a worker that has not read it would answer them null or default.
SEGMENT = ("region", "level", "theme", "profile")


class Poller(threading.Thread):
    """A client asking one worker for every public's table at ``at``, round after round."""

    def __init__(self, api: str, public_ids: list[str], at: int) -> None:
        super().__init__(daemon=True)
        self.api, self.public_ids, self.at = api, public_ids, at
        self.answers: list[tuple[str, int, str | None, Any]] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            for public_id in self.public_ids:
                status, body, retry_after = _get(f"{self.api}/publics/{public_id}?at={self.at}")
                self.answers.append((public_id, status, retry_after, body))


def _get(url: str) -> tuple[int, Any, str | None]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, orjson.loads(response.read()), response.headers.get("Retry-After")
    except urllib.error.HTTPError as err:
        return err.code, orjson.loads(err.read() or b"null"), err.headers.get("Retry-After")
    except OSError as exc:
        return 0, repr(exc), None


def test_a_takeover_under_traffic_answers_exactly_or_asks_to_retry(
    broker: EmbeddedBroker, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    prefix, app_id = "t-takeover.", "t-takeover"
    habits = make_publics(150, seed=21)
    at = time.time_ns() // 1_000_000
    events = list(log_events(habits, at - 3 * 24 * HOUR, at - 60_000, seed=21))
    half = len(events) // 2
    first = WorkerProcess(broker, app_id, prefix, PARTITIONS, tmp_path).start()
    second = WorkerProcess(broker, app_id, prefix, PARTITIONS, tmp_path).start()
    workers += [first, second]
    first.wait_ready()
    second.wait_ready()

    send = producer(broker.bootstrap, "t-takeover")

    def publish(batch: list[dict[str, Any]], pause_s: float = 0.0) -> None:
        for start in range(0, len(batch), 500):
            for ev in batch[start : start + 500]:
                send.send(prefix + KINDS[ev["kind"]][0], key=ev["public_id"].encode(), value=orjson.dumps(ev))
            send.flush()
            time.sleep(pause_s)

    for record in map(record_of, habits):
        send.send(prefix + "publics", key=record["public_id"].encode(), value=orjson.dumps(record))
    publish(events[:half])
    public_ids = sorted({e["public_id"] for e in events[:half]})
    api = f"http://127.0.0.1:{second.web_port}"

    def every_public_answers() -> None:
        statuses = {_get(f"{api}/publics/{p}?at={at}")[0] for p in public_ids}
        assert statuses == {200}, statuses

    eventually(every_public_answers, timeout_s=120)
    poller = Poller(api, public_ids, at)
    poller.start()
    traffic = threading.Thread(target=publish, args=(events[half:], 0.5), daemon=True)
    traffic.start()
    time.sleep(3)
    first.kill9()  # its partitions are taken over by the second while events keep coming
    traffic.join(120)
    send.close()
    want = {t["public_id"]: t for t in replay_events(events, at, Engine(registry_of(habits)))}

    def every_answer_is_final() -> None:
        for public_id in public_ids:
            status, body, _ = _get(f"{api}/publics/{public_id}?at={at}")
            assert status == 200, body
            diffs = [name for name in want[public_id] if body[name] != want[public_id][name]]
            assert not diffs, (public_id, diffs)

    eventually(every_answer_is_final, timeout_s=180, every_s=2)
    poller.done.set()
    poller.join(60)

    answers = poller.answers
    statuses = {status for _, status, _, _ in answers}
    assert statuses <= {200, 503}, [a for a in answers if a[1] not in (200, 503)][:3]
    assert all(retry == "5" for _, status, retry, _ in answers if status == 503)
    last: dict[str, dict[str, Any]] = {}
    wrong = []
    for public_id, status, _, body in answers:
        if status != 200:
            continue
        final = want[public_id]
        if any(body[name] != final[name] for name in SEGMENT):
            wrong.append((public_id, "segment", {name: body[name] for name in SEGMENT}))
        if any(body[name] > final[name] for name in GROWING):
            wrong.append((public_id, "ahead of the whole log", {n: (body[n], final[n]) for n in GROWING}))
        before = last.get(public_id)
        if before is not None and any(body[name] < before[name] for name in GROWING):
            wrong.append((public_id, "went back", {n: (before[n], body[n]) for n in GROWING}))
        if before is not None and before["subscribers"] is not None and body["subscribers"] is None:
            wrong.append((public_id, "lost its subscribers", None))
        last[public_id] = body
    served = sum(1 for a in answers if a[1] == 200)
    assert served > len(public_ids), f"only {served} tables served during the takeover"
    assert not wrong, f"{len(wrong)} of {served} tables served were wrong, first: {wrong[:3]}"
