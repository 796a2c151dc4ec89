"""Storage backends for the contract suite: the in-memory fake, a SQLite file, PostgreSQL.

PostgreSQL runs in a schema of its own per test run, so parallel runs cannot collide. When
CI=true it is mandatory: a missing server fails the run instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from adapters.db import create_db_engine
from adapters.memory import InMemoryStore, InMemoryUnitOfWork
from adapters.migrate import upgrade
from adapters.unit_of_work import SqlUnitOfWork
from engine.ports import UnitOfWork

PG_URL = os.environ.get("PEERLOOP_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"

UowFactory = Callable[..., UnitOfWork]


def _pg_available() -> str | None:
    try:
        with psycopg.connect(PG_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL at {PG_URL} does not answer: {exc}".strip()


@pytest.fixture(scope="session")
def pg_ready() -> None:
    """Skip (or, when CI=true, fail) unless the local PostgreSQL answers."""
    problem = _pg_available()
    if problem:
        if IN_CI:
            pytest.fail(f"{problem} (mandatory when CI=true)")
        pytest.skip(problem)


@pytest.fixture
def pg_engine(pg_ready: None) -> Iterator[Engine]:
    """An engine on a schema of its own, dropped afterwards, so runs cannot collide."""
    schema = f"peerloop_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    engine = create_db_engine(f"{PG_URL}{sep}options=-csearch_path%3D{schema}")
    try:
        yield engine
    finally:
        engine.dispose()
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'peerloop.db'}")
    yield engine
    engine.dispose()


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> Iterator[tuple[str, UowFactory, Engine | None]]:
    """(name, unit-of-work factory, engine or None) for each storage backend."""
    if request.param == "memory":
        store = InMemoryStore()
        yield "memory", lambda **kw: InMemoryUnitOfWork(store, **kw), None
        return
    engine: Engine = request.getfixturevalue(
        f"{'pg' if request.param == 'postgres' else 'sqlite'}_engine"
    )
    upgrade(engine)
    yield request.param, lambda **kw: SqlUnitOfWork(engine, **kw), engine


def execute(engine: Engine, sql: str, **params: object) -> None:
    """Raw SQL, for tests that play the part of someone editing the database by hand."""
    with engine.begin() as conn:
        conn.execute(sa.text(sql), params)
