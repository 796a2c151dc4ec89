"""Moving running cycles to a newer version of their template: a preview per cycle, then the
move, all or none (`engine.migration`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from engine.access import Principal
from engine.cycle import Cycle
from engine.errors import Conflict, InvalidRecord, NotFound
from engine.migration import DeadlineChange, MigrationPlan, migrate, plan_migration
from engine.ports import CycleFilter, UnitOfWork
from engine.template import Template
from engine.timeline import TimelineEvent
from engine.timeline import in_words as event_words
from engine.versions import startable
from service.usecases.base import UseCases, handles
from service.usecases.messages import MigrateCycles, PreviewMigration
from service.usecases.notify import in_words

__all__ = ["MOST_AT_ONCE", "Migration"]

MOST_AT_ONCE = 500
"""The most cycles one preview or move takes: a partnership's year is well under it, and
each cycle's plan reads the whole cycle."""


@dataclass(frozen=True, slots=True)
class Migration:
    """The plans, one per cycle, for moving them to `template` (its new version), each said
    in words (`words`, by cycle id) with the name of its host school (`schools`); `done` when
    they were carried out."""

    template: Template
    plans: tuple[MigrationPlan, ...]
    words: dict[str, tuple[str, ...]]
    schools: dict[str, str]
    done: bool = False


def said(
    plan: MigrationPlan, old: Template, new: Template, now: datetime, tz: tzinfo
) -> tuple[str, ...]:
    """The plan as an admin reads it before moving the cycle."""
    out = [f"Cannot move: {b}." for b in plan.blockers]
    if not new.has_stage(plan.to_stage):
        return tuple(out)
    was = old.stage(plan.from_stage).title if old.has_stage(plan.from_stage) else plan.from_stage
    now_at = new.stage(plan.to_stage).title
    if plan.from_stage == plan.to_stage:
        out.append(
            f"Stays at {now_at}, moving from version {plan.from_version} to {plan.to_version}."
        )
    else:
        out.append(
            f"Moves from {was} to {now_at}, from version {plan.from_version} to {plan.to_version}."
        )
    for r in plan.requirements:
        if r.change == "dropped":
            out.append(f"No longer needed to {r.transition_title.lower()}: {r.requirement}.")
        elif r.met:
            out.append(f"Newly needed to {r.transition_title.lower()}: {r.requirement}, met now.")
        else:
            # The first few say what is missing; the preview's data has every one.
            why = "; ".join(r.reasons[:3])
            if len(r.reasons) > 3:
                why += f"; and {len(r.reasons) - 3} more"
            out.append(
                f"Newly needed to {r.transition_title.lower()}: {r.requirement}, not met now "
                f"({why})."
            )
    for d in plan.deadlines:
        if d.change == "kept":
            continue
        stage, owner = (plan.to_stage, new) if d.after else (plan.from_stage, old)
        at = d.after or d.before or now
        label = event_words(owner, stage, TimelineEvent(at, d.kind, d.roles, d.transition))
        if d.change == "added":
            when = in_words(d.after, tz) if d.after else ""
            out.append(f"Added: {label}, {when}{_passed(d, now)}.")
        elif d.change == "dropped":
            out.append(f"Dropped: {label}, which was {in_words(d.before, tz) if d.before else ''}.")
        else:
            out.append(
                f"Moved: {label}, from {in_words(d.before, tz) if d.before else ''} to "
                f"{in_words(d.after, tz) if d.after else ''}{_passed(d, now)}."
            )
    if not any(d.change != "kept" for d in plan.deadlines):
        out.append("Its deadlines stay as they are.")
    return tuple(out)


def _passed(d: DeadlineChange, now: datetime) -> str:
    if not d.passed(now):
        return ""
    if d.kind == "reminder":
        return ": already past, so it is not sent"
    return ": already past, so it applies at once"


def _plans(
    uc: UseCases,
    uow: UnitOfWork,
    template_id: str,
    version: int,
    cycle_ids: tuple[str, ...],
    stages: dict[str, str],
) -> tuple[Template, list[tuple[Cycle, MigrationPlan, Template]]]:
    """The new version and, for each cycle, its plan and the version it runs on now."""
    startable(template_id, uow.templates.versions(template_id), version)  # published, in use
    new = uc.core.registry.machine(uow, template_id, version)
    registry = uc.core.registry
    if cycle_ids:
        wanted = list(dict.fromkeys(cycle_ids))
    else:
        listed = uow.cycles.list(CycleFilter(template_id=template_id, limit=MOST_AT_ONCE + 1))
        wanted = [
            s.id
            for s in listed
            if s.template_version < version
            and not registry.machine(uow, template_id, s.template_version)
            .template.stage(s.stage)
            .terminal
        ]
    if len(wanted) > MOST_AT_ONCE:
        raise InvalidRecord(
            "cycle_ids", f"at most {MOST_AT_ONCE} cycles at once: name the cycles to move"
        )
    found = uow.cycles.get_many(wanted)
    missing = [cid for cid in wanted if cid not in found]
    if missing:
        raise NotFound("cycle", missing[0])
    out = []
    for cid in wanted:
        cycle = found[cid]
        old = registry.machine(uow, cycle.template_id, cycle.template_version).template
        calendar = new.calendar_for(cycle)
        out.append((cycle, plan_migration(cycle, old, new.template, uc.now, calendar, stages), old))
    return new.template, out


def _migration(
    uc: UseCases,
    uow: UnitOfWork,
    template: Template,
    planned: list[tuple[Cycle, MigrationPlan, Template]],
    now: datetime,
    done: bool = False,
) -> Migration:
    tz = uc.core.registry.calendars.tz
    hosts = {c.host_school_id for c, _, _ in planned}
    names = {sid: uow.directory.get_school(sid).name for sid in sorted(hosts)}
    return Migration(
        template,
        tuple(p for _, p, _ in planned),
        {p.cycle_id: said(p, old, template, now, tz) for _, p, old in planned},
        {c.id: names[c.host_school_id] for c, _, _ in planned},
        done,
    )


@handles(PreviewMigration)
def preview_migration(uc: UseCases, q: PreviewMigration, caller: Principal) -> Migration:
    """Raises AccessDenied (not the admin), NotFound (the version, a cycle) or Conflict (the
    version is a draft or retired)."""
    caller.require_admin()
    now = uc.now
    with uc.uow(readonly=True) as uow:
        template, planned = _plans(uc, uow, q.template_id, q.version, q.cycle_ids, dict(q.stages))
        return _migration(uc, uow, template, planned, now)


@handles(MigrateCycles)
def migrate_cycles(uc: UseCases, cmd: MigrateCycles, caller: Principal) -> Migration:
    """Moves every cycle or none: any cycle whose plan has blockers stops them all (Conflict,
    naming each cycle and why)."""
    caller.require_admin()
    reason = cmd.reason.strip()
    if not reason:
        raise InvalidRecord("reason", "say why the cycles move to the new version")
    now = uc.now
    with uc.uow() as uow:
        template, planned = _plans(
            uc, uow, cmd.template_id, cmd.version, cmd.cycle_ids, dict(cmd.stages)
        )
        stuck = [p for _, p, _ in planned if not p.ok]
        if stuck:
            told = "; ".join(f"{p.cycle_id}: {', '.join(p.blockers)}" for p in stuck)
            raise Conflict(
                "migration",
                f"{cmd.template_id}@{cmd.version}",
                f"no cycle was moved, because {len(stuck)} cannot be: {told}",
            )
        new = uc.core.registry.machine(uow, cmd.template_id, cmd.version)
        for cycle, plan, _ in planned:
            version = cycle.version
            events = migrate(plan, cycle, template, caller.id, reason, now, new.calendar_for(cycle))
            uow.cycles.save(cycle, version, events)
        moved = _migration(uc, uow, template, planned, now, done=True)
        uow.commit()
    return moved
