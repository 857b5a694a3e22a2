"""Time units of contract v1 (§2) and parsing of a user's point in time."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Final

from schemas.contract import MIN_OCCURRED_AT

SECOND_MS: Final = 1000
HOUR_MS: Final = 3_600_000
DAY_MS: Final = 86_400_000
HOURS_PER_DAY: Final = 24

#: (suffix, hours) of the three windows, in the order a snapshot lists them.
WINDOWS: Final = (("24h", 24), ("7d", 168), ("30d", 720))
LONGEST_WINDOW_HOURS: Final = 720
#: Horizons the contract fixes for view tracking and for answering a comment.
TRACK_MS: Final = 30 * DAY_MS
ANSWER_MS: Final = 30 * DAY_MS
#: Duplicates must be caught while the first copy lies within this much of the newest event.
DEDUP_MS: Final = 48 * HOUR_MS
#: A year, the furthest ahead of the clock the API serves a table for.
YEAR_MS: Final = 366 * DAY_MS
#: A comment is ``overdue`` after a calendar day (contract §2); the KPIs count working hours (§4).
OVERDUE_S: Final = 86_400


class TimeError(ValueError):
    """A point in time the user gave that cannot be read; the message says how to write it."""


_DIGITS = re.compile(r"-?\d+")
#: More digits than any plausible epoch-millisecond time (year 33658 has 15): refused before ``int``.
_MAX_DIGITS: Final = 16
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def now_ms() -> int:
    """The wall clock in epoch milliseconds: the only place the engine's callers read it."""
    return time.time_ns() // 1_000_000


def parse_instant(text: str) -> int:
    """Epoch milliseconds from ``1764201600000`` or ISO 8601 with a zone (``2026-11-27T00:00:00Z``)."""
    text = text.strip()
    if _DIGITS.fullmatch(text):
        if len(text) > _MAX_DIGITS:
            raise TimeError(f"{text[:20]!r}… has {len(text)} digits; epoch milliseconds have 13 today")
        ms = int(text)
        if ms < MIN_OCCURRED_AT:
            hint = " (it looks like seconds: multiply by 1000)" if ms >= MIN_OCCURRED_AT // 1000 else ""
            raise TimeError(f"{text!r} is before 2000-01-01 in epoch milliseconds{hint}")
        return ms
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise TimeError(
            f"{text!r} is neither epoch milliseconds nor ISO 8601; "
            "write e.g. 1764201600000 or 2026-11-27T03:00:00+03:00"
        ) from None
    if moment.tzinfo is None:
        raise TimeError(
            f"{text!r} has no time zone; add one, e.g. {text}Z for UTC or {text}+03:00 for Moscow"
        )
    ms = (moment - _EPOCH) // timedelta(milliseconds=1)
    if ms < MIN_OCCURRED_AT:
        raise TimeError(f"{text!r} is before 2000-01-01")
    return ms


def format_instant(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
