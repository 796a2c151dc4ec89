"""Which database errors are "unavailable, retry" (503) and which are faults (500)."""

from __future__ import annotations

import sqlite3

import psycopg
import psycopg.errors as pg
import pytest
import sqlalchemy as sa

from adapters.db import is_unavailable


def _wrapped(orig: Exception, *, invalidated: bool = False) -> sa.exc.DBAPIError:
    base = sqlite3.Error if isinstance(orig, sqlite3.Error) else psycopg.Error
    return sa.exc.DBAPIError.instance(
        "SELECT 1", None, orig, base, connection_invalidated=invalidated
    )


@pytest.mark.parametrize(
    ("orig", "invalidated", "expected"),
    [
        (sqlite3.OperationalError("database is locked"), False, True),
        (sqlite3.OperationalError("database is busy"), False, True),
        (sqlite3.OperationalError("no such column: cycle.stage_due_at"), False, False),
        (sqlite3.OperationalError("attempt to write a readonly database"), False, False),
        (sqlite3.IntegrityError("UNIQUE constraint failed: school.urn"), False, False),
        (pg.OperationalError("server closed the connection unexpectedly"), True, True),
        (pg.OperationalError("connection refused"), False, True),  # no session, no SQLSTATE
        (pg.AdminShutdown("terminating connection due to administrator command"), False, True),
        (pg.DeadlockDetected("deadlock detected"), False, True),
        (pg.SerializationFailure("could not serialize access"), False, True),
        (pg.LockNotAvailable("could not obtain lock"), False, True),
        (pg.TooManyConnections("too many clients"), False, True),
        (pg.UndefinedColumn('column "stage_due_at" does not exist'), False, False),
        (pg.UniqueViolation("duplicate key"), False, False),
    ],
)
def test_unavailable_means_a_retry_may_succeed(
    orig: Exception, invalidated: bool, expected: bool
) -> None:
    assert is_unavailable(_wrapped(orig, invalidated=invalidated)) is expected


def test_errors_that_are_not_from_the_database_are_not_unavailable() -> None:
    assert not is_unavailable(ValueError("database is locked"))
    assert not is_unavailable(sqlite3.OperationalError("database is locked"))  # untranslated
