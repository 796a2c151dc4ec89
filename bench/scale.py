"""Dashboard queries at scale: up to 1,000,000 cycles in PostgreSQL, through Peerloop's own
repositories, with and without the indexes we propose, and the memory of a process running them.

`PEERLOOP_BENCH_SCALE` sets how many cycles (default 100,000; the full run is 1,000,000).
`python -m bench.scale probe URL N` is the memory probe run in a fresh process at each size.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from adapters.clock import FixedClock
from adapters.db import create_db_engine
from adapters.migrate import upgrade
from adapters.unit_of_work import SqlUnitOfWork
from bench.common import REGISTRY, Case, Comparison, group
from bench.persistence import PG_URL
from bench.scale_data import (
    CYCLE_COLUMNS,
    DEADLINE_COLUMNS,
    HISTORY_COLUMNS,
    NOW,
    STAGES,
    directory_rows,
    generate,
)
from engine.calendar import WeekdayCalendar
from engine.ports import CycleFilter
from service.handlers import Peerloop, TemplateRegistry

__all__ = ["PROPOSED_INDEXES", "scale"]

SPP = Path(__file__).resolve().parents[1] / "workflows" / "spp-cycle.yaml"
TARGET_MS = 50.0
RUNS = 200
RUN_BUDGET_S = 30.0
"""Stop a query's timed runs early once they have taken this long (slow plans at 1M)."""

PROPOSED_INDEXES = {
    "ix_cycle_network_stage_started": (
        "CREATE INDEX ix_cycle_network_stage_started ON cycle (network_id, stage, started_at, id)"
    ),
    "ix_deadline_pending_due": (
        "CREATE INDEX ix_deadline_pending_due ON deadline (cycle_id, due_at) "
        "WHERE status = 'pending' AND kind = 'due'"
    ),
    "ix_deadline_pending_due_at": (
        "CREATE INDEX ix_deadline_pending_due_at ON deadline (due_at, cycle_id) "
        "WHERE status = 'pending' AND kind = 'due'"
    ),
}
"""What the dashboard queries need beyond the migrations' indexes (created only in the bench
schema here, to measure them; the real ones belong in a migration)."""


_SCHOOL_HISTORY = sa.text(
    "SELECT h.* FROM history h JOIN cycle c ON c.id = h.cycle_id"
    " WHERE c.host_school_id = :school ORDER BY c.started_at, c.id, h.id"
)
"""What a `HistoryRepository.for_school` could send instead of one query per cycle."""

_OVERDUE_FIRST = sa.text(
    "WITH overdue AS MATERIALIZED (SELECT DISTINCT cycle_id FROM deadline"
    " WHERE status = 'pending' AND kind = 'due' AND due_at < :now)"
    " SELECT c.id, c.template_id, c.template_version, c.host_school_id, c.network_id, c.stage,"
    " c.version, c.stage_entered_at, c.started_at, (SELECT min(d.due_at) FROM deadline d"
    " WHERE d.cycle_id = c.id AND d.kind = 'due' AND d.status = 'pending') AS next_due_at"
    " FROM cycle c JOIN overdue o ON o.cycle_id = c.id ORDER BY c.started_at, c.id LIMIT 500"
)
"""`cycles.list(overdue_at=...)` with the overdue cycles found first: the planner otherwise
walks every cycle in start order and probes its deadlines, since overdue ones are the newest."""


def _sizes(n: int) -> list[int]:
    return sorted({s for s in (10_000, 100_000, 1_000_000) if s < n} | {n})


def dashboard_queries(
    engine: Engine,
    networks: list[str],
    schools: list[str],
    stages: list[str] | None = None,
    seed: int = 7,
) -> dict[str, Callable[[], int]]:
    """Each dashboard query as the service runs it: a read-only unit of work, the repository.

    Each run picks a network, stage or school at random from those given.
    """
    rng = random.Random(seed)
    stages = stages or [*STAGES, "closed"]

    def uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, readonly=True)

    def by_stage() -> int:
        with uow() as u:
            where = CycleFilter(network_id=rng.choice(networks), stage=rng.choice(stages))
            return len(u.cycles.list(where))

    def overdue() -> int:
        with uow() as u:
            return len(u.cycles.list(CycleFilter(overdue_at=NOW)))

    def pending() -> int:
        with uow() as u:
            return len(u.deadlines.pending(due_before=NOW))

    def school_history() -> int:
        with uow() as u:
            found = u.cycles.list(CycleFilter(school_id=rng.choice(schools), limit=100_000))
            return sum(len(u.history.for_cycle(c.id)) for c in found)

    def school_history_joined() -> int:
        with uow() as u:
            return len(u.connection.execute(_SCHOOL_HISTORY, {"school": rng.choice(schools)}).all())

    def overdue_first() -> int:
        with uow() as u:
            return len(u.connection.execute(_OVERDUE_FIRST, {"now": NOW}).all())

    return {
        "cycles of a network by stage: `cycles.list(network_id, stage)`": by_stage,
        "overdue cycles, all networks: `cycles.list(overdue_at=now)`": overdue,
        "(sketch, not in Peerloop) overdue cycles, overdue ids first": overdue_first,
        "overdue deadlines, all networks: `deadlines.pending(due_before=now)`": pending,
        "one school's history: `cycles.list(school_id)` + `history.for_cycle` each": (
            school_history
        ),
        "(sketch, not in Peerloop) one school's history in one statement": school_history_joined,
    }


def _latency(fn: Callable[[], int]) -> tuple[float, float, float, int, int]:
    """(p50 ms, p95 ms, max ms, mean rows returned, runs) over up to RUNS runs."""
    fn()  # warm the cache and the statement caches
    times: list[float] = []
    rows = 0
    began = time.perf_counter()
    while len(times) < RUNS and time.perf_counter() - began < RUN_BUDGET_S:
        t = time.perf_counter()
        rows += fn()
        times.append((time.perf_counter() - t) * 1000)
    p95 = statistics.quantiles(times, n=20)[18] if len(times) >= 20 else max(times)
    return statistics.median(times), p95, max(times), round(rows / len(times)), len(times)


def _copy(conn: psycopg.Connection[Any], table: str, columns: str, text: str) -> None:
    with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as cp:
        cp.write(text)


def _grow(
    url: str, first: int, last: int, schools: list[tuple[str, str]], rng: Any
) -> tuple[int, int]:
    """Append cycles first..last-1 with their deadlines and history; (deadlines, history) rows.

    One connection and one streaming COPY per table, so the server parses while Python
    generates; the per-row foreign key triggers are off (the rows are generated consistent).
    """
    deadlines = histories = 0
    tables = [
        ("cycle", CYCLE_COLUMNS),
        ("deadline", DEADLINE_COLUMNS),
        ("history", HISTORY_COLUMNS),
    ]
    with contextlib.ExitStack() as stack:
        conns = [stack.enter_context(psycopg.connect(url)) for _ in tables]
        copies = []
        for conn, (table, columns) in zip(conns, tables, strict=True):
            conn.execute("SET session_replication_role = replica")
            cp = conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN")
            copies.append(stack.enter_context(cp))
        for buf in generate(first, last, schools, rng):
            copies[0].write(buf.cycle.getvalue())
            copies[1].write(buf.deadline.getvalue())
            copies[2].write(buf.history.getvalue())
            deadlines += buf.deadlines
            histories += buf.histories
    with psycopg.connect(url, autocommit=True) as conn:
        for table, _ in tables:
            conn.execute(f"ANALYZE {table}")
    return deadlines, histories


def _probe(url: str, cycles: int) -> dict[str, float]:
    """RSS of a fresh process before and after running every dashboard query 30 times."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.scale", "probe", url],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]), cycles=cycles)


def _rss_kib() -> tuple[int, int]:
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def probe_main(url: str) -> None:
    engine = create_db_engine(url)
    with engine.connect() as c:
        networks = list(c.execute(sa.text("SELECT id FROM network")).scalars())
        schools = list(c.execute(sa.text("SELECT id FROM school")).scalars())
    queries = dashboard_queries(engine, networks, schools)
    next(iter(queries.values()))()
    before, _ = _rss_kib()
    rows = {}
    for name, fn in queries.items():
        for _ in range(30):
            rows[name] = fn()
    after, peak = _rss_kib()
    print(
        json.dumps(
            {
                "rss_before_mib": before / 1024,
                "rss_after_mib": after / 1024,
                "peak_mib": peak / 1024,
                "pending_rows": next(v for k, v in rows.items() if "pending(" in k),
            }
        )
    )


def _row(name: str, without: tuple, with_: tuple) -> str:
    def cell(r: tuple) -> str:
        flag = "" if r[1] < TARGET_MS else " **over**"
        return f"{r[0]:.1f} / {r[1]:.1f}{flag} (max {r[2]:.0f}, {r[4]} runs)"

    return f"| {name} | {with_[3]:,} | {cell(without)} | {cell(with_)} |"


def _captured(engine: Engine, fn: Callable[[], int]) -> list[tuple[str, Any]]:
    """The statements (and parameters) one call of `fn` sends to the driver."""
    seen: list[tuple[str, Any]] = []

    def hook(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "ROLLBACK", "SELECT 1")):
            seen.append((statement, params))

    sa.event.listen(engine, "before_cursor_execute", hook)
    try:
        fn()
    finally:
        sa.event.remove(engine, "before_cursor_execute", hook)
    return seen


@group(
    "scale",
    title="Scale: dashboard queries over many cycles in PostgreSQL",
    libraries=("SQLAlchemy", "psycopg"),
    notes=(
        "Data: PEERLOOP_BENCH_SCALE cycles (default 100,000; the full run is"
        " `PEERLOOP_BENCH_SCALE=1000000 python -m bench scale`, about 50 minutes) generated with"
        " COPY into a schema of their own, migrated by Peerloop's own migrations: about 25"
        " cycles per school, networks of about 10 schools of uneven size, 78 % closed over ten"
        " years, 5 % withdrawn, 1 % on hold and 16 % across the six working stages; each cycle"
        " has the deadlines the SPP template plans for every stage it entered (past ones fired"
        " or cancelled, the current stage's pending, about one in eight overdue) and a history"
        " of its start, 1-5 records per stage and each move. The schema is dropped afterwards.",
        "Each query runs as the service runs it: a read-only `SqlUnitOfWork` and the repository"
        " method, on random networks, stages and schools; latency is p50 / p95 in ms over"
        f" {RUNS} runs (fewer if they take over {RUN_BUDGET_S:.0f} s), first with the"
        " migrations' indexes only, then with the proposed ones (below). Target: p95 under"
        f" {TARGET_MS:.0f} ms.",
        "The table's ratios are each repository call against the same SQL statements (captured"
        " from it) sent through psycopg directly, with the proposed indexes in place.",
        "Memory: a fresh process runs every dashboard query 30 times at each size; RSS before"
        " and after, and its peak.",
    ),
)
def scale() -> Iterator[list[Comparison]]:
    n = int(os.environ.get("PEERLOOP_BENCH_SCALE", "100000"))
    report = REGISTRY["scale"].report
    report.clear()
    schema = f"bench_scale_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3) as admin:
            admin.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.Error as exc:
        print(f"(scale skipped: PostgreSQL unavailable: {exc})")
        yield []
        return
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    engine = create_db_engine(url)
    raw = psycopg.connect(url)
    try:
        yield _measure(engine, raw, url, n, report)
    finally:
        engine.dispose()
        raw.close()
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _measure(
    engine: Engine, raw: psycopg.Connection[Any], url: str, n: int, report: list[str]
) -> list[Comparison]:
    upgrade(engine)
    app = Peerloop(
        lambda **kw: SqlUnitOfWork(engine, **kw),
        FixedClock(NOW),
        TemplateRegistry(WeekdayCalendar()),
    )
    app.upload_template(SPP.read_bytes(), SPP.name, publish=True)
    rng = random.Random(20261123)
    networks, schools = directory_rows(n, rng)
    _copy(raw, "network", "id, name", "".join(f"{k}\tNLC {k}\n" for k in networks))
    _copy(
        raw,
        "school",
        "id, urn, name, phase, network_id",
        "".join(f"{s}\t{s[4:]}\tSchool {s}\tPrimary\t{k}\n" for s, k in schools),
    )
    raw.commit()
    queries = dashboard_queries(engine, networks, [s for s, _ in schools])
    memory: list[dict[str, float]] = []
    done = deadlines = histories = 0
    for size in _sizes(n):
        began = time.perf_counter()
        d, h = _grow(url, done, size, schools, rng)
        deadlines, histories, done = deadlines + d, histories + h, size
        print(
            f"  {size:,} cycles, {deadlines:,} deadlines, {histories:,} history rows: "
            f"generated in {time.perf_counter() - began:.0f} s",
            flush=True,
        )
        memory.append(_probe(url, size))
    without = {name: _latency(fn) for name, fn in queries.items()}
    for ddl in PROPOSED_INDEXES.values():
        raw.execute(ddl)
    raw.execute("ANALYZE cycle")
    raw.execute("ANALYZE deadline")
    raw.commit()
    with_ = {name: _latency(fn) for name, fn in queries.items()}

    report += [
        f"**{n:,} cycles**, {deadlines:,} deadlines, {histories:,} history rows,"
        f" {len(networks):,} networks, {len(schools):,} schools.",
        "",
        "| query | rows (mean) | p50 / p95 ms, migrations' indexes | p50 / p95 ms, with the"
        " proposed indexes |",
        "|---|--:|--:|--:|",
        *(_row(name, without[name], with_[name]) for name in queries),
        "",
        "Proposed indexes (measured here in the bench schema only):",
        "",
        *(f"- `{ddl}`" for ddl in PROPOSED_INDEXES.values()),
        "",
        "| cycles | RSS before queries, MiB | RSS after 30 runs of each, MiB | peak RSS, MiB |"
        " rows from `pending()` |",
        "|--:|--:|--:|--:|--:|",
        *(
            f"| {m['cycles']:,} | {m['rss_before_mib']:.0f} | {m['rss_after_mib']:.0f} |"
            f" {m['peak_mib']:.0f} | {int(m['pending_rows']):,} |"
            for m in memory
        ),
    ]

    # The same parameters on both sides: the busiest network and school, the support stage.
    with engine.connect() as c:
        network = c.execute(
            sa.text("SELECT network_id FROM cycle GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        ).scalar_one()
        school = c.execute(
            sa.text("SELECT host_school_id FROM cycle GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        ).scalar_one()
    fixed = dashboard_queries(engine, [network], [school], ["support"])
    comparisons = []
    for name, fn in fixed.items():
        statements = _captured(engine, fn)

        def direct(statements: list[tuple[str, Any]] = statements) -> None:
            for sql, params in statements:
                raw.execute(sql, params).fetchall()
            raw.rollback()

        label = name.split(":")[0]
        comparisons.append(
            Comparison(Case(f"{label} (repository)", fn), Case(f"{label} (psycopg)", direct))
        )
    return comparisons


if __name__ == "__main__" and sys.argv[1:2] == ["probe"]:
    probe_main(sys.argv[2])
