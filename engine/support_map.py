"""The support map: which schools are strong where, which want support where, and the partner
schools to suggest for each area to develop (school-to-school support, SPP's stage 5).

Pure, over the reports the caller may read (`engine.heatmap.SchoolReport`). A school is strong
in a framework question when its report has a strength (or WWW, or an area of excellence) on
that question, or a peer judgement in the top half of the template's scale; it wants support
where a finding to develop (or EBI) names the question, or where the judgement is in the bottom
half. A finding that names no question says nothing about a question, so it matches no one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from engine.heatmap import DEVELOP_KINDS, STRENGTH_KINDS, SchoolReport, grade_band
from engine.template import Template

__all__ = [
    "SUGGESTIONS",
    "Standing",
    "Suggestion",
    "SupportMap",
    "needs",
    "strengths",
    "suggest_partners",
    "support_map",
]

SUGGESTIONS = 3
"""How many partner schools are suggested for one area to develop."""


@dataclass(frozen=True, slots=True)
class Standing:
    """Why one report puts a school strong in (or wanting support on) one question.

    Attributes:
        findings: the texts of the report's findings on the question that say so.
        grade: the label of the peer judgement's grade when it says so, else None.
    """

    school_id: str
    question_id: str
    cycle_id: str
    findings: tuple[str, ...] = ()
    grade: str | None = None

    @property
    def weight(self) -> int:
        """How much says so: one for each finding, one for the grade."""
        return len(self.findings) + (self.grade is not None)


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A partner school strong in the question an area to develop is about."""

    partner: Standing
    same_network: bool


def _standings(
    template: Template, report: SchoolReport, kinds: frozenset[str], band: str
) -> list[Standing]:
    labels = {p.id: p.label for p in template.framework.scale}
    found = []
    for q in template.framework.questions:
        texts = tuple(f.text for f in report.on(q.id, kinds))
        judgement = report.peer.get(q.id)
        grade = None
        if judgement is not None and grade_band(template, judgement.grade) == band:
            grade = labels[judgement.grade or ""]
        if texts or grade is not None:
            found.append(Standing(report.school_id, q.id, report.cycle_id, texts, grade))
    return found


def strengths(template: Template, reports: Iterable[SchoolReport]) -> list[Standing]:
    """Every (school, question) the reports say is a strength, in question order per school."""
    return [s for r in reports for s in _standings(template, r, STRENGTH_KINDS, "high")]


def needs(template: Template, reports: Iterable[SchoolReport]) -> list[Standing]:
    """Every (school, question) the reports say the school should develop."""
    return [s for r in reports for s in _standings(template, r, DEVELOP_KINDS, "low")]


def suggest_partners(
    question_id: str,
    host_school_id: str,
    strong: Iterable[Standing],
    network_of: Mapping[str, str | None],
    limit: int = SUGGESTIONS,
) -> list[Suggestion]:
    """The partner schools to suggest for the host's area to develop on `question_id`.

    Schools strong in that question, never the host itself: those of the host's own network
    first (partner schools are usually found there), then the ones more reports say so of,
    then by school id so that the order is stable.
    """
    home = network_of.get(host_school_id)
    best: dict[str, Standing] = {}
    for s in strong:
        if s.question_id != question_id or s.school_id == host_school_id:
            continue
        if s.school_id not in best or s.weight > best[s.school_id].weight:
            best[s.school_id] = s
    ranked = sorted(
        best.values(),
        key=lambda s: (
            not (home is not None and network_of.get(s.school_id) == home),
            -s.weight,
            s.school_id,
        ),
    )
    return [
        Suggestion(s, home is not None and network_of.get(s.school_id) == home)
        for s in ranked[:limit]
    ]


@dataclass(frozen=True, slots=True)
class SupportMap:
    """Strengths by question (in the template's order), and each need with its suggestions."""

    template_id: str
    strong: dict[str, list[Standing]] = field(default_factory=dict)
    wanted: list[tuple[Standing, list[Suggestion]]] = field(default_factory=list)


def support_map(
    template: Template,
    reports: Mapping[str, SchoolReport],
    schools: Sequence[str],
    network_of: Mapping[str, str | None],
    limit: int = SUGGESTIONS,
) -> SupportMap:
    """The map for `schools` (in that order), from their reports in `reports`.

    Partners are suggested from every report given, so a network's page can suggest a school
    of another network whose report the viewer also reads.
    """
    strong = strengths(template, reports.values())
    by_question: dict[str, list[Standing]] = {}
    order = {sid: i for i, sid in enumerate(schools)}
    for q in template.framework.questions:
        here = [s for s in strong if s.question_id == q.id and s.school_id in order]
        if here:
            by_question[q.id] = sorted(here, key=lambda s: order[s.school_id])
    mine = [reports[sid] for sid in schools if sid in reports]
    wanted = [
        (n, suggest_partners(n.question_id, n.school_id, strong, network_of, limit))
        for n in needs(template, mine)
    ]
    return SupportMap(template.id, by_question, wanted)
