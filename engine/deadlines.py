"""Deadline arithmetic: when a stage is due, its reminders and expiry rules, and action due dates.

The engine only computes; firing deadlines on time belongs to the scheduler adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, NamedTuple

from engine.calendar import SchoolCalendar, add_school_days
from engine.cycle import Action, Cycle
from engine.durations import Duration
from engine.template import ENTRY, ExpiryRule, Template

__all__ = [
    "DUE_SOON",
    "DeadlineKind",
    "PlannedDeadline",
    "StagePlan",
    "action_deadlines",
    "action_flags",
    "action_replan",
    "apply_plan",
    "compile_stage",
    "plan_stage",
    "shift",
]

DeadlineKind = Literal[
    "reminder", "due", "notify", "escalate", "fire", "action_due_soon", "action_overdue"
]

DUE_SOON = timedelta(days=14)
"""An action is flagged "due soon" this long before its due date."""


class PlannedDeadline(NamedTuple):
    """One moment something should happen for a cycle.

    Attributes:
        key: unique within the cycle's current stage entry (or action), e.g. `reminder:0`.
        stage: the stage it belongs to; it stops applying once the cycle leaves it.
        kind: what happens then.
        at: when, timezone-aware.
        stage_due_at: the stage's (or action's) due time, so a late reminder can be skipped.
        roles: who is told, for reminders, notifications and escalations.
        transition: what is fired, for `fire`.
        action_id: the action, for action deadlines.
    """

    key: str
    stage: str
    kind: DeadlineKind
    at: datetime
    stage_due_at: datetime
    roles: tuple[str, ...] = ()
    transition: str | None = None
    action_id: str | None = None


def shift(at: datetime, by: Duration, calendar: SchoolCalendar) -> datetime:
    """`at` moved by a duration: days keep the local time of day; hours and minutes are exact."""
    if by.school_days is not None:
        return add_school_days(calendar, at, by.school_days)
    local = at.astimezone(calendar.tz)
    # Aware datetime arithmetic in one zone is wall-clock arithmetic: right for whole days
    # (a deadline set for 09:00 stays at 09:00 across the clocks changing), wrong for hours.
    moved = local + by.whole_days if by.whole_days else local
    if not by.exact:
        return moved
    return (moved.astimezone(UTC) + by.exact).astimezone(calendar.tz)


class StagePlan(NamedTuple):
    """A stage's deadline spec worked out once per template version (the machine keeps these)."""

    stage: str
    due: Duration
    anchor: str
    reminders: tuple[tuple[str, Duration], ...]
    reminder_roles: tuple[str, ...]
    expiry: tuple[tuple[str, ExpiryRule], ...]


def compile_stage(template: Template, stage_id: str) -> StagePlan | None:
    """The stage's deadline plan, ready to apply to any cycle; None without a deadline."""
    spec = template.stage(stage_id).deadline
    if spec is None:
        return None
    return StagePlan(
        stage_id,
        spec.due,
        spec.anchor,
        tuple((f"reminder:{i}", r.negated()) for i, r in enumerate(spec.reminders)),
        _stage_roles(template, stage_id),
        tuple((f"expiry:{i}", rule) for i, rule in enumerate(spec.on_expiry)),
    )


def apply_plan(
    plan: StagePlan | None, cycle: Cycle, calendar: SchoolCalendar
) -> tuple[PlannedDeadline, ...]:
    """The deadlines a compiled plan gives `cycle` (see `plan_stage`)."""
    if plan is None:
        return ()
    anchor = cycle.stage_entered_at if plan.anchor == ENTRY else cycle.dates.get(plan.anchor)
    if anchor is None:
        return ()
    stage = plan.stage
    due = shift(anchor, plan.due, calendar)
    out = [PlannedDeadline("due", stage, "due", due, due)]
    roles = plan.reminder_roles
    for key, before in plan.reminders:
        out.append(
            PlannedDeadline(key, stage, "reminder", shift(due, before, calendar), due, roles)
        )
    for key, rule in plan.expiry:
        at = shift(due, rule.after, calendar) if rule.after is not None else due
        out.append(PlannedDeadline(key, stage, rule.kind, at, due, rule.roles, rule.transition))
    return tuple(out)


def plan_stage(
    template: Template, cycle: Cycle, stage_id: str, calendar: SchoolCalendar
) -> tuple[PlannedDeadline, ...]:
    """The deadlines of `stage_id` for `cycle`, counted from its entry or from a cycle date.

    A deadline counted from a cycle date that has not been set yet is not planned; setting the
    date plans it.
    """
    return apply_plan(compile_stage(template, stage_id), cycle, calendar)


def _stage_roles(template: Template, stage_id: str) -> tuple[str, ...]:
    """Who a reminder goes to: those who can move the stage on, and where a move needs
    something of each school taking part (evidence, a judgement, a sign-off), those who give
    it (the sweep then reminds only the schools still owing it: `engine.requirements.owing`)."""
    roles: list[str] = []
    senders: list[str] = []
    collects = template.stage(stage_id).collects
    for tr in template.transitions_from(stage_id):
        for role in tr.roles:
            if role not in roles:
                roles.append(role)
        for ref in tr.requirements:
            if ref.name == "each_participant_evidence":
                senders.extend(collects.get("evidence", ()))
            elif ref.name == "each_participant_judgement":
                kind = ref.params.get("kind", "peer")
                senders.extend(collects.get(f"{kind}_judgements", ()))
            elif ref.name == "each_participant_signed_off":
                asked = ref.params.get("roles")
                senders.extend(map(str, asked if isinstance(asked, list | tuple) else ()))
    roles.extend(dict.fromkeys(r for r in senders if r not in roles))
    return tuple(roles)


def action_deadlines(
    cycle: Cycle, action: Action, calendar: SchoolCalendar
) -> tuple[PlannedDeadline, ...]:
    """ "Due soon" and "overdue" moments of an action; none for a done or undated action."""
    if action.due is None or action.is_done:
        return ()
    overdue_at = _end_of(action.due, calendar)
    due_soon_at = overdue_at - DUE_SOON
    return (
        PlannedDeadline(
            f"action:{action.id}:soon",
            cycle.stage,
            "action_due_soon",
            due_soon_at,
            overdue_at,
            action_id=action.id,
        ),
        PlannedDeadline(
            f"action:{action.id}:overdue",
            cycle.stage,
            "action_overdue",
            overdue_at,
            overdue_at,
            action_id=action.id,
        ),
    )


def action_replan(
    cycle: Cycle,
    action_id: str,
    existing: Sequence[tuple[int, str, datetime, str]],
    calendar: SchoolCalendar,
) -> tuple[list[int], list[PlannedDeadline]]:
    """Which of an action's deadline rows to cancel and which to add after it changed.

    `existing` holds (id, key, due_at, status) of the action's rows that are not cancelled. A
    row still right (same moment) is kept, whatever its status: editing an action's title
    must not send its "due soon" reminder again. Shared by the SQL and in-memory stores.
    """
    action = cycle.actions.get(action_id)
    planned = action_deadlines(cycle, action, calendar) if action is not None else ()
    wanted = {(p.key, p.at) for p in planned}
    have = {(key, at) for _, key, at, _ in existing}
    cancel = [
        i for i, key, at, status in existing if status == "pending" and (key, at) not in wanted
    ]
    return cancel, [p for p in planned if (p.key, p.at) not in have]


def action_flags(action: Action, now: datetime, calendar: SchoolCalendar) -> tuple[bool, bool]:
    """(due soon, overdue) for an action at `now`."""
    if action.due is None or action.is_done:
        return False, False
    end = _end_of(action.due, calendar)
    return (end - DUE_SOON <= now < end, now >= end)


def _end_of(day: date, calendar: SchoolCalendar) -> datetime:
    """An action due on a day is overdue from the start of the next day, local time."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), calendar.tz)
