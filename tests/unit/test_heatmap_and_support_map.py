"""What shared reports say school by school: the heatmap's cells in words and tones, the
support map's strengths and needs, the partner schools it suggests, and whose network
dashboard is whose."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from adapters.template_files import read_file
from engine.access import Principal
from engine.cycle import Cycle, Finding, Judgement
from engine.directory import Grant, Person, School
from engine.errors import NotFound
from engine.heatmap import SchoolReport, grade_band, heatmap, latest_reports
from engine.network import (
    require_watched,
    school_year,
    schools_not_started,
    watched_networks,
    watches_borough,
)
from engine.support_map import Standing, needs, strengths, suggest_partners, support_map
from engine.template import Framework, ScalePoint, Template
from tests.unit.helpers import NOW, make_cycle

WORKFLOWS = Path(__file__).parents[2] / "workflows"


def shipped(name: str) -> Template:
    return read_file(WORKFLOWS / name).build()


CQA = shipped("cqa.yaml")
SPP = shipped("spp-cycle.yaml")
CQ = [q.id for q in CQA.framework.questions]
SQ = [q.id for q in SPP.framework.questions]


def report(
    template: Template,
    school: str,
    grades: dict[str, str | None] | None = None,
    findings: Sequence[tuple[str, str | None, str]] = (),
    cycle_id: str | None = None,
    days: int = 0,
) -> Cycle:
    """A cycle of `school` whose report holds these peer judgements and findings."""
    c = make_cycle(
        template,
        host_school_id=school,
        id=cycle_id or f"c-{school}",
        started_at=NOW + timedelta(days=days),
    )
    for q, grade in (grades or {}).items():
        c.judgements[("peer", q, None)] = Judgement(
            "peer", q, "Seen on the visit.", grade, "p1", NOW
        )
    for i, (kind, q, text) in enumerate(findings):
        c.findings[f"f{i}"] = Finding(f"f{i}", kind, text, q, "p1", NOW + timedelta(minutes=i))
    return c


# -- the heatmap ---------------------------------------------------------------------------------


def test_a_graded_heatmap_says_each_grade_in_words_and_tones_it_best_first() -> None:
    cycles = [report(CQA, "a", {CQ[0]: "strong", CQ[1]: "emerging", CQ[2]: None})]
    drawn = heatmap(CQA, latest_reports(cycles), ["b", "a"])
    assert drawn.graded and [r.school_id for r in drawn.rows] == ["a"]
    cells = drawn.rows[0].cells
    assert [(c.words, c.tone) for c in cells] == [
        ("Strong", "grade-1"),
        ("Emerging", "grade-5"),
        ("Judged, no grade", "judged"),
        ("Not judged", "none"),
        ("Not judged", "none"),
    ]
    assert drawn.legend[:4] == (
        ("grade-1", "Strong"),
        ("grade-2", "Established"),
        ("grade-4", "Developing"),
        ("grade-5", "Emerging"),
    )


def test_an_ungraded_heatmap_maps_the_findings_on_each_question() -> None:
    cycles = [
        report(
            SPP,
            "a",
            {SQ[3]: None},
            [
                ("strength", SQ[0], "Pupils read widely."),
                ("area_to_develop", SQ[1], "Gaps for SEND pupils."),
                ("strength", SQ[2], "A clear vision."),
                ("area_to_develop", SQ[2], "Not yet shared with governors."),
                ("area_to_develop", None, "On the school as a whole."),
            ],
        )
    ]
    cells = heatmap(SPP, latest_reports(cycles), ["a"]).rows[0].cells
    assert [(c.words, c.tone) for c in cells[:5]] == [
        ("Strength", "strength"),
        ("Area to develop", "develop"),
        ("Strength and area to develop", "mixed"),
        ("Judged, no finding", "judged"),
        ("Nothing recorded", "none"),
    ]


def test_each_school_shows_its_latest_report_and_an_empty_one_is_passed_over() -> None:
    old = report(CQA, "a", {CQ[0]: "emerging"}, cycle_id="old", days=-400)
    new = report(CQA, "a", {CQ[0]: "strong"}, cycle_id="new")
    empty = report(CQA, "a", cycle_id="later", days=30)
    found = latest_reports([new, empty, old])
    assert found["a"].cycle_id == "new"
    assert SchoolReport.of(empty).empty


@given(st.integers(min_value=1, max_value=9))
def test_grade_bands_split_any_scale_in_halves_with_the_middle_point_apart(n: int) -> None:
    points = tuple(ScalePoint(f"g{i}", f"G{i}") for i in range(n))
    t = dataclasses.replace(CQA, framework=Framework(CQA.framework.sections, points))
    bands = [grade_band(t, p.id) for p in points]
    assert bands.count("high") == bands.count("low") == n // 2
    assert bands.count("middle") == n % 2
    assert bands == sorted(bands, key=["high", "middle", "low"].index)
    assert grade_band(t, None) is None and grade_band(t, "unknown") is None


# -- the support map -------------------------------------------------------------------------


NETWORKS = {"host": "n1", "near": "n1", "far": "n2", "also": "n1"}


def test_strengths_and_needs_come_from_findings_on_a_question_and_from_grades() -> None:
    r = SchoolReport.of(
        report(
            CQA,
            "host",
            {CQ[0]: "strong", CQ[1]: "developing", CQ[2]: "established", CQ[3]: "emerging"},
            [
                ("strength", CQ[4], "Families are well supported."),
                ("area_for_improvement", CQ[2], "Use assessment to adapt lessons."),
                ("area_for_improvement", None, "Governors' visits are rare."),
            ],
        )
    )
    strong = {(s.question_id, s.grade, s.findings) for s in strengths(CQA, [r])}
    assert strong == {
        (CQ[0], "Strong", ()),
        (CQ[2], "Established", ()),
        (CQ[4], None, ("Families are well supported.",)),
    }
    wanted = {(s.question_id, s.grade, s.findings) for s in needs(CQA, [r])}
    # An established judgement is strong; the finding on the same question is still a need.
    assert wanted == {
        (CQ[1], "Developing", ()),
        (CQ[2], None, ("Use assessment to adapt lessons.",)),
        (CQ[3], "Emerging", ()),
    }


def test_partners_are_strong_in_the_question_never_the_host_own_network_first() -> None:
    strong = [
        Standing("far", CQ[0], "c-far", ("A", "B"), "Strong"),
        Standing("near", CQ[0], "c-near", (), "Established"),
        Standing("host", CQ[0], "c-host", ("Own",), None),
        Standing("also", CQ[1], "c-also", ("Elsewhere",), None),
    ]
    found = suggest_partners(CQ[0], "host", strong, NETWORKS)
    assert [(s.partner.school_id, s.same_network) for s in found] == [
        ("near", True),
        ("far", False),
    ]
    assert suggest_partners(CQ[2], "host", strong, NETWORKS) == []
    assert len(suggest_partners(CQ[0], "host", strong, NETWORKS, limit=1)) == 1


def test_among_equals_the_school_more_reports_say_is_strong_comes_first() -> None:
    strong = [
        Standing("also", CQ[0], "c1", ("One",), None),
        Standing("near", CQ[0], "c2", ("One", "Two"), "Strong"),
    ]
    found = suggest_partners(CQ[0], "host", strong, NETWORKS)
    assert [s.partner.school_id for s in found] == ["near", "also"]


def test_the_support_map_of_a_network_suggests_from_every_report_read() -> None:
    reports = latest_reports(
        [
            report(CQA, "host", {CQ[1]: "emerging"}),
            report(CQA, "far", {CQ[1]: "strong"}),
            report(CQA, "near", {CQ[0]: "strong"}),
        ]
    )
    drawn = support_map(CQA, reports, ["host", "near", "also"], NETWORKS)
    # Strengths listed are the network's own schools'; a partner may come from further away.
    assert {q: [s.school_id for s in found] for q, found in drawn.strong.items()} == {
        CQ[0]: ["near"]
    }
    ((need, partners),) = drawn.wanted
    assert (need.school_id, need.question_id, need.grade) == ("host", CQ[1], "Emerging")
    assert [(p.partner.school_id, p.same_network) for p in partners] == [("far", False)]


# -- whose network dashboard is whose, and the school year ----------------------------------------


def principal(*grants: tuple[str, Any, str | None]) -> Principal:
    """A principal as the application makes it: its roles that follow networks are those the
    shipped SPP template gives `follow_network`."""
    person = Person("p", "Pat", "p@x.example")
    held = tuple(Grant(f"g{i}", "p", r, k, s) for i, (r, k, s) in enumerate(grants))
    follows = SPP.roles_that("follow_network") & {g.role for g in held}
    return Principal(person, held, follows=follows)


def test_a_chair_and_a_partnership_lead_watch_their_network_and_the_admin_every_one() -> None:
    nets = ["n1", "n2", "n3"]
    chair = principal(("network_lead", "network", "n2"))
    lead = principal(("partnership_lead", "network", "n1"), ("partnership_lead", "network", "n3"))
    head = principal(("school_lead", "school", "s1"))
    forum = principal(("network_lead", "global", None))
    admin = principal(("admin", "global", None))
    moderator = principal(("moderator", "network", "n2"))
    assert watched_networks(chair, nets) == ["n2"] and not watches_borough(chair)
    # A role no template lets follow networks gives no dashboard, even granted for one.
    assert watched_networks(moderator, nets) == [] and not watches_borough(moderator)
    assert watched_networks(lead, nets) == ["n1", "n3"]
    assert watched_networks(head, nets) == []
    assert watched_networks(forum, nets) == nets and watches_borough(forum)
    assert watched_networks(admin, nets) == nets and watches_borough(admin)
    require_watched(chair, "n2", nets)
    for who, net in ((chair, "n1"), (head, "n1"), (admin, "gone")):
        try:
            require_watched(who, net, nets)
        except NotFound:
            continue
        raise AssertionError(f"{net} should not be found")


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_the_school_year_runs_from_1_september_to_31_august(today: date) -> None:
    first, next_first = school_year(today)
    assert first <= today < next_first
    assert (first.month, first.day) == (9, 1) == (next_first.month, next_first.day)
    assert next_first.year == first.year + 1


def test_schools_that_started_none_are_listed_by_name() -> None:
    schools = [School(f"s{i}", f"{i}", name, "Primary", "n1") for i, name in enumerate("CAB")]
    begun, missing = schools_not_started(schools, {"s1": 2, "gone": 1})
    assert [(s.school.name, s.started) for s in begun] == [("A", 2)]
    assert [s.name for s in missing] == ["B", "C"]
