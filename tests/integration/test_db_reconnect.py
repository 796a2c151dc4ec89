"""A pooled PostgreSQL connection that died while idle is replaced, not handed out."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from adapters.db import create_db_engine
from tests.integration.conftest import PG_URL


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(pid: int) -> None:
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


@pytest.mark.usefixtures("pg_ready")
def test_an_idle_connection_killed_by_the_server_is_replaced() -> None:
    engine = create_db_engine(PG_URL, pool_size=1, ping_after=0.0)
    try:
        killed = _backend_pid(engine)
        _terminate(killed)
        assert _backend_pid(engine) != killed  # the next unit of work just works
    finally:
        engine.dispose()


@pytest.mark.usefixtures("pg_ready")
def test_without_the_idle_ping_the_dead_connection_fails_once() -> None:
    # The counterpart: what the ping saves a caller from (a recently used connection is not
    # pinged, so a server restart in that window costs one failed unit of work).
    engine = create_db_engine(PG_URL, pool_size=1, ping_after=3600.0)
    try:
        killed = _backend_pid(engine)
        _terminate(killed)
        with pytest.raises(sa.exc.OperationalError):
            _backend_pid(engine)
        assert _backend_pid(engine) != killed
    finally:
        engine.dispose()
