"""History rows keep the role a record was made in, and histories written before the format
version keep verifying after an upgrade, on every backend."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from adapters.migrate import upgrade
from adapters.unit_of_work import SqlUnitOfWork
from engine import records
from engine.audit import GENESIS, entry_hash
from service.usecases.core import verify_history
from tests.integration.conftest import UowFactory, execute
from tests.integration.test_storage_contract import HEAD, LEAD, as_, seed


def test_record_entries_carry_the_role(backend: tuple[str, UowFactory, Engine | None]) -> None:
    app = seed(backend[1])
    cycle = app.start_cycle("spp-cycle", "s_a", LEAD)
    app.record(
        cycle.id,
        as_(HEAD),
        lambda t, c, a, now: records.add_evidence(t, c, a, "ev_1", "impact.outcomes", "Data", now),
    )
    app.record(
        cycle.id, as_(HEAD), lambda t, c, a, now: records.set_focus(t, c, a, ["Reading"], now)
    )
    with app.uow(readonly=True) as uow:
        entries = uow.history.for_cycle(cycle.id)
        assert [(e.kind, e.role, e.detail.get("record")) for e in entries] == [
            ("started", "", None),
            ("record", "school_lead", "evidence"),
            ("record", "school_lead", "focus"),
        ]
        assert all(e.content()["format"] == 2 for e in entries)
        assert verify_history(uow) == []


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> Engine:
    found: Engine = request.getfixturevalue(
        f"{'pg' if request.param == 'postgres' else 'sqlite'}_engine"
    )
    upgrade(found)
    return found


def test_a_history_written_before_the_format_version_keeps_verifying(engine: Engine) -> None:
    app = seed(lambda **kw: SqlUnitOfWork(engine, **kw))
    cycle = app.start_cycle("spp-cycle", "s_a", LEAD, cycle_id="c_old")
    # Rewrite the first entry as the code before the format version hashed it.
    with app.uow(readonly=True) as uow:
        first = uow.history.for_cycle("c_old")[0]
    old = entry_hash(GENESIS, first.content(format=1))
    execute(engine, "UPDATE history SET hash = :h WHERE cycle_id = 'c_old' AND seq = 1", h=old)
    execute(engine, "UPDATE cycle SET history_head = :h WHERE id = 'c_old'", h=old)
    with app.uow(readonly=True) as uow:
        assert verify_history(uow, ["c_old"]) == []
    # New entries chain on after it in today's format.
    app.fire(cycle.id, "pause", as_(LEAD))
    with app.uow(readonly=True) as uow:
        entries = uow.history.for_cycle("c_old")
        assert [e.prev_hash for e in entries[1:]] == [old]
        assert verify_history(uow, ["c_old"]) == []
    execute(engine, "UPDATE history SET actor = 'p_x' WHERE cycle_id = 'c_old' AND seq = 1")
    with app.uow(readonly=True) as uow:
        assert [str(p) for p in verify_history(uow, ["c_old"])] == [
            "cycle c_old entry 1: was changed after it was written"
        ]
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM history")).scalar() == 2
