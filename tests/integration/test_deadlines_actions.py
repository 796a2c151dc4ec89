"""Action deadlines are stored with the action, the same on the in-memory fake, SQLite and
PostgreSQL: planned when an action is saved, kept when it is edited, re-planned when its due
date moves, cancelled when it is done, and untouched when the cycle changes stage."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from adapters.clock import FixedClock
from engine import records as R
from engine.calendar import WeekdayCalendar
from engine.directory import Network, School
from service.usecases.core import Peerloop, TemplateRegistry
from tests.integration.conftest import UowFactory
from tests.integration.test_deadlines_sweep import ADMIN, CHAMPION, HEAD, SPP, as_

LONDON = ZoneInfo("Europe/London")
T0 = datetime(2026, 9, 7, 8, 0, tzinfo=UTC)


def _app(factory: UowFactory) -> Peerloop:
    cal = WeekdayCalendar(LONDON)
    app = Peerloop(lambda **kw: factory(calendar=cal, **kw), FixedClock(T0), TemplateRegistry(cal))
    with app.uow() as uow:
        uow.directory.add_network(Network("n1", "North"))
        uow.directory.add_school(School("s_a", "100001", "School A", "Primary", "n1"))
        uow.commit()
    app.upload_template(SPP, "spp-cycle.yaml", publish=True)
    return app


def _rows(app: Peerloop, cycle_id: str) -> list[tuple[str, str, datetime]]:
    with app.uow(readonly=True) as uow:
        rows = uow.deadlines.for_cycle(cycle_id)
    return sorted((r.key, r.status, r.due_at) for r in rows if r.action_id == "a1")


def _save(app: Peerloop, cycle_id: str, due: date, title: str = "Raise reading") -> None:
    app.record(
        cycle_id,
        as_(CHAMPION),
        lambda t, c, a, now: R.save_action(t, c, a, "a1", title, "Deputy", due, "80%", now),
    )


def test_action_deadlines_follow_the_action(backend: tuple[str, UowFactory, Engine | None]) -> None:
    app = _app(backend[1])
    cycle = app.start_cycle("spp-cycle", "s_a", HEAD)
    for move in ("submit_self_review", "start_peer_review", "complete_peer_review"):
        app.fire(cycle.id, move, as_(ADMIN), force_reason="set-up")

    _save(app, cycle.id, date(2026, 10, 16))
    soon = datetime(2026, 10, 2, 23, 0, tzinfo=UTC)  # midnight in London, summer time
    overdue = datetime(2026, 10, 16, 23, 0, tzinfo=UTC)
    planned = [("action:a1:overdue", "pending", overdue), ("action:a1:soon", "pending", soon)]
    assert _rows(app, cycle.id) == planned

    _save(app, cycle.id, date(2026, 10, 16), title="Raise reading for all")
    assert _rows(app, cycle.id) == planned, "an edit that keeps the date keeps the rows"

    _save(app, cycle.id, date(2026, 11, 6))
    moved = _rows(app, cycle.id)
    assert [(k, s) for k, s, _ in moved] == [
        ("action:a1:overdue", "cancelled"),
        ("action:a1:overdue", "pending"),
        ("action:a1:soon", "cancelled"),
        ("action:a1:soon", "pending"),
    ]

    app.fire(cycle.id, "agree_actions", as_(ADMIN), force_reason="set-up")
    assert _rows(app, cycle.id) == moved, "leaving the stage leaves action deadlines alone"

    app.record(
        cycle.id,
        as_(HEAD),
        lambda t, c, a, now: R.set_action_status(t, c, a, "a1", "in_progress", "", now),
    )
    assert _rows(app, cycle.id) == moved
    app.record(
        cycle.id, as_(HEAD), lambda t, c, a, now: R.set_action_status(t, c, a, "a1", "met", "", now)
    )
    assert {s for _, s, _ in _rows(app, cycle.id)} == {"cancelled"}
    with app.uow(readonly=True) as uow:
        assert [d for d in uow.deadlines.pending(cycle_id=cycle.id) if d.action_id] == []
