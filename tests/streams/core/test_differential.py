"""The engine against a brute-force reading of the contract, on generated logs."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings

from streams.core.engine import Engine
from streams.replay import replay_events
from tests.examples import examples
from tests.logs import long_logs, short_logs
from tests.reference import reference_tables

P90_FIELDS = {"response_p90_s_24h", "response_p90_s_7d", "response_p90_s_30d", "response_wh_p90_s_7d"}


def assert_same_tables(got: list[dict], want: list[dict]) -> None:
    assert [t["public_id"] for t in got] == [t["public_id"] for t in want]
    for g, w in zip(got, want, strict=True):
        assert g.keys() == w.keys()
        for name, expected in w.items():
            actual = g[name]
            if isinstance(expected, float) and isinstance(actual, float):
                tolerance = 1e-2 if name in P90_FIELDS else 1e-9
                assert math.isclose(actual, expected, rel_tol=tolerance), (
                    g["public_id"],
                    name,
                    actual,
                    expected,
                )
            else:
                assert actual == expected and type(actual) is type(expected), (
                    g["public_id"],
                    name,
                    actual,
                    expected,
                )


@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(short_logs())
def test_engine_matches_reference_on_short_logs_in_any_order(case: tuple[list[dict], int]) -> None:
    log, at = case
    assert_same_tables(list(replay_events(log, at, Engine())), reference_tables(log, at))


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(long_logs())
def test_engine_matches_reference_across_retention(case: tuple[list[dict], int]) -> None:
    log, at = case
    assert_same_tables(list(replay_events(log, at, Engine())), reference_tables(log, at))
