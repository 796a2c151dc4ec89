"""series of recurring cycles: a template's cycles started on given school days

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

A series starts a cycle of a template for a host school on each of its days (each year again
when yearly); the day's start is kept once, so two replicas never start it twice
(`engine.series`).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from adapters.tables import UTCDateTime

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cycle_series",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("template_id", sa.String(length=64), nullable=False),
        sa.Column("host_school_id", sa.String(length=64), nullable=False),
        sa.Column("network_id", sa.String(length=64), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("days", sa.JSON(), nullable=False),
        sa.Column("yearly", sa.Boolean(), nullable=False),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["host_school_id"], ["school.id"], name=op.f("fk_cycle_series_host_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cycle_series")),
    )
    op.create_table(
        "cycle_series_start",
        sa.Column("series_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("cycle_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["cycle_series.id"],
            name=op.f("fk_cycle_series_start_series_id_cycle_series"),
        ),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycle.id"], name=op.f("fk_cycle_series_start_cycle_id_cycle")
        ),
        sa.PrimaryKeyConstraint("series_id", "day", name=op.f("pk_cycle_series_start")),
    )


def downgrade() -> None:
    op.drop_table("cycle_series_start")
    op.drop_table("cycle_series")
