"""The Faust edge: every use of a private name of Faust, mode or aiokafka lives in this package.

The delivery guarantee (no offset committed before what it covers is written, nothing skipped) rests
on behaviour Faust does not offer through its public interface. Each patch or private read, why, and
the upstream defect it works around:

- ``delivery.never_commit_unprocessed`` replaces ``faust.transport.consumer.Consumer.ack``,
  ``Consumer._add_gap`` (a coroutine since faust-streaming 0.10), ``Consumer.perform_seek`` and the
  aiokafka driver's ``Consumer.seek_to_committed`` (to hear the broker's answer): Faust
  fills a gap in an event partition with acknowledgements and acks messages a stream skipped during a
  rebalance, so a commit passes messages nobody processed (faust-streaming/faust#606, #216, #221);
  aiokafka seeks a partition with nothing committed to wherever an earlier fetch left it.
- ``delivery.DeliveryGuard.hold_commits_of`` replaces the app producer's ``flush`` by a wait for the
  records sent before it: Faust's buffer flush gives up after 0.1 s with records unsent, and a refused
  record only logs (docs/upstream/faust-flush.md); under a steady stream of records it never returns;
  the producer's own flush waits up to Faust's 20-minute request timeout.
- ``highwater.TansuConsumerThread`` overrides ``AIOKafkaConsumerThread._highwaters`` and the consumer's
  ``_new_consumer_thread``: tansu answers ListOffsets(latest) with its last batch's base offset + 1,
  which cuts recovery short (docs/upstream/tansu-end-offsets.md).
- ``shutdown.BoundedStopWorker`` extends mode's ``Worker._schedule_shutdown``: a stop can wait forever
  on a service that never ends.
- ``committed_offset`` reads ``Consumer._committed_offset`` (the ingest agent's ordering check and the
  lag metrics): Faust keeps the next offset a restart reads there and exposes it nowhere else.
- ``diagnose`` reads the consumer's, fetcher's and producer's private state for the stall report.
- ``agents.snapshot.SnapshotStore`` extends Faust's memory store through its public methods
  (``apply_changelog_batch``, ``on_rebalance``, ``on_recovery_completed``, ``set_persisted_offset``)
  and reads the assignor's ``assigned_actives``; it registers a URL scheme in
  ``faust.stores.STORES.data``: their shapes are checked here with the patches'.

``check()`` runs before a worker is built: it verifies the versions and the shapes these rely on and
raises ``EdgeChanged`` naming what changed, so an upgrade that moves them stops the worker at start
instead of silently voiding the guarantee.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

#: The releases the patches were written and tested against (``pyproject.toml`` pins the same).
SUPPORTED = {"faust-streaming": "0.15.", "aiokafka": "0.14.", "mode-streaming": "0.7."}


class EdgeChanged(RuntimeError):
    """A Faust, mode or aiokafka internal the worker patches or reads is not as expected."""


def committed_offset(consumer: Any, tp: Any) -> int | None:
    """The next offset a restart of ``tp`` would read (Faust's last commit), None before one."""
    return consumer._committed_offset.get(tp)


def _params(function: Callable[..., Any]) -> list[str]:
    return list(inspect.signature(function).parameters)


def problems() -> list[str]:
    """What differs from the shapes the patches expect (empty: all as expected)."""
    from faust.assignor import PartitionAssignor
    from faust.stores import STORES
    from faust.stores.memory import Store as MemoryStore
    from faust.transport.consumer import Consumer
    from faust.transport.drivers import aiokafka as driver
    from mode import Worker

    found = []
    for package, prefix in SUPPORTED.items():
        try:
            installed = version(package)
        except PackageNotFoundError:
            installed = "not installed"
        if not installed.startswith(prefix):
            found.append(f"{package} is {installed}, the patches are for {prefix}x")
    expected: list[tuple[str, Any, list[str], bool]] = [
        ("faust Consumer.ack", getattr(Consumer, "ack", None), ["self", "message"], False),
        (
            "faust Consumer._add_gap",
            getattr(Consumer, "_add_gap", None),
            ["self", "tp", "offset_from", "offset_to"],
            True,
        ),
        ("faust Consumer.perform_seek", getattr(Consumer, "perform_seek", None), ["self"], True),
        (
            "faust aiokafka Consumer.seek_to_committed",
            getattr(driver.Consumer, "seek_to_committed", None),
            ["self"],
            True,
        ),
        ("faust Consumer.stop_flow", getattr(Consumer, "stop_flow", None), ["self"], False),
        ("faust Consumer.resume_flow", getattr(Consumer, "resume_flow", None), ["self"], False),
        (
            "faust Consumer.wait_for_stopped_flow",
            getattr(Consumer, "wait_for_stopped_flow", None),
            ["self"],
            True,
        ),
        (
            "faust AIOKafkaConsumerThread._highwaters",
            getattr(driver.AIOKafkaConsumerThread, "_highwaters", None),
            ["self", "partitions"],
            True,
        ),
        (
            "faust aiokafka Consumer._new_consumer_thread",
            getattr(driver.Consumer, "_new_consumer_thread", None),
            ["self"],
            False,
        ),
        (
            "faust memory Store.apply_changelog_batch (agents.snapshot)",
            getattr(MemoryStore, "apply_changelog_batch", None),
            ["self", "batch", "to_key", "to_value"],
            False,
        ),
        (
            "faust memory Store.on_rebalance (agents.snapshot)",
            getattr(MemoryStore, "on_rebalance", None),
            ["self", "assigned", "revoked", "newly_assigned", "generation_id"],
            True,
        ),
        (
            "faust PartitionAssignor.assigned_actives (agents.snapshot)",
            getattr(PartitionAssignor, "assigned_actives", None),
            ["self"],
            False,
        ),
        (
            "faust memory Store.on_recovery_completed (agents.snapshot)",
            getattr(MemoryStore, "on_recovery_completed", None),
            ["self", "active_tps", "standby_tps"],
            True,
        ),
        (
            "faust memory Store.set_persisted_offset (agents.snapshot)",
            getattr(MemoryStore, "set_persisted_offset", None),
            ["self", "tp", "offset"],
            False,
        ),
        (
            "mode Worker._schedule_shutdown",
            getattr(Worker, "_schedule_shutdown", None),
            ["self", "signal"],
            False,
        ),
    ]
    for name, function, params, coroutine in expected:
        if function is None:
            found.append(f"{name} is gone")
            continue
        if getattr(function, "gospulse", False):
            continue  # already patched by this process (a second worker built in tests)
        if _params(function) != params:
            found.append(f"{name} takes {_params(function)}, the patch expects {params}")
        if inspect.iscoroutinefunction(function) != coroutine:
            found.append(f"{name} is {'' if coroutine else 'not '}expected to be a coroutine function")
    if not isinstance(getattr(STORES, "data", None), dict):
        found.append("faust's STORES no longer maps URL schemes in .data (agents.snapshot registers one)")
    if "_committed_offset" not in inspect.getsource(Consumer._reset_state) + inspect.getsource(
        Consumer.__init__
    ):
        found.append("faust Consumer no longer keeps _committed_offset")
    return found


def check() -> None:
    """Raise ``EdgeChanged`` when an internal the worker relies on is not as the patches expect."""
    found = problems()
    if found:
        raise EdgeChanged(
            "the worker's delivery guarantee patches Faust internals that are not as expected: "
            + "; ".join(found)
            + ". Install the versions pyproject.toml pins (pip install -e .), or review agents/edge "
            "against the new release before running it"
        )
