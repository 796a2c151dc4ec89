"""judgements and sign-offs of one school taking part in a cycle

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08

In a cycle of several schools a judgement may be of one school taking part (the outcome agreed
for its pupils' work), and a school signs off its own part. Both keys gain the school: '' is
the cycle as a whole, which every row before this migration is.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEYS = {
    "judgement": ("cycle_id", "kind", "question_id"),
    "signoff": ("cycle_id", "stage", "role"),
}


def upgrade() -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        for table, key in _KEYS.items():
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.add_column(
                    sa.Column("school_id", sa.String(length=64), nullable=False, server_default="")
                )
                batch_op.drop_constraint(f"pk_{table}", type_="primary")
                batch_op.create_primary_key(f"pk_{table}", [*key, "school_id"])


def downgrade() -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        for table, key in _KEYS.items():
            # A school's own rows have no place in the older key: they go.
            rows = sa.table(table, sa.column("school_id"))
            op.execute(rows.delete().where(rows.c.school_id != ""))
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.drop_constraint(f"pk_{table}", type_="primary")
                batch_op.create_primary_key(f"pk_{table}", list(key))
                batch_op.drop_column("school_id")
