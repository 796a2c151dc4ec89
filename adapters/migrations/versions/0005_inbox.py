"""inbox: notices delivered to people, and how each person wants email

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

`notification` is a person's in-app inbox (a notice is delivered once per dedupe key);
`notification_preference` says whether a person's email comes at once, in a daily digest, or
not at all (no row: at once).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from adapters.tables import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("cycle_id", sa.String(length=64), nullable=True),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_notification_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_notification_dedupe_key")),
    )
    op.create_index("ix_notification_person_created", "notification", ["person_id", "created_at"])
    op.create_table(
        "notification_preference",
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=16), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_notification_preference_person_id_person")
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_notification_preference")),
    )


def downgrade() -> None:
    op.drop_table("notification_preference")
    op.drop_index("ix_notification_person_created", table_name="notification")
    op.drop_table("notification")
