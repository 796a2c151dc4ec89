"""Loading a partnership into an empty database once: a database-wide lock, then the check.

Several processes may start on one new database at once (replicas of a deployment). The first
to take the lock loads; the others wait for it and then find the database no longer empty. On
PostgreSQL the lock is a transaction-scoped advisory lock; on SQLite, the write lock that a
writing transaction takes when it begins (`BEGIN IMMEDIATE`, adapters/db.py).
"""

from __future__ import annotations

import sqlalchemy as sa

from adapters.tables import NetworkRow, PersonRow, SchoolRow

__all__ = ["FIRST_LOAD_LOCK", "directory_is_empty", "take_first_load_lock"]

FIRST_LOAD_LOCK = 0x7065_6572_6C6F_6F70
"""The advisory lock's key on PostgreSQL ("peerloop" in ASCII): one per database."""


def take_first_load_lock(conn: sa.Connection) -> None:
    """Hold the first-load lock until `conn`'s transaction ends (waiting for whoever has it)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(FIRST_LOAD_LOCK)))
    # SQLite: the transaction began with the database's write lock; nothing more to take.


def directory_is_empty(conn: sa.Connection) -> bool:
    """No person, school or network at all: nothing anyone imported or loaded."""
    for row in (PersonRow, SchoolRow, NetworkRow):
        table = row.__table__
        if conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first():
            return False
    return True
