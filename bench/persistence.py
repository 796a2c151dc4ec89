"""Persisted transitions: Peerloop's fire (load, decide, write, commit) against the same
statements issued through the raw driver, in the same run, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import Engine

from adapters.clock import FixedClock
from adapters.db import create_db_engine
from adapters.migrate import upgrade
from adapters.unit_of_work import SqlUnitOfWork
from bench.common import Case, Comparison, group
from engine.calendar import WeekdayCalendar
from engine.cycle import Actor
from engine.directory import Network, School
from service.usecases.core import Peerloop, TemplateRegistry

__all__ = ["persistence"]

TARGET = 2.0
"""A persisted transition may cost at most twice the raw driver's: at least half its rate."""

PG_URL = os.environ.get("PEERLOOP_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
SPP = Path(__file__).resolve().parents[1] / "workflows" / "spp-cycle.yaml"
_LEAD = Actor("plead", frozenset({"partnership_lead"}))
_T0 = datetime(2026, 9, 7, 8, 0, tzinfo=UTC)

# The statements one `fire` issues (see the cycle repository), written out for the raw driver.
_LOAD = [
    # The cycle's version and history head; the records come from the process's cycle cache
    # while these match (adapters/aggregate_cache.py), as they do between a cycle's moves.
    "SELECT version, history_count, history_head FROM cycle WHERE id = {p}",
]
_UPDATE = (
    "UPDATE cycle SET stage = {p}, version = {p}, stage_entered_at = {p}, dates = {p}, "
    "focus = {p}, champion = {p}, history_count = {p}, history_head = {p} "
    "WHERE id = {p} AND version = {p}"
)
_HISTORY = (
    "INSERT INTO history (cycle_id, seq, at, kind, actor, role, transition, from_stage, "
    "to_stage, payload_digest, forced, reason, detail, prev_hash, hash) "
    "VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})"
)
_CANCEL = (
    "UPDATE deadline SET status = 'cancelled', fired_at = {p}, note = {p} WHERE cycle_id = {p} "
    "AND stage = {p} AND status = 'pending' AND action_id IS NULL"
)
_SCHEDULE = (
    "INSERT INTO deadline (cycle_id, stage, key, kind, due_at, stage_due_at, roles, transition, "
    "action_id, status, note) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, NULL, NULL, "
    "'pending', '')"
)


def _seed(engine_url: str) -> tuple[Peerloop, Engine]:
    engine = create_db_engine(engine_url)
    upgrade(engine)
    app = Peerloop(
        lambda **kw: SqlUnitOfWork(engine, **kw),
        FixedClock(_T0),
        TemplateRegistry(WeekdayCalendar()),
    )
    with app.uow() as uow:
        uow.directory.add_network(Network("n1", "North"))
        uow.directory.add_school(School("s1", "100001", "Alder Grove", "Primary", "n1"))
        uow.commit()
    app.upload_template(SPP.read_bytes(), SPP.name, publish=True)
    for cid in ("peerloop", "raw"):
        app.start_cycle("spp-cycle", "s1", _LEAD, cycle_id=cid)
    return app, engine


def _peerloop_case(app: Peerloop) -> Callable[[], object]:
    def pause_and_reopen() -> None:
        app.fire("peerloop", "pause", lambda c: _LEAD)
        app.fire("peerloop", "reopen", lambda c: _LEAD)

    return pause_and_reopen


class _Raw:
    """The same statements through the bare driver: a floor for what persisting can cost."""

    def __init__(self, conn: Any, placeholder: str, begin: str | None) -> None:
        self.conn = conn
        self.p = placeholder
        self.begin = begin
        row = conn.execute(
            f"SELECT version, history_count, history_head FROM cycle WHERE id = {placeholder}",
            ("raw",),
        ).fetchone()
        self.version, self.seq, self.head = int(row[0]), int(row[1]), str(row[2])

    def sql(self, template: str) -> str:
        return template.format(p=self.p)

    def move(self, source: str, dest: str, schedule: Sequence[tuple[str, str, timedelta]]) -> None:
        c = self.conn
        now = datetime.now(UTC)
        if self.begin:
            c.execute(self.begin)
        for q in _LOAD:
            c.execute(self.sql(q), ("raw",)).fetchall()
        digest = hashlib.sha256(f"{self.head}{self.seq}".encode()).hexdigest()
        c.execute(
            self.sql(_UPDATE),
            (
                dest,
                self.version + 1,
                now,
                "{}",
                "[]",
                None,
                self.seq + 1,
                digest,
                "raw",
                self.version,
            ),
        )
        c.execute(
            self.sql(_HISTORY),
            (
                "raw",
                self.seq + 1,
                now,
                "transition",
                "plead",
                "partnership_lead",
                "x",
                source,
                dest,
                "",
                False,
                "",
                json.dumps({}),
                self.head,
                digest,
            ),
        )
        c.execute(self.sql(_CANCEL), (now, "the cycle left the stage", "raw", source))
        if schedule:
            c.cursor().executemany(
                self.sql(_SCHEDULE),
                [
                    ("raw", dest, key, kind, now + after, now + after, "[]")
                    for key, kind, after in schedule
                ],
            )
        c.commit()
        self.version += 1
        self.seq += 1
        self.head = digest

    def pause_and_reopen(self) -> None:
        self.move("self_review", "on_hold", ())
        self.move(
            "on_hold",
            "self_review",
            [
                ("due", "due", timedelta(weeks=6)),
                ("reminder:0", "reminder", timedelta(weeks=4)),
                ("reminder:1", "reminder", timedelta(days=39)),
                ("expiry:0", "notify", timedelta(weeks=6)),
                ("expiry:1", "escalate", timedelta(days=49)),
            ],
        )


@group(
    "persistence",
    title="Persisted transitions: Peerloop against the raw driver",
    libraries=("SQLAlchemy", "psycopg", "transitions"),
    notes=(
        "Each call is a pause and a reopen of one SPP cycle, each its own transaction: read the "
        "cycle's version and history head (its records come from the cycle cache while these "
        "match), decide, update it, append hash-chained history, cancel and plan deadlines, "
        "commit: 5 statements.",
        "The baseline issues the same statements through sqlite3 / psycopg directly, without "
        "the engine, SQLAlchemy or the repositories. Target: at least half the raw rate "
        "(ratio ≤ 2).",
        "SQLite runs in WAL mode with synchronous=NORMAL on both sides; PostgreSQL is the local "
        "server over TCP.",
    ),
)
def persistence() -> Iterator[list[Comparison]]:
    out = []
    tmp = Path(tempfile.mkdtemp(prefix="peerloop-bench-"))
    app, engine = _seed(f"sqlite:///{tmp / 'bench.db'}")
    engines = [engine]
    lite = sqlite3.connect(tmp / "bench.db", isolation_level=None, check_same_thread=False)
    lite.execute("PRAGMA journal_mode=WAL")
    lite.execute("PRAGMA synchronous=NORMAL")
    raw = _Raw(lite, "?", "BEGIN IMMEDIATE")
    out.append(
        Comparison(
            Case("fire, SQLite", _peerloop_case(app), calls=2),
            Case("sqlite3, same statements", raw.pause_and_reopen, calls=2),
            TARGET,
        )
    )
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    pg: psycopg.Connection[Any] | None = None
    try:
        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3) as admin:
            admin.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.Error as exc:
        print(f"(PostgreSQL skipped: {exc})")
        schema = ""
    if schema:
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"
        app_pg, engine_pg = _seed(url)
        engines.append(engine_pg)
        pg = psycopg.connect(url)
        out.append(
            Comparison(
                Case("fire, PostgreSQL", _peerloop_case(app_pg), calls=2),
                Case("psycopg, same statements", _Raw(pg, "%s", None).pause_and_reopen, calls=2),
                TARGET,
            )
        )
    try:
        yield out
    finally:
        for e in engines:
            e.dispose()
        lite.close()
        shutil.rmtree(tmp, ignore_errors=True)
        if pg is not None:
            pg.close()
        if schema:
            with psycopg.connect(PG_URL, autocommit=True) as admin:
                admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
