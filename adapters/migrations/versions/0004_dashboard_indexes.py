"""dashboard: a cycle's stage due time, and indexes for the network dashboard

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

`cycle.stage_due_at` is when the cycle's current stage is due: a cycle is overdue while it is
past that and still in the stage. It lives on the cycle row, written with the stage, because
the deadline rows cannot say it on their own: a stage's `due` row fires (and stops being
pending) once its time passes, while the cycle stays overdue until it moves on. Existing
cycles get it from the latest uncancelled `due` row of their current stage.

Indexes (docs/benchmarks-scale-1m.md): a network's cycles at a stage in start order, and the
overdue cycles most overdue first. The (network_id, stage) index is a prefix of the new cycle
index, so it goes, and so does history's index on cycle_id, a prefix of its unique
(cycle_id, seq): one index fewer to write with every history entry. They are built in the
migration's transaction, which blocks writes to `cycle` while they build (seconds at a million
cycles).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from adapters.tables import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cycle", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stage_due_at", UTCDateTime(timezone=True), nullable=True))
    # The stage's due time is that of the `due` row planned last for the current stage, if it
    # is of this visit (pending, or fired since the cycle entered the stage) and not cancelled.
    # Not the latest due_at: a date moved earlier after its due row fired leaves the older,
    # later row fired (only pending rows are cancelled), and it no longer counts.
    op.execute(
        "UPDATE cycle SET stage_due_at = (SELECT d.due_at FROM deadline d"
        " WHERE d.cycle_id = cycle.id AND d.stage = cycle.stage AND d.kind = 'due'"
        " AND d.action_id IS NULL AND d.status <> 'cancelled'"
        " AND (d.fired_at IS NULL OR d.fired_at >= cycle.stage_entered_at)"
        " AND NOT EXISTS (SELECT 1 FROM deadline later WHERE later.cycle_id = d.cycle_id"
        " AND later.stage = d.stage AND later.kind = 'due' AND later.action_id IS NULL"
        " AND later.id > d.id))"
    )
    with op.batch_alter_table("cycle", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cycle_network_stage_started",
            ["network_id", "stage", "started_at", "id"],
            unique=False,
        )
        batch_op.create_index("ix_cycle_stage_due", ["stage_due_at", "id"], unique=False)
        batch_op.drop_index("ix_cycle_network_stage")
    with op.batch_alter_table("history", schema=None) as batch_op:
        batch_op.drop_index("ix_history_cycle_id")


def downgrade() -> None:
    with op.batch_alter_table("history", schema=None) as batch_op:
        batch_op.create_index("ix_history_cycle_id", ["cycle_id"], unique=False)
    with op.batch_alter_table("cycle", schema=None) as batch_op:
        batch_op.create_index("ix_cycle_network_stage", ["network_id", "stage"], unique=False)
        batch_op.drop_index("ix_cycle_stage_due")
        batch_op.drop_index("ix_cycle_network_stage_started")
        batch_op.drop_column("stage_due_at")
