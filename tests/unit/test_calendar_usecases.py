"""School calendars through the use cases: an admin sets a network's terms, everyone may read
them, and the deadlines planned from then on count that network's school days."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine.errors import AccessDenied, InvalidRecord, NotFound
from service.usecases.messages import (
    ImportNetworkCalendar,
    NetworkCalendar,
    NetworkCalendars,
    RemoveNetworkCalendar,
    SetNetworkCalendar,
    StartCycle,
)
from tests.unit.test_usecases import world

__all__ = ["world"]

LONDON = ZoneInfo("Europe/London")
AUTUMN = (
    ("Autumn 1", date(2026, 9, 3), date(2026, 10, 23)),
    ("Autumn 2", date(2026, 11, 2), date(2026, 12, 18)),
)
HALF_TERM_ICS = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Example School//Term dates//EN
BEGIN:VEVENT
UID:t1@example.org
DTSTART;VALUE=DATE:20260903
DTEND;VALUE=DATE:20261219
SUMMARY:Autumn term
END:VEVENT
BEGIN:VEVENT
UID:h1@example.org
DTSTART;VALUE=DATE:20261026
DTEND;VALUE=DATE:20261031
SUMMARY:Autumn half-term
END:VEVENT
BEGIN:VEVENT
UID:i1@example.org
DTSTART;VALUE=DATE:20260903
DTEND;VALUE=DATE:20260904
SUMMARY:INSET day
END:VEVENT
BEGIN:VEVENT
UID:p1@example.org
DTSTART;VALUE=DATE:20261112
DTEND;VALUE=DATE:20261113
SUMMARY:Parents' evening
END:VEVENT
END:VCALENDAR
"""


def _workshop_due(uc: Any, who: dict[str, Any]) -> datetime:
    """When a workshop entered on Monday 19 October 2026 falls due (15 school days) in n1."""
    cycle = uc.handle(StartCycle("spp-cycle", "s-h"), who["pl"]).context.cycle
    entered = datetime(2026, 10, 19, 9, 0, tzinfo=LONDON)
    with uc.core.uow(readonly=True) as uow:
        machine = uc.core.registry.machine(uow, cycle.template_id, cycle.template_version)
    workshop = dataclasses.replace(cycle, stage="improvement_workshop", stage_entered_at=entered)
    (due,) = [d.at for d in machine.deadlines(workshop) if d.kind == "due"]
    return due


def test_a_networks_terms_count_for_its_cycles_from_the_moment_they_are_set(world: Any) -> None:
    uc, _, who = world
    # Weekdays only: fifteen school days from 19 October is 9 November.
    assert _workshop_due(uc, who).date() == date(2026, 11, 9)
    view = uc.handle(SetNetworkCalendar("n1", AUTUMN), who["admin"])
    assert view.source == "own" and [t.school_days for t in view.terms] == [37, 35]
    # The same machine, already built, now skips half-term week.
    assert _workshop_due(uc, who).date() == date(2026, 11, 16)
    assert uc.handle(NetworkCalendar("n1"), who["head"]).school_days == 72
    # Removed: the network counts the partnership's default again (here, weekdays).
    assert uc.handle(RemoveNetworkCalendar("n1"), who["admin"]).source == "weekdays"
    assert _workshop_due(uc, who).date() == date(2026, 11, 9)


def test_only_an_admin_changes_a_calendar_and_a_refusal_keeps_the_old_one(world: Any) -> None:
    uc, _, who = world
    uc.handle(SetNetworkCalendar("n1", AUTUMN), who["admin"])
    with pytest.raises(AccessDenied):
        uc.handle(SetNetworkCalendar("n1", AUTUMN[:1]), who["pl"])
    with pytest.raises(AccessDenied):
        uc.handle(RemoveNetworkCalendar("n1"), who["head"])
    overlapping = (*AUTUMN, ("Spring 1", date(2026, 12, 14), date(2027, 2, 12)))
    with pytest.raises(InvalidRecord) as refused:
        uc.handle(SetNetworkCalendar("n1", overlapping), who["admin"])
    assert refused.value.field == "terms[2].first"
    assert "Spring 1 starts on 14 December 2026, before Autumn 2 ends" in str(refused.value)
    backwards = (("Autumn 1", date(2026, 10, 23), date(2026, 9, 3)),)
    with pytest.raises(InvalidRecord, match="ends before it starts"):
        uc.handle(SetNetworkCalendar("n1", backwards), who["admin"])
    with pytest.raises(InvalidRecord, match="at least one term"):
        uc.handle(SetNetworkCalendar("n1", ()), who["admin"])
    with pytest.raises(NotFound):
        uc.handle(SetNetworkCalendar("n-missing", AUTUMN), who["admin"])
    assert [t.name for t in uc.handle(NetworkCalendar("n1"), who["pl"]).terms] == [
        "Autumn 1",
        "Autumn 2",
    ]


def test_an_ics_file_is_previewed_then_imported(world: Any) -> None:
    uc, _, who = world
    preview = uc.handle(ImportNetworkCalendar("n1", HALF_TERM_ICS, "terms.ics"), who["admin"])
    ((term,),) = [preview.terms]
    assert (term.name, term.first, term.last) == (
        "Autumn term",
        date(2026, 9, 3),
        date(2026, 12, 18),
    )
    # 77 weekdays, less the INSET day and the half-term week; the parents' evening is no closure.
    assert term.school_days == 71
    assert [(c.name, c.first, c.last, c.school_days_lost) for c in term.closures] == [
        ("INSET day", date(2026, 9, 3), date(2026, 9, 3), 1),
        ("Autumn half-term", date(2026, 10, 26), date(2026, 10, 30), 5),
    ]
    # A preview stores nothing.
    assert uc.handle(NetworkCalendar("n1"), who["admin"]).source == "weekdays"
    uc.handle(ImportNetworkCalendar("n1", HALF_TERM_ICS, "terms.ics", dry_run=False), who["admin"])
    lines = {line.network_id: line for line in uc.handle(NetworkCalendars(), who["head"])}
    assert lines["n1"].source == "own" and lines["n1"].school_days_this_year == 71
    assert lines[None].source == "weekdays"
    with pytest.raises(InvalidRecord, match="no term dates"):
        uc.handle(
            ImportNetworkCalendar(
                "n1", HALF_TERM_ICS.replace(b"Autumn term", b"Open day"), "x.ics"
            ),
            who["admin"],
        )
    with pytest.raises(AccessDenied):
        uc.handle(ImportNetworkCalendar("n1", HALF_TERM_ICS, "terms.ics"), who["pl"])
