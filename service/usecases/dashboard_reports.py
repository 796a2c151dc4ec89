"""Use cases: the judgement heatmap, the support map and partner suggestions for a cycle,
each read only from the review reports the caller may read.

Which report the caller may read is `engine.access.access_to`'s decision, made cycle by cycle;
this module only narrows which cycles to ask about (those shared with the caller, those whose
team they are on, those a grant of theirs gives a role that reads the report).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from engine.access import Principal, network_scopes, part_read, visible_cycle_filters
from engine.cycle import Cycle
from engine.directory import Network
from engine.errors import NotFound
from engine.heatmap import Heatmap, SchoolReport, heatmap, latest_reports
from engine.network import require_watched
from engine.ports import CycleFilter, UnitOfWork
from engine.support_map import (
    Standing,
    Suggestion,
    SupportMap,
    needs,
    strengths,
    suggest_partners,
    support_map,
)
from engine.template import Template
from service.usecases.base import UseCases, handles
from service.usecases.messages import JudgementHeatmap, NetworkSupportMap, SupportSuggestions

__all__ = [
    "EVERY",
    "HeatmapPage",
    "PartnerSuggestions",
    "SupportMapPage",
    "partner_suggestions",
    "published_templates",
    "readable_reports",
    "visible",
]

EVERY = 5000
"""A page large enough for all of one network's cycles, for lists filtered after reading."""


def visible(
    uc: UseCases, caller: Principal, uow: UnitOfWork, where: CycleFilter
) -> list[CycleFilter]:
    """The filters whose union is every cycle within `where` the caller may see."""
    found = visible_cycle_filters(caller, uow, where, uc.reached(uow, caller))
    return [where] if found is None else found


def published_templates(uc: UseCases, uow: UnitOfWork) -> dict[str, Template]:
    """The latest published version of every template, by id."""
    latest: dict[str, int] = {}
    for stored in uow.templates.list():
        if stored.status == "published":
            latest[stored.template_id] = max(stored.version, latest.get(stored.template_id, 0))
    return {
        tid: uc.core.registry.machine(uow, tid, version).template
        for tid, version in sorted(latest.items())
    }


def readable_reports(
    uc: UseCases, uow: UnitOfWork, caller: Principal, where: CycleFilter
) -> list[Cycle]:
    """The cycles within `where` whose review report the caller may read."""
    # Candidates first (cycles shared with the caller, their school or network; their
    # team's; those a grant in a role that reads reports covers), each checked after.
    readers = {role for t in uc.published(uow) for role in t.roles_reading("report")}
    ids = set(
        uow.shares.cycles_shared_with(caller.id, caller.scopes("school"), network_scopes(caller))
    )
    ids |= uow.cycles.member_of(caller.id)
    filters: list[CycleFilter] = []
    for g in caller.grants:
        if g.role not in readers:
            continue
        if g.scope_kind == "global":
            filters.append(where)
        elif g.scope_kind == "network" and where.network_id in (None, g.scope_id):
            filters.append(dataclasses.replace(where, network_id=g.scope_id))
        elif g.scope_kind == "school" and where.school_id in (None, g.scope_id):
            filters.append(dataclasses.replace(where, school_id=g.scope_id))
        elif g.scope_kind == "cycle" and g.scope_id:
            ids.add(g.scope_id)
    if where.ids is not None:
        ids &= where.ids
    if ids:
        filters.append(dataclasses.replace(where, ids=frozenset(ids)))
    candidates = {
        s.id for f in filters for s in uow.cycles.list(dataclasses.replace(f, limit=EVERY))
    }
    cycles = uow.cycles.get_many(candidates)
    access = uc.accesses(uow, caller, cycles.values())
    # A school taking part in a cycle reads only the findings about it (and the cycle's own).
    return [
        part_read(cycles[cid], access[cid], uc.template_of(uow, cycles[cid]))
        for cid in sorted(cycles)
        if access[cid].may("report")
    ]


def _choose(
    uc: UseCases,
    uow: UnitOfWork,
    caller: Principal,
    templates: dict[str, Template],
    network_id: str,
    wanted: str | None,
    now: datetime,
) -> tuple[Template | None, list[tuple[str, str]], list[Cycle]]:
    """The template to map (the one asked for; else the one most readable reports are of;
    else the one most of the network's cycles run), the templates to choose from, and the
    readable reports of the network's cycles of that template."""
    network = CycleFilter(network_id=network_id)
    counts = uow.cycles.stage_counts(visible(uc, caller, uow, network), now)
    run = Counter[str]()
    for c in counts:
        run[c.template_id] += c.cycles
    readable = readable_reports(uc, uow, caller, CycleFilter(network_id=network_id))
    shared = Counter(c.template_id for c in readable)
    offered = [tid for tid in templates if tid in run or tid in shared]
    if wanted is not None:
        if wanted not in templates:
            raise NotFound("template", wanted)
        chosen: str | None = wanted
    else:
        ranked = sorted(offered, key=lambda t: (-shared[t], -run[t], templates[t].title))
        chosen = ranked[0] if ranked else next(iter(templates), None)
    if chosen is not None and chosen not in offered:
        offered.append(chosen)
    choices = sorted(((t, templates[t].title) for t in offered), key=lambda kv: kv[1])
    template = templates[chosen] if chosen is not None else None
    return template, choices, [c for c in readable if c.template_id == chosen]


@dataclass(frozen=True, slots=True)
class HeatmapPage:
    """The heatmap of one template for a network, and how many schools it is drawn from.

    `not_shared` counts the network's schools with no report of the template the caller may
    read (not shared with them, or none yet).
    """

    network: Network
    template: Template | None
    templates: list[tuple[str, str]]
    heatmap: Heatmap | None
    schools: dict[str, str]
    school_count: int

    @property
    def reports(self) -> int:
        return len(self.heatmap.rows) if self.heatmap else 0

    @property
    def not_shared(self) -> int:
        return self.school_count - self.reports


@handles(JudgementHeatmap)
def judgement_heatmap(uc: UseCases, q: JudgementHeatmap, caller: Principal) -> HeatmapPage:
    with uc.uow(readonly=True) as uow:
        networks = {n.id: n for n in uow.directory.networks()}
        require_watched(caller, q.network_id, networks)
        schools = uow.directory.schools(q.network_id)
        templates = published_templates(uc, uow)
        template, choices, cycles = _choose(
            uc, uow, caller, templates, q.network_id, q.template_id, uc.now
        )
    names = {s.id: s.name for s in schools}
    drawn = None
    if template is not None:
        drawn = heatmap(template, latest_reports(cycles), [s.id for s in schools])
    return HeatmapPage(networks[q.network_id], template, choices, drawn, names, len(schools))


@dataclass(frozen=True, slots=True)
class SupportMapPage:
    """Strengths and wanted support in a network, by question, from the readable reports;
    partners may come from other networks (`network_of`, `networks` name them)."""

    network: Network
    template: Template | None
    templates: list[tuple[str, str]]
    map: SupportMap | None
    schools: dict[str, str]
    network_of: dict[str, str | None]
    networks: dict[str, str]
    reports: int
    school_count: int

    @property
    def not_shared(self) -> int:
        return self.school_count - self.reports


@handles(NetworkSupportMap)
def network_support_map(uc: UseCases, q: NetworkSupportMap, caller: Principal) -> SupportMapPage:
    with uc.uow(readonly=True) as uow:
        networks = {n.id: n for n in uow.directory.networks()}
        require_watched(caller, q.network_id, networks)
        every = uow.directory.schools()
        templates = published_templates(uc, uow)
        template, choices, _ = _choose(
            uc, uow, caller, templates, q.network_id, q.template_id, uc.now
        )
        cycles = (
            readable_reports(uc, uow, caller, CycleFilter(template_id=template.id))
            if template is not None
            else []
        )
    mine = [s.id for s in every if s.network_id == q.network_id]
    network_of = {s.id: s.network_id for s in every}
    reports = latest_reports(cycles)
    drawn = support_map(template, reports, mine, network_of) if template is not None else None
    return SupportMapPage(
        networks[q.network_id],
        template,
        choices,
        drawn,
        {s.id: s.name for s in every},
        network_of,
        {n.id: n.name for n in networks.values()},
        sum(1 for sid in mine if sid in reports),
        len(mine),
    )


@dataclass(frozen=True, slots=True)
class PartnerSuggestions:
    """A cycle's areas to develop, each with the partner schools strong in its question.

    Empty when the caller may not read the cycle's report (its areas are in it). `reports`
    counts the other schools' reports the strengths were read from.
    """

    wanted: list[tuple[Standing, list[Suggestion]]] = field(default_factory=list)
    schools: dict[str, str] = field(default_factory=dict)
    reports: int = 0

    def for_area(self, text: str) -> list[Suggestion]:
        """The suggestions for the area to develop a finding's text names."""
        return [s for need, found in self.wanted if text in need.findings for s in found]


def partner_suggestions(
    uc: UseCases, uow: UnitOfWork, caller: Principal, cycle: Cycle, template: Template
) -> PartnerSuggestions:
    """The suggestions for one cycle the caller reads the report of, in the caller's unit of
    work (a page's query that already holds the cycle can add them)."""
    every = uow.directory.schools()
    network_of = {s.id: s.network_id for s in every}
    others = [
        c
        for c in readable_reports(uc, uow, caller, CycleFilter(template_id=template.id))
        if c.host_school_id != cycle.host_school_id
    ]
    reports = latest_reports(others)
    strong = strengths(template, reports.values())
    wanted = [
        (n, suggest_partners(n.question_id, cycle.host_school_id, strong, network_of))
        for n in needs(template, [SchoolReport.of(cycle)])
    ]
    return PartnerSuggestions(wanted, {s.id: s.name for s in every}, len(reports))


@handles(SupportSuggestions)
def support_suggestions(
    uc: UseCases, q: SupportSuggestions, caller: Principal
) -> PartnerSuggestions:
    with uc.uow(readonly=True) as uow:
        ctx = uc.context(uow, caller, q.cycle_id)
        if not ctx.access.may("report"):
            return PartnerSuggestions()
        return partner_suggestions(uc, uow, caller, ctx.cycle, ctx.template)
