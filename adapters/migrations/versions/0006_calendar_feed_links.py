"""calendar feed links: a secret URL per person that calendar apps can subscribe to

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

`calendar_feed_link` holds at most one link per person: the sha256 of the secret in the URL
(never the secret itself), when it was made and when a calendar app last read it. Replacing a
link overwrites the row; revoking it deletes the row.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from adapters.tables import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_feed_link",
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_calendar_feed_link_person_id_person")
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_calendar_feed_link")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_calendar_feed_link_secret_hash")),
    )


def downgrade() -> None:
    op.drop_table("calendar_feed_link")
