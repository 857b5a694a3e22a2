"""``gospulse bridge``: the platforms' push APIs into contract v1 events on the broker."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from gospulse.common import EXIT_OK, EXIT_USAGE, add_command, fail, load_settings_of, say
from gospulse.kafka import KAFKA_SETTINGS
from streams.settings import add_options

BRIDGE_SETTINGS = (
    "bridge_config",
    "bridge_redis_url",
    "bridge_host",
    "bridge_port",
    "bridge_ack_timeout_s",
    "bridge_linger_ms",
    "bridge_max_body_bytes",
    "bridge_max_events_per_request",
    "bridge_header_timeout_s",
    "bridge_body_timeout_s",
    "bridge_vk_poll_s",
    "bridge_vk_api_url",
    "bridge_ok_poll_s",
    "bridge_ok_calls_per_s",
    "bridge_ok_api_url",
)

HELP = """\
Receive the platforms' notifications and publish them as contract v1 events, batched per public,
through the same producer as gospulse publish (idempotent, acks=all). A notification is answered
only after the broker acknowledged its events; while the broker does not answer, the bridge says
503 with Retry-After, so the platform delivers it again and nothing is lost (a repeat carries the
same event id and is counted once).

Endpoints: POST /vk (every VK community of the file, told apart by group_id: point each community's
Callback API here), POST /telegram/<bot> and POST /max/<bot> (each bot's webhook), GET /metrics
(Prometheus), GET /health. OK pushes nothing: the groups of the file's [[ok]] entries are polled
through OK's REST API every --bridge-ok-poll-s (posts, likes, reshares, comments, members). With
--redis, Telegram channels' reaction totals and what the last OK round saw are kept there (they
survive a restart and are shared by replicas); without it, in this process.

No personal data leaves the bridge: user ids, names and texts are dropped, only the contract's
fields travel. Secrets come from the file, from files it names (secret_file) or from environment
variables (secret_env), never from the command line.
"""

EPILOG = """\
examples:
  gospulse bridge --bridge-config deploy/bridge/bridge.toml --broker kafka:9092
  GOSPULSE_BRIDGE_CONFIG=/etc/gospulse/bridge.toml gospulse bridge --bridge-port 8080

exit status: 0 stopped by SIGTERM or Ctrl-C; 2 a wrong flag or bridge file.
"""


def add_parser(commands: argparse._SubParsersAction) -> None:
    bridge = add_command(
        commands,
        "bridge",
        "receive VK, Telegram and Max notifications and publish them as events",
        HELP,
        EPILOG,
    )
    add_options(bridge, (*KAFKA_SETTINGS, *BRIDGE_SETTINGS))
    bridge.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from streams.bridge.config import BridgeConfigError, read_config

    settings = load_settings_of((*KAFKA_SETTINGS, *BRIDGE_SETTINGS), args)
    if settings["bridge_config"] is None:
        return fail(
            "bridge", "give the bridge's file: --bridge-config FILE (env GOSPULSE_BRIDGE_CONFIG)", EXIT_USAGE
        )
    try:
        config = read_config(settings["bridge_config"])
    except BridgeConfigError as exc:
        return fail("bridge", str(exc), EXIT_USAGE)  # as --help says: 2, a wrong flag or bridge file
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(settings, config))
    return EXIT_OK


async def serve(settings: dict, config: object) -> None:

    from streams.bridge import slow
    from streams.bridge.metrics import BridgeMetrics
    from streams.bridge.ok_poll import OkPoller, Seen
    from streams.bridge.publisher import AckedPublisher
    from streams.bridge.service import Bridge, Counts, build_app
    from streams.bridge.vk_poll import VkPoller
    from streams.kafka_client import check_reachable, ensure_topics, producer

    bootstrap, topics = settings["broker"].bootstrap, settings["topics"]
    try:
        check_reachable(bootstrap)
        ensure_topics(bootstrap, topics, settings["partitions"])
    except Exception as exc:  # BrokerUnreachable or the client's own: it may come later, 503 until then
        say("bridge", f"no broker at {bootstrap} yet ({exc!r}); notifications get 503 until it answers")
    metrics = BridgeMetrics()

    def flushed(events: int, seconds: float, ok: bool) -> None:
        metrics.publish_seconds.observe(seconds)

    timeout = settings["bridge_ack_timeout_s"]
    publisher = AckedPublisher(
        lambda: producer(bootstrap, "gospulse-bridge", timeout_s=timeout),
        topics,
        linger_s=settings["bridge_linger_ms"] / 1000,
        ack_timeout_s=timeout,
        on_flush=flushed,
    )
    redis = None
    if settings["bridge_redis_url"] is not None:
        import redis.asyncio as aioredis

        redis = aioredis.Redis.from_url(settings["bridge_redis_url"])
    bridge = Bridge(
        config,  # type: ignore[arg-type]
        publisher,
        metrics,
        counts=Counts(redis),
        max_events=settings["bridge_max_events_per_request"],
        body_timeout_s=settings["bridge_body_timeout_s"],
    )
    app = build_app(bridge, settings["bridge_max_body_bytes"])
    poller = VkPoller(
        list(config.vk.values()),  # type: ignore[attr-defined]
        publisher.publish,
        api_url=settings["bridge_vk_api_url"],
        every_s=settings["bridge_vk_poll_s"],
        on_error=lambda: metrics.poll_errors.labels("vk").inc(),
    )
    ok_poller = OkPoller(
        list(config.ok.values()),  # type: ignore[attr-defined]
        publisher.publish,
        api_url=settings["bridge_ok_api_url"],
        every_s=settings["bridge_ok_poll_s"],
        calls_per_s=settings["bridge_ok_calls_per_s"],
        seen=Seen(redis),
        metrics=metrics,
    )
    pollers = [poller.run()] if poller.communities else []
    pollers += [ok_poller.run()] if ok_poller.apps else []
    polling = [asyncio.create_task(p) for p in pollers]
    runner = slow.runner_of(app)
    await runner.setup()
    server = await slow.serve(
        runner,
        settings["bridge_host"],
        settings["bridge_port"],
        settings["bridge_header_timeout_s"],
        metrics.slow_connections.inc,
    )
    say(
        "bridge",
        f"listening on http://{settings['bridge_host']}:{settings['bridge_port']} "
        "(POST /vk, /telegram/<bot>, /max/<bot>; GET /metrics, /health)",
    )
    groups = sum(len(app.groups) for app in ok_poller.apps)
    if groups:
        say("bridge", f"polling {groups} OK groups every {settings['bridge_ok_poll_s']:g} s")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    say("bridge", "stopping: no new requests; publishing what was received")
    server.close()  # no new connections; those open finish their request
    for task in polling:
        task.cancel()
    await runner.shutdown()
    await publisher.close()
    await runner.cleanup()
    await server.wait_closed()
    if redis is not None:
        await redis.aclose()
