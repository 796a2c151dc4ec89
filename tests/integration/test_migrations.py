"""Migrations: upgrade from empty, down and up again, and the tables match the migrations."""

from __future__ import annotations

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
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
