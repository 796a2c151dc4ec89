"""School calendars: school days across half-terms, closures and the clocks changing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from engine.calendar import (
    CalendarBook,
    CalendarSpec,
    TermCalendar,
    WeekdayCalendar,
    add_school_days,
    calendars_of,
    school_days,
)
from engine.errors import CalendarExhausted
from engine.machine import WorkflowMachine
from tests.unit.helpers import LONDON, autumn_2026_calendar, build, full_template, make_cycle

CAL = autumn_2026_calendar()


@pytest.mark.parametrize(
    ("day", "school"),
    [
        (date(2026, 9, 2), False),  # before the autumn term
        (date(2026, 9, 3), False),  # INSET day
        (date(2026, 9, 4), True),  # first day with pupils (a Friday)
        (date(2026, 9, 5), False),  # Saturday in term
        (date(2026, 10, 23), True),  # last day before half-term
        (date(2026, 10, 26), False),  # half-term Monday
        (date(2026, 10, 30), False),  # half-term Friday
        (date(2026, 11, 2), True),  # back after half-term
        (date(2026, 12, 21), False),  # Christmas holidays
        (date(2027, 5, 3), False),  # early May bank holiday
        (date(2027, 7, 21), True),  # last day of the school year
        (date(2027, 7, 22), False),
    ],
)
def test_is_school_day(day: date, school: bool) -> None:
    assert CAL.is_school_day(day) is school


def test_ten_school_days_across_half_term() -> None:
    # From Monday 19 October: 20-23 October (4), half-term, 2-6 November (9), 9 November (10).
    start = datetime(2026, 10, 19, 9, 0, tzinfo=LONDON)
    end = add_school_days(CAL, start, 10)
    assert end == datetime(2026, 11, 9, 9, 0, tzinfo=LONDON)
    assert end.utcoffset() == timedelta(0)  # GMT: the clocks went back on 25 October
    assert (end - start) > timedelta(days=14)  # ten school days is not fourteen calendar days


def test_counting_keeps_the_local_time_across_the_clocks_changing() -> None:
    friday = datetime(2026, 10, 23, 16, 30, tzinfo=LONDON)  # BST
    monday = add_school_days(CAL, friday, 1)
    assert monday == datetime(2026, 11, 2, 16, 30, tzinfo=LONDON)
    assert (monday.hour, monday.minute, monday.utcoffset()) == (16, 30, timedelta(0))


def test_the_start_day_is_not_counted() -> None:
    friday = datetime(2026, 10, 9, 10, 0, tzinfo=LONDON)
    assert add_school_days(CAL, friday, 1) == datetime(2026, 10, 12, 10, 0, tzinfo=LONDON)
    # Counting from a holiday starts with the first school day after it.
    saturday = datetime(2026, 10, 24, 10, 0, tzinfo=LONDON)
    assert add_school_days(CAL, saturday, 1) == datetime(2026, 11, 2, 10, 0, tzinfo=LONDON)


def test_counting_backwards_skips_holidays_too() -> None:
    monday = datetime(2026, 11, 2, 9, 0, tzinfo=LONDON)
    assert add_school_days(CAL, monday, -1) == datetime(2026, 10, 23, 9, 0, tzinfo=LONDON)
    assert add_school_days(CAL, monday, -5) == datetime(2026, 10, 19, 9, 0, tzinfo=LONDON)


def test_zero_school_days_is_the_same_moment_in_local_time() -> None:
    start = datetime(2026, 10, 24, 8, 0, tzinfo=UTC)
    result = add_school_days(CAL, start, 0)
    assert result == start
    assert result.tzinfo is LONDON


def test_the_result_is_in_the_calendars_zone() -> None:
    start = datetime(2026, 10, 19, 8, 0, tzinfo=UTC)  # 09:00 in London
    end = add_school_days(CAL, start, 10)
    assert end.tzinfo is LONDON
    assert (end.date(), end.hour) == (date(2026, 11, 9), 9)


def test_school_days_span_the_christmas_holidays() -> None:
    # Wednesday 16 December 2026: 17 and 18 December, then 4 January 2027 onwards.
    start = datetime(2026, 12, 16, 9, 0, tzinfo=LONDON)
    assert add_school_days(CAL, start, 3) == datetime(2027, 1, 4, 9, 0, tzinfo=LONDON)


def test_a_calendar_that_runs_out_says_so() -> None:
    start = datetime(2027, 7, 19, 9, 0, tzinfo=LONDON)
    with pytest.raises(CalendarExhausted) as caught:
        add_school_days(CAL, start, 5)
    assert (caught.value.days, caught.value.start) == (5, "2027-07-19")
    assert "fewer than 5 school days from 2027-07-19; add the coming terms" in str(caught.value)
    with pytest.raises(CalendarExhausted) as back:
        add_school_days(CAL, datetime(2026, 9, 8, 9, 0, tzinfo=LONDON), -4)
    assert "fewer than 4 school days" in str(back.value)


def test_term_calendar_of_sorts_its_terms() -> None:
    cal = TermCalendar.of(
        [(date(2027, 1, 4), date(2027, 3, 25)), (date(2026, 9, 3), date(2026, 12, 18))],
        [date(2026, 9, 3)],
        LONDON,
    )
    assert cal.terms[0][0] == date(2026, 9, 3)
    assert cal.closures == frozenset({date(2026, 9, 3)})
    assert not cal.is_school_day(date(2026, 9, 3))


def test_weekday_calendar() -> None:
    cal = WeekdayCalendar()
    assert cal.tz is UTC
    friday = datetime(2026, 10, 30, 10, 0, tzinfo=UTC)  # half-term does not exist here
    assert add_school_days(cal, friday, 1) == datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    assert add_school_days(cal, friday, 5) == datetime(2026, 11, 6, 10, 0, tzinfo=UTC)
    assert not cal.is_school_day(date(2026, 10, 31))


def _autumn_spec() -> CalendarSpec:
    return CalendarSpec(
        terms=(
            ("Autumn 1", date(2026, 9, 3), date(2026, 10, 23)),
            ("Autumn 2", date(2026, 11, 2), date(2026, 12, 18)),
        ),
        closures=(("INSET day", date(2026, 9, 3)),),
    )


def test_each_network_counts_its_own_school_days_else_the_default_else_weekdays() -> None:
    book = CalendarBook(LONDON, {"north": _autumn_spec()})
    assert book.source("north") == "own" and book.source("south") == "weekdays"
    assert book.source(None) == "weekdays"
    assert not book.for_network("north").is_school_day(date(2026, 10, 26))  # half-term
    assert book.for_network("south").is_school_day(date(2026, 10, 26))  # a Monday
    # A partnership default applies to every network without its own.
    with_default = CalendarBook(LONDON, {"north": _autumn_spec(), None: CalendarSpec()})
    assert with_default.source("south") == "default" and with_default.source(None) == "own"
    assert with_default.for_network("north") is with_default.for_network("north")  # built once


def test_a_cycle_counts_the_school_days_of_its_own_network() -> None:
    machine = WorkflowMachine(
        build(full_template()), CalendarBook(LONDON, {"nlc1": _autumn_spec()})
    )
    monday = datetime(2026, 10, 19, 9, 0, tzinfo=LONDON)
    north = make_cycle(machine.template, "workshop", stage_entered_at=monday)
    south = make_cycle(machine.template, "workshop", stage_entered_at=monday, network_id="nlc2")
    # Ten school days from Monday 19 October: across half-term in nlc1, two weeks in nlc2.
    assert [d.at for d in machine.deadlines(north)] == [datetime(2026, 11, 9, 9, 0, tzinfo=LONDON)]
    assert [d.at for d in machine.deadlines(south)] == [datetime(2026, 11, 2, 9, 0, tzinfo=LONDON)]
    assert machine.calendar_for(south).is_school_day(date(2026, 10, 26))


def test_school_days_are_counted_inclusively() -> None:
    spec = _autumn_spec()
    cal = spec.calendar(LONDON)
    # 3 Sep (INSET) to 23 Oct: 37 weekdays, less the INSET day.
    assert school_days(cal, date(2026, 9, 3), date(2026, 10, 23)) == 36
    assert school_days(cal, date(2026, 10, 24), date(2026, 11, 1)) == 0
    assert school_days(WeekdayCalendar(LONDON), date(2026, 10, 26), date(2026, 10, 30)) == 5
    assert calendars_of(cal).for_network("anything") is cal
