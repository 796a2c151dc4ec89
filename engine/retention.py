"""How long a cycle's evidence is kept once the cycle has closed, and what is due to go.

Evidence holds pupils' work and interview notes: a school keeps it while the cycle runs and
for as long as its records policy says after, then it goes. A template may say how many years
(`Template.evidence_kept_years`); otherwise the deployment's rule applies, and with neither
evidence is kept. A cycle has closed when it is at a terminal stage; it closed when it
entered that stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.cycle import Cycle
from engine.template import Template

__all__ = ["Expired", "expired_evidence", "kept_until"]


@dataclass(frozen=True, slots=True)
class Expired:
    """A piece of evidence whose time is up: of which cycle, closed when, kept how long."""

    cycle_id: str
    evidence_id: str
    title: str
    has_file: bool
    closed_at: datetime
    years: int


def kept_until(closed_at: datetime, years: int) -> datetime:
    """The moment `years` after `closed_at` (29 February counts to 28 February)."""
    try:
        return closed_at.replace(year=closed_at.year + years)
    except ValueError:
        return closed_at.replace(year=closed_at.year + years, day=28)


def expired_evidence(
    template: Template, cycle: Cycle, default_years: int | None, now: datetime
) -> list[Expired]:
    """The cycle's evidence due to go at `now`: none while the cycle runs, or when neither
    the template nor the deployment (`default_years`) limits how long it is kept."""
    years = template.evidence_kept_years or default_years
    if years is None or not template.has_stage(cycle.stage):
        return []
    if not template.stage(cycle.stage).terminal:
        return []
    if kept_until(cycle.stage_entered_at, years) > now:
        return []
    return [
        Expired(cycle.id, e.id, e.title, e.file is not None, cycle.stage_entered_at, years)
        for e in cycle.evidence.values()
    ]
