"""Breaches at T (contract §4): which KPI of a public's profile its table breaks, as pure functions.

A breach is a state at ``T``, not an alert: how long it must last before someone is told belongs to
the alerting layer. Values and thresholds share a unit: seconds for ``silence`` and
``response_time``, percent for ``engagement`` and ``subscribers``, counts otherwise.
"""

from __future__ import annotations

from typing import Any

from streams.core.profiles import Profile

Breach = dict[str, Any]


def kpi_values(table: dict[str, Any], at: int) -> dict[str, float | int | None]:
    """Each KPI's value in a table of §2 with the fields of §4."""
    last_post = table["last_post_at"]
    subscribers = table["subscribers"]
    return {
        "engagement": table["er_day_7d"],
        "overdue": table["overdue_wh"],
        "posting": table["posts_7d"],
        "response_time": table["response_wh_p90_s_7d"],
        "silence": None if last_post is None else (at - last_post) / 1000,
        "subscribers": (table["joins_7d"] - table["leaves_7d"]) / subscribers * 100 if subscribers else None,
    }


def thresholds(profile: Profile) -> dict[str, float | int | None]:
    """Each KPI's threshold in the unit of its value; ``None`` when the profile turns it off."""

    def seconds(hours: float | None) -> float | None:
        return None if hours is None else hours * 3600

    return {
        "engagement": profile.min_er_day_7d,
        "overdue": profile.max_overdue_wh,
        "posting": profile.min_posts_7d,
        "response_time": seconds(profile.max_response_wh_p90_h),
        "silence": seconds(profile.max_silence_h),
        "subscribers": profile.min_net_subscribers_pct_7d,
    }


def in_breach(kpi: str, value: float | None, threshold: float) -> bool:
    if kpi == "silence":
        return value is None or value > threshold
    if value is None:
        return False
    if kpi in ("response_time", "overdue"):
        return value > threshold
    return value < threshold  # posting, engagement, subscribers: a floor


def breaches(table: dict[str, Any], profile: Profile) -> list[Breach]:
    """The breaches of one public's table (which carries ``at``), sorted by ``kpi``."""
    at = table["at"]
    values, limits = kpi_values(table, at), thresholds(profile)
    out = []
    for kpi in sorted(values):
        threshold = limits[kpi]
        if threshold is not None and in_breach(kpi, values[kpi], threshold):
            out.append(
                {
                    "public_id": table["public_id"],
                    "at": at,
                    "kpi": kpi,
                    "value": values[kpi],
                    "threshold": threshold,
                    "profile": profile.name,
                    "region": table["region"],
                    "level": table["level"],
                    "theme": table["theme"],
                }
            )
    return out


#: A public's open breaches as kept between evaluations: kpi -> the breach as it opened.
OpenBreaches = dict[str, Breach]


def transitions(
    current: list[Breach], opened: OpenBreaches, at: int
) -> tuple[OpenBreaches, list[dict[str, Any]]]:
    """Compare one public's breaches now with those open before: the open set after, and one
    transition per KPI that opened or closed (never one per evaluation).

    An ``open`` transition is the breach with ``since`` (its ``at``); a ``closed`` one is the breach as
    it opened, with its ``since`` and ``until`` = ``at``, the evaluation that found it gone.
    """
    now = {b["kpi"]: b for b in current}
    after: OpenBreaches = {}
    out: list[dict[str, Any]] = []
    for kpi, breach in now.items():
        before = opened.get(kpi)
        if before is None:
            after[kpi] = {**breach, "since": breach["at"]}
            out.append({"state": "open", **breach, "since": breach["at"]})
        else:
            after[kpi] = before
    for kpi, before in opened.items():
        if kpi not in now:
            out.append({"state": "closed", **before, "until": at})
    return after, sorted(out, key=lambda t: t["kpi"])
