"""Use cases on cycles: start one, list and read them, their moves, history and deadlines."""

from __future__ import annotations

from dataclasses import dataclass

from engine import records
from engine.access import Principal, starter_roles, visible_cycle_filters
from engine.cycle import Actor, Cycle
from engine.directory import CycleSummary, HistoryEntry, IdempotencyRecord, School
from engine.errors import IdempotencyKeyReused, InvalidRecord
from engine.machine import Option
from engine.ports import CycleFilter, DeadlineRow, UnitOfWork
from engine.template import Template
from engine.versions import startable
from service.usecases.base import CycleContext, UseCases, handles
from service.usecases.core import Fired, request_digest
from service.usecases.messages import (
    AvailableMoves,
    CycleDeadlines,
    CycleHistory,
    FireTransition,
    ListCycles,
    ReadCycle,
    SetCycleDate,
    SetFocus,
    StartCycle,
)

__all__ = ["FireResult", "Moves", "Started"]


@dataclass(frozen=True, slots=True)
class Moves:
    cycle: Cycle
    options: list[Option]


@dataclass(frozen=True, slots=True)
class Started:
    """The new cycle as its starter sees it, with what they should know (another active
    cycle of the same template for the school, such as last year's still in follow-up)."""

    context: CycleContext
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FireResult:
    fired: Fired
    replayed: bool


def _to_start(uc: UseCases, uow: UnitOfWork, template_id: str, version: int | None) -> Template:
    """The template version a start asks for: the newest published and not retired by
    default. Raises NotFound or Conflict (a draft, a retired version) saying what to do."""
    stored = startable(template_id, uow.templates.versions(template_id), version)
    return uc.core.registry.machine(uow, stored.template_id, stored.version).template


@handles(StartCycle)
def start_cycle(uc: UseCases, cmd: StartCycle, caller: Principal) -> Started:
    """Start a cycle. A repeat of the same request (same `Idempotency-Key`) answers with the
    cycle it started; another active cycle of the template for the school is named."""
    key = f"{caller.id}:start:{cmd.idempotency_key}" if cmd.idempotency_key else None
    request = request_digest([cmd.template_id, cmd.template_version, cmd.host_school_id, cmd.dates])
    with uc.uow(readonly=True) as uow:
        school = uow.directory.get_school(cmd.host_school_id)
        template = _to_start(uc, uow, cmd.template_id, cmd.template_version)
        roles = starter_roles(caller, school.network_id, template)
        if key is not None:
            seen = uow.idempotency.get(key)
            if seen is not None:
                if seen.request_digest != request:
                    raise IdempotencyKeyReused(cmd.idempotency_key or "")
                return Started(uc.context(uow, caller, str(seen.result["cycle_id"])))
        warnings = _other_active_cycles(uc, uow, cmd.template_id, school)
    actor = Actor(caller.id, roles, caller.person.school_id)
    cycle = uc.core.start_cycle(
        cmd.template_id,
        school.id,
        actor,
        version=template.version,
        dates=cmd.dates,
        remember=(
            None
            if key is None
            else lambda uow, c: uow.idempotency.put(
                IdempotencyRecord(key, request, {"cycle_id": c.id}, uc.now)
            )
        ),
    )
    with uc.uow(readonly=True) as uow:
        return Started(uc.context(uow, caller, cycle.id), warnings)


def _other_active_cycles(
    uc: UseCases, uow: UnitOfWork, template_id: str, school: School
) -> tuple[str, ...]:
    found = []
    for s in uow.cycles.list(CycleFilter(school_id=school.id, template_id=template_id)):
        template = uc.core.registry.machine(uow, s.template_id, s.template_version).template
        if template.has_stage(s.stage) and not template.stage(s.stage).terminal:
            found.append(
                f"{school.name} already has an active cycle of {template.title}, {s.id}, at "
                f"{template.stage(s.stage).title}: check that a second one is meant"
            )
    return tuple(found)


@handles(ListCycles)
def list_cycles(uc: UseCases, q: ListCycles, caller: Principal) -> list[CycleSummary]:
    where = q.where
    with uc.uow(readonly=True) as uow:
        filters = visible_cycle_filters(caller, uow, where, uc.reached(uow, caller))
        if filters is None:
            return uow.cycles.list(where)
        found: dict[str, CycleSummary] = {}
        for f in filters:
            for c in uow.cycles.list(f):
                found[c.id] = c
    return sorted(found.values(), key=where.order_key)[: where.limit]


@handles(ReadCycle)
def read_cycle(uc: UseCases, q: ReadCycle, caller: Principal) -> CycleContext:
    with uc.uow(readonly=True) as uow:
        ctx = uc.context(uow, caller, q.cycle_id)
    ctx.access.require(q.section, q.cycle_id)
    uc.note_reads(ctx, caller, (q.section, *q.presents))
    return ctx


@handles(CycleHistory)
def cycle_history(uc: UseCases, q: CycleHistory, caller: Principal) -> list[HistoryEntry]:
    with uc.uow(readonly=True) as uow:
        uc.context(uow, caller, q.cycle_id)
        return uow.history.for_cycle(q.cycle_id)


@handles(CycleDeadlines)
def cycle_deadlines(uc: UseCases, q: CycleDeadlines, caller: Principal) -> list[DeadlineRow]:
    with uc.uow(readonly=True) as uow:
        uc.context(uow, caller, q.cycle_id)
        return uow.deadlines.for_cycle(q.cycle_id)


@handles(AvailableMoves)
def available_moves(uc: UseCases, q: AvailableMoves, caller: Principal) -> Moves:
    cycle, options = uc.core.available(q.cycle_id, uc.actor_of(caller))
    return Moves(cycle, options)


@handles(FireTransition)
def fire_transition(uc: UseCases, cmd: FireTransition, caller: Principal) -> FireResult:
    replayed = False
    if cmd.idempotency_key is not None:
        with uc.uow(readonly=True) as uow:
            replayed = uow.idempotency.get(f"{caller.id}:{cmd.idempotency_key}") is not None
    fired = uc.core.fire(
        cmd.cycle_id,
        cmd.transition,
        uc.actor_of(caller),
        expected_version=cmd.expected_version,
        payload=cmd.payload,
        force_reason=cmd.force_reason,
        idempotency_key=cmd.idempotency_key,
    )
    return FireResult(fired, replayed)


@handles(SetFocus)
def set_focus(uc: UseCases, cmd: SetFocus, caller: Principal) -> Cycle:
    return uc.core.record(
        cmd.cycle_id,
        uc.actor_of(caller),
        lambda t, c, a, now: records.set_focus(t, c, a, list(cmd.lines), now),
        expected_version=cmd.expected_version,
    )


@handles(SetCycleDate)
def set_cycle_date(uc: UseCases, cmd: SetCycleDate, caller: Principal) -> Cycle:
    if cmd.at.tzinfo is None:
        raise InvalidRecord("at", "needs a time zone (such as 2026-03-02T09:00:00+00:00)")
    calendars = uc.core.registry.calendars
    return uc.core.record(
        cmd.cycle_id,
        uc.actor_of(caller),
        lambda t, c, a, now: records.set_date(
            t, c, a, cmd.date_id, cmd.at, now, calendars.for_network(c.network_id)
        ),
        expected_version=cmd.expected_version,
    )
