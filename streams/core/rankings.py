"""Which sorted sets rank a public, and by what score: pure functions over a table of contract §2.

A leaderboard is asked for a segment with any of region, level and theme left open, so a public is
ranked in the eight sets its segment falls in: each of the three either its own value or ``*``
(any). Eight writes per KPI buy a leaderboard that is one ``ZRANGE`` away for every filter, instead
of a union of up to thousands of sets at question time.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import product
from typing import Any, Final

from streams.core.breach_tally import segment_of

#: The KPIs a segment is ranked by, and how to read each from a table (``None``: not ranked).
RANKED: Final = ("er_day_7d", "response_wh_p90_s_7d", "posts_7d", "net_subscribers_7d", "overdue_wh")
ANY: Final = "*"


def scores(table: dict[str, Any]) -> dict[str, float | None]:
    """Each ranked KPI's score in ``table``; ``None`` where the table has no value (it leaves the set)."""
    return {
        "er_day_7d": table["er_day_7d"],
        "response_wh_p90_s_7d": table["response_wh_p90_s_7d"],
        "posts_7d": table["posts_7d"],
        "net_subscribers_7d": table["joins_7d"] - table["leaves_7d"],
        # a page no citizen wrote to has nothing to be late with: it is not ranked on answers
        "overdue_wh": table["overdue_wh"] if table["citizen_comments_7d"] else None,
    }


def place(table: dict[str, Any]) -> tuple[str, str, str]:
    """The public's region, level and theme as the ranking keys name them (its segment as the
    metrics label it, without the profile)."""
    region, level, theme, _ = segment_of(table)
    return region, level, theme


def places_of(where: tuple[str, str, str]) -> Iterator[tuple[str, str, str]]:
    """The eight segments a public of ``where`` is ranked in (each field its own value or ``*``)."""
    yield from product(*((value, ANY) for value in where))
