"""The SQL unit of work: one connection, one transaction, every repository sharing it."""

from __future__ import annotations

from types import TracebackType
from typing import Self

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from adapters.aggregate_cache import AggregateCache, cache_for
from adapters.notify_webhook import SqlWebhookOutbox
from adapters.sql_access import (
    SqlBreakGlassRepository,
    SqlCredentialRepository,
    SqlReadLog,
    SqlShareRepository,
)
from adapters.sql_calendars import SqlCalendarRepository
from adapters.sql_cycles import SqlCycleRepository
from adapters.sql_feeds import SqlFeedLinkRepository
from adapters.sql_inbox import SqlInboxRepository
from adapters.sql_personal_data import SqlPersonalData
from adapters.sql_repos import (
    SqlDeadlineRepository,
    SqlDirectoryRepository,
    SqlHistoryRepository,
    SqlIdempotencyStore,
    SqlTemplateRepository,
)
from adapters.sql_series import SqlSeriesRepository
from engine.calendar import Calendars, SchoolCalendar

__all__ = ["SqlUnitOfWork"]


class SqlUnitOfWork:
    """`with uow: ...; uow.commit()`: leaving the block without commit rolls everything back.

    Args:
        engine: the database engine.
        readonly: a reading unit of work (on SQLite it does not take the write lock).
        calendar: counts action due dates (Europe/London weekdays when not given).
        cache: committed cycles kept between units of work (by default the one shared by
            every unit of work on `engine`; see adapters.aggregate_cache).
        connection: work inside this connection's open transaction instead of a transaction
            of its own: the unit of work is a savepoint, and nothing it commits is durable
            until that transaction commits (to load a whole partnership as one transaction).
    """

    cycles: SqlCycleRepository
    history: SqlHistoryRepository
    deadlines: SqlDeadlineRepository
    templates: SqlTemplateRepository
    directory: SqlDirectoryRepository
    idempotency: SqlIdempotencyStore
    credentials: SqlCredentialRepository
    shares: SqlShareRepository
    break_glass: SqlBreakGlassRepository
    reads: SqlReadLog
    personal_data: SqlPersonalData
    inbox: SqlInboxRepository
    webhooks: SqlWebhookOutbox
    feed_links: SqlFeedLinkRepository
    calendars: SqlCalendarRepository

    def __init__(
        self,
        engine: Engine,
        *,
        readonly: bool = False,
        calendar: SchoolCalendar | Calendars | None = None,
        cache: AggregateCache | None = None,
        connection: sa.Connection | None = None,
    ) -> None:
        self.engine = engine
        self.cache = cache if cache is not None else cache_for(engine)
        self.readonly = readonly
        self.calendar = calendar
        self._outer = connection
        self._conn: sa.Connection | None = None
        self._tx: sa.RootTransaction | sa.NestedTransaction | None = None

    def __enter__(self) -> Self:
        if self._outer is not None:
            conn = self._outer
            self._tx = conn.begin_nested()
        else:
            conn = self.engine.connect()
            try:
                if self.readonly:
                    conn = conn.execution_options(readonly=True)
                self._tx = conn.begin()
            except BaseException:
                # `__exit__` does not run when `__enter__` raises: give the connection back.
                conn.close()
                raise
        self._conn = conn
        self.cycles = SqlCycleRepository(conn, self.calendar, self.cache)
        self.history = SqlHistoryRepository(conn)
        self.deadlines = SqlDeadlineRepository(conn)
        self.templates = SqlTemplateRepository(conn)
        self.directory = SqlDirectoryRepository(conn)
        self.idempotency = SqlIdempotencyStore(conn)
        self.credentials = SqlCredentialRepository(conn)
        self.shares = SqlShareRepository(conn)
        self.break_glass = SqlBreakGlassRepository(conn)
        self.reads = SqlReadLog(conn)
        self.personal_data = SqlPersonalData(conn)
        self.inbox = SqlInboxRepository(conn)
        self.webhooks = SqlWebhookOutbox(conn)
        self.feed_links = SqlFeedLinkRepository(conn)
        self.calendars = SqlCalendarRepository(conn)
        self.series = SqlSeriesRepository(conn)
        return self

    @property
    def connection(self) -> sa.Connection:
        assert self._conn is not None, "use the unit of work in a `with` block"
        return self._conn

    def commit(self) -> None:
        assert self._tx is not None, "use the unit of work in a `with` block"
        self._tx.commit()
        self.cycles.committed()

    def rollback(self) -> None:
        if self._tx is not None and self._tx.is_active:
            self._tx.rollback()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.rollback()
        finally:
            if self._conn is not None and self._outer is None:
                self._conn.close()
            self._conn = None
            self._tx = None
