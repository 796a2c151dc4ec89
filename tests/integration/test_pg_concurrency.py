"""Real connections in threads racing on one cycle in PostgreSQL: one winner per round."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.engine import Engine

from adapters.migrate import upgrade
from adapters.unit_of_work import SqlUnitOfWork
from engine.errors import StaleCycle, TransitionNotAvailable
from service.usecases.core import Peerloop
from tests.integration.test_storage_contract import LEAD, as_, seed

WRITERS = 8
ROUNDS = 10


def race(app: Peerloop, cycle_id: str, move: str, version: int) -> list[str]:
    """WRITERS threads fire `move` at the same version at the same moment."""
    barrier = threading.Barrier(WRITERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def writer() -> None:
        barrier.wait()
        try:
            app.fire(cycle_id, move, as_(LEAD), expected_version=version)
            result = "won"
        except (StaleCycle, TransitionNotAvailable):
            result = "lost"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.mark.parametrize("name", ["postgres", "sqlite"])
def test_racing_writers_one_winner_per_round(request: pytest.FixtureRequest, name: str) -> None:
    engine: Engine = request.getfixturevalue("pg_engine" if name == "postgres" else "sqlite_engine")
    upgrade(engine)
    app = seed(lambda **kw: SqlUnitOfWork(engine, **kw))
    cycle = app.start_cycle("spp-cycle", "s_a", LEAD, cycle_id="race")

    for round_no in range(ROUNDS):
        current = app.cycle(cycle.id)
        move = "pause" if current.stage == "self_review" else "reopen"
        outcomes = race(app, cycle.id, move, current.version)
        assert sorted(outcomes) == ["lost"] * (WRITERS - 1) + ["won"], f"round {round_no}"
        assert app.cycle(cycle.id).version == current.version + 1

    with app.uow(readonly=True) as uow:
        entries = uow.history.for_cycle(cycle.id)
    seqs = [e.seq for e in entries]
    assert seqs == list(range(1, ROUNDS + 2)), "no gap and no duplicate in the history"
    assert [e.kind for e in entries] == ["started"] + ["transition"] * ROUNDS


@pytest.mark.parametrize("name", ["postgres", "sqlite"])
def test_same_idempotency_key_at_once_acts_once(request: pytest.FixtureRequest, name: str) -> None:
    engine: Engine = request.getfixturevalue("pg_engine" if name == "postgres" else "sqlite_engine")
    upgrade(engine)
    app = seed(lambda **kw: SqlUnitOfWork(engine, **kw))
    cycle = app.start_cycle("spp-cycle", "s_a", LEAD, cycle_id="twice")
    barrier = threading.Barrier(WRITERS)
    results: list[object] = []
    lock = threading.Lock()

    def retrying_client() -> None:
        barrier.wait()
        outcome: object
        try:
            outcome = app.fire(cycle.id, "pause", as_(LEAD), idempotency_key="retry-1")
        except Exception as exc:  # any failure is what the test looks for
            outcome = exc
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=retrying_client) for _ in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == results[0] for r in results), results
    assert app.cycle(cycle.id).version == cycle.version + 1
    with app.uow(readonly=True) as uow:
        assert [e.kind for e in uow.history.for_cycle(cycle.id)] == ["started", "transition"]
