"""Background jobs in the service process: the deadline sweep, the outbox and the daily digest.

APScheduler 3.x only *wakes* the work here, from an in-memory job store private to this
process: deadline rows in our own table are the source of truth, and the sweep claims them
atomically, so any number of replicas can run these jobs on one database (a job store shared
between replicas would fire jobs twice). The sweep runs

- once at start (catching up on what fell due while the service was down),
- at the next due time (a one-off job moved after every sweep),
- on a short interval as a safety net (deadlines planned by other replicas), and
- on `Jobs.poke()`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from adapters.notify_email import MailTemplates, SmtpSender, digest_message
from adapters.notify_webhook import WebhookSender, webhook_lookup
from adapters.outbox import DispatchResult, OutboxDispatcher, Sender, fold_digests
from adapters.scheduler import DeadlineSweeper, SweepResult
from engine.access import SYSTEM_SCHEDULER, Principal
from engine.directory import Person
from service.bootstrap import Container
from service.usecases.calendars import reload_calendars
from service.usecases.messages import ApplyRetention, StartDueSeries
from service.usecases.retention import RetentionReport
from service.usecases.series import StartedBySeries

__all__ = [
    "MAIL_TEMPLATES",
    "Jobs",
    "build_dispatcher",
    "build_sweeper",
    "run_digest",
    "start_jobs",
]

log = logging.getLogger("peerloop.jobs")

MAIL_TEMPLATES = Path(__file__).parent / "templates_mail"


def build_sweeper(container: Container, **kw: Any) -> DeadlineSweeper:
    """The deadline sweeper for this process, wired from the container."""
    s = container.settings
    return DeadlineSweeper(
        container.engine,
        container.app.registry.lookup(container.uow),
        container.app.clock.now,
        move=container.automatic_move,
        tz=ZoneInfo(s.timezone),
        digest=s.mail_digest,
        **kw,
    )


def build_dispatcher(container: Container, **kw: Any) -> OutboxDispatcher:
    """The outbox dispatcher: email when a mail server is configured, and webhooks."""
    s = container.settings
    now = container.app.clock.now
    webhooks = WebhookSender(
        webhook_lookup(container.engine),
        now,
        allow_private=container.settings.webhook_allow_private,
    )
    senders: dict[str, Sender] = {"webhook": webhooks}
    if s.smtp_host:
        senders["email"] = SmtpSender(
            s.smtp_host, s.smtp_port, s.mail_from, MailTemplates(MAIL_TEMPLATES, s.base_url)
        )
    return OutboxDispatcher(container.engine, senders, now, **kw)


CALENDAR_RELOAD_SECONDS = 60.0


def _reload_calendars(container: Container) -> None:
    try:
        reload_calendars(container.usecases)
    except Exception:
        log.exception("calendars.reload_failed")


SCHEDULER = Principal(Person(SYSTEM_SCHEDULER, "Peerloop scheduler", ""), ())
"""Who starts a series' cycles on their days (as the series' maker: `service.usecases.series`)."""


def start_series(container: Container) -> StartedBySeries:
    """Start the cycles of every series whose day has come, each day once."""
    started: StartedBySeries = container.usecases.handle(StartDueSeries(), SCHEDULER)
    if started.started:
        log.info("series.started", extra={"cycles": [c for _, _, c in started.started]})
    return started


def _start_series(container: Container) -> None:
    try:
        start_series(container)
    except Exception:
        log.exception("series.start_failed")


def apply_retention(container: Container) -> RetentionReport:
    """Erase the evidence kept past its time (each replica may run it: an erasure is a
    versioned write, made once)."""
    years = container.settings.retain_evidence_years
    report: RetentionReport = container.usecases.handle(
        ApplyRetention(dry_run=False, default_years=years), SCHEDULER
    )
    return report


def _apply_retention(container: Container) -> None:
    try:
        apply_retention(container)
    except Exception:
        log.exception("retention.failed")


def run_digest(container: Container) -> int:
    """Fold everyone's held reminders into one digest each; returns how many digests."""
    now = container.app.clock.now()
    day = now.astimezone(ZoneInfo(container.settings.timezone)).date().isoformat()
    with container.engine.begin() as conn:
        return fold_digests(conn, now, lambda who, items: digest_message(who, items, day))


@dataclass
class Jobs:
    """The running jobs of one process; `stop()` them on shutdown, `status()` for /health."""

    scheduler: BackgroundScheduler
    sweeper: DeadlineSweeper
    dispatcher: OutboxDispatcher
    clock: Callable[[], datetime]
    interval: float
    bus: Any = None
    """Where the events of automatic moves go (the service's message bus)."""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _state: dict[str, Any] = field(default_factory=dict)
    _idle: threading.Event = field(default_factory=threading.Event)

    # -- the jobs ----------------------------------------------------------------------------

    def sweep(self) -> SweepResult | None:
        """One sweep (until nothing is due), then send what it wrote; None if one is running."""
        if not self._lock.acquire(blocking=False):
            return None
        self._idle.clear()
        try:
            result = self.sweeper.sweep(on_batch=self._announce)
            self._state.update(
                last_sweep_at=self.clock().isoformat(),
                last_sweep=result.as_dict(),
                sweeps=self._state.get("sweeps", 0) + 1,
                last_error=None,
            )
            if result.claimed:
                log.info("deadlines.swept", extra=result.as_dict())
            if result.messages:
                self._dispatch_soon()
            self._wake_at_next_due()
            return result
        except Exception as exc:
            log.exception("deadlines.sweep_failed")
            self._state["last_error"] = f"{type(exc).__name__}: {exc}"
            return None
        finally:
            self._lock.release()
            self._idle.set()

    def _announce(self, batch: SweepResult) -> None:
        # An automatic move is a move like a person's: whoever the template tells of it hears,
        # once its batch has committed.
        if batch.events and self.bus is not None:
            self.bus.publish(batch.events)

    def dispatch(self) -> DispatchResult | None:
        try:
            result = self.dispatcher.dispatch_all()
        except Exception as exc:
            log.exception("outbox.dispatch_failed")
            self._state["last_outbox_error"] = f"{type(exc).__name__}: {exc}"
            return None
        self._state["last_dispatch"] = {
            "sent": result.sent,
            "retrying": result.retrying,
            "dead": result.dead,
        }
        return result

    def _dispatch_soon(self) -> None:
        # Bring the outbox job forward rather than send here: a slow mail server must not hold
        # up the next sweep.
        try:
            self.scheduler.modify_job("outbox.dispatch", next_run_time=datetime.now(UTC))
        except JobLookupError:
            self.dispatch()

    def _wake_at_next_due(self) -> None:
        nxt = self.sweeper.next_due()
        self._state["next_due_at"] = nxt.isoformat() if nxt else None
        if nxt is None:
            return
        # The app clock may be a test's fixed clock: wake after the same delay in real time.
        delay = max(timedelta(0), nxt - self.clock())
        if delay.total_seconds() >= self.interval:
            return  # the safety-net sweep gets there first; a one-off job is not needed
        self.scheduler.add_job(
            self.sweep,
            "date",
            id="deadlines.wake",
            run_date=datetime.now(UTC) + delay,
            replace_existing=True,
            misfire_grace_time=None,
        )

    # -- control -----------------------------------------------------------------------------

    def reschedule(self) -> None:
        """A change planned a deadline: wake the sweep at the earliest due time, if sooner than
        the safety-net sweep would."""
        try:
            self._wake_at_next_due()
        except Exception:
            log.exception("deadlines.reschedule_failed")

    def poke(self) -> None:
        """Sweep as soon as possible (e.g. after a change that planned an overdue deadline)."""
        self.scheduler.add_job(
            self.sweep, id="deadlines.poke", replace_existing=True, misfire_grace_time=None
        )

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no sweep is running and at least one has run (for tests and the CLI)."""
        return self._idle.wait(timeout) and not self._lock.locked()

    @property
    def running(self) -> bool:
        """Whether the jobs run (what /health reports as the scheduler's state)."""
        return bool(self.scheduler.running)

    def status(self) -> dict[str, Any]:
        """For /health: cheap, no database query."""
        return {
            "running": self.running,
            "replica": self.sweeper.replica_id,
            "sweeps": self._state.get("sweeps", 0),
            "last_sweep_at": self._state.get("last_sweep_at"),
            "last_sweep": self._state.get("last_sweep"),
            "next_due_at": self._state.get("next_due_at"),
            "last_dispatch": self._state.get("last_dispatch"),
            "last_error": self._state.get("last_error"),
            "last_outbox_error": self._state.get("last_outbox_error"),
        }

    def stop(self) -> None:
        """Stop the jobs, waiting for one that is running to finish its transaction."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)


def start_jobs(
    container: Container,
    *,
    interval: float | None = None,
    outbox_interval: float = 15.0,
) -> Jobs:
    """Start the background jobs; call `Jobs.stop()` on shutdown.

    The first sweep (the catch-up) runs at once, in the scheduler's thread.
    """
    s = container.settings
    interval = interval if interval is not None else s.sweep_interval_seconds
    scheduler = BackgroundScheduler(
        jobstores={"default": MemoryJobStore()},  # never shared: see the module docstring
        executors={"default": ThreadPoolExecutor(max_workers=2)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=UTC,
    )
    jobs = Jobs(
        scheduler=scheduler,
        sweeper=build_sweeper(container),
        dispatcher=build_dispatcher(container),
        clock=container.app.clock.now,
        interval=interval,
        bus=container.usecases.bus,
    )
    now = datetime.now(UTC)
    scheduler.add_job(
        jobs.sweep, "interval", seconds=interval, id="deadlines.sweep", next_run_time=now
    )
    scheduler.add_job(
        jobs.dispatch,
        "interval",
        seconds=outbox_interval,
        id="outbox.dispatch",
        next_run_time=now + timedelta(seconds=1),
    )
    # A series' day comes: its cycle starts within a sweep interval (each day once, whichever
    # replica is first).
    scheduler.add_job(
        lambda: _start_series(container),
        "interval",
        seconds=interval,
        id="series.start",
        next_run_time=now,
    )
    # Term dates changed through another replica reach this one within a minute.
    scheduler.add_job(
        lambda: _reload_calendars(container),
        "interval",
        seconds=CALENDAR_RELOAD_SECONDS,
        id="calendars.reload",
    )
    # Always: whoever chose a daily digest has messages held for it, whatever the default.
    scheduler.add_job(
        lambda: run_digest(container) and jobs.dispatch(),
        CronTrigger(hour=s.mail_digest_hour, timezone=ZoneInfo(s.timezone)),
        id="outbox.digest",
    )
    # Evidence past its time goes at night, when nobody is working on it.
    scheduler.add_job(
        lambda: _apply_retention(container),
        CronTrigger(hour=2, minute=30, timezone=ZoneInfo(s.timezone)),
        id="retention.apply",
    )
    scheduler.start()
    log.info("jobs.started", extra={"replica": jobs.sweeper.replica_id, "interval": interval})
    return jobs
