"""Working time (contract §4): a public's working hours in its own time zone, on the Russian
production calendar.

A local date is a working day when ``holidays.country_holidays("RU").is_working_day`` says so
(weekends and holidays off, transferred days off off, Saturdays made working by a transfer on); each
working day contributes ``[workday start, workday end)`` local time. ``WorkCalendar.work_ms(a, b)`` is
the working time inside ``[a, b)`` in milliseconds. All instants are whole milliseconds and the
workday's bounds whole minutes, so the result is an exact integer (``work_s`` of the contract is it
divided by 1000).

Each calendar keeps, per local year, every day's start and working interval as UTC milliseconds and
the working time accumulated before each day; ``work_ms`` is then the difference of two cumulative
readings, whatever the span: cheap enough for every reply applied and every pending comment read.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date, datetime, timedelta
from functools import cache
from typing import Final
from zoneinfo import ZoneInfo

import holidays

from schemas.contract import DEFAULT_TZ

#: The workday of §4 when a profile gives none: 09:00 to 18:00, in minutes after local midnight.
DEFAULT_WORKDAY: Final = (9 * 60, 18 * 60)
_MINUTE_MS: Final = 60_000


@cache
def _calendar_ru() -> holidays.HolidayBase:
    return holidays.country_holidays("RU")


def is_working_day(day: date) -> bool:
    """The Russian production calendar's verdict for ``day``."""
    return bool(_calendar_ru().is_working_day(day))


class _Year:
    """One local year of a calendar: day starts, working intervals and cumulative work, in UTC ms."""

    __slots__ = ("cum", "end", "starts", "total", "work_end", "work_start")

    def __init__(self, zone: ZoneInfo, year: int, workday: tuple[int, int]) -> None:
        first = date(year, 1, 1)
        days = (date(year + 1, 1, 1) - first).days
        self.starts: list[int] = []
        self.work_start: list[int] = []
        self.work_end: list[int] = []
        self.cum: list[int] = []
        total = 0
        for i in range(days + 1):
            day = first + timedelta(days=i)
            midnight = _utc_ms(zone, day, 0)
            self.starts.append(midnight)
            if i == days:
                break
            if is_working_day(day):
                start, end = _utc_ms(zone, day, workday[0]), _utc_ms(zone, day, workday[1])
            else:
                start = end = midnight
            self.work_start.append(start)
            self.work_end.append(end)
            self.cum.append(total)
            total += end - start
        self.end = self.starts.pop()  # the next year's first midnight
        self.total = total


def _utc_ms(zone: ZoneInfo, day: date, minutes: int) -> int:
    local = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(minutes=minutes)
    # whole-minute local times in whole-second zones: an exact integer of milliseconds
    return int(local.timestamp()) * 1000


class WorkCalendar:
    """Working time in one time zone with one workday; share instances (``calendar_for``)."""

    def __init__(self, tz: str = DEFAULT_TZ, workday: tuple[int, int] = DEFAULT_WORKDAY) -> None:
        self.tz = tz
        self.zone = ZoneInfo(tz)
        self.workday = workday
        self._years: dict[int, _Year] = {}
        #: Working time before each year's first local midnight, counted from the first year asked
        #: about (only differences of cumulative readings mean anything, so any origin will do, and
        #: this one builds no year that is not needed).
        self._before: dict[int, int] = {}

    def _year(self, year: int) -> _Year:
        got = self._years.get(year)
        if got is None:
            got = self._years[year] = _Year(self.zone, year, self.workday)
        return got

    def _cum_before_year(self, year: int) -> int:
        before = self._before
        if year in before:
            return before[year]
        if not before:
            before[year] = 0
            return 0
        low, high = min(before), max(before)
        while high < year:
            before[high + 1] = before[high] + self._year(high).total
            high += 1
        while low > year:
            before[low - 1] = before[low] - self._year(low - 1).total
            low -= 1
        return before[year]

    def cumulative_ms(self, t: int) -> int:
        """Working time from a fixed origin to ``t``: monotone in ``t``, meaningful in differences."""
        year = datetime.fromtimestamp(t // 1000, self.zone).year
        y = self._year(year)
        i = bisect_right(y.starts, t) - 1
        if i < 0:  # before the first midnight of the local year (cannot happen; be safe)
            year -= 1
            y = self._year(year)
            i = len(y.starts) - 1
        within = min(max(t, y.work_start[i]), y.work_end[i]) - y.work_start[i]
        return self._cum_before_year(year) + y.cum[i] + within

    def work_ms(self, a: int, b: int) -> int:
        """Working time inside ``[a, b)``, in ms; 0 when ``b <= a``."""
        if b <= a:
            return 0
        return self.cumulative_ms(b) - self.cumulative_ms(a)


@cache
def calendar_for(tz: str, workday: tuple[int, int] = DEFAULT_WORKDAY) -> WorkCalendar:
    """The shared calendar of a zone and workday (each builds its years once)."""
    return WorkCalendar(tz, workday)


#: Moscow's zone, 09:00 to 18:00: a public's working time until the engine knows better.
DEFAULT_CALENDAR: Final = calendar_for(DEFAULT_TZ)


def parse_clock(text: str) -> int:
    """``"HH:MM"`` to minutes after midnight; ``ValueError`` otherwise."""
    hours, sep, minutes = text.partition(":")
    digits = (hours + minutes).isascii() and hours.isdigit() and minutes.isdigit()
    if not (sep and len(hours) == 2 and len(minutes) == 2 and digits):
        raise ValueError(f"{text!r} is not a time of day HH:MM")
    h, m = int(hours), int(minutes)
    if not (0 <= h <= 24 and 0 <= m < 60) or h * 60 + m > 24 * 60:
        raise ValueError(f"{text!r} is not a time of day between 00:00 and 24:00")
    return h * 60 + m
