"""dashboard: indexes for the borough view's counts over every cycle and open action

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

The borough view counts every cycle by network, template and stage (with the overdue), every
open action past its due day by network, and the cycles started per school this school year
(docs/benchmarks.md, the scale section). Without these, each is a sequential scan of its
table and a hash aggregate:

- `ix_cycle_counts (network_id, template_id, stage, stage_due_at)`: the stage counts read the
  index alone, already in their GROUP BY's order (no hash, no sort);
- `ix_cycle_started (started_at, host_school_id)`: the school year's starts, from the index;
- `ix_action_open (cycle_id, due)`, partial, over the actions not done (no status, or one
  that is not an impact review's verdict, `engine.cycle.DONE_STATUSES`): a closed cycle's
  actions are all done, so it holds the actions of cycles under way, a small part of all.

Built in the migration's transaction, which blocks writes to `cycle` and `action` while they
build (a second or two at a million cycles).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = sa.text("status IS NULL OR status NOT IN ('met', 'partially_met', 'not_met')")
"""An action not done: the predicate `adapters.sql_dashboard` writes (DONE_STATUSES)."""


def upgrade() -> None:
    with op.batch_alter_table("cycle", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cycle_counts", ["network_id", "template_id", "stage", "stage_due_at"], unique=False
        )
        batch_op.create_index("ix_cycle_started", ["started_at", "host_school_id"], unique=False)
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.create_index(
            "ix_action_open",
            ["cycle_id", "due"],
            unique=False,
            postgresql_where=_OPEN,
            sqlite_where=_OPEN,
        )


def downgrade() -> None:
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.drop_index("ix_action_open")
    with op.batch_alter_table("cycle", schema=None) as batch_op:
        batch_op.drop_index("ix_cycle_started")
        batch_op.drop_index("ix_cycle_counts")
