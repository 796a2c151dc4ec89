"""templates: a published version can be retired

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

A retired version starts no new cycles; the cycles running on it go on (`engine.versions`).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from adapters.tables import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("template_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retired_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("template_version", schema=None) as batch_op:
        batch_op.drop_column("retired_at")
