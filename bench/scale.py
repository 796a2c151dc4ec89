"""Dashboard queries at scale: up to 1,000,000 cycles in PostgreSQL, through Peerloop's own
repositories, with and without the dashboard indexes' migration, and the memory of a process
running them.

`PEERLOOP_BENCH_SCALE` sets how many cycles (default 100,000; the full run is 1,000,000);
`PEERLOOP_BENCH_SCALE_SCHEMA` names a schema to keep (and reuse when it holds that many).
`python -m bench.scale probe URL` is the memory probe run in a fresh process at each size.
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
    RECORD_TABLES,
    STAGES,
    directory_rows,
    generate,
    people_rows,
)
from bench.scale_usecases import NEEDS, USE_CASES, Plan, container, usecase_queries, usecase_runs
from engine.calendar import WeekdayCalendar
from engine.ports import CycleFilter
from service.usecases.core import Peerloop, TemplateRegistry

__all__ = ["dashboard_queries", "scale"]

SPP = Path(__file__).resolve().parents[1] / "workflows" / "spp-cycle.yaml"
TARGET_MS = 50.0
RUNS = 200
RUN_BUDGET_S = 30.0
"""Stop a query's timed runs early once they have taken this long (slow plans at 1M)."""
INDEXES_REVISION = "0004"
"""The migration that adds the dashboard's indexes: the comparison runs without them, then with."""
_WITHOUT_INDEXES = (
    "DROP INDEX ix_cycle_stage_due",
    "DROP INDEX ix_cycle_network_stage_started",
    "CREATE INDEX ix_cycle_network_stage ON cycle (network_id, stage)",
)
_WITH_INDEXES = (
    "DROP INDEX ix_cycle_network_stage",
    "CREATE INDEX ix_cycle_network_stage_started ON cycle (network_id, stage, started_at, id)",
    "CREATE INDEX ix_cycle_stage_due ON cycle (stage_due_at, id)",
)
KEEP_SCHEMA = "PEERLOOP_BENCH_SCALE_SCHEMA"
"""A schema to generate into and keep, or to reuse when it already holds the data (the data
takes tens of minutes to generate at 1M; iterate on the queries against a kept one)."""


def _sizes(n: int) -> list[int]:
    return sorted({s for s in (10_000, 100_000, 1_000_000) if s < n} | {n})


def _page_cursors(engine: Engine, every: int = 500) -> list[tuple[Any, int]]:
    """(due_at, id) of every `every`-th overdue pending deadline: where later pages start."""
    q = sa.text(
        "SELECT due_at, id FROM deadline WHERE status = 'pending' AND due_at < :now"
        " ORDER BY due_at, id"
    )
    with engine.connect() as c:
        rows = c.execute(q, {"now": NOW}).all()
    return [(r[0], r[1]) for r in rows[every - 1 :: every]] or [(NOW, 0)]


def dashboard_queries(
    engine: Engine,
    networks: list[str],
    schools: list[str],
    stages: list[str] | None = None,
    seed: int = 7,
    plan: Plan | None = None,
) -> dict[str, Callable[[], int]]:
    """Each dashboard query as the service runs it: a read-only unit of work, the repository.

    Each run picks a network, stage, school or page at random from those given; with a
    `plan`, the single queries of the network dashboard, the borough view and the heatmap
    too, on the plan's networks (`bench.scale_usecases`).
    """
    rng = random.Random(seed)
    stages = stages or [*STAGES, "closed"]
    cursors = _page_cursors(engine)

    def uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, readonly=True)

    def by_stage() -> int:
        with uow() as u:
            where = CycleFilter(network_id=rng.choice(networks), stage=rng.choice(stages))
            return len(u.cycles.list(where))

    def overdue(limit: int) -> Callable[[], int]:
        def run() -> int:
            with uow() as u:
                return len(u.cycles.list(CycleFilter(overdue_at=NOW, limit=limit)))

        return run

    def overdue_in_network() -> int:
        with uow() as u:
            return len(u.cycles.list(CycleFilter(network_id=rng.choice(networks), overdue_at=NOW)))

    def pending(limit: int, later: bool = False) -> Callable[[], int]:
        def run() -> int:
            after = rng.choice(cursors) if later else None
            with uow() as u:
                return len(u.deadlines.pending(due_before=NOW, limit=limit, after=after))

        return run

    def school_history(limit: int) -> Callable[[], int]:
        def run() -> int:
            with uow() as u:
                return len(u.history.for_school(rng.choice(schools), limit=limit))

        return run

    return {
        "cycles of a network at a stage: `cycles.list(network_id, stage)`": by_stage,
        "overdue cycles, most overdue first, page of 100 (the API's default):"
        " `cycles.list(overdue_at=now, limit=100)`": overdue(100),
        "overdue cycles, most overdue first, page of 500 (the API's largest):"
        " `cycles.list(overdue_at=now)`": overdue(500),
        "overdue cycles of a network: `cycles.list(network_id, overdue_at=now)`": (
            overdue_in_network
        ),
        "overdue deadlines, first page of 100: `deadlines.pending(due_before=now, limit=100)`": (
            pending(100)
        ),
        "overdue deadlines, a later page of 100: `deadlines.pending(due_before=now, limit=100,"
        " after=...)`": pending(100, later=True),
        "overdue deadlines, first page of 500 (the default): `deadlines.pending(due_before=now)`": (
            pending(500)
        ),
        "one school's history, page of 100: `history.for_school(school_id, limit=100)`": (
            school_history(100)
        ),
        "one school's history, page of 500 (the default; about all of it):"
        " `history.for_school(school_id)`": school_history(500),
        **(usecase_queries(plan) if plan is not None else {}),
    }


Timing = tuple[float, float, float, int, int]
"""p50 ms, p95 ms, max ms, mean rows returned, runs."""


def _latency(fn: Callable[[], int]) -> Timing:
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
        *RECORD_TABLES,
    ]
    with contextlib.ExitStack() as stack:
        conns = [stack.enter_context(psycopg.connect(url)) for _ in tables]
        copies = []
        for conn, (table, columns) in zip(conns, tables, strict=True):
            conn.execute("SET session_replication_role = replica")
            cp = conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN")
            copies.append(stack.enter_context(cp))
        for buf in generate(first, last, schools, rng):
            for cp, (table, _) in zip(copies, tables, strict=True):
                cp.write(getattr(buf, table).getvalue())
            deadlines += buf.deadlines
            histories += buf.histories
    _vacuum(url)
    return deadlines, histories


def _vacuum(url: str) -> None:
    """VACUUM ANALYZE the big tables: statistics, and the visibility map that index-only scans
    need. Autovacuum does this in a live database, but at its own moment, which would make a
    bench run's plans depend on when it ran."""
    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("cycle", "deadline", "history", *(t for t, _ in RECORD_TABLES)):
            conn.execute(f"VACUUM ANALYZE {table}")


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
    plan = Plan.of(container(url), networks, 30)
    queries = dashboard_queries(engine, networks, schools, plan=plan)
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
                "pending_rows": next(v for k, v in rows.items() if "pending(due_before=now)`" in k),
                "history_rows": next(v for k, v in rows.items() if "for_school(school_id)`" in k),
            }
        )
    )


def _cell(r: Timing) -> str:
    flag = "" if r[1] < TARGET_MS else " **over**"
    return f"{r[0]:.1f} / {r[1]:.1f}{flag} (max {r[2]:.0f}, {r[4]} runs)"


def _captured(engines: list[Engine], fn: Callable[[], int]) -> list[tuple[str, Any]]:
    """The statements (and parameters) one call of `fn` sends to the driver, on any of
    `engines` (the bench's own and the composition root's)."""
    seen: list[tuple[str, Any]] = []

    def hook(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "ROLLBACK", "SELECT 1")):
            seen.append((statement, params))

    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", hook)
    try:
        fn()
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", hook)
    return seen


@group(
    "scale",
    title="Scale: dashboard queries over many cycles in PostgreSQL",
    libraries=("SQLAlchemy", "psycopg"),
    headline=(
        "cycles of a network at a stage (repository)",
        "overdue cycles, most overdue first, page of 100 (the API's default) (repository)",
        "overdue deadlines, first page of 100 (repository)",
        "one school's history, page of 100 (repository)",
        "a network's cycles by stage, with the overdue (the network dashboard) (repository)",
        "every network's cycles by stage (the borough view; every cycle) (repository)",
    ),
    notes=(
        "Data: PEERLOOP_BENCH_SCALE cycles (default 100,000; the full run is"
        " `PEERLOOP_BENCH_SCALE=1000000 python -m bench scale`) generated with COPY into a schema"
        " of their own, migrated by Peerloop's own migrations: about 25 cycles per school,"
        " networks of about 10 schools of uneven size, 78 % closed over ten years, 5 % withdrawn,"
        " 1 % on hold and 16 % across the six working stages; each cycle has the deadlines the SPP"
        " template plans for every stage it entered (past ones fired or cancelled, the current"
        " stage's pending, about one in eight overdue) and a history of its start, 1-5 records"
        " per stage and each move. A cycle past its peer review has its report (2-4 peer"
        " judgements, 1-4 findings), one past its workshop 2-4 actions (all done by the close;"
        " four in five open while under way), and half the reports of the last three years (one"
        " in twenty before) are shared with the host's network. Each network has its"
        " partnership lead; the borough's forum has one member. Then VACUUM ANALYZE. The schema"
        f" is dropped afterwards (kept and reused when `{KEEP_SCHEMA}` names it).",
        "Each query runs as the service runs it: a read-only `SqlUnitOfWork` and the repository"
        " method with the page size its row names, on random networks, stages, schools and"
        f" pages; latency is p50 / p95 in ms over {RUNS} runs (fewer if they take over"
        f" {RUN_BUDGET_S:.0f} s), with every migration, then without the indexes of migration"
        f" {INDEXES_REVISION} (dropped, measured, built again). Target: p95 under"
        f" {TARGET_MS:.0f} ms.",
        "The network dashboard, the borough view and the judgement heatmap run whole as the"
        " service runs them: `UseCases.handle` from the composition root (`service.bootstrap`)"
        " with a real caller, each network's partnership lead (the borough's forum member for"
        " the borough view), on the same networks in the same order as the single queries they"
        " need, each of which is timed with the filters the use case gives it; a use case's"
        " ratio is its p50 (p95) over the p50 (p95) of the slowest query it needs, in the same"
        " run.",
        "The table's ratios are each repository call against the same SQL statements (captured"
        " from it) sent through psycopg directly, on the busiest network.",
        "Memory: a fresh process runs every dashboard query 30 times at each size; RSS before"
        " and after, and its peak.",
    ),
)
def scale() -> Iterator[list[Comparison]]:
    n = int(os.environ.get("PEERLOOP_BENCH_SCALE", "100000"))
    report = REGISTRY["scale"].report
    report.clear()
    kept = os.environ.get(KEEP_SCHEMA)
    schema = kept or f"bench_scale_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3) as admin:
            admin.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
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
        if not kept:
            with psycopg.connect(PG_URL, autocommit=True) as admin:
                admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _populate(
    engine: Engine, raw: psycopg.Connection[Any], url: str, n: int
) -> tuple[list[dict[str, float]], str]:
    """Migrate and generate n cycles (probing memory at each size) unless the schema holds them.

    Returns the memory probes and a line on the data.
    """
    upgrade(engine)
    memory: list[dict[str, float]] = []
    with engine.connect() as c:
        present = c.execute(sa.text("SELECT count(*) FROM cycle")).scalar_one()
    if present == n:
        print(f"  reusing {n:,} cycles", flush=True)
        memory.append(_probe(url, n))
    elif present:
        raise RuntimeError(f"the schema holds {present:,} cycles, not {n:,}: drop it or change N")
    else:
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
        person, grant = people_rows(networks)
        _copy(raw, "person", "id, name, email, school_id", person)
        _copy(
            raw,
            "role_grant",
            "id, person_id, role, scope_kind, scope_id, granted_by, granted_at",
            grant,
        )
        raw.commit()
        done = 0
        for size in _sizes(n):
            began = time.perf_counter()
            _grow(url, done, size, schools, rng)
            done = size
            print(
                f"  {size:,} cycles: generated in {time.perf_counter() - began:.0f} s", flush=True
            )
            memory.append(_probe(url, size))
    with engine.connect() as c:
        counts = [
            c.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in (
                "cycle",
                "deadline",
                "history",
                "network",
                "school",
                "judgement",
                "finding",
                "action",
                "report_share",
            )
        ]
    line = (
        f"**{counts[0]:,} cycles**, {counts[1]:,} deadlines, {counts[2]:,} history rows,"
        f" {counts[3]:,} networks, {counts[4]:,} schools; {counts[5]:,} peer judgements,"
        f" {counts[6]:,} findings, {counts[7]:,} actions, {counts[8]:,} reports shared with"
        " a network."
    )
    return memory, line


def _ddl(engine: Engine, statements: tuple[str, ...]) -> None:
    with engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)


def _measure(
    engine: Engine, raw: psycopg.Connection[Any], url: str, n: int, report: list[str]
) -> list[Comparison]:
    memory, data = _populate(engine, raw, url, n)
    with engine.connect() as c:
        networks = list(c.execute(sa.text("SELECT id FROM network")).scalars())
        schools = list(c.execute(sa.text("SELECT id FROM school")).scalars())
    app = container(url)
    try:
        plan = Plan.of(app, networks, RUNS)
        queries = dashboard_queries(engine, networks, schools, plan=plan)
        with_ = {name: _latency(fn) for name, fn in queries.items()}
        uses = {name: _latency(fn) for name, fn in usecase_runs(plan).items()}
        # What one run of each use case sends (the plan's first network).
        sent = {
            name: len(_captured([engine, app.engine], fn))
            for name, fn in usecase_runs(plan).items()
        }
        return _measure_rest(engine, raw, app, queries, with_, uses, sent, memory, data, report)
    finally:
        app.close()


def _slowest(needs: tuple[str, ...], times: dict[str, Timing], at: int) -> tuple[str, Timing]:
    name = max(needs, key=lambda q: times[q][at])
    return name, times[name]


def _usecase_rows(
    uses: dict[str, Timing], with_: dict[str, Timing], sent: dict[str, int]
) -> list[str]:
    """A row per use case: its latency, and as a ratio to its slowest single query's."""
    rows = []
    for name in USE_CASES:
        u = uses[name]
        q50, t50 = _slowest(NEEDS[name], with_, 0)
        q95, t95 = _slowest(NEEDS[name], with_, 1)
        label = (
            q50.split(":")[0] if q50 == q95 else f"{q50.split(':')[0]}; p95: {q95.split(':')[0]}"
        )
        rows.append(
            f"| {name} | {u[3]:,} | {sent[name]:,} | {_cell(u)} | {label}:"
            f" {t50[0]:.1f} / {t95[1]:.1f} | {u[0] / t50[0]:.1f} | {u[1] / t95[1]:.1f} |"
        )
    return rows


def _measure_rest(
    engine: Engine,
    raw: psycopg.Connection[Any],
    app: Any,
    queries: dict[str, Callable[[], int]],
    with_: dict[str, Timing],
    uses: dict[str, Timing],
    sent: dict[str, int],
    memory: list[dict[str, float]],
    data: str,
    report: list[str],
) -> list[Comparison]:
    # Only the indexes go: the migration's column is what the overdue query reads.
    _ddl(engine, _WITHOUT_INDEXES)
    without = {name: _latency(fn) for name, fn in queries.items()}
    began = time.perf_counter()
    _ddl(engine, _WITH_INDEXES)
    build_s = time.perf_counter() - began

    report += [
        data,
        "",
        "| query | rows (mean) | p50 / p95 ms | p50 / p95 ms without migration"
        f" {INDEXES_REVISION}'s indexes |",
        "|---|--:|--:|--:|",
        *(
            f"| {name} | {with_[name][3]:,} | {_cell(with_[name])} | {_cell(without[name])} |"
            for name in queries
        ),
        "",
        f"Migration {INDEXES_REVISION} (its indexes) took {build_s:.0f} s on this data.",
        "",
        "Each use case whole, as the service runs it (`UseCases.handle` from the composition"
        " root, with its caller, on the same networks as its queries above, in the same order),"
        " against the slowest of the single queries above it needs (by p50, and by p95):",
        "",
        "| use case | lines shown (mean) | statements per run | p50 / p95 ms | slowest query"
        " it needs, p50 / p95 ms | ratio p50 | ratio p95 |",
        "|---|--:|--:|--:|---|--:|--:|",
        *_usecase_rows(uses, with_, sent),
        "",
        "| cycles | RSS before queries, MiB | RSS after 30 runs of each, MiB | peak RSS, MiB |"
        " rows from `pending()` | rows from `for_school()` |",
        "|--:|--:|--:|--:|--:|--:|",
        *(
            f"| {m['cycles']:,} | {m['rss_before_mib']:.0f} | {m['rss_after_mib']:.0f} |"
            f" {m['peak_mib']:.0f} | {int(m['pending_rows']):,} | {int(m['history_rows']):,} |"
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
    fixed = dashboard_queries(
        engine, [network], [school], ["support"], plan=Plan.of(app, [network], 1)
    )
    comparisons = []
    for name, fn in fixed.items():
        statements = _captured([engine, app.engine], fn)

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
