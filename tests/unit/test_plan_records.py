"""The action plan's records: the finding an action answers, the range of its due date, and
support activities stamped with when and by whom they were logged."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from engine import records
from engine.cycle import Action, Cycle, SupportActivity, SupportLink
from engine.errors import InvalidRecord, NotCollectedHere
from engine.template import Template
from tests.unit.helpers import LONDON, NOW, build, make_cycle
from tests.unit.test_records import REC, records_template


@pytest.fixture(scope="module")
def template() -> Template:
    return build(records_template())


@pytest.fixture
def cycle(template: Template) -> Cycle:
    c = make_cycle(template, "open")
    records.add_finding(template, c, REC, "f1", "ebi", "Feedback is not acted on", "q1", NOW)
    return c


def save(t: Template, c: Cycle, finding: str | None, due: date | None = None) -> None:
    records.save_action(t, c, REC, "a1", "Feedback policy", "p9", due, "", NOW, finding_id=finding)


def test_an_action_answers_a_finding_of_its_cycle(template: Template, cycle: Cycle) -> None:
    save(template, cycle, "f1")
    assert cycle.actions["a1"].finding_id == "f1"
    # Changing the action changes its finding (none now), and keeps its follow-up.
    records.set_action_status(template, cycle, REC, "a1", "in_progress", "Started", NOW)
    save(template, cycle, None)
    a = cycle.actions["a1"]
    assert (a.finding_id, a.status, a.status_note) == (None, "in_progress", "Started")


@pytest.mark.parametrize("finding", ["f9", "", "F1"])
def test_a_finding_of_no_finding_of_the_cycle_is_refused(
    template: Template, cycle: Cycle, finding: str
) -> None:
    version = cycle.version
    with pytest.raises(InvalidRecord) as caught:
        save(template, cycle, finding)
    assert caught.value.field == "finding_id"
    assert caught.value.detail == f"this cycle has no finding {finding!r}"
    assert (cycle.actions, cycle.version) == ({}, version)


def test_a_finding_of_another_cycle_is_refused(template: Template, cycle: Cycle) -> None:
    other = make_cycle(template, "open", id="c2")
    records.add_finding(template, other, REC, "f2", "www", "Leaders know the school", None, NOW)
    with pytest.raises(InvalidRecord) as caught:
        save(template, cycle, "f2")
    assert caught.value.field == "finding_id"
    assert "a1" not in cycle.actions


def test_the_stage_is_checked_before_the_finding(template: Template) -> None:
    quiet = make_cycle(template, "quiet")
    with pytest.raises(NotCollectedHere):
        save(template, quiet, "f9")


def test_actions_made_before_findings_were_linked_answer_none() -> None:
    assert Action("a1", "Phonics", "Deputy", None, "").finding_id is None


@pytest.mark.parametrize(
    ("due", "ok"),
    [
        (NOW.date(), True),
        (NOW.date().replace(year=NOW.year + 10), True),
        (NOW.date().replace(year=NOW.year - 10), True),
        (NOW.date().replace(year=NOW.year + 10) + timedelta(days=1), False),
        (NOW.date().replace(year=NOW.year - 10) - timedelta(days=1), False),
        (date(9999, 12, 31), False),
        (date(1, 1, 1), False),
    ],
)
def test_a_due_date_is_within_ten_years_of_today(
    template: Template, cycle: Cycle, due: date, ok: bool
) -> None:
    if ok:
        save(template, cycle, None, due)
        assert cycle.actions["a1"].due == due
        return
    with pytest.raises(InvalidRecord) as caught:
        save(template, cycle, None, due)
    assert (caught.value.field, caught.value.detail) == ("due", "must be within 10 years of today")
    assert cycle.actions == {}


def test_ten_years_from_29_february_is_28_february(template: Template) -> None:
    leap = make_cycle(template, "open")
    now = datetime(2028, 2, 29, 9, 0, tzinfo=LONDON)
    records.save_action(template, leap, REC, "a1", "Phonics", "", date(2038, 2, 28), "", now)
    with pytest.raises(InvalidRecord):
        records.save_action(template, leap, REC, "a2", "Phonics", "", date(2038, 3, 1), "", now)


def test_support_activities_are_stamped_with_when_and_by_whom(
    template: Template, cycle: Cycle
) -> None:
    records.add_support_link(template, cycle, REC, "l1", "s2", "Phonics", NOW)
    later = NOW + timedelta(days=7)
    records.log_support_activity(template, cycle, REC, "l1", "Visit", NOW)
    records.log_support_activity(template, cycle, REC, "l1", " Joint INSET ", later)
    link = cycle.support["l1"]
    assert link.activities == ("Visit", "Joint INSET")
    assert link.log == (
        SupportActivity("Visit", NOW, "p1"),
        SupportActivity("Joint INSET", later, "p1"),
    )


def test_activities_logged_before_stamps_were_kept_read_as_undated(
    template: Template, cycle: Cycle
) -> None:
    cycle.support["l1"] = SupportLink("l1", "s2", "Phonics", ("Visit", "Moderation"))
    assert cycle.support["l1"].log == (SupportActivity("Visit"), SupportActivity("Moderation"))
    # A new one is stamped; the old ones stay undated, in their places.
    records.log_support_activity(template, cycle, REC, "l1", "Book look", NOW)
    link = cycle.support["l1"]
    assert link.logged == (None, None, (NOW, "p1"))
    assert [(a.text, a.at) for a in link.log] == [
        ("Visit", None),
        ("Moderation", None),
        ("Book look", NOW),
    ]
    # Equality is about what was done: a link read back without its stamps is the same link.
    assert link == SupportLink("l1", "s2", "Phonics", ("Visit", "Moderation", "Book look"))
