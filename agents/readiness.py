"""Whether a worker's answers are exact right now: the one test the KPI timers, the API and
``/health`` share.

A worker recovering its tables (at start, or after a rebalance handed it partitions) holds part of
a public's state at best; one in the middle of a rebalance may be answering for partitions that are
no longer its own; one still reading the registry has no region, segment or profile for its publics.
Any of them would answer a table that looks right and is not, so they answer 503 with
``Retry-After`` instead (contract: the live service is exact for the events it has applied).
"""

from __future__ import annotations

from typing import Any, Final

#: Seconds a client is told to wait before asking again (a rebalance or recovery takes a few).
RETRY_AFTER_S: Final = 5


def unsettled(app: Any) -> str | None:
    """Why the worker's tables cannot be trusted now (``None``: they can): no recovery of its
    tables has completed, one is under way, or partitions are being reassigned."""
    recovery = app.tables.recovery
    if not recovery.completed.is_set() or recovery.in_recovery:
        return "this worker is recovering its tables from the changelog"
    if app.rebalancing:
        return "partitions are being reassigned between workers"
    return None


def not_ready(app: Any, registry_caught_up: bool) -> str | None:
    """Why an answer given now could be wrong (``None``: it is exact): ``unsettled``, or the
    registry not read to its end yet (regions, segments and profiles would be missing)."""
    reason = unsettled(app)
    if reason is None and not registry_caught_up:
        reason = "this worker is still reading the public registry"
    return reason


def retry_later(reason: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    """The 503 answer for ``reason``: status, JSON body and headers."""
    body = {"error": f"{reason}; ask again in {RETRY_AFTER_S} s", "retry_after_s": RETRY_AFTER_S}
    return 503, body, {"Retry-After": str(RETRY_AFTER_S)}
