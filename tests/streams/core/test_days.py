"""A public's days: counters, posts and replies grouped by the local days of its time zone."""

from __future__ import annotations

import itertools

from streams.core.days import DAYS, daily, day_hours
from streams.core.engine import Engine
from streams.core.registry import PublicInfo, Registry
from tests.logs import BASE, citizen, official, published

HOUR = 3_600_000
KAMCHATKA = "Asia/Kamchatka"  # UTC+12


def engine_for(tz: str | None) -> Engine:
    registry = Registry()
    record = {"v": 1, "public_id": "vk:-5", "name": "x", "region": "RU-NIZ", "level": "municipal"}
    registry.put(PublicInfo.from_record(record | {"theme": "culture", **({"tz": tz} if tz else {})}))
    return Engine(registry)


def test_thirty_local_days_end_with_today() -> None:
    from zoneinfo import ZoneInfo

    at = BASE + 5 * 24 * HOUR + 13 * HOUR  # 2026-11-06 13:00 UTC
    bounds = day_hours(at, ZoneInfo("Europe/Moscow"))
    assert len(bounds) == DAYS and bounds[-1][0] == "2026-11-06" and bounds[0][0] == "2026-10-08"
    assert bounds[-1][2] == at // HOUR  # today ends at the hour of at
    assert all(b[1] == a[2] + 1 for a, b in itertools.pairwise(bounds))  # no gap, no overlap


def test_events_fall_on_the_local_day_of_the_public() -> None:
    # 2026-11-02 19:30 UTC: the evening of the 2nd in Moscow (22:30), the morning of the 3rd in Kamchatka
    t = BASE + 24 * HOUR + 19 * HOUR + 30 * 60_000
    events = [
        published(t, "p1", public_id="vk:-5"),
        citizen(t + 60_000, "c1", post="p1", public_id="vk:-5"),
        official(t + 31 * 60_000, "o1", reply_to="c1", post="p1", public_id="vk:-5"),
        published(t + 2 * 24 * HOUR, "p2", public_id="vk:-5"),
    ]
    at = t + 3 * 24 * HOUR
    rows = {}
    for tz in (None, KAMCHATKA):  # None: Moscow, the default
        engine = engine_for(tz)
        engine.apply_all("vk:-5", events)
        st = engine.get("vk:-5")
        assert st is not None
        rows[tz] = {row["date"]: row for row in daily(st, at)}
    moscow, kamchatka = rows[None], rows[KAMCHATKA]
    assert moscow["2026-11-02"]["posts"] == 1 and moscow["2026-11-03"]["posts"] == 0
    assert kamchatka["2026-11-03"]["posts"] == 1 and kamchatka["2026-11-02"]["posts"] == 0
    day = moscow["2026-11-02"]
    assert (day["citizen_comments"], day["official_comments"], day["answered"]) == (1, 1, 1)
    assert day["response_p90_s"] == 30 * 60  # replied 30 minutes later
    assert moscow["2026-11-04"]["posts"] == 1 and moscow["2026-11-05"]["posts"] == 0
    assert sum(r["posts"] for r in moscow.values()) == sum(r["posts"] for r in kamchatka.values()) == 2
    assert list(moscow)[-1] == "2026-11-05" and list(kamchatka)[-1] == "2026-11-06"
    empty = moscow["2026-11-01"]
    assert empty["posts"] == 0 and empty["answered"] == 0 and empty["response_p90_s"] is None


def test_a_days_replies_are_also_timed_in_working_hours() -> None:
    # Monday 2026-11-02, Moscow (UTC+3): a comment at 17:00 answered on Tuesday at 10:00 is 17 hours
    # on the clock and 2 working hours (17:00-18:00 and 09:00-10:00 of the 09:00-18:00 workday).
    monday_17 = BASE + 24 * HOUR + 14 * HOUR
    events = [
        published(monday_17 - HOUR, "p1", public_id="vk:-5"),
        citizen(monday_17, "c1", post="p1", public_id="vk:-5"),
        official(monday_17 + 17 * HOUR, "o1", reply_to="c1", post="p1", public_id="vk:-5"),
    ]
    engine = engine_for(None)
    engine.apply_all("vk:-5", events)
    st = engine.get("vk:-5")
    assert st is not None
    rows = {row["date"]: row for row in daily(st, monday_17 + 24 * HOUR)}
    tuesday = rows["2026-11-03"]  # a reply counts on the day it was given
    assert tuesday["answered"] == 1
    assert tuesday["response_p90_s"] == 17 * 3600
    assert tuesday["response_wh_p90_s"] == 2 * 3600
    assert rows["2026-11-02"]["answered"] == 0 and rows["2026-11-02"]["response_wh_p90_s"] is None
