"""School calendars: which days are school days, in which time zone, and counting them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cache
from typing import Protocol
from zoneinfo import ZoneInfo

from engine.errors import CalendarExhausted

__all__ = [
    "DEFAULT_TIMEZONE",
    "SchoolCalendar",
    "TermCalendar",
    "WeekdayCalendar",
    "add_school_days",
    "default_calendar",
]

DEFAULT_TIMEZONE = "Europe/London"
"""The time zone of English schools: local times are London's unless configured otherwise."""

# A search bound, not a rule: no sensible deadline is more than about two school years away.
_HORIZON_DAYS = 800


class SchoolCalendar(Protocol):
    """The calendar port: the engine counts school days and local times through it."""

    @property
    def tz(self) -> tzinfo: ...

    def is_school_day(self, day: date) -> bool: ...


@dataclass(frozen=True, slots=True)
class WeekdayCalendar:
    """Every Monday to Friday is a school day; for networks that have not loaded their terms."""

    tz: tzinfo = UTC

    def is_school_day(self, day: date) -> bool:
        return day.weekday() < 5


@cache
def default_calendar() -> WeekdayCalendar:
    """London weekdays: what school days are counted in when no term dates are loaded.

    A function rather than a constant so that importing the engine never looks up the time
    zone database.
    """
    return WeekdayCalendar(ZoneInfo(DEFAULT_TIMEZONE))


@dataclass(frozen=True, slots=True)
class TermCalendar:
    """School days are weekdays inside a term and not a closure (half-term, INSET, bank holiday).

    Attributes:
        terms: (first day, last day) of each term, inclusive.
        closures: single days off inside terms.
        tz: the local time zone (`DEFAULT_TIMEZONE` for English schools).
    """

    terms: tuple[tuple[date, date], ...]
    closures: frozenset[date] = field(default_factory=frozenset)
    tz: tzinfo = UTC

    @classmethod
    def of(
        cls, terms: Iterable[tuple[date, date]], closures: Iterable[date], tz: tzinfo
    ) -> TermCalendar:
        return cls(tuple(sorted(terms)), frozenset(closures), tz)

    def is_school_day(self, day: date) -> bool:
        if day.weekday() >= 5 or day in self.closures:
            return False
        return any(first <= day <= last for first, last in self.terms)


def add_school_days(calendar: SchoolCalendar, start: datetime, days: int) -> datetime:
    """The moment `days` school days after (or, if negative, before) `start`, same local time.

    The start day itself is not counted: one school day after Friday 10:00 is Monday 10:00 (in
    term). Local time is kept across daylight-saving changes; the result is in the calendar's zone.

    Raises:
        CalendarExhausted: when the calendar runs out of school days first.
    """
    local = start.astimezone(calendar.tz)
    if days == 0:
        return local
    step = timedelta(days=1 if days > 0 else -1)
    day = local.date()
    left = abs(days)
    for _ in range(_HORIZON_DAYS):
        day += step
        if calendar.is_school_day(day):
            left -= 1
            if left == 0:
                return datetime.combine(day, local.timetz().replace(tzinfo=None), calendar.tz)
    raise CalendarExhausted(days, local.date().isoformat())
