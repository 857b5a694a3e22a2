"""When a worker's answers can be trusted: the predicate the API, /health and the KPI timers share."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from agents.readiness import RETRY_AFTER_S, not_ready, retry_later, unsettled


def app(completed: bool = True, in_recovery: bool = False, rebalancing: bool = False) -> SimpleNamespace:
    event = asyncio.Event()
    if completed:
        event.set()
    recovery = SimpleNamespace(completed=event, in_recovery=in_recovery)
    return SimpleNamespace(tables=SimpleNamespace(recovery=recovery), rebalancing=rebalancing)


def test_a_settled_worker_with_its_registry_read_answers() -> None:
    assert unsettled(app()) is None
    assert not_ready(app(), registry_caught_up=True) is None


@pytest.mark.parametrize(
    ("state", "caught_up", "says"),
    [
        ({"completed": False}, True, "recovering"),
        # Faust's first recovery sets ``completed`` for good: a later one shows only in in_recovery
        ({"in_recovery": True}, True, "recovering"),
        ({"rebalancing": True}, True, "reassigned"),
        ({}, False, "registry"),
        ({"in_recovery": True}, False, "recovering"),  # the first reason that holds is given
    ],
)
def test_each_reason_an_answer_could_be_wrong_is_named(state: dict, caught_up: bool, says: str) -> None:
    reason = not_ready(app(**state), registry_caught_up=caught_up)
    assert reason is not None and says in reason


def test_the_answer_while_not_ready_is_a_503_that_says_when_to_ask_again() -> None:
    status, body, headers = retry_later("partitions are being reassigned between workers")
    assert status == 503
    assert headers == {"Retry-After": str(RETRY_AFTER_S)}
    assert body["retry_after_s"] == RETRY_AFTER_S and body["error"].startswith("partitions are being")
