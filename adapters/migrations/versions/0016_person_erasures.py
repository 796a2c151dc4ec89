"""right-to-erasure requests carried out

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08

A person's personal data erased (their id kept, so that the history still verifies), with who
asked, why, who carried it out, when, and how much went.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from adapters.tables import UTCDateTime

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person_erasure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("asked_by", sa.String(length=500), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("erased_by", sa.String(length=64), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("removed", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_erasure")),
    )
    op.create_index(
        op.f("ix_person_erasure_person_id"), "person_erasure", ["person_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_person_erasure_person_id"), table_name="person_erasure")
    op.drop_table("person_erasure")
