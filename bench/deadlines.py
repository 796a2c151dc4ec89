"""Deadlines: Peerloop's sweep (due rows claimed and applied in batches) against one APScheduler
job per deadline in its SQLAlchemyJobStore, in the same run, on SQLite and PostgreSQL.

Two measurements:

- apply: 10,000 due deadlines (reminders, notices, escalations and overdue flags over 100
  cycles). Peerloop sweeps them; the baseline runs one stored APScheduler job per deadline,
  each job applying its deadline in a transaction of its own (the same effect code, so the
  ratio is the cost of the mechanism).
- catch-up at start: 100,000 rows fell due while the service was down. Peerloop: a freshly
  made sweeper (a restarted replica) sweeps them. Baseline: a fresh scheduler starts on a job
  store holding 100,000 due jobs and runs them all. Both sides do the least a deadline can
  (Peerloop: flag it overdue; APScheduler: a job that does nothing), so this measures restart
  and bookkeeping. Timed once per database (a round takes seconds to minutes); the figures go
  in the report below the table. `PEERLOOP_BENCH_CATCHUP` sets the count (default 100,000).
"""

from __future__ import annotations

import os
import pickle
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import sqlalchemy as sa
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger

from adapters.clock import FixedClock
from adapters.db import create_db_engine
from adapters.migrate import upgrade
from adapters.scheduler import DeadlineSweeper
from adapters.tables import DeadlineTableRow, OutboxRow
from adapters.unit_of_work import SqlUnitOfWork
from bench.common import REGISTRY, Case, Comparison, group
from engine.calendar import WeekdayCalendar
from engine.cycle import Actor
from engine.directory import Grant, Network, Person, School
from engine.machine import WorkflowMachine
from service.bootstrap import sweep_move
from service.usecases.core import Peerloop, TemplateRegistry

__all__ = ["apply_deadline", "deadlines", "nothing"]

PG_URL = os.environ.get("PEERLOOP_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
SPP = Path(__file__).resolve().parents[1] / "workflows" / "spp-cycle.yaml"
N_APPLY = int(os.environ.get("PEERLOOP_BENCH_DEADLINES", "10000"))
N_CATCHUP = int(os.environ.get("PEERLOOP_BENCH_CATCHUP", "100000"))
N_BASELINE = min(N_APPLY, int(os.environ.get("PEERLOOP_BENCH_BASELINE", "2000")))
"""Jobs the apply baseline runs per round: its cost per job does not depend on how many there
are, and 10,000 of them take minutes a round on PostgreSQL; set it to 10000 for the full run."""
CYCLES = 100
TARGET_RATE = 1000.0
"""Deadlines applied per second, at least."""
TARGET = 1.0
"""The sweep must not be slower than one job per deadline (ratio ≤ 1)."""

_T0 = datetime(2026, 9, 7, 8, 0, tzinfo=UTC)
_CAL = WeekdayCalendar(ZoneInfo("Europe/London"))
_LEAD = Actor("plead", frozenset({"partnership_lead"}))
D = DeadlineTableRow.__table__
OUTBOX = OutboxRow.__table__
KINDS = (
    ("reminder", ["school_lead", "partnership_lead"]),
    ("notify", ["school_lead"]),
    ("escalate", ["partnership_lead"]),
    ("due", []),
)

# The baseline's job functions are stored by reference ("bench.deadlines:apply_deadline"),
# as a job store requires; they find their sweeper and counter here.
_JOB_CONTEXT: dict[str, Any] = {}


def apply_deadline(deadline_id: int) -> None:
    """One APScheduler job: apply one deadline in its own transaction."""
    _JOB_CONTEXT["sweeper"].apply_one(deadline_id)


def nothing(deadline_id: int) -> None:
    """One APScheduler job that does nothing (the catch-up baseline's)."""


class _Fixture:
    """One database with 100 cycles, 10,000 deadlines to apply and 100,000 to catch up."""

    def __init__(self, url: str, label: str) -> None:
        self.label = label
        self.sweep_seconds: list[float] = []
        self.engine = create_db_engine(url)
        upgrade(self.engine)
        self.clock = FixedClock(_T0)
        self.app = Peerloop(
            lambda **kw: SqlUnitOfWork(self.engine, calendar=_CAL, **kw),
            self.clock,
            TemplateRegistry(_CAL),
        )
        with self.app.uow() as uow:
            d = uow.directory
            d.add_network(Network("n1", "North"))
            d.add_school(School("s1", "100001", "Alder Grove", "Primary", "n1"))
            d.add_person(Person("head", "Ada Head", "head@example.org", "s1"))
            d.add_person(Person("plead", "Pat Lead", "lead@example.org", None))
            d.add_grant(Grant("g1", "head", "school_lead", "school", "s1"))
            d.add_grant(Grant("g2", "plead", "partnership_lead", "network", "n1"))
            uow.commit()
        self.app.upload_template(SPP.read_bytes(), SPP.name, publish=True)
        cycles = [self.app.start_cycle("spp-cycle", "s1", _LEAD).id for _ in range(CYCLES)]
        stage_due = _T0 + timedelta(weeks=6)

        def rows(prefix: str, n: int, kinds: Any) -> list[dict[str, Any]]:
            return [
                {
                    "cycle_id": cycles[i % CYCLES],
                    "stage": "self_review",
                    "key": f"{prefix}:{i}",
                    "kind": kinds[i % len(kinds)][0],
                    "due_at": _T0 - timedelta(seconds=n - i),
                    "stage_due_at": stage_due,
                    "roles": kinds[i % len(kinds)][1],
                    "transition": None,
                    "action_id": None,
                    "status": "parked",
                    "note": "",
                }
                for i in range(n)
            ]

        with self.engine.begin() as conn:
            # Parked until their measurement: a sweep takes only what is pending.
            conn.execute(D.update().values(status="parked"))
            conn.execute(D.insert(), rows("apply", N_APPLY, KINDS))
            for start in range(0, N_CATCHUP, 20_000):
                chunk = rows("catchup", N_CATCHUP, (("due", []),))[start : start + 20_000]
                conn.execute(D.insert(), chunk)
            self.apply_ids = list(
                conn.execute(sa.select(D.c.id).where(D.c.key.like("apply:%"))).scalars()
            )
            self.catchup_ids = list(
                conn.execute(sa.select(D.c.id).where(D.c.key.like("catchup:%"))).scalars()
            )
        self.jobs = {
            "apply": self._job_rows("bench.deadlines:apply_deadline", self.apply_ids),
            "catchup": self._job_rows("bench.deadlines:nothing", self.catchup_ids),
        }

    def machine_for(self, template_id: str, version: int) -> WorkflowMachine:
        return self.app.registry.lookup(self.app.uow)(template_id, version)

    def sweeper(self, **kw: Any) -> DeadlineSweeper:
        kw.setdefault("move", sweep_move(self.app, self.engine))
        return DeadlineSweeper(self.engine, self.machine_for, self.clock.now, **kw)

    def reset(self, prefix: str) -> None:
        """Make the `prefix` rows due and pending again, everything else parked."""
        with self.engine.begin() as conn:
            conn.execute(OUTBOX.delete())
            conn.execute(
                D.update()
                .where(D.c.status != "parked")
                .values(status="parked", claimed_by=None, fired_at=None, note="")
            )
            conn.execute(
                D.update()
                .where(D.c.key.like(f"{prefix}:%"))
                .values(status="pending", late_seconds=None)
            )
        if self.engine.dialect.name == "postgresql":
            # Statistics as a live database has them (most rows pending or done, not parked),
            # so that the planner does not take the claim for a scan of a rare status.
            with self.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    "ANALYZE deadline"
                )

    # -- the baseline: one APScheduler job per deadline, stored in its SQLAlchemyJobStore -----

    @staticmethod
    def _job_rows(func: str, ids: list[int]) -> list[dict[str, Any]]:
        """Job rows as SQLAlchemyJobStore.add_job writes them (pickled Job state), made
        directly: adding 100,000 jobs one by one would take far longer than running them."""
        run_date = datetime.now(UTC) - timedelta(days=1)
        trigger = DateTrigger(run_date)
        out = []
        for deadline_id in ids:
            jid = f"deadline-{deadline_id}"
            state = {
                "version": 1,
                "id": jid,
                "func": func,
                "trigger": trigger,
                "executor": "default",
                "args": (deadline_id,),
                "kwargs": {},
                "name": func.rpartition(":")[2],
                "misfire_grace_time": None,  # run however late: a deadline is never dropped
                "coalesce": True,
                "max_instances": 1,
                "next_run_time": run_date,
            }
            out.append(
                {
                    "id": jid,
                    "next_run_time": run_date.timestamp(),
                    "job_state": pickle.dumps(state, pickle.HIGHEST_PROTOCOL),
                }
            )
        return out

    def restore_jobs(self, which: str, count: int | None = None) -> None:
        store = SQLAlchemyJobStore(engine=self.engine, tablename="apscheduler_jobs")
        store.start(None, "default")  # creates the table on first use
        with self.engine.begin() as conn:
            conn.execute(store.jobs_t.delete())
            rows = self.jobs[which][:count]
            for start in range(0, len(rows), 20_000):
                conn.execute(store.jobs_t.insert(), rows[start : start + 20_000])

    def run_scheduler(self, expected: int) -> float:
        """Start a scheduler on the job store and wait until `expected` jobs ran: seconds."""
        done = threading.Event()
        count = [0]
        lock = threading.Lock()

        def ran(event: JobExecutionEvent) -> None:
            with lock:
                count[0] += 1
                if count[0] >= expected:
                    done.set()

        scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.engine)},
            executors={"default": ThreadPoolExecutor(max_workers=10)},
            timezone=UTC,
        )
        scheduler.add_listener(ran, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        start = time.perf_counter()
        scheduler.start()
        if not done.wait(timeout=3600):
            raise RuntimeError(f"only {count[0]} of {expected} jobs ran")
        took = time.perf_counter() - start
        scheduler.shutdown(wait=True)
        return took

    def close(self) -> None:
        self.engine.dispose()


def _apply_cases(fx: _Fixture) -> Comparison:
    _JOB_CONTEXT["sweeper"] = fx.sweeper()

    def sweep() -> None:
        fx.reset("apply")
        start = time.perf_counter()
        result = fx.sweeper().sweep()
        fx.sweep_seconds.append(time.perf_counter() - start)
        if result.claimed != N_APPLY:
            raise RuntimeError(f"swept {result.claimed} of {N_APPLY}")

    def jobs() -> None:
        fx.reset("apply")
        fx.restore_jobs("apply", N_BASELINE)
        fx.run_scheduler(N_BASELINE)

    return Comparison(
        Case(
            f"apply {N_APPLY:,} due deadlines, {fx.label}",
            sweep,
            calls=N_APPLY,
            loops=1,
            begin=fx.sweep_seconds.clear,  # the rate counts timed rounds only, not the warm-up
        ),
        Case(
            f"one APScheduler job each ({N_BASELINE:,} a round), {fx.label}",
            jobs,
            calls=N_BASELINE,
            loops=1,
        ),
        TARGET,
    )


def _catch_up(fx: _Fixture) -> list[str]:
    """Catch-up at start, timed once each: report lines."""
    fx.reset("catchup")
    start = time.perf_counter()
    result = fx.sweeper().sweep()
    ours = time.perf_counter() - start
    if result.claimed != N_CATCHUP:
        raise RuntimeError(f"caught up {result.claimed} of {N_CATCHUP}")
    fx.reset("none")
    fx.restore_jobs("catchup")
    theirs = fx.run_scheduler(N_CATCHUP)
    with fx.engine.connect() as conn:
        left = conn.execute(sa.text("SELECT count(*) FROM apscheduler_jobs")).scalar()
    return [
        f"| catch up {N_CATCHUP:,} at start, {fx.label} | {ours:.1f} s | "
        f"{N_CATCHUP / ours:,.0f} | {theirs:.1f} s | {N_CATCHUP / theirs:,.0f} | "
        f"{ours / theirs:.2f} | {left} |"
    ]


def _pg_schema() -> str | None:
    schema = f"bench_deadlines_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3) as admin:
            admin.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.Error as exc:
        print(f"(PostgreSQL skipped: {exc})")
        return None
    return schema


NOTES = (
    f"apply: {N_APPLY:,} due deadlines over {CYCLES} cycles (a quarter each reminders to two "
    "people, notices, escalations and overdue flags), so 10,000 outbox messages. Peerloop "
    "sweeps them in batches of 200, each batch one transaction that claims the rows, re-checks "
    "them against their cycles, writes the messages and records the outcomes. The baseline "
    "stores one APScheduler 3 date job per deadline in SQLAlchemyJobStore on the same database "
    "and runs them on its default 10-thread executor; each job applies its deadline with the "
    "same code in a transaction of its own (`DeadlineSweeper.apply_one`).",
    f"The baseline runs {N_BASELINE:,} of the deadlines a round (the first ones; its cost per "
    "job does not depend on how many are stored, and all 10,000 take minutes a round on "
    "PostgreSQL): set PEERLOOP_BENCH_BASELINE=10000 for the full comparison.",
    "Each round first resets the deadlines (one UPDATE; the baseline also re-inserts its "
    "pickled job rows in bulk), inside the timing. µs/call is per deadline; the target is a "
    f"ratio ≤ {TARGET:.0f} and at least {TARGET_RATE:,.0f} deadlines per second (see below).",
    "Catch-up is timed once per database (one round takes seconds to minutes): the table "
    "below the ratios gives seconds, deadlines per second, and the rows APScheduler left in "
    "its job store.",
)


@group(
    "deadlines",
    title="Deadlines: the sweep against one APScheduler job per deadline",
    libraries=("APScheduler", "SQLAlchemy", "psycopg"),
    notes=NOTES,
)
def deadlines() -> Iterator[list[Comparison]]:
    report = REGISTRY["deadlines"].report
    report.clear()
    tmp = Path(tempfile.mkdtemp(prefix="peerloop-bench-deadlines-"))
    fixtures = [_Fixture(f"sqlite:///{tmp / 'deadlines.db'}", "SQLite")]
    schema = _pg_schema()
    if schema:
        fixtures.append(_Fixture(f"{PG_URL}?options=-csearch_path%3D{schema}", "PostgreSQL"))
    try:
        report += [
            "| catch-up | Peerloop | deadlines/s | APScheduler job store | jobs/s | ratio "
            "| jobs left |",
            "|---|--:|--:|--:|--:|--:|--:|",
        ]
        for fx in fixtures:
            report += _catch_up(fx)
        comparisons = [_apply_cases(fx) for fx in fixtures]
        yield comparisons
        report.append("")
        for fx in fixtures:
            report.append(_rate(fx))
    finally:
        for fx in fixtures:
            fx.close()
        shutil.rmtree(tmp, ignore_errors=True)
        if schema:
            with psycopg.connect(PG_URL, autocommit=True) as admin:
                admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _rate(fx: _Fixture) -> str:
    """The sweep's own rate (without the reset), against the target."""
    if not fx.sweep_seconds:
        return f"- apply, {fx.label}: not run"
    best = N_APPLY / statistics.median(fx.sweep_seconds)
    met = "met" if best >= TARGET_RATE else "MISSED"
    return (
        f"- apply, {fx.label}: {best:,.0f} deadlines/s applied by one sweeper (median of "
        f"{len(fx.sweep_seconds)} sweeps, reset excluded); target ≥ {TARGET_RATE:,.0f}/s: {met}"
    )
