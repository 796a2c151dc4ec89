"""How long evidence is kept after its cycle closes (`engine.retention`): nothing goes while
a cycle runs or before its time, everything of it after; a template's rule beats the
deployment's; the years are calendar years (Hypothesis)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from adapters.template_files import read_document, read_file
from engine.cycle import Evidence, EvidenceFile
from engine.retention import expired_evidence, kept_until
from tests.unit.helpers import NOW, make_cycle

SPP = read_file(Path(__file__).parents[2] / "workflows" / "spp-cycle.yaml").build()
CLOSED = next(s.id for s in SPP.stages if s.terminal)
RUNNING = SPP.initial_stage.id


def _cycle(stage: str, closed_at: datetime) -> object:
    cycle = make_cycle(SPP, stage)
    cycle.stage_entered_at = closed_at
    file = EvidenceFile("a" * 64, 10, "application/pdf", "work.pdf")
    cycle.evidence["e1"] = Evidence("e1", "q", "Year 6 books", "p1", closed_at, file)
    cycle.evidence["e2"] = Evidence("e2", "q", "Pupil voice notes", "p1", closed_at)
    return cycle


def test_evidence_goes_only_from_a_closed_cycle_once_its_time_is_up() -> None:
    closed = datetime(2020, 7, 20, 15, 0, tzinfo=UTC)
    running = _cycle(RUNNING, closed)
    assert expired_evidence(SPP, running, 1, NOW.replace(year=2030)) == []  # still running
    cycle = _cycle(CLOSED, closed)
    assert expired_evidence(SPP, cycle, None, datetime(2099, 1, 1, tzinfo=UTC)) == []  # no rule
    assert expired_evidence(SPP, cycle, 6, closed.replace(year=2026) - timedelta(seconds=1)) == []
    gone = expired_evidence(SPP, cycle, 6, closed.replace(year=2026))
    assert [(e.evidence_id, e.has_file, e.years) for e in gone] == [
        ("e1", True, 6),
        ("e2", False, 6),
    ]
    # The template's rule beats the deployment's.
    kept_two = dataclasses.replace(SPP, evidence_kept_years=2)
    assert [e.years for e in expired_evidence(kept_two, cycle, 6, closed.replace(year=2022))] == [
        2,
        2,
    ]


def test_a_template_says_how_long_its_evidence_is_kept() -> None:
    text = (Path(__file__).parents[2] / "workflows" / "cqa.yaml").read_text()
    good = text.replace("\nroles:", "\nretention: {evidence_years: 7}\n\nroles:", 1)
    assert read_document(good).build().evidence_kept_years == 7
    for bad, said in (("0", "got 0"), ("seven", "got 'seven'"), ("true", "got True")):
        issues = read_document(
            good.replace("evidence_years: 7", f"evidence_years: {bad}")
        ).validate()
        assert [(i.issue.location, i.issue.code) for i in issues] == [
            ("retention.evidence_years", "bad_value")
        ]
        assert said in issues[0].issue.message


@given(
    closed=st.datetimes(datetime(2000, 1, 1), datetime(2090, 12, 31), timezones=st.just(UTC)),
    years=st.integers(1, 10),
)
def test_kept_until_is_that_many_calendar_years_later(closed: datetime, years: int) -> None:
    until = kept_until(closed, years)
    assert until.year == closed.year + years and until.month == closed.month
    assert until.time() == closed.time() and until.tzinfo == closed.tzinfo
    # 29 February keeps to 28 February of a year without one; any other day keeps its day.
    assert until.day == closed.day or (closed.month, closed.day, until.day) == (2, 29, 28)
