"""Series of recurring cycles in SQL (`engine.ports.SeriesRepository`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from adapters.tables import SeriesRow, SeriesStartRow
from engine.errors import Conflict, NotFound
from engine.series import Series

__all__ = ["SqlSeriesRepository"]

SERIES = SeriesRow.__table__
START = SeriesStartRow.__table__


def _series(r: Mapping[str, Any]) -> Series:
    return Series(
        id=r["id"],
        template_id=r["template_id"],
        host_school_id=r["host_school_id"],
        network_id=r["network_id"],
        days=tuple(date.fromisoformat(d) for d in r["days"]),
        created_by=r["created_by"],
        created_at=r["created_at"],
        yearly=bool(r["yearly"]),
        participants=tuple(r["participants"]),
        title=r["title"],
        cancelled_at=r["cancelled_at"],
        cancelled_by=r["cancelled_by"],
    )


class SqlSeriesRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def add(self, series: Series) -> None:
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    SERIES.insert().values(
                        id=series.id,
                        template_id=series.template_id,
                        host_school_id=series.host_school_id,
                        network_id=series.network_id,
                        title=series.title,
                        days=[d.isoformat() for d in series.days],
                        yearly=series.yearly,
                        participants=list(series.participants),
                        created_by=series.created_by,
                        created_at=series.created_at,
                        cancelled_at=series.cancelled_at,
                        cancelled_by=series.cancelled_by,
                    )
                )
        except sa.exc.IntegrityError as exc:
            raise Conflict("series", series.id, f"series {series.id!r} clashes") from exc

    def get(self, series_id: str) -> Series:
        row = self.conn.execute(sa.select(SERIES).where(SERIES.c.id == series_id)).mappings()
        found = row.first()
        if found is None:
            raise NotFound("series", series_id)
        return _series(found)

    def list(self, *, active: bool | None = None) -> list[Series]:
        q = sa.select(SERIES).order_by(SERIES.c.created_at, SERIES.c.id)
        if active is True:
            q = q.where(SERIES.c.cancelled_at.is_(None))
        elif active is False:
            q = q.where(SERIES.c.cancelled_at.is_not(None))
        return [_series(r) for r in self.conn.execute(q).mappings()]

    def cancel(self, series_id: str, by: str, at: datetime) -> Series:
        self.conn.execute(
            SERIES.update()
            .where(SERIES.c.id == series_id, SERIES.c.cancelled_at.is_(None))
            .values(cancelled_at=at, cancelled_by=by)
        )
        return self.get(series_id)

    def started(self, series_ids: Sequence[str]) -> dict[str, dict[date, str]]:
        out: dict[str, dict[date, str]] = {sid: {} for sid in series_ids}
        if not series_ids:
            return out
        q = sa.select(START).where(START.c.series_id.in_(sorted(set(series_ids))))
        for r in self.conn.execute(q).mappings():
            out[r["series_id"]][r["day"]] = r["cycle_id"]
        return out

    def mark_started(self, series_id: str, day: date, cycle_id: str) -> None:
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    START.insert().values(series_id=series_id, day=day, cycle_id=cycle_id)
                )
        except sa.exc.IntegrityError as exc:
            raise Conflict(
                "series", series_id, f"the cycle of {day.isoformat()} has been started already"
            ) from exc
