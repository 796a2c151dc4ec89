"""cycles of several schools: the schools taking part, and evidence and findings of one

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

A cycle has a lead (host) school and may have participating schools (a cluster moderation's,
a joint review's), added and removed with history; evidence and findings may be of one of them.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from adapters.tables import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cycle_participant",
        sa.Column("cycle_id", sa.String(), nullable=False),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("network_id", sa.String(length=64), nullable=True),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("added_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycle.id"], name=op.f("fk_cycle_participant_cycle_id_cycle")
        ),
        sa.PrimaryKeyConstraint("cycle_id", "school_id", name=op.f("pk_cycle_participant")),
    )
    op.create_index("ix_cycle_participant_school", "cycle_participant", ["school_id"], unique=False)
    for table in ("evidence", "finding"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("school_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    # SQLite rebuilds `evidence`, reading the tables it refers to; the cycle's expression
    # index (migration 0010) cannot be read back, and is not needed to rebuild it.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        for table in ("finding", "evidence"):
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.drop_column("school_id")
    op.drop_index("ix_cycle_participant_school", table_name="cycle_participant")
    op.drop_table("cycle_participant")
