"""Migrations: upgrade from empty, down and up again, and the tables match the migrations."""

from __future__ import annotations

import warnings

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

from adapters.migrate import (
    SchemaOutOfDate,
    check_schema,
    current_revision,
    downgrade,
    head_revision,
    upgrade,
)
from adapters.tables import metadata


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> Engine:
    name = "pg_engine" if request.param == "postgres" else "sqlite_engine"
    return request.getfixturevalue(name)


def tables(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_from_empty_then_down_and_up(engine: Engine) -> None:
    assert current_revision(engine) is None
    with pytest.raises(SchemaOutOfDate, match="run `peerloop db upgrade`"):
        check_schema(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    check_schema(engine)
    assert tables(engine) == set(metadata.tables)
    downgrade(engine, "base")
    assert tables(engine) == set()
    upgrade(engine)
    assert tables(engine) == set(metadata.tables)


def test_each_step_down_and_up(engine: Engine) -> None:
    upgrade(engine)
    downgrade(engine, "-1")
    assert current_revision(engine) != head_revision()
    with pytest.raises(SchemaOutOfDate):
        check_schema(engine)
    upgrade(engine)
    check_schema(engine)


def test_tables_match_the_migrations(engine: Engine) -> None:
    """A model change without its migration shows up here, not in production."""
    upgrade(engine)
    with engine.connect() as conn, warnings.catch_warnings():
        # SQLite's reflection cannot read an expression index (the champion's): the next
        # test checks it by name on both databases.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression")
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def index_names(engine: Engine) -> set[str]:
    query = (
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
        if engine.dialect.name == "postgresql"
        else "SELECT name FROM sqlite_master WHERE type = 'index'"
    )
    with engine.connect() as conn:
        return set(conn.exec_driver_sql(query).scalars())


def test_every_declared_index_is_built(engine: Engine) -> None:
    upgrade(engine)
    declared = {i.name for table in metadata.tables.values() for i in table.indexes}
    assert {"ix_cycle_champion", "ix_team_member_person"} <= declared
    assert declared - index_names(engine) == set()


def test_a_champions_cycles_are_found_by_the_index(engine: Engine) -> None:
    """The repository compares the very expression the index holds (else a full scan)."""
    upgrade(engine)
    query = "SELECT id FROM cycle WHERE (champion ->> 'person_id') = 'p-1'"
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = " ".join(conn.exec_driver_sql(f"EXPLAIN {query}").scalars())
        else:
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {query}"))
    assert "ix_cycle_champion" in plan
