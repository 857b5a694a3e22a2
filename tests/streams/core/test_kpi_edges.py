"""One test per case contract §4 names: working time over weekends, holidays, a transferred working
Saturday and eleven time zones; profiles chosen by registry and segment, their own workday, "off";
breaches of a public with no events; the p90 tolerance at a threshold."""

from __future__ import annotations

from datetime import datetime

import pytest

from streams.core.breaches import breaches, transitions
from streams.core.engine import Engine
from streams.core.profiles import BUILT_IN, parse_profiles
from streams.core.registry import PublicInfo, Registry
from streams.core.worktime import calendar_for, parse_clock
from tests.logs import citizen, official, published

HOUR_S = 3600


def ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


def answered(asked: str, replied: str, tz: str = "Europe/Moscow", profiles: bytes | None = None) -> dict:
    """The table of a public whose one citizen comment was answered, 1 hour after the reply."""
    registry = Registry()
    registry.put(PublicInfo.from_record(_record("vk:-1", tz)))
    engine = Engine(registry, parse_profiles(profiles, "p.toml") if profiles else Engine().profiles)
    engine.apply(citizen(ms(asked), "c1"))
    engine.apply(official(ms(replied), "o1", reply_to="c1"))
    table = engine.table("vk:-1", ms(replied) + 3_600_000)
    assert table is not None
    return table


def _record(public_id: str, tz: str = "Europe/Moscow", **extra: str) -> dict:
    record = {"v": 1, "public_id": public_id, "name": "n", "region": "RU-NIZ", "level": "municipal"}
    return {**record, "theme": "culture", "tz": tz, **extra}


def test_a_reply_over_a_weekend_counts_the_working_hours_only() -> None:
    table = answered("2026-11-27T17:00:00+03:00", "2026-11-30T10:00:00+03:00")  # Friday 17:00 -> Monday 10:00
    assert table["response_wh_mean_s_7d"] == 2 * HOUR_S
    assert table["response_mean_s_7d"] == 65 * HOUR_S


def test_4_november_is_a_day_off() -> None:
    table = answered("2026-11-03T17:00:00+03:00", "2026-11-05T10:00:00+03:00")  # Tuesday -> Thursday
    assert table["response_wh_p90_s_7d"] == 2 * HOUR_S


def test_a_saturday_made_working_by_a_transfer_counts_and_its_monday_does_not() -> None:
    # 2025: Saturday 1 November worked, Monday 3 November off (the transfer)
    table = answered("2025-10-31T17:00:00+03:00", "2025-11-04T10:00:00+03:00")
    assert (
        table["response_wh_mean_s_7d"] == (1 + 9 + 0 + 0) * HOUR_S
    )  # Fri 17-18, Sat 9-18, Mon off, Tue 4 Nov off


def test_the_same_instants_are_different_working_hours_in_kamchatka_and_kaliningrad() -> None:
    asked, replied = "2026-11-26T06:00:00+00:00", "2026-11-26T12:00:00+00:00"
    kamchatka = answered(asked, replied, "Asia/Kamchatka")  # UTC+12: 18:00 to midnight
    kaliningrad = answered(asked, replied, "Europe/Kaliningrad")  # UTC+2: 08:00 to 14:00
    assert kamchatka["response_wh_mean_s_7d"] == 0
    assert kaliningrad["response_wh_mean_s_7d"] == 5 * HOUR_S


def test_a_profile_s_own_workday() -> None:
    profiles = b'[profiles.default]\nworkday = ["08:00", "20:00"]\n'
    table = answered("2026-11-26T07:30:00+03:00", "2026-11-26T21:00:00+03:00", profiles=profiles)
    assert table["response_wh_mean_s_7d"] == 12 * HOUR_S


def test_overdue_wh_counts_working_hours_against_the_profile_s_sla() -> None:
    engine = Engine()
    engine.apply(citizen(ms("2026-11-27T16:00:00+03:00"), "c1"))  # Friday afternoon
    monday_noon = ms("2026-11-30T12:00:00+03:00")
    table = engine.table("vk:-1", monday_noon)
    assert table is not None
    assert (table["overdue"], table["overdue_wh"]) == (1, 0)  # 68 hours, but 5 working hours of 8
    table = engine.table("vk:-1", ms("2026-11-30T16:00:00+03:00"))
    assert table is not None and table["overdue_wh"] == 1  # 9 working hours
    assert table["profile"] == "default"


def test_a_registered_public_with_no_events_breaks_posting_and_silence() -> None:
    registry = Registry()
    registry.put(PublicInfo.from_record(_record("vk:-9")))
    at = ms("2026-11-27T12:00:00+03:00")
    got = list(Engine(registry).breaches(at))
    assert [(b["public_id"], b["kpi"], b["value"]) for b in got] == [
        ("vk:-9", "posting", 0),
        ("vk:-9", "silence", None),
    ]
    assert got[1]["threshold"] == 72 * HOUR_S and got[1]["region"] == "RU-NIZ"


def test_a_registry_profile_the_file_lacks_falls_back_to_the_segment_then_default() -> None:
    profiles = parse_profiles(
        b'[profiles.default]\n[profiles.card]\nmin_posts_7d = 1\n[[segments]]\nlevel = "municipal"\n'
        b'profile = "card"\n',
        "p.toml",
    )
    registry = Registry()
    registry.put(PublicInfo.from_record(_record("vk:-1", profile="nonexistent")))
    registry.put(PublicInfo.from_record(_record("vk:-2", profile="default")))
    engine = Engine(registry, profiles)
    assert engine.profile_of("vk:-1").name == "card"  # its segment's
    assert engine.profile_of("vk:-2").name == "default"  # its own, which the file has
    assert engine.profile_of("vk:-3").name == "default"  # not registered


def test_off_disables_a_kpi() -> None:
    profiles = parse_profiles(b'[profiles.default]\nmin_posts_7d = "off"\nmax_silence_h = "off"\n', "p.toml")
    registry = Registry()
    registry.put(PublicInfo.from_record(_record("vk:-9")))
    assert list(Engine(registry, profiles).breaches(ms("2026-11-27T12:00:00+03:00"))) == []


def test_silence_is_measured_from_the_last_post() -> None:
    engine = Engine()
    engine.apply(published(ms("2026-11-20T12:00:00+03:00")))
    at = ms("2026-11-23T12:00:01+03:00")
    silence = [b for b in engine.breaches(at) if b["kpi"] == "silence"]
    assert silence and silence[0]["value"] == 72 * HOUR_S + 1
    assert not [b for b in engine.breaches(at - 2000) if b["kpi"] == "silence"]


@pytest.mark.parametrize("p90_s", [4 * HOUR_S * 0.995, 4 * HOUR_S, 4 * HOUR_S * 1.005])
def test_a_response_time_at_its_threshold_is_judged_on_the_value_within_the_tolerance(p90_s: float) -> None:
    table = {
        "public_id": "vk:-1",
        "at": 0,
        "posts_7d": 9,
        "last_post_at": 0,
        "subscribers": None,
        "joins_7d": 0,
        "leaves_7d": 0,
        "er_day_7d": None,
        "overdue_wh": 0,
        "response_wh_p90_s_7d": p90_s,
        "region": None,
        "level": None,
        "theme": None,
    }
    kpis = [b["kpi"] for b in breaches(table, BUILT_IN)]
    assert kpis == (["response_time"] if p90_s > 4 * HOUR_S else [])


def test_working_time_is_exact_over_long_spans_and_empty_backwards() -> None:
    moscow = calendar_for("Europe/Moscow")
    a, b = ms("2026-01-01T00:00:00+03:00"), ms("2027-01-01T00:00:00+03:00")
    assert moscow.work_ms(a, b) % (9 * 3_600_000) == 0  # whole working days of nine hours
    assert moscow.work_ms(a, b) // (9 * 3_600_000) == 247  # the 2026 production calendar's working days
    assert moscow.work_ms(b, a) == 0 and moscow.work_ms(a, a) == 0
    assert parse_clock("24:00") == 1440


def test_a_breach_makes_one_transition_when_it_opens_and_one_when_it_closes() -> None:
    def breach(kpi: str, at: int, value: float) -> dict:
        return {"public_id": "vk:-1", "at": at, "kpi": kpi, "value": value, "threshold": 3}

    opened, out = transitions([breach("posting", 10, 1)], {}, 10)
    assert [(t["state"], t["kpi"], t["since"]) for t in out] == [("open", "posting", 10)]
    opened, out = transitions([breach("posting", 20, 2), breach("silence", 20, 9)], opened, 20)
    assert [(t["state"], t["kpi"]) for t in out] == [("open", "silence")]  # posting: still open, silent
    assert opened["posting"]["since"] == 10
    opened, out = transitions([breach("silence", 30, 9)], opened, 30)
    assert [(t["state"], t["kpi"], t["since"], t["until"]) for t in out] == [("closed", "posting", 10, 30)]
    assert transitions([], {}, 40) == ({}, [])
