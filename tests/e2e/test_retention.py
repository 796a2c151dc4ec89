"""Retention over a real store: an SPP cycle played to closed keeps its evidence until six
years after it closed; a dry run says what would go and changes nothing; then the files and
their evidence go, each erasure in the cycle's history by Peerloop itself with the rule as its
reason, and the history still verifies."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.access import SYSTEM_SCHEDULER, Principal
from engine.errors import AccessDenied
from service.jobs import SCHEDULER, apply_retention
from service.usecases.core import verify_history
from service.usecases.messages import ApplyRetention
from tests.e2e.flows import spp_to, start
from tests.e2e.world import World


def _files(world: World, c: str) -> list[str]:
    cycle = world.container.app.cycle(c)
    return [e.file.sha256 for e in cycle.evidence.values() if e.file is not None]


def test_evidence_goes_six_years_after_its_cycle_closed(world: World) -> None:
    c = start(world)
    spp_to(world, c, "closed")
    files = _files(world, c)
    assert files and all(world.container.files.exists(sha) for sha in files)
    uc = world.container.usecases

    # Not yet: five years on nothing is due.
    world.clock.advance(timedelta(days=5 * 365))
    assert uc.handle(ApplyRetention(True, 6), SCHEDULER).due == []
    # Six years on, a dry run lists every piece and erases none.
    world.clock.advance(timedelta(days=366 + 2))
    dry = uc.handle(ApplyRetention(True, 6), SCHEDULER)
    evidence = world.container.app.cycle(c).evidence
    assert {e.evidence_id for e in dry.due} == set(evidence) and dry.erased == []
    assert world.container.app.cycle(c).evidence == evidence

    # The scheduler's nightly run erases.
    done = uc.handle(ApplyRetention(False, 6), SCHEDULER)
    assert {e.evidence_id for e in done.erased} == set(evidence) and done.failed == []
    assert world.container.app.cycle(c).evidence == {}
    assert not any(world.container.files.exists(sha) for sha in files)
    # (Six years on, everyone's API token has long expired: the history is read directly.)
    with world.container.uow(readonly=True) as uow:
        history = uow.history.for_cycle(c)
        assert verify_history(uow, [c]) == []
    erased = [e for e in history if e.detail.get("change") == "erased"]
    assert len(erased) == len(evidence)
    assert all(e.actor == SYSTEM_SCHEDULER and "retention rule" in e.reason for e in erased)
    # Run again: nothing is left to go.
    assert uc.handle(ApplyRetention(False, 6), SCHEDULER).due == []


def test_without_a_rule_nothing_goes_and_only_the_admin_runs_it(world: World) -> None:
    c = start(world)
    spp_to(world, c, "closed")
    world.clock.advance(timedelta(days=50 * 365))
    assert apply_retention(world.container).due == []  # the deployment sets no rule
    assert world.container.app.cycle(c).evidence
    with world.container.uow(readonly=True) as uow:
        head = uow.directory.get_person("p-head-h")
        grants = tuple(uow.directory.grants_for(head.id))
    with pytest.raises(AccessDenied):
        world.container.usecases.handle(ApplyRetention(True, 1), Principal(head, grants))
