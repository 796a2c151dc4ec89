"""Database engines: SQLite (embedded default) with WAL and foreign keys, or PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

__all__ = ["IDLE_PING_SECONDS", "StorageUnavailable", "create_db_engine", "normalise_url"]

StorageUnavailable = sa.exc.OperationalError
"""The database could not be reached or was too busy: nothing was written; try again."""

IDLE_PING_SECONDS = 5.0
"""A pooled connection unused for this long is checked before it is handed out."""


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain `postgresql://` URLs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def create_db_engine(
    url: str, *, echo: bool = False, pool_size: int = 10, ping_after: float = IDLE_PING_SECONDS
) -> Engine:
    """An engine for `url`; SQLite connections get WAL, a busy timeout and foreign keys.

    A server connection is pinged before use only when it has sat idle `ping_after` seconds
    or more: that is when a restarted server or a dropped link leaves it dead, and pinging
    every checkout (`pool_pre_ping`) would add a round trip to every unit of work.
    """
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}
        )
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = sa.create_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size)
    dialect = engine.dialect

    def note_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < ping_after:
            return
        try:
            dialect.do_ping(dbapi_conn)
        except Exception as exc:
            # The pool discards this connection and checks out another (a fresh one if need be).
            raise sa.exc.DisconnectionError(str(exc)) from exc

    sa.event.listen(engine.pool, "checkin", note_checkin)
    sa.event.listen(engine.pool, "checkout", ping_if_idle)
    return engine


def _sqlite_begin(conn: sa.Connection) -> None:
    # pysqlite's own transaction handling is turned off (below) so that a unit of work is one
    # real transaction. Writers take the write lock up front (IMMEDIATE): a deferred reader that
    # later writes after another commit fails at once in WAL mode instead of waiting its turn.
    readonly = conn.get_execution_options().get("readonly", False)
    # Straight to the driver: this runs for every unit of work, and needs no result.
    conn.connection.driver_connection.execute("BEGIN" if readonly else "BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # let the "begin" hook above control transactions
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
