"""Worker settings: flags over environment variables over defaults, checked before anything starts.

A wrong value stops startup with a message that names where it came from (flag or variable), the
field, and how to fix it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from streams.layout import DEFAULT_RECORD_BYTES
from streams.topics import DEFAULT_PREFIX, Topics


class SettingsError(ValueError):
    """A setting that cannot be used; ``str()`` is the message for the operator."""


@dataclass(frozen=True)
class WorkerSettings:
    broker: str = "kafka://127.0.0.1:9092"
    topics: Topics = field(default_factory=Topics)
    partitions: int = 8
    app_id: str = "gospulse"
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    data_dir: Path = Path(".gospulse")
    #: Largest number of Kafka messages applied before their state changes are written.
    batch_messages: int = 500
    #: Longest wait for a batch to fill, in seconds.
    batch_within_s: float = 0.25
    #: Consumer-group timeouts: tansu holds a join for the whole rebalance timeout, so keep it short.
    session_timeout_s: float = 10.0
    rebalance_timeout_s: float = 6.0
    commit_interval_s: float = 2.0
    #: Where the current tables are pushed for readers (``streams.serving``); None: nowhere.
    redis_url: str | None = None
    #: Every owned public's table in Redis is rewritten at least this often (``streams.serving``).
    redis_refresh_s: int = 60
    #: No state record is larger (``streams.layout``); far below the broker's message limit.
    max_record_bytes: int = DEFAULT_RECORD_BYTES
    #: A stop signal ends the worker within this long, cleanly or not (``streams.shutdown``).
    stop_timeout_s: int = 30
    #: How long a commit waits for the records before it; past it the worker stops uncommitted.
    delivery_timeout_s: float = 60.0


_ENV = {
    "broker": "GOSPULSE_BROKER",
    "topic_prefix": "GOSPULSE_TOPIC_PREFIX",
    "partitions": "GOSPULSE_PARTITIONS",
    "app_id": "GOSPULSE_APP_ID",
    "web_port": "GOSPULSE_WEB_PORT",
    "data_dir": "GOSPULSE_DATA_DIR",
    "batch_messages": "GOSPULSE_BATCH_MESSAGES",
    "redis": "GOSPULSE_REDIS_URL",
    "max_record_bytes": "GOSPULSE_MAX_RECORD_BYTES",
    "redis_refresh_s": "GOSPULSE_REDIS_REFRESH_S",
    "stop_timeout_s": "GOSPULSE_STOP_TIMEOUT_S",
}

_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def load_settings(flags: Mapping[str, object], env: Mapping[str, str] | None = None) -> WorkerSettings:
    """Merge ``flags`` (None where not given) over ``env`` over the defaults, and check them."""
    env = os.environ if env is None else env

    def pick(name: str) -> tuple[object, str] | None:
        if flags.get(name) is not None:
            return flags[name], f"--{name.replace('_', '-')}"
        var = _ENV.get(name)
        if var and env.get(var):
            return env[var], f"environment variable {var}"
        return None

    def integer(name: str, low: int, high: int, default: int, hint: str) -> int:
        got = pick(name)
        if got is None:
            return default
        value, source = got
        try:
            number = int(str(value))
        except ValueError:
            raise SettingsError(f"{source}: {name} must be a whole number, got {value!r}; {hint}") from None
        if not low <= number <= high:
            raise SettingsError(f"{source}: {name} must be between {low} and {high}, got {number}; {hint}")
        return number

    broker = pick("broker")
    broker_url = str(broker[0]) if broker else WorkerSettings.broker
    if not broker_url.startswith("kafka://"):
        broker_url = "kafka://" + broker_url
    for server in broker_url.removeprefix("kafka://").split(";"):
        host, _, port = server.rpartition(":")
        if not host or not port.isdigit():
            source = broker[1] if broker else "default"
            raise SettingsError(
                f"{source}: broker {server!r} is not HOST:PORT; write e.g. 127.0.0.1:9092 or kafka://kafka:9092"
            )
    prefix = pick("topic_prefix")
    try:
        topics = Topics(str(prefix[0])) if prefix else Topics(DEFAULT_PREFIX)
    except ValueError as exc:
        raise SettingsError(f"{prefix[1] if prefix else 'default'}: {exc}") from None
    app_id = pick("app_id")
    data_dir = pick("data_dir")
    redis = pick("redis")
    if redis is not None and not str(redis[0]).startswith(_REDIS_SCHEMES):
        raise SettingsError(
            f"{redis[1]}: redis {redis[0]!r} is not a Redis URL; write e.g. redis://127.0.0.1:6379/0"
        )
    return WorkerSettings(
        broker=broker_url,
        topics=topics,
        partitions=integer("partitions", 1, 1024, 8, "use the partition count of the event topics"),
        app_id=str(app_id[0]) if app_id else "gospulse",
        web_port=integer("web_port", 1, 65535, 6066, "pick a free TCP port"),
        data_dir=Path(str(data_dir[0])) if data_dir else Path(".gospulse"),
        batch_messages=integer("batch_messages", 1, 100_000, 500, "500 suits most loads"),
        redis_url=str(redis[0]) if redis else None,
        redis_refresh_s=integer(
            "redis_refresh_s", 2, 86_400, 60, "how stale a table in Redis may get, in seconds; 60 suits most"
        ),
        stop_timeout_s=integer(
            "stop_timeout_s", 1, 3600, 30, "keep it below your orchestrator's grace period; 30 suits most"
        ),
        max_record_bytes=integer(
            "max_record_bytes",
            16 * 1024,
            900 * 1024,
            DEFAULT_RECORD_BYTES,
            "keep it well below the broker's message.max.bytes (1 MB by default); 262144 suits most",
        ),
    )
