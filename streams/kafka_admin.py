"""Declaring the deployment's topics on a broker (idempotent: existing topics are left alone)."""

from __future__ import annotations

import socket

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from streams.topics import DEAD_LETTER_TOPIC_CONFIG, Topics


class BrokerUnreachable(ConnectionError):
    """No bootstrap server accepted a connection."""


def check_reachable(bootstrap: str, timeout_s: float = 5.0) -> None:
    """Fail fast (the Kafka clients wait 30 s) when no bootstrap server accepts a TCP connection."""
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout_s):
                return
        except (OSError, ValueError):
            continue
    raise BrokerUnreachable(bootstrap)


def ensure_topics(bootstrap: str, topics: Topics, partitions: int) -> list[str]:
    """Create whichever of the five topics are missing; returns the names created."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="gospulse-admin")
    try:
        existing = set(admin.list_topics())
        configs: dict[str, dict[str, str]] = {
            **{name: {} for name in topics.events},
            topics.dead_letter: DEAD_LETTER_TOPIC_CONFIG,
            topics.publics: {"cleanup.policy": "compact"},
        }
        wanted = [
            NewTopic(name, num_partitions=partitions, replication_factor=1, topic_configs=config)
            for name, config in configs.items()
            if name not in existing
        ]
        created = []
        for topic in wanted:
            try:
                admin.create_topics([topic])
                created.append(topic.name)
            except TopicAlreadyExistsError:
                pass  # another process got there first
        return created
    finally:
        admin.close()
