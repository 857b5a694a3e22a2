"""Breaches live, through the real broker: a registered public with no posts breaks its posting KPI,
the breach opens once, closes once when posts come, and sweeps in between say nothing more; the
worker's /breaches agrees with ``gospulse replay --breaches`` on the same log; a changed profiles
file is taken without a restart, a bad one is refused and named on /health."""

from __future__ import annotations

import signal
import time
import urllib.request
from pathlib import Path

import orjson
import redis
from kafka import KafkaConsumer

from streams.local.redis_server import EmbeddedRedis
from streams.local.tansu import EmbeddedBroker
from tests.integration.test_worker import PARTITIONS, get_json, publish
from tests.integration.worker import WorkerProcess, eventually, replay_breaches
from tests.logs import published

PROFILES = b"""[profiles.default]
min_posts_7d = 2
max_silence_h = "off"
max_response_wh_p90_h = "off"
max_overdue_wh = "off"
min_er_day_7d = "off"
min_net_subscribers_pct_7d = "off"
"""


def transitions(broker: EmbeddedBroker, topic: str) -> list[dict]:
    """Every record of the transitions topic, read until a quiet second."""
    consumer = KafkaConsumer(
        topic, bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    out: list[dict] = []
    try:
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < 1.5:
            batch = consumer.poll(timeout_ms=300)
            for records in batch.values():
                out += [orjson.loads(r.value) | {"_key": r.key.decode()} for r in records]
                quiet_since = time.monotonic()
    finally:
        consumer.close()
    return out


def test_a_breach_opens_and_closes_once_and_the_api_agrees_with_replay(
    broker: EmbeddedBroker, redis_server: EmbeddedRedis, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    prefix, app_id = "t-kpi.", "t-kpi"
    profiles = tmp_path / "profiles.toml"
    profiles.write_bytes(PROFILES)
    registry = tmp_path / "publics.jsonl"
    records = [
        {"v": 1, "public_id": p, "name": p, "region": "RU-NIZ", "level": "municipal", "theme": "culture"}
        for p in ("vk:-77", "vk:-78")
    ]
    registry.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    worker = WorkerProcess(
        broker,
        app_id,
        prefix,
        PARTITIONS,
        tmp_path,
        redis_server.url,
        env={"GOSPULSE_PROFILES": str(profiles)},  # no sweep within the test: rounds judge what is due
    ).start()
    workers.append(worker)
    worker.wait_ready()
    api = f"http://127.0.0.1:{worker.web_port}"
    now = int(time.time() * 1000)
    first = [
        published(now - 3_600_000, "p1", public_id="vk:-78"),
        published(now - 60_000, "p2", public_id="vk:-78"),
    ]
    # vk:-78's posts are applied before the registry names it: registered first, a sweep in between
    # (every 2 s here) would rightly judge it with no posts, and open and close a breach the test does
    # not expect (a loaded machine widens that gap)
    publish(broker, prefix, [orjson.dumps(e) for e in first], tmp_path / "first.jsonl")
    eventually(lambda: _assert_equal(get_json(f"{api}/health")[1]["events_applied"], len(first)), 60)
    publish(broker, prefix, [], tmp_path / "registry-only.jsonl", records)  # the registry, no events
    topic = f"{prefix}kpi-breaches"

    def opened() -> None:
        got = [(t["_key"], t["state"], t["kpi"]) for t in transitions(broker, topic)]
        assert got == [("vk:-77", "open", "posting")]

    eventually(opened, timeout_s=60)
    status, body = get_json(f"{api}/breaches")
    assert status == 200 and [(b["public_id"], b["kpi"], b["value"]) for b in body["breaches"]] == [
        ("vk:-77", "posting", 0)
    ]
    current = redis.Redis.from_url(redis_server.url)
    eventually(lambda: _assert_in(str(current.hgetall(f"{app_id}:breaches")), "vk:-77"), timeout_s=10)
    time.sleep(5)  # two more sweeps: nothing new to tell
    assert len(transitions(broker, topic)) == 1

    posts = [
        published(now - 30_000, "a", public_id="vk:-77"),
        published(now - 20_000, "b", public_id="vk:-77"),
    ]
    publish(broker, prefix, [orjson.dumps(e) for e in posts], tmp_path / "posts.jsonl")

    def closed() -> None:
        got = [(t["_key"], t["state"], t["kpi"]) for t in transitions(broker, topic)]
        assert got == [("vk:-77", "open", "posting"), ("vk:-77", "closed", "posting")]

    eventually(closed, timeout_s=60)
    assert get_json(f"{api}/breaches")[1]["breaches"] == []
    eventually(lambda: _assert_equal(current.hgetall(f"{app_id}:breaches"), {}), timeout_s=10)

    # a bad file is refused (and said on /health); a good one is taken without a restart, on SIGHUP too
    profiles.write_bytes(PROFILES.replace(b"min_posts_7d = 2", b"min_posts_7d = -2"))
    eventually(
        lambda: _assert_in(get_json(f"{api}/health")[1]["profiles_error"], "min_posts_7d"), timeout_s=20
    )
    profiles.write_bytes(PROFILES.replace(b"min_posts_7d = 2", b"min_posts_7d = 3"))
    worker.child.signal(signal.SIGHUP)
    eventually(lambda: _assert_breaching(api, {"vk:-77", "vk:-78"}), timeout_s=30)
    assert worker.child.alive() and get_json(f"{api}/health")[1]["profiles_error"] is None

    # /breaches at T equals gospulse replay --breaches at T on the same log and registry
    log = tmp_path / "all.jsonl"
    log.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in [*first, *posts]))
    at = now
    from_replay = replay_breaches(log, registry, at, profiles)
    assert from_replay == get_json(f"{api}/breaches?at={at}")[1]["breaches"]
    assert [(b["public_id"], b["kpi"]) for b in from_replay] == [("vk:-77", "posting"), ("vk:-78", "posting")]

    status, body = get_json(f"{api}/breaches?kpi=posting&level=city")
    assert status == 400 and "level: 'city' is not one of" in body["error"]


def _assert_equal(got: object, want: object) -> None:
    assert got == want


def _assert_in(text: str | None, part: str) -> None:
    assert text is not None and part in text


def _assert_breaching(api: str, publics: set[str]) -> None:
    assert {b["public_id"] for b in get_json(f"{api}/breaches?kpi=posting")[1]["breaches"]} == publics


def test_a_worker_started_onto_a_backlog_judges_its_publics_once_it_is_read(
    broker: EmbeddedBroker, redis_server: EmbeddedRedis, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    """A worker that starts onto a backlog (after an outage, a backfill) holds its KPI rounds and Redis
    tables until the backlog is read (``agents.catchup``): judged on a partial history, each public
    below would first have broken its posting KPI (no posts yet, or one of the three of its week),
    then mended it; so not one transition may reach the topic, and each public is judged once read."""
    prefix, app_id = "t-catch.", "t-catch"
    profiles = tmp_path / "profiles.toml"
    profiles.write_bytes(PROFILES)  # at least 2 posts in 7 days
    now = int(time.time() * 1000)
    publics = [f"vk:-{n}" for n in range(1000, 2000)]
    records = [
        {"v": 1, "public_id": p, "name": p, "region": "RU-NIZ", "level": "municipal", "theme": "culture"}
        for p in publics
    ]
    events = [
        published(now - day * 86_400_000 - 60_000, f"{p}-{day}", public_id=p)
        for day in (3, 2, 1)
        for p in publics
    ]
    publish(
        broker, prefix, [orjson.dumps(e) for e in events], tmp_path / "backlog.jsonl", records, max_batch=1
    )
    time.sleep(2)  # the backlog has waited when the worker starts (its events are days old: history)
    worker = WorkerProcess(
        broker,
        app_id,
        prefix,
        PARTITIONS,
        tmp_path,
        redis_server.url,
        env={
            "GOSPULSE_PROFILES": str(profiles),
            # long enough that /health, /breaches/open and the page are all asked within it
            "GOSPULSE_CATCH_UP_AFTER_S": "5",
            "GOSPULSE_BATCH_MESSAGES": "1",  # a catch-up of many batches, over several KPI rounds
        },
    ).start()
    workers.append(worker)
    api = f"http://127.0.0.1:{worker.web_port}"
    seen_catching_up = False
    told: list[tuple[bool, str]] = []  # /breaches/open's flag and the page, asked while catching up

    def judged_all() -> None:
        nonlocal seen_catching_up
        try:
            status, health = get_json(f"{api}/health")
        except OSError as exc:  # not listening yet
            raise AssertionError(exc) from exc
        if health.get("catching_up"):
            opened = get_json(f"{api}/breaches/open")[1]
            with urllib.request.urlopen(f"{api}/", timeout=30) as answer:
                told.append((opened["catching_up"], answer.read().decode()))
        seen_catching_up = seen_catching_up or bool(health.get("catching_up"))
        assert status == 200 and health["events_applied"] == len(events), health
        assert health["kpi_publics_judged"] == len(publics) and not health["catching_up"], health

    eventually(judged_all, timeout_s=120, every_s=0.2)
    assert seen_catching_up, "the worker never said it was catching up"
    # asked while catching up (it may have ended meanwhile): both said so at least once
    assert any(flag and "Данные догружаются" in page for flag, page in told), [f for f, _ in told]
    assert not get_json(f"{api}/breaches/open")[1]["catching_up"]
    assert transitions(broker, f"{prefix}kpi-breaches") == []

    def pushed() -> dict:  # on the push timer's next tick after the catch-up
        tables = redis.Redis.from_url(redis_server.url).hgetall(f"{app_id}:tables")
        assert sorted(k.decode() for k in tables) == sorted(publics)
        return tables

    tables = eventually(pushed, timeout_s=30)
    assert {orjson.loads(v)["posts_7d"] for v in tables.values()} == {3}
    log = worker.log.read_text()
    # days-old events: history as well as a backlog, whichever the worker saw first
    assert "catching up: " in log and "caught up after" in log, log[-3000:]
