"""What is waiting on the caller now, across every cycle they have a part in (my tasks), and a
cycle as its page shows it: the moves, the history and the names behind the ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from engine.access import Principal
from engine.cycle import Action, Cycle
from engine.deadlines import DUE_SOON
from engine.directory import HistoryEntry
from engine.errors import NotFound
from engine.machine import Option
from engine.notices import Notification
from engine.ports import CycleFilter
from engine.template import Template
from service.usecases.base import CycleContext, UseCases, handles
from service.usecases.cycles import list_cycles
from service.usecases.messages import CyclePage, ListCycles, MyTasks

__all__ = ["CycleTasks", "OwnedAction", "PageOfCycle", "Tasks"]

UPCOMING = timedelta(days=28)
"""How far ahead my tasks shows deadlines."""


@dataclass(frozen=True, slots=True)
class CycleTasks:
    """One cycle's part of my tasks: the moves the caller's roles make, allowed or blocked
    (with every reason), and when the stage is due."""

    cycle_id: str
    school: str
    template: str
    stage: str
    due_at: datetime | None
    overdue: bool
    moves: tuple[Option, ...]


@dataclass(frozen=True, slots=True)
class OwnedAction:
    cycle_id: str
    school: str
    action: Action
    flag: str | None  # "overdue", "due soon" or None


@dataclass(frozen=True, slots=True)
class Tasks:
    cycles: list[CycleTasks] = field(default_factory=list)
    actions: list[OwnedAction] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    unread: int = 0

    @property
    def nothing_to_do(self) -> bool:
        return not (any(c.moves for c in self.cycles) or self.actions or self.unread)


def _mine(option: Option) -> bool:
    """A move the caller's roles may make (allowed now, or blocked only by what must be true)."""
    return option.allowed or not any(r.code == "role_not_allowed" for r in option.reasons)


def _flag(action: Action, today: date) -> str | None:
    if action.is_done or action.due is None:
        return None
    if action.due < today:
        return "overdue"
    if action.due <= today + DUE_SOON:
        return "due soon"
    return None


@handles(MyTasks)
def my_tasks(uc: UseCases, q: MyTasks, caller: Principal) -> Tasks:
    now = uc.now
    today = now.astimezone(uc.core.registry.calendar.tz).date()
    owner_keys = {caller.id, caller.person.email.lower()}
    tasks = Tasks()
    with uc.uow(readonly=True) as uow:
        schools = {s.id: s.name for s in uow.directory.schools()}
        found = list_cycles(uc, ListCycles(CycleFilter(limit=q.limit)), caller)
        for summary in found:
            ctx = uc.context(uow, caller, summary.id)
            stage = ctx.template.stage(ctx.cycle.stage)
            if stage.terminal:
                continue
            machine = uc.core.registry.machine(uow, summary.template_id, summary.template_version)
            options = tuple(o for o in machine.available(ctx.cycle, ctx.access.actor) if _mine(o))
            school = schools.get(summary.host_school_id, summary.host_school_id)
            due = summary.next_due_at
            tasks.cycles.append(
                CycleTasks(
                    summary.id,
                    school,
                    ctx.template.title,
                    stage.title,
                    due,
                    due is not None and due < now,
                    options,
                )
            )
            if ctx.access.may("plan"):
                for action in ctx.cycle.actions.values():
                    if action.owner.lower() in owner_keys and not action.is_done:
                        tasks.actions.append(
                            OwnedAction(summary.id, school, action, _flag(action, today))
                        )
        tasks.notifications.extend(uow.inbox.for_person(caller.id, unread_only=True, limit=10))
        unread = uow.inbox.unread_count(caller.id)
    never = datetime.max.replace(tzinfo=now.tzinfo)
    tasks.cycles.sort(key=lambda c: (not c.moves, c.due_at or never))
    tasks.actions.sort(key=lambda a: (a.action.due or date.max, a.action.title))
    return Tasks(tasks.cycles, tasks.actions, tasks.notifications, unread)


@dataclass(frozen=True, slots=True)
class PageOfCycle:
    """Everything a cycle's page shows, as the caller may see it."""

    context: CycleContext
    moves: tuple[Option, ...]
    history: list[HistoryEntry]
    names: dict[str, str]
    school: str

    @property
    def cycle(self) -> Cycle:
        return self.context.cycle

    @property
    def template(self) -> Template:
        return self.context.template


@handles(CyclePage)
def cycle_page(uc: UseCases, q: CyclePage, caller: Principal) -> PageOfCycle:
    with uc.uow(readonly=True) as uow:
        ctx = uc.context(uow, caller, q.cycle_id)
        machine = uc.core.registry.machine(uow, ctx.cycle.template_id, ctx.cycle.template_version)
        options = tuple(machine.available(ctx.cycle, ctx.access.actor))
        history = uow.history.for_cycle(q.cycle_id)
        # The people who took part in the cycle are named on its page (their ids mean nothing
        # to a head); nobody else's details are read.
        ids = {e.actor for e in history} | set(ctx.cycle.team)
        if ctx.cycle.champion is not None:
            ids.add(ctx.cycle.champion.person_id)
        names: dict[str, str] = {}
        for pid in ids:
            if pid.startswith("system:"):
                names[pid] = "Peerloop (automatically)"
                continue
            try:
                names[pid] = uow.directory.get_person(pid).name
            except NotFound:
                names[pid] = pid
        school = uow.directory.get_school(ctx.cycle.host_school_id).name
    return PageOfCycle(ctx, options, history, names, school)
