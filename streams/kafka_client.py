"""The Kafka client side shared by every command: broker addresses, reachability, topics, producers.

A broker is written ``HOST:PORT`` (several joined by ``,`` or ``;``), optionally with a scheme:
``kafka://`` (any Kafka-protocol broker, the default) or ``tansu://`` (the embedded broker tansu,
whose end offsets the worker checks; ``agents.highwater``). ``BrokerAddress`` is the one parser.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from streams.topics import DEAD_LETTER_TOPIC_CONFIG, Topics

if TYPE_CHECKING:
    from kafka import KafkaProducer

#: URL schemes a broker may be given with; the first is the default.
SCHEMES: Final = ("kafka", "tansu")


class BrokerUnreachable(ConnectionError):
    """No bootstrap server accepted a connection."""


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    scheme: str
    servers: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> BrokerAddress:
        """``[scheme://]HOST:PORT[,HOST:PORT…]``; ``ValueError`` says what to write instead."""
        scheme, sep, rest = text.strip().partition("://")
        if not sep:
            scheme, rest = SCHEMES[0], scheme
        if scheme not in SCHEMES:
            raise ValueError(
                f"{text!r} has scheme {scheme!r}; use kafka:// (or tansu:// for the embedded broker)"
            )
        servers = tuple(s.strip() for s in rest.replace(";", ",").split(","))
        for server in servers:
            host, _, port = server.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(
                    f"{server!r} is not HOST:PORT; write e.g. 127.0.0.1:9092 or kafka://kafka:9092"
                )
        return cls(scheme, servers)

    @property
    def bootstrap(self) -> str:
        """``host:port,host:port``, as the Kafka clients take it."""
        return ",".join(self.servers)

    @property
    def url(self) -> str:
        """``scheme://host:port;host:port``, as Faust takes it."""
        return f"{self.scheme}://" + ";".join(self.servers)


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


def ensure_topics(bootstrap: str, topics: Topics, partitions: int, replication_factor: int = 1) -> list[str]:
    """Create whichever of the five topics are missing; returns the names created."""
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="gospulse-admin")
    try:
        existing = set(admin.list_topics())
        configs: dict[str, dict[str, str]] = {
            **{name: {} for name in topics.events},
            topics.dead_letter: DEAD_LETTER_TOPIC_CONFIG,
            topics.publics: {"cleanup.policy": "compact"},
        }
        wanted = [
            NewTopic(
                name, num_partitions=partitions, replication_factor=replication_factor, topic_configs=config
            )
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


def producer(bootstrap: str, client_id: str, timeout_s: float | None = None) -> KafkaProducer:
    """The one event producer (publish, simulate, benches, bridges): idempotent, acks=all, so each
    public's messages reach its partition once and in order; batched for throughput. ``timeout_s``
    bounds how long a send may wait for the broker in all (the bridge answers its platform within
    it); None keeps the client's defaults (a minute and more), right for a file being published."""
    from kafka import KafkaProducer

    bounds = {}
    if timeout_s is not None:
        ms = max(int(timeout_s * 1000), 1000)
        bounds = {
            "max_block_ms": ms,
            "request_timeout_ms": ms // 2,
            "delivery_timeout_ms": ms,
            "bootstrap_timeout_ms": ms,
        }
    return KafkaProducer(
        bootstrap_servers=bootstrap.split(","),
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=20,
        batch_size=512 * 1024,
        max_request_size=4 * 1024 * 1024,
        **bounds,
    )
