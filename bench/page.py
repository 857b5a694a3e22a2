"""The curators' page as a browser loads it: Chromium's own timing of each view, against a worker
holding a region (or the country) fed through the broker.

    python -m bench.page                        # 3 723 publics, half of them in RU-NIZ
    python -m bench.page --publics 175000       # the country: 175 000 publics

One embedded broker (tansu), one Redis and one ``gospulse worker``. Every public is registered and
gets a few events (a subscriber count, 0 to 5 posts in the last week, reactions, some leavers), so a
good share breaks a KPI and every one is ranked. When the worker has applied them all and judged and
ranked every public, headless Chromium (Debian's, through chromium-driver) opens each view
``--loads`` times: the country (``/``), a region, a region and theme, one public's card, and, as the
baseline in the same run, ``/health`` (a small JSON answer of the same worker: the floor of a round
trip through its web server). Reported per view: the median and the slowest of the browser's
navigation timing (request start to load event) and of the server's share (request to first byte),
the page's size, and the median's ratio to the baseline's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import orjson

from streams.core.timebase import DAY_MS, HOUR_MS, now_ms
from streams.local.redis_server import EmbeddedRedis
from streams.local.tansu import EmbeddedBroker, free_port
from streams.produce.synth import make_publics

OUT = Path(__file__).resolve().parent / "out"
GOSPULSE = Path(sys.executable).parent / "gospulse"
PREFIX = "bench-page."


def events_of(publics: list[Any], now: int) -> list[dict[str, Any]]:
    """A few events a public, the same for the same publics: enough to judge and rank each."""
    out: list[dict[str, Any]] = []
    n = 0

    def ev(kind: str, public_id: str, ts: int, **fields: Any) -> None:
        nonlocal n
        n += 1
        out.append(
            {"v": 1, "event_id": f"b{n}", "kind": kind, "public_id": public_id, "occurred_at": ts, **fields}
        )

    for i, h in enumerate(publics):
        p = h.public_id
        ev("subscribers.counted", p, now - 8 * DAY_MS, count=1000 + i % 5000)
        for k in range(i % 6):
            ev("post.published", p, now - HOUR_MS * (24 * k + 2), post_id=f"p{k}")
        for k in range(i * 7 % 9 if i % 6 else 0):
            ev("reaction.added", p, now - HOUR_MS - k * 60_000, post_id="p0")
        for k in range(15 if i % 13 == 0 else 0):
            ev("subscription.left", p, now - HOUR_MS * (k + 5))
    return out


def publish(broker: str, publics: list[Any], events: list[dict[str, Any]], partitions: int) -> None:
    from streams.kafka_client import ensure_topics
    from streams.kafka_client import producer as kafka_producer
    from streams.produce.batching import Batcher
    from streams.topics import Topics

    topics = Topics(PREFIX)
    ensure_topics(broker, topics, partitions)
    producer = kafka_producer(broker, "bench-page")
    for h in publics:
        producer.send(topics.publics, key=h.public_id.encode(), value=orjson.dumps(h.registry_record()))
    batcher = Batcher(topics)
    for e in events:
        for topic, key, value, _ in batcher.add(e):
            producer.send(topic, key=key.encode(), value=value)
    for topic, key, value, _ in batcher.drain():
        producer.send(topic, key=key.encode(), value=value)
    producer.flush()


def get_json(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return json.loads(response.read())
    except OSError:
        return None


def wait_settled(api: str, expect_events: int, publics: int, log: Path, proc: subprocess.Popen) -> float:
    """Seconds until the worker applied every event and ranked every public."""
    started = time.time()
    last = 0.0
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"the worker exited; see {log}")
        health = get_json(f"{api}/health") or {}
        ranked = get_json(f"{api}/segments/ranking?kpi=posts_7d&limit=1") or {}
        applied = health.get("events_applied", 0) + health.get("duplicates", 0)
        if (
            applied >= expect_events
            and ranked.get("total", 0) >= publics
            and health.get("kpi_publics_judged", 0) >= publics
        ):
            return time.time() - started
        if time.time() - last > 10:
            print(
                f"  worker: {applied:,}/{expect_events:,} events, {ranked.get('total', 0):,} ranked",
                flush=True,
            )
            last = time.time()
        time.sleep(0.5)


def browser() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1100,1400",
    ):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)


TIMING = (
    "const n = performance.getEntriesByType('navigation')[0];"
    "return [n.loadEventEnd - n.startTime, n.responseStart - n.requestStart, n.transferSize];"
)


def measure(driver: Any, url: str, loads: int) -> dict[str, Any]:
    total, server, size = [], [], 0
    for _ in range(loads):
        driver.get("about:blank")
        driver.get(url)
        t, s, size = driver.execute_script(TIMING)
        total.append(t)
        server.append(s)
    return {
        "load_ms_p50": statistics.median(total),
        "load_ms_max": max(total),
        "server_ms_p50": statistics.median(server),
        "bytes": size,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--publics", type=int, default=3723)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--loads", type=int, default=9, help="loads of each view (default 9)")
    parser.add_argument("--partitions", type=int, default=8)
    args = parser.parse_args(argv)
    OUT.mkdir(exist_ok=True)
    publics = make_publics(args.publics, args.seed)
    events = events_of(publics, now_ms())
    print(f"bench.page: {args.publics:,} publics, {len(events):,} events", flush=True)
    with (
        EmbeddedBroker(log_path=OUT / "page-broker.log") as broker,
        EmbeddedRedis(log_path=OUT / "page-redis.log") as redis,
    ):
        port = free_port()
        log = OUT / "page-worker.log"
        argv_w = [str(GOSPULSE), "worker", "--broker", broker.bootstrap, "--topic-prefix", PREFIX]
        argv_w += ["--partitions", str(args.partitions), "--app-id", f"bench-page-{int(time.time())}"]
        argv_w += ["--web-port", str(port), "--redis", redis.url, "--data-dir", str(OUT / "page-data")]
        env: dict[str, str] = {}  # the defaults: judging rounds every 2 s, a Redis push every 5 s
        log_out = open(log, "wb")  # noqa: SIM115 (the worker's for its whole life)
        proc = subprocess.Popen(argv_w, stdout=log_out, stderr=subprocess.STDOUT, env=os.environ | env)
        try:
            publish(broker.bootstrap, publics, events, args.partitions)
            api = f"http://127.0.0.1:{port}"
            settle_s = wait_settled(api, len(events), args.publics, log, proc)
            opened = get_json(f"{api}/breaches/open?limit=1") or {}
            print(
                f"  settled in {settle_s:.0f} s; {opened.get('publics', 0):,} publics in breach", flush=True
            )
            card = publics[0].public_id
            views = {
                "baseline /health": "/health",
                "country /": "/",
                "region /?region=RU-NIZ": "/?region=RU-NIZ",
                "segment /?region=RU-NIZ&theme=culture": "/?region=RU-NIZ&theme=culture",
                f"card /card/{card}": f"/card/{card}",
            }
            driver = browser()
            try:
                results = {name: measure(driver, api + path, args.loads) for name, path in views.items()}
            finally:
                driver.quit()
        finally:
            proc.terminate()
            proc.wait(timeout=60)
            log_out.close()
    base = results["baseline /health"]["load_ms_p50"] or 1.0
    print(f"\n{'view':<44} {'load p50':>9} {'load max':>9} {'server p50':>11} {'KiB':>7} {'× /health':>10}")
    for name, r in results.items():
        print(
            f"{name:<44} {r['load_ms_p50']:>7.0f}ms {r['load_ms_max']:>7.0f}ms {r['server_ms_p50']:>9.0f}ms "
            f"{r['bytes'] / 1024:>7.1f} {r['load_ms_p50'] / base:>9.1f}x"
        )
    report = {"publics": args.publics, "events": len(events), "loads": args.loads, "views": results}
    (OUT / f"page-{args.publics}.json").write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    print(f"\nwritten to {OUT / f'page-{args.publics}.json'}")


if __name__ == "__main__":
    main()
