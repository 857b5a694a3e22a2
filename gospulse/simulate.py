"""``gospulse simulate``: realistic traffic for N publics, history first, then live."""

from __future__ import annotations

import argparse
import time

from gospulse.common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    StatusLine,
    StopSignals,
    UsageError,
    add_command,
    add_progress_option,
    fail,
    load_settings_of,
    progress_shown,
    say,
)
from gospulse.kafka import KAFKA_SETTINGS, add_max_batch_option, connect
from streams.settings import add_options

HELP = """\
Send realistic traffic for N publics to Kafka, as the VK and Telegram bridges would.

The publics span every level (federal to rural settlement), theme and a handful of regions, with
habits drawn per public: 2-7 posts a week in working hours, citizen comments and official replies
after hours, deletions, reactions, reposts, view counts, subscriber churn and a daily subscriber
count. About one public in ten breaks a KPI on purpose: silent (no posts), slow (few, late answers)
or churn (losing subscribers).

The registry records (segment of each public) go out first. Then the last --days days of history
(exactly: from now minus --days; --days 0 sends no history) play at up to --rate events/s; after
that the simulator follows the clock and sends each event when
its time comes, until Ctrl-C or --duration. Events are batched per public (contract §1), keyed by
public_id, and sent with acks=all and an idempotent producer. A few events are sent twice on
purpose, as a retrying bridge would; the workers' dedup must catch them.
"""

EPILOG = """\
examples:
  gospulse simulate --broker 127.0.0.1:9092                   # 3723 publics, 7 days, then live
  gospulse simulate --publics 200 --days 2 --rate 0 --until-live   # a quick burst, then exit
  gospulse simulate --seed 42 --rate 20000 --duration 60

exit status: 0 stopped (Ctrl-C, --duration or --until-live); 1 the broker could not be reached or a
message failed; 2 wrong arguments.
"""


def retriable(exc: BaseException) -> bool:
    """A send the broker did not answer in time (or answered busy): worth sending again."""
    from kafka.errors import KafkaError, KafkaTimeoutError

    return isinstance(exc, KafkaTimeoutError) or (isinstance(exc, KafkaError) and bool(exc.retriable))


def add_traffic_options(parser: argparse.ArgumentParser) -> None:
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


def check_traffic_options(args: argparse.Namespace) -> None:
    if args.publics < 1:
        raise UsageError("--publics must be at least 1")
    if not 0 <= args.days <= 30:
        raise UsageError("--days must be between 0 and 30 (the engine keeps 30 days)")


def add_parser(commands: argparse._SubParsersAction) -> None:
    simulate = add_command(
        commands,
        "simulate",
        "send realistic live traffic for N publics to Kafka (some breaking their KPIs)",
        HELP,
        EPILOG,
    )
    add_traffic_options(simulate)
    simulate.add_argument(
        "--duration", type=float, metavar="SECONDS", help="stop after this long (default: run until Ctrl-C)"
    )
    simulate.add_argument(
        "--until-live",
        action="store_true",
        help="stop once the history is sent instead of following the clock",
    )
    add_options(simulate, KAFKA_SETTINGS)
    add_max_batch_option(simulate)
    add_progress_option(simulate)
    simulate.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from streams.core.timebase import format_instant
    from streams.produce.simulate import SimulateReport, Simulator
    from streams.produce.synth import make_publics

    check_traffic_options(args)
    settings = load_settings_of(KAFKA_SETTINGS, args)
    topics, bootstrap = settings["topics"], settings["broker"].bootstrap
    producer = None
    failures: list[BaseException] = []
    #: Messages the broker did not take in time (a slow or busy broker): sent again, never dropped.
    retries: list[tuple[str, str, bytes, BaseException]] = []
    retried = 0

    def send(topic: str, key: str, value: bytes) -> None:
        nonlocal retried
        assert producer is not None
        while retries:
            again, retry_key, retry_value, _ = retries.pop(0)
            retried += 1
            _send(again, retry_key, retry_value)
        _send(topic, key, value)

    def _send(topic: str, key: str, value: bytes) -> None:
        assert producer is not None

        def failed(exc: BaseException) -> None:
            if retriable(exc):
                retries.append((topic, key, value, exc))
            else:
                failures.append(exc)

        producer.send(topic, key=key.encode(), value=value).add_errback(failed)

    try:
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
        raise UsageError(str(exc)) from None
    producer = connect("simulate", bootstrap, topics, settings["partitions"])
    if producer is None:
        return EXIT_BAD_INPUT
    stopping = StopSignals()
    deadline = None if args.duration is None else time.monotonic() + args.duration
    show = progress_shown(args)
    status = StatusLine(live=show)

    def tick(r: SimulateReport) -> None:
        rate = r.events / status.elapsed()
        when = format_instant(r.simulated_at) if r.simulated_at is not None else "-"
        phase = "live" if r.live else "history"
        slow = f"  broker slow: {retried:,} messages sent again" if retried else ""
        status.show(
            f"simulate  {r.events:,} events  {rate:,.0f} events/s  simulated time {when} ({phase}){slow}"
        )

    say(
        "simulate",
        f"{args.publics} publics, history from {format_instant(simulator.start)}, to {bootstrap} "
        f"(topics {topics.prefix}*)",
    )
    try:
        simulator.send_registry()
        report = simulator.run(
            stop=lambda: (
                bool(stopping) or bool(failures) or (deadline is not None and time.monotonic() > deadline)
            ),
            until_live=args.until_live,
            tick=tick,
            tick_every_s=1.0 if show else 10.0,
        )
        producer.flush()
        while retries and not failures and not stopping:  # the last ones the broker was slow to take
            again, retry_key, retry_value, _ = retries.pop(0)
            retried += 1
            _send(again, retry_key, retry_value)
            producer.flush()
    finally:
        producer.close(timeout=10)
    status.close()
    say("simulate", report.summary())
    if failures:
        return fail("simulate", f"a message failed: {failures[0]!r}")
    return EXIT_OK
