"""``gospulse topics``: create the topics a deployment needs, before anything else starts."""

from __future__ import annotations

import argparse
import sys
import time

from gospulse.common import EXIT_OK, add_command, fail, load_settings_of
from gospulse.kafka import KAFKA_SETTINGS
from streams.settings import add_options

HELP = """\
Create whichever of gospulse's topics are missing: the three event topics and the dead-letter topic
with --partitions partitions, the registry topic compacted, the dead-letter topic with
max.message.bytes=2097152 (a bad message of up to 1 MiB goes there unchanged). Topics that exist are
left as they are. Run it once before the workers (the compose stack runs it as an init service);
publish and simulate do the same for themselves.
"""

EPILOG = """\
examples:
  gospulse topics --broker kafka:9092 --partitions 16 --replication-factor 3
  gospulse topics --broker kafka:9092 --wait 120     # in a container that starts with the broker

exit status: 0 the topics exist; 1 no broker answered within --wait seconds; 2 wrong arguments.
"""


def add_parser(commands: argparse._SubParsersAction) -> None:
    topics = add_command(
        commands, "topics", "create the topics a deployment needs (idempotent)", HELP, EPILOG
    )
    add_options(topics, KAFKA_SETTINGS)
    topics.add_argument(
        "--replication-factor",
        type=int,
        default=1,
        metavar="N",
        help="replicas of each new topic: 1 on a single broker, 3 on a production cluster (default: 1)",
    )
    topics.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="keep trying this long for the broker to answer (default: 0, try once)",
    )
    topics.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from kafka.errors import KafkaError

    from streams.kafka_client import BrokerUnreachable, check_reachable, ensure_topics

    if args.replication_factor < 1:
        return fail("topics", "--replication-factor must be at least 1")
    settings = load_settings_of(KAFKA_SETTINGS, args)
    bootstrap, topics = settings["broker"].bootstrap, settings["topics"]
    deadline = time.monotonic() + args.wait
    while True:
        try:
            check_reachable(bootstrap)
            created = ensure_topics(bootstrap, topics, settings["partitions"], args.replication_factor)
            break
        except (BrokerUnreachable, KafkaError) as exc:
            if time.monotonic() >= deadline:
                return fail(
                    "topics",
                    f"no Kafka broker answers at {bootstrap} ({exc}); start it or point --broker "
                    "(env GOSPULSE_BROKER) at it",
                )
            time.sleep(2)
    names = (*topics.events, topics.dead_letter, topics.publics)
    for name in names:
        state = "created" if name in created else "exists"
        print(f"gospulse topics: {name}  {state}", file=sys.stderr)
    return EXIT_OK
