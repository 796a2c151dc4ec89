"""The dashboard's figures, one contract over the in-memory fake, SQLite and PostgreSQL: counts by
stage with the overdue, cycles started per school, open actions; filters read as a union."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.engine import Engine

from adapters.clock import FixedClock
from engine import records as R
from engine.cycle import Actor
from engine.ports import CycleFilter, StageCount
from service.usecases.core import Peerloop
from tests.integration.conftest import UowFactory
from tests.integration.test_storage_contract import ADMIN, HEAD, T0, as_, seed

ENDED = {("spp-cycle", "closed"), ("spp-cycle", "withdrawn")}
HEAD_D = Actor("p_head_d", frozenset({"school_lead"}), "s_d")


@pytest.fixture
def app(backend: tuple[str, UowFactory, Engine | None]) -> Peerloop:
    return seed(backend[1])


def _to_workshop(app: Peerloop, cycle_id: str) -> None:
    for step in ("submit_self_review", "start_peer_review", "complete_peer_review"):
        app.fire(cycle_id, step, as_(ADMIN), force_reason="test set-up")


def _actions(app: Peerloop, cycle_id: str, head: Actor, dues: list[date]) -> None:
    c = app.cycle(cycle_id)
    t = app.template(c.template_id, c.template_version)
    version = c.version
    events = [
        R.save_action(t, c, head, f"{cycle_id}-a{i}", f"Action {i}", "Deputy", due, "Seen", T0)
        for i, due in enumerate(dues)
    ]
    with app.uow() as uow:
        uow.cycles.save(c, version, events)
        uow.commit()


@pytest.fixture
def cycles(app: Peerloop) -> dict[str, str]:
    """n1: s_a in its workshop (three actions, one met), s_b in self-review, s_a's cycle of
    last year still in self-review; n2: s_c in self-review, s_d withdrawn with an open action."""
    clock = app.clock
    assert isinstance(clock, FixedClock)
    clock.set(T0 - timedelta(days=400))
    last_year = app.start_cycle("spp-cycle", "s_a", ADMIN, cycle_id="last-year").id
    clock.set(T0)
    found = {"last_year": last_year}
    for key, school in (("a", "s_a"), ("b", "s_b"), ("c", "s_c"), ("d", "s_d")):
        found[key] = app.start_cycle("spp-cycle", school, ADMIN, cycle_id=f"cyc-{key}").id
    _to_workshop(app, found["a"])
    _actions(app, found["a"], HEAD, [date(2026, 10, 1), date(2026, 10, 2), date(2027, 3, 1)])
    app.fire(found["a"], "agree_actions", as_(ADMIN), force_reason="test set-up")
    app.record(
        found["a"],
        as_(HEAD),
        lambda t, c, a, at: R.set_action_status(t, c, a, "cyc-a-a1", "met", "Done", at),
    )
    _to_workshop(app, found["d"])
    _actions(app, found["d"], HEAD_D, [date(2026, 10, 1)])
    app.fire(found["d"], "withdraw", as_(ADMIN), force_reason="school closed")
    return found


def test_stage_counts_group_by_network_template_and_stage_with_the_overdue(
    app: Peerloop, cycles: dict[str, str]
) -> None:
    later = T0 + timedelta(days=60)
    with app.uow(readonly=True) as uow:
        n1 = uow.cycles.stage_counts([CycleFilter(network_id="n1")], later)
        assert list(n1) == [
            StageCount("n1", "spp-cycle", "self_review", 2, 2),
            StageCount("n1", "spp-cycle", "support", 1, 0),
        ]
        # Filters are a union: a cycle both match counts once.
        both = [CycleFilter(network_id="n1"), CycleFilter(school_id="s_a")]
        assert list(uow.cycles.stage_counts(both, later)) == n1
        everywhere = {
            (c.network_id, c.stage): c for c in uow.cycles.stage_counts([CycleFilter()], T0)
        }
        assert everywhere[("n2", "withdrawn")].cycles == 1
        assert everywhere[("n1", "self_review")] == StageCount(
            "n1", "spp-cycle", "self_review", 2, 1
        )
        only = uow.cycles.stage_counts([CycleFilter(ids=frozenset({cycles["b"]}))], T0)
        assert list(only) == [StageCount("n1", "spp-cycle", "self_review", 1, 0)]
        assert list(uow.cycles.stage_counts([], T0)) == []


def test_cycles_started_per_school_in_a_time_window(app: Peerloop, cycles: dict[str, str]) -> None:
    with app.uow(readonly=True) as uow:
        year = (T0 - timedelta(days=30), T0 + timedelta(days=300))
        assert uow.cycles.started_by_school([CycleFilter()], *year) == {
            "s_a": 1,
            "s_b": 1,
            "s_c": 1,
            "s_d": 1,
        }
        assert uow.cycles.started_by_school([CycleFilter(network_id="n2")], *year) == {
            "s_c": 1,
            "s_d": 1,
        }
        ever = (T0 - timedelta(days=500), T0 + timedelta(days=1))
        assert uow.cycles.started_by_school([CycleFilter(school_id="s_a")], *ever) == {"s_a": 2}
        assert uow.cycles.started_by_school([], *year) == {}


def test_open_actions_leave_out_the_done_and_the_ended_soonest_first(
    app: Peerloop, cycles: dict[str, str]
) -> None:
    with app.uow(readonly=True) as uow:
        every = [CycleFilter()]
        found = uow.cycles.open_actions(every, due_before=date(2026, 12, 1))
        assert [(a.cycle_id, a.action_id, a.due) for a in found] == [
            ("cyc-a", "cyc-a-a0", date(2026, 10, 1)),
            ("cyc-d", "cyc-d-a0", date(2026, 10, 1)),
        ]
        live = uow.cycles.open_actions(every, due_before=date(2026, 12, 1), ended=ENDED)
        assert [(a.action_id, a.title, a.owner, a.network_id, a.stage) for a in live] == [
            ("cyc-a-a0", "Action 0", "Deputy", "n1", "support")
        ]
        ahead = uow.cycles.open_actions(
            every, due_before=date(2027, 6, 1), due_from=date(2026, 10, 2), ended=ENDED
        )
        assert [a.action_id for a in ahead] == ["cyc-a-a2"]
        assert (
            uow.cycles.open_actions(every, due_before=date(2027, 6, 1), limit=1)[0].action_id
            == "cyc-a-a0"
        )
        assert uow.cycles.open_action_counts(every, due_before=date(2026, 12, 1)) == {
            "n1": 1,
            "n2": 1,
        }
        assert uow.cycles.open_action_counts(
            [CycleFilter(network_id="n1")], due_before=date(2027, 6, 1), ended=ENDED
        ) == {"n1": 2}
        assert uow.cycles.open_actions([], due_before=date(2030, 1, 1)) == []
        assert uow.cycles.open_action_counts([], due_before=date(2030, 1, 1)) == {}
