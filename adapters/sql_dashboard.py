"""The network dashboard's reads: cycle summaries filtered by network, school, stage, overdue."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from adapters.tables import CycleRow
from engine.directory import CycleSummary
from engine.ports import CycleFilter

__all__ = ["cycle_summaries"]

C = CycleRow.__table__

_COLUMNS = (
    C.c.id,
    C.c.template_id,
    C.c.template_version,
    C.c.host_school_id,
    C.c.network_id,
    C.c.stage,
    C.c.version,
    C.c.stage_entered_at,
    C.c.started_at,
    C.c.stage_due_at,
)


def cycle_summaries(conn: sa.Connection, where: CycleFilter) -> list[CycleSummary]:
    """One page of cycles in the order `CycleFilter` documents.

    Overdue means past the current stage's due time (`cycle.stage_due_at`, written with the
    stage): most overdue first, a walk along `ix_cycle_stage_due` that stops at the page.
    Otherwise start order, along `ix_cycle_network_stage_started` for a network's stage.
    """
    q: sa.Select[Any] = sa.select(*_COLUMNS)
    if where.overdue_at is not None:
        q = q.where(C.c.stage_due_at < where.overdue_at).order_by(C.c.stage_due_at, C.c.id)
    else:
        q = q.order_by(C.c.started_at, C.c.id)
    if where.on_time_at is not None:
        q = q.where(sa.or_(C.c.stage_due_at.is_(None), C.c.stage_due_at >= where.on_time_at))
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
    return [CycleSummary(*row) for row in conn.execute(q.limit(where.limit))]
