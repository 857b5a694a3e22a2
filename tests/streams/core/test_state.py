"""Every event kind has exactly one way into a public's state."""

from __future__ import annotations

from schemas.contract import KINDS
from streams.core import state


def test_each_kind_is_handled_once() -> None:
    handled, counter_only = set(state._APPLY), set(state._COUNTER_ONLY)
    assert handled | counter_only == set(KINDS)
    assert not handled & counter_only
