"""The network dashboard, the borough view and the judgement heatmap at scale: every single
query each needs, and each use case whole as the service runs it (the composition root's
`UseCases`, a real caller), so that a use case can be read against its slowest query.

Every query and use case here walks the same networks in the same order (`Plan`), and each
network's query is given the filters the use case gives it (what the caller may see).
"""

from __future__ import annotations

import dataclasses
import itertools
import random
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from adapters.clock import FixedClock
from bench.scale_data import NOW
from engine.access import Principal
from engine.network import school_year
from engine.ports import CycleFilter
from service.bootstrap import Container, build
from service.settings import Settings
from service.usecases.dashboard_reports import EVERY, HeatmapPage, published_templates, visible
from service.usecases.messages import BoroughView, JudgementHeatmap, NetworkDashboard

__all__ = ["NEEDS", "USE_CASES", "Plan", "container", "usecase_queries", "usecase_runs"]

AHEAD = timedelta(weeks=4)
DASHBOARD = "the network dashboard, a partnership lead: `NetworkDashboard(network_id)`"
BOROUGH = "the borough view, the borough's forum (a partnership lead everywhere): `BoroughView()`"
HEATMAP = "the judgement heatmap, a partnership lead: `JudgementHeatmap(network_id)`"
USE_CASES = (DASHBOARD, BOROUGH, HEATMAP)

NETWORKS = "every network: `directory.networks()`"
SCHOOLS = "every school (the names the dashboard shows): `directory.schools()`"
NETWORK_SCHOOLS = "a network's schools: `directory.schools(network_id)`"
TEMPLATES = "the published templates: `templates.list()`"
MEMBER_OF = "the cycles a person is on the team of (what they see): `cycles.member_of(person)`"
SHARED_NETWORK = (
    "the reports shared with a partnership lead or their network (the heatmap's first read):"
    " `shares.cycles_shared_with(person, schools, {network})`"
)
SHARED_PERSON = (
    "the reports shared with a person's schools (what they see):"
    " `shares.cycles_shared_with(person, schools, {})`"
)
STAGE_COUNTS = (
    "a network's cycles by stage, with the overdue (the network dashboard):"
    " `cycles.stage_counts([network], now)`"
)
STAGE_COUNTS_ALL = (
    "every network's cycles by stage (the borough view; every cycle):"
    " `cycles.stage_counts([everything], now)`"
)
OVERDUE = (
    "a network's most overdue cycles, page of 10: `cycles.list(network_id, overdue_at=now,"
    " limit=10)`"
)
DUE_AHEAD = (
    "a network's stages due in the next 4 weeks, page of 50: `cycles.list(network_id,"
    " overdue_at=now+4w, on_time_at=now)`"
)
ACTIONS = (
    "a network's overdue actions, page of 50: `cycles.open_actions([network], due_before=today)`"
)
ACTIONS_SOON = (
    "a network's actions due in the next 4 weeks, page of 50: `cycles.open_actions([network],"
    " due_from=today, due_before=today+4w)`"
)
ACTION_COUNTS = (
    "a network's overdue actions, counted: `cycles.open_action_counts([network], due_before=today)`"
)
ACTION_COUNTS_ALL = (
    "overdue actions by network (the borough view):"
    " `cycles.open_action_counts([everything], due_before=today)`"
)
STARTED = (
    "cycles started per school this school year in a network:"
    " `cycles.started_by_school([network], since, until)`"
)
STARTED_ALL = (
    "cycles started per school this school year everywhere (the borough view):"
    " `cycles.started_by_school([everything], since, until)`"
)
TEAMS = (
    "a network's cycles in pre-review (the teams to set), page of 50:"
    " `cycles.list(network_id, template_id, stage, limit=50)`"
)
REPORTS = (
    "the network's cycles among the reports shared (the heatmap's candidates):"
    " `cycles.list(network_id, ids=shared)`"
)
ONE_CYCLE = (
    "one cycle and its shares, for an access check (the heatmap's, per report):"
    " `cycles.get(id)`, `shares.for_cycle(id)`"
)

NEEDS: dict[str, tuple[str, ...]] = {
    DASHBOARD: (
        NETWORKS,
        NETWORK_SCHOOLS,
        TEMPLATES,
        MEMBER_OF,
        SHARED_NETWORK,
        SHARED_PERSON,
        STAGE_COUNTS,
        OVERDUE,
        DUE_AHEAD,
        ACTIONS,
        ACTION_COUNTS,
        ACTIONS_SOON,
        STARTED,
        TEAMS,
        ONE_CYCLE,
    ),
    BOROUGH: (NETWORKS, SCHOOLS, TEMPLATES, STAGE_COUNTS_ALL, STARTED_ALL, ACTION_COUNTS_ALL),
    HEATMAP: (
        NETWORKS,
        NETWORK_SCHOOLS,
        TEMPLATES,
        MEMBER_OF,
        SHARED_NETWORK,
        SHARED_PERSON,
        STAGE_COUNTS,
        REPORTS,
        ONE_CYCLE,
    ),
}
"""The single queries each use case sends (`ONE_CYCLE` once per cycle it checks)."""


def container(url: str) -> Container:
    """Peerloop wired by its composition root onto the bench's database, at the data's now."""
    settings = Settings(
        data_dir=Path(tempfile.mkdtemp(prefix="peerloop-scale-")),
        database_url=url,
        demo=False,
        jobs=False,
    )
    return build(settings, clock=FixedClock(NOW), migrate=False)


@dataclass
class Plan:
    """The networks every query and use case walks, in one order, with what each needs: its
    partnership lead, the filters of what they see, the reports shared with them."""

    app: Container
    networks: list[str]
    leads: dict[str, Principal] = field(default_factory=dict)
    filters: dict[str, list[CycleFilter]] = field(default_factory=dict)
    shared: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, app: Container, networks: list[str], runs: int, seed: int = 7) -> Plan:
        rng = random.Random(seed)
        plan = cls(app, [rng.choice(networks) for _ in range(runs + 1)])
        uc = app.usecases
        for n in dict.fromkeys(plan.networks):
            lead = plan.principal(f"p-pl-{n}")
            uow: Any
            with app.uow(readonly=True) as uow:
                plan.leads[n] = lead
                plan.filters[n] = visible(uc, lead, uow, CycleFilter(network_id=n))
                shared = uow.shares.cycles_shared_with(lead.id, frozenset(), frozenset({n}))
                plan.shared[n] = sorted(shared)
        return plan

    def principal(self, person_id: str) -> Principal:
        with self.app.uow(readonly=True) as uow:
            person = uow.directory.get_person(person_id)
            return Principal(person, tuple(uow.directory.grants_for(person_id)))

    def walk(self) -> Iterator[str]:
        """The networks, one a run, in the plan's order (again from the start when done)."""
        return itertools.cycle(self.networks)


def _day_bounds(app: Container) -> tuple[date, tuple[datetime, datetime]]:
    tz = app.app.registry.calendars.tz
    today = NOW.astimezone(tz).date()
    first, next_first = school_year(today)
    return today, (datetime.combine(first, time(0), tz), datetime.combine(next_first, time(0), tz))


def usecase_queries(plan: Plan) -> dict[str, Callable[[], int]]:
    """Each single query the three use cases need, with the filters they give it."""
    app = plan.app

    def uow() -> Any:
        return app.uow(readonly=True)

    today, (since, until) = _day_bounds(app)
    with uow() as u:
        ended = {
            (t.id, s.id)
            for t in published_templates(app.usecases, u).values()
            for s in t.stages
            if s.terminal
        }
    everything = [CycleFilter()]

    def per_network(read: Callable[[Any, str, list[CycleFilter]], int]) -> Callable[[], int]:
        walk = plan.walk()

        def run() -> int:
            n = next(walk)
            with uow() as u:
                return read(u, n, plan.filters[n])

        return run

    def whole(read: Callable[[Any], int]) -> Callable[[], int]:
        def run() -> int:
            with uow() as u:
                return read(u)

        return run

    def listed(u: Any, filters: list[CycleFilter], **narrow: Any) -> int:
        return sum(len(u.cycles.list(dataclasses.replace(f, **narrow))) for f in filters)

    cycles_walk = plan.walk()
    picks = random.Random(11)

    def one_cycle() -> int:
        for _ in range(len(plan.networks)):
            found = plan.shared[next(cycles_walk)]
            if found:
                break
        else:
            return 0
        cid = picks.choice(found)
        with uow() as u:
            u.cycles.get(cid)
            return 1 + len(u.shares.for_cycle(cid))

    def reports(u: Any, n: str, filters: list[CycleFilter]) -> int:
        ids = frozenset(plan.shared[n])
        if not ids:
            return 0
        return len(u.cycles.list(CycleFilter(network_id=n, ids=ids, limit=EVERY)))

    lead = plan.leads

    return {
        NETWORKS: whole(lambda u: len(u.directory.networks())),
        SCHOOLS: whole(lambda u: len(u.directory.schools())),
        NETWORK_SCHOOLS: per_network(lambda u, n, f: len(u.directory.schools(n))),
        TEMPLATES: whole(lambda u: len(u.templates.list())),
        MEMBER_OF: per_network(lambda u, n, f: len(u.cycles.member_of(lead[n].id))),
        SHARED_NETWORK: per_network(
            lambda u, n, f: len(
                u.shares.cycles_shared_with(lead[n].id, lead[n].scopes("school"), frozenset({n}))
            )
        ),
        SHARED_PERSON: per_network(
            lambda u, n, f: len(
                u.shares.cycles_shared_with(lead[n].id, lead[n].scopes("school"), frozenset())
            )
        ),
        STAGE_COUNTS: per_network(lambda u, n, f: len(u.cycles.stage_counts(f, NOW))),
        STAGE_COUNTS_ALL: whole(lambda u: len(u.cycles.stage_counts(everything, NOW))),
        OVERDUE: per_network(lambda u, n, f: listed(u, f, overdue_at=NOW, limit=10)),
        DUE_AHEAD: per_network(
            lambda u, n, f: listed(u, f, overdue_at=NOW + AHEAD, on_time_at=NOW, limit=50)
        ),
        ACTIONS: per_network(
            lambda u, n, f: len(u.cycles.open_actions(f, due_before=today, ended=ended, limit=50))
        ),
        ACTIONS_SOON: per_network(
            lambda u, n, f: len(
                u.cycles.open_actions(
                    f,
                    due_before=today + AHEAD,
                    due_from=today,
                    ended=ended,
                    limit=50,
                )
            )
        ),
        ACTION_COUNTS: per_network(
            lambda u, n, f: sum(
                u.cycles.open_action_counts(f, due_before=today, ended=ended).values()
            )
        ),
        ACTION_COUNTS_ALL: whole(
            lambda u: len(u.cycles.open_action_counts(everything, due_before=today, ended=ended))
        ),
        STARTED: per_network(lambda u, n, f: len(u.cycles.started_by_school(f, since, until))),
        STARTED_ALL: whole(lambda u: len(u.cycles.started_by_school(everything, since, until))),
        TEAMS: per_network(
            lambda u, n, f: listed(u, f, template_id="spp-cycle", stage="pre_review", limit=50)
        ),
        REPORTS: per_network(reports),
        ONE_CYCLE: one_cycle,
    }


def usecase_runs(plan: Plan) -> dict[str, Callable[[], int]]:
    """Each use case whole, through `UseCases.handle` with its caller; each returns how many
    lines its page lists (the dashboard's), networks (the borough's) or schools drawn."""
    uc = plan.app.usecases
    forum = plan.principal("p-forum")

    def dashboard() -> Callable[[], int]:
        walk = plan.walk()

        def run() -> int:
            n = next(walk)
            page = uc.handle(NetworkDashboard(n), plan.leads[n])
            return (
                len(page.overdue_cycles)
                + len(page.overdue_actions)
                + len(page.upcoming)
                + len(page.started)
                + len(page.teams)
            )

        return run

    def borough() -> int:
        return len(uc.handle(BoroughView(), forum).rows)

    def heatmap() -> Callable[[], int]:
        walk = plan.walk()

        def run() -> int:
            n = next(walk)
            page: HeatmapPage = uc.handle(JudgementHeatmap(n), plan.leads[n])
            return page.reports

        return run

    return {DASHBOARD: dashboard(), BOROUGH: borough, HEATMAP: heatmap()}
