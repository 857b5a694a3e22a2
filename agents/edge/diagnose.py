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


def consumer_report(app: Any) -> dict[str, Any]:
    consumer = app.consumer
    report: dict[str, Any] = {
        "rebalancing": app.rebalancing,
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
        "n_acked": consumer._n_acked,
        "generation": app.consumer_generation_id,
    }
    thread = consumer._thread
    aio = getattr(thread, "_consumer", None)
    if aio is not None:
        states = {}
        for tp in aio.assignment():
            st = aio._subscription.subscription.assignment.state_value(tp)
            states[f"{tp.topic}/{tp.partition}"] = {
                "position": st._position,
                "status": str(st._status),
                "paused": st.paused,
                "highwater": st.highwater,
            }
        report["aiokafka"] = states
        fetcher = aio._fetcher
        report["fetcher"] = {
            "records": [f"{tp.topic}/{tp.partition}" for tp in fetcher._records],
            "in_flight": list(map(str, fetcher._in_flight)),
            "pending_tasks": len(fetcher._pending_tasks),
            "fetch_task_done": fetcher._fetch_task.done(),
        }
    report["producer_buffer"] = app.producer.buffer.size
    aioproducer = getattr(app.producer, "_producer", None)
    if aioproducer is not None:
        import time as _t

        sender = aioproducer._sender
        report["sender_in_flight"] = list(map(str, getattr(sender, "_in_flight", ())))
        acc = aioproducer._message_accumulator
        report["accumulator"] = {
            f"{tp.topic}/{tp.partition}": len(q) for tp, q in getattr(acc, "_batches", {}).items() if q
        }
        conns = {}
        for key, conn in aioproducer._client._conns.items():
            reqs = getattr(conn, "_requests", ())
            conns[str(key)] = [
                (type(r[1]).__name__ if len(r) > 1 else repr(r)[:80], r[0]) for r in list(reqs)[:5]
            ] + [len(reqs), conn.connected()]
        report["producer_conns"] = conns
        report["now"] = _t.monotonic()
    report["main_tasks"] = _tasks(app.loop)
    report["thread_tasks"] = _tasks(getattr(thread, "thread_loop", None))
    for agent in app.agents.values():
        for actor in agent._actors:
            stream = getattr(actor, "stream", None)
            channel = getattr(stream, "channel", None)
            queue = getattr(channel, "queue", None)
            report[f"agent {agent.name} queue"] = None if queue is None else queue.qsize()
    return report


def log_report(app: Any, guard: Any = None) -> None:
    import pprint

    report = consumer_report(app)
    if guard is not None:
        report["guard_pending"] = len(guard.pending)
        report["guard_acknowledged"] = guard.acknowledged
    log.warning("consumer report:\n%s", pprint.pformat(report, width=160))
