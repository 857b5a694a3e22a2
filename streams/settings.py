"""Every setting of every command, in one table: name, type and bounds, default, flag, variable, help.

The argparse options (``add_options``) and the loader (``load``) both come from ``SETTINGS``, so a
flag, its environment variable, its default and its checks cannot drift apart, and a new setting is
one entry. Flags win over environment variables, which win over defaults. A wrong value stops the
command before anything starts, with a message that names where it came from (flag or variable),
the setting, and how to fix it. Variables are read when a command loads its settings, never while
the parser is built, so ``--help`` works whatever the environment holds.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from streams.core.layout import DEFAULT_RECORD_BYTES
from streams.kafka_client import BrokerAddress
from streams.topics import DEFAULT_PREFIX, Topics


class SettingsError(ValueError):
    """A setting that cannot be used; ``str()`` is the message for the operator."""


Parse = Callable[[str], Any]


@dataclass(frozen=True)
class Setting:
    """One setting. ``parse`` turns the text given into the value, or raises ``ValueError`` saying
    what is wrong with it ("must be …", "'x' is not …"); ``hint`` says what to write instead."""

    name: str
    parse: Parse
    default: Any
    help: str
    hint: str = ""
    metavar: str = "VALUE"
    #: ``--name-with-dashes`` unless given.
    flag: str = ""
    #: ``GOSPULSE_NAME`` unless given; ``None``: no variable.
    env: str | None = ""
    #: How messages name it (default: ``name``).
    label: str = ""

    @property
    def option(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    @property
    def shown_default(self) -> object:
        """The default as an operator writes it (a broker as HOST:PORT, topics as their prefix)."""
        return getattr(self.default, "bootstrap", getattr(self.default, "prefix", self.default))

    @property
    def variable(self) -> str | None:
        return "GOSPULSE_" + self.name.upper() if self.env == "" else self.env


def whole(low: int, high: int) -> Parse:
    def parse(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            raise ValueError(f"must be a whole number, got {text!r}") from None
        if not low <= number <= high:
            raise ValueError(f"must be between {low} and {high}, got {number}")
        return number

    return parse


def seconds(low: float, high: float) -> Parse:
    def parse(text: str) -> float:
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"must be a number of seconds, got {text!r}") from None
        if not low <= number <= high:
            raise ValueError(f"must be between {low:g} and {high:g} seconds, got {number:g}")
        return number

    return parse


def _topics(text: str) -> Topics:
    try:
        return Topics(text)
    except ValueError as exc:
        raise ValueError(str(exc).removeprefix("topic prefix ")) from None


def _redis_url(text: str) -> str:
    if not text.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(f"{text!r} is not a Redis URL; write e.g. redis://127.0.0.1:6379/0")
    return text


def _text(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be empty")
    return text


def _bridge_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise ValueError(f"{text!r} is not a file; give the bridge's file, e.g. deploy/bridge/bridge.toml")
    return path


def _existing_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise ValueError(
            f"{text!r} is not a file; give the path of a profiles file such as deploy/kpi/profiles.toml"
        )
    return path


def _url(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise ValueError(f"{text!r} is not an http:// URL; write e.g. http://worker-1.internal:6066")
    return text.rstrip("/")


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting(
            "broker",
            BrokerAddress.parse,
            BrokerAddress.parse("127.0.0.1:9092"),
            "Kafka bootstrap server(s), comma-separated; tansu://HOST:PORT for the embedded broker tansu",
            metavar="HOST:PORT",
        ),
        Setting(
            "topics",
            _topics,
            Topics(DEFAULT_PREFIX),
            "prefix of every topic name",
            metavar="P",
            flag="--topic-prefix",
            env="GOSPULSE_TOPIC_PREFIX",
            label="topic prefix",
        ),
        Setting(
            "partitions",
            whole(1, 1024),
            8,
            "partitions of the event topics (created with this many if missing)",
            "use the partition count of the event topics",
            metavar="N",
        ),
        Setting("app_id", _text, "gospulse", "consumer group and changelog name", metavar="ID"),
        Setting("web_host", _text, "0.0.0.0", "address the HTTP API listens on", metavar="HOST"),
        Setting("web_port", whole(1, 65535), 6066, "HTTP port", "pick a free TCP port", metavar="PORT"),
        Setting(
            "advertised_url",
            _url,
            None,
            "the URL other workers reach this one's HTTP API at, for "
            "forwarded requests (default: http://<this host's name>:<web port>)",
            metavar="URL",
        ),
        Setting("data_dir", Path, Path(".gospulse"), "worker data directory", metavar="DIR"),
        Setting(
            "batch_messages",
            whole(1, 100_000),
            500,
            "most messages applied per state write",
            "500 suits most loads",
            metavar="N",
        ),
        Setting(
            "batch_within_s",
            seconds(0.001, 60),
            0.25,
            "longest wait for a batch to fill",
            "0.25 suits most loads",
            metavar="SECONDS",
        ),
        Setting(
            "session_timeout_s",
            seconds(1, 300),
            10.0,
            "consumer-group session timeout",
            "10 suits most",
            metavar="SECONDS",
        ),
        Setting(
            "rebalance_timeout_s",
            seconds(1, 300),
            6.0,
            "consumer-group rebalance timeout (tansu holds a join for all of it: keep it short)",
            "6 suits most",
            metavar="SECONDS",
        ),
        Setting(
            "commit_interval_s",
            seconds(0.1, 60),
            2.0,
            "how often offsets are committed",
            "2 suits most",
            metavar="SECONDS",
        ),
        Setting(
            "max_record_bytes",
            whole(16 * 1024, 900 * 1024),
            DEFAULT_RECORD_BYTES,
            "largest state record written to the changelog, whatever a public's traffic",
            "keep it well below the broker's message.max.bytes (1 MB by default); 262144 suits most",
            metavar="BYTES",
        ),
        Setting(
            "redis_url",
            _redis_url,
            None,
            "push every changed public's table to this Redis, e.g. "
            "redis://127.0.0.1:6379/0 (default: no Redis)",
            flag="--redis",
            metavar="URL",
            label="redis",
        ),
        Setting(
            "redis_push_s",
            seconds(0.1, 3600),
            5.0,
            "how often changed publics' tables go to Redis",
            "5 suits most",
            metavar="SECONDS",
        ),
        Setting(
            "redis_refresh_s",
            whole(2, 86_400),
            60,
            "rewrite every owned public's table in Redis at least this often, events or not",
            "how stale a table in Redis may get, in seconds; 60 suits most",
            metavar="SECONDS",
        ),
        Setting(
            "settle_s",
            seconds(1, 3600),
            30.0,
            "how often remembered event ids are settled (far longer than the commit interval)",
            "30 suits most",
            metavar="SECONDS",
        ),
        Setting(
            "profiles",
            _existing_file,
            None,
            "KPI profiles (TOML, contract §4), e.g. deploy/kpi/profiles.toml; reread on SIGHUP and when it "
            "changes (default: the built-in profiles)",
            metavar="FILE",
        ),
        Setting(
            "kpi_sweep_s",
            seconds(1, 86400),
            3600.0,
            "how often every owned public is judged again in full, due or not: a safety net (a public is "
            "judged when it changes and when the clock can change its verdict, streams.core.due)",
            "3600 suits most",
            metavar="SECONDS",
        ),
        Setting(
            "metrics_breach_series",
            whole(0, 1_000_000),
            10_000,
            "per-public breach series a worker exports on /metrics at most (the rest are counted in "
            "gospulse_public_kpi_breaches_omitted)",
            "keep it within Prometheus's sample_limit",
            metavar="N",
        ),
        Setting(
            "stop_timeout_s",
            whole(1, 3600),
            30,
            "on SIGTERM or SIGINT, exit at the latest this long after a clean stop began",
            "keep it below your orchestrator's grace period; 30 suits most",
            metavar="SECONDS",
        ),
        Setting(
            "bridge_config",
            _bridge_file,
            None,
            "the bridge's communities, bots and where their secrets are (TOML, as deploy/bridge/bridge.toml)",
            metavar="FILE",
        ),
        Setting(
            "bridge_redis_url",
            _redis_url,
            None,
            "keep Telegram channels' reaction totals in this Redis, e.g. redis://127.0.0.1:6379/0, so they "
            "survive a restart and replicas share them (default: in the bridge's memory)",
            flag="--redis",
            metavar="URL",
            label="redis",
        ),
        Setting(
            "bridge_vk_poll_s",
            seconds(60, 86_400),
            3600.0,
            "how often the bridge polls VK for views and subscriber counts (communities with a token)",
            "3600 suits most: VK limits a token to a few calls a second",
            metavar="SECONDS",
        ),
        Setting(
            "bridge_vk_api_url",
            _url,
            "https://api.vk.com/method",
            "VK's API the poller calls",
            metavar="URL",
        ),
        Setting(
            "bridge_ok_poll_s",
            seconds(60, 86_400),
            600.0,
            "how often the bridge polls OK for each group's posts, likes, reshares, comments and members",
            "600 suits most: a round is 2 calls a group and one more per topic whose comments moved",
            metavar="SECONDS",
        ),
        Setting(
            "bridge_ok_calls_per_s",
            whole(1, 100),
            3,
            "most calls a second the bridge makes to OK's API (one at a time)",
            "3 suits most: OK limits calls per application and token",
            metavar="N",
        ),
        Setting(
            "bridge_ok_api_url",
            _url,
            "https://api.ok.ru/fb.do",
            "OK's REST API the poller calls",
            metavar="URL",
        ),
        Setting("bridge_host", _text, "0.0.0.0", "address the bridge listens on", metavar="HOST"),
        Setting(
            "bridge_port",
            whole(1, 65535),
            8080,
            "the bridge's HTTP port",
            "pick a free TCP port",
            metavar="PORT",
        ),
        Setting(
            "bridge_ack_timeout_s",
            seconds(1, 60),
            8.0,
            "longest a notification waits for the broker's acknowledgement before it is answered 503 "
            "(the platform delivers it again)",
            "keep it under the platform's own timeout (VK waits about 10 s); 8 suits most",
            metavar="SECONDS",
        ),
        Setting(
            "bridge_linger_ms",
            whole(0, 1000),
            5,
            "how long the bridge gathers notifications into one publish",
            "5 suits most: more batches larger, at that much added latency",
            metavar="MS",
        ),
        Setting(
            "bridge_max_body_bytes",
            whole(1024, 16 * 1024 * 1024),
            1024 * 1024,
            "largest notification body the bridge reads; a larger one is refused (413)",
            "1048576 suits most",
            metavar="BYTES",
        ),
        Setting(
            "bridge_header_timeout_s",
            seconds(1, 300),
            10.0,
            "longest a connection may take to send its request's headers; past it the bridge closes "
            "it (a client trickling bytes would hold it, and the proxy's slot, for as long as it likes)",
            "10 suits most: the platforms send a notification in one go",
            metavar="SECONDS",
        ),
        Setting(
            "bridge_body_timeout_s",
            seconds(1, 300),
            30.0,
            "longest a request may take to send its body once its headers are in; past it the bridge "
            "answers 408 and closes the connection",
            "30 suits most",
            metavar="SECONDS",
        ),
        Setting(
            "bridge_max_events_per_request",
            whole(1, 1_000_000),
            10_000,
            "most events one notification may become (a reaction total that moved further is "
            "dead-lettered with its ids and counted, not published)",
            "10000 suits most: a channel post rarely gains more reactions between two updates",
            metavar="N",
        ),
        Setting(
            "delivery_timeout_s",
            seconds(1, 3600),
            60.0,
            "how long a commit waits with none of the records before it acknowledged; past it the worker "
            "stops uncommitted (a backlog the broker keeps acknowledging is waited for)",
            "60 suits most",
            metavar="SECONDS",
        ),
        Setting(
            "state_snapshot_max_age_s",
            seconds(0, 86_400),
            43_200.0,
            "keep the tables on disk at a clean stop (<data-dir>/<changelog topic>.snapshot) and, at the "
            "next start, read a snapshot younger than this, then only the changelog after it (0: off, the "
            "whole changelog is read at every start)",
            "43200 restarts a national worker in seconds; 0 reads the whole changelog at every start "
            "and keeps a standby copy for takeovers instead",
            metavar="SECONDS",
        ),
        Setting(
            "stall_after_s",
            seconds(5, 3600),
            120.0,
            "how long an event partition may stay behind with no commit before the worker reports a stall",
            "120 suits most",
            metavar="SECONDS",
        ),
        Setting(
            "state_idle_s",
            seconds(0, 86_400),
            600.0,
            "drop a public's decoded state from memory after between one and two of these without an "
            "event; its records stay and its next event decodes it again (0: keep every state decoded)",
            "600 suits most; 0 trades memory (a week's state is ~53 KiB decoded, ~7 KiB as records) for "
            "no decoding",
            metavar="SECONDS",
        ),
        Setting(
            "catch_up_after_s",
            seconds(0, 86_400),
            0.0,
            "while a message has waited longer than this, or until this long has passed with no history "
            "applied (events over an hour old), KPI rounds and the Redis tables wait, then judge and "
            "write what changed once (0: never wait)",
            "30 (gospulse up, docker-compose.yml) judges a backlog or a backfill once it is read; 0 "
            "judges every batch as it comes (docs/operators.md: Catching up)",
            metavar="SECONDS",
        ),
    )
}


def add_options(parser: argparse.ArgumentParser, names: Iterable[str]) -> None:
    """Add the flags of ``names`` (each defaulting to None: not given)."""
    for name in names:
        s = SETTINGS[name]
        where = [f"env {s.variable}"] if s.variable else []
        if s.shown_default is not None:
            where.append(f"default {s.shown_default}")
        parser.add_argument(
            s.option, dest=name, metavar=s.metavar, default=None, help=f"{s.help} ({'; '.join(where)})"
        )


def load(
    names: Iterable[str],
    flags: Mapping[str, object],
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The values of ``names``: each flag (None where not given) over its variable over its default."""
    env = os.environ if env is None else env
    out: dict[str, Any] = {}
    for name in names:
        s = SETTINGS[name]
        if flags.get(name) is not None:
            text, source = str(flags[name]), s.option
        elif s.variable and env.get(s.variable):
            text, source = env[s.variable], f"environment variable {s.variable}"
        else:
            out[name] = s.default
            continue
        try:
            out[name] = s.parse(text)
        except ValueError as exc:
            hint = f"; {s.hint}" if s.hint else ""
            raise SettingsError(f"{source}: {s.label or name} {exc}{hint}") from None
    return out


_D = {name: s.default for name, s in SETTINGS.items()}  # every default is immutable


@dataclass(frozen=True)
class WorkerSettings:
    """A worker's settings, checked (``load_settings``); every field is a ``SETTINGS`` entry."""

    broker: BrokerAddress = _D["broker"]
    topics: Topics = _D["topics"]
    partitions: int = _D["partitions"]
    app_id: str = _D["app_id"]
    web_host: str = _D["web_host"]
    web_port: int = _D["web_port"]
    advertised_url: str | None = _D["advertised_url"]
    data_dir: Path = _D["data_dir"]
    batch_messages: int = _D["batch_messages"]
    batch_within_s: float = _D["batch_within_s"]
    session_timeout_s: float = _D["session_timeout_s"]
    rebalance_timeout_s: float = _D["rebalance_timeout_s"]
    commit_interval_s: float = _D["commit_interval_s"]
    max_record_bytes: int = _D["max_record_bytes"]
    redis_url: str | None = _D["redis_url"]
    redis_push_s: float = _D["redis_push_s"]
    redis_refresh_s: int = _D["redis_refresh_s"]
    settle_s: float = _D["settle_s"]
    profiles: Path | None = _D["profiles"]
    kpi_sweep_s: float = _D["kpi_sweep_s"]
    metrics_breach_series: int = _D["metrics_breach_series"]
    stop_timeout_s: int = _D["stop_timeout_s"]
    delivery_timeout_s: float = _D["delivery_timeout_s"]
    stall_after_s: float = _D["stall_after_s"]
    state_snapshot_max_age_s: float = _D["state_snapshot_max_age_s"]
    state_idle_s: float = _D["state_idle_s"]
    catch_up_after_s: float = _D["catch_up_after_s"]


#: The worker's settings, in the order ``--help`` lists them.
WORKER_SETTINGS: tuple[str, ...] = tuple(f.name for f in fields(WorkerSettings))


def load_settings(flags: Mapping[str, object], env: Mapping[str, str] | None = None) -> WorkerSettings:
    """The worker's settings from ``flags`` (None where not given) over ``env`` over the defaults."""
    return WorkerSettings(**load(WORKER_SETTINGS, flags, env))
