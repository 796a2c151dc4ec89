"""Cycles of several schools in the engine: the schools taking part, evidence of each, the
requirements that count per school (Hypothesis: met exactly when every school has enough,
and the reasons name exactly the schools short), and roles granted for a school held on the
cycles it takes part in."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.template_files import read_document, read_file
from engine import records as R
from engine.access import Principal, access_to, actor_for, holders, part_read
from engine.cycle import Actor, Cycle, Evidence, Finding
from engine.directory import Grant, Person
from engine.errors import InvalidRecord, UnknownRecord
from engine.machine import WorkflowMachine
from engine.requirements import evaluate
from engine.template import PARTS, RequirementRef, Template
from tests.unit.helpers import NOW

TEMPLATE = read_file(Path(__file__).parents[2] / "workflows" / "cluster-moderation.yaml").build()
LEAD = Actor("p-lead", frozenset({"lead_moderator"}), "s-lead")
SCHOOLS = ["s-1", "s-2", "s-3", "s-4", "s-5"]
QUESTIONS = [q.id for q in TEMPLATE.framework.questions]


def _round(template: Template = TEMPLATE) -> Cycle:
    cycle, _ = WorkflowMachine(template).start("c1", "s-lead", "n1", LEAD, NOW)
    return cycle


def _with(cycle: Cycle, schools: list[str]) -> Cycle:
    for sid in schools:
        R.add_participant(TEMPLATE, cycle, LEAD, sid, f"School {sid}", "n1", NOW)
    return cycle


def test_schools_join_and_leave_once_and_the_host_leads() -> None:
    cycle = _with(_round(), ["s-1", "s-2"])
    assert list(cycle.participants) == ["s-1", "s-2"]
    assert cycle.takes_part("s-lead") and cycle.takes_part("s-1") and not cycle.takes_part("s-9")
    with pytest.raises(InvalidRecord, match="takes part already"):
        R.add_participant(TEMPLATE, cycle, LEAD, "s-1", "School s-1", "n1", NOW)
    with pytest.raises(InvalidRecord, match="leads this cycle"):
        R.add_participant(TEMPLATE, cycle, LEAD, "s-lead", "Lead", "n1", NOW)
    event = R.remove_participant(TEMPLATE, cycle, LEAD, "s-1", NOW)
    assert (event.kind, event.change, event.note) == ("participants", "removed", "School s-1 left")
    with pytest.raises(UnknownRecord):
        R.remove_participant(TEMPLATE, cycle, LEAD, "s-1", NOW)


def test_evidence_is_of_the_senders_school_and_only_the_lead_sends_for_another() -> None:
    cycle = _with(_round(), ["s-1", "s-2"])
    cycle.stage = "samples"
    moderator = Actor("p-m1", frozenset({"moderator"}), "s-1")
    R.add_evidence(TEMPLATE, cycle, moderator, "e1", QUESTIONS[0], "Sample", NOW)
    assert cycle.evidence["e1"].school_id == "s-1"
    with pytest.raises(InvalidRecord, match="only for your own school"):
        R.add_evidence(TEMPLATE, cycle, moderator, "e2", QUESTIONS[0], "x", NOW, school_id="s-2")
    with pytest.raises(InvalidRecord, match="does not take part"):
        R.add_evidence(TEMPLATE, cycle, LEAD, "e3", QUESTIONS[0], "x", NOW, school_id="s-9")
    R.add_evidence(TEMPLATE, cycle, LEAD, "e4", QUESTIONS[0], "x", NOW, school_id="s-2")
    assert cycle.evidence["e4"].school_id == "s-2"


@settings(max_examples=200)
@given(
    taking_part=st.lists(st.sampled_from(SCHOOLS), unique=True, max_size=5),
    sent=st.lists(
        st.tuples(st.sampled_from(["s-lead", *SCHOOLS]), st.sampled_from(QUESTIONS)), max_size=40
    ),
    need=st.integers(0, 4),
    lead_too=st.booleans(),
    one_question=st.booleans(),
)
def test_each_participant_evidence_is_met_exactly_when_every_school_has_enough(
    taking_part: list[str],
    sent: list[tuple[str, str]],
    need: int,
    lead_too: bool,
    one_question: bool,
) -> None:
    cycle = _with(_round(), taking_part)
    cycle.stage = "samples"
    for i, (school, question) in enumerate(sent):
        if cycle.takes_part(school):
            R.add_evidence(TEMPLATE, cycle, LEAD, f"e{i}", question, "s", NOW, school_id=school)
    params: dict[str, object] = {"min": need, "lead_too": lead_too}
    if one_question:
        params["question"] = QUESTIONS[0]
    reasons = evaluate(TEMPLATE, cycle, RequirementRef("each_participant_evidence", params))
    counted = (["s-lead"] if lead_too else []) + taking_part
    for question in [QUESTIONS[0]] if one_question else QUESTIONS:
        short = [
            sid
            for sid in counted
            if sum(1 for s, q in sent if s == sid and q == question and cycle.takes_part(s)) < need
        ]
        said = [r for r in reasons if r.question_id == question]
        assert bool(said) == bool(short)
        if said:
            # Every school short is named (up to five), and no school with enough.
            words = said[0].message
            for sid in counted:
                name = "the lead school" if sid == "s-lead" else f"School {sid}"
                assert (f"{name} (" in words) == (sid in short[:5])


@settings(max_examples=200)
@given(
    taking_part=st.lists(st.sampled_from(SCHOOLS), unique=True, max_size=5),
    signers=st.lists(
        st.tuples(st.sampled_from(["s-lead", *SCHOOLS, "s-9"]), st.booleans()), max_size=12
    ),
    judged=st.lists(st.tuples(st.sampled_from(["s-lead", *SCHOOLS]), st.sampled_from(QUESTIONS))),
    lead_too=st.booleans(),
)
def test_each_school_signs_off_and_is_judged_its_own_and_the_reasons_name_the_rest(
    taking_part: list[str],
    signers: list[tuple[str, bool]],
    judged: list[tuple[str, str]],
    lead_too: bool,
) -> None:
    """A sign-off is of the signer's school (a moderator's own; the lead may sign for any),
    a judgement of the school named; `each_participant_signed_off` and
    `each_participant_judgement` are met exactly when every school counted has its own, and
    name exactly the schools without one (up to five)."""
    cycle = _with(_round(), taking_part)
    cycle.stage = "samples"
    signed: set[str] = set()
    for i, (school, by_lead) in enumerate(signers):
        moderator = Actor(f"p-m{i}", frozenset({"moderator"}), school)
        actor, role = (LEAD, "lead_moderator") if by_lead else (moderator, "moderator")
        try:
            R.sign_off(TEMPLATE, cycle, actor, role, NOW, school_id=school if by_lead else None)
        except InvalidRecord:
            assert not cycle.takes_part(school)  # refused only for a school not taking part
            continue
        # A moderator's is of their school when the cycle has schools taking part and theirs
        # is one; else of the cycle as a whole. The lead's is of the school it names.
        own = cycle.participants and cycle.takes_part(school)
        signed.add(school if by_lead or own else "")
    counted = (["s-lead"] if lead_too else []) + taking_part
    roles = ["moderator", "lead_moderator"]
    ref = RequirementRef("each_participant_signed_off", {"roles": roles, "lead_too": lead_too})
    reasons = evaluate(TEMPLATE, cycle, ref)
    short = [sid for sid in counted if sid not in signed]
    assert bool(reasons) == bool(short)
    if reasons:
        for sid in counted:
            name = "the lead school" if sid == "s-lead" else f"School {sid}"
            assert (name in reasons[0].message) == (sid in short[:5])

    cycle.stage = "twilight"
    for school, question in judged:
        if cycle.takes_part(school):
            R.record_judgement(TEMPLATE, cycle, LEAD, "peer", question, "x", None, NOW, school)
    ref = RequirementRef("each_participant_judgement", {"kind": "peer", "lead_too": lead_too})
    said = evaluate(TEMPLATE, cycle, ref)
    for question in QUESTIONS:
        missing = [sid for sid in counted if (sid, question) not in set(judged)]
        about = [r for r in said if r.question_id == question]
        assert bool(about) == bool(missing)


def test_a_role_granted_for_a_school_is_held_where_it_takes_part_and_nowhere_else() -> None:
    cycle = _with(_round(), ["s-1"])
    teacher = Person("p-t", "Teacher", "t@s1.example", "s-1")
    grant = Grant("g1", "p-t", "moderator", "school", "s-1")
    assert actor_for(teacher, [grant], cycle).roles == {"moderator"}
    other = _round()
    assert actor_for(teacher, [grant], other).roles == frozenset()
    # The moderators reminded are those of the schools taking part.
    elsewhere = Grant("g2", "p-u", "moderator", "school", "s-9")
    assert holders(cycle, ["moderator"], [grant, elsewhere]) == ["p-t"]


READERS = {
    # who reads, by the grant they hold: (role, scope kind, scope)
    "lead school": ("lead_moderator", "school", "s-lead"),
    "the network": ("lead_moderator", "network", "n1"),
    "moderator of s-1": ("moderator", "school", "s-1"),
    "moderator of s-2": ("moderator", "school", "s-2"),
}


@settings(max_examples=200)
@given(
    taking_part=st.lists(st.sampled_from(SCHOOLS[:3]), unique=True, max_size=3),
    records=st.lists(
        st.tuples(st.sampled_from([None, "s-lead", *SCHOOLS[:3]]), st.booleans()), max_size=20
    ),
    reader=st.sampled_from(sorted(READERS)),
    shared=st.sets(st.sampled_from(PARTS)),
)
def test_a_school_taking_part_reads_its_own_part_and_what_is_of_the_whole_cycle(
    taking_part: list[str],
    records: list[tuple[str | None, bool]],
    reader: str,
    shared: set[str],
) -> None:
    template = dataclasses.replace(TEMPLATE, shared_with_participants=frozenset(shared))
    cycle = _with(_round(template), taking_part)
    for i, (school, is_finding) in enumerate(records):
        if is_finding:
            cycle.findings[f"f{i}"] = Finding(
                f"f{i}", "agreed_outcome", "t", None, "p", NOW, school
            )
        else:
            cycle.evidence[f"e{i}"] = Evidence(f"e{i}", QUESTIONS[0], "t", "p", NOW, None, school)
    role, kind, scope = READERS[reader]
    person = Person("p-r", "Reader", "r@x.example", scope if kind == "school" else None)
    principal = Principal(person, (Grant("g", "p-r", role, kind, scope),))
    access = access_to(principal, cycle, [], template=template)
    before = (dict(cycle.evidence), dict(cycle.findings))
    read = part_read(cycle, access, template)
    assert (cycle.evidence, cycle.findings) == before  # the cycle itself is not changed

    if not access.visible:  # a moderator of a school not taking part
        assert scope not in taking_part
        return
    whole = reader in ("lead school", "the network")
    assert access.schools == (frozenset() if whole else frozenset({scope}))

    def theirs(school: str | None, part: str) -> bool:
        return whole or part in shared or school in (None, scope)

    assert set(read.evidence) == {
        k for k, e in cycle.evidence.items() if theirs(e.school_id, "evidence")
    }
    assert set(read.findings) == {
        k for k, f in cycle.findings.items() if theirs(f.school_id, "findings")
    }
    assert read.judgements == cycle.judgements and read.participants == cycle.participants


def test_shared_with_participants_names_only_parts_of_a_school() -> None:
    text = (Path(__file__).parents[2] / "workflows" / "cluster-moderation.yaml").read_text()
    text = text.replace(
        "shared_with_participants: []", "shared_with_participants: [evidence, plan]"
    )
    issues = read_document(text).validate()
    assert [(i.issue.location, i.issue.message) for i in issues] == [
        (
            "shared_with_participants",
            "unknown part 'plan'; a part that may be shared: evidence, findings, judgements",
        )
    ]
    assert (
        issues[0].line == text.splitlines().index("shared_with_participants: [evidence, plan]") + 1
    )
