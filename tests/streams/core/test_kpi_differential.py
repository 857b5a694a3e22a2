"""Working time, profiles and breaches (§4): the engine against the brute-force reference, on
generated logs around the November holidays, in zones from Kaliningrad to Kamchatka, under generated
profile files."""

from __future__ import annotations

import math
import tomllib
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.contract import LEVELS, THEMES
from streams.core.engine import Engine
from streams.core.profiles import parse_profiles
from streams.core.registry import PublicInfo, Registry
from streams.replay import replay_events
from tests.examples import examples
from tests.logs import DAY, HOUR, citizen, event, long_logs, official, short_logs
from tests.reference import reference_breaches, reference_tables
from tests.streams.core.test_differential import assert_same_tables

ZONES = ("Europe/Kaliningrad", "Europe/Moscow", "Asia/Yekaterinburg", "Asia/Kamchatka", "Asia/Vladivostok")
PUBLICS = ("vk:-1", "tg:mincult52", "ok:55", "max:city")


def toml_value(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return repr(value)


def to_toml(doc: dict[str, Any]) -> str:
    lines = []
    for name, table in doc["profiles"].items():
        lines.append(f"[profiles.{name}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in table.items()]
    for rule in doc.get("segments", []):
        lines.append("[[segments]]")
        lines += [f"{key} = {toml_value(value)}" for key, value in rule.items()]
    return "\n".join(lines) + "\n"


#: Instants (UTC ms) just before the calendar's awkward days: 4 November 2026 (Wednesday, off),
#: 1 November 2025 (a Saturday made working) and 3 November 2025 (its Monday off), the New Year
#: break, 23 February and the May holidays of 2026, and an ordinary Friday evening.
AWKWARD = (
    1_793_700_000_000,  # 2026-11-03T10:00Z
    1_761_915_600_000,  # 2025-10-31T13:00Z
    1_767_099_600_000,  # 2025-12-30T13:00Z
    1_771_578_000_000,  # 2026-02-20T09:00Z
    1_777_539_600_000,  # 2026-04-30T09:00Z
    1_795_795_200_000,  # 2026-11-27T16:00Z, a Friday
)


@st.composite
def comment_logs(draw: st.DrawFn) -> tuple[list[dict], int]:
    """Citizen comments and official replies around the awkward days, answered after minutes to
    days, some never; T from inside the log to two weeks after."""
    start = draw(st.sampled_from(AWKWARD)) + draw(st.integers(-12 * HOUR, 12 * HOUR))
    publics = draw(st.lists(st.sampled_from(PUBLICS), min_size=1, max_size=3, unique=True))
    log: list[dict] = []
    for i in range(draw(st.integers(1, 25))):
        public = draw(st.sampled_from(publics))
        asked = start + draw(st.integers(0, 4 * DAY))
        log.append(citizen(asked, f"c{i}", public_id=public))
        if draw(st.integers(0, 3)):
            delay = draw(st.sampled_from([0, 1, 20 * 60_000, 3 * HOUR, 17 * HOUR, 2 * DAY, 5 * DAY + 7]))
            log.append(official(asked + delay, f"o{i}", reply_to=f"c{i}", public_id=public))
        if draw(st.integers(0, 5)) == 0:
            log.append(event("post.published", asked, public, post_id=f"p{i}"))
    log.sort(key=lambda e: e["occurred_at"])
    top = log[-1]["occurred_at"]
    at = draw(st.sampled_from([top, top + HOUR, top + 9 * HOUR, top + 3 * DAY, top + 14 * DAY]))
    return log, at


@st.composite
def worlds(draw: st.DrawFn) -> tuple[dict[str, dict[str, Any]], str]:
    """Registry records for some of the publics, and a profiles file."""
    registry = {}
    for public_id in PUBLICS:
        if draw(st.booleans()):
            record = {
                "v": 1,
                "public_id": public_id,
                "name": public_id,
                "region": draw(st.sampled_from(["RU-NIZ", "RU-KAM", "RU-KGD"])),
                "level": draw(st.sampled_from(LEVELS)),
                "theme": draw(st.sampled_from(THEMES[:3])),
                "tz": draw(st.sampled_from(ZONES)),
            }
            if draw(st.integers(0, 4)) == 0:
                record["profile"] = draw(st.sampled_from(["flagship", "missing"]))
            registry[public_id] = record

    def thresholds() -> dict[str, Any]:
        out: dict[str, Any] = {}
        if draw(st.booleans()):
            workdays = [["09:00", "18:00"], ["08:30", "17:15"], ["00:00", "24:00"]]
            out["workday"] = draw(st.sampled_from(workdays))
        if draw(st.booleans()):
            out["sla_wh_h"] = draw(st.sampled_from([0.5, 1, 8, 24]))
        for key, values in (
            ("min_posts_7d", [0, 1, 3, "off"]),
            ("max_silence_h", [1, 72, "off"]),
            ("max_response_wh_p90_h", [0, 0.5, 4, "off"]),
            ("max_overdue_wh", [0, 2, "off"]),
            ("min_er_day_7d", [0.05, 1.5, "off"]),
            ("min_net_subscribers_pct_7d", [-1.0, 0, "off"]),
        ):
            if draw(st.booleans()):
                out[key] = draw(st.sampled_from(values))
        return out

    doc: dict[str, Any] = {"profiles": {"default": thresholds(), "flagship": thresholds()}}
    if draw(st.booleans()):
        doc["segments"] = [
            {"level": draw(st.sampled_from([list(LEVELS[:2]), "municipal"])), "profile": "flagship"},
            {"theme": THEMES[0], "region": "RU-KAM", "profile": "default"},
        ]
    return registry, to_toml(doc)


def engine_for(registry: dict[str, dict[str, Any]], text: str) -> Engine:
    reg = Registry()
    for record in registry.values():
        reg.put(PublicInfo.from_record(record))
    return Engine(reg, parse_profiles(text.encode(), "generated.toml"))


def assert_same_breaches(got: list[dict], want: list[dict]) -> None:
    """Equal lists, floats within 1e-9, and a response_time breach near its threshold either way."""

    def key(b: dict) -> tuple[str, str]:
        return b["public_id"], b["kpi"]

    def near_threshold(b: dict) -> bool:
        return b["kpi"] == "response_time" and math.isclose(b["value"], b["threshold"], rel_tol=0.01)

    got_keys = {key(b) for b in got}
    want_keys = {key(b) for b in want}
    assert {k for k in got_keys ^ want_keys} == {
        key(b) for b in got + want if key(b) in got_keys ^ want_keys and near_threshold(b)
    }, (got, want)
    assert [key(b) for b in got] == sorted(key(b) for b in got)
    want_by_key = {key(b): b for b in want}
    for b in got:
        w = want_by_key.get(key(b))
        if w is None:
            continue
        for name, expected in w.items():
            actual = b[name]
            if isinstance(expected, float) and isinstance(actual, float):
                tolerance = 1e-2 if b["kpi"] == "response_time" and name == "value" else 1e-9
                assert math.isclose(actual, expected, rel_tol=tolerance), (b, w)
            else:
                assert actual == expected, (b, w)


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(short_logs(), comment_logs()), worlds())
def test_tables_and_breaches_match_the_reference_in_every_zone_and_profile(
    case: tuple[list[dict], int], world: tuple[dict, str]
) -> None:
    log, at = case
    registry, text = world
    doc = tomllib.loads(text)
    engine = engine_for(registry, text)
    assert_same_tables(list(replay_events(log, at, engine)), reference_tables(log, at, registry, doc))
    assert_same_breaches(list(engine.breaches(at)), reference_breaches(log, at, registry, doc))


@settings(max_examples=examples(100), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(long_logs(), worlds())
def test_working_time_survives_retention(case: tuple[list[dict], int], world: tuple[dict, str]) -> None:
    log, at = case
    registry, text = world
    engine = engine_for(registry, text)
    want = reference_tables(log, at, registry, tomllib.loads(text))
    assert_same_tables(list(replay_events(log, at, engine)), want)
