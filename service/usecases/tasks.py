"""What is waiting on the caller now, across every cycle they have a part in (my tasks), and a
cycle as its page shows it: the moves, the history and the names behind the ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from engine.access import (
    SYSTEM_SCHEDULER,
    Principal,
    can_see_person,
    may_share,
    may_start_cycles,
    might_start_cycles,
    starter_roles,
)
from engine.cycle import Action, Cycle, Finding, Member
from engine.deadlines import DUE_SOON
from engine.directory import ContentRead, HistoryEntry
from engine.errors import AccessDenied, NotFound
from engine.journal import TOKEN_ISSUED_BY
from engine.machine import Option
from engine.notices import Notification
from engine.ports import CycleFilter, UnitOfWork
from engine.records import collectable
from engine.team import team_warnings
from engine.template import Template
from service.usecases.base import CycleContext, UseCases, handles
from service.usecases.cycles import list_cycles
from service.usecases.dashboard_reports import PartnerSuggestions, partner_suggestions
from service.usecases.messages import (
    CyclePage,
    ListCycles,
    MyTasks,
    PlanPage,
    ReportPage,
    SelfReviewPage,
    StartOptions,
    TeamPage,
)

__all__ = [
    "Candidate",
    "CycleTasks",
    "OwnedAction",
    "PageOfCycle",
    "PageOfPlan",
    "PageOfReport",
    "PageOfSelfReview",
    "PageOfTeam",
    "StartChoices",
    "Tasks",
    "action_flag",
]

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
    may_start: bool = False

    @property
    def nothing_to_do(self) -> bool:
        return not (any(c.moves for c in self.cycles) or self.actions or self.unread)


def _mine(option: Option) -> bool:
    """A move the caller's roles may make (allowed now, or blocked only by what must be true)."""
    return option.allowed or not any(r.code == "role_not_allowed" for r in option.reasons)


def action_flag(action: Action, today: date) -> str | None:
    """`overdue`, `due soon` (within DUE_SOON) or None for an action not yet done."""
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
    today = now.astimezone(uc.core.registry.calendars.tz).date()
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
            options = tuple(o for o in machine.available(ctx.whole, ctx.access.actor) if _mine(o))
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
                            OwnedAction(summary.id, school, action, action_flag(action, today))
                        )
        tasks.notifications.extend(uow.inbox.for_person(caller.id, unread_only=True, limit=10))
        unread = uow.inbox.unread_count(caller.id)
        # Most people cannot start a cycle: their page reads no template for it.
        may_start = might_start_cycles(caller) and may_start_cycles(
            caller, uc.core.registry.startable(uow)
        )
    never = datetime.max.replace(tzinfo=now.tzinfo)
    tasks.cycles.sort(key=lambda c: (not c.moves, c.due_at or never))
    tasks.actions.sort(key=lambda a: (a.action.due or date.max, a.action.title))
    return Tasks(tasks.cycles, tasks.actions, tasks.notifications, unread, may_start)


@dataclass(frozen=True, slots=True)
class PageOfCycle:
    """Everything a cycle's page shows, as the caller may see it."""

    context: CycleContext
    moves: tuple[Option, ...]
    history: list[HistoryEntry]
    names: dict[str, str]
    school: str
    joinable: list[tuple[str, str]] = field(default_factory=list)
    """(school id, name): the schools of the host's network the caller may add as taking
    part, now (none when the stage does not collect participants from their roles)."""

    @property
    def cycle(self) -> Cycle:
        return self.context.cycle

    @property
    def template(self) -> Template:
        return self.context.template


def _people_of(uow: UnitOfWork, ctx: CycleContext, history: list[HistoryEntry]) -> dict[str, str]:
    """The names of the people who took part in the cycle (their ids mean nothing to a head):
    who acted, the team (removed members too), the champion and whoever the report is or was
    shared with. Nobody else's details are read."""
    ids = {e.actor for e in history} | set(ctx.cycle.team)
    ids |= {str(e.detail["id"]) for e in history if e.detail.get("record") == "team"}
    # Who made the token someone acted with, when it was someone else: the history says so.
    ids |= {str(e.detail[TOKEN_ISSUED_BY]) for e in history if TOKEN_ISSUED_BY in e.detail}
    if ctx.cycle.champion is not None:
        ids.add(ctx.cycle.champion.person_id)
    if ctx.access.may("report"):
        shares = uow.shares.for_cycle(ctx.cycle.id, active=False)
        ids |= {s.grantee_id for s in shares if s.grantee_kind == "person"}
    names: dict[str, str] = {}
    for pid in ids:
        if pid.startswith("system:"):
            automatic = pid == SYSTEM_SCHEDULER
            names[pid] = "Peerloop (automatically)" if automatic else "The Peerloop operator"
            continue
        try:
            names[pid] = uow.directory.get_person(pid).name
        except NotFound:
            names[pid] = pid
    return names


def _page_of_cycle(uc: UseCases, uow: UnitOfWork, ctx: CycleContext) -> PageOfCycle:
    machine = uc.core.registry.machine(uow, ctx.cycle.template_id, ctx.cycle.template_version)
    options = tuple(machine.available(ctx.whole, ctx.access.actor))
    history = uow.history.for_cycle(ctx.cycle.id)
    school = uow.directory.get_school(ctx.cycle.host_school_id).name
    joinable: list[tuple[str, str]] = []
    if collectable(ctx.template, ctx.cycle, ctx.access.actor).get("participants"):
        joinable = [
            (s.id, s.name)
            for s in uow.directory.schools(ctx.cycle.network_id)
            if not ctx.cycle.takes_part(s.id)
        ]
    names = _people_of(uow, ctx, history)
    return PageOfCycle(ctx, options, history, names, school, joinable)


@handles(CyclePage)
def cycle_page(uc: UseCases, q: CyclePage, caller: Principal) -> PageOfCycle:
    with uc.uow(readonly=True) as uow:
        return _page_of_cycle(uc, uow, uc.context(uow, caller, q.cycle_id))


@dataclass(frozen=True, slots=True)
class PageOfReport:
    """The cycle as a reader of its report sees it; for someone who may share it, whom they
    may choose (people, schools and networks by id, with their names)."""

    page: PageOfCycle
    people: dict[str, str] = field(default_factory=dict)
    schools: dict[str, str] = field(default_factory=dict)
    networks: dict[str, str] = field(default_factory=dict)
    reads: list[ContentRead] = field(default_factory=list)
    """For the host's head: who outside the school read its confidential content, and why."""

    @property
    def context(self) -> CycleContext:
        return self.page.context


@handles(ReportPage)
def report_page(uc: UseCases, q: ReportPage, caller: Principal) -> PageOfReport:
    """Raises NotFound to someone who may not read the report: to them there is none."""
    with uc.uow(readonly=True) as uow:
        ctx = uc.context(uow, caller, q.cycle_id)
        if not ctx.access.may("report"):
            raise NotFound("report", q.cycle_id)
        page = _page_of_cycle(uc, uow, ctx)
        sharer = may_share(ctx.access.actor, ctx.template)
        # People are personal data: a head lists the people of their own school only; others
        # are reached through their school's head or their network's leads.
        people: dict[str, str] = {}
        schools: dict[str, str] = {}
        networks: dict[str, str] = {}
        reads: list[ContentRead] = []
        if sharer:
            people = {p.id: p.name for p in uow.directory.people(None) if can_see_person(caller, p)}
            schools = {s.id: s.name for s in uow.directory.schools()}
            networks = {n.id: n.name for n in uow.directory.networks()}
            reads = uow.reads.for_cycle(ctx.whole.id)
            for pid in {r.person_id for r in reads} - set(page.names):
                try:  # a reader's name is the host's to know: they read its content
                    page.names[pid] = uow.directory.get_person(pid).name
                except NotFound:
                    page.names[pid] = pid
    uc.note_reads(ctx, caller, ("report",))
    if not sharer:
        return PageOfReport(page)
    return PageOfReport(page, people, schools, networks, reads)


@dataclass(frozen=True, slots=True)
class Candidate:
    """Someone who may be put on a cycle's team, with where they come from."""

    person_id: str
    name: str
    school: str
    network: str


@dataclass(frozen=True, slots=True)
class PageOfTeam:
    """A cycle's team and dates, the problems of the team as it stands, and who may be chosen."""

    context: CycleContext
    school: str
    members: list[tuple[Member, str, str]]  # the member, their name, their school
    problems: list[str]
    candidates: list[Candidate]
    roles: tuple[str, ...]

    @property
    def cycle(self) -> Cycle:
        return self.context.cycle

    @property
    def suggested(self) -> str | None:
        """The role the next person chosen most likely takes: the lead of an empty team, the
        champion once the agreed actions are due and there is none, else a member."""
        t, c = self.context.template, self.context.cycle
        lead, member = t.team_roles("lead"), t.team_roles("member")
        if not c.team and lead:
            return lead[0]
        if (
            c.team
            and c.champion is None
            and t.champion_role
            and t.stage(c.stage).collects.get("actions")
        ):
            return t.champion_role
        return next(iter(member or lead), None)

    @property
    def template(self) -> Template:
        return self.context.template


@handles(TeamPage)
def team_page(uc: UseCases, q: TeamPage, caller: Principal) -> PageOfTeam:
    """Candidates are the people the caller may see from schools other than the host's (the
    host's own staff can never review it); the requirements still decide independence."""
    with uc.uow(readonly=True) as uow:
        ctx = uc.context(uow, caller, q.cycle_id)
        schools = {s.id: s for s in uow.directory.schools()}
        networks = {n.id: n.name for n in uow.directory.networks()}
        names = {sid: s.name for sid, s in schools.items()} | networks
        cycle = ctx.cycle
        chosen = list(cycle.team.values())
        if cycle.champion is not None:
            chosen.append(cycle.champion)
        people: dict[str, str] = {}
        for m in chosen:
            try:
                people[m.person_id] = uow.directory.get_person(m.person_id).name
            except NotFound:
                people[m.person_id] = m.person_id
        candidates: list[Candidate] = []
        setters = ctx.template.stage(cycle.stage).collects.get("team", ())
        if ctx.access.actor.roles & set(setters):
            for p in uow.directory.people(None):
                if p.school_id in (None, cycle.host_school_id) or not can_see_person(caller, p):
                    continue
                school = schools.get(p.school_id)
                if school is None:
                    continue
                network = networks.get(school.network_id or "", "no network")
                candidates.append(Candidate(p.id, p.name, school.name, network))
        host = schools[cycle.host_school_id].name
    names |= people
    problems = [w for m in chosen for w in team_warnings(ctx.template, cycle, m, names)]
    members = [
        (m, people[m.person_id], schools[m.school_id].name if m.school_id in schools else "")
        for m in chosen
    ]
    candidates.sort(key=lambda c: (c.network, c.school, c.name))
    roles = ctx.template.team_roles()
    return PageOfTeam(ctx, host, members, problems, candidates, roles)


@dataclass(frozen=True, slots=True)
class StartChoices:
    templates: list[tuple[str, str]]  # (template id, title), published only
    schools: list[tuple[str, str, str]]  # (school id, name, network name)


def _starts(caller: Principal, network_id: str | None, template: Template) -> bool:
    try:
        starter_roles(caller, network_id, template)
    except AccessDenied:
        return False
    return True


@handles(StartOptions)
def start_options(uc: UseCases, q: StartOptions, caller: Principal) -> StartChoices:
    with uc.uow(readonly=True) as uow:
        # The version of each template a start runs on.
        newest = {t.id: t for t in uc.core.registry.startable(uow)}
        if not may_start_cycles(caller, newest.values()):
            raise AccessDenied("your roles do not let you start a cycle of any framework")
        networks = {n.id: n.name for n in uow.directory.networks()}
        schools = []
        titles: dict[str, str] = {}
        for s in uow.directory.schools():
            starts = [t for t in newest.values() if _starts(caller, s.network_id, t)]
            if starts:
                schools.append((s.id, s.name, networks.get(s.network_id or "", "")))
                titles |= {t.id: t.title for t in starts}
    return StartChoices(
        sorted(titles.items(), key=lambda kv: kv[1]), sorted(schools, key=lambda s: (s[2], s[1]))
    )


@dataclass(frozen=True, slots=True)
class PageOfSelfReview:
    context: CycleContext
    moves: tuple[Option, ...]
    """The moves the caller's roles make from here (blocked ones with their reasons)."""


@handles(SelfReviewPage)
def self_review_page(uc: UseCases, q: SelfReviewPage, caller: Principal) -> PageOfSelfReview:
    with uc.uow(readonly=True) as uow:
        ctx = uc.context(uow, caller, q.cycle_id)
        ctx.access.require("self_review", q.cycle_id)
        machine = uc.core.registry.machine(uow, ctx.cycle.template_id, ctx.cycle.template_version)
        options = tuple(o for o in machine.available(ctx.whole, ctx.access.actor) if _mine(o))
    uc.note_reads(ctx, caller, ("self_review",))
    return PageOfSelfReview(ctx, options)


@dataclass(frozen=True, slots=True)
class PageOfPlan:
    """A cycle's action plan and support as one viewer may see them, with what its forms offer.

    `findings` is None when the viewer may not read the report; `owners` (who may own an
    action: the host school's people and the team) only for those who may write actions now;
    `schools` and `networks` (id to name) for choosing a partner school; `suggestions`, for
    each area to develop, the partner schools strong in its question (from the reports the
    viewer reads; none when they may not read this cycle's report).
    """

    page: PageOfCycle
    today: date
    findings: list[Finding] | None
    owners: list[tuple[str, str, str]]  # (person id, name, "host" or a team role)
    schools: dict[str, tuple[str, str | None]]  # school id -> (name, network id)
    networks: dict[str, str]
    suggestions: PartnerSuggestions = field(default_factory=PartnerSuggestions)

    @property
    def context(self) -> CycleContext:
        return self.page.context


@handles(PlanPage)
def plan_page(uc: UseCases, q: PlanPage, caller: Principal) -> PageOfPlan:
    with uc.uow(readonly=True) as uow:
        ctx = uc.context(uow, caller, q.cycle_id)
        ctx.access.require("plan", q.cycle_id)
        page = _page_of_cycle(uc, uow, ctx)
        cycle = ctx.cycle
        names = dict(page.names)
        # Owners are named to everyone who reads the plan (an action's owner is part of it);
        # the host's whole staff list only to those choosing an owner now.
        writers = ctx.template.stage(cycle.stage).collects.get("actions", ())
        host = uow.directory.people(cycle.host_school_id)
        writer = bool(ctx.access.actor.roles & set(writers))
        owners = [(p.id, p.name, "host") for p in host] if writer else []
        by_key = {k: p.name for p in host for k in (p.id, p.email.lower())}
        for a in cycle.actions.values():
            known = by_key.get(a.owner) or by_key.get(a.owner.lower())
            if known is not None:
                names[a.owner] = known
        team = [*cycle.team.values(), *([cycle.champion] if cycle.champion else [])]
        staff = {p.id for p in host}
        if writer:
            owners += [
                (m.person_id, names.get(m.person_id, m.person_id), m.role)
                for m in team
                if m.person_id not in staff
            ]
        schools = {s.id: (s.name, s.network_id) for s in uow.directory.schools()}
        networks = {n.id: n.name for n in uow.directory.networks()}
        reads_report = ctx.access.may("report")
        suggestions = (
            partner_suggestions(uc, uow, caller, cycle, ctx.template)
            if reads_report and ctx.template.stage(cycle.stage).collects.get("support")
            else PartnerSuggestions()
        )
    findings = list(cycle.findings.values()) if reads_report else None
    uc.note_reads(ctx, caller, ("report",) if reads_report else ())
    today = uc.now.astimezone(uc.core.registry.calendars.tz).date()
    page = PageOfCycle(page.context, page.moves, page.history, names, page.school)
    return PageOfPlan(page, today, findings, owners, schools, networks, suggestions)
