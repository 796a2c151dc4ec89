"""dashboard: find the cycles a person reviews or champions from an index

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

Every dashboard and report list asks which cycles the caller is on the team of, or
champions (`CycleRepository.member_of`): what they may see beyond their grants. Without
these, that is a sequential scan of `team_member` and of every cycle's champion, 84 ms at a
million cycles for each page a person opens (docs/benchmarks.md, the scale section):

- `ix_team_member_person (person_id)`: the team rows of one person;
- `ix_cycle_champion ((champion ->> 'person_id'))`: an expression index on the champion's
  person, the expression `adapters.sql_cycles` compares (the same text on both databases:
  SQLite reads `->>` since 3.38).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHAMPION = "(champion ->> 'person_id')"
"""The champion's person id, as `adapters.tables.CHAMPION_ID` writes it."""


def upgrade() -> None:
    op.create_index("ix_team_member_person", "team_member", ["person_id"], unique=False)
    op.create_index("ix_cycle_champion", "cycle", [sa.text(CHAMPION)], unique=False)


def downgrade() -> None:
    op.drop_index("ix_cycle_champion", table_name="cycle")
    op.drop_index("ix_team_member_person", table_name="team_member")
