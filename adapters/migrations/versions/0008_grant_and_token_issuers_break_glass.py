"""who granted a role and made a token, and admins' break-glass openings

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10

`role_grant.granted_by` and `.granted_at` say who gave a role and when; `api_token.issued_by`
says who made a token (its owner, an admin, or `system:operator`). Rows written before this
revision keep null: who made them was not kept. `break_glass` holds each admin's explicit,
reasoned opening of one cycle's confidential sections, with when it ends; rows are never
deleted (the cycle's history tells them too).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from adapters.tables import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("role_grant", schema=None) as batch_op:
        batch_op.add_column(sa.Column("granted_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("granted_at", UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("issued_by", sa.String(length=64), nullable=True))
    op.create_table(
        "break_glass",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("cycle_id", sa.String(), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("opened_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("until", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycle.id"], name=op.f("fk_break_glass_cycle_id_cycle")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_break_glass")),
    )
    with op.batch_alter_table("break_glass", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_break_glass_cycle_id"), ["cycle_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("break_glass", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_break_glass_cycle_id"))
    op.drop_table("break_glass")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_column("issued_by")
    with op.batch_alter_table("role_grant", schema=None) as batch_op:
        batch_op.drop_column("granted_at")
        batch_op.drop_column("granted_by")
