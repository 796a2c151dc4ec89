"""Pages and their order for the dashboard reads, over the in-memory fake, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from adapters.clock import FixedClock
from engine.ports import CycleFilter
from service.usecases.core import Peerloop
from tests.integration.conftest import UowFactory
from tests.integration.test_storage_contract import ADMIN, LEAD, T0, as_, seed

LATER = T0 + timedelta(weeks=30)
"""Past every self-review due time of the cycles started below."""


@pytest.fixture
def app(backend: tuple[str, UowFactory, Engine | None]) -> Peerloop:
    return seed(backend[1])


def start_staggered(app: Peerloop, schools: list[str]) -> list[str]:
    """Start a cycle at each school a day apart (so each has its own due times); their ids."""
    clock = app.clock
    assert isinstance(clock, FixedClock)
    ids = []
    for i, school in enumerate(schools):
        clock.set(T0 + timedelta(days=i))
        ids.append(app.start_cycle("spp-cycle", school, LEAD, cycle_id=f"c{i}").id)
    clock.set(T0)
    return ids


def test_overdue_cycles_come_most_overdue_first_in_pages(app: Peerloop) -> None:
    # Started in the order c0..c4; c1 then moves on, so its due time is the latest.
    ids = start_staggered(app, ["s_a", "s_b", "s_c", "s_d", "s_a"])
    app.clock.set(T0 + timedelta(days=10))  # type: ignore[attr-defined]
    app.fire("c1", "pause", as_(LEAD))
    app.fire("c1", "reopen", as_(LEAD))
    listed = app.cycles(CycleFilter(overdue_at=LATER))
    assert [c.id for c in listed] == ["c0", "c2", "c3", "c4", "c1"]
    dues = [c.next_due_at for c in listed]
    assert all(d is not None and d < LATER for d in dues)
    assert dues == sorted(dues)  # type: ignore[type-var]
    assert [c.id for c in app.cycles(CycleFilter(overdue_at=LATER, limit=2))] == ["c0", "c2"]
    assert [c.id for c in app.cycles(CycleFilter(overdue_at=LATER, network_id="n1"))] == [
        "c0",
        "c4",
        "c1",
    ]
    assert [c.id for c in app.cycles(CycleFilter(overdue_at=LATER, stage="self_review"))] == [
        "c0",
        "c2",
        "c3",
        "c4",
        "c1",
    ]
    # Without overdue_at the list stays in start order.
    assert [c.id for c in app.cycles(CycleFilter())] == ids
    # Closed (withdrawn) cycles have no pending due time and are never overdue.
    app.fire("c0", "withdraw", as_(ADMIN), force_reason="school closed")
    assert "c0" not in {c.id for c in app.cycles(CycleFilter(overdue_at=LATER))}


def test_cycles_on_time_are_the_rest_in_start_order_and_fill_their_page(app: Peerloop) -> None:
    ids = start_staggered(app, ["s_a", "s_b", "s_c", "s_d", "s_a"])
    dues = sorted(c.next_due_at for c in app.cycles(CycleFilter()) if c.next_due_at)
    at = dues[2] + timedelta(seconds=1)  # three overdue, two not yet
    overdue = {c.id for c in app.cycles(CycleFilter(overdue_at=at))}
    assert overdue and overdue != set(ids)  # the earlier starts only: the test needs both
    on_time = [c.id for c in app.cycles(CycleFilter(on_time_at=at))]
    assert on_time == [i for i in ids if i not in overdue]
    assert [c.id for c in app.cycles(CycleFilter(on_time_at=at, limit=1))] == on_time[:1]
    # Paused: no due time, so never overdue.
    app.fire(ids[0], "pause", as_(LEAD))
    assert ids[0] in {c.id for c in app.cycles(CycleFilter(on_time_at=LATER))}


def test_overdue_order_key_merges_pages_as_listed(app: Peerloop) -> None:
    start_staggered(app, ["s_a", "s_c", "s_b", "s_d"])
    where = CycleFilter(overdue_at=LATER)
    parts = [app.cycles(CycleFilter(overdue_at=LATER, network_id=n, limit=1)) for n in ("n1", "n2")]
    merged = sorted((c for part in parts for c in part), key=where.order_key)
    assert [c.id for c in merged] == [c.id for c in app.cycles(CycleFilter(overdue_at=LATER))][:2]


def test_pending_deadlines_page_by_due_time_and_id(app: Peerloop) -> None:
    start_staggered(app, ["s_a", "s_b", "s_c"])
    with app.uow(readonly=True) as uow:
        every = uow.deadlines.pending(limit=None)
        assert len(every) == 15  # five a self-review
        assert [(d.due_at, d.id) for d in every] == sorted((d.due_at, d.id) for d in every)
        assert uow.deadlines.pending() == every  # the default page holds them all
        pages, after = [], None
        while True:
            page = uow.deadlines.pending(limit=4, after=after)
            pages.append(page)
            if len(page) < 4:
                break
            after = (page[-1].due_at, page[-1].id)
        assert [len(p) for p in pages] == [4, 4, 4, 3]
        assert [d for p in pages for d in p] == every
        cut = every[6].due_at
        before = uow.deadlines.pending(due_before=cut, limit=None)
        assert before == [d for d in every if d.due_at < cut]
        assert uow.deadlines.pending(due_before=cut, limit=2, after=(every[0].due_at, every[0].id))
        assert uow.deadlines.pending(cycle_id="c1", limit=None) == [
            d for d in every if d.cycle_id == "c1"
        ]
        assert uow.deadlines.pending(after=(every[-1].due_at, every[-1].id)) == []


def test_pending_paging_breaks_ties_on_due_time_by_id(app: Peerloop) -> None:
    # Started at the same moment: every due time is shared by two rows.
    app.start_cycle("spp-cycle", "s_a", LEAD, cycle_id="c0")
    app.start_cycle("spp-cycle", "s_c", LEAD, cycle_id="c1")
    with app.uow(readonly=True) as uow:
        every = uow.deadlines.pending(limit=None)
        assert len({d.due_at for d in every}) < len(every)
        first = uow.deadlines.pending(limit=1)
        rest = uow.deadlines.pending(limit=None, after=(first[0].due_at, first[0].id))
        assert first + rest == every


def test_school_history_in_one_list_by_time_cycle_and_seq(app: Peerloop) -> None:
    start_staggered(app, ["s_a", "s_b", "s_a"])  # c0 and c2 at s_a
    app.clock.set(T0 + timedelta(days=1))  # type: ignore[attr-defined]
    app.fire("c0", "pause", as_(LEAD))
    app.clock.set(T0 + timedelta(days=5))  # type: ignore[attr-defined]
    app.fire("c2", "pause", as_(LEAD))
    app.fire("c0", "reopen", as_(LEAD))  # the same moment as c2's pause: by cycle id
    with app.uow(readonly=True) as uow:
        entries = uow.history.for_school("s_a")
        keys = [(e.at, e.cycle_id, e.seq) for e in entries]
        assert keys == sorted(keys)
        assert {e.cycle_id for e in entries} == {"c0", "c2"}
        each = [e for c in ("c0", "c2") for e in uow.history.for_cycle(c)]
        assert sorted(each, key=lambda e: (e.at, e.cycle_id, e.seq)) == entries
        assert [(e.cycle_id, e.kind) for e in entries] == [
            ("c0", "started"),
            ("c0", "transition"),
            ("c2", "started"),
            ("c0", "transition"),
            ("c2", "transition"),
        ]
        pages, after = [], None
        while page := uow.history.for_school("s_a", limit=2, after=after):
            pages.append(page)
            after = (page[-1].at, page[-1].cycle_id, page[-1].seq)
        assert [len(p) for p in pages] == [2, 2, 1]
        assert [e for p in pages for e in p] == entries
        assert uow.history.for_school("s_d") == []
        assert uow.history.for_school("s_b")[0].cycle_id == "c1"
