"""Deadline arithmetic: stage plans, daylight saving, cycle dates, and action flags."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from engine.calendar import WeekdayCalendar
from engine.cycle import Action
from engine.deadlines import (
    DUE_SOON,
    PlannedDeadline,
    action_deadlines,
    action_flags,
    compile_stage,
    plan_stage,
    shift,
)
from engine.durations import parse_duration
from engine.template import Template
from tests.unit.helpers import LONDON, NOW, autumn_2026_calendar, build, full_template, make_cycle

CAL = autumn_2026_calendar()
LOCAL = WeekdayCalendar(LONDON)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


@pytest.fixture(scope="module")
def template() -> Template:
    return build(full_template())


# --- shift ----------------------------------------------------------------------------------


def test_p14d_across_the_clocks_going_back_keeps_nine_oclock() -> None:
    start = at(2026, 10, 19, 9, 0)  # BST
    due = shift(start, parse_duration("P14D"), LOCAL)
    assert due == at(2026, 11, 2, 9, 0)
    assert (due.hour, due.utcoffset()) == (9, timedelta(0))
    # One more hour actually elapses.
    assert due.astimezone(UTC) - start.astimezone(UTC) == timedelta(days=14, hours=1)


def test_p2w_across_the_clocks_going_forward_keeps_nine_oclock() -> None:
    start = at(2027, 3, 22, 9, 0)  # GMT; British Summer Time starts on 28 March 2027
    due = shift(start, parse_duration("P2W"), LOCAL)
    assert (due.date(), due.hour, due.utcoffset()) == (date(2027, 4, 5), 9, timedelta(hours=1))


def test_hours_are_elapsed_time_across_the_clocks_changing() -> None:
    start = at(2026, 10, 24, 12, 0)  # Saturday, BST
    due = shift(start, parse_duration("PT36H"), LOCAL)
    assert due.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=36)
    assert due == at(2026, 10, 25, 23, 0)


def test_days_and_hours_together() -> None:
    start = at(2026, 10, 24, 12, 0)
    due = shift(start, parse_duration("P1DT12H"), LOCAL)
    # One day keeps 12:00 local (Sunday, now GMT), then twelve hours elapse.
    assert due == at(2026, 10, 26, 0, 0)


def test_a_reminder_in_hours_before_a_due_time_across_the_change() -> None:
    due = at(2026, 10, 25, 9, 0)  # Sunday, after the clocks went back at 02:00
    reminder = shift(due, parse_duration("PT12H").negated(), LOCAL)
    assert due.astimezone(UTC) - reminder.astimezone(UTC) == timedelta(hours=12)
    assert reminder == at(2026, 10, 24, 22, 0)


def test_shift_by_school_days_uses_the_calendar() -> None:
    assert shift(at(2026, 10, 19, 9, 0), parse_duration({"school_days": 10}), CAL) == at(
        2026, 11, 9, 9, 0
    )
    assert shift(at(2026, 11, 9, 9, 0), parse_duration({"school_days": 5}).negated(), CAL) == at(
        2026, 11, 2, 9, 0
    )


def test_shift_returns_local_time() -> None:
    result = shift(datetime(2026, 7, 1, 8, 0, tzinfo=UTC), parse_duration("P1D"), LOCAL)
    assert result.tzinfo is LONDON
    assert result == at(2026, 7, 2, 9, 0)


# --- stage plans --------------------------------------------------------------------------------


def test_plan_counted_from_stage_entry(template: Template) -> None:
    cycle = make_cycle(template, "self_review", stage_entered_at=at(2026, 10, 19, 9, 0))
    due = at(2026, 11, 2, 9, 0)
    assert plan_stage(template, cycle, "self_review", CAL) == (
        PlannedDeadline("due", "self_review", "due", due, due),
        PlannedDeadline(
            "reminder:0", "self_review", "reminder", at(2026, 10, 30, 9, 0), due, ("head", "plead")
        ),
        PlannedDeadline("expiry:0", "self_review", "notify", due, due, ("head",)),
        PlannedDeadline(
            "expiry:1", "self_review", "escalate", at(2026, 11, 9, 9, 0), due, ("plead",)
        ),
    )


def test_a_deadline_counted_from_a_cycle_date_waits_for_the_date(template: Template) -> None:
    cycle = make_cycle(template, "review")
    assert plan_stage(template, cycle, "review", CAL) == ()
    cycle.dates["visit_date"] = at(2026, 10, 20, 8, 30)
    planned = plan_stage(template, cycle, "review", CAL)
    due = at(2026, 10, 30, 8, 30)
    assert [(d.key, d.kind, d.at, d.stage_due_at) for d in planned] == [
        ("due", "due", due, due),
        ("reminder:0", "reminder", at(2026, 10, 27, 8, 30), due),
        ("expiry:0", "escalate", due, due),
    ]


def test_a_negative_due_from_a_date_falls_before_it() -> None:
    doc = full_template()
    doc["stages"][1]["deadline"] = {"due": "-P1D", "from": "visit_date", "reminders": ["P7D"]}
    template = build(doc)
    cycle = make_cycle(template, "review", dates={"visit_date": at(2026, 11, 3, 8, 30)})
    planned = plan_stage(template, cycle, "review", CAL)
    assert [(d.kind, d.at) for d in planned] == [
        ("due", at(2026, 11, 2, 8, 30)),
        ("reminder", at(2026, 10, 26, 8, 30)),
    ]


def test_a_plan_in_school_days_skips_half_term(template: Template) -> None:
    cycle = make_cycle(template, "workshop", stage_entered_at=at(2026, 10, 19, 9, 0))
    planned = plan_stage(template, cycle, "workshop", CAL)
    assert [(d.kind, d.at) for d in planned] == [("due", at(2026, 11, 9, 9, 0))]


def test_an_expiry_fire_rule_is_planned_with_its_transition(template: Template) -> None:
    cycle = make_cycle(template, "support", stage_entered_at=at(2026, 11, 2, 9, 0))
    planned = plan_stage(template, cycle, "support", CAL)
    fire = planned[-1]
    assert (fire.key, fire.kind, fire.transition) == ("expiry:0", "fire", "finish")
    assert fire.at == at(2026, 12, 7, 9, 0)  # P4W, then P7D after
    assert fire.stage_due_at == at(2026, 11, 30, 9, 0)


def test_a_stage_without_a_deadline_has_no_plan(template: Template) -> None:
    assert compile_stage(template, "closed") is None
    assert plan_stage(template, make_cycle(template, "closed"), "closed", CAL) == ()


def test_a_compiled_plan_sends_reminders_to_those_who_can_move_the_stage_on(
    template: Template,
) -> None:
    plan = compile_stage(template, "review")
    assert plan is not None
    assert plan.reminder_roles == ("rlead", "plead", "head")
    assert plan.anchor == "visit_date"
    assert [key for key, _ in plan.reminders] == ["reminder:0"]


# --- actions ------------------------------------------------------------------------------------


def action(due: date | None = date(2026, 11, 20), status: str | None = None) -> Action:
    return Action("a1", "Phonics training", "Deputy", due, "All staff trained", status)


@pytest.mark.parametrize(
    ("now", "due_soon", "overdue"),
    [
        (at(2026, 11, 6, 23, 59), False, False),  # fifteen days to go
        (at(2026, 11, 7, 0, 0), True, False),  # fourteen days before the end of the due day
        (at(2026, 11, 20, 23, 59), True, False),  # the due day itself
        (at(2026, 11, 21, 0, 0), False, True),  # the next day
        (at(2027, 1, 5, 9, 0), False, True),
    ],
)
def test_action_flags(now: datetime, due_soon: bool, overdue: bool) -> None:
    assert action_flags(action(), now, CAL) == (due_soon, overdue)


@pytest.mark.parametrize("status", [None, "not_started", "in_progress"])
def test_an_open_action_is_flagged(status: str | None) -> None:
    assert action_flags(action(status=status), at(2026, 11, 25, 9, 0), CAL) == (False, True)


@pytest.mark.parametrize("status", ["met", "partially_met", "not_met"])
def test_a_finished_action_is_never_flagged(status: str) -> None:
    assert action_flags(action(status=status), at(2026, 11, 25, 9, 0), CAL) == (False, False)
    assert action_flags(action(status=status), at(2026, 11, 19, 9, 0), CAL) == (False, False)
    assert action_deadlines(make_cycle(build(full_template())), action(status=status), CAL) == ()


def test_an_undated_action_is_never_flagged(template: Template) -> None:
    assert action_flags(action(due=None), NOW, CAL) == (False, False)
    assert action_deadlines(make_cycle(template), action(due=None), CAL) == ()


def test_action_deadlines(template: Template) -> None:
    cycle = make_cycle(template, "support")
    end = at(2026, 11, 21, 0, 0)
    assert action_deadlines(cycle, action(), CAL) == (
        PlannedDeadline(
            "action:a1:soon", "support", "action_due_soon", end - DUE_SOON, end, action_id="a1"
        ),
        PlannedDeadline("action:a1:overdue", "support", "action_overdue", end, end, action_id="a1"),
    )
    assert end - DUE_SOON == at(2026, 11, 7, 0, 0)
