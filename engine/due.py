"""What a deadline row does when it falls due: a pure decision, taken again at fire time.

A row was planned when its stage was entered or its action saved; by the time it is due the
cycle may have moved on, the action may be done, the stage's own due time may have passed.
`decide` says what applies now, and why not when nothing does, so that nobody is reminded
about finished work. The sweep (adapters/scheduler.py) claims the rows and carries the
decision out: telling people, moving the cycle, flagging it overdue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from engine.cycle import DONE_STATUSES

__all__ = ["DueDecision", "DueRow", "decide"]


@dataclass(frozen=True, slots=True)
class DueRow:
    """A due deadline row with what the cycle is now.

    Attributes:
        kind: `reminder`, `notify`, `escalate`, `due`, `fire`, `action_due_soon` or
            `action_overdue`.
        stage: the stage that planned it; `cycle_stage`: where the cycle is now.
        stage_due_at: when that stage (or, for an action's rows, the action) is due.
        roles: who is told, for reminders, notices and escalations.
        transition: what fires, for `fire`.
        action_id: the action an action row is about; `action_status` its follow-up status
            now (None: not recorded yet) and `action_exists` whether it still exists.
        cycle_closed: whether the cycle is in a terminal stage.
    """

    kind: str
    stage: str
    cycle_stage: str
    stage_due_at: datetime
    roles: tuple[str, ...] = ()
    transition: str | None = None
    action_id: str | None = None
    action_exists: bool = True
    action_status: str | None = None
    cycle_closed: bool = False


@dataclass(frozen=True, slots=True)
class DueDecision:
    """`skip` (with why), `tell` the roles, `tell_owner` of the action, `mark_due` (the stage
    is now overdue) or `fire` the transition."""

    do: Literal["skip", "tell", "tell_owner", "mark_due", "fire"]
    note: str = ""
    roles: tuple[str, ...] = ()
    transition: str | None = None


def decide(row: DueRow, now: datetime) -> DueDecision:
    """What the row does at `now`."""
    if row.action_id is not None:
        if not row.action_exists:
            return DueDecision("skip", "the action no longer exists")
        if row.action_status in DONE_STATUSES:  # nobody is reminded about a done action
            return DueDecision("skip", f"the action is done ({row.action_status})")
        if row.cycle_closed:
            return DueDecision("skip", "the cycle is closed")
        if row.kind == "action_due_soon" and now >= row.stage_due_at:
            return DueDecision("skip", "the action is already overdue")
        return DueDecision("tell_owner")
    if row.cycle_stage != row.stage:
        return DueDecision("skip", "the cycle left the stage")
    if row.kind == "reminder":
        if now >= row.stage_due_at:
            return DueDecision("skip", "its stage's due time had passed")
        return DueDecision("tell", roles=row.roles)
    if row.kind in ("notify", "escalate"):
        return DueDecision("tell", roles=row.roles)
    if row.kind == "due":
        return DueDecision("mark_due")
    if row.kind == "fire":
        return DueDecision("fire", transition=row.transition)
    return DueDecision("skip", f"unknown deadline kind {row.kind!r}")
