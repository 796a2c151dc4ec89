"""Use cases: the network dashboard, the borough view and the lists behind their figures.

A network's dashboard is its chair's, its partnership lead's and the admin's
(`engine.network`); the figures count only cycles the caller may see
(`engine.access.visible_cycle_filters`), each with one GROUP BY in the database. The judgement
heatmap and the support map, read from the reports the caller may read, are in
`service.usecases.dashboard_reports`.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from engine.access import Principal, actor_for, starter_roles
from engine.cycle import Cycle
from engine.directory import CycleSummary, Network, School
from engine.errors import AccessDenied, NotFound
from engine.network import (
    SchoolStarts,
    require_watched,
    school_year,
    schools_not_started,
    watched_networks,
    watches_borough,
)
from engine.ports import CycleFilter, OpenAction, StageCount, UnitOfWork
from engine.template import Template
from service.usecases.base import UseCases, handles

# Importing the heatmap's and the support map's module registers their use cases too.
from service.usecases.dashboard_reports import EVERY, published_templates, visible
from service.usecases.messages import BoroughView, NetworkCycles, NetworkDashboard

__all__ = [
    "AHEAD",
    "ActionLine",
    "BoroughPage",
    "CycleLine",
    "NetworkCyclesPage",
    "NetworkPage",
    "NetworkRow",
    "StageRow",
    "TemplateStages",
    "Upcoming",
]

AHEAD = timedelta(weeks=4)
"""How far ahead the dashboard lists deadlines."""
SHOWN = 10
"""How many of the most overdue cycles the dashboard lists (the rest are a link away)."""
LISTED = 50
"""How many actions and deadlines the dashboard lists at most."""


@dataclass(frozen=True, slots=True)
class StageRow:
    stage_id: str
    title: str
    cycles: int
    overdue: int
    ended: bool
    """A terminal stage (closed, withdrawn): counted over every year, left out of the chart."""


@dataclass(frozen=True, slots=True)
class TemplateStages:
    """One template's cycles by stage (in the template's order), in one network."""

    template_id: str
    title: str
    rows: list[StageRow]

    @property
    def under_way(self) -> int:
        return sum(r.cycles for r in self.rows if not r.ended)

    @property
    def overdue(self) -> int:
        return sum(r.overdue for r in self.rows)


@dataclass(frozen=True, slots=True)
class CycleLine:
    """A cycle as the dashboard's lists show it."""

    cycle_id: str
    school: str
    template: str
    stage: str
    started_at: datetime
    due_at: datetime | None
    overdue: bool


@dataclass(frozen=True, slots=True)
class ActionLine:
    """An action not done, due on `due`. `title` and `owner` are None when the caller may not
    read the cycle's action plan (a chair): they see that an action is due, not what it is."""

    cycle_id: str
    school: str
    due: date
    title: str | None
    owner: str | None


@dataclass(frozen=True, slots=True)
class Upcoming:
    """A deadline ahead: a stage's due time, or an action's due day."""

    day: date
    at: datetime | None
    cycle_id: str
    school: str
    stage: str | None = None
    action: ActionLine | None = None


@dataclass(frozen=True, slots=True)
class TeamToSet:
    """A cycle in a stage that collects its review team, which the caller may set."""

    cycle_id: str
    school: str
    template: str
    stage: str
    members: int
    due_at: datetime | None


@dataclass(frozen=True, slots=True)
class NetworkPage:
    """A network's dashboard, or (with `network` None) the networks the caller may choose."""

    network: Network | None
    choices: list[Network] = field(default_factory=list)
    borough: bool = False
    now: datetime | None = None
    stages: list[TemplateStages] = field(default_factory=list)
    overdue_cycles: list[CycleLine] = field(default_factory=list)
    overdue_total: int = 0
    overdue_actions: list[ActionLine] = field(default_factory=list)
    overdue_actions_total: int = 0
    upcoming: list[Upcoming] = field(default_factory=list)
    year: tuple[date, date] | None = None
    started: list[SchoolStarts] = field(default_factory=list)
    not_started: list[School] = field(default_factory=list)
    may_start: bool = False
    templates: list[tuple[str, str]] = field(default_factory=list)
    """(id, title) of the templates the network's cycles run, for the heatmap's choice."""
    teams: list[TeamToSet] = field(default_factory=list)

    @property
    def under_way(self) -> int:
        return sum(t.under_way for t in self.stages)

    @property
    def schools(self) -> int:
        return len(self.started) + len(self.not_started)

    @property
    def upcoming_total(self) -> int:
        return len(self.upcoming)


def _ended(templates: dict[str, Template]) -> set[tuple[str, str]]:
    return {(t.id, s.id) for t in templates.values() for s in t.stages if s.terminal}


def _title(templates: dict[str, Template], template_id: str, stage: str | None = None) -> str:
    t = templates.get(template_id)
    if stage is None:
        return t.title if t else template_id
    if t is not None and t.has_stage(stage):
        return t.stage(stage).title
    return stage.replace("_", " ").capitalize()


def _by_template(
    counts: Iterable[StageCount], templates: dict[str, Template]
) -> list[TemplateStages]:
    """Every stage of each template the counts name, in the template's order (working stages,
    then the ends), with zero where no cycle is."""
    found: dict[str, dict[str, StageCount]] = {}
    for c in counts:
        found.setdefault(c.template_id, {})[c.stage] = c
    out = []
    for tid, stages in sorted(found.items(), key=lambda kv: _title(templates, kv[0])):
        t = templates.get(tid)
        order = [s.id for s in t.stages] if t else []
        order += sorted(s for s in stages if s not in order)
        rows = []
        for sid in order:
            c = stages.get(sid)
            ended = bool(t and t.has_stage(sid) and t.stage(sid).terminal)
            cycles, overdue = (c.cycles, c.overdue) if c else (0, 0)
            rows.append(StageRow(sid, _title(templates, tid, sid), cycles, overdue, ended))
        rows.sort(key=lambda r: r.ended)
        out.append(TemplateStages(tid, _title(templates, tid), rows))
    return out


def _listed(
    uow: UnitOfWork,
    filters: list[CycleFilter],
    *,
    limit: int,
    overdue_at: datetime | None = None,
    on_time_at: datetime | None = None,
) -> list[CycleSummary]:
    """The union of the filters' lists, each narrowed the same way, in the list's order."""
    narrow = {"limit": limit, "overdue_at": overdue_at, "on_time_at": on_time_at}
    found: dict[str, CycleSummary] = {}
    for f in filters:
        for s in uow.cycles.list(dataclasses.replace(f, **narrow)):
            found[s.id] = s
    order = CycleFilter(overdue_at=overdue_at).order_key
    return sorted(found.values(), key=order)[:limit]


def _line(
    s: CycleSummary, names: dict[str, str], templates: dict[str, Template], now: datetime
) -> CycleLine:
    return CycleLine(
        s.id,
        names.get(s.host_school_id, s.host_school_id),
        _title(templates, s.template_id),
        _title(templates, s.template_id, s.stage),
        s.started_at,
        s.next_due_at,
        s.next_due_at is not None and s.next_due_at < now,
    )


def _read(uow: UnitOfWork, read: dict[str, Cycle], ids: Iterable[str]) -> dict[str, Cycle]:
    """The cycles of `ids`, read once per page and without their records (the dashboard
    checks access and counts the team, and shows nothing a cycle collected): those `read`
    lacks are read together and added to it."""
    wanted = set(ids)
    read |= uow.cycles.get_many(wanted - read.keys(), records=False)
    return {cid: read[cid] for cid in wanted if cid in read}


def _name_hosts(uow: UnitOfWork, names: dict[str, str], hosts: Iterable[str]) -> None:
    """Add to `names` the name of each host school it lacks."""
    for school_id in set(hosts) - names.keys():
        try:
            names[school_id] = uow.directory.get_school(school_id).name
        except NotFound:
            continue


def _actions(
    uc: UseCases,
    uow: UnitOfWork,
    caller: Principal,
    found: list[OpenAction],
    names: dict[str, str],
    read: dict[str, Cycle],
) -> list[ActionLine]:
    """The actions as the caller may see them: what each is only where they read the plan."""
    cycles = _read(uow, read, (a.cycle_id for a in found))
    plan = {cid: a.may("plan") for cid, a in uc.accesses(uow, caller, cycles.values()).items()}
    lines = []
    for a in found:
        school = names.get(a.host_school_id, a.host_school_id)
        if plan.get(a.cycle_id, False):
            lines.append(ActionLine(a.cycle_id, school, a.due, a.title, a.owner))
        else:
            lines.append(ActionLine(a.cycle_id, school, a.due, None, None))
    return lines


def _teams_to_set(
    uow: UnitOfWork,
    caller: Principal,
    filters: list[CycleFilter],
    templates: dict[str, Template],
    names: dict[str, str],
    read: dict[str, Cycle],
) -> list[TeamToSet]:
    """Cycles in a stage whose template collects the team, where the caller holds a role that
    sets it: the partnership lead's "who reviews whom" work, soonest due first."""
    found: dict[str, TeamToSet] = {}
    for t in templates.values():
        for stage in t.stages:
            setters = frozenset(stage.collects.get("team", ()))
            if not setters:
                continue
            narrowed = [dataclasses.replace(f, template_id=t.id, stage=stage.id) for f in filters]
            listed = _listed(uow, narrowed, limit=LISTED)
            cycles = _read(uow, read, (s.id for s in listed))
            for summary in listed:
                cycle = cycles[summary.id]
                roles = actor_for(caller.person, caller.grants, cycle).roles
                if not (roles & setters or caller.is_admin):
                    continue
                _name_hosts(uow, names, [cycle.host_school_id])
                found[cycle.id] = TeamToSet(
                    cycle.id,
                    names.get(cycle.host_school_id, cycle.host_school_id),
                    t.title,
                    stage.title,
                    len(cycle.team),
                    summary.next_due_at,
                )
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(found.values(), key=lambda x: (x.due_at or far, x.school))[:LISTED]


def _may_start(caller: Principal, network_id: str, templates: Iterable[Template]) -> bool:
    """Whether the caller may start a cycle of some published template in the network."""
    for template in templates:
        try:
            starter_roles(caller, network_id, template)
        except AccessDenied:
            continue
        return True
    return False


def _year(uc: UseCases) -> tuple[date, date, datetime, datetime]:
    tz = uc.core.registry.calendars.tz
    first, next_first = school_year(uc.now.astimezone(tz).date())
    return (
        first,
        next_first - timedelta(days=1),
        datetime.combine(first, time(0), tz),
        datetime.combine(next_first, time(0), tz),
    )


@handles(NetworkDashboard)
def network_dashboard(uc: UseCases, q: NetworkDashboard, caller: Principal) -> NetworkPage:
    """Raises NotFound for a network the caller does not watch (to them it does not exist)."""
    now = uc.now
    tz = uc.core.registry.calendars.tz
    today = now.astimezone(tz).date()
    with uc.uow(readonly=True) as uow:
        networks = {n.id: n for n in uow.directory.networks()}
        mine = watched_networks(caller, networks)
        borough = watches_borough(caller)
        network_id = q.network_id
        if network_id is None:
            if len(mine) != 1:
                if not mine:
                    raise NotFound("network", "")
                return NetworkPage(None, [networks[n] for n in mine], borough)
            network_id = mine[0]
        require_watched(caller, network_id, networks)
        schools = uow.directory.schools(network_id)
        names = {s.id: s.name for s in schools}
        templates = published_templates(uc, uow)
        ended = _ended(templates)
        filters = visible(uc, caller, uow, CycleFilter(network_id=network_id))
        counts = uow.cycles.stage_counts(filters, now)
        stages = _by_template(counts, templates)
        late = _listed(uow, filters, overdue_at=now, limit=SHOWN)
        ahead = _listed(uow, filters, overdue_at=now + AHEAD, on_time_at=now, limit=LISTED)
        overdue_actions = uow.cycles.open_actions(
            filters, due_before=today, ended=ended, limit=LISTED
        )
        late_actions = uow.cycles.open_action_counts(filters, due_before=today, ended=ended)
        soon = uow.cycles.open_actions(
            filters,
            due_before=(now + AHEAD).astimezone(tz).date(),
            due_from=today,
            ended=ended,
            limit=LISTED,
        )
        first, last, since, until = _year(uc)
        started, not_started = schools_not_started(
            schools, uow.cycles.started_by_school(filters, since, until)
        )
        # A cycle keeps the network it started in; a host that has moved on since is named
        # from the directory, one school at a time (a handful, against every school's name).
        _name_hosts(
            uow,
            names,
            [s.host_school_id for s in (*late, *ahead)]
            + [a.host_school_id for a in (*overdue_actions, *soon)],
        )
        read: dict[str, Cycle] = {}
        overdue_lines = _actions(uc, uow, caller, overdue_actions, names, read)
        soon_lines = _actions(uc, uow, caller, soon, names, read)
        teams = _teams_to_set(uow, caller, filters, templates, names, read)
        startable = uc.core.registry.startable(uow)
    upcoming = [
        Upcoming(
            s.next_due_at.astimezone(tz).date(),
            s.next_due_at,
            s.id,
            names.get(s.host_school_id, s.host_school_id),
            stage=_title(templates, s.template_id, s.stage),
        )
        for s in ahead
        if s.next_due_at is not None
    ]
    upcoming += [Upcoming(a.due, None, a.cycle_id, a.school, action=a) for a in soon_lines]
    # An action is due at the end of its day: after any stage due on that day.
    upcoming.sort(key=lambda u: (u.day, u.at is None, u.at or now, u.school))
    return NetworkPage(
        networks[network_id],
        [networks[n] for n in mine],
        borough,
        now,
        stages,
        [_line(s, names, templates, now) for s in late],
        sum(c.overdue for c in counts),
        overdue_lines,
        sum(late_actions.values()),
        upcoming,
        (first, last),
        started,
        not_started,
        _may_start(caller, network_id, startable),
        [(t.template_id, t.title) for t in stages],
        teams,
    )


@dataclass(frozen=True, slots=True)
class NetworkRow:
    """One network in the borough view."""

    network: Network
    schools: int
    started_schools: int
    under_way: int
    overdue: int
    overdue_actions: int
    stages: list[TemplateStages]


@dataclass(frozen=True, slots=True)
class BoroughPage:
    rows: list[NetworkRow]
    year: tuple[date, date]
    templates: list[TemplateStages]
    """Every template run anywhere, with its stages (for the side-by-side table's rows)."""


@handles(BoroughView)
def borough_view(uc: UseCases, q: BoroughView, caller: Principal) -> BoroughPage:
    """Raises NotFound to anyone but the admin and the borough's forum."""
    if not watches_borough(caller):
        raise NotFound("borough", "")
    now = uc.now
    today = now.astimezone(uc.core.registry.calendars.tz).date()
    first, last, since, until = _year(uc)
    with uc.uow(readonly=True) as uow:
        networks = uow.directory.networks()
        schools = uow.directory.schools()
        templates = published_templates(uc, uow)
        filters = visible(uc, caller, uow, CycleFilter())
        counts = uow.cycles.stage_counts(filters, now)
        started = uow.cycles.started_by_school(filters, since, until)
        late_actions = uow.cycles.open_action_counts(
            filters, due_before=today, ended=_ended(templates)
        )
    # Grouped by network once: the rows are then linear in the schools and the counts.
    schools_of: dict[str | None, list[School]] = defaultdict(list)
    for school in schools:
        schools_of[school.network_id].append(school)
    counts_of: dict[str | None, list[StageCount]] = defaultdict(list)
    for count in counts:
        counts_of[count.network_id].append(count)
    rows = []
    for n in networks:
        mine = schools_of[n.id]
        stages = _by_template(counts_of[n.id], templates)
        rows.append(
            NetworkRow(
                n,
                len(mine),
                sum(1 for s in mine if started.get(s.id, 0) > 0),
                sum(t.under_way for t in stages),
                sum(t.overdue for t in stages),
                late_actions.get(n.id, 0),
                stages,
            )
        )
    return BoroughPage(rows, (first, last), _by_template(counts, templates))


@dataclass(frozen=True, slots=True)
class NetworkCyclesPage:
    """The cycles behind a figure, with the words for what they are."""

    network: Network
    cycles: list[CycleLine]
    template: str | None
    stage: str | None
    year: tuple[date, date]


@handles(NetworkCycles)
def network_cycles(uc: UseCases, q: NetworkCycles, caller: Principal) -> NetworkCyclesPage:
    """The same cycles a figure counts: a stage's (of a template), the overdue, those due
    within some days, those started this school year, or those under way."""
    now = uc.now
    first, last, since, until = _year(uc)
    with uc.uow(readonly=True) as uow:
        networks = {n.id: n for n in uow.directory.networks()}
        require_watched(caller, q.network_id, networks)
        names = {s.id: s.name for s in uow.directory.schools(q.network_id)}
        templates = published_templates(uc, uow)
        where = CycleFilter(network_id=q.network_id, stage=q.stage, template_id=q.template_id)
        filters = visible(uc, caller, uow, where)
        overdue_at = on_time_at = None
        if q.overdue:
            overdue_at = now
        if q.due_within_days is not None:
            overdue_at, on_time_at = now + timedelta(days=max(q.due_within_days, 0)), now
        found = _listed(uow, filters, limit=EVERY, overdue_at=overdue_at, on_time_at=on_time_at)
        _name_hosts(uow, names, [s.host_school_id for s in found])
    ended = _ended(templates)
    if q.started_this_year:
        found = [s for s in found if since <= s.started_at < until]
    if q.under_way:
        found = [s for s in found if (s.template_id, s.stage) not in ended]
    return NetworkCyclesPage(
        networks[q.network_id],
        [_line(s, names, templates, now) for s in found],
        _title(templates, q.template_id) if q.template_id else None,
        _title(templates, q.template_id or "", q.stage) if q.stage else None,
        (first, last),
    )
