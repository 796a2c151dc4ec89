"""School calendars per network stored in SQL: one row per term and per closure day."""

from __future__ import annotations

from datetime import date, tzinfo

import sqlalchemy as sa

from adapters.tables import ClosureRow, TermRow
from engine.calendar import CalendarBook, CalendarSpec

__all__ = ["SqlCalendarRepository", "load_calendars", "save_calendar"]

TERM = TermRow.__table__
CLOSURE = ClosureRow.__table__


def _remove(conn: sa.Connection, network_id: str | None) -> int:
    removed = 0
    for table in (TERM, CLOSURE):
        col = table.c.network_id
        cond = col.is_(None) if network_id is None else col == network_id
        removed += conn.execute(table.delete().where(cond)).rowcount or 0
    return removed


def save_calendar(conn: sa.Connection, network_id: str | None, spec: CalendarSpec) -> None:
    """Replace a network's (or the default) terms and closures, in the caller's transaction."""
    _remove(conn, network_id)
    if spec.terms:
        conn.execute(
            TERM.insert(),
            [
                {"network_id": network_id, "name": n[:100], "first_day": f, "last_day": la}
                for n, f, la in spec.terms
            ],
        )
    if spec.closures:
        conn.execute(
            CLOSURE.insert(),
            [{"network_id": network_id, "day": d, "name": n[:100]} for n, d in spec.closures],
        )


def load_calendars(conn: sa.Connection, tz: tzinfo) -> CalendarBook:
    """Every stored calendar."""
    terms: dict[str | None, list[tuple[str, date, date]]] = {}
    for r in conn.execute(sa.select(TERM).order_by(TERM.c.first_day)).mappings():
        terms.setdefault(r["network_id"], []).append((r["name"], r["first_day"], r["last_day"]))
    closures: dict[str | None, list[tuple[str, date]]] = {}
    for r in conn.execute(sa.select(CLOSURE).order_by(CLOSURE.c.day)).mappings():
        closures.setdefault(r["network_id"], []).append((r["name"], r["day"]))
    specs = {
        net: CalendarSpec(tuple(terms.get(net, ())), tuple(closures.get(net, ())))
        for net in set(terms) | set(closures)
    }
    return CalendarBook(tz, specs)


class SqlCalendarRepository:
    """The calendar port on the unit of work's connection."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def book(self, tz: tzinfo) -> CalendarBook:
        return load_calendars(self.conn, tz)

    def save(self, network_id: str | None, spec: CalendarSpec) -> None:
        save_calendar(self.conn, network_id, spec)

    def remove(self, network_id: str | None) -> bool:
        return _remove(self.conn, network_id) > 0
