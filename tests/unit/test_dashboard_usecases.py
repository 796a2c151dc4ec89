"""The dashboard's use cases over the in-memory fakes: partner schools suggested for a cycle's
areas to develop come only from reports the caller may read; a network is its leads' alone."""

from __future__ import annotations

from typing import Any

import pytest

from engine import records as R
from engine.cycle import Actor
from engine.errors import NotFound
from service.usecases.messages import (
    BoroughView,
    JudgementHeatmap,
    NetworkDashboard,
    ShareReport,
    StartCycle,
    SupportSuggestions,
)
from tests.unit.test_usecases import world

__all__ = ["world"]

ADMIN = Actor("p-admin", frozenset({"admin"}))
REVIEWER = Actor("p-reviewer", frozenset({"reviewer"}))
QUESTION = "impact.disadvantaged"


def _reviewed(uc: Any, who: dict[str, Any], school: str, kind: str, text: str) -> str:
    """An SPP cycle of `school` at its peer review, with one finding on QUESTION."""
    cycle_id = uc.handle(StartCycle("spp-cycle", school), who["pl"]).context.cycle.id
    for step in ("submit_self_review", "start_peer_review"):
        uc.core.fire(cycle_id, step, lambda c: ADMIN, force_reason="test set-up")
    uc.core.record(
        cycle_id,
        lambda c: REVIEWER,
        lambda t, c, a, at: R.add_finding(t, c, a, f"f-{school}", kind, text, QUESTION, at),
    )
    return cycle_id


def test_partners_are_suggested_only_from_reports_the_caller_reads(world: Any) -> None:
    uc, _, who = world
    host = _reviewed(uc, who, "s-h", "area_to_develop", "Gaps for SEND pupils are not closing.")
    partner = _reviewed(uc, who, "s-a", "strength", "SEND pupils make strong progress.")
    _reviewed(uc, who, "s-b", "strength", "Disadvantaged pupils thrive.")
    # Nothing is shared yet: the host's head reads their own report, no one else's.
    found = uc.handle(SupportSuggestions(host), who["head"])
    ((need, partners),) = found.wanted
    assert need.findings == ("Gaps for SEND pupils are not closing.",) and partners == []
    assert found.reports == 0
    # School a's head shares its report with the host school: a is suggested, b still is not.
    uc.handle(ShareReport(partner, "school", "s-h"), who["lead"])
    found = uc.handle(SupportSuggestions(host), who["head"])
    ((need, partners),) = found.wanted
    assert [(p.partner.school_id, p.same_network) for p in partners] == [("s-a", True)]
    assert partners[0].partner.findings == ("SEND pupils make strong progress.",)
    assert found.for_area("Gaps for SEND pupils are not closing.") == partners
    assert found.schools["s-a"] == "School s-a" and found.reports == 1
    # The partnership lead may not read the host's report: its areas are not theirs to see.
    assert uc.handle(SupportSuggestions(host), who["pl"]).wanted == []


def test_a_network_is_its_leads_and_the_borough_the_admins(world: Any) -> None:
    uc, _, who = world
    uc.handle(StartCycle("spp-cycle", "s-h"), who["pl"])
    page = uc.handle(NetworkDashboard(), who["pl"])
    assert page.network.id == "n1" and page.under_way == 1 and not page.borough
    assert [s.name for s in page.not_started] == ["School s-a", "School s-b"]
    for message in (NetworkDashboard(), NetworkDashboard("n1"), JudgementHeatmap("n1")):
        with pytest.raises(NotFound):
            uc.handle(message, who["head"])
    with pytest.raises(NotFound):
        uc.handle(BoroughView(), who["pl"])
    borough = uc.handle(BoroughView(), who["admin"])
    assert [(r.network.id, r.under_way, r.started_schools) for r in borough.rows] == [("n1", 1, 1)]
