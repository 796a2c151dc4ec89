"""Recording what a stage collects: every function's guard, its validation and its effect."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from engine import records
from engine.calendar import WeekdayCalendar
from engine.cycle import Action, Actor, Cycle, Evidence, EvidenceFile, Member, SupportLink
from engine.errors import (
    CycleClosed,
    InvalidRecord,
    NotCollectedHere,
    RoleNotAllowed,
    UnknownRecord,
)
from engine.events import DeadlinesCancelled, DeadlinesScheduled, RecordChanged
from engine.template import COLLECT_KINDS, Template
from tests.unit.helpers import LONDON, NOW, Doc, actor, build, full_template, make_cycle

REC = actor("rec", person="p1")
OTHER = actor("other", person="p2")
CAL = WeekdayCalendar(LONDON)
VISIT = datetime(2026, 10, 5, 8, 30, tzinfo=LONDON)


def records_template() -> Doc:
    """`open` collects every kind for the role `rec`; `quiet` collects nothing; `closed` ends."""
    return {
        "id": "rec",
        "version": 1,
        "title": "Records",
        "roles": [
            {"id": "rec", "title": "Recorder"},
            {"id": "other", "title": "Someone else"},
            {"id": "school_lead", "title": "Headteacher"},
        ],
        "dates": [{"id": "visit_date", "title": "Review visit"}],
        "finding_kinds": ["www", "ebi"],
        "framework": {
            "sections": [
                {
                    "id": "s1",
                    "title": "Leadership",
                    "questions": [
                        {"id": "q1", "text": "How well is the school set for leading change?"},
                        {"id": "q2", "text": "How well does the school use assessment?"},
                    ],
                }
            ],
            "scale": [{"id": "strong", "label": "Strong"}, {"id": "weak", "label": "Weak"}],
        },
        "stages": [
            {
                "id": "open",
                "title": "Open",
                "initial": True,
                "collects": {kind: ["rec"] for kind in COLLECT_KINDS},
                "deadline": {"due": "P10D", "from": "visit_date", "reminders": ["P3D"]},
            },
            {"id": "quiet", "title": "Quiet"},
            {"id": "closed", "title": "Closed", "terminal": True},
        ],
        "transitions": [
            {"id": "hush", "title": "Hush", "from": "open", "to": "quiet", "roles": "rec"},
            {"id": "end", "title": "End", "from": "quiet", "to": "closed", "roles": "rec"},
        ],
    }


@pytest.fixture(scope="module")
def template() -> Template:
    return build(records_template())


@pytest.fixture
def cycle(template: Template) -> Cycle:
    return make_cycle(template, "open")


class Changed:
    """An expected record event: equal to the event made, which also carries the digest of
    the record as it stands after the change (checked in test_integrity.py)."""

    def __init__(self, event: RecordChanged) -> None:
        self.event = event

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, RecordChanged)
            and len(other.digest) == 32
            and other._replace(digest="") == self.event
        )

    def __repr__(self) -> str:
        return f"{self.event!r} (with a digest)"


def changed(kind: str, record_id: str, change: str, version: int = 2, **kw: Any) -> Any:
    """The event of a record made by REC, in the role `rec` unless told otherwise."""
    kw.setdefault("role", "rec")
    return Changed(RecordChanged("c1", kind, record_id, change, "p1", NOW, version, **kw))


# --- the guards, for every recording function ---------------------------------------------------

Record = Callable[[Template, Cycle, Actor], object]


def _with_action(t: Template, c: Cycle, a: Actor) -> object:
    c.actions["a1"] = Action("a1", "Phonics", "Deputy", None, "Criteria")
    return records.set_action_status(t, c, a, "a1", "met", "", NOW)


def _with_link(t: Template, c: Cycle, a: Actor) -> object:
    c.support["l1"] = SupportLink("l1", "s2", "Phonics")
    return records.log_support_activity(t, c, a, "l1", "Joint INSET day", NOW)


def _with_member(t: Template, c: Cycle, a: Actor) -> object:
    c.team["r1"] = Member("r1", "reviewer", "s1")
    return records.remove_member(t, c, a, "r1", NOW)


RECORDERS: dict[str, tuple[str, Record]] = {
    "add_evidence": (
        "evidence",
        lambda t, c, a: records.add_evidence(t, c, a, "e1", "q1", "Data pack", NOW),
    ),
    "set_focus": ("focus", lambda t, c, a: records.set_focus(t, c, a, ["Reading"], NOW)),
    "set_date": (
        "dates",
        lambda t, c, a: records.set_date(t, c, a, "visit_date", VISIT, NOW, CAL),
    ),
    "assign_member": (
        "team",
        lambda t, c, a: records.assign_member(t, c, a, Member("r1", "reviewer", "s1"), NOW),
    ),
    "remove_member": ("team", _with_member),
    "record_judgement self": (
        "self_judgements",
        lambda t, c, a: records.record_judgement(t, c, a, "self", "q1", "Secure", None, NOW),
    ),
    "record_judgement peer": (
        "peer_judgements",
        lambda t, c, a: records.record_judgement(t, c, a, "peer", "q1", "Secure", None, NOW),
    ),
    "add_finding": (
        "findings",
        lambda t, c, a: records.add_finding(t, c, a, "f1", "www", "Reading culture", None, NOW),
    ),
    "save_action": (
        "actions",
        lambda t, c, a: records.save_action(t, c, a, "a1", "Phonics", "", None, "", NOW),
    ),
    "set_action_status": ("action_status", _with_action),
    "add_support_link": (
        "support",
        lambda t, c, a: records.add_support_link(t, c, a, "l1", "s2", "Phonics", NOW),
    ),
    "log_support_activity": ("support", _with_link),
    "sign_off": ("signoffs", lambda t, c, a: records.sign_off(t, c, a, "rec", NOW)),
    "add_participant": (
        "participants",
        lambda t, c, a: records.add_participant(t, c, a, "s2", "Second School", "n1", NOW),
    ),
}


def test_every_kind_a_stage_can_collect_has_a_recorder() -> None:
    assert {kind for kind, _ in RECORDERS.values()} == set(COLLECT_KINDS)


@pytest.mark.parametrize(("kind", "record"), RECORDERS.values(), ids=list(RECORDERS))
def test_recording_where_the_stage_does_not_collect_it(
    template: Template, kind: str, record: Record
) -> None:
    cycle = make_cycle(template, "quiet")
    with pytest.raises(NotCollectedHere) as caught:
        record(template, cycle, REC)
    assert (caught.value.kind, caught.value.stage, caught.value.cycle_id) == (kind, "quiet", "c1")
    assert str(caught.value) == f"stage 'quiet' does not collect {kind.replace('_', ' ')}"
    assert cycle.version == 1


@pytest.mark.parametrize(("kind", "record"), RECORDERS.values(), ids=list(RECORDERS))
def test_recording_without_a_role_the_stage_allows(
    template: Template, cycle: Cycle, kind: str, record: Record
) -> None:
    with pytest.raises(RoleNotAllowed) as caught:
        record(template, cycle, OTHER)
    assert caught.value.action == f"record {kind.replace('_', ' ')}"
    assert (caught.value.roles, caught.value.allowed) == (["other"], ["rec"])
    assert cycle.version == 1


@pytest.mark.parametrize(("kind", "record"), RECORDERS.values(), ids=list(RECORDERS))
def test_recording_in_a_closed_cycle(template: Template, kind: str, record: Record) -> None:
    cycle = make_cycle(template, "closed")
    with pytest.raises(CycleClosed) as caught:
        record(template, cycle, REC)
    assert caught.value.stage == "closed"
    assert cycle.version == 1


@pytest.mark.parametrize(("kind", "record"), RECORDERS.values(), ids=list(RECORDERS))
def test_recording_bumps_the_version_once(
    template: Template, cycle: Cycle, kind: str, record: Record
) -> None:
    record(template, cycle, REC)
    assert cycle.version == 2


@pytest.mark.parametrize(("kind", "record"), RECORDERS.values(), ids=list(RECORDERS))
def test_every_record_names_the_role_it_was_made_in(
    template: Template, cycle: Cycle, kind: str, record: Record
) -> None:
    out = record(template, cycle, actor("rec", "other", person="p1"))
    events = out if isinstance(out, list) else [out]
    made = [e for e in events if isinstance(e, RecordChanged)]
    assert [e.role for e in made] == ["rec"]


def test_the_role_recorded_in_is_the_first_allowed_one_admin_last() -> None:
    doc = records_template()
    doc["stages"][0]["collects"]["evidence"] = ["admin", "school_lead", "rec"]
    template = build(doc)

    def role_of(*roles: str) -> str:
        cycle = make_cycle(template, "open")
        return records.add_evidence(template, cycle, actor(*roles), "e1", "q1", "Data", NOW).role

    assert role_of("rec", "school_lead") == "school_lead"  # the template's order
    assert role_of("rec", "admin") == "rec"  # admin only when nothing else allows it
    assert role_of("admin") == "admin"


def test_erasing_evidence_names_the_role_it_was_erased_in(template: Template) -> None:
    for roles, role in [(("admin", "school_lead"), "school_lead"), (("admin",), "admin")]:
        cycle = make_cycle(template, "open")
        cycle.evidence["e1"] = _evidence("e1")
        assert (
            records.erase_evidence(template, cycle, actor(*roles), "e1", "Asked to", NOW).role
            == role
        )


def test_collectable(template: Template) -> None:
    open_cycle = make_cycle(template, "open")
    assert records.collectable(template, open_cycle, REC) == dict.fromkeys(COLLECT_KINDS, True)
    assert records.collectable(template, open_cycle, OTHER) == dict.fromkeys(COLLECT_KINDS, False)
    assert records.collectable(template, make_cycle(template, "quiet"), REC) == {}
    assert records.collectable(template, make_cycle(template, "closed"), REC) == {}


# --- evidence -----------------------------------------------------------------------------------


def test_add_evidence(template: Template, cycle: Cycle) -> None:
    file = EvidenceFile("ab" * 32, 1024, "application/pdf", "Data pack.pdf")
    event = records.add_evidence(template, cycle, REC, "e1", "q2", "  Data pack ", NOW, file)
    assert event == changed("evidence", "e1", "added")
    stored = cycle.evidence["e1"]
    assert (stored.question_id, stored.title, stored.added_by, stored.file) == (
        "q2",
        "Data pack",
        "p1",
        file,
    )


@pytest.mark.parametrize(
    ("evidence_id", "question_id", "title", "field", "detail"),
    [
        ("e2", "q9", "Data", "question_id", "the framework has no question 'q9'"),
        ("e1", "q1", "Data", "id", "evidence 'e1' already exists"),
        ("e2", "q1", "   ", "title", "must not be empty"),
        ("e2", "q1", "x" * 20_001, "title", "is longer than 20000 characters"),
    ],
)
def test_add_evidence_refuses(
    template: Template,
    cycle: Cycle,
    evidence_id: str,
    question_id: str,
    title: str,
    field: str,
    detail: str,
) -> None:
    records.add_evidence(template, cycle, REC, "e1", "q1", "First", NOW)
    with pytest.raises(InvalidRecord) as caught:
        records.add_evidence(template, cycle, REC, evidence_id, question_id, title, NOW)
    assert (caught.value.field, caught.value.detail) == (field, detail)
    assert str(caught.value) == f"{field}: {detail}"
    assert list(cycle.evidence) == ["e1"]
    assert cycle.version == 2


def test_a_cycle_takes_so_much_evidence_and_no_more(template: Template, cycle: Cycle) -> None:
    for i in range(records.MOST_EVIDENCE):
        cycle.evidence[f"e{i}"] = Evidence(f"e{i}", "q1", "Sample", "p1", NOW)
    with pytest.raises(InvalidRecord, match="holds 400 pieces of evidence") as caught:
        records.add_evidence(template, cycle, REC, "one-more", "q1", "Sample", NOW)
    assert caught.value.field == "file" and "one-more" not in cycle.evidence

    cycle.evidence.clear()
    big = records.MOST_EVIDENCE_BYTES - 1024**2  # a file that leaves 1 MB
    cycle.evidence["e0"] = Evidence(
        "e0", "q1", "Video", "p1", NOW, EvidenceFile("cd" * 32, big, "video/mp4", "v.mp4")
    )
    two_mb = EvidenceFile("ef" * 32, 2 * 1024**2, "application/pdf", "x.pdf")
    with pytest.raises(InvalidRecord, match=r"2047 MB, .* 2 GB at most: 1 MB is left"):
        records.add_evidence(template, cycle, REC, "e1", "q1", "Minutes", NOW, two_mb)
    one_mb = EvidenceFile("ef" * 32, 1024**2, "application/pdf", "x.pdf")
    records.add_evidence(template, cycle, REC, "e1", "q1", "Minutes", NOW, one_mb)
    records.add_evidence(template, cycle, REC, "e2", "q1", "A note, no file", NOW)


def test_erase_evidence_at_any_stage_keeps_the_reason(template: Template) -> None:
    cycle = make_cycle(template, "closed")
    cycle.evidence["e1"] = _evidence("e1")
    event = records.erase_evidence(
        template, cycle, actor("school_lead"), "e1", " Parent's request ", NOW
    )
    assert event == changed("evidence", "e1", "erased", note="Parent's request", role="school_lead")
    assert cycle.evidence == {}


def _evidence(eid: str) -> Evidence:
    return Evidence(eid, "q1", "Pupil interview notes", "p1", NOW)


def test_erase_evidence_refuses(template: Template, cycle: Cycle) -> None:
    cycle.evidence["e1"] = _evidence("e1")
    with pytest.raises(RoleNotAllowed) as role:
        records.erase_evidence(template, cycle, REC, "e1", "Asked to", NOW)
    assert (role.value.action, role.value.allowed) == ("erase evidence", ["admin", "school_lead"])
    with pytest.raises(UnknownRecord) as unknown:
        records.erase_evidence(template, cycle, actor("admin"), "e9", "Asked to", NOW)
    assert (unknown.value.kind, unknown.value.record_id) == ("evidence", "e9")
    assert str(unknown.value) == "this cycle has no evidence 'e9'"
    assert cycle.version == 1


def test_erase_evidence_without_a_reason_changes_nothing(template: Template, cycle: Cycle) -> None:
    cycle.evidence["e1"] = _evidence("e1")
    with pytest.raises(InvalidRecord) as caught:
        records.erase_evidence(template, cycle, actor("admin"), "e1", "  ", NOW)
    assert caught.value.field == "reason"
    assert list(cycle.evidence) == ["e1"]
    assert cycle.version == 1


# --- focus and dates ----------------------------------------------------------------------------


def test_set_focus(template: Template, cycle: Cycle) -> None:
    event = records.set_focus(template, cycle, REC, [" Reading ", "Attendance"], NOW)
    assert event == changed("focus", "focus", "updated")
    assert cycle.focus == ("Reading", "Attendance")


def test_set_focus_refuses_an_empty_line(template: Template, cycle: Cycle) -> None:
    with pytest.raises(InvalidRecord) as caught:
        records.set_focus(template, cycle, REC, ["Reading", ""], NOW)
    assert caught.value.field == "focus[1]"
    assert (cycle.focus, cycle.version) == ((), 1)


def test_set_date_plans_the_deadline_that_counts_from_it(template: Template, cycle: Cycle) -> None:
    events = records.set_date(template, cycle, REC, "visit_date", VISIT, NOW, CAL)
    due = VISIT + timedelta(days=10)
    assert events[0] == changed("dates", "visit_date", "updated")
    assert events[1] == DeadlinesCancelled("c1", "open", NOW)
    scheduled = events[2]
    assert isinstance(scheduled, DeadlinesScheduled)
    assert [(d.kind, d.at) for d in scheduled.deadlines] == [
        ("due", due),
        ("reminder", due - timedelta(days=3)),
    ]
    assert cycle.dates == {"visit_date": VISIT}


def test_set_date_without_a_deadline_counting_from_it() -> None:
    doc = records_template()
    doc["stages"][0]["deadline"]["from"] = "stage_entry"
    template = build(doc)
    cycle = make_cycle(template, "open")
    events = records.set_date(template, cycle, REC, "visit_date", VISIT, NOW, CAL)
    assert events == [changed("dates", "visit_date", "updated")]


def test_set_date_refuses(template: Template, cycle: Cycle) -> None:
    with pytest.raises(InvalidRecord) as unknown:
        records.set_date(template, cycle, REC, "inspection", VISIT, NOW, CAL)
    assert (unknown.value.field, unknown.value.detail) == (
        "date",
        "the template declares no cycle date 'inspection'",
    )
    with pytest.raises(InvalidRecord) as naive:
        records.set_date(template, cycle, REC, "visit_date", datetime(2026, 10, 5, 8, 30), NOW, CAL)
    assert (naive.value.field, naive.value.detail) == ("when", "needs a time zone")
    assert (cycle.dates, cycle.version) == ({}, 1)


# --- the team -----------------------------------------------------------------------------------


def test_assign_member_to_the_team_and_as_champion(template: Template, cycle: Cycle) -> None:
    lead = Member("r1", "review_lead", "s1", "nlc2")
    assert records.assign_member(template, cycle, REC, lead, NOW) == changed(
        "team", "r1", "added", note="added r1 as review lead"
    )
    champion = Member("c1", "improvement_champion", "s9")
    assert records.assign_member(template, cycle, REC, champion, NOW) == changed(
        "team", "c1", "added", version=3, note="added c1 as improvement champion"
    )
    assert cycle.team == {"r1": lead}
    assert cycle.champion == champion
    # The review lead may be assigned again (an update), but a second one is refused.
    again = records.assign_member(template, cycle, REC, Member("r1", "review_lead", "s1"), NOW)
    assert (again.change, again.note) == ("updated", "updated r1 as review lead")
    with pytest.raises(InvalidRecord) as caught:
        records.assign_member(template, cycle, REC, Member("r2", "review_lead", "s2"), NOW)
    assert (caught.value.field, caught.value.detail) == ("role", "r1 is already the review lead")
    assert set(cycle.team) == {"r1"}


def test_assigning_says_the_team_role_in_words(template: Template, cycle: Cycle) -> None:
    first = records.assign_member(template, cycle, REC, Member("r1", "reviewer", "s1"), NOW)
    assert (first.change, first.note) == ("added", "added r1 as reviewer")
    moved = records.assign_member(template, cycle, REC, Member("r1", "review_lead", "s1"), NOW)
    assert (moved.change, moved.note) == ("updated", "r1 changed from reviewer to review lead")
    records.assign_member(template, cycle, REC, Member("c1", "improvement_champion", "s8"), NOW)
    other = records.assign_member(
        template, cycle, REC, Member("c2", "improvement_champion", "s9"), NOW
    )
    assert (other.change, other.note) == (
        "added",
        "added c2 as improvement champion in place of c1",
    )
    assert cycle.champion is not None and cycle.champion.person_id == "c2"


@pytest.mark.parametrize("team_role", ["reviewer", "review_lead"])
def test_the_champion_cannot_be_on_the_review_team(
    template: Template, cycle: Cycle, team_role: str
) -> None:
    records.assign_member(template, cycle, REC, Member("p9", team_role, "s1"), NOW)
    with pytest.raises(InvalidRecord) as caught:
        records.assign_member(template, cycle, REC, Member("p9", "improvement_champion"), NOW)
    assert caught.value.field == "role"
    assert caught.value.detail == (
        f"p9 is the {team_role.replace('_', ' ')} of this review and cannot also be its "
        "improvement champion: the improvement champion must not have been on the review"
    )
    assert (cycle.champion, cycle.version) == (None, 2)


@pytest.mark.parametrize("team_role", ["reviewer", "review_lead"])
def test_the_champion_cannot_join_the_review_team(
    template: Template, cycle: Cycle, team_role: str
) -> None:
    records.assign_member(template, cycle, REC, Member("p9", "improvement_champion", "s1"), NOW)
    with pytest.raises(InvalidRecord) as caught:
        records.assign_member(template, cycle, REC, Member("p9", team_role, "s1"), NOW)
    assert caught.value.detail == (
        "p9 is the improvement champion of this cycle and cannot also be its "
        f"{team_role.replace('_', ' ')}: the improvement champion must not have been on the review"
    )
    assert (cycle.team, cycle.version) == ({}, 2)


def test_assign_member_refuses_a_role_outside_the_team(template: Template, cycle: Cycle) -> None:
    with pytest.raises(InvalidRecord) as caught:
        records.assign_member(template, cycle, REC, Member("r1", "observer", "s1"), NOW)
    assert caught.value.field == "role"
    assert "review_lead, reviewer, improvement_champion" in caught.value.detail
    assert (cycle.team, cycle.version) == ({}, 1)


def test_remove_member(template: Template, cycle: Cycle) -> None:
    cycle.team["r1"] = Member("r1", "reviewer", "s1")
    cycle.champion = Member("c1", "improvement_champion", "s9")
    assert records.remove_member(template, cycle, REC, "c1", NOW) == changed(
        "team", "c1", "removed", note="removed c1 as improvement champion"
    )
    assert cycle.champion is None
    gone = records.remove_member(template, cycle, REC, "r1", NOW)
    assert gone.note == "removed r1 as reviewer"
    assert cycle.team == {}
    with pytest.raises(UnknownRecord) as caught:
        records.remove_member(template, cycle, REC, "r1", NOW)
    assert (caught.value.kind, caught.value.record_id) == ("team member", "r1")
    assert cycle.version == 3


def test_remove_member_removes_every_team_role_at_once(template: Template, cycle: Cycle) -> None:
    # Assigning refuses this now; a cycle stored before may still hold a person twice.
    cycle.team["p9"] = Member("p9", "reviewer", "s1")
    cycle.team["r2"] = Member("r2", "review_lead", "s2")
    cycle.champion = Member("p9", "improvement_champion", "s1")
    event = records.remove_member(template, cycle, REC, "p9", NOW)
    assert event == changed(
        "team", "p9", "removed", note="removed p9 as reviewer and as improvement champion"
    )
    assert (set(cycle.team), cycle.champion, cycle.version) == ({"r2"}, None, 2)


# --- team warnings ------------------------------------------------------------------------------


def _strict(allow_same_network: bool) -> Template:
    doc = records_template()
    doc["transitions"][0]["requires"] = [
        {"review_team_independent": {"allow_same_network": allow_same_network}}
    ]
    return build(doc)


def test_team_warnings_for_a_member_from_the_host_school(template: Template, cycle: Cycle) -> None:
    member = Member("p_x", "reviewer", "host", "nlc1")
    assert records.team_warnings(template, cycle, member) == [
        "p_x is on the staff of the host school (host)"
    ]
    names = {"host": "Alder Grove Primary"}
    champion = Member("p_x", "improvement_champion", "host")
    assert records.team_warnings(template, cycle, champion, names) == [
        "p_x is on the staff of the host school (Alder Grove Primary)"
    ]
    # A warning only: assigning still works, and the move's requirement refuses later.
    records.assign_member(template, cycle, REC, member, NOW)
    assert "p_x" in cycle.team


def test_team_warnings_for_the_host_network_only_where_the_template_forbids_it(
    cycle: Cycle,
) -> None:
    member = Member("p_x", "reviewer", "s2", "nlc1")
    names = {"nlc1": "Riverside NLC"}
    assert records.team_warnings(_strict(True), cycle, member, names) == []
    assert records.team_warnings(_strict(False), cycle, member, names) == [
        "p_x is from the host school's own network (Riverside NLC), "
        "and this template wants reviewers from other networks"
    ]
    # The improvement champion is not held to the network rule.
    champion = Member("p_x", "improvement_champion", "s2", "nlc1")
    assert records.team_warnings(_strict(False), cycle, champion) == []


def test_team_warnings_for_the_champion_and_the_schools_on_the_review(
    template: Template, cycle: Cycle
) -> None:
    cycle.team["r1"] = Member("r1", "reviewer", "s1")
    names = {"s1": "Birch Lane Primary"}
    on_review = Member("r1", "improvement_champion", "s1")
    assert records.team_warnings(template, cycle, on_review) == [
        "r1 is on the review team as reviewer; the improvement champion must not have been "
        "on the review"
    ]
    same_school = Member("c1", "improvement_champion", "s1")
    assert records.team_warnings(template, cycle, same_school, names) == [
        "c1 is from Birch Lane Primary, a school on the review team; the improvement champion "
        "must be from a school that was not on the review"
    ]
    cycle.champion = Member("c2", "improvement_champion", "s3")
    joining = Member("r2", "reviewer", "s3")
    assert records.team_warnings(template, cycle, joining) == [
        "r2 is from s3, the improvement champion's school (c2); the champion must be from a "
        "school that was not on the review"
    ]
    assert records.team_warnings(template, cycle, Member("r3", "reviewer", "s4", "nlc2")) == []
    assert cycle.team == {"r1": Member("r1", "reviewer", "s1")}  # nothing was changed


def test_team_warnings_are_the_same_asked_after_the_assignment(
    template: Template, cycle: Cycle
) -> None:
    cycle.champion = Member("c2", "improvement_champion", "s3")
    members = [
        Member("r1", "reviewer", "host"),
        Member("r2", "review_lead", "s3"),
        Member("c3", "improvement_champion", "s3"),
    ]
    for member in members:
        before = records.team_warnings(template, cycle, member)
        records.assign_member(template, cycle, REC, member, NOW)
        assert before
        assert records.team_warnings(template, cycle, member) == before


# --- judgements and findings --------------------------------------------------------------------


def test_record_judgement_adds_then_updates(template: Template, cycle: Cycle) -> None:
    first = records.record_judgement(template, cycle, REC, "peer", "q1", " Secure ", "strong", NOW)
    assert first == changed("peer_judgement", "q1", "added")
    again = records.record_judgement(template, cycle, REC, "peer", "q1", "Less so", "weak", NOW)
    assert again == changed("peer_judgement", "q1", "updated", version=3)
    stored = cycle.judgements[("peer", "q1", None)]
    assert (stored.kind, stored.narrative, stored.grade, stored.by) == (
        "peer",
        "Less so",
        "weak",
        "p1",
    )
    assert ("self", "q1", None) not in cycle.judgements


@pytest.mark.parametrize(
    ("kind", "question", "narrative", "grade", "field", "detail"),
    [
        ("external", "q1", "Secure", None, "kind", "expected 'self' or 'peer'"),
        ("self", "q7", "Secure", None, "question_id", "the framework has no question 'q7'"),
        ("self", "q1", "Secure", "outstanding", "grade", "expected one of strong, weak"),
        ("self", "q1", "", "strong", "narrative", "must not be empty"),
    ],
)
def test_record_judgement_refuses(
    template: Template,
    cycle: Cycle,
    kind: str,
    question: str,
    narrative: str,
    grade: str | None,
    field: str,
    detail: str,
) -> None:
    with pytest.raises(InvalidRecord) as caught:
        records.record_judgement(template, cycle, REC, kind, question, narrative, grade, NOW)
    assert (caught.value.field, caught.value.detail) == (field, detail)
    assert (cycle.judgements, cycle.version) == ({}, 1)


def test_a_grade_is_refused_when_the_framework_has_no_scale() -> None:
    template = build(full_template())
    cycle = make_cycle(template, "self_review")
    head = actor("head")
    with pytest.raises(InvalidRecord) as caught:
        records.record_judgement(template, cycle, head, "self", "q1", "Good", "good", NOW)
    assert (caught.value.field, caught.value.detail) == (
        "grade",
        "this template's framework has no grades",
    )
    records.record_judgement(template, cycle, head, "self", "q1", "Good", None, NOW)
    assert cycle.judgements[("self", "q1", None)].grade is None


def test_add_finding(template: Template, cycle: Cycle) -> None:
    event = records.add_finding(template, cycle, REC, "f1", "ebi", " More phonics ", "q2", NOW)
    assert event == changed("finding", "f1", "added")
    stored = cycle.findings["f1"]
    assert (stored.kind, stored.text, stored.question_id) == ("ebi", "More phonics", "q2")


@pytest.mark.parametrize(
    ("finding_id", "kind", "text", "question", "field", "detail"),
    [
        ("f2", "strength", "Text", None, "kind", "expected one of www, ebi"),
        ("f2", "www", "Text", "q5", "question_id", "the framework has no question 'q5'"),
        ("f1", "www", "Text", None, "id", "finding 'f1' already exists"),
        ("f2", "www", "\n", None, "text", "must not be empty"),
    ],
)
def test_add_finding_refuses(
    template: Template,
    cycle: Cycle,
    finding_id: str,
    kind: str,
    text: str,
    question: str | None,
    field: str,
    detail: str,
) -> None:
    records.add_finding(template, cycle, REC, "f1", "www", "Reading culture", None, NOW)
    with pytest.raises(InvalidRecord) as caught:
        records.add_finding(template, cycle, REC, finding_id, kind, text, question, NOW)
    assert (caught.value.field, caught.value.detail) == (field, detail)
    assert (list(cycle.findings), cycle.version) == (["f1"], 2)


# --- actions ------------------------------------------------------------------------------------


def test_save_action_adds_then_updates_keeping_the_status(template: Template, cycle: Cycle) -> None:
    due = date(2027, 2, 1)
    added = records.save_action(template, cycle, REC, "a1", " Phonics ", " Deputy ", due, "", NOW)
    assert added == changed("action", "a1", "added")
    assert cycle.actions["a1"] == Action("a1", "Phonics", "Deputy", due, "")
    records.set_action_status(template, cycle, REC, "a1", "in_progress", "Started", NOW)
    updated = records.save_action(template, cycle, REC, "a1", "Phonics", "Deputy", due, "All", NOW)
    assert updated == changed("action", "a1", "updated", version=4)
    stored = cycle.actions["a1"]
    assert (stored.success_criteria, stored.status, stored.status_note) == (
        "All",
        "in_progress",
        "Started",
    )


def test_save_action_needs_a_title(template: Template, cycle: Cycle) -> None:
    with pytest.raises(InvalidRecord) as caught:
        records.save_action(template, cycle, REC, "a1", " ", "Deputy", None, "", NOW)
    assert caught.value.field == "title"
    assert (cycle.actions, cycle.version) == ({}, 1)


def test_set_action_status(template: Template, cycle: Cycle) -> None:
    cycle.actions["a1"] = Action("a1", "Phonics", "Deputy", None, "All")
    event = records.set_action_status(template, cycle, REC, "a1", "partially_met", " Y1 ", NOW)
    assert event == changed("action", "a1", "updated")
    assert (cycle.actions["a1"].status, cycle.actions["a1"].status_note) == ("partially_met", "Y1")


def test_set_action_status_refuses(template: Template, cycle: Cycle) -> None:
    with pytest.raises(UnknownRecord) as unknown:
        records.set_action_status(template, cycle, REC, "a9", "met", "", NOW)
    assert (unknown.value.kind, unknown.value.record_id) == ("action", "a9")
    cycle.actions["a1"] = Action("a1", "Phonics", "Deputy", None, "All")
    with pytest.raises(InvalidRecord) as bad:
        records.set_action_status(template, cycle, REC, "a1", "done", "", NOW)
    assert bad.value.field == "status"
    assert (
        bad.value.detail == "expected one of not_started, in_progress, met, partially_met, not_met"
    )
    assert (cycle.actions["a1"].status, cycle.version) == (None, 1)


# --- support ------------------------------------------------------------------------------------


def test_add_support_link_and_log_activity(template: Template, cycle: Cycle) -> None:
    assert records.add_support_link(template, cycle, REC, "l1", "s2", " Phonics ", NOW) == changed(
        "support", "l1", "added"
    )
    records.log_support_activity(template, cycle, REC, "l1", "Visit", NOW)
    event = records.log_support_activity(template, cycle, REC, "l1", " Joint INSET ", NOW)
    assert event == changed("support", "l1", "updated", version=4)
    assert cycle.support["l1"] == SupportLink("l1", "s2", "Phonics", ("Visit", "Joint INSET"))


@pytest.mark.parametrize(
    ("link_id", "school", "area", "field", "detail"),
    [
        ("l2", "host", "Phonics", "supporting_school_id", "the host school cannot support itself"),
        ("l1", "s3", "Phonics", "id", "support link 'l1' already exists"),
        ("l2", "s3", "", "area", "must not be empty"),
    ],
)
def test_add_support_link_refuses(
    template: Template,
    cycle: Cycle,
    link_id: str,
    school: str,
    area: str,
    field: str,
    detail: str,
) -> None:
    records.add_support_link(template, cycle, REC, "l1", "s2", "Phonics", NOW)
    with pytest.raises(InvalidRecord) as caught:
        records.add_support_link(template, cycle, REC, link_id, school, area, NOW)
    assert (caught.value.field, caught.value.detail) == (field, detail)
    assert (list(cycle.support), cycle.version) == (["l1"], 2)


def test_log_support_activity_refuses(template: Template, cycle: Cycle) -> None:
    with pytest.raises(UnknownRecord) as unknown:
        records.log_support_activity(template, cycle, REC, "l9", "Visit", NOW)
    assert (unknown.value.kind, unknown.value.record_id) == ("support link", "l9")
    cycle.support["l1"] = SupportLink("l1", "s2", "Phonics")
    with pytest.raises(InvalidRecord) as empty:
        records.log_support_activity(template, cycle, REC, "l1", "  ", NOW)
    assert empty.value.field == "activity"
    assert (cycle.support["l1"].activities, cycle.version) == ((), 1)


# --- sign-offs ----------------------------------------------------------------------------------


def test_sign_off(template: Template, cycle: Cycle) -> None:
    assert records.sign_off(template, cycle, REC, "rec", NOW) == changed(
        "signoff", "open:rec", "added"
    )
    signed = cycle.signoffs[("open", "rec", None)]
    assert (signed.person_id, signed.at) == ("p1", NOW)


def test_sign_off_only_in_a_role_held_and_allowed(template: Template, cycle: Cycle) -> None:
    with pytest.raises(RoleNotAllowed) as not_held:
        records.sign_off(template, cycle, REC, "school_lead", NOW)
    assert not_held.value.action == "sign off as school_lead"
    both = actor("rec", "other")
    with pytest.raises(RoleNotAllowed) as not_allowed:
        records.sign_off(template, cycle, both, "other", NOW)
    assert (not_allowed.value.action, not_allowed.value.allowed) == ("sign off as other", ["rec"])
    assert (cycle.signoffs, cycle.version) == ({}, 1)


def signoff_template() -> Template:
    """The improvement workshop as the SPP template has it: sign-off by head and champion."""
    doc = records_template()
    doc["roles"] += [
        {"id": "improvement_champion", "title": "Improvement champion"},
        {"id": "partnership_lead", "title": "Partnership lead"},
    ]
    doc["roles"][2]["title"] = "Host headteacher"
    doc["stages"][0]["collects"]["signoffs"] = ["school_lead", "improvement_champion"]
    return build(doc)


def test_a_head_signing_off_as_the_champion_is_told_the_real_reason() -> None:
    template = signoff_template()
    cycle = make_cycle(template, "open")
    head = actor("school_lead", person="p_head")
    with pytest.raises(RoleNotAllowed) as caught:
        records.sign_off(template, cycle, head, "improvement_champion", NOW)
    # It said: "'sign off as improvement_champion' needs one of the roles
    # improvement_champion, school_lead; you hold school_lead", which reads as a contradiction.
    assert "needs one of the roles" not in str(caught.value)
    assert str(caught.value) == (
        "you cannot sign off as Improvement champion (improvement_champion): you do not hold "
        "that role on this cycle; you may sign off as Host headteacher (school_lead)"
    )
    assert (caught.value.action, caught.value.roles) == (
        "sign off as improvement_champion",
        ["school_lead"],
    )
    assert (cycle.signoffs, cycle.version) == ({}, 1)
    event = records.sign_off(template, cycle, head, "school_lead", NOW)
    assert (event.record_id, event.role) == ("open:school_lead", "school_lead")


def test_signing_off_in_a_role_the_stage_does_not_ask_for_says_so() -> None:
    template = signoff_template()
    cycle = make_cycle(template, "open")
    both = actor("school_lead", "partnership_lead", person="p_head")
    with pytest.raises(RoleNotAllowed) as caught:
        records.sign_off(template, cycle, both, "partnership_lead", NOW)
    assert str(caught.value) == (
        "stage 'open' asks for sign-off as Host headteacher (school_lead) or Improvement "
        "champion (improvement_champion), not as Partnership lead (partnership_lead); you may "
        "sign off as Host headteacher (school_lead)"
    )
    # Holding no role the stage asks sign-off from is still said as before.
    with pytest.raises(RoleNotAllowed) as none:
        records.sign_off(template, cycle, actor("partnership_lead"), "partnership_lead", NOW)
    assert str(none.value) == (
        "'record signoffs' needs one of the roles improvement_champion, school_lead; "
        "you hold partnership_lead"
    )
