"""Editing, deleting, inserting or reordering history rows by hand is detected, and located."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.engine import Engine

from adapters.migrate import upgrade
from adapters.unit_of_work import SqlUnitOfWork
from engine import records as R
from engine.cycle import Actor
from service.cli import main
from service.usecases.core import Peerloop, verify_history
from tests.integration.conftest import execute
from tests.integration.test_storage_contract import ADMIN, LEAD, as_, seed

HEAD_B = Actor("p_head_b", frozenset({"school_lead"}), "s_b")


@pytest.fixture(params=["sqlite", "postgres"])
def sql(request: pytest.FixtureRequest) -> Iterator[tuple[Engine, Peerloop, str]]:
    engine: Engine = request.getfixturevalue(
        f"{'pg' if request.param == 'postgres' else 'sqlite'}_engine"
    )
    upgrade(engine)
    app = seed(lambda **kw: SqlUnitOfWork(engine, **kw))
    cycle = app.start_cycle("spp-cycle", "s_a", LEAD, cycle_id="c1")
    app.start_cycle("spp-cycle", "s_b", LEAD, cycle_id="c2")
    for name in ("pause", "reopen", "pause", "reopen"):
        app.fire(cycle.id, name, as_(LEAD))
    app.fire(cycle.id, "withdraw", as_(ADMIN), force_reason="merged into another school")
    yield engine, app, cycle.id


def problems(app: Peerloop) -> list[str]:
    with app.uow(readonly=True) as uow:
        return [str(p) for p in verify_history(uow)]


def test_untouched_history_verifies(sql: tuple[Engine, Peerloop, str]) -> None:
    assert problems(sql[1]) == []


Tamper = Callable[[Engine], None]

TAMPERING: dict[str, tuple[Tamper, str]] = {
    "edit a reason": (
        lambda e: execute(
            e, "UPDATE history SET reason = 'nothing to see' WHERE cycle_id = 'c1' AND seq = 6"
        ),
        "cycle c1 entry 6: was changed after it was written",
    ),
    "edit an actor": (
        lambda e: execute(
            e, "UPDATE history SET actor = 'p_someone_else' WHERE cycle_id = 'c1' AND seq = 2"
        ),
        "cycle c1 entry 2: was changed after it was written",
    ),
    "delete a middle entry": (
        lambda e: execute(e, "DELETE FROM history WHERE cycle_id = 'c1' AND seq = 3"),
        "cycle c1 entry 4: is numbered 4 where 3 was expected",
    ),
    "delete the last entry": (
        lambda e: execute(e, "DELETE FROM history WHERE cycle_id = 'c1' AND seq = 6"),
        "cycle c1: the cycle records 6 entries",
    ),
    "reorder two entries": (
        lambda e: _swap(e, 2, 3),
        "cycle c1 entry 3: does not follow the entry before it",
    ),
    "insert an entry": (
        lambda e: execute(
            e,
            "INSERT INTO history (cycle_id, seq, at, kind, actor, role, payload_digest, forced, "
            "reason, detail, prev_hash, hash) SELECT cycle_id, 7, at, kind, actor, role, "
            "payload_digest, forced, reason, detail, hash, hash FROM history "
            "WHERE cycle_id = 'c1' AND seq = 6",
        ),
        "cycle c1 entry 7: was changed after it was written",
    ),
}


def _swap(engine: Engine, a: int, b: int) -> None:
    """Swap the content of two entries, keeping each row's place: a reordering."""
    cols = "kind, actor, role, transition, from_stage, to_stage, payload_digest, reason, at"
    with engine.begin() as conn:
        rows = {
            r.seq: r._mapping
            for r in conn.execute(
                sa.text(
                    f"SELECT seq, {cols}, prev_hash, hash FROM history "
                    "WHERE cycle_id = 'c1' AND seq IN (:a, :b)"
                ),
                {"a": a, "b": b},
            )
        }
        for seq, other in ((a, b), (b, a)):
            values = {k: v for k, v in rows[other].items() if k != "seq"}
            sets = ", ".join(f"{k} = :{k}" for k in values)
            conn.execute(
                sa.text(f"UPDATE history SET {sets} WHERE cycle_id = 'c1' AND seq = :target"),
                {**values, "target": seq},
            )


@pytest.mark.parametrize("how", sorted(TAMPERING))
def test_tampering_is_detected_and_located(sql: tuple[Engine, Peerloop, str], how: str) -> None:
    engine, app, _ = sql
    tamper, expected = TAMPERING[how]
    tamper(engine)
    found = problems(app)
    assert any(p.startswith(expected) for p in found), found
    assert all(p.startswith("cycle c1") for p in found), "the untouched cycle c2 is not blamed"


def test_audit_verify_command(
    sql: tuple[Engine, Peerloop, str], monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    engine, _, _ = sql
    monkeypatch.setenv("PEERLOOP_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("PEERLOOP_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    ok = runner.invoke(main, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "history intact: 2 cycle(s) checked" in ok.output
    TAMPERING["edit a reason"][0](engine)
    bad = runner.invoke(main, ["audit", "verify"])
    assert bad.exit_code == 1
    assert "cycle c1 entry 6: was changed after it was written" in bad.output


@pytest.fixture
def recorded(sql: tuple[Engine, Peerloop, str]) -> tuple[Engine, Peerloop]:
    """Cycle c2 with evidence and a focus recorded through Peerloop."""
    engine, app, _ = sql
    t = app.template("spp-cycle", 1)
    c = app.cycle("c2")
    now = c.started_at
    events = [
        R.add_evidence(t, c, HEAD_B, "ev1", "impact.outcomes", "Data pack", now),
        R.add_evidence(t, c, HEAD_B, "ev2", "impact.outcomes", "Book look", now),
        R.set_focus(t, c, HEAD_B, ["Reading in KS2"], now),
    ]
    with app.uow() as uow:
        uow.cycles.save(c, c.version - len(events), events)
        uow.commit()
    assert problems(app) == []
    return engine, app


RECORD_TAMPERING: dict[str, tuple[str, str]] = {
    "edit a record": (
        "UPDATE evidence SET title = 'Something else' WHERE id = 'ev1'",
        "cycle c2 entry 2: evidence 'ev1' differs from what the history recorded",
    ),
    "delete a record": (
        "DELETE FROM evidence WHERE id = 'ev2'",
        "cycle c2 entry 3: evidence 'ev2' is gone, but no entry removed it",
    ),
    "insert a record": (
        "INSERT INTO evidence (id, cycle_id, question_id, title, added_by, added_at) "
        "SELECT 'ev9', cycle_id, question_id, 'Slipped in', added_by, added_at FROM evidence "
        "WHERE id = 'ev1'",
        "cycle c2: evidence 'ev9' is not in the history: nobody made it",
    ),
    "edit the focus": (
        "UPDATE cycle SET focus = '[\"Attendance\"]' WHERE id = 'c2'",
        "cycle c2 entry 4: focus 'focus' differs from what the history recorded",
    ),
    "move the stage": (
        "UPDATE cycle SET stage = 'closed' WHERE id = 'c2'",
        "cycle c2 entry 1: the cycle is at stage 'closed', but its history moved it to",
    ),
}


@pytest.mark.parametrize("how", sorted(RECORD_TAMPERING))
def test_records_edited_by_hand_are_found_and_named(
    recorded: tuple[Engine, Peerloop], how: str
) -> None:
    engine, app = recorded
    statement, expected = RECORD_TAMPERING[how]
    execute(engine, statement)
    found = problems(app)
    assert any(p.startswith(expected) for p in found), found
    assert all(p.startswith("cycle c2") for p in found), "the untouched cycle c1 is not blamed"
