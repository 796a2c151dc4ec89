"""Cycles that recur: a series starts a cycle of a template for a host school on given school
days (three moderation twilights a term), or on the same days every year.

Pure: which days a series has, which of them are due to start now, and whether each is a
school day on the network's calendar. The service stores series and starts their cycles.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo

from engine.calendar import SchoolCalendar
from engine.issues import Issue

__all__ = ["MOST_DAYS", "START_TIME", "Series", "check_days", "due", "occurrences", "upcoming"]

START_TIME = time(7, 0)
"""When on its day a series' cycle starts: before the school day, so its deadlines count
that day in."""

MOST_DAYS = 60
"""The most days one series lists: a year of weekly twilights, with room."""

_YEARS_AHEAD = 10
"""How far a yearly series is followed: further is past any framework's life."""


@dataclass(frozen=True, slots=True)
class Series:
    """A template's cycles started for one host school on `days` (each year again when
    `yearly`), with the schools taking part in each; made by `created_by`, whose roles start
    them, and stopped for good once `cancelled_at` is set."""

    id: str
    template_id: str
    host_school_id: str
    network_id: str | None
    days: tuple[date, ...]
    created_by: str
    created_at: datetime
    yearly: bool = False
    participants: tuple[str, ...] = ()
    title: str = ""
    cancelled_at: datetime | None = None
    cancelled_by: str | None = None

    @property
    def active(self) -> bool:
        return self.cancelled_at is None


def occurrences(series: Series, until: date) -> list[date]:
    """Every day the series starts a cycle on, up to `until`, in order."""
    found: set[date] = set()
    for day in series.days:
        for years in range(_YEARS_AHEAD + 1 if series.yearly else 1):
            try:
                at = day.replace(year=day.year + years)
            except ValueError:  # 29 February in a year that has none
                at = day.replace(year=day.year + years, day=28)
            if at > until:
                break
            found.add(at)
    return sorted(found)


def due(series: Series, started: set[date], now: datetime, tz: tzinfo) -> list[date]:
    """The days whose cycle should be started by `now` and has not been: none before the
    series was made (a series never back-fills), none once it is cancelled."""
    if not series.active:
        return []
    made = series.created_at.astimezone(tz).date()
    return [
        day
        for day in occurrences(series, now.astimezone(tz).date())
        if day >= made and day not in started and datetime.combine(day, START_TIME, tz) <= now
    ]


def upcoming(series: Series, started: set[date], today: date, n: int = 5) -> list[date]:
    """The next `n` days the series will start a cycle on."""
    if not series.active:
        return []
    ahead = date(today.year + _YEARS_AHEAD, 12, 31)
    return [d for d in occurrences(series, ahead) if d >= today and d not in started][:n]


def check_days(days: list[date], calendar: SchoolCalendar, today: date) -> list[Issue]:
    """Issues with a series' days: none, too many, one twice, in the past, or not a school
    day on the network's calendar."""
    issues: list[Issue] = []
    if not days:
        issues.append(Issue("days", "give at least one day", "missing"))
    if len(days) > MOST_DAYS:
        issues.append(Issue("days", f"at most {MOST_DAYS} days in one series", "too_many"))
    seen: set[date] = set()
    for i, day in enumerate(days):
        where = f"days[{i}]"
        if day in seen:
            issues.append(Issue(where, f"{day.isoformat()} is listed twice", "duplicate"))
        seen.add(day)
        if day < today:
            issues.append(Issue(where, f"{day.isoformat()} has passed", "past"))
        elif not calendar.is_school_day(day):
            issues.append(
                Issue(
                    where, f"{day:%A} {day.day} {day:%B %Y} is not a school day", "not_school_day"
                )
            )
    return issues
