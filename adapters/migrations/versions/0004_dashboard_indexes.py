"""dashboard indexes

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

The dashboard's reads at a million cycles (docs/benchmarks-scale-1m.md): a network's cycles at
a stage in start order, and the pending due times of the deadline table by cycle and by time
(partial: only `status = 'pending' AND kind = 'due'`, a few percent of the rows). The
(network_id, stage) index is a prefix of the new cycle index, so it goes.

The indexes are built in the migration's transaction, which blocks writes to `cycle` and
`deadline` while they build: 10-15 s at a million cycles (20 million deadline rows) on the
benchmark machine.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_DUE = sa.text("status = 'pending' AND kind = 'due'")


def upgrade() -> None:
    with op.batch_alter_table("cycle", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cycle_network_stage_started",
            ["network_id", "stage", "started_at", "id"],
            unique=False,
        )
        batch_op.drop_index("ix_cycle_network_stage")

    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deadline_pending_due",
            ["cycle_id", "due_at"],
            unique=False,
            postgresql_where=OPEN_DUE,
            sqlite_where=OPEN_DUE,
        )
        batch_op.create_index(
            "ix_deadline_pending_due_at",
            ["due_at", "cycle_id"],
            unique=False,
            postgresql_where=OPEN_DUE,
            sqlite_where=OPEN_DUE,
        )


def downgrade() -> None:
    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.drop_index("ix_deadline_pending_due_at")
        batch_op.drop_index("ix_deadline_pending_due")

    with op.batch_alter_table("cycle", schema=None) as batch_op:
        batch_op.create_index("ix_cycle_network_stage", ["network_id", "stage"], unique=False)
        batch_op.drop_index("ix_cycle_network_stage_started")
