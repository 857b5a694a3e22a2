"""What the consumer is doing, in one report: the evidence a stalled worker owes its operator."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)


def _chain(awaitable: Any) -> list[str]:
    """Where a suspended coroutine (and what it awaits, down the chain) stands."""
    out = []
    seen = 0
    while awaitable is not None and seen < 40:
        seen += 1
        frame = (
            getattr(awaitable, "cr_frame", None)
            or getattr(awaitable, "gi_frame", None)
            or getattr(awaitable, "ag_frame", None)
        )
        if frame is not None:
            where = frame.f_code.co_filename.rsplit("site-packages/", 1)[-1]
            out.append(f"{where}:{frame.f_lineno} {frame.f_code.co_name}")
        nxt = (
            getattr(awaitable, "cr_await", None)
            or getattr(awaitable, "gi_yieldfrom", None)
            or getattr(awaitable, "ag_await", None)
        )
        if nxt is None and isinstance(awaitable, asyncio.Future) and not isinstance(awaitable, asyncio.Task):
            out.append(repr(awaitable)[:200])
        awaitable = nxt
    return out


def _tasks(loop: asyncio.AbstractEventLoop | None) -> list[str]:
    if loop is None:
        return []
    out = []
    for task in list(asyncio.all_tasks(loop)):
        out.append(task.get_name() + " :: " + " -> ".join(_chain(task.get_coro())))
    return out


def _faust_consumer(app: Any) -> dict[str, Any]:
    consumer = app.consumer
    return {
        "rebalancing": app.rebalancing,
        "generation": app.consumer_generation_id,
        "flow_active": consumer.flow_active,
        "can_resume_flow": consumer.can_resume_flow.is_set(),
        "active": sorted(map(tuple, consumer._active_partitions or ())),
        "paused": sorted(map(tuple, consumer._paused_partitions or ())),
        "read_offset": {f"{tp.topic}/{tp.partition}": o for tp, o in consumer._read_offset.items()},
        "committed": {f"{tp.topic}/{tp.partition}": o for tp, o in consumer._committed_offset.items()},
        "unacked": len(consumer._unacked_messages),
        "acked": {
            f"{tp.topic}/{tp.partition}": [*sorted(a)[:5], len(a)] for tp, a in consumer._acked.items() if a
        },
    }


def _aiokafka_consumer(app: Any) -> dict[str, Any]:
    aio = app.consumer._thread._consumer
    positions = {}
    for tp in aio.assignment():
        st = aio._subscription.subscription.assignment.state_value(tp)
        positions[f"{tp.topic}/{tp.partition}"] = (st._position, str(st._status), st.paused, st.highwater)
    fetcher = aio._fetcher
    return {
        "positions (position, status, paused, highwater)": positions,
        "buffered": [f"{tp.topic}/{tp.partition}" for tp in fetcher._records],
        "fetches in flight to nodes": list(map(str, fetcher._in_flight)),
        "fetch routine done": fetcher._fetch_task.done(),
    }


def _producer(app: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"faust buffer": app.producer.buffer.size}
    aio = app.producer._producer
    out["sender: nodes with a request in flight"] = list(map(str, aio._sender._in_flight))
    out["accumulator: batches waiting per partition"] = {
        f"{tp.topic}/{tp.partition}": len(q) for tp, q in aio._message_accumulator._batches.items() if q
    }
    out["connections: requests awaiting an answer (correlation id, request)"] = {
        str(key): [(r[0], type(r[1]).__name__) for r in list(conn._requests)[:5]] + [len(conn._requests)]
        for key, conn in aio.client._conns.items()
    }
    return out


def _agents(app: Any) -> dict[str, Any]:
    out = {}
    for agent in app.agents.values():
        for n, actor in enumerate(agent._actors):
            queue = getattr(getattr(getattr(actor, "stream", None), "channel", None), "queue", None)
            out[f"{agent.name}[{n}] queue"] = None if queue is None else queue.qsize()
    return out


def consumer_report(app: Any) -> dict[str, Any]:
    """Each part of the picture, or why it could not be read (a changed internal never stops it)."""
    report: dict[str, Any] = {}
    parts = {
        "faust consumer": _faust_consumer,
        "aiokafka consumer": _aiokafka_consumer,
        "producer": _producer,
        "agents": _agents,
        "tasks on the event loop": lambda app: _tasks(app.loop),
        "tasks on the consumer thread": lambda app: _tasks(app.consumer._thread.thread_loop),
    }
    for name, part in parts.items():
        try:
            report[name] = part(app)
        except Exception as exc:
            report[name] = f"unavailable: {exc!r}"
    return report


def log_report(app: Any, guard: Any = None) -> None:
    import pprint

    report = consumer_report(app)
    if guard is not None:
        report["guard_pending"] = len(guard.pending)
        report["guard_acknowledged"] = guard.acknowledged
    log.warning("consumer report:\n%s", pprint.pformat(report, width=160))
