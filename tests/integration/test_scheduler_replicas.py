"""Exactly once across replicas: three sweepers on one PostgreSQL, 1,200+ deadlines due at once.

Threads with their own connections, then separate processes, then separate processes with one
killed with SIGKILL in the middle of its run: every deadline is applied exactly once, by one
replica, with exactly its messages and (for automatic moves) exactly one history entry.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from adapters.clock import FixedClock
from adapters.db import create_db_engine
from adapters.scheduler import DeadlineSweeper, SweepResult
from adapters.unit_of_work import SqlUnitOfWork
from engine.machine import WorkflowMachine
from service.bootstrap import sweep_move
from service.usecases.core import Peerloop, TemplateRegistry
from tests.integration.test_deadlines_sweep import (
    CAL,
    DEADLINE,
    LEAD,
    T0,
    World,
    in_support,
    make_world,
)

REPLICAS = 3
BULK = 1200
ROLES = {
    "reminder": ["school_lead", "partnership_lead"],  # the head and the partnership lead
    "notify": ["school_lead"],
    "escalate": ["partnership_lead", "network_lead"],  # the partnership lead and the NLC chair
    "due": [],
}
MAILS = {"reminder": 2, "notify": 1, "escalate": 2, "due": 0}


class Scenario:
    """1,200 stage deadlines over 60 cycles, and six automatic moves (three of them blocked).

    A sweep locks the cycles of the rows it claims (so that a person changing a cycle and the
    sweep re-checking it take turns), which makes cycles, not rows, the unit of parallelism:
    batches are kept smaller than the number of cycles so that three replicas can share it.
    """

    def __init__(self, w: World) -> None:
        self.w = w
        cycles = [w.app.start_cycle("spp-cycle", "s_a", LEAD).id for _ in range(60)]
        self.movable = [in_support(w, logged=True).id for _ in range(3)]
        self.blocked = [in_support(w, logged=False).id for _ in range(3)]
        stage_due = T0 + timedelta(weeks=6)
        kinds = list(ROLES)
        rows: list[dict[str, Any]] = [
            {
                "cycle_id": cycles[i % len(cycles)],
                "stage": "self_review",
                "key": f"bulk:{i}",
                "kind": kinds[i % len(kinds)],
                "due_at": T0 - timedelta(seconds=BULK - i),
                "stage_due_at": stage_due,
                "roles": ROLES[kinds[i % len(kinds)]],
                "transition": None,
                "status": "pending",
                "note": "",
            }
            for i in range(BULK)
        ]
        for cid in self.movable + self.blocked:
            rows.append(
                {
                    "cycle_id": cid,
                    "stage": "support",
                    "key": "bulk:fire",
                    "kind": "fire",
                    "due_at": T0 - timedelta(minutes=30),
                    "stage_due_at": T0 - timedelta(days=14),
                    "roles": [],
                    "transition": "begin_follow_up",
                    "status": "pending",
                    "note": "",
                }
            )
        with w.engine.begin() as conn:
            conn.execute(DEADLINE.insert(), rows)
            self.due = set(
                conn.execute(
                    sa.select(DEADLINE.c.id).where(
                        DEADLINE.c.status == "pending", DEADLINE.c.due_at <= T0
                    )
                ).scalars()
            )
        assert len(self.due) == BULK + 6
        self.expected_mail = sum(MAILS[kinds[i % len(kinds)]] for i in range(BULK)) + 3

    def check(self, applied_by: dict[str, list[int]]) -> None:
        """Each due row applied once, by the replica that says so; effects exactly once."""
        w = self.w
        counts = Counter(i for ids in applied_by.values() for i in ids)
        doubled = sorted(i for i, n in counts.items() if n > 1)
        assert doubled == [], f"applied more than once: {doubled[:10]}"
        assert set(counts) == self.due, f"missed: {sorted(self.due - set(counts))[:10]}"
        with w.engine.connect() as conn:
            stored = {
                r.id: r
                for r in conn.execute(
                    sa.select(DEADLINE.c.id, DEADLINE.c.status, DEADLINE.c.claimed_by).where(
                        DEADLINE.c.id.in_(sorted(self.due))
                    )
                )
            }
        assert {r.status for r in stored.values()} <= {"fired", "failed", "skipped"}
        for replica, ids in applied_by.items():
            wrong = [i for i in ids if stored[i].claimed_by != replica]
            assert wrong == [], f"{replica} reported rows another replica recorded: {wrong[:5]}"
        mail = w.outbox(channel="email")
        assert len(mail) == self.expected_mail
        assert len({m["dedupe_key"] for m in mail}) == len(mail)
        for cid in self.movable:
            moves = [h for h in w.history(cid) if h["actor"] == "system:scheduler"]
            assert [h["transition"] for h in moves] == ["begin_follow_up"], cid
            assert w.app.cycle(cid).stage == "follow_up"
        for cid in self.blocked:
            assert w.app.cycle(cid).stage == "support"
            assert w.row(cid, "bulk:fire")["status"] == "failed"


@pytest.fixture
def scenario(pg_engine: Engine) -> Scenario:
    return Scenario(make_world(pg_engine))


def test_three_threads_apply_each_deadline_once(scenario: Scenario) -> None:
    w = scenario.w
    barrier = threading.Barrier(REPLICAS)
    results: dict[str, SweepResult] = {}
    errors: list[BaseException] = []

    def run(n: int) -> None:
        sweeper = w.sweeper(replica_id=f"thread-{n}", batch_size=20)
        barrier.wait()
        try:
            results[sweeper.replica_id] = sweeper.sweep()
        except BaseException as exc:  # surfaced below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(REPLICAS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    # Whatever a replica skipped because another held it was applied by that other: nothing is
    # left over for a later sweep.
    assert w.sweeper().sweep().claimed == 0
    scenario.check({r: res.applied for r, res in results.items()})
    assert sum(1 for res in results.values() if res.claimed) >= 2, "the work was shared"


# -- separate processes ------------------------------------------------------------------------


def sweeper_process(
    url: str, now: str, out: str, replica: str, batch_size: int, hang_after: int | None
) -> None:
    """A replica in a process of its own: sweeps, writing each committed batch's ids to `out`.

    With `hang_after`, it stops inside the transaction of the batch after that many committed
    ones (having claimed its rows), says so in `out`, and waits there to be killed.
    """
    engine = create_db_engine(url)
    registry = TemplateRegistry(CAL)
    committed_batches = 0

    with open(out, "a", encoding="utf-8") as f:

        def machine_for(template_id: str, version: int) -> WorkflowMachine:
            with SqlUnitOfWork(engine, readonly=True) as uow:
                return registry.machine(uow, template_id, version)

        @sa.event.listens_for(engine, "after_cursor_execute")
        def hang(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            # Right after the claim (UPDATE ... SET status='applying'), inside the transaction.
            claim = statement.startswith("UPDATE deadline SET status") and "claimed_by" in statement
            if hang_after is not None and claim and committed_batches >= hang_after:
                f.write("in-transaction\n")
                f.flush()
                time.sleep(120)  # a stuck replica, holding its claimed rows, until killed

        def committed(r: SweepResult) -> None:
            nonlocal committed_batches
            committed_batches += 1
            f.write(" ".join(map(str, r.applied)) + "\n")
            f.flush()

        clock = FixedClock(datetime.fromisoformat(now))
        app = Peerloop(lambda **kw: SqlUnitOfWork(engine, calendar=CAL, **kw), clock, registry)
        sweeper = DeadlineSweeper(
            engine,
            machine_for,
            clock.now,
            replica_id=replica,
            batch_size=batch_size,
            move=sweep_move(app, engine),
        )
        sweeper.sweep(on_batch=committed)
        f.write("done\n")
    engine.dispose()


def read_applied(path: Path) -> tuple[list[int], set[str]]:
    """The ids a replica wrote down, and its markers (`done`, `in-transaction`)."""
    if not path.exists():
        return [], set()
    lines = path.read_text().splitlines()
    markers = {"done", "in-transaction"}
    ids = [int(i) for line in lines if line not in markers for i in line.split()]
    return ids, markers & set(lines)


def start_replicas(
    scenario: Scenario, url: str, tmp: Path, batch_size: int, hang_after: int | None = None
) -> list[tuple[str, Path, Any]]:
    # fork: the child starts at once with everything imported; it opens connections of its
    # own (it never touches the parent's pool, and leaves with os._exit, closing nothing).
    ctx = multiprocessing.get_context("fork")
    procs = []
    for n in range(REPLICAS):
        replica, out = f"process-{n}", tmp / f"process-{n}.txt"
        p = ctx.Process(
            target=sweeper_process,
            args=(
                url,
                T0.isoformat(),
                str(out),
                replica,
                batch_size,
                hang_after if n == 0 else None,
            ),
        )
        p.start()
        procs.append((replica, out, p))
    return procs


def pg_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_three_processes_apply_each_deadline_once(scenario: Scenario, tmp_path: Path) -> None:
    procs = start_replicas(scenario, pg_url(scenario.w.engine), tmp_path, batch_size=20)
    for _, _, p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    applied = {}
    for replica, out, _ in procs:
        ids, markers = read_applied(out)
        assert "done" in markers
        applied[replica] = ids
    assert scenario.w.sweeper().sweep().claimed == 0
    scenario.check(applied)


def test_a_replica_killed_mid_run_loses_and_doubles_nothing(
    scenario: Scenario, tmp_path: Path
) -> None:
    """SIGKILL one process inside the transaction of its second batch, rows claimed.

    Its open transaction dies with its connection: PostgreSQL rolls it back, the rows it had
    claimed are pending again, and another sweeper applies them: one still running, or the
    killed replica once restarted.
    """
    w = scenario.w
    procs = start_replicas(scenario, pg_url(w.engine), tmp_path, batch_size=20, hang_after=1)
    victim, victim_out, victim_proc = procs[0]
    give_up = time.monotonic() + 60
    while "in-transaction" not in read_applied(victim_out)[1]:  # a process, not a deadline
        assert time.monotonic() < give_up, "the victim never got into its second batch"
        assert victim_proc.is_alive(), "the victim finished before it could be killed"
        time.sleep(0.01)
    with w.engine.connect() as conn:
        held = conn.execute(
            sa.select(sa.func.count()).select_from(DEADLINE).where(DEADLINE.c.claimed_by == victim)
        ).scalar()
    os.kill(victim_proc.pid, signal.SIGKILL)
    victim_proc.join(timeout=30)
    assert victim_proc.exitcode == -signal.SIGKILL
    for _, _, p in procs[1:]:
        p.join(timeout=120)
        assert p.exitcode == 0

    applied = {replica: read_applied(out)[0] for replica, out, _ in procs}
    # The victim's one committed batch is all the database holds from it: the second batch
    # (claimed, inside its transaction) was rolled back with the connection.
    assert held == len(applied[victim]) == 20
    with w.engine.connect() as conn:
        recorded = set(
            conn.execute(sa.select(DEADLINE.c.id).where(DEADLINE.c.claimed_by == victim)).scalars()
        )
    assert recorded == set(applied[victim])
    # The killed replica restarts and catches up on what its dead transaction held (if the
    # others had not already passed by it).
    restarted = w.sweeper(replica_id=f"{victim}-restarted")
    applied[restarted.replica_id] = restarted.sweep().applied
    scenario.check(applied)
