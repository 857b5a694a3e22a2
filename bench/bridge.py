"""The bridge's throughput on one core, with every event landing in the broker.

    python -m bench.bridge                          # 20 000 VK notifications, 64 at a time
    python -m bench.bridge --requests 50000 --concurrency 128

One embedded broker (tansu). The server under test is pinned to core 0 (``taskset``); the load
generator (an aiohttp client, each notification a different post) and the broker share core 1.
Side by side in the same run:

- **bare**: an aiohttp endpoint on core 0 that reads each notification, parses it and checks its
  secret, then answers ``ok`` without publishing: what one core serves before any Kafka work;
- **bridge**: ``gospulse bridge`` on core 0, answering ``ok`` only once the broker acknowledged.

Reported: requests/s of each, their ratio, the bridge's latency (p50, p99) and the events found in
the posts topic afterwards (every notification must be there, once).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import orjson

from streams.local.tansu import EmbeddedBroker, free_port
from streams.topics import Topics

OUT = Path(__file__).resolve().parent / "out"
GOSPULSE = Path(sys.executable).parent / "gospulse"
PREFIX = "bench-bridge."
GROUP = 48241
SECRET = "bench-secret"


def notification(i: int, now_s: int) -> bytes:
    post = {
        "id": i,
        "owner_id": -GROUP,
        "from_id": -GROUP,
        "date": now_s,
        "post_type": "post",
        "text": "x" * 200,
    }
    note = {"type": "wall_post_new", "event_id": f"bench-{i}", "v": "5.199", "object": post}
    return orjson.dumps(note | {"group_id": GROUP, "secret": SECRET})


def pin(pid: int, core: int) -> None:
    subprocess.run(["taskset", "-a", "-p", "-c", str(core), str(pid)], check=True, capture_output=True)


# -- the bare endpoint (run with --bare PORT) ----------------------------------------------------


def serve_bare(port: int) -> None:
    from aiohttp import web

    async def vk(request: web.Request) -> web.Response:
        note = orjson.loads(await request.read())
        if note.get("secret") != SECRET:
            return web.Response(status=403)
        return web.Response(text="ok")

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/vk", vk)
    app.router.add_get("/health", health)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# -- the load (run with --load URL N C) ------------------------------------------------------------


async def load(url: str, requests: int, concurrency: int) -> dict[str, Any]:
    import aiohttp

    now_s = int(time.time())
    bodies = [notification(i, now_s) for i in range(requests)]
    latencies: list[float] = []
    failures = 0
    next_i = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal next_i, failures
        while next_i < requests:
            i = next_i
            next_i += 1
            started = time.perf_counter()
            async with session.post(url, data=bodies[i], headers={"Content-Type": "application/json"}) as r:
                text = await r.text()
            latencies.append(time.perf_counter() - started)
            if r.status != 200 or text != "ok":
                failures += 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": requests,
        "seconds": elapsed,
        "rps": requests / elapsed,
        "failures": failures,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def run_load(url: str, requests: int, concurrency: int) -> dict[str, Any]:
    argv = [sys.executable, "-m", "bench.bridge", "--load", url, str(requests), str(concurrency)]
    done = subprocess.run(["taskset", "-c", "1", *argv], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def wait_health(url: str, proc: subprocess.Popen, log: Path) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit(f"the server exited; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the server did not answer {url}")


def landed(bootstrap: str, topic: str) -> tuple[int, int]:
    """Events in ``topic`` and how many distinct event ids among them."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    ids: list[str] = []
    try:
        quiet = time.monotonic()
        while time.monotonic() - quiet < 2:
            for batch in consumer.poll(timeout_ms=300, max_records=10_000).values():
                for r in batch:
                    value = orjson.loads(r.value)
                    ids += [e["event_id"] for e in (value if isinstance(value, list) else [value])]
                    quiet = time.monotonic()
    finally:
        consumer.close()
    return len(ids), len(set(ids))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--load", nargs=3, metavar=("URL", "N", "C"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare:
        serve_bare(args.bare)
        return
    if args.load:
        url, n, c = args.load
        print(json.dumps(asyncio.run(load(url, int(n), int(c)))))
        return
    OUT.mkdir(exist_ok=True)
    results: dict[str, Any] = {}
    with EmbeddedBroker(log_path=OUT / "bridge-broker.log") as broker:
        assert broker._process is not None
        pin(broker._process.pid, 1)
        from streams.kafka_client import ensure_topics

        topics = Topics(PREFIX)
        ensure_topics(broker.bootstrap, topics, 8)
        # bare
        port = free_port()
        log = OUT / "bridge-bare.log"
        with open(log, "wb") as out:
            bare = subprocess.Popen(
                ["taskset", "-c", "0", sys.executable, "-m", "bench.bridge", "--bare", str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            try:
                wait_health(f"http://127.0.0.1:{port}/health", bare, log)
                run_load(f"http://127.0.0.1:{port}/vk", 2000, args.concurrency)  # warm up
                results["bare"] = run_load(f"http://127.0.0.1:{port}/vk", args.requests, args.concurrency)
            finally:
                bare.terminate()
                bare.wait(timeout=30)
        print(f"bare:   {results['bare']['rps']:>8,.0f} requests/s", flush=True)
        # bridge
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "bridge.toml"
            config.write_text(f'[[vk]]\ngroup_id = {GROUP}\nconfirmation = "c"\nsecret = "{SECRET}"\n')
            port = free_port()
            log = OUT / "bridge-gospulse.log"
            argv_b = [str(GOSPULSE), "bridge", "--broker", broker.bootstrap, "--topic-prefix", PREFIX]
            argv_b += [
                "--bridge-config",
                str(config),
                "--bridge-port",
                str(port),
                "--bridge-host",
                "127.0.0.1",
            ]
            with open(log, "wb") as out:
                bridge = subprocess.Popen(
                    ["taskset", "-c", "0", *argv_b],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=os.environ.copy(),
                )
                try:
                    wait_health(f"http://127.0.0.1:{port}/health", bridge, log)
                    results["bridge"] = run_load(
                        f"http://127.0.0.1:{port}/vk", args.requests, args.concurrency
                    )
                finally:
                    bridge.terminate()
                    bridge.wait(timeout=30)
        total, distinct = landed(broker.bootstrap, topics.posts)
        results["landed"] = {"events": total, "distinct": distinct}
    b, base = results["bridge"], results["bare"]
    print(
        f"bridge: {b['rps']:>8,.0f} requests/s (p50 {b['p50_ms']:.1f} ms, p99 {b['p99_ms']:.1f} ms), "
        f"failures {b['failures']}"
    )
    print(f"ratio bridge / bare: {b['rps'] / base['rps']:.2f}")
    print(f"landed in the posts topic: {total:,} events, {distinct:,} distinct of {args.requests:,} sent")
    (OUT / "bridge.json").write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
