"""Database engines: SQLite (embedded default) with WAL and foreign keys, or PostgreSQL."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

__all__ = ["IDLE_PING_SECONDS", "create_db_engine", "is_unavailable", "normalise_url"]

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
    url: str,
    *,
    echo: bool = False,
    pool_size: int = 10,
    ping_after: float = IDLE_PING_SECONDS,
    busy_timeout: float = 30.0,
) -> Engine:
    """An engine for `url`; SQLite connections get WAL, a busy timeout and foreign keys.

    Bound parameters are left out of error messages (`hide_parameters`): they carry names,
    email addresses and token hashes, and errors reach logs.

    A SQLite writer waits up to `busy_timeout` seconds for another's write lock before giving
    up (an error `is_unavailable` recognises). A server connection is pinged before use only
    when it has sat idle `ping_after` seconds or more: that is when a restarted server or a
    dropped link leaves it dead, and pinging every checkout (`pool_pre_ping`) would add a round
    trip to every unit of work.
    """
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            echo=echo,
            hide_parameters=True,
            connect_args={"check_same_thread": False, "timeout": busy_timeout},
        )
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    # A server that is down, or a link that died without a word, must fail a request in
    # seconds, not hang it until the kernel's TCP timeout; a URL's own settings win.
    given = sa.engine.make_url(url).query
    network = {k: v for k, v in _PG_NETWORK.items() if k not in given}
    engine = sa.create_engine(
        url,
        echo=echo,
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args=network,
    )
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


_PG_NETWORK = {
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}
"""libpq connection settings for PostgreSQL (each overridable in the database URL)."""

# PostgreSQL SQLSTATEs that say "not now" rather than "wrong": the server is going away or full,
# or the transaction lost a lock race; the same request may succeed when sent again.
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03", "53300", "57P01", "57P02", "57P03"})


def is_unavailable(exc: BaseException) -> bool:
    """Whether `exc` means the database could not serve this unit of work now (unreachable,
    restarting, the connection lost, too busy) and nothing was written, so a retry may succeed.

    Not every driver OperationalError qualifies: on SQLite a missing column or a read-only file
    is one too, and those are faults to log and fix, not to retry.
    """
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    if isinstance(orig, sqlite3.OperationalError):
        text = str(orig)
        return "database is locked" in text or "database is busy" in text
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate.startswith("08") or sqlstate in _RETRYABLE_SQLSTATES
    # No SQLSTATE: the server never answered (refused, timed out, gone before a session began).
    return isinstance(exc, sa.exc.OperationalError) and not isinstance(orig, sqlite3.Error)


def _sqlite_begin(conn: sa.Connection) -> None:
    # pysqlite's own transaction handling is turned off (below) so that a unit of work is one
    # real transaction. Writers take the write lock up front (IMMEDIATE): a deferred reader that
    # later writes after another commit fails at once in WAL mode instead of waiting its turn.
    readonly = conn.get_execution_options().get("readonly", False)
    # Straight to the driver: this runs for every unit of work, and needs no result. This hook
    # runs outside SQLAlchemy's error translation, so a driver error (the write lock still
    # held when the busy timeout ends) is translated here, as every other statement's is.
    statement = "BEGIN" if readonly else "BEGIN IMMEDIATE"
    try:
        conn.connection.driver_connection.execute(statement)
    except sqlite3.Error as exc:
        raise sa.exc.DBAPIError.instance(statement, None, exc, sqlite3.Error) from exc


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # let the "begin" hook above control transactions
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
