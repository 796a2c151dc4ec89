"""Moving a cycle to a newer version (`engine.migration`), Hypothesis first: for any valid
template and a next version that changes its deadlines and requirements, the preview names
exactly the deadlines of the stage before and after (kept only when the same), exactly the
requirements added and dropped on the moves out, and the move then plans exactly what the
preview showed; and what the new version has no place for stops the move, named."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.calendar import default_calendar
from engine.cycle import Cycle, Evidence, Finding, Judgement
from engine.deadlines import plan_stage
from engine.events import DeadlinesCancelled, DeadlinesScheduled, RecordChanged
from engine.migration import _written, migrate, plan_migration
from engine.template import Template
from engine.validation import build_template
from tests.unit.helpers import NOW, build, full_template
from tests.unit.strategies import iso_durations, valid_templates

WEEKDAYS = default_calendar()


def _next_version(draw: st.DrawFn, doc: dict) -> dict:  # type: ignore[type-arg]
    """The same template, one version on, with some deadlines and requirements changed."""
    new = copy.deepcopy(doc)
    new["version"] = doc["version"] + 1
    for stage in new["stages"]:
        deadline = stage.get("deadline")
        if deadline is None:
            continue
        change = draw(st.sampled_from(["keep", "drop", "due"]))
        if change == "drop":
            del stage["deadline"]
        elif change == "due" and deadline.get("from") in (None, "stage_entry"):
            deadline["due"] = draw(iso_durations())
    for tr in new["transitions"]:
        if tr.get("requires") and draw(st.booleans()):
            tr["requires"] = tr["requires"][1:]
    return new


@st.composite
def _versions(draw: st.DrawFn) -> tuple[Template, Template, str, timedelta]:
    doc = draw(valid_templates())
    old = build_template(doc)
    new = build_template(_next_version(draw, doc))
    stage = draw(st.sampled_from([s.id for s in old.stages if not s.terminal]))
    since = timedelta(days=draw(st.integers(0, 60)))
    return old, new, stage, since


def _refs(t: Template, stage: str) -> set[tuple[str, str]]:
    return {(tr.id, _written(r)) for tr in t.transitions_from(stage) for r in tr.requirements}


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(_versions())
def test_the_preview_says_exactly_what_the_move_does(
    case: tuple[Template, Template, str, timedelta],
) -> None:
    old, new, stage, since = case
    cycle = Cycle("c1", old.id, old.version, "s1", None, stage, NOW, NOW)
    now = NOW + since
    plan = plan_migration(cycle, old, new, now, WEEKDAYS)
    assert plan.ok, plan.blockers  # nothing recorded, same questions: nothing stops it

    before = {(d.kind, d.key): d.at for d in plan_stage(old, cycle, stage, WEEKDAYS)}
    moved = Cycle("c1", new.id, new.version, "s1", None, stage, NOW, NOW)
    after = {(d.kind, d.key): d.at for d in plan_stage(new, moved, stage, WEEKDAYS)}
    assert {(d.kind, d.key): d.before for d in plan.deadlines if d.before} == before
    assert {(d.kind, d.key): d.after for d in plan.deadlines if d.after} == after
    for d in plan.deadlines:
        assert (d.change == "kept") == (d.before is not None and d.before == d.after)
        assert (d.change == "added") == (d.before is None)
        assert (d.change == "dropped") == (d.after is None)

    added = {(r.transition, r.requirement) for r in plan.requirements if r.change == "added"}
    dropped = {(r.transition, r.requirement) for r in plan.requirements if r.change == "dropped"}
    assert added == _refs(new, stage) - _refs(old, stage)
    assert dropped == _refs(old, stage) - _refs(new, stage)

    events = migrate(plan, cycle, new, "p-admin", "Agreed by the partnership", now, WEEKDAYS)
    assert (cycle.template_version, cycle.stage, cycle.version) == (new.version, stage, 2)
    assert cycle.stage_entered_at == NOW  # deadlines still count from entering the stage
    recorded, cancelled, scheduled = events
    assert isinstance(recorded, RecordChanged) and recorded.role == "admin"
    assert "Agreed by the partnership" in recorded.note
    assert isinstance(cancelled, DeadlinesCancelled) and cancelled.stage == stage
    assert isinstance(scheduled, DeadlinesScheduled)
    planned = {(d.kind, d.key): d.at for d in scheduled.deadlines}
    # What the preview showed after the move, less the reminders already past (not sent).
    assert planned == {k: at for k, at in after.items() if not (k[0] == "reminder" and at <= now)}


def test_what_the_new_version_has_no_place_for_stops_the_move_named() -> None:
    old = build(full_template())
    doc = full_template()
    doc["version"] = old.version + 1
    first_q = old.framework.questions[0].id
    doc["framework"]["sections"][0]["questions"][0]["id"] = "renamed.question"
    doc["finding_kinds"] = ["strength"]
    new = build(doc)
    cycle = Cycle("c1", old.id, old.version, "s1", None, old.initial_stage.id, NOW, NOW)
    cycle.evidence["e1"] = Evidence("e1", first_q, "Minutes", "p1", NOW)
    cycle.evidence["e2"] = Evidence("e2", first_q, "Data", "p1", NOW)
    cycle.judgements[("self", first_q, None)] = Judgement(
        "self", first_q, "Secure", None, "p1", NOW
    )
    cycle.findings["f1"] = Finding("f1", "area_to_develop", "Reading", None, "p1", NOW)
    plan = plan_migration(cycle, old, new, NOW, WEEKDAYS)
    assert plan.blockers == (
        f"version {new.version} has no question {first_q!r}, which holds 2 piece(s) of "
        "evidence, a self judgement",
        f"version {new.version} has no finding kind 'area_to_develop', which findings have",
    )
    with pytest.raises(ValueError, match="cannot be moved"):
        migrate(plan, cycle, new, "p-admin", "reason", NOW, WEEKDAYS)
    assert cycle.template_version == old.version  # untouched

    same = plan_migration(cycle, old, old, NOW, WEEKDAYS)
    assert f"version {old.version} is not newer than version {old.version}" in same.blockers[0]
