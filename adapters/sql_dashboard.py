"""The network dashboard's reads: cycle summaries filtered by network, school, stage, overdue;
counts by stage, cycles started per school and open actions, each one GROUP BY or one page."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from adapters.tables import ActionRow, CycleRow
from engine.cycle import DONE_STATUSES
from engine.directory import CycleSummary
from engine.ports import CycleFilter, OpenAction, StageCount

__all__ = ["DashboardReads", "cycle_summaries"]

C = CycleRow.__table__
A = ActionRow.__table__

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


def _matching(where: CycleFilter) -> list[sa.ColumnElement[bool]]:
    """The conditions of one filter (every field given narrows; `limit` is the caller's)."""
    conds: list[sa.ColumnElement[bool]] = []
    if where.overdue_at is not None:
        conds.append(C.c.stage_due_at < where.overdue_at)
    if where.on_time_at is not None:
        conds.append(sa.or_(C.c.stage_due_at.is_(None), C.c.stage_due_at >= where.on_time_at))
    if where.network_id is not None:
        conds.append(C.c.network_id == where.network_id)
    if where.school_id is not None:
        conds.append(C.c.host_school_id == where.school_id)
    if where.stage is not None:
        conds.append(C.c.stage == where.stage)
    if where.template_id is not None:
        conds.append(C.c.template_id == where.template_id)
    if where.ids is not None:
        conds.append(C.c.id.in_(sorted(where.ids)))
    return conds


def _union(filters: Sequence[CycleFilter]) -> sa.ColumnElement[bool]:
    """Cycles matching any of `filters`, each once (the caller returns early for none)."""
    parts = [sa.and_(sa.true(), *_matching(f)) for f in filters]
    return parts[0] if len(parts) == 1 else sa.or_(*parts)


def cycle_summaries(conn: sa.Connection, where: CycleFilter) -> list[CycleSummary]:
    """One page of cycles in the order `CycleFilter` documents.

    Overdue means past the current stage's due time (`cycle.stage_due_at`, written with the
    stage): most overdue first, a walk along `ix_cycle_stage_due` that stops at the page.
    Otherwise start order, along `ix_cycle_network_stage_started` for a network's stage.
    """
    q: sa.Select[Any] = sa.select(*_COLUMNS).where(*_matching(where))
    if where.overdue_at is not None:
        q = q.order_by(C.c.stage_due_at, C.c.id)
    else:
        q = q.order_by(C.c.started_at, C.c.id)
    return [CycleSummary(*row) for row in conn.execute(q.limit(where.limit))]


_NOT_DONE = sa.or_(
    A.c.status.is_(None),
    A.c.status.not_in(
        sa.bindparam("done", list(DONE_STATUSES), expanding=True, literal_execute=True)
    ),
)
"""An action not done. The statuses are written into the statement, not bound: the same
predicate as the partial index `ix_action_open` (migration 0009), so that every plan of the
statement may use it."""


def _open(
    q: sa.Select[Any],
    filters: Sequence[CycleFilter],
    due_before: date,
    due_from: date | None,
    ended: Collection[tuple[str, str]],
) -> sa.Select[Any]:
    q = q.select_from(A.join(C, C.c.id == A.c.cycle_id)).where(
        _union(filters),
        A.c.due.is_not(None),
        A.c.due < due_before,
        _NOT_DONE,
    )
    if due_from is not None:
        q = q.where(A.c.due >= due_from)
    if ended:
        q = q.where(sa.tuple_(C.c.template_id, C.c.stage).not_in(sorted(ended)))
    return q


class DashboardReads:
    """The dashboard's figures, for the cycle repository (which holds the connection)."""

    conn: sa.Connection

    def stage_counts(self, filters: Sequence[CycleFilter], now: datetime) -> list[StageCount]:
        """One GROUP BY; a network's rows come along `ix_cycle_network_stage_started`."""
        if not filters:
            return []
        overdue = sa.func.sum(sa.case((C.c.stage_due_at < now, 1), else_=0))
        keys = (C.c.network_id, C.c.template_id, C.c.stage)
        q = sa.select(*keys, sa.func.count(), overdue).where(_union(filters)).group_by(*keys)
        rows = self.conn.execute(q.order_by(*keys)).all()
        return [StageCount(n, t, s, int(count), int(late or 0)) for n, t, s, count, late in rows]

    def started_by_school(
        self, filters: Sequence[CycleFilter], since: datetime, until: datetime
    ) -> dict[str, int]:
        if not filters:
            return {}
        q = (
            sa.select(C.c.host_school_id, sa.func.count())
            .where(_union(filters), C.c.started_at >= since, C.c.started_at < until)
            .group_by(C.c.host_school_id)
        )
        return {school: int(count) for school, count in self.conn.execute(q).all()}

    def open_actions(
        self,
        filters: Sequence[CycleFilter],
        *,
        due_before: date,
        due_from: date | None = None,
        ended: Collection[tuple[str, str]] = (),
        limit: int = 500,
    ) -> list[OpenAction]:
        if not filters:
            return []
        q = sa.select(
            C.c.id,
            C.c.network_id,
            C.c.host_school_id,
            C.c.template_id,
            C.c.template_version,
            C.c.stage,
            A.c.id,
            A.c.title,
            A.c.owner,
            A.c.due,
        )
        q = _open(q, filters, due_before, due_from, ended).order_by(A.c.due, C.c.id, A.c.id)
        return [OpenAction(*row) for row in self.conn.execute(q.limit(limit)).all()]

    def open_action_counts(
        self,
        filters: Sequence[CycleFilter],
        *,
        due_before: date,
        ended: Collection[tuple[str, str]] = (),
    ) -> dict[str | None, int]:
        if not filters:
            return {}
        q = _open(sa.select(C.c.network_id, sa.func.count()), filters, due_before, None, ended)
        rows = self.conn.execute(q.group_by(C.c.network_id)).all()
        return {network: int(count) for network, count in rows}
