"""The two Faust baselines of the live benchmark, each printing one JSON line after ``--expect`` events.

- **naive** (default): one event per Kafka message, one state write per event. The same counting as
  a gospulse worker (the same validation, engine and state chunks in a changelogged Faust table)
  without the two things that make the worker fast: contract batches and coalesced state writes.
- **floor** (``--floor``): the worker's own topics and batching (``take_events``), and nothing done
  with a message but decoding it: what Faust's message handling alone allows on this machine, the
  most any Faust worker could reach.

    python -m bench.naive --broker 127.0.0.1:9092 --topic-prefix naive. --expect 50000
    python -m bench.naive --broker 127.0.0.1:9092 --topic-prefix bench. --expect 369959 --floor
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import faust
import orjson

from agents.state_table import StateTable, TableStore
from agents.worker import faust_app
from streams.kafka_client import BrokerAddress
from streams.pipeline import Pipeline
from streams.settings import WorkerSettings
from streams.topics import Topics


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--broker", required=True)
    parser.add_argument("--topic-prefix", required=True)
    parser.add_argument("--expect", type=int, required=True)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--web-port", type=int, required=True)
    parser.add_argument("--floor", action="store_true", help="decode only, in the worker's batches")
    args = parser.parse_args()
    started = time.time()
    topics = Topics(args.topic_prefix)
    settings = WorkerSettings(
        broker=BrokerAddress.parse(args.broker),
        topics=topics,
        partitions=args.partitions,
        app_id=f"naive-{os.getpid()}",
        web_host="127.0.0.1",
        web_port=args.web_port,
        data_dir=Path(f"/tmp/naive-{os.getpid()}"),
    )
    app = faust_app(settings)  # configured as the worker's
    table = StateTable(app, name="state", key_type=bytes, value_type=bytes, partitions=args.partitions)
    app.tables.add(table)
    pipeline = Pipeline(TableStore(table))
    events = app.topic(
        *topics.events, key_type=bytes, value_type=bytes, value_serializer="raw", key_serializer="raw"
    )
    seen = {"n": 0, "first": 0.0}

    def count_seen(n: int) -> None:
        if not seen["first"]:
            seen["first"] = time.time()
        seen["n"] += n
        if seen["n"] >= args.expect:
            done = time.time()
            result = {"started": started, "first": seen["first"], "done": done, "events": seen["n"]}
            print(json.dumps(result), flush=True)
            os._exit(0)

    if args.floor:

        @app.agent(events)
        async def decode_only(stream: faust.StreamT) -> None:
            async for batch in stream.take_events(settings.batch_messages, within=settings.batch_within_s):
                seen["first"] = seen["first"] or time.time()  # timed from the first batch's arrival
                n = 0
                for event in batch:
                    value = orjson.loads(event.message.value)
                    n += len(value) if type(value) is list else 1
                count_seen(n)

    else:

        @app.agent(events)
        async def count(stream: faust.StreamT) -> None:
            async for event in stream.events():
                m = event.message
                pipeline.apply_message(m.topic, m.partition, m.offset, m.key, m.value)
                pipeline.flush()  # one state write per event: what a plain agent with a Table does
                count_seen(1)

    worker = faust.Worker(app, loglevel="warn", quiet=True)
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
