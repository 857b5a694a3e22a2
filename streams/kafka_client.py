"""The Kafka client side shared by every command: broker addresses, reachability, topics, producers.

A broker is written ``HOST:PORT`` (several joined by ``,`` or ``;``), optionally with a scheme:
``kafka://`` (any Kafka-protocol broker, the default) or ``tansu://`` (the embedded broker tansu,
whose end offsets the worker checks; ``agents.edge.highwater``). ``BrokerAddress`` is the one parser.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

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
            if not host or not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
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


class TopicLayoutError(RuntimeError):
    """The topics on the broker cannot serve a worker as they are; the message names them and the fix."""


#: How long an admin call waits for the broker: a port that answers but is no Kafka broker (a Redis
#: given as --broker, say) is reported within this, not after the client's 30 s.
ADMIN_TIMEOUT_MS: Final = 6000


def _admin(bootstrap: str) -> Any:
    from kafka import KafkaAdminClient

    return KafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id="gospulse-admin",
        bootstrap_timeout_ms=ADMIN_TIMEOUT_MS,
        request_timeout_ms=ADMIN_TIMEOUT_MS,
    )


def _create_missing(admin: Any, topics: Topics, partitions: int, replication_factor: int) -> list[str]:
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    existing = set(admin.list_topics())
    configs: dict[str, dict[str, str]] = {
        **{name: {} for name in topics.events},
        topics.dead_letter: DEAD_LETTER_TOPIC_CONFIG,
        topics.publics: {"cleanup.policy": "compact"},
    }
    created = []
    for name, config in configs.items():
        if name in existing:
            continue
        topic = NewTopic(
            name, num_partitions=partitions, replication_factor=replication_factor, topic_configs=config
        )
        try:
            admin.create_topics([topic])
            created.append(name)
        except TopicAlreadyExistsError:
            pass  # another process got there first
    return created


def partition_counts(admin: Any, names: Sequence[str]) -> dict[str, int]:
    """The partition count of each of ``names`` that exists, as the broker says (never auto-creating)."""
    counts = {}
    for topic in admin.describe_topics(list(names)):
        if topic.get("error_code", 0) == 0 and topic.get("partitions"):
            counts[topic["name"]] = len(topic["partitions"])
    return counts


def ensure_topics(bootstrap: str, topics: Topics, partitions: int, replication_factor: int = 1) -> list[str]:
    """Create whichever of the five topics are missing; returns the names created."""
    admin = _admin(bootstrap)
    try:
        return _create_missing(admin, topics, partitions, replication_factor)
    finally:
        admin.close()


def event_partitions(bootstrap: str, topics: Topics, partitions: int, changelogs: Sequence[str] = ()) -> int:
    """The partition count of the event topics, as the broker holds them (missing topics are created
    first, with ``partitions``): the one number every mapping of a public to a partition must use.

    ``TopicLayoutError`` when the event topics disagree, or when an existing changelog of the worker's
    tables has another count: a public's events, and its state, must sit in one partition number.
    """
    admin = _admin(bootstrap)
    try:
        _create_missing(admin, topics, partitions, 1)
        counts = partition_counts(admin, [*topics.events, *changelogs])
    finally:
        admin.close()
    missing = [name for name in topics.events if name not in counts]
    if missing:
        raise TopicLayoutError(
            f"the broker at {bootstrap} does not list {', '.join(missing)} after creating it"
        )
    events = {name: counts[name] for name in topics.events}
    if len(set(events.values())) > 1:
        said = ", ".join(f"{name} has {n}" for name, n in events.items())
        raise TopicLayoutError(
            f"the event topics disagree on partitions ({said}); a public's posts, comments and "
            "subscriptions must share one partition number, so give all three the same count (recreate "
            "them, or add partitions to the smaller ones with kafka-topics --alter --partitions N)"
        )
    count = next(iter(events.values()))
    for changelog in changelogs:
        if changelog in counts and counts[changelog] != count:
            raise TopicLayoutError(
                f"the changelog {changelog} has {counts[changelog]} partitions but the event topics have "
                f"{count}; a public's state lives in the changelog partition of its events, so they must "
                f"match: give the changelog {count} partitions, or start a new --app-id (env "
                "GOSPULSE_APP_ID), whose tables are rebuilt from the events the broker still holds"
            )
    return count


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
