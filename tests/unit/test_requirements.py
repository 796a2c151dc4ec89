"""Every requirement in the library, met and unmet, with the reasons a person reads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from engine.cycle import (
    Action,
    Cycle,
    Evidence,
    Finding,
    Judgement,
    Member,
    Participant,
    SignOff,
    SupportLink,
)
from engine.requirements import LIBRARY, Reason, evaluate, resolved_params
from engine.template import RequirementRef, Template
from tests.unit.helpers import NOW, Q1_TEXT, Q2_TEXT, build, full_template, make_cycle

Q1 = f'question q1 ("{Q1_TEXT}")'
Q2 = f'question q2 ("{Q2_TEXT[:57].rstrip()}...")'

TESTED: set[str] = set()
"""Requirements with tests below (filled in at import): the last test checks none is missed."""

Test = Callable[..., None]


def covers(*names: str) -> Callable[[Test], Test]:
    def mark(test: Test) -> Test:
        TESTED.update(names)
        return test

    return mark


@pytest.fixture
def template() -> Template:
    return build(full_template())


@pytest.fixture
def graded() -> Template:
    doc = full_template()
    doc["framework"]["scale"] = [{"id": "leading", "label": "Leading"}, {"id": "effective"}]
    doc["framework"]["scale"][1]["label"] = "Effective"
    return build(doc)


@pytest.fixture
def cycle(template: Template) -> Cycle:
    return make_cycle(template)


def messages(template: Template, cycle: Cycle, name: str, **params: object) -> list[str]:
    reasons = evaluate(template, cycle, RequirementRef(name, params))
    assert all(r.code == name for r in reasons)
    return [r.message for r in reasons]


def judge(cycle: Cycle, kind: str, qid: str, grade: str | None = None) -> None:
    cycle.judgements[(kind, qid, None)] = Judgement(
        "self" if kind == "self" else "peer", qid, "Narrative", grade, "p1", NOW
    )


def evidence(cycle: Cycle, eid: str, qid: str) -> None:
    cycle.evidence[eid] = Evidence(eid, qid, f"Evidence {eid}", "p1", NOW)


def member(cycle: Cycle, pid: str, role: str, school: str, network: str | None = "nlc2") -> None:
    cycle.team[pid] = Member(pid, role, school, network)


def test_long_question_texts_are_shortened_to_sixty_characters() -> None:
    assert len(Q2_TEXT) > 60
    assert Q2.endswith('...")')
    assert len(Q2) == len('question q2 ("') + 60 + len('")')


# --- self and peer judgements ------------------------------------------------------------------


@covers("self_judgements_complete", "peer_judgements_complete")
@pytest.mark.parametrize("kind", ["self", "peer"])
def test_judgements_complete_unmet_names_each_question_without_one(
    template: Template, cycle: Cycle, kind: str
) -> None:
    name = f"{kind}_judgements_complete"
    assert messages(template, cycle, name) == [
        f"{Q1} has no {kind}-judgement yet",
        f"{Q2} has no {kind}-judgement yet",
    ]
    judge(cycle, kind, "q2")
    assert messages(template, cycle, name) == [f"{Q1} has no {kind}-judgement yet"]


@pytest.mark.parametrize("kind", ["self", "peer"])
def test_judgements_complete_met_without_grades_when_the_scale_is_empty(
    template: Template, cycle: Cycle, kind: str
) -> None:
    judge(cycle, kind, "q1")
    judge(cycle, kind, "q2")
    assert messages(template, cycle, f"{kind}_judgements_complete") == []


@pytest.mark.parametrize("kind", ["self", "peer"])
def test_judgements_complete_counts_only_its_own_kind(
    template: Template, cycle: Cycle, kind: str
) -> None:
    other = "peer" if kind == "self" else "self"
    judge(cycle, other, "q1")
    judge(cycle, other, "q2")
    assert len(messages(template, cycle, f"{kind}_judgements_complete")) == 2


@pytest.mark.parametrize("kind", ["self", "peer"])
def test_judgements_complete_needs_grades_when_the_scale_has_points(
    graded: Template, kind: str
) -> None:
    cycle = make_cycle(graded)
    judge(cycle, kind, "q1", grade="effective")
    judge(cycle, kind, "q2", grade=None)
    assert messages(graded, cycle, f"{kind}_judgements_complete") == [
        f"the {kind}-judgement of {Q2} has no grade yet"
    ]
    judge(cycle, kind, "q2", grade="leading")
    assert messages(graded, cycle, f"{kind}_judgements_complete") == []


# --- evidence and focus ------------------------------------------------------------------------


@covers("evidence_per_question")
def test_evidence_per_question_unmet(template: Template, cycle: Cycle) -> None:
    name = "evidence_per_question"
    assert messages(template, cycle, name) == [
        f"{Q1} has no evidence yet",
        f"{Q2} has no evidence yet",
    ]
    evidence(cycle, "e1", "q1")
    assert messages(template, cycle, name, min=2) == [
        f"{Q1} has 1 piece(s) of evidence; 2 are needed",
        f"{Q2} has no evidence yet",
    ]


def test_reasons_about_one_question_name_it_and_say_briefly_what_is_missing(
    graded: Template,
) -> None:
    cycle = make_cycle(graded)
    evidence(cycle, "e1", "q1")
    judge(cycle, "self", "q2")
    found = [
        (r.question_id, r.brief)
        for name, params in (
            ("evidence_per_question", {"min": 2}),
            ("self_judgements_complete", {}),
        )
        for r in evaluate(graded, cycle, RequirementRef(name, params))
    ]
    assert found == [
        ("q1", "1 piece(s) of evidence; 2 are needed"),
        ("q2", "no evidence yet"),
        ("q1", "no self-judgement yet"),
        ("q2", "the self-judgement has no grade yet"),
    ]
    # A reason about the cycle as a whole names no question.
    assert [r.question_id for r in evaluate(graded, cycle, RequirementRef("focus_chosen", {}))] == [
        None
    ]


def test_evidence_per_question_met(template: Template, cycle: Cycle) -> None:
    evidence(cycle, "e1", "q1")
    evidence(cycle, "e2", "q2")
    evidence(cycle, "e3", "q2")
    assert messages(template, cycle, "evidence_per_question") == []
    assert messages(template, cycle, "evidence_per_question", min=2) == [
        f"{Q1} has 1 piece(s) of evidence; 2 are needed"
    ]


def test_evidence_per_question_with_min_zero_is_always_met(
    template: Template, cycle: Cycle
) -> None:
    assert messages(template, cycle, "evidence_per_question", min=0) == []


@covers("focus_chosen")
def test_focus_chosen(template: Template, cycle: Cycle) -> None:
    name = "focus_chosen"
    assert messages(template, cycle, name) == [
        "the host school has chosen 0 line(s) of enquiry; at least 1 are needed"
    ]
    cycle.focus = ("Reading in key stage 2",)
    assert messages(template, cycle, name) == []
    assert messages(template, cycle, name, min=2) == [
        "the host school has chosen 1 line(s) of enquiry; at least 2 are needed"
    ]


@covers("date_set")
def test_date_set(template: Template, cycle: Cycle) -> None:
    name = "date_set"
    assert messages(template, cycle, name, date="visit_date") == [
        "the review visit has not been set"
    ]
    cycle.dates["visit_date"] = NOW
    assert messages(template, cycle, name, date="visit_date") == []


def test_date_set_uses_the_id_when_the_date_has_no_title() -> None:
    doc = full_template()
    doc["dates"].append({"id": "Feedback_meeting"})
    template = build(doc)
    assert messages(template, make_cycle(template), "date_set", date="Feedback_meeting") == [
        "the feedback_meeting has not been set"
    ]


# --- the review team ---------------------------------------------------------------------------


@covers("review_team_size")
def test_review_team_size(template: Template, cycle: Cycle) -> None:
    name = "review_team_size"
    member(cycle, "r1", "review_lead", "s1")
    member(cycle, "r2", "reviewer", "s2")
    assert messages(template, cycle, name) == [
        "the review team has 2 member(s); it needs at least 3"
    ]
    member(cycle, "r3", "reviewer", "s3")
    assert messages(template, cycle, name) == []
    member(cycle, "r4", "reviewer", "s4")
    member(cycle, "r5", "reviewer", "s5")
    assert messages(template, cycle, name) == [
        "the review team has 5 members; it may have at most 4"
    ]
    assert messages(template, cycle, name, min=3, max=5) == []


def test_review_team_size_does_not_count_the_champion(template: Template, cycle: Cycle) -> None:
    member(cycle, "r1", "review_lead", "s1")
    member(cycle, "r2", "reviewer", "s2")
    cycle.champion = Member("c1", "improvement_champion", "s9")
    cycle.team["c2"] = Member("c2", "improvement_champion", "s8")
    assert messages(template, cycle, "review_team_size") == [
        "the review team has 2 member(s); it needs at least 3"
    ]


@covers("review_lead_assigned")
def test_review_lead_assigned(template: Template, cycle: Cycle) -> None:
    name = "review_lead_assigned"
    member(cycle, "r2", "reviewer", "s2")
    assert messages(template, cycle, name) == [
        "no review lead has been assigned to the review team"
    ]
    member(cycle, "r1", "review_lead", "s1")
    assert messages(template, cycle, name) == []


@covers("review_team_independent")
def test_review_team_independent_unmet(template: Template, cycle: Cycle) -> None:
    name = "review_team_independent"
    member(cycle, "r1", "review_lead", "host", "nlc1")
    member(cycle, "r2", "reviewer", "s2", "nlc1")
    member(cycle, "r3", "reviewer", "s3", "nlc2")
    assert messages(template, cycle, name) == ["reviewer r1 is from the host school"]
    assert messages(template, cycle, name, allow_same_network=False) == [
        "reviewer r1 is from the host school",
        "reviewer r2 is from the host school's own network",
    ]


def test_review_team_independent_met(template: Template, cycle: Cycle) -> None:
    assert messages(template, cycle, "review_team_independent") == []  # an empty team
    member(cycle, "r1", "review_lead", "s1", "nlc2")
    member(cycle, "r2", "reviewer", "s2", None)
    assert messages(template, cycle, "review_team_independent", allow_same_network=False) == []


def test_review_team_independent_without_a_host_network(template: Template) -> None:
    cycle = make_cycle(template, network_id=None)
    member(cycle, "r1", "reviewer", "s1", None)
    assert messages(template, cycle, "review_team_independent", allow_same_network=False) == []


@covers("champion_independent")
def test_champion_independent_unmet(template: Template, cycle: Cycle) -> None:
    name = "champion_independent"
    assert messages(template, cycle, name) == ["no improvement champion has been assigned"]
    member(cycle, "r1", "review_lead", "s1")
    cycle.champion = Member("r1", "improvement_champion", "s1")
    assert messages(template, cycle, name) == [
        "the improvement champion r1 was on the review team",
        "the improvement champion r1 is from a school that was on the review",
    ]
    cycle.champion = Member("c1", "improvement_champion", "host")
    assert messages(template, cycle, name) == [
        "the improvement champion c1 is from the host school"
    ]


def test_champion_independent_met(template: Template, cycle: Cycle) -> None:
    member(cycle, "r1", "review_lead", "s1")
    member(cycle, "r2", "reviewer", "s2")
    cycle.champion = Member("c1", "improvement_champion", "s3")
    assert messages(template, cycle, "champion_independent") == []


# --- findings, actions, support, sign-offs -----------------------------------------------------


def finding(cycle: Cycle, fid: str, kind: str) -> None:
    cycle.findings[fid] = Finding(fid, kind, "Text", None, "p1", NOW)


@covers("findings_recorded")
def test_findings_recorded_of_any_kind(template: Template, cycle: Cycle) -> None:
    name = "findings_recorded"
    assert messages(template, cycle, name) == ["0 finding(s) recorded; at least 1 are needed"]
    finding(cycle, "f1", "strength")
    assert messages(template, cycle, name) == []
    assert messages(template, cycle, name, min=2) == [
        "1 finding(s) recorded; at least 2 are needed"
    ]


def test_findings_recorded_of_each_kind(template: Template, cycle: Cycle) -> None:
    kinds = ["strength", "area_to_develop"]
    finding(cycle, "f1", "strength")
    finding(cycle, "f2", "strength")
    assert messages(template, cycle, "findings_recorded", kinds=kinds) == [
        "0 finding(s) of kind 'area_to_develop' recorded; at least 1 are needed"
    ]
    finding(cycle, "f3", "area_to_develop")
    assert messages(template, cycle, "findings_recorded", kinds=kinds) == []


def action(
    cycle: Cycle,
    aid: str,
    owner: str = "Deputy head",
    due: date | None = date(2027, 3, 1),
    criteria: str = "Reading ages up",
    status: str | None = None,
) -> None:
    cycle.actions[aid] = Action(aid, f"Action {aid}", owner, due, criteria, status)


@covers("actions_agreed")
def test_actions_agreed_counts_actions(template: Template, cycle: Cycle) -> None:
    name = "actions_agreed"
    assert messages(template, cycle, name) == ["0 action(s) agreed; at least 1 are needed"]
    action(cycle, "a1")
    assert messages(template, cycle, name) == []
    assert messages(template, cycle, name, min=2) == ["1 action(s) agreed; at least 2 are needed"]


def test_actions_agreed_names_what_each_incomplete_action_lacks(
    template: Template, cycle: Cycle
) -> None:
    action(cycle, "a1", owner="  ", due=None, criteria="")
    action(cycle, "a2", criteria=" ")
    action(cycle, "a3")
    assert messages(template, cycle, "actions_agreed") == [
        'action a1 ("Action a1") has no owner, no due date, no success criteria',
        'action a2 ("Action a2") has no success criteria',
    ]


@covers("actions_followed_up")
def test_actions_followed_up(template: Template, cycle: Cycle) -> None:
    name = "actions_followed_up"
    assert messages(template, cycle, name) == []  # nothing to follow up
    action(cycle, "a1")
    action(cycle, "a2", status="in_progress")
    assert messages(template, cycle, name) == [
        'action a1 ("Action a1") has no follow-up status yet'
    ]
    assert messages(template, cycle, name, final=True) == [
        'action a1 ("Action a1") has no follow-up status yet',
        'action a2 ("Action a2") is in progress; '
        "the impact review needs met, partially met or not met",
    ]


def test_actions_followed_up_final_is_met_by_final_statuses(
    template: Template, cycle: Cycle
) -> None:
    action(cycle, "a1", status="met")
    action(cycle, "a2", status="partially_met")
    action(cycle, "a3", status="not_met")
    assert messages(template, cycle, "actions_followed_up", final=True) == []


@covers("support_logged")
def test_support_logged(template: Template, cycle: Cycle) -> None:
    name = "support_logged"
    cycle.support["l1"] = SupportLink("l1", "s2", "Phonics")
    assert messages(template, cycle, name) == [
        "0 support link(s) with logged activity; at least 1 are needed"
    ]
    cycle.support["l1"] = SupportLink("l1", "s2", "Phonics", ("Visit to s2's Year 1",))
    assert messages(template, cycle, name) == []
    assert messages(template, cycle, name, min=0) == []


@covers("participants")
def test_participants(template: Template, cycle: Cycle) -> None:
    assert messages(template, cycle, "participants", min=2) == [
        "0 school(s) take part beside the lead school; at least 2 are needed"
    ]
    for sid in ("s2", "s3"):
        cycle.participants[sid] = Participant(sid, f"School {sid}", None, "p1", NOW)
    assert messages(template, cycle, "participants", min=2) == []


@covers("each_participant_evidence")
def test_each_participant_evidence(template: Template, cycle: Cycle) -> None:
    name = "each_participant_evidence"
    for sid in ("s2", "s3"):
        cycle.participants[sid] = Participant(sid, f"School {sid}", None, "p1", NOW)
    cycle.evidence["e1"] = Evidence("e1", "q1", "Sample", "p2", NOW, None, "s2")
    cycle.evidence["e2"] = Evidence("e2", "q1", "Of the cycle", "p1", NOW)  # of no school
    assert messages(template, cycle, name, question="q1") == [
        f'for question q1 ("{Q1_TEXT}"), 1 of 2 school(s) have fewer than 1'
        " piece(s) of evidence: School s3 (0)"
    ]
    # The lead (host) school counts only when asked; every question when none is named.
    said = messages(template, cycle, name, lead_too=True)
    assert len(said) == 2 and "the lead school (0)" in said[0] and "School s2" in said[1]
    cycle.evidence["e3"] = Evidence("e3", "q1", "Sample", "p3", NOW, None, "s3")
    assert messages(template, cycle, name, question="q1") == []
    assert messages(template, cycle, name, min=0) == []


@covers("each_participant_judgement")
def test_each_participant_judgement(template: Template, cycle: Cycle) -> None:
    name = "each_participant_judgement"
    for sid in ("s2", "s3"):
        cycle.participants[sid] = Participant(sid, f"School {sid}", None, "p1", NOW)
    judge(cycle, "peer", "q1")  # of the cycle as a whole: of no one school
    cycle.judgements[("peer", "q1", "s2")] = Judgement(
        "peer", "q1", "Agreed", None, "p1", NOW, "s2"
    )
    assert messages(template, cycle, name, question="q1") == [
        f'for question q1 ("{Q1_TEXT}"), 1 of 2 school(s) have no peer-judgement yet: School s3'
    ]
    # Of one kind only; the lead school counts only when asked.
    said = messages(template, cycle, name, kind="self", question="q1", lead_too=True)
    assert said == [
        f'for question q1 ("{Q1_TEXT}"), 3 of 3 school(s) have no self-judgement yet: '
        "the lead school, School s2, School s3"
    ]
    cycle.judgements[("peer", "q1", "s3")] = Judgement(
        "peer", "q1", "Agreed", None, "p1", NOW, "s3"
    )
    assert messages(template, cycle, name, question="q1") == []
    assert len(messages(template, cycle, name)) == 1  # q2 has none from either school


@covers("each_participant_signed_off")
def test_each_participant_signed_off(template: Template) -> None:
    name = "each_participant_signed_off"
    cycle = make_cycle(template, "workshop")
    for sid in ("s2", "s3"):
        cycle.participants[sid] = Participant(sid, f"School {sid}", None, "p1", NOW)
    signed = SignOff("workshop", "staff", "p2", NOW, "s2")
    cycle.signoffs[signed.key] = signed
    earlier = SignOff("self_review", "staff", "p3", NOW, "s3")  # another stage: not counted
    cycle.signoffs[earlier.key] = earlier
    assert messages(template, cycle, name, roles=["staff", "head"]) == [
        "1 of 2 school(s) have not yet signed off (as host headteacher or host school staff): "
        "School s3"
    ]
    assert messages(template, cycle, name, roles=["head"]) == [
        "2 of 2 school(s) have not yet signed off (as host headteacher): School s2, School s3"
    ]
    late = SignOff("workshop", "head", "p3", NOW, "s3")
    cycle.signoffs[late.key] = late
    assert messages(template, cycle, name, roles=["staff", "head"]) == []
    assert messages(template, cycle, name, roles=["staff", "head"], lead_too=True) == [
        "1 of 3 school(s) have not yet signed off (as host headteacher or host school staff): "
        "the lead school"
    ]
    # A school's sign-off in a role counts for `signed_off` too: someone in it has signed.
    assert messages(template, cycle, "signed_off", roles=["staff"]) == []


@covers("signed_off")
def test_signed_off(template: Template) -> None:
    name = "signed_off"
    cycle = make_cycle(template, "workshop")
    cycle.signoffs[("self_review", "head", None)] = SignOff("self_review", "head", "p1", NOW)
    cycle.signoffs[("workshop", "champion", None)] = SignOff("workshop", "champion", "c1", NOW)
    # A sign-off of another stage does not count for the current one.
    assert messages(template, cycle, name, roles=["head", "champion"]) == [
        "not yet signed off by the host headteacher"
    ]
    cycle.signoffs[("workshop", "head", None)] = SignOff("workshop", "head", "p1", NOW)
    assert messages(template, cycle, name, roles=["head", "champion"]) == []


# --- the library as a whole --------------------------------------------------------------------


def test_evaluate_returns_reasons_coded_by_requirement(template: Template, cycle: Cycle) -> None:
    assert evaluate(template, cycle, RequirementRef("focus_chosen", {"min": 2})) == [
        Reason(
            "focus_chosen", "the host school has chosen 0 line(s) of enquiry; at least 2 are needed"
        )
    ]


def test_resolved_params_fill_in_the_defaults() -> None:
    assert resolved_params(RequirementRef("review_team_size", {"max": 6})) == {"min": 3, "max": 6}
    assert resolved_params(RequirementRef("findings_recorded")) == {"min": 1, "kinds": []}
    assert resolved_params(RequirementRef("date_set", {"date": "d"})) == {"date": "d"}


def test_every_requirement_has_a_summary_and_documented_params() -> None:
    for name, spec in LIBRARY.items():
        assert spec.name == name
        assert spec.summary


def test_every_requirement_in_the_library_is_tested_here() -> None:
    assert set(LIBRARY) == TESTED
