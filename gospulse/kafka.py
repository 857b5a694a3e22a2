"""The Kafka side of the producing commands: their shared options and their producer."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from gospulse.common import fail
from streams.kafka_client import BrokerUnreachable, check_reachable, ensure_topics, producer
from streams.topics import Topics

if TYPE_CHECKING:
    from kafka import KafkaProducer

#: The settings (``streams.settings``) of every command that sends to Kafka.
KAFKA_SETTINGS = ("broker", "topics", "partitions")


def add_max_batch_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-batch",
        type=int,
        default=500,
        metavar="N",
        help="most events per message, 1..1000 (default: 500)",
    )


def connect(command: str, bootstrap: str, topics: Topics, partitions: int) -> KafkaProducer | None:
    """The shared producer, after creating missing topics; None (and a message) if no broker answers."""
    from kafka.errors import KafkaError

    try:
        check_reachable(bootstrap)
        ensure_topics(bootstrap, topics, partitions)
        return producer(bootstrap, f"gospulse-{command}")
    except (BrokerUnreachable, KafkaError):
        fail(
            command,
            f"no Kafka broker answers at {bootstrap}; start one (gospulse up runs an embedded one) "
            "or point --broker (env GOSPULSE_BROKER) at it",
        )
        return None
