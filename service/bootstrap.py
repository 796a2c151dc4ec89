"""The composition root: the one place that wires adapters into the application."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection, Engine

from adapters.aggregate_cache import AggregateCache, cache_for
from adapters.clock import SystemClock
from adapters.db import create_db_engine
from adapters.files import FileStore
from adapters.first_load import directory_is_empty, take_first_load_lock
from adapters.ics_feed import person_feed
from adapters.migrate import check_schema, upgrade
from adapters.scheduler import AutomaticMove
from adapters.sql_calendars import load_calendars
from adapters.sql_cycles import SqlCycleRepository
from adapters.unit_of_work import SqlUnitOfWork
from engine.cycle import Cycle
from service.messagebus import MessageBus
from service.settings import Settings
from service.usecases import UseCases
from service.usecases.core import Clock, Peerloop, TemplateRegistry
from service.usecases.notify import Notifier, event_handlers
from service.usecases.work import emit_after_commit

__all__ = ["Container", "build", "sweep_move"]

T = TypeVar("T")


@dataclass
class Container:
    """Everything a running Peerloop needs, built once at start."""

    settings: Settings
    engine: Engine
    app: Peerloop
    files: FileStore
    usecases: UseCases
    scheduler: Any = None
    """The deadline and outbox jobs (service.jobs.Jobs) when this process runs them."""

    def automatic_move(
        self, conn: Connection, cycle_id: str, transition: str, now: datetime
    ) -> tuple[Cycle, list[Any]]:
        """The sweep's automatic move, on its batch's connection, through the application."""
        return sweep_move(self.app, self.engine)(conn, cycle_id, transition, now)

    def wake_sweep(self) -> None:
        """A change planned a deadline: let the sweep wake in time for it."""
        if self.scheduler is not None:
            self.scheduler.reschedule()

    def uow(self, **kw: Any) -> SqlUnitOfWork:
        return SqlUnitOfWork(
            self.engine, calendar=self.app.registry.calendars, cache=cache_for(self.engine), **kw
        )

    def load_once(self, load: Callable[[Peerloop], T]) -> T | None:
        """Run `load` on an empty database, as one transaction, one process at a time.

        `load` gets a Peerloop whose every unit of work is part of that one transaction:
        it commits whole when `load` returns and leaves nothing behind when it raises. The
        database-wide first-load lock is taken first, so that of several processes starting
        together exactly one loads; the others wait, then find the database no longer empty.

        Returns:
            What `load` returned; None, without calling it, when the database already holds
            a person, a school or a network.
        """
        with self.engine.connect() as conn, conn.begin():
            take_first_load_lock(conn)
            if not directory_is_empty(conn):
                return None
            calendar = self.app.registry.calendars
            # Cycles loaded here are not anyone's committed state until the end: a cache of
            # their own, and template machines read from this transaction only.
            cache = AggregateCache()

            def uow(**kw: Any) -> SqlUnitOfWork:
                kw.pop("readonly", None)  # one writing transaction: savepoints read and write
                return SqlUnitOfWork(
                    self.engine, calendar=calendar, cache=cache, connection=conn, **kw
                )

            return load(Peerloop(uow, self.app.clock, TemplateRegistry(calendar)))

    def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
            self.scheduler = None
        self.engine.dispose()


def build(
    settings: Settings, *, clock: Clock | None = None, migrate: bool | None = None
) -> Container:
    """Wire Peerloop for `settings`.

    The embedded SQLite database is upgraded on start (it belongs to this process alone); any
    other database must already be at the newest schema, so that several replicas never race to
    migrate it: `peerloop db upgrade` does that, once, beforehand.

    Raises:
        SchemaOutOfDate: the database needs `peerloop db upgrade`.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_db_engine(settings.url)
    try:
        if migrate if migrate is not None else (settings.is_sqlite or settings.auto_migrate):
            upgrade(engine)
        else:
            check_schema(engine)
    except BaseException:
        engine.dispose()
        raise
    # Each network's term dates, else the partnership's default, else Monday to Friday; one
    # live book shared by the machines and units of work, replaced when term dates change.
    with engine.connect() as conn:
        registry = TemplateRegistry(load_calendars(conn, ZoneInfo(settings.timezone)))
    calendars = registry.calendars
    cache = cache_for(engine, settings.cycle_cache)
    app = Peerloop(
        emit_after_commit(
            lambda **kw: SqlUnitOfWork(engine, calendar=calendars, cache=cache, **kw)
        ),
        clock or SystemClock(),
        registry,
    )
    files = FileStore(settings.data_dir / "files", settings.max_upload_bytes)
    holder: list[Container] = []
    bus = MessageBus(
        event_handlers(Notifier(app, ZoneInfo(settings.timezone)), lambda: holder[0].wake_sweep())
    )
    usecases = UseCases(app, files, bus, _feed)
    container = Container(settings, engine, app, files, usecases)
    holder.append(container)
    return container


def sweep_move(app: Peerloop, engine: Engine) -> AutomaticMove:
    """The deadline sweep's automatic moves, made by the application on the sweep's batch
    connection, with the same calendar and cycle cache as every other unit of work."""

    def move(
        conn: Connection, cycle_id: str, transition: str, now: datetime
    ) -> tuple[Cycle, list[Any]]:
        cycles = SqlCycleRepository(conn, app.registry.calendars, cache_for(engine))
        return app.automatic_move(cycles, cycle_id, transition, now)

    return move


def _feed(uow: Any, person_id: str, now: datetime, tz: tzinfo, leads: frozenset[str]) -> bytes:
    # The composition root knows the unit of work is SQL: the feed reads on its connection.
    return person_feed(uow.connection, person_id, now, tz, leads=leads)
