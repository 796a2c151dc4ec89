"""The deadline sweep: claim due deadline rows exactly once across replicas and apply them.

Deadline rows are the source of truth (written with the stage entry or action that plans them).
A sweep takes a batch of due rows and, in ONE transaction, claims them, applies their effect
(outbox messages, an automatic transition with its history, the overdue flag) and records the
outcome on each row. Either all of that commits or none of it does, so a row is applied exactly
once however many replicas sweep and whenever one dies:

- PostgreSQL: the batch is selected `FOR UPDATE OF deadline, cycle SKIP LOCKED`, so replicas
  take disjoint batches without waiting for each other, and a cycle someone is changing right
  now is left for the next sweep (the user's change commits first, then the re-check sees it).
- SQLite: one writer at a time (`BEGIN IMMEDIATE`); the claim is a conditional UPDATE
  (`... WHERE id IN (...) AND status = 'pending'`) checked by its row count.

Every effect is re-checked against the cycle at fire time: nothing goes out for a stage the
cycle has left, for an action that is done, or for a reminder whose due time has passed
(recorded as `skipped`, with why). Rows applied well after their time (after downtime) are
marked late, with how late.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from adapters.db import is_unavailable
from adapters.notify_webhook import active_webhooks, event_body
from adapters.outbox import Message, write_messages
from adapters.sql_cycles import SqlCycleRepository
from adapters.sql_inbox import inbox_copies
from adapters.tables import (
    ActionRow,
    CycleRow,
    DeadlineTableRow,
    GrantRow,
    NetworkRow,
    NotificationPreferenceRow,
    ParticipantRow,
    PersonRow,
    SchoolRow,
    TeamMemberRow,
)
from engine.access import holders_of
from engine.calendar import DEFAULT_TIMEZONE
from engine.cycle import Cycle
from engine.directory import Grant
from engine.due import DueRow, decide
from engine.errors import RequirementsUnmet, TransitionNotAvailable
from engine.machine import WorkflowMachine
from engine.requirements import owing

__all__ = ["AutomaticMove", "DeadlineSweeper", "SweepResult", "human_delay", "new_replica_id"]

log = logging.getLogger("peerloop.scheduler")

D = DeadlineTableRow.__table__
C = CycleRow.__table__
ACTION = ActionRow.__table__
GRANT = GrantRow.__table__
PERSON = PersonRow.__table__
TEAM = TeamMemberRow.__table__
PARTICIPANT = ParticipantRow.__table__
NETWORK = NetworkRow.__table__
SCHOOL = SchoolRow.__table__
PREF = NotificationPreferenceRow.__table__

HOLDABLE = ("reminder", "action_due_soon")
"""Message kinds that wait for the daily digest when it is on; the rest are urgent."""

MachineFor = Callable[[str, int], WorkflowMachine]
"""(template id, version) -> the machine of that template version."""
AutomaticMove = Callable[[sa.Connection, str, str, datetime], tuple[Cycle, list[Any]]]
"""(connection, cycle id, transition, now) -> the moved cycle and the move's events."""


def new_replica_id() -> str:
    """host:pid:random, so claimed rows say which process applied them."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def human_delay(delta: timedelta) -> str:
    """`2 d 3 h`, `3 h 12 min`, `4 min 5 s`: the two largest units."""
    total = int(delta.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if total >= size or (unit == "s" and not parts):
            parts.append(f"{total // size} {unit}")
            total %= size
    return " ".join(parts[:2])


@dataclass(slots=True)
class SweepResult:
    """What one replica's sweep did. `applied` lists the deadline ids it applied."""

    replica: str
    fired: int = 0
    skipped: int = 0
    failed: int = 0
    cancelled: int = 0
    late: int = 0
    messages: int = 0
    batches: int = 0
    applied: list[int] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)
    """What the automatic moves of committed batches returned, for the message bus."""

    @property
    def claimed(self) -> int:
        return len(self.applied)

    def add(self, other: SweepResult) -> None:
        self.fired += other.fired
        self.skipped += other.skipped
        self.failed += other.failed
        self.cancelled += other.cancelled
        self.late += other.late
        self.messages += other.messages
        self.batches += other.batches
        self.applied.extend(other.applied)
        self.events.extend(other.events)

    def as_dict(self) -> dict[str, Any]:
        return {
            "replica": self.replica,
            "applied": self.claimed,
            "fired": self.fired,
            "skipped": self.skipped,
            "failed": self.failed,
            "cancelled": self.cancelled,
            "late": self.late,
            "messages": self.messages,
            "batches": self.batches,
        }


class _ClaimLost(RuntimeError):
    """A row of the batch was no longer pending when claimed (never expected; rolls back)."""


@dataclass(slots=True)
class _Person:
    id: str
    name: str
    email: str
    email_preference: str = "immediate"


@dataclass(slots=True)
class _Outcome:
    status: str
    note: str = ""
    messages: list[Message] = field(default_factory=list)


_COLS = (
    D.c.id,
    D.c.cycle_id,
    D.c.stage,
    D.c.key,
    D.c.kind,
    D.c.due_at,
    D.c.stage_due_at,
    D.c.roles,
    D.c.transition,
    D.c.action_id,
    C.c.stage.label("cycle_stage"),
    C.c.template_id,
    C.c.template_version,
    C.c.network_id,
    C.c.host_school_id,
    C.c.champion,
)
_U_CLAIM = (
    D.update()
    .where(D.c.id.in_(sa.bindparam("ids", expanding=True)), D.c.status == "pending")
    .values(status="applying", claimed_by=sa.bindparam("me"))
)
_U_FINAL = (
    D.update()
    .where(D.c.id == sa.bindparam("b_id"), D.c.status == sa.bindparam("b_was"))
    .values(
        claimed_by=sa.bindparam("b_me"),
        status=sa.bindparam("b_status"),
        note=sa.bindparam("b_note"),
        fired_at=sa.bindparam("b_at"),
        late_seconds=sa.bindparam("b_late"),
    )
)


class DeadlineSweeper:
    """Applies due deadlines; one per process (its `replica_id` is recorded on what it applies).

    Args:
        engine: the database.
        machines: the machine of a template version (the service's template registry).
        now: the clock.
        replica_id: this process's name in `claimed_by` (made up when not given).
        tz: local time for messages (`DEFAULT_TIMEZONE` when not given).
        batch_size: rows per transaction.
        late_after: a row applied later than this after its time is marked late.
        digest: hold reminders for the daily digest instead of sending them at once.
        move: makes an automatic move on the batch's connection and returns the cycle and
            its events (the application's `Peerloop.automatic_move`); it raises
            RequirementsUnmet or TransitionNotAvailable when the move cannot be made.
    """

    def __init__(
        self,
        engine: Engine,
        machines: MachineFor,
        now: Callable[[], datetime],
        *,
        replica_id: str | None = None,
        tz: tzinfo | None = None,
        batch_size: int = 200,
        late_after: timedelta = timedelta(minutes=2),
        digest: bool = False,
        move: AutomaticMove,
    ) -> None:
        self.engine = engine
        self.machines = machines
        self.now = now
        self.replica_id = replica_id or new_replica_id()
        self.tz = tz or ZoneInfo(DEFAULT_TIMEZONE)
        self.batch_size = batch_size
        self.late_after = late_after
        self.digest = digest
        self.move = move

    def machine(self, template_id: str, version: int) -> WorkflowMachine:
        """The machine of a template version, from the service's one template registry (it
        keeps each published version's machine, which the sweep and people's moves share)."""
        return self.machines(template_id, version)

    # -- driving -----------------------------------------------------------------------------

    def sweep(
        self,
        *,
        max_batches: int | None = None,
        on_batch: Callable[[SweepResult], None] | None = None,
    ) -> SweepResult:
        """Apply batches until nothing due is left to this replica (or `max_batches`)."""
        total = SweepResult(self.replica_id)
        done = 0
        while max_batches is None or done < max_batches:
            r = self.sweep_batch()
            done += 1
            if not r.claimed:
                break
            total.add(r)
            if on_batch is not None:
                on_batch(r)
        return total

    def sweep_batch(self, limit: int | None = None) -> SweepResult:
        """Claim and apply one batch of due rows in one transaction."""
        now = self.now()
        try:
            return self._batch(now, limit or self.batch_size, None)
        except _ClaimLost:
            log.warning("deadline.claim_lost", extra={"replica": self.replica_id})
            return SweepResult(self.replica_id)
        except Exception as exc:
            if is_unavailable(exc):
                # The database, not a row, is at fault: every row stays pending for a later
                # sweep, and the caller hears why this one did nothing.
                raise
            # One bad row must not hold every other row back: apply the rows one at a time
            # and mark a row that fails on its own as failed.
            log.exception("deadline.batch_failed; retrying its rows one by one")
            return self._one_by_one(now, limit or self.batch_size)

    def apply_one(self, deadline_id: int) -> SweepResult:
        """Apply one due row by id in a transaction of its own (nothing if it is not due).

        What one scheduler job per deadline would do; the sweep's batches are much cheaper.
        """
        try:
            return self._batch(self.now(), 1, deadline_id)
        except _ClaimLost:
            return SweepResult(self.replica_id)

    def next_due(self) -> datetime | None:
        """When the earliest pending deadline falls due, to wake the next sweep then."""
        with self.engine.connect() as conn:
            value = conn.execute(
                sa.select(D.c.due_at).where(D.c.status == "pending").order_by(D.c.due_at).limit(1)
            ).scalar()
        return None if value is None else value.astimezone(UTC)

    def pending_count(self, due_before: datetime | None = None) -> int:
        q = sa.select(sa.func.count()).select_from(D).where(D.c.status == "pending")
        if due_before is not None:
            q = q.where(D.c.due_at <= due_before)
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar() or 0)

    # -- one batch ---------------------------------------------------------------------------

    def _select(self, conn: sa.Connection, now: datetime, limit: int, only: int | None) -> Any:
        q = sa.select(*_COLS).join_from(D, C, D.c.cycle_id == C.c.id)
        q = q.where(D.c.status == "pending", D.c.due_at <= now)
        if only is not None:
            q = q.where(D.c.id == only)
        q = q.order_by(D.c.due_at, D.c.id).limit(limit)
        if conn.dialect.name == "postgresql":
            q = q.with_for_update(of=[D, C], skip_locked=True)
        return conn.execute(q).mappings().all()

    def _batch(self, now: datetime, limit: int, only: int | None) -> SweepResult:
        result = SweepResult(self.replica_id, batches=1)
        with self.engine.connect() as conn, conn.begin():
            rows = self._select(conn, now, limit, only)
            if not rows:
                return SweepResult(self.replica_id)
            ids = [r["id"] for r in rows]
            # The claim is a conditional UPDATE (status still `pending`) checked by its row
            # count, in this transaction. With an automatic transition in the batch it comes
            # first, moving the rows to `applying` (which never commits: it becomes the final
            # status or rolls back), so that the transition's own cancellation of its stage's
            # pending rows leaves them alone. Otherwise nothing else touches the rows here, and
            # the UPDATE that records the outcomes is the claim (one write per row, not two).
            claim_first = any(r["kind"] == "fire" for r in rows)
            if claim_first:
                claimed = conn.execute(_U_CLAIM, {"ids": ids, "me": self.replica_id}).rowcount
                if claimed != len(ids):
                    raise _ClaimLost(f"claimed {claimed} of {len(ids)} rows")
            was = "applying" if claim_first else "pending"
            ctx = _Batch(conn, rows, self)
            finals: list[dict[str, Any]] = []
            messages: list[Message] = []
            moved: dict[str, str] = {}  # cycle id -> its stage after an automatic move here
            for r in rows:
                late = now - r["due_at"]
                is_late = late > self.late_after
                left = moved.get(r["cycle_id"])
                if left is not None and r["action_id"] is None and r["stage"] != left:
                    # Cancelled by the automatic move just made, as a person's move would.
                    out = _Outcome("cancelled", "the cycle left the stage")
                    is_late = False
                else:
                    out = self._decide(ctx, r, now, late if is_late else None)
                    if out.status == "fired" and r["kind"] == "fire" and ctx.moved_to:
                        moved[r["cycle_id"]] = ctx.moved_to
                        ctx.moved_to = None
                note = out.note
                if is_late:
                    result.late += 1
                    note = f"late by {human_delay(late)}" + (f"; {note}" if note else "")
                finals.append(
                    {
                        "b_id": r["id"],
                        "b_was": was,
                        "b_me": self.replica_id,
                        "b_status": out.status,
                        "b_note": note[:2000],
                        "b_at": now,
                        "b_late": int(late.total_seconds()) if is_late else None,
                    }
                )
                messages.extend(out.messages)
                result.applied.append(r["id"])
                setattr(result, out.status, getattr(result, out.status) + 1)
            # Every notice reaches the person's inbox; email goes as each person chose.
            inbox_copies(conn, messages, now)
            result.messages = write_messages(conn, ctx.as_chosen(messages), now)
            done = conn.execute(_U_FINAL, finals).rowcount
            if conn.dialect.supports_sane_multi_rowcount and done != len(finals):
                raise _ClaimLost(f"recorded {done} of {len(finals)} outcomes")
        result.events = ctx.events  # the batch committed: its moves may be announced
        return result

    def _one_by_one(self, now: datetime, limit: int) -> SweepResult:
        total = SweepResult(self.replica_id)
        with self.engine.connect() as conn:
            q = (
                sa.select(D.c.id)
                .where(D.c.status == "pending", D.c.due_at <= now)
                .order_by(D.c.due_at, D.c.id)
                .limit(limit)
            )
            ids = list(conn.execute(q).scalars())
        for row_id in ids:
            try:
                total.add(self._batch(now, 1, row_id))
            except _ClaimLost:
                continue
            except sa.exc.DBAPIError:
                # The database may be what failed (a lost connection, a deadlock): leave the
                # row pending for the next sweep rather than fail it for good.
                log.exception("deadline.retry_later", extra={"deadline_id": row_id})
                continue
            except Exception as exc:
                log.exception("deadline.failed", extra={"deadline_id": row_id})
                with self.engine.begin() as conn:
                    n = conn.execute(
                        D.update()
                        .where(D.c.id == row_id, D.c.status == "pending")
                        .values(
                            status="failed",
                            fired_at=now,
                            claimed_by=self.replica_id,
                            note=f"could not be applied: {type(exc).__name__}: {exc}"[:2000],
                        )
                    ).rowcount
                if n == 1:
                    total.failed += 1
                    total.applied.append(row_id)
        return total

    # -- deciding what a row does ------------------------------------------------------------

    def _decide(self, ctx: _Batch, r: Any, now: datetime, late: timedelta | None) -> _Outcome:
        action = ctx.actions.get(r["action_id"]) if r["action_id"] is not None else None
        d = decide(
            DueRow(
                kind=r["kind"],
                stage=r["stage"],
                cycle_stage=r["cycle_stage"],
                stage_due_at=r["stage_due_at"],
                roles=tuple(r["roles"] or ()),
                transition=r["transition"],
                action_id=r["action_id"],
                action_exists=action is not None,
                action_status=action["status"] if action is not None else None,
                cycle_closed=r["action_id"] is not None and ctx.terminal(r),
            ),
            now,
        )
        if d.do == "skip":
            return _Outcome("skipped", d.note)
        if d.do == "tell_owner":
            return self._action(ctx, r, action, now, late)
        if d.do == "tell":
            return self._tell(ctx, r, d.roles, r["kind"], now, late)
        if d.do == "mark_due":
            return _Outcome("fired", messages=ctx.webhooks(r, "stage.overdue", now, {}))
        return self._fire(ctx, r, now, late)

    def movers(self, r: Any) -> tuple[str, ...]:
        """The roles that may make the row's automatic move (its transition's)."""
        template = self.machine(r["template_id"], r["template_version"]).template
        transition = template.transition(r["transition"]) if r["transition"] else None
        return transition.roles if transition is not None else ()

    def _tell(
        self,
        ctx: _Batch,
        r: Any,
        roles: tuple[str, ...],
        kind: str,
        now: datetime,
        late: timedelta | None,
        extra: dict[str, Any] | None = None,
        template: str | None = None,
    ) -> _Outcome:
        # Reminders and overdue notices are about work owed; an escalation is for the leads.
        people = ctx.people_for(r, roles, owed=kind in ("reminder", "notify"))
        context = {**ctx.context(r, late), **(extra or {})}
        subject = _subject(template or kind, context)
        hold = self.digest and kind in HOLDABLE
        messages = [
            Message(
                channel="email",
                recipient=p.email,
                subject=subject,
                body={
                    "template": template or kind,
                    "person_id": p.id,
                    "name": p.name,
                    "context": {**context, "name": p.name},
                },
                dedupe_key=f"deadline:{r['id']}:{p.id}",
                hold=hold,
            )
            for p in people
        ]
        messages += ctx.webhooks(r, f"deadline.{kind}", now, {"roles": list(roles)})
        note = "" if people else f"nobody holds {', '.join(roles) or 'no role'} for this cycle"
        return _Outcome("fired", note, messages)

    def _fire(self, ctx: _Batch, r: Any, now: datetime, late: timedelta | None) -> _Outcome:
        conn = ctx.conn
        savepoint = conn.begin_nested()
        try:
            # The move is the application's own (the same as a person's, on this batch's
            # connection): this module only claims the row and records what came of it.
            cycle, events = self.move(conn, r["cycle_id"], r["transition"], now)
            savepoint.commit()
            ctx.events.extend(events)
        except RequirementsUnmet as exc:
            savepoint.rollback()
            reasons = [reason.message for reason in exc.reasons]
            note = f"could not move on automatically: {'; '.join(reasons)}; escalated"
            # Told are those who may make the move themselves once it can be made.
            told = self._tell(
                ctx,
                r,
                self.movers(r),
                "escalate",
                now,
                late,
                {"transition": r["transition"], "reasons": reasons},
                template="fire_blocked",
            )
            return _Outcome("failed", note, told.messages)
        except TransitionNotAvailable:
            savepoint.rollback()
            return _Outcome("skipped", "the stage no longer fires this transition")
        ctx.moved_to = cycle.stage
        data = {"transition": r["transition"], "to_stage": cycle.stage, "version": cycle.version}
        return _Outcome(
            "fired",
            f"moved to {cycle.stage}",
            ctx.webhooks(r, "cycle.moved", now, data),
        )

    def _action(
        self, ctx: _Batch, r: Any, action: Any, now: datetime, late: timedelta | None
    ) -> _Outcome:
        kind = r["kind"]
        owners = ctx.owner(action["owner"])
        extra = {
            "action_title": action["title"],
            "action_owner": action["owner"],
            "action_due": action["due"].isoformat() if action["due"] else "",
        }
        # An owner named in words ("Deputy head"): the host's head passes it on (the roles
        # the cycle's template lets decide for the host: those that share its report).
        leads = self.machine(r["template_id"], r["template_version"]).template
        people = owners or ctx.people_for(r, sorted(leads.roles_that("share_report")))
        context = {**ctx.context(r, late), **extra}
        subject = _subject(kind, context)
        messages = [
            Message(
                channel="email",
                recipient=p.email,
                subject=subject,
                body={
                    "template": kind,
                    "person_id": p.id,
                    "name": p.name,
                    "context": {**context, "name": p.name, "owner_is_reader": bool(owners)},
                },
                dedupe_key=f"deadline:{r['id']}:{p.id}",
                hold=self.digest and kind in HOLDABLE,
            )
            for p in people
        ]
        messages += ctx.webhooks(r, f"action.{kind.removeprefix('action_')}", now, extra)
        return _Outcome("fired", "" if people else "nobody to tell", messages)


def _subject(kind: str, c: dict[str, Any]) -> str:
    school, stage = c["school"], c["stage_title"]
    if kind == "reminder":
        return f"Reminder: {stage} for {school} is due {c['due_short']}"
    if kind == "notify":
        return f"Overdue: {stage} for {school} was due {c['due_short']}"
    if kind == "escalate":
        return f"Escalation: {stage} for {school} is overdue (due {c['due_short']})"
    if kind == "fire_blocked":
        return f"Action needed: {school} could not move on from {stage} automatically"
    if kind == "action_due_soon":
        return f"Action due soon: {c['action_title']} ({school}, due {c['action_due']})"
    if kind == "action_overdue":
        return f"Action overdue: {c['action_title']} ({school}, was due {c['action_due']})"
    return f"Peerloop: {stage} for {school}"


class _Batch:
    """What one batch needs to know, read once for all its rows."""

    def __init__(self, conn: sa.Connection, rows: Sequence[Any], sweeper: DeadlineSweeper):
        self.conn = conn
        self.sweeper = sweeper
        self.moved_to: str | None = None
        self.events: list[Any] = []
        cycle_ids = sorted({r["cycle_id"] for r in rows})
        action_ids = sorted({r["action_id"] for r in rows if r["action_id"]})
        roles = {role for r in rows for role in (r["roles"] or ())}
        roles |= {role for r in rows if r["kind"] == "fire" for role in sweeper.movers(r)}
        chair_roles: set[str] = set()
        for key in {(r["template_id"], r["template_version"]) for r in rows}:
            template = sweeper.machine(*key).template
            roles |= template.roles_that("share_report")
            chair_roles |= template.chair_roles
        self.actions: dict[str, Any] = {}
        if action_ids:
            q = sa.select(ACTION).where(ACTION.c.id.in_(action_ids))
            self.actions = {a["id"]: a for a in conn.execute(q).mappings()}
        self.grants: dict[str, list[Grant]] = {}
        q = sa.select(GRANT.c.person_id, GRANT.c.role, GRANT.c.scope_kind, GRANT.c.scope_id)
        for g in conn.execute(q.where(GRANT.c.role.in_(sorted(roles)))).all():
            grant = Grant("", g.person_id, g.role, g.scope_kind, g.scope_id)
            self.grants.setdefault(g.role, []).append(grant)
        self.team: dict[str, list[tuple[str, str]]] = {}
        q = sa.select(TEAM.c.cycle_id, TEAM.c.person_id, TEAM.c.role)
        for t in conn.execute(q.where(TEAM.c.cycle_id.in_(cycle_ids))).all():
            self.team.setdefault(t.cycle_id, []).append((t.person_id, t.role))
        # A role granted for a school taking part is held on the cycle: they are reminded too.
        self.participants: dict[str, list[str]] = {}
        q = sa.select(PARTICIPANT.c.cycle_id, PARTICIPANT.c.school_id)
        for t in conn.execute(q.where(PARTICIPANT.c.cycle_id.in_(cycle_ids))).all():
            self.participants.setdefault(t.cycle_id, []).append(t.school_id)
        # Of a cycle of several schools, those still owing what a move requires of each school:
        # a reminder or overdue notice is for them (and the lead), not for schools that sent.
        self.owing: dict[str, frozenset[str]] = {}
        if self.participants:
            several = SqlCycleRepository(conn).get_many(self.participants)
            for cid, cycle in several.items():
                template = sweeper.machine(cycle.template_id, cycle.template_version).template
                owed = owing(template, cycle)
                if owed is not None:
                    self.owing[cid] = owed
        networks = sorted({r["network_id"] for r in rows if r["network_id"]})
        self.chairs: dict[str, str] = {}
        if networks and chair_roles & roles:
            q = sa.select(NETWORK.c.id, NETWORK.c.chair_person_id)
            for n in conn.execute(q.where(NETWORK.c.id.in_(networks))).all():
                if n.chair_person_id:
                    self.chairs[n.id] = n.chair_person_id
        q = sa.select(SCHOOL.c.id, SCHOOL.c.name)
        schools = sorted({r["host_school_id"] for r in rows})
        self.schools = dict(conn.execute(q.where(SCHOOL.c.id.in_(schools))).all())
        wanted = {g.person_id for gs in self.grants.values() for g in gs}
        wanted |= {p for ms in self.team.values() for p, _ in ms} | set(self.chairs.values())
        wanted |= {(r["champion"] or {}).get("person_id") for r in rows} - {None}
        owners = {a["owner"] for a in self.actions.values() if a["owner"]}
        q = sa.select(PERSON.c.id, PERSON.c.name, PERSON.c.email, PREF.c.email.label("pref"))
        q = q.join_from(PERSON, PREF, PREF.c.person_id == PERSON.c.id, isouter=True)
        found = conn.execute(
            q.where(sa.or_(PERSON.c.id.in_(sorted(wanted | owners)), PERSON.c.email.in_(owners)))
        ).all()
        self.people = {p.id: _Person(p.id, p.name, p.email, p.pref or "immediate") for p in found}
        self.by_email = {p.email.lower(): self.people[p.id] for p in found}
        self._hooks: list[tuple[str, str | None]] | None = None

    def people_for(self, r: Any, roles: Iterable[str], *, owed: bool = False) -> list[_Person]:
        """Everyone holding one of `roles` on the row's cycle, each once: the same rule as
        for a person's act (`engine.access.holders_of`), on what the batch read in bulk.
        With `owed`, of the schools taking part only those still owing the stage's work."""
        roles = tuple(roles)
        grants = [g for role in roles for g in self.grants.get(role, ())]
        champ = r["champion"] or {}
        champion = [(champ["person_id"], champ["role"])] if champ.get("person_id") else []
        participants = self.participants.get(r["cycle_id"], ())
        if owed and r["cycle_id"] in self.owing:
            participants = [s for s in participants if s in self.owing[r["cycle_id"]]]
        ids = holders_of(
            roles,
            grants,
            cycle_id=r["cycle_id"],
            network_id=r["network_id"],
            school_id=r["host_school_id"],
            team=[*self.team.get(r["cycle_id"], ()), *champion],
            chair_id=self.chairs.get(r["network_id"]),
            chair_roles=self.sweeper.machine(
                r["template_id"], r["template_version"]
            ).template.chair_roles,
            participants=participants,
        )
        return [self.people[i] for i in ids if i in self.people]

    def as_chosen(self, messages: list[Message]) -> list[Message]:
        """The email each person chose: none for `off`; for `daily`, what can wait (reminders)
        is held for the digest, while an overdue notice or an escalation still goes at once."""
        out = []
        for m in messages:
            person = (
                self.people.get(str(m.body.get("person_id", ""))) if m.channel == "email" else None
            )
            choice = person.email_preference if person is not None else "immediate"
            if choice == "off":
                continue
            if choice == "daily" and m.body.get("template") in HOLDABLE and not m.hold:
                m = dataclasses.replace(m, hold=True)
            out.append(m)
        return out

    def owner(self, owner: str) -> list[_Person]:
        """The action's owner, when it names a person (by id or email)."""
        found = self.people.get(owner) or self.by_email.get(owner.lower())
        return [found] if found else []

    def terminal(self, r: Any) -> bool:
        machine = self.sweeper.machine(r["template_id"], r["template_version"])
        template = machine.template
        return template.has_stage(r["cycle_stage"]) and template.stage(r["cycle_stage"]).terminal

    def context(self, r: Any, late: timedelta | None) -> dict[str, Any]:
        machine = self.sweeper.machine(r["template_id"], r["template_version"])
        template = machine.template
        stage = template.stage(r["stage"]) if template.has_stage(r["stage"]) else None
        due = r["stage_due_at"].astimezone(self.sweeper.tz)
        return {
            "school": self.schools.get(r["host_school_id"], r["host_school_id"]),
            "cycle_id": r["cycle_id"],
            "template_title": template.title,
            "stage": r["stage"],
            "stage_title": stage.title if stage else r["stage"],
            "kind": r["kind"],
            "due_at": r["stage_due_at"].astimezone(UTC).isoformat(),
            "due_local": f"{due:%A} {due.day} {due:%B %Y at %H:%M}",
            "due_short": f"{due:%a} {due.day} {due:%b %H:%M}",
            "late": human_delay(late) if late is not None else "",
            "action_title": "",
            "action_owner": "",
            "action_due": "",
            "transition": r["transition"] or "",
            "reasons": [],
        }

    def webhooks(self, r: Any, event: str, now: datetime, data: dict[str, Any]) -> list[Message]:
        if self._hooks is None:
            self._hooks = active_webhooks(self.conn)
        if not self._hooks:
            return []
        doc = event_body(
            event,
            now,
            {
                "deadline_id": r["id"],
                "cycle_id": r["cycle_id"],
                "school_id": r["host_school_id"],
                "network_id": r["network_id"],
                "stage": r["stage"],
                "kind": r["kind"],
                "key": r["key"],
                "due_at": r["due_at"].astimezone(UTC).isoformat(),
                "action_id": r["action_id"],
                **data,
            },
        )
        return [
            Message("webhook", hook, event, doc, f"webhook:{hook}:deadline:{r['id']}")
            for hook, network in self._hooks
            if network is None or network == r["network_id"]
        ]
