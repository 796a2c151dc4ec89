"""Series of recurring cycles (`engine.series`), Hypothesis first: a day's cycle is due once
its start has come, never twice, never for a day before the series was made or after it was
cancelled; a yearly series comes back on the same days each year; days that are past, listed
twice or not school days are refused, named."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.calendar import TermCalendar
from engine.series import START_TIME, Series, check_days, due, occurrences, upcoming
from tests.unit.helpers import LONDON, NOW, autumn_2026_calendar

DAYS = st.lists(st.dates(date(2026, 9, 1), date(2027, 7, 31)), min_size=1, max_size=8, unique=True)


def _series(days: list[date], yearly: bool = False) -> Series:
    return Series("ser1", "t", "s1", "n1", tuple(sorted(days)), "p1", NOW, yearly)


@settings(max_examples=300)
@given(
    days=DAYS,
    yearly=st.booleans(),
    later=st.integers(0, 900),
    started=st.sets(st.dates(date(2026, 9, 1), date(2029, 7, 31)), max_size=5),
)
def test_a_day_is_due_once_from_its_start_never_before_the_series(
    days: list[date], yearly: bool, later: int, started: set[date]
) -> None:
    s = _series(days, yearly)
    now = NOW + timedelta(days=later)
    found = due(s, started, now, LONDON)
    assert found == sorted(set(found))
    every = occurrences(s, now.astimezone(LONDON).date())
    for day in found:
        assert day in every and day not in started
        assert day >= NOW.date() and datetime.combine(day, START_TIME, LONDON) <= now
    # Every day whose start has come, not started, and not before the series, is due.
    for day in every:
        if day >= NOW.date() and day not in started:
            assert (day in found) == (datetime.combine(day, START_TIME, LONDON) <= now)
    # Started, it is not due again; cancelled, nothing is.
    assert due(s, started | set(found), now, LONDON) == []
    gone = dataclasses.replace(s, cancelled_at=NOW, cancelled_by="p1")
    assert due(gone, started, now, LONDON) == [] and upcoming(gone, set(), NOW.date()) == []


def test_a_yearly_series_comes_back_on_its_days_each_year() -> None:
    s = _series([date(2026, 10, 1), date(2027, 2, 28)], yearly=True)
    assert occurrences(s, date(2028, 12, 31)) == [
        date(2026, 10, 1),
        date(2027, 2, 28),
        date(2027, 10, 1),
        date(2028, 2, 28),
        date(2028, 10, 1),
    ]
    once = _series([date(2026, 10, 1)])
    assert occurrences(once, date(2030, 1, 1)) == [date(2026, 10, 1)]
    assert upcoming(s, {date(2026, 10, 1)}, date(2026, 9, 14), 2) == [
        date(2027, 2, 28),
        date(2027, 10, 1),
    ]


def test_days_past_twice_or_not_school_days_are_refused_named() -> None:
    calendar: TermCalendar = autumn_2026_calendar()
    today = date(2026, 9, 14)
    issues = check_days(
        [date(2026, 10, 1), date(2026, 10, 1), date(2026, 9, 1), date(2026, 10, 3)],
        calendar,
        today,
    )
    assert [(i.location, i.message) for i in issues] == [
        ("days[1]", "2026-10-01 is listed twice"),
        ("days[2]", "2026-09-01 has passed"),
        ("days[3]", "Saturday 3 October 2026 is not a school day"),
    ]
    half_term = date(2026, 10, 28)  # a Wednesday of the October half-term
    assert [i.code for i in check_days([half_term], calendar, today)] == ["not_school_day"]
    assert [i.message for i in check_days([], calendar, today)] == ["give at least one day"]
