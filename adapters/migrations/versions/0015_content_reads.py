"""reads of a cycle's confidential content from outside its host school

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08

Who read a cycle's report, self-review or evidence files, when and on what grounds, when they
are not of the host school's own staff: an audit the host's head reads.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from adapters.tables import UTCDateTime

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "content_read",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("section", sa.String(length=32), nullable=False),
        sa.Column("grounds", sa.String(length=32), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycle.id"], name=op.f("fk_content_read_cycle_id_cycle")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_read")),
    )
    op.create_index(op.f("ix_content_read_cycle_id"), "content_read", ["cycle_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_content_read_cycle_id"), table_name="content_read")
    op.drop_table("content_read")
