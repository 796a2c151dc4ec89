"""Fixtures for HTTP tests: a seeded partnership on a SQLite file (or PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from engine.access import Principal
from service.usecases.messages import SetPassword
from tests.e2e.world import PEOPLE, World, open_world
from tests.integration.conftest import PG_URL, pg_ready

__all__ = ["pg_ready"]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from open_world(tmp_path)


@pytest.fixture
def pg_world(pg_ready: None, tmp_path: Path) -> Iterator[World]:
    """The same partnership on PostgreSQL, in a schema of its own dropped afterwards."""
    schema = f"peerloop_e2e_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield from open_world(tmp_path, f"{PG_URL}{sep}options=-csearch_path%3D{schema}")
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


PASSWORD = "correct horse battery staple"
"""Everyone's password in `site`, for signing in to the pages."""


@pytest.fixture
def site(world: World) -> World:
    """The world with a password for everyone, to sign in to the pages."""
    uc = world.container.usecases
    with world.container.uow(readonly=True) as uow:
        admin = uow.directory.get_person(PEOPLE["admin"][0])
        grants = tuple(uow.directory.grants_for(admin.id))
    for pid, _, _ in PEOPLE.values():
        uc.handle(SetPassword(pid, PASSWORD), Principal(admin, grants))
    return world
