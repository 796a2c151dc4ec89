"""The pure parts of deadlines and notifications: re-planning an action's deadlines, lateness
as people read it, backoff, and webhook signatures (no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from adapters.notify_webhook import sign, verify
from adapters.outbox import Backoff
from adapters.scheduler import human_delay
from engine.calendar import WeekdayCalendar
from engine.cycle import Action, Cycle
from engine.deadlines import action_deadlines, action_replan

LONDON = ZoneInfo("Europe/London")
CAL = WeekdayCalendar(LONDON)
T0 = datetime(2026, 9, 7, 8, 0, tzinfo=UTC)


def cycle_with(action: Action | None) -> Cycle:
    c = Cycle("c1", "spp", 1, "s1", "n1", "support", T0, T0)
    if action is not None:
        c.actions[action.id] = action
    return c


def stored(cycle: Cycle, status: str = "pending") -> list[tuple[int, str, datetime, str]]:
    planned = action_deadlines(cycle, cycle.actions["a1"], CAL)
    return [(i + 1, p.key, p.at, status) for i, p in enumerate(planned)]


def test_a_new_action_gets_its_two_moments() -> None:
    c = cycle_with(Action("a1", "Read", "p1", date(2026, 10, 16), ""))
    cancel, add = action_replan(c, "a1", [], CAL)
    assert cancel == []
    assert [(p.key, p.at) for p in add] == [
        ("action:a1:soon", datetime(2026, 10, 3, 0, 0, tzinfo=LONDON)),
        ("action:a1:overdue", datetime(2026, 10, 17, 0, 0, tzinfo=LONDON)),
    ]


def test_an_unchanged_due_date_keeps_the_rows_whatever_their_status() -> None:
    c = cycle_with(Action("a1", "Read", "p1", date(2026, 10, 16), ""))
    assert action_replan(c, "a1", stored(c, "fired"), CAL) == ([], [])
    assert action_replan(c, "a1", stored(c, "pending"), CAL) == ([], [])


def test_a_moved_due_date_replaces_only_pending_rows() -> None:
    c = cycle_with(Action("a1", "Read", "p1", date(2026, 10, 16), ""))
    rows = stored(c)
    rows[0] = (*rows[0][:3], "fired")  # "due soon" was already sent
    c.actions["a1"] = Action("a1", "Read", "p1", date(2026, 12, 4), "")
    cancel, add = action_replan(c, "a1", rows, CAL)
    assert cancel == [2], "the sent reminder stays as it was"
    assert [p.at.date() for p in add] == [date(2026, 11, 21), date(2026, 12, 5)]


@given(st.sampled_from(["met", "partially_met", "not_met"]))
def test_a_done_action_cancels_what_is_pending(status: str) -> None:
    c = cycle_with(Action("a1", "Read", "p1", date(2026, 10, 16), ""))
    rows = stored(c)
    c.actions["a1"] = Action("a1", "Read", "p1", date(2026, 10, 16), "", status=status)
    assert action_replan(c, "a1", rows, CAL) == ([1, 2], [])


def test_an_undated_or_missing_action_has_no_moments() -> None:
    undated = cycle_with(Action("a1", "Read", "p1", None, ""))
    assert action_replan(undated, "a1", [], CAL) == ([], [])
    assert action_replan(cycle_with(None), "a1", [(7, "action:a1:soon", T0, "pending")], CAL) == (
        [7],
        [],
    )


def test_lateness_reads_in_its_two_largest_units() -> None:
    assert human_delay(timedelta(seconds=0)) == "0 s"
    assert human_delay(timedelta(seconds=65)) == "1 min 5 s"
    assert human_delay(timedelta(hours=3, minutes=12, seconds=9)) == "3 h 12 min"
    assert human_delay(timedelta(days=28, hours=4, minutes=1)) == "28 d 4 h"
    assert human_delay(timedelta(days=2)) == "2 d"


def test_backoff_doubles_up_to_its_longest_wait() -> None:
    b = Backoff(first=timedelta(seconds=30), longest=timedelta(hours=6))
    assert [b.after(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert b.after(30) == timedelta(hours=6)


@given(st.binary(max_size=200), st.text(min_size=1, max_size=40))
def test_a_signature_verifies_only_with_its_secret_and_body(body: bytes, secret: str) -> None:
    ts = "1790000000"
    signature = sign(secret, ts, body)
    assert verify(secret, ts, body, signature)
    assert not verify(secret + "x", ts, body, signature)
    assert not verify(secret, "1790000001", body, signature)
    assert not verify(secret, ts, body + b"x", signature)
