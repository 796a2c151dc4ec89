"""an action's finding, and when and by whom a support activity was logged

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-09

`action.finding_id` names the finding of the cycle an action answers (null: none).
`support_activity.at` and `.by` say when and by whom an activity was logged; activities
logged before this revision keep null in both, and are read as undated.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from adapters.tables import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.add_column(sa.Column("finding_id", sa.String(length=64), nullable=True))
    with op.batch_alter_table("support_activity", schema=None) as batch_op:
        batch_op.add_column(sa.Column("at", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("by", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("support_activity", schema=None) as batch_op:
        batch_op.drop_column("by")
        batch_op.drop_column("at")
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.drop_column("finding_id")
