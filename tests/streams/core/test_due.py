"""A public's next due time: nothing its KPIs say changes before it, with no new event."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.breaches import breaches
from streams.core.due import aged, next_change
from streams.core.engine import Engine
from streams.core.profiles import BUILT_IN, Profile
from streams.core.table import snapshot
from streams.core.timebase import HOUR_MS
from streams.core.worktime import DEFAULT_TZ, calendar_for
from tests.examples import examples
from tests.logs import BASE, DAY, citizen, long_logs, published, short_logs

#: Thresholds near what the generated logs reach, so that verdicts flip within them.
TIGHT = Profile(
    name="tight", min_posts_7d=2, max_silence_h=5, max_response_wh_p90_h=0.5, sla_wh_h=1, min_er_day_7d=1.0
)
#: With the windowed KPIs off, the silence deadline and the SLA are what the due time is made of.
CLOCK_ONLY = dataclasses.replace(
    TIGHT, min_posts_7d=None, min_er_day_7d=None, max_response_wh_p90_h=None, min_net_subscribers_pct_7d=None
)
PROFILES = st.sampled_from(
    [
        BUILT_IN,
        TIGHT,
        dataclasses.replace(TIGHT, workday=(0, 1439), sla_wh_h=0.2),
        CLOCK_ONLY,
        dataclasses.replace(CLOCK_ONLY, workday=(0, 1439), sla_wh_h=0.2),
    ]
)


def comparable(found: list[dict]) -> list[dict]:
    """Breaches without their instant, values rounded to the µs (aged silence is a float sum)."""
    return [{k: round(v, 6) if isinstance(v, float) else v for k, v in b.items() if k != "at"} for b in found]


def verdicts(state, profile: Profile, at: int) -> list[dict]:
    return comparable(breaches(snapshot(state, at, profile=profile), profile))


@settings(max_examples=examples(300))
@given(st.one_of(short_logs(), long_logs()), PROFILES, st.lists(st.floats(0, 1), min_size=1, max_size=6))
def test_no_verdict_changes_before_the_due_time(
    case: tuple[list[dict], int], profile: Profile, spots: list[float]
) -> None:
    log, at = case
    engine = Engine()
    for ev in log:
        engine.apply_all(ev["public_id"], [ev])
    for public_id, state in engine.held():
        state.calendar = calendar_for(DEFAULT_TZ, profile.workday)
        due = next_change(state, profile, at)
        assert due is None or due > at
        judged = breaches(snapshot(state, at, profile=profile), profile)
        horizon = due if due is not None else at + 40 * DAY
        # the last instant before the due time, the hour boundaries just before it, and spots between
        probes = {
            horizon - 1,
            *(h * HOUR_MS - 1 for h in range(at // HOUR_MS + 1, horizon // HOUR_MS + 1)[:48]),
        }
        probes.update(at + int(spot * (horizon - 1 - at)) for spot in spots)
        for t in sorted(p for p in probes if at <= p < horizon):
            expected = comparable(aged(judged, t))
            assert verdicts(state, profile, t) == expected, (public_id, at, t, due)


def test_a_quiet_public_is_due_at_the_next_hour_and_its_silence_deadline() -> None:
    engine = Engine()
    at = BASE + 10 * HOUR_MS + 5
    engine.apply_all("vk:-1", [published(BASE)])
    state = engine.get("vk:-1")
    assert next_change(state, BUILT_IN, at) == BASE + 11 * HOUR_MS  # the window moves by the hour
    long_after = BASE + 8 * DAY  # the post has left the week: only the silence deadline is left
    assert next_change(state, BUILT_IN, BASE + 71 * HOUR_MS) == BASE + 72 * HOUR_MS
    assert next_change(state, BUILT_IN, long_after) is None  # silent for good, nothing to wait for


def test_an_unanswered_comment_is_due_no_later_than_its_sla_in_working_time() -> None:
    engine = Engine()
    asked = BASE + 10 * HOUR_MS  # 2026-11-02 10:00 UTC, 13:00 in Moscow, a working Monday
    engine.apply_all("vk:-1", [citizen(asked, "c1")])
    state = engine.get("vk:-1")
    no_windows = dataclasses.replace(
        BUILT_IN,
        min_posts_7d=None,
        min_er_day_7d=None,
        max_response_wh_p90_h=None,
        min_net_subscribers_pct_7d=None,
        max_silence_h=None,
    )
    due = next_change(state, no_windows, asked)
    # eight working hours after 13:00 Moscow end the next working day at 12:00: never before
    # eight hours of the clock, and the check is repeated until the SLA is passed
    assert due is not None and due >= asked + 8 * HOUR_MS
    assert state.calendar.work_ms(asked, due) <= 8 * HOUR_MS
