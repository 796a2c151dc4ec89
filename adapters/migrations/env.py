"""Alembic environment: runs on the connection the caller passes in (see adapters/migrate.py)."""

from __future__ import annotations

from alembic import context

from adapters.tables import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - Peerloop always passes a connection
    raise RuntimeError("run migrations through `peerloop db upgrade`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
