"""The workflow machine: what may be fired and why not, typed errors, forced and automatic moves."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta

import pytest

from engine.cycle import (
    Action,
    Actor,
    Cycle,
    Evidence,
    Finding,
    Judgement,
    Member,
    SignOff,
    SupportLink,
)
from engine.deadlines import PlannedDeadline
from engine.errors import (
    CycleClosed,
    ForceNotAllowed,
    RequirementsUnmet,
    RoleNotAllowed,
    TransitionNotAvailable,
    UnknownTransition,
)
from engine.events import (
    CycleStarted,
    DeadlinesCancelled,
    DeadlinesScheduled,
    RecordChanged,
    TransitionFired,
)
from engine.integrity import record_digest
from engine.machine import Option, WorkflowMachine, payload_digest
from engine.requirements import Reason
from tests.unit.helpers import (
    LONDON,
    NOW,
    Q1_TEXT,
    actor,
    autumn_2026_calendar,
    build,
    full_template,
    make_cycle,
)

HEAD = actor("head", person="h1", school="host")
STAFF = actor("staff", person="t1", school="host")
PLEAD = actor("plead", person="pl1")
RLEAD = actor("rlead", person="r1", school="s1")
CHAMPION = actor("champion", person="c1", school="s9")
ADMIN = actor("admin", person="root")
SYSTEM = actor(person="system:scheduler")
LATER = NOW + timedelta(days=3)


@pytest.fixture(scope="module")
def machine() -> WorkflowMachine:
    return WorkflowMachine(build(full_template()), autumn_2026_calendar())


def started(machine: WorkflowMachine) -> Cycle:
    cycle, _ = machine.start("c1", "host", "nlc1", HEAD, NOW)
    return cycle


def self_review_done(cycle: Cycle) -> Cycle:
    for qid in ("q1", "q2"):
        cycle.judgements[("self", qid, None)] = Judgement(
            "self", qid, "We think...", None, "h1", NOW
        )
        cycle.evidence[f"e-{qid}"] = Evidence(f"e-{qid}", qid, "Data pack", "h1", NOW)
    cycle.focus = ("Reading in key stage 2",)
    return cycle


def by_id(options: list[Option]) -> dict[str, Option]:
    return {o.transition: o for o in options}


# --- starting -----------------------------------------------------------------------------------


def test_start_puts_the_cycle_in_the_initial_stage_and_plans_its_deadlines(
    machine: WorkflowMachine,
) -> None:
    cycle, events = machine.start("c1", "host", "nlc1", HEAD, NOW)
    assert (cycle.stage, cycle.version, cycle.stage_entered_at) == ("self_review", 1, NOW)
    assert (cycle.template_id, cycle.template_version) == ("full", 3)
    due = datetime(2026, 9, 21, 9, 0, tzinfo=LONDON)
    assert events == [
        CycleStarted("c1", "full@3", "self_review", "h1", NOW),
        DeadlinesScheduled(
            "c1",
            "self_review",
            (
                PlannedDeadline("due", "self_review", "due", due, due),
                PlannedDeadline(
                    "reminder:0",
                    "self_review",
                    "reminder",
                    datetime(2026, 9, 18, 9, 0, tzinfo=LONDON),
                    due,
                    ("head", "plead"),
                ),
                PlannedDeadline("expiry:0", "self_review", "notify", due, due, ("head",)),
                PlannedDeadline(
                    "expiry:1",
                    "self_review",
                    "escalate",
                    datetime(2026, 9, 28, 9, 0, tzinfo=LONDON),
                    due,
                    ("plead",),
                ),
            ),
        ),
    ]


def test_start_keeps_dates_given_up_front(machine: WorkflowMachine) -> None:
    visit = datetime(2026, 10, 5, 8, 30, tzinfo=LONDON)
    cycle, _ = machine.start("c1", "host", None, HEAD, NOW, dates={"visit_date": visit})
    assert cycle.dates == {"visit_date": visit}
    assert cycle.network_id is None


# --- available ----------------------------------------------------------------------------------


def test_available_lists_every_reason_a_move_is_blocked(machine: WorkflowMachine) -> None:
    options = by_id(machine.available(started(machine), STAFF))
    assert set(options) == {"submit", "withdraw"}
    submit = options["submit"]
    assert (submit.title, submit.to_stage, submit.allowed, submit.forceable) == (
        "Submit the self-review",
        "review",
        False,
        False,
    )
    assert [r.code for r in submit.reasons] == [
        "role_not_allowed",
        "self_judgements_complete",
        "self_judgements_complete",
        "evidence_per_question",
        "evidence_per_question",
        "focus_chosen",
    ]
    assert submit.reasons[0] == Reason("role_not_allowed", "only the Host headteacher may do this")
    assert submit.reasons[1].message == f'question q1 ("{Q1_TEXT}") has no self-judgement yet'
    assert submit.reasons[5].message == (
        "the host school has chosen 0 line(s) of enquiry; at least 1 are needed"
    )
    assert options["withdraw"].reasons == (
        Reason("role_not_allowed", "only the Host headteacher or Partnership lead may do this"),
    )


def test_available_for_someone_with_the_role_shows_only_unmet_requirements(
    machine: WorkflowMachine,
) -> None:
    cycle = started(machine)
    cycle.focus = ("Reading",)
    options = by_id(machine.available(cycle, HEAD))
    assert [r.code for r in options["submit"].reasons] == [
        "self_judgements_complete",
        "self_judgements_complete",
        "evidence_per_question",
        "evidence_per_question",
    ]
    withdraw = options["withdraw"]
    assert (withdraw.allowed, withdraw.reasons, withdraw.forceable) == (True, (), False)


def test_available_once_everything_is_done(machine: WorkflowMachine) -> None:
    options = by_id(machine.available(self_review_done(started(machine)), HEAD))
    assert options["submit"].allowed and options["submit"].reasons == ()


def test_an_admin_sees_blocked_moves_as_forceable(machine: WorkflowMachine) -> None:
    options = by_id(machine.available(started(machine), ADMIN))
    assert options["submit"].forceable and not options["submit"].allowed
    assert options["submit"].reasons[0].code == "role_not_allowed"


def test_nothing_is_available_in_a_terminal_stage(machine: WorkflowMachine) -> None:
    cycle = make_cycle(machine.template, "closed")
    assert machine.available(cycle, ADMIN) == []
    assert machine.is_terminal(cycle)


# --- fire: the typed errors ---------------------------------------------------------------------


def test_fire_an_unknown_transition(machine: WorkflowMachine) -> None:
    with pytest.raises(UnknownTransition) as caught:
        machine.fire(started(machine), "submitt", HEAD, LATER)
    assert (caught.value.transition, caught.value.template) == ("submitt", "full@3")
    assert "template 'full@3' has no transition 'submitt'" in str(caught.value)


def test_fire_a_transition_from_another_stage(machine: WorkflowMachine) -> None:
    cycle = started(machine)
    with pytest.raises(TransitionNotAvailable) as caught:
        machine.fire(cycle, "agree", CHAMPION, LATER)
    assert (caught.value.cycle_id, caught.value.transition, caught.value.stage) == (
        "c1",
        "agree",
        "self_review",
    )
    assert (cycle.stage, cycle.version) == ("self_review", 1)


def test_fire_in_a_closed_cycle(machine: WorkflowMachine) -> None:
    cycle = started(machine)
    machine.fire(cycle, "withdraw", HEAD, LATER)
    with pytest.raises(CycleClosed) as caught:
        machine.fire(cycle, "submit", HEAD, LATER)
    assert (caught.value.cycle_id, caught.value.stage) == ("c1", "withdrawn")
    with pytest.raises(CycleClosed):
        machine.fire(cycle, "withdraw", ADMIN, LATER, force_reason="Try again")


def test_fire_without_the_role(machine: WorkflowMachine) -> None:
    cycle = self_review_done(started(machine))
    with pytest.raises(RoleNotAllowed) as caught:
        machine.fire(cycle, "submit", STAFF, LATER)
    assert (caught.value.action, caught.value.roles, caught.value.allowed) == (
        "submit",
        ["staff"],
        ["head"],
    )
    assert "needs one of the roles head; you hold staff" in str(caught.value)
    assert (cycle.stage, cycle.version) == ("self_review", 1)


def test_an_admin_without_a_reason_is_held_to_the_roles(machine: WorkflowMachine) -> None:
    with pytest.raises(RoleNotAllowed):
        machine.fire(self_review_done(started(machine)), "submit", ADMIN, LATER)


def test_fire_with_requirements_unmet_gives_every_reason(machine: WorkflowMachine) -> None:
    cycle = started(machine)
    cycle.judgements[("self", "q1", None)] = Judgement("self", "q1", "Good", None, "h1", NOW)
    with pytest.raises(RequirementsUnmet) as caught:
        machine.fire(cycle, "submit", HEAD, LATER)
    assert caught.value.transition == "submit"
    assert [r.code for r in caught.value.reasons] == [
        "self_judgements_complete",
        "evidence_per_question",
        "evidence_per_question",
        "focus_chosen",
    ]
    assert str(caught.value).startswith("'submit' is blocked: question q2")
    assert str(caught.value).count(";") >= 3
    assert (cycle.stage, cycle.version, cycle.stage_entered_at) == ("self_review", 1, NOW)


def test_only_an_admin_may_force(machine: WorkflowMachine) -> None:
    with pytest.raises(ForceNotAllowed) as caught:
        machine.fire(started(machine), "submit", HEAD, LATER, force_reason="In a hurry")
    assert caught.value.detail == "only an admin may force a move"
    assert caught.value.transition == "submit"


@pytest.mark.parametrize("reason", ["", "   \n"])
def test_a_forced_move_needs_a_reason(machine: WorkflowMachine, reason: str) -> None:
    cycle = started(machine)
    with pytest.raises(ForceNotAllowed) as caught:
        machine.fire(cycle, "submit", ADMIN, LATER, force_reason=reason)
    assert caught.value.detail == "a forced move needs a reason"
    assert cycle.stage == "self_review"


# --- fire: moving -------------------------------------------------------------------------------


def test_fire_moves_bumps_the_version_and_returns_the_events(machine: WorkflowMachine) -> None:
    cycle = self_review_done(started(machine))
    events = machine.fire(cycle, "submit", HEAD, LATER, {"note": "Over to you"})
    assert (cycle.stage, cycle.version, cycle.stage_entered_at) == ("review", 2, LATER)
    fired, cancelled, scheduled = events
    assert isinstance(fired, TransitionFired)
    assert fired._replace(payload={}) == TransitionFired(
        cycle_id="c1",
        transition="submit",
        from_stage="self_review",
        to_stage="review",
        actor="h1",
        role="head",
        at=LATER,
        version=2,
        payload={},
        payload_digest=payload_digest({"note": "Over to you"}),
        forced=False,
        reason="",
    )
    assert dict(fired.payload) == {"note": "Over to you"}
    assert cancelled == DeadlinesCancelled("c1", "self_review", LATER)
    # The review deadline counts from the visit date, which is not set yet: nothing is planned.
    assert scheduled == DeadlinesScheduled("c1", "review", ())


def test_entering_a_stage_counted_from_a_set_date_plans_it(machine: WorkflowMachine) -> None:
    cycle = self_review_done(started(machine))
    cycle.dates["visit_date"] = datetime(2026, 10, 5, 8, 30, tzinfo=LONDON)
    scheduled = machine.fire(cycle, "submit", HEAD, LATER)[-1]
    assert isinstance(scheduled, DeadlinesScheduled)
    due = datetime(2026, 10, 15, 8, 30, tzinfo=LONDON)
    assert [(d.key, d.kind, d.at) for d in scheduled.deadlines] == [
        ("due", "due", due),
        ("reminder:0", "reminder", datetime(2026, 10, 12, 8, 30, tzinfo=LONDON)),
        ("expiry:0", "escalate", due),
    ]
    assert scheduled.deadlines[1].roles == ("rlead", "plead", "head")  # who can move it on


def test_the_role_recorded_is_the_one_that_allowed_the_move(machine: WorkflowMachine) -> None:
    cycle = started(machine)
    both = Actor("p9", frozenset({"plead", "head"}))
    fired = machine.fire(cycle, "withdraw", both, LATER)[0]
    assert isinstance(fired, TransitionFired)
    assert fired.role == "head"  # the first of the transition's roles the actor holds


def test_a_forced_move_is_recorded_as_forced_with_its_reason(machine: WorkflowMachine) -> None:
    cycle = started(machine)
    events = machine.fire(
        cycle, "submit", ADMIN, LATER, force_reason="  Head on long-term leave; agreed by NLC  "
    )
    fired = events[0]
    assert isinstance(fired, TransitionFired)
    assert (fired.forced, fired.reason, fired.role, fired.actor) == (
        True,
        "Head on long-term leave; agreed by NLC",
        "admin",
        "root",
    )
    assert (cycle.stage, cycle.version) == ("review", 2)
    assert isinstance(events[-1], DeadlinesScheduled)


def test_every_move_bumps_the_version_by_one(machine: WorkflowMachine) -> None:
    cycle = self_review_done(started(machine))
    machine.fire(cycle, "submit", HEAD, LATER)
    machine.fire(cycle, "send_back", PLEAD, LATER)
    machine.fire(cycle, "submit", HEAD, LATER)
    assert (cycle.stage, cycle.version) == ("review", 4)


def test_coming_back_to_a_stage_clears_its_sign_offs(machine: WorkflowMachine) -> None:
    cycle = make_cycle(machine.template, "review", version=7)
    cycle.signoffs[("self_review", "head", None)] = SignOff("self_review", "head", "h1", NOW)
    cycle.signoffs[("workshop", "head", None)] = SignOff("workshop", "head", "h1", NOW)
    events = machine.fire(cycle, "send_back", RLEAD, LATER)
    assert events[1] == RecordChanged(
        "c1",
        "signoff",
        "self_review:head",
        "removed",
        "r1",
        LATER,
        8,
        note="the cycle came back to this stage",
        role="rlead",
        digest=record_digest(None),  # the sign-off is no more
    )
    assert list(cycle.signoffs) == [("workshop", "head", None)]
    assert [type(e) for e in events] == [
        TransitionFired,
        RecordChanged,
        DeadlinesCancelled,
        DeadlinesScheduled,
    ]


def test_entering_the_workshop_counts_school_days_across_half_term(
    machine: WorkflowMachine,
) -> None:
    cycle = make_cycle(machine.template, "review")
    cycle.team = {
        "r1": Member("r1", "review_lead", "s1", "nlc2"),
        "r2": Member("r2", "reviewer", "s2", "nlc2"),
    }
    cycle.dates["visit_date"] = datetime(2026, 10, 13, 8, 30, tzinfo=LONDON)
    cycle.findings["f1"] = Finding("f1", "strength", "Reading culture", None, "r1", NOW)
    monday = datetime(2026, 10, 19, 9, 0, tzinfo=LONDON)
    scheduled = machine.fire(cycle, "complete_review", RLEAD, monday)[-1]
    assert isinstance(scheduled, DeadlinesScheduled)
    # Ten school days from Monday 19 October: four before half-term, five in the first week
    # back, and Monday 9 November; still 09:00 although the clocks went back on 25 October.
    assert [d.at for d in scheduled.deadlines] == [datetime(2026, 11, 9, 9, 0, tzinfo=LONDON)]


def test_payload_digest_is_canonical() -> None:
    assert payload_digest({}) == hashlib.sha256(b"{}").hexdigest()
    assert payload_digest({"a": 1, "b": [1, 2]}) == payload_digest({"b": [1, 2], "a": 1})
    assert payload_digest({"a": 1}) != payload_digest({"a": 2})
    assert payload_digest({"a": 1}) == hashlib.sha256(b'{"a":1}').hexdigest()


# --- fire_on_expiry -----------------------------------------------------------------------------


def support_cycle(machine: WorkflowMachine, *, done: bool) -> Cycle:
    cycle = make_cycle(machine.template, "support")
    status = "met" if done else "in_progress"
    cycle.actions["a1"] = Action(
        "a1", "Phonics training", "Deputy", date(2027, 2, 1), "All staff trained", status
    )
    if done:
        cycle.support["l1"] = SupportLink("l1", "s2", "Phonics", ("Joint training day",))
    return cycle


def test_fire_on_expiry_moves_as_the_system(machine: WorkflowMachine) -> None:
    cycle = support_cycle(machine, done=True)
    events = machine.fire_on_expiry(cycle, "finish", SYSTEM, LATER)
    fired = events[0]
    assert isinstance(fired, TransitionFired)
    assert (fired.role, fired.actor, fired.forced, fired.to_stage) == (
        "system",
        "system:scheduler",
        False,
        "closed",
    )
    assert (cycle.stage, cycle.version) == ("closed", 2)
    assert events[-1] == DeadlinesScheduled("c1", "closed", ())


def test_fire_on_expiry_still_needs_the_requirements(machine: WorkflowMachine) -> None:
    cycle = support_cycle(machine, done=False)
    with pytest.raises(RequirementsUnmet) as caught:
        machine.fire_on_expiry(cycle, "finish", SYSTEM, LATER)
    assert [r.message for r in caught.value.reasons] == [
        "0 support link(s) with logged activity; at least 1 are needed",
        'action a1 ("Phonics training") is in progress; '
        "the impact review needs met, partially met or not met",
    ]
    assert cycle.stage == "support"


def test_fire_on_expiry_only_fires_what_the_stage_rule_names(machine: WorkflowMachine) -> None:
    cycle = support_cycle(machine, done=True)
    with pytest.raises(TransitionNotAvailable):
        machine.fire_on_expiry(cycle, "withdraw", SYSTEM, LATER)
    # The cycle moved on since the deadline was planned: the rule no longer applies.
    moved = make_cycle(machine.template, "workshop")
    with pytest.raises(TransitionNotAvailable) as caught:
        machine.fire_on_expiry(moved, "finish", SYSTEM, LATER)
    assert caught.value.stage == "workshop"
    closed = make_cycle(machine.template, "closed")
    with pytest.raises(TransitionNotAvailable):
        machine.fire_on_expiry(closed, "finish", SYSTEM, LATER)


def test_deadlines_of_a_stage_without_one(machine: WorkflowMachine) -> None:
    assert machine.deadlines(make_cycle(machine.template, "closed")) == ()


def test_one_machine_serves_many_cycles(machine: WorkflowMachine) -> None:
    a = self_review_done(started(machine))
    b = started(machine)
    machine.fire(a, "submit", HEAD, LATER)
    assert (a.stage, b.stage) == ("review", "self_review")
