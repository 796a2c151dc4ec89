"""When an action is done, and the default time zone: each defined once, and used everywhere."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest

from adapters.memory import InMemoryStore, InMemoryUnitOfWork
from adapters.scheduler import DeadlineSweeper
from adapters.sql_cycles import SqlCycleRepository
from engine.calendar import DEFAULT_TIMEZONE, WeekdayCalendar, default_calendar
from engine.cycle import ACTION_STATUSES, DONE_STATUSES, Action, Cycle
from engine.deadlines import action_deadlines, action_flags
from engine.requirements import evaluate
from engine.template import RequirementRef
from service.calendar_files import read_yaml
from tests.unit.helpers import NOW, build, full_template, make_cycle

STATUSES = [None, *ACTION_STATUSES]


def _action(status: str | None) -> Action:
    return Action("a1", "Phonics for all", "Deputy", date(2026, 9, 30), "Reads daily", status)


@pytest.mark.parametrize("status", STATUSES)
def test_an_action_is_done_once_the_follow_up_gives_its_verdict(status: str | None) -> None:
    assert _action(status).is_done == (status in ("met", "partially_met", "not_met"))


def test_the_done_statuses_are_follow_up_statuses() -> None:
    assert set(DONE_STATUSES) <= set(ACTION_STATUSES)
    assert [s for s in ACTION_STATUSES if s in DONE_STATUSES] == list(DONE_STATUSES)


@pytest.mark.parametrize("status", STATUSES)
def test_the_engine_agrees_on_done(status: str | None) -> None:
    template = build(full_template())
    cycle: Cycle = make_cycle(template)
    action = _action(status)
    cycle.actions[action.id] = action
    calendar = WeekdayCalendar(ZoneInfo(DEFAULT_TIMEZONE))
    # No reminders, no flags about a done action...
    assert (action_deadlines(cycle, action, calendar) == ()) == action.is_done
    late = NOW + timedelta(days=60)
    assert (action_flags(action, late, calendar) == (False, False)) == action.is_done
    # ...and a final follow-up needs every action done.
    final = evaluate(template, cycle, RequirementRef("actions_followed_up", {"final": True}))
    assert (final == []) == action.is_done


def test_the_default_time_zone_and_calendar() -> None:
    assert DEFAULT_TIMEZONE == "Europe/London"
    assert default_calendar() == WeekdayCalendar(ZoneInfo("Europe/London"))
    assert default_calendar() is default_calendar()


def test_the_adapters_default_to_it() -> None:
    london = ZoneInfo(DEFAULT_TIMEZONE)
    assert SqlCycleRepository(cast(Any, None)).calendars.for_network("any") is default_calendar()
    with InMemoryUnitOfWork(InMemoryStore()) as uow:
        assert uow.cycles.calendars.for_network(None) is default_calendar()
    sweeper = DeadlineSweeper(
        cast(Any, None), cast(Any, None), lambda: datetime.now(london), move=cast(Any, None)
    )
    assert sweeper.tz == london
    assert read_yaml("terms: []\n").tz == london
