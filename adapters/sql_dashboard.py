"""The network dashboard's reads: cycle summaries filtered by network, school, stage, overdue."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from adapters.tables import CycleRow, DeadlineTableRow
from engine.directory import CycleSummary
from engine.ports import CycleFilter

__all__ = ["cycle_summaries"]

C = CycleRow.__table__
DEADLINE = DeadlineTableRow.__table__


def cycle_summaries(conn: sa.Connection, where: CycleFilter) -> list[CycleSummary]:
    next_due = (
        sa.select(sa.func.min(DEADLINE.c.due_at))
        .where(
            DEADLINE.c.cycle_id == C.c.id,
            DEADLINE.c.kind == "due",
            DEADLINE.c.status == "pending",
        )
        .scalar_subquery()
    )
    q = sa.select(
        C.c.id,
        C.c.template_id,
        C.c.template_version,
        C.c.host_school_id,
        C.c.network_id,
        C.c.stage,
        C.c.version,
        C.c.stage_entered_at,
        C.c.started_at,
        next_due.label("next_due_at"),
    )
    if where.network_id is not None:
        q = q.where(C.c.network_id == where.network_id)
    if where.school_id is not None:
        q = q.where(C.c.host_school_id == where.school_id)
    if where.stage is not None:
        q = q.where(C.c.stage == where.stage)
    if where.template_id is not None:
        q = q.where(C.c.template_id == where.template_id)
    if where.ids is not None:
        q = q.where(C.c.id.in_(sorted(where.ids)))
    if where.overdue_at is not None:
        q = q.where(
            sa.exists().where(
                DEADLINE.c.cycle_id == C.c.id,
                DEADLINE.c.kind == "due",
                DEADLINE.c.status == "pending",
                DEADLINE.c.due_at < where.overdue_at,
            )
        )
    q = q.order_by(C.c.started_at, C.c.id).limit(where.limit)
    out = []
    for r in conn.execute(q).mappings():
        nd = r["next_due_at"]
        if nd is not None and nd.tzinfo is None:  # SQLite's min() bypasses the column type
            nd = DEADLINE.c.due_at.type.process_result_value(nd, conn.dialect)
        elif isinstance(nd, str):
            nd = datetime.fromisoformat(nd)
            nd = DEADLINE.c.due_at.type.process_result_value(nd, conn.dialect)
        out.append(CycleSummary(**{**r, "next_due_at": nd}))
    return out
