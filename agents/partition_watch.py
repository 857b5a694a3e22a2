"""The event topics' partition count, watched while the worker runs.

The worker starts with the count the broker gives (``streams.kafka_client.event_partitions``), and
every mapping of a public to a partition (KPI ownership, routing, the Redis tables, metrics) uses it.
Partitions added to an event topic while it runs would move publics to partitions their state is not
in, so the worker stops at once, saying what changed; its start then checks the layout again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final

import faust

from agents.edge.delivery import stop_now

log = logging.getLogger(__name__)

#: How often the consumer's metadata is compared with the count the worker started with, in seconds.
CHECK_EVERY_S: Final = 30.0
#: Exit status when the topics changed under the worker (EX_CONFIG: an operator must act).
EXIT_LAYOUT_CHANGED: Final = 78


def changed_topics(counts: dict[str, int | None], partitions: int) -> dict[str, int]:
    """The topics whose count the broker now gives differently (unknown counts are not a change)."""
    return {topic: n for topic, n in counts.items() if n is not None and n != partitions}


def register(
    app: faust.App,
    events: tuple[str, ...],
    partitions: int,
    on_change: Callable[[str], None] | None = None,
) -> None:
    """Check the event topics' partition counts every ``CHECK_EVERY_S``; ``on_change`` (default: stop
    the process with ``EXIT_LAYOUT_CHANGED``) is told what changed."""

    def stop(reason: str) -> None:
        stop_now(reason, EXIT_LAYOUT_CHANGED)

    act = on_change or stop

    @app.timer(CHECK_EVERY_S)
    async def watch_partitions() -> None:
        try:
            counts = {topic: app.consumer.topic_partitions(topic) for topic in events}
        except Exception:  # not started yet: nothing to compare
            return
        changed = changed_topics(counts, partitions)
        if changed:
            said = ", ".join(f"{topic} now has {n}" for topic, n in changed.items())
            act(
                f"the event topics' partitions changed while running ({said}; the worker started with "
                f"{partitions}): publics now map to partitions their state is not in. Give every event "
                "topic one count and start a new --app-id (env GOSPULSE_APP_ID), which rebuilds the "
                "tables from the events the broker holds"
            )
