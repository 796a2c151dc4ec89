"""Who sees what: which parts of a cycle a person may read, and which cycles they may list.

A cycle is visible to whoever holds a role on it (a grant scoped to everything, its network,
its host school or the cycle itself, or a place on its team) and to whoever the host school
has shared its report with. Everyone else gets the answer an unknown id gets (404).

What each role may read of a visible cycle (`SECTIONS`), least privilege first:

| section        | what                                  | who                                   |
|----------------|---------------------------------------|---------------------------------------|
| overview       | stage, dates, team, deadlines, history| everyone who sees the cycle           |
| evidence       | the evidence list                     | host school, reviewers, admin         |
| evidence_files | downloading evidence files            | host school, reviewers                |
| self_review    | focus, self-judgements                | host school, reviewers, champion, share|
| report         | findings, peer judgements             | host head, reviewers, champion, share |
| plan           | actions, support, sign-offs           | host school, team, partnership lead,  |
|                |                                       | admin                                 |

("reviewers": the review lead and reviewers; "share": whoever the report is shared with.)

A network lead (NLC chair) sees stages and deadlines across the network and nothing
confidential unless the host shares it; the partnership lead, who runs the schedule, also sees
the action plan; the admin runs the platform and can erase evidence, but reads no report.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from engine.cycle import Actor, Cycle
from engine.directory import Person, ReportShare
from engine.ports import CycleFilter, UnitOfWork
from service.access import actor_for
from service.auth import Principal
from service.errors import Forbidden, Hidden

__all__ = [
    "ALL_SECTIONS",
    "SECTIONS",
    "CycleAccess",
    "access_to",
    "actor_of",
    "can_see_person",
    "network_scopes",
    "visible_cycle_filters",
]

ALL_SECTIONS = ("overview", "evidence", "evidence_files", "self_review", "report", "plan")

SECTIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"overview", "evidence", "plan"}),
    "network_lead": frozenset({"overview"}),
    "partnership_lead": frozenset({"overview", "plan"}),
    "review_lead": frozenset(ALL_SECTIONS),
    "reviewer": frozenset(ALL_SECTIONS),
    "improvement_champion": frozenset({"overview", "self_review", "report", "plan"}),
    "school_lead": frozenset(ALL_SECTIONS),
    "school_staff": frozenset({"overview", "evidence", "evidence_files", "self_review", "plan"}),
}
"""Role held on the cycle -> the sections it may read."""

SHARED_SECTIONS = frozenset({"overview", "self_review", "report"})
"""What a share of the report opens to its grantee."""

NETWORK_ROLES = frozenset({"network_lead", "partnership_lead"})


@dataclass(frozen=True, slots=True)
class CycleAccess:
    actor: Actor
    sections: frozenset[str]
    shared: bool

    @property
    def visible(self) -> bool:
        return bool(self.sections)

    def require(self, section: str, cycle_id: str) -> None:
        """Raises Hidden (404) if the cycle is invisible, Forbidden (403) if the section is."""
        if not self.sections:
            raise Hidden("cycle", cycle_id)
        if section not in self.sections:
            raise Forbidden(f"your roles on cycle {cycle_id} do not let you see its {section}")


def network_scopes(principal: Principal) -> frozenset[str]:
    return principal.scopes("network", NETWORK_ROLES)


def shared_with(principal: Principal, shares: Iterable[ReportShare]) -> bool:
    """Whether an active share reaches the principal: them, their school's head, or their
    network's leads."""
    led_schools = principal.scopes("school", frozenset({"school_lead"}))
    networks = network_scopes(principal)
    for s in shares:
        if s.revoked_at is not None:
            continue
        if (
            (s.grantee_kind == "person" and s.grantee_id == principal.id)
            or (s.grantee_kind == "school" and s.grantee_id in led_schools)
            or (s.grantee_kind == "network" and s.grantee_id in networks)
        ):
            return True
    return False


def access_to(principal: Principal, cycle: Cycle, shares: Iterable[ReportShare]) -> CycleAccess:
    actor = actor_for(principal.person, principal.grants, cycle)
    sections: set[str] = set()
    for role in actor.roles:
        sections |= SECTIONS.get(role, frozenset({"overview"}))
    shared = shared_with(principal, shares)
    if shared:
        sections |= SHARED_SECTIONS
    return CycleAccess(actor, frozenset(sections), shared)


def actor_of(
    principal: Principal, shares_of: Callable[[str], list[ReportShare]]
) -> Callable[[Cycle], Actor]:
    """The `actor_of` the use cases take: the caller on that cycle, or Hidden (404) when the
    cycle is invisible to them. Shares are only looked up for someone with no role on it."""

    def resolve(cycle: Cycle) -> Actor:
        actor = actor_for(principal.person, principal.grants, cycle)
        if actor.roles:
            return actor
        if shared_with(principal, shares_of(cycle.id)):
            return actor
        raise Hidden("cycle", cycle.id)

    return resolve


def visible_cycle_filters(
    principal: Principal, uow: UnitOfWork, where: CycleFilter
) -> list[CycleFilter] | None:
    """The filters whose union is every cycle (within `where`) the principal may see; None
    when they may see all of them (a grant scoped to everything)."""
    if any(g.scope_kind == "global" for g in principal.grants):
        return None
    filters: list[CycleFilter] = []
    nets = principal.scopes("network")
    schools = principal.scopes("school")
    ids = set(principal.scopes("cycle")) | uow.cycles.member_of(principal.id)
    ids |= uow.shares.cycles_shared_with(
        principal.id,
        principal.scopes("school", frozenset({"school_lead"})),
        network_scopes(principal),
    )
    for net in sorted(nets):
        if where.network_id in (None, net):
            filters.append(_narrow(where, network_id=net))
    for school in sorted(schools):
        if where.school_id in (None, school):
            filters.append(_narrow(where, school_id=school))
    if ids:
        wanted = ids if where.ids is None else ids & where.ids
        if wanted:
            filters.append(_narrow(where, ids=frozenset(wanted)))
    return filters


def _narrow(where: CycleFilter, **kw: Any) -> CycleFilter:
    return dataclasses.replace(where, **kw)


def can_see_person(principal: Principal, person: Person) -> bool:
    """People's details are personal data: the admin and the network leads (who form review
    teams across the borough) see everyone; a school's lead and staff see their own school;
    everyone sees themselves."""
    if person.id == principal.id or principal.is_admin:
        return True
    if network_scopes(principal):
        return True
    return person.school_id is not None and person.school_id in principal.scopes("school")
