"""A person's ICS feed: their cycles' stage due times and the open actions they own or lead."""

from __future__ import annotations

from datetime import date, timedelta

import icalendar
import pytest
from sqlalchemy.engine import Engine

from adapters.ics_feed import person_feed
from engine.errors import NotFound
from tests.integration.test_deadlines_sweep import (
    LEAD,
    LONDON,
    World,
    at_workshop_with_action,
    make_world,
    set_status,
)


@pytest.fixture
def w(sqlite_engine: Engine) -> World:
    return make_world(sqlite_engine)


def feed(w: World, person_id: str) -> list[icalendar.Event]:
    with w.engine.connect() as conn:
        # A school's leads are who the template lets decide who reads its report: the head.
        leads = w.app.template("spp-cycle", 1).roles_that("share_report")
        data = person_feed(conn, person_id, w.clock.now(), LONDON, leads=leads)
    cal = icalendar.Calendar.from_ical(data)
    return list(cal.walk("VEVENT"))


def summaries(events: list[icalendar.Event]) -> list[str]:
    return sorted(str(e["SUMMARY"]) for e in events)


def test_the_feed_holds_stage_due_times_and_open_actions(w: World) -> None:
    cycle = at_workshop_with_action(w, "p_dep", date(2026, 10, 16))
    owner = feed(w, "p_dep")
    assert summaries(owner) == ["Action due: Raise reading (School A)"]
    (action,) = owner
    assert action["DTSTART"].dt == date(2026, 10, 16)
    assert str(action["UID"]) == f"action-{cycle.id}-a1@peerloop"

    head = summaries(feed(w, "p_head_a"))  # the school's head: its stage and its actions
    assert head == [
        "Action due: Raise reading (School A)",
        "Improvement workshop and agreed actions due: School A",
    ]
    chair = feed(w, "p_chair")  # the NLC chair: the network's stages, not its actions
    assert summaries(chair) == ["Improvement workshop and agreed actions due: School A"]
    assert chair[0]["DTSTART"].dt.tzinfo is not None

    w.to_stage(cycle.id, "agree_actions")
    set_status(w, cycle.id, "met")
    assert feed(w, "p_dep") == [], "a done action leaves the feed"
    assert summaries(feed(w, "p_head_a")) == ["School-to-school support due: School A"], (
        "so does a left stage"
    )


def test_uids_are_stable_so_calendars_update_in_place(w: World) -> None:
    w.app.start_cycle("spp-cycle", "s_a", LEAD)
    first = [(str(e["UID"]), e["DTSTART"].dt) for e in feed(w, "p_head_a")]
    w.clock.advance(timedelta(days=1))
    assert [(str(e["UID"]), e["DTSTART"].dt) for e in feed(w, "p_head_a")] == first


def test_an_unknown_person_has_no_feed(w: World) -> None:
    with pytest.raises(NotFound):
        feed(w, "nobody")
