"""``gospulse publish``: validate an event log and send it to Kafka, batched per public."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gospulse.common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    StatusLine,
    UsageError,
    add_command,
    add_progress_option,
    fail,
    load_settings_of,
    progress_shown,
)
from gospulse.kafka import KAFKA_SETTINGS, add_max_batch_option, connect
from streams.settings import add_options

HELP = """\
Validate a contract v1 event log and publish it to Kafka.

Each line is checked exactly as the processor will check it (including the rule that an event may
not be more than 5 minutes ahead of the clock). Bad lines are reported with their line numbers and
are not sent. Good events are grouped per public and topic, in log order, into batches (JSON arrays
of up to --max-batch events, contract §1), keyed by public_id, and sent with acks=all and an
idempotent producer, so a public's events reach its partition once and in order. Missing topics are
created first (the registry topic compacted).
"""

EPILOG = """\
examples:
  gospulse publish events.jsonl.gz --broker 127.0.0.1:9092
  gospulse publish events.jsonl --registry publics.jsonl --topic-prefix nn-prod.

exit status: 0 every good event was acknowledged; 1 the broker could not be reached or a message
failed; 2 wrong arguments.
"""


def add_parser(commands: argparse._SubParsersAction) -> None:
    publish = add_command(
        commands, "publish", "validate an event log and publish it to Kafka, batched per public", HELP, EPILOG
    )
    publish.add_argument("events", type=Path, metavar="EVENTS.jsonl[.gz]", help="the event log")
    publish.add_argument(
        "--registry", type=Path, metavar="R.jsonl", help="also publish these registry records"
    )
    add_options(publish, KAFKA_SETTINGS)
    add_max_batch_option(publish)
    add_progress_option(publish)
    publish.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from kafka.errors import KafkaError

    from streams.produce.batching import Batcher
    from streams.produce.publish import PublishReport, publish_lines, publish_registry
    from streams.replay import open_log

    settings = load_settings_of(KAFKA_SETTINGS, args)
    topics, bootstrap = settings["topics"], settings["broker"].bootstrap
    try:
        batcher = Batcher(topics, max_events=args.max_batch)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    report = PublishReport()
    producer = connect("publish", bootstrap, topics, settings["partitions"])
    if producer is None:
        return EXIT_BAD_INPUT

    def failed(exc: BaseException) -> None:
        report.failed += 1
        report.first_failure = report.first_failure or repr(exc)

    def send(topic: str, key: str, value: bytes) -> None:
        producer.send(topic, key=key.encode(), value=value).add_errback(failed)

    status = StatusLine(live=True) if progress_shown(args) else None

    def tick(r: PublishReport) -> None:
        assert status is not None
        rate = r.events / status.elapsed()
        status.show(f"publish  {r.lines:,} lines  {r.events:,} events  {rate:,.0f} events/s")

    try:
        if args.registry is not None:
            stream, _, _ = open_log(args.registry)
            with stream:
                publish_registry(stream, topics, send, report)
        stream, _, _ = open_log(args.events)
        with stream:
            publish_lines(stream, send, batcher, report, tick=tick if status else None)
        producer.flush()
    except FileNotFoundError as exc:
        return fail("publish", f"{exc.filename}: no such file")
    except KafkaError as exc:
        return fail("publish", f"Kafka failed: {exc!r}")
    finally:
        producer.close(timeout=10)
    if status is not None:
        tick(report)
        status.close()
    print(report.summary(), file=sys.stderr)
    return EXIT_BAD_INPUT if report.failed else EXIT_OK
