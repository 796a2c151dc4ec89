"""What review reports say school by school: each school's latest report, and the judgement
heatmap (schools by framework question, the peer judgement in every cell).

Pure: the caller chooses the reports (only those the viewer may read, `engine.access`), and
this module only arranges them. A template without a grading scale (SPP gives no grades, on
purpose) is mapped by its findings instead: a strength or an area to develop on the question.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from engine.cycle import Cycle, Finding, Judgement
from engine.template import Question, Template

__all__ = [
    "DEVELOP_KINDS",
    "STRENGTH_KINDS",
    "Cell",
    "HeatRow",
    "Heatmap",
    "SchoolReport",
    "grade_band",
    "heatmap",
    "latest_reports",
    "legend",
]

STRENGTH_KINDS = frozenset({"strength", "www", "area_of_excellence"})
"""Finding kinds that say the school is strong (SPP, CQA and Challenge Partners' words)."""
DEVELOP_KINDS = frozenset({"area_to_develop", "area_for_improvement", "ebi"})
"""Finding kinds that name something for the school to develop."""

_TONES = 5
"""Graded cells take one of `grade-1` (best) to `grade-5` (weakest), whatever the scale's length."""


@dataclass(frozen=True, slots=True)
class SchoolReport:
    """What one cycle's review report says: the peer judgements by question, the findings."""

    school_id: str
    cycle_id: str
    started_at: datetime
    peer: Mapping[str, Judgement]
    findings: tuple[Finding, ...]

    @classmethod
    def of(cls, cycle: Cycle) -> SchoolReport:
        peer = {
            q: j
            for (kind, q, school), j in cycle.judgements.items()
            if kind == "peer" and school is None
        }
        found = tuple(sorted(cycle.findings.values(), key=lambda f: (f.at, f.id)))
        return cls(cycle.host_school_id, cycle.id, cycle.started_at, peer, found)

    @property
    def empty(self) -> bool:
        return not (self.peer or self.findings)

    def on(self, question_id: str, kinds: frozenset[str]) -> list[Finding]:
        """The findings of `kinds` the report ties to the question."""
        return [f for f in self.findings if f.question_id == question_id and f.kind in kinds]


def latest_reports(cycles: Iterable[Cycle]) -> dict[str, SchoolReport]:
    """Each school's latest report (by start, then id) among `cycles`; a cycle whose report
    holds nothing yet (no peer judgement, no finding) is passed over."""
    found: dict[str, SchoolReport] = {}
    for cycle in sorted(cycles, key=lambda c: (c.started_at, c.id)):
        report = SchoolReport.of(cycle)
        if not report.empty:
            found[cycle.host_school_id] = report
    return found


def grade_band(template: Template, grade: str | None) -> Literal["high", "low", "middle"] | None:
    """Where a grade sits on the template's scale (best first): the top half is `high`, the
    bottom half `low`, the middle point of an odd scale `middle`; None for no grade or one the
    scale does not hold."""
    ids = [p.id for p in template.framework.scale]
    if grade is None or grade not in ids:
        return None
    rank, n = ids.index(grade), len(ids)
    if rank < n // 2:
        return "high"
    if rank >= n - n // 2:
        return "low"
    return "middle"


@dataclass(frozen=True, slots=True)
class Cell:
    """One school's answer to one question, in words, with a tone for the colour.

    `tone` is `grade-1` (best) to `grade-5` for a grade; `strength`, `develop` or `mixed` for
    findings on an ungraded template; `judged` for a peer judgement without a grade; `none`
    when the report says nothing on the question.
    """

    question_id: str
    words: str
    tone: str
    strengths: int = 0
    to_develop: int = 0


@dataclass(frozen=True, slots=True)
class HeatRow:
    school_id: str
    report: SchoolReport
    cells: tuple[Cell, ...]


@dataclass(frozen=True, slots=True)
class Heatmap:
    """The heatmap of one template: its questions, a row per school with a report, and what
    each tone means (in the order a legend shows them)."""

    template_id: str
    graded: bool
    questions: tuple[Question, ...]
    rows: tuple[HeatRow, ...]
    legend: tuple[tuple[str, str], ...]


def _grade_tone(rank: int, points: int) -> str:
    if points <= 1:
        return "grade-1"
    return f"grade-{1 + round(rank * (_TONES - 1) / (points - 1))}"


def _cell(template: Template, report: SchoolReport, q: Question) -> Cell:
    strong = len(report.on(q.id, STRENGTH_KINDS))
    weak = len(report.on(q.id, DEVELOP_KINDS))
    judgement = report.peer.get(q.id)
    scale = template.framework.scale
    if scale:
        labels = {p.id: (i, p.label) for i, p in enumerate(scale)}
        if judgement is not None and judgement.grade in labels:
            rank, label = labels[judgement.grade]
            return Cell(q.id, label, _grade_tone(rank, len(scale)), strong, weak)
        if judgement is not None:
            return Cell(q.id, "Judged, no grade", "judged", strong, weak)
        return Cell(q.id, "Not judged", "none", strong, weak)
    if strong and weak:
        return Cell(q.id, "Strength and area to develop", "mixed", strong, weak)
    if strong:
        return Cell(q.id, "Strength", "strength", strong, weak)
    if weak:
        return Cell(q.id, "Area to develop", "develop", strong, weak)
    if judgement is not None:
        return Cell(q.id, "Judged, no finding", "judged", strong, weak)
    return Cell(q.id, "Nothing recorded", "none", strong, weak)


def legend(template: Template) -> tuple[tuple[str, str], ...]:
    """(tone, words) for every tone a heatmap of the template can show."""
    scale = template.framework.scale
    if scale:
        grades = tuple((_grade_tone(i, len(scale)), p.label) for i, p in enumerate(scale))
        return (*grades, ("judged", "Judged, no grade"), ("none", "Not judged"))
    return (
        ("strength", "Strength"),
        ("develop", "Area to develop"),
        ("mixed", "Strength and area to develop"),
        ("judged", "Judged, no finding"),
        ("none", "Nothing recorded"),
    )


def heatmap(
    template: Template, reports: Mapping[str, SchoolReport], schools: Sequence[str]
) -> Heatmap:
    """A row for each of `schools` (in that order) that has a report in `reports`, a cell for
    each of the template's questions."""
    questions = template.framework.questions
    rows = tuple(
        HeatRow(sid, reports[sid], tuple(_cell(template, reports[sid], q) for q in questions))
        for sid in schools
        if sid in reports
    )
    return Heatmap(template.id, bool(template.framework.scale), questions, rows, legend(template))
