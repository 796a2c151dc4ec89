"""Moving a running cycle to a newer version of its template: what it would change, first.

Frameworks change mid-year. A cycle keeps the version it started on until someone moves it on
(`migrate`); before that, `plan_migration` says in full what the move would do: the stage the
cycle would be at in the new version, what it holds that the new version has no place for
(which stops the move: nothing recorded is dropped silently), the requirements of the moves
out of that stage that newly apply or no longer do (and whether they are met now), and the
current stage's deadlines that would be added, moved or dropped.

Pure: the service reads the cycle and both versions, shows the plan, and stores the result.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from engine.calendar import SchoolCalendar
from engine.cycle import Cycle
from engine.deadlines import PlannedDeadline, plan_stage
from engine.events import DeadlinesCancelled, DeadlinesScheduled, Event, RecordChanged
from engine.requirements import evaluate
from engine.template import ADMIN_ROLE, RequirementRef, Template

__all__ = [
    "DeadlineChange",
    "MigrationPlan",
    "RequirementChange",
    "migrate",
    "plan_migration",
]


@dataclass(frozen=True, slots=True)
class RequirementChange:
    """A requirement of a move out of the cycle's stage that the new version adds (`added`,
    with whether the cycle meets it now) or no longer has (`dropped`)."""

    transition: str
    transition_title: str
    requirement: str
    change: Literal["added", "dropped"]
    reasons: tuple[str, ...] = ()
    """Why it is unmet now (empty: met), for an added one."""

    @property
    def met(self) -> bool:
        return not self.reasons


@dataclass(frozen=True, slots=True)
class DeadlineChange:
    """One of the current stage's deadlines: before the move, after it, or both."""

    key: str
    kind: str
    change: Literal["added", "moved", "dropped", "kept"]
    before: datetime | None
    after: datetime | None
    roles: tuple[str, ...] = ()
    transition: str | None = None

    def passed(self, now: datetime) -> bool:
        """Whether the new time is already past: it applies at once (reminders are skipped)."""
        return self.after is not None and self.after <= now


@dataclass(frozen=True, slots=True)
class MigrationPlan:
    """What moving `cycle_id` from `from_version` to `to_version` would do. `blockers` say
    why it cannot be moved as it is; with none, `migrate` does exactly this."""

    cycle_id: str
    template_id: str
    from_version: int
    to_version: int
    from_stage: str
    to_stage: str
    cycle_version: int
    blockers: tuple[str, ...] = ()
    requirements: tuple[RequirementChange, ...] = ()
    deadlines: tuple[DeadlineChange, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.blockers


def plan_migration(
    cycle: Cycle,
    old: Template,
    new: Template,
    now: datetime,
    calendar: SchoolCalendar,
    stages: Mapping[str, str] | None = None,
) -> MigrationPlan:
    """What moving `cycle` (on `old`) to `new` would do; `stages` maps a stage the new version
    no longer has to the one the cycle should be at instead."""
    target = (stages or {}).get(cycle.stage, cycle.stage)
    plan = MigrationPlan(
        cycle.id, old.id, old.version, new.version, cycle.stage, target, cycle.version
    )
    blockers = _blockers(cycle, old, new, target)
    if not new.has_stage(target):
        return dataclasses.replace(plan, blockers=tuple(blockers))
    moved = _moved(cycle, new, target)
    return dataclasses.replace(
        plan,
        blockers=tuple(blockers),
        requirements=_requirement_changes(cycle, moved, old, new),
        deadlines=_deadline_changes(
            plan_stage(old, cycle, cycle.stage, calendar) if old.has_stage(cycle.stage) else (),
            plan_stage(new, moved, target, calendar),
        ),
    )


def migrate(
    plan: MigrationPlan,
    cycle: Cycle,
    new: Template,
    actor: str,
    reason: str,
    now: datetime,
    calendar: SchoolCalendar,
) -> list[Event]:
    """Move `cycle` as `plan` says (it must have no blockers), changing it in place: the
    history records who moved it, from which version to which, and why; the old stage's
    pending deadlines are cancelled and the new version's planned, counted from when the
    cycle entered its stage (a reminder whose time is past is not sent)."""
    if not plan.ok:
        raise ValueError(f"cycle {cycle.id} cannot be moved: {'; '.join(plan.blockers)}")
    source = cycle.stage
    cycle.template_version = new.version
    cycle.stage = plan.to_stage
    cycle.version += 1
    stage_words = (
        "" if source == plan.to_stage else f", from {source} to {new.stage(plan.to_stage).title}"
    )
    note = (
        f"moved from version {plan.from_version} to version {plan.to_version} of "
        f"{new.title}{stage_words}, giving the reason: {reason.strip()}"
    )
    planned = tuple(
        d
        for d in plan_stage(new, cycle, cycle.stage, calendar)
        if not (d.kind == "reminder" and d.at <= now)
    )
    return [
        RecordChanged(
            cycle.id,
            "template_version",
            str(new.version),
            "migrated",
            actor,
            now,
            cycle.version,
            note,
            ADMIN_ROLE,
        ),
        DeadlinesCancelled(cycle.id, source, now),
        DeadlinesScheduled(cycle.id, cycle.stage, planned),
    ]


def _blockers(cycle: Cycle, old: Template, new: Template, target: str) -> list[str]:
    out: list[str] = []
    if new.id != cycle.template_id:
        out.append(f"version {new.version} is of {new.id!r}, and the cycle runs on {old.id!r}")
    if new.version <= cycle.template_version:
        out.append(
            f"version {new.version} is not newer than version {cycle.template_version}, "
            "which the cycle runs on"
        )
    if old.has_stage(cycle.stage) and old.stage(cycle.stage).terminal:
        out.append(
            f"the cycle has ended ({old.stage(cycle.stage).title}): it keeps the version it "
            "ended on"
        )
        return out
    if not new.has_stage(target):
        named = ", ".join(s.id for s in new.stages if not s.terminal)
        if target == cycle.stage:
            out.append(
                f"version {new.version} has no stage {target!r}, where the cycle is: say which "
                f"of its stages the cycle goes to ({named})"
            )
        else:
            out.append(f"version {new.version} has no stage {target!r} ({named})")
        return out
    if new.stage(target).terminal:
        out.append(f"{new.stage(target).title} would end the cycle: choose a stage under way")
    out.extend(_homeless(cycle, new))
    return out


def _homeless(cycle: Cycle, new: Template) -> list[str]:
    """What the cycle holds that the new version has no place for: each stops the move."""
    out: list[str] = []
    held: dict[str, list[str]] = {}
    for e in cycle.evidence.values():
        held.setdefault(e.question_id, []).append("evidence")
    for j in cycle.judgements.values():
        held.setdefault(j.question_id, []).append(f"a {j.kind} judgement")
    for f in cycle.findings.values():
        if f.question_id:
            held.setdefault(f.question_id, []).append("a finding")
    for question, what in sorted(held.items()):
        if new.question(question) is None:
            out.append(
                f"version {new.version} has no question {question!r}, which holds {_count(what)}"
            )
    kinds = sorted({f.kind for f in cycle.findings.values()} - set(new.finding_kinds))
    for kind in kinds:
        out.append(f"version {new.version} has no finding kind {kind!r}, which findings have")
    grades = {p.id for p in new.framework.scale}
    for j in sorted(cycle.judgements.values(), key=lambda j: (j.kind, j.question_id)):
        if j.grade is not None and j.grade not in grades:
            out.append(
                f"the {j.kind} judgement on {j.question_id!r} is graded {j.grade!r}, which is "
                f"not on version {new.version}'s scale"
            )
    dates = {d.id for d in new.dates}
    for name in sorted(set(cycle.dates) - dates):
        out.append(f"version {new.version} has no date {name!r}, which the cycle has set")
    return out


def _count(what: list[str]) -> str:
    evidence = what.count("evidence")
    rest = [w for w in what if w != "evidence"]
    parts = [f"{evidence} piece(s) of evidence"] if evidence else []
    for w in dict.fromkeys(rest):
        n = rest.count(w)
        parts.append(w if n == 1 else f"{n} x {w.removeprefix('a ')}")
    return ", ".join(parts)


def _moved(cycle: Cycle, new: Template, target: str) -> Cycle:
    """A copy of the cycle as it would be on `new` (the requirements judge this one)."""
    return dataclasses.replace(cycle, template_version=new.version, stage=target)


def _refs(template: Template, stage: str) -> dict[tuple[str, str], RequirementRef]:
    """The requirements of the moves out of `stage`, by (transition, requirement as written)."""
    return {
        (t.id, _written(ref)): ref
        for t in template.transitions_from(stage)
        for ref in t.requirements
    }


def _written(ref: RequirementRef) -> str:
    params = ", ".join(f"{k}: {v}" for k, v in sorted(ref.params.items()))
    return f"{ref.name} {{{params}}}" if params else ref.name


def _requirement_changes(
    cycle: Cycle, moved: Cycle, old: Template, new: Template
) -> tuple[RequirementChange, ...]:
    before = _refs(old, cycle.stage) if old.has_stage(cycle.stage) else {}
    after = _refs(new, moved.stage)
    out: list[RequirementChange] = []
    for key, ref in after.items():
        if key in before:
            continue
        t = new.transition(key[0])
        reasons = tuple(r.message for r in evaluate(new, moved, ref))
        out.append(RequirementChange(key[0], t.title if t else key[0], key[1], "added", reasons))
    for key in before.keys() - after.keys():
        t = old.transition(key[0])
        out.append(RequirementChange(key[0], t.title if t else key[0], key[1], "dropped"))
    return tuple(sorted(out, key=lambda c: (c.change, c.transition, c.requirement)))


def _deadline_changes(
    before: tuple[PlannedDeadline, ...], after: tuple[PlannedDeadline, ...]
) -> tuple[DeadlineChange, ...]:
    old = {(d.kind, d.key): d for d in before}
    new = {(d.kind, d.key): d for d in after}
    out: list[DeadlineChange] = []
    for key in [*old, *(k for k in new if k not in old)]:
        b, a = old.get(key), new.get(key)
        some = a or b
        assert some is not None
        change: Literal["added", "moved", "dropped", "kept"]
        if b is None:
            change = "added"
        elif a is None:
            change = "dropped"
        else:
            change = "kept" if a.at == b.at and a.roles == b.roles else "moved"
        out.append(
            DeadlineChange(
                key[1],
                key[0],
                change,
                b.at if b else None,
                a.at if a else None,
                some.roles,
                some.transition,
            )
        )
    return tuple(sorted(out, key=_when))


def _when(change: DeadlineChange) -> datetime:
    at = change.after or change.before
    assert at is not None  # a change is of a deadline before the move, after it, or both
    return at
