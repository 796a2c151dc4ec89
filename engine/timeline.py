"""A dry run of a template on a school calendar: from a start date, when each stage would be
due, and when its reminders, notices and automatic moves would come, before anything is
published or started.

The run follows the template's main line: from the initial stage, each stage is left when
it is due (by its automatic move where it has one, else by the next move forward) to the
next stage not yet visited, until a terminal stage. A stage without a deadline has no date
to leave by, so the dates stop there, and the run says so (a later deadline counted from a
cycle date that is given dates the run again).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from engine.calendar import SchoolCalendar
from engine.cycle import Cycle
from engine.deadlines import DeadlineKind, plan_stage
from engine.template import ENTRY, Template, Transition

__all__ = ["StageTimeline", "Timeline", "TimelineEvent", "dry_run", "in_words"]


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """Something that would happen: a reminder, the stage falling due, a notice, an
    escalation or an automatic move (`transition`)."""

    at: datetime
    kind: DeadlineKind
    roles: tuple[str, ...] = ()
    transition: str | None = None


@dataclass(frozen=True, slots=True)
class StageTimeline:
    """A stage on the main line: when it would be entered and what would happen in it.

    `due_at` is None when the stage has no deadline, or one counted from a cycle date not
    given (`waits_for` names it).
    """

    stage: str
    entered_at: datetime | None
    due_at: datetime | None
    events: tuple[TimelineEvent, ...] = ()
    leaves_by: str | None = None
    """The transition that takes the run to the next stage (None at the end)."""
    waits_for: str | None = None


@dataclass(frozen=True, slots=True)
class Timeline:
    template: Template
    start: datetime
    stages: tuple[StageTimeline, ...] = ()
    stopped: str | None = field(default=None)
    """Why the dates stop before the end: the stage without a date to leave by."""


def _forward(template: Template, stage_id: str, seen: set[str]) -> Transition | None:
    """The move on from a stage along the main line: to a stage not yet visited, preferring
    moves made from few stages (a "withdraw" or "put on hold" leaves from many)."""
    leaving = [t for t in template.transitions_from(stage_id) if t.dest not in seen]
    if not leaving:
        return None
    return min(leaving, key=lambda t: (len(t.sources), template.transitions.index(t)))


def dry_run(
    template: Template,
    calendar: SchoolCalendar,
    start: datetime,
    dates: Mapping[str, datetime] | None = None,
) -> Timeline:
    """The timeline of a cycle of `template` started at `start`, counted on `calendar`,
    with the cycle dates `dates` (a deadline counted from a date not given has no date)."""
    given = dict(dates or {})
    stage = template.initial_stage
    entered: datetime | None = start
    seen: set[str] = set()
    out: list[StageTimeline] = []
    stopped = None
    while True:
        seen.add(stage.id)
        due_at = None
        events: tuple[TimelineEvent, ...] = ()
        waits_for = None
        spec = stage.deadline
        if spec is not None and spec.anchor != ENTRY and spec.anchor not in given:
            waits_for = spec.anchor
        elif spec is not None and (entered is not None or spec.anchor != ENTRY):
            # (A deadline counted from a cycle date is dated even where the entry is not.)
            probe = Cycle(
                id="dry-run",
                template_id=template.id,
                template_version=template.version,
                host_school_id="",
                network_id=None,
                stage=stage.id,
                stage_entered_at=entered or start,
                started_at=start,
                dates=given,
            )
            planned = plan_stage(template, probe, stage.id, calendar)
            due_at = next((p.at for p in planned if p.kind == "due"), None)
            events = tuple(
                sorted(
                    (TimelineEvent(p.at, p.kind, p.roles, p.transition) for p in planned),
                    key=lambda e: e.at,
                )
            )
        if stage.terminal:
            out.append(StageTimeline(stage.id, entered, due_at, events, None, waits_for))
            break
        fired = next((e for e in events if e.kind == "fire"), None)
        move = (
            template.transition(fired.transition)
            if fired is not None and fired.transition
            else _forward(template, stage.id, seen)
        )
        out.append(
            StageTimeline(stage.id, entered, due_at, events, move.id if move else None, waits_for)
        )
        if move is None:
            break
        leaving_at = fired.at if fired is not None else due_at
        if leaving_at is None and stopped is None:
            stopped = stage.id
        entered = leaving_at
        stage = template.stage(move.dest)
    return Timeline(template, start, tuple(out), stopped)


def _who(template: Template, roles: tuple[str, ...]) -> str:
    titles = {r.id: r.title or r.id for r in template.roles}
    named = [titles.get(r, r) for r in roles]
    if len(named) < 2:
        return "".join(named) or "nobody"
    return f"{', '.join(named[:-1])} and {named[-1]}"


def in_words(template: Template, stage: str, event: TimelineEvent) -> str:
    """What an event is, as a person planning the year reads it."""
    title = template.stage(stage).title
    if event.kind == "due":
        return f"{title} is due"
    if event.kind == "reminder":
        return f"Reminder to the {_who(template, event.roles)}: {title} is due soon"
    if event.kind == "notify":
        return f"Overdue notice to the {_who(template, event.roles)}: {title} is overdue"
    if event.kind == "escalate":
        return f"Escalated to the {_who(template, event.roles)}: {title} is overdue"
    if event.kind == "fire" and event.transition:
        move = template.transition(event.transition)
        return f"Moves on by itself: {move.title if move else event.transition}"
    return event.kind
