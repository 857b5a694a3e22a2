"""``gospulse worker``: one Faust worker of the consumer group."""

from __future__ import annotations

import argparse
from dataclasses import replace

from gospulse.common import (
    EXIT_OK,
    EXIT_USAGE,
    add_command,
    fail,
    load_settings_of,
    say,
    unusable_dir,
)
from streams.ports import port_taken
from streams.settings import WORKER_SETTINGS, WorkerSettings, add_options

HELP = """\
Run a worker: Faust agents consume the posts, comments and subscriptions topics, validate each
message (bad ones go to the dead-letter topic with the reason), apply good events to the engine and
write each changed public's state to a changelogged table once per batch, in records of at most
--max-record-bytes. Several workers with the same --app-id share the partitions.

No offset is committed before the state records and dead letters it covers are acknowledged by the
broker; if one is refused, the worker stops at once with exit status 75 and a restart resumes from
its last commit. SIGTERM stops it within --stop-timeout-s.

Every option can also be set by the environment variable named in its help; a flag wins over the
variable, which wins over the default.
"""

EPILOG = """\
examples:
  gospulse worker --broker kafka-1:9092,kafka-2:9092 --redis redis://redis:6379/0
  GOSPULSE_BROKER=kafka:9092 GOSPULSE_APP_ID=nn-prod gospulse worker --web-port 6067
  gospulse worker --broker tansu://127.0.0.1:9092       # the embedded broker tansu

exit status: 0 stopped; 1 a service did not answer, or the stop overran --stop-timeout-s; 2 wrong
arguments, settings or topics, or Faust internals not as agents/edge expects; 75 a record was not
written (restart it); 78 the event topics' partitions changed while it ran (start a new --app-id).
"""


def add_parser(commands: argparse._SubParsersAction) -> None:
    worker = add_command(
        commands,
        "worker",
        "run a Faust worker: consume the event topics and keep every public's table",
        HELP,
        EPILOG,
    )
    add_options(worker, WORKER_SETTINGS)
    worker.add_argument(
        "--loglevel",
        default="warn",
        choices=("crit", "error", "warn", "info", "debug"),
        help="log level (default: warn)",
    )
    worker.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = WorkerSettings(**load_settings_of(WORKER_SETTINGS, args))
    from streams.core.profiles import BUILT_IN_PROFILES, ProfilesError
    from streams.profiles_file import read_profiles

    try:
        profiles = read_profiles(settings.profiles) if settings.profiles else BUILT_IN_PROFILES
    except ProfilesError as exc:
        return fail("worker", f"{exc} (--profiles, env GOSPULSE_PROFILES)", EXIT_USAGE)
    problem = unusable_dir(settings.data_dir, "--data-dir (env GOSPULSE_DATA_DIR)")
    if problem:
        return fail("worker", problem, EXIT_USAGE)
    if port_taken(settings.web_host, settings.web_port):
        return fail(
            "worker",
            f"web port {settings.web_port} on {settings.web_host} is taken by another process; stop it or "
            "pick another with --web-port (env GOSPULSE_WEB_PORT)",
        )
    problem = unreachable_services(settings)
    if problem:
        return fail("worker", problem)
    from kafka.errors import KafkaError

    from agents.edge import EdgeChanged
    from agents.worker import build_worker, changelog_topics
    from streams.kafka_client import TopicLayoutError, event_partitions

    try:
        partitions = event_partitions(
            settings.broker.bootstrap, settings.topics, settings.partitions, changelog_topics(settings.app_id)
        )
    except TopicLayoutError as exc:
        return fail("worker", str(exc), EXIT_USAGE)
    except KafkaError as exc:
        return fail(
            "worker",
            f"{settings.broker.bootstrap} accepts connections but does not answer as a Kafka broker "
            f"({exc}); is --broker (env GOSPULSE_BROKER) pointing at the broker's port?",
        )
    if partitions != settings.partitions:
        say(
            "worker",
            f"the event topics have {partitions} partitions on the broker; the worker maps publics to "
            f"those ({settings.partitions}, from --partitions or GOSPULSE_PARTITIONS, is used only to "
            "create missing topics)",
        )
        settings = replace(settings, partitions=partitions)
    try:
        worker = build_worker(settings, profiles=profiles)
    except EdgeChanged as exc:
        return fail("worker", str(exc), EXIT_USAGE)
    worker.run(args.loglevel)
    return EXIT_OK


def unreachable_services(settings: WorkerSettings) -> str | None:
    """Say which configured service does not answer, and how to fix it; None when all answer."""
    from streams.kafka_client import BrokerUnreachable, check_reachable

    try:
        check_reachable(settings.broker.bootstrap)
    except BrokerUnreachable:
        return (
            f"no Kafka broker answers at {settings.broker.bootstrap}; start one (gospulse up runs an "
            "embedded one) or point --broker (env GOSPULSE_BROKER) at it"
        )
    if settings.redis_url:
        import redis

        try:
            redis.Redis.from_url(settings.redis_url, socket_connect_timeout=5).ping()
        except redis.RedisError as exc:
            return (
                f"Redis at {settings.redis_url} does not answer ({exc}); start it or fix --redis "
                "(env GOSPULSE_REDIS_URL), or leave both unset to run without the Redis tables"
            )
    return None
