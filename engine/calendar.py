"""School calendars: which days are school days, in which time zone, and counting them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cache
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from engine.errors import CalendarExhausted

__all__ = [
    "DEFAULT_TIMEZONE",
    "CalendarBook",
    "CalendarSpec",
    "Calendars",
    "SchoolCalendar",
    "TermCalendar",
    "WeekdayCalendar",
    "add_school_days",
    "calendars_of",
    "default_calendar",
    "school_days",
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


def school_days(calendar: SchoolCalendar, first: date, last: date) -> int:
    """How many school days from `first` to `last`, both included."""
    count, day = 0, first
    while day <= last:
        count += calendar.is_school_day(day)
        day += timedelta(days=1)
    return count


@dataclass(frozen=True, slots=True)
class CalendarSpec:
    """A network's calendar as written: named terms and named closure days.

    Attributes:
        terms: (name, first day, last day) of each term, in order.
        closures: (name, day) of each day off inside a term, in order.
    """

    terms: tuple[tuple[str, date, date], ...] = ()
    closures: tuple[tuple[str, date], ...] = ()

    def calendar(self, tz: tzinfo) -> SchoolCalendar:
        """Its school days; Monday to Friday when no terms are given."""
        if not self.terms:
            return WeekdayCalendar(tz)
        return TermCalendar.of(
            [(first, last) for _, first, last in self.terms], [d for _, d in self.closures], tz
        )


@runtime_checkable
class Calendars(Protocol):
    """Every network's school calendar: deadlines of a cycle count the days of its network."""

    @property
    def tz(self) -> tzinfo: ...

    def for_network(self, network_id: str | None) -> SchoolCalendar: ...


class CalendarBook:
    """Each network's own calendar, else the partnership's default, else Monday to Friday.

    Args:
        tz: the local time zone of every calendar in the book.
        specs: calendars by network id; the key `None` is the partnership's default.
    """

    __slots__ = ("_calendars", "_fallback", "specs", "tz")

    def __init__(self, tz: tzinfo, specs: Mapping[str | None, CalendarSpec] | None = None) -> None:
        self.tz = tz
        self.specs: Mapping[str | None, CalendarSpec] = dict(specs or {})
        # Built once: a move asks for its network's calendar every time it plans deadlines.
        self._calendars = {net: spec.calendar(tz) for net, spec in self.specs.items()}
        self._fallback = self._calendars.get(None) or WeekdayCalendar(tz)

    def for_network(self, network_id: str | None) -> SchoolCalendar:
        return self._calendars.get(network_id, self._fallback)

    def source(self, network_id: str | None) -> str:
        """Where a network's school days come from: "own", "default" or "weekdays" (the
        default itself, `None`, is "own" when loaded)."""
        if network_id in self.specs:
            return "own"
        return "default" if None in self.specs else "weekdays"


@dataclass(frozen=True, slots=True)
class _OneCalendar:
    calendar: SchoolCalendar

    @property
    def tz(self) -> tzinfo:
        return self.calendar.tz

    def for_network(self, network_id: str | None) -> SchoolCalendar:
        return self.calendar


def calendars_of(calendar: SchoolCalendar | Calendars | None) -> Calendars:
    """A book of calendars from one calendar (every network the same) or a book."""
    if calendar is None:
        return _OneCalendar(WeekdayCalendar())
    if isinstance(calendar, Calendars):
        return calendar
    return _OneCalendar(calendar)
