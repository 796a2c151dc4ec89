"""Who may see and do what: the one place access to a cycle is decided.

A cycle is visible to whoever holds a role on it (a grant scoped to everything, its network,
its host school or the cycle itself, or a place on its team) and to whoever the host school
has shared its report with. Everyone else gets the answer an unknown id gets (NotFound), so
that a cycle's existence never leaks.

What each role reads of a visible cycle is the template's to say (`Role.reads`, beyond the
overview everyone who sees it reads), as are the powers to share the report, start cycles and
erase evidence (`Role.may`). The shipped frameworks declare, least privilege first:

| section        | what                                  | who (SPP)                             |
|----------------|---------------------------------------|---------------------------------------|
| overview       | stage, dates, team, deadlines, history| everyone who sees the cycle           |
| evidence       | the evidence list                     | host school, reviewers, admin         |
| evidence_files | downloading evidence files            | host school, reviewers                |
| self_review    | focus, self-judgements                | host school, reviewers, champion, share|
| report         | findings, peer judgements             | host head, reviewers, champion, share |
| plan           | actions, support, sign-offs           | host school, team, partnership lead,  |
|                |                                       | admin                                 |

("reviewers": the review lead and reviewers; "share": whoever the report is shared with.)
Only the platform's own role, the admin, is decided here (`ADMIN_SECTIONS`): it runs the
platform and can erase evidence, but reads no report.

Evidence files, the self-review and the report are the confidential sections
(`CONFIDENTIAL_SECTIONS`). Nobody gives themselves a role that opens one of them
(`refuse_self_grant`): another person must, and that is recorded. An admin who must read them
takes an explicit step instead, the break-glass (`engine.directory.BreakGlass`): with a reason,
recorded in the cycle's history, told to the host's head, for `BREAK_GLASS_PERIOD` only.

Who may act is decided by the template too (a transition's roles, what a stage collects, and
from whom); the rules here apply what it says, and decide only for the admin.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engine.cycle import Actor, Cycle
from engine.directory import BreakGlass, Grant, Person, ReportShare
from engine.errors import AccessDenied, NotFound
from engine.ports import CycleFilter, UnitOfWork
from engine.template import ADMIN_ROLE, Template

__all__ = [
    "ADMIN_SECTIONS",
    "ALL_SECTIONS",
    "BREAK_GLASS_PERIOD",
    "BREAK_GLASS_REASON_WORDS",
    "CONFIDENTIAL_SECTIONS",
    "READ_GROUNDS",
    "SYSTEM_SCHEDULER",
    "CycleAccess",
    "Principal",
    "access_to",
    "actor_for",
    "can_see_person",
    "grant_covers",
    "holders",
    "holders_of",
    "may_break_glass",
    "may_share",
    "may_start_cycles",
    "might_start_cycles",
    "network_scopes",
    "opens_confidential",
    "part_read",
    "read_grounds",
    "refuse_self_grant",
    "shared_with",
    "starter_roles",
    "visible_cycle_filters",
    "watches_networks",
]

SYSTEM_SCHEDULER = "system:scheduler"
"""Who automatic moves are recorded as."""

ALL_SECTIONS = ("overview", "evidence", "evidence_files", "self_review", "report", "plan")

ADMIN_SECTIONS = frozenset({"overview", "evidence", "plan"})
"""What the admin reads of every cycle: it runs the platform and reads no report (its
break-glass aside)."""

SHARED_SECTIONS = frozenset({"overview", "self_review", "report"})
"""What a share of the report opens to its grantee."""

CONFIDENTIAL_SECTIONS = frozenset({"evidence_files", "self_review", "report"})
"""What belongs to the host school: its evidence files (pupils' work, interview notes), its
self-evaluation and the review's report. A role that opens any of them is never
self-granted, and an admin reads them only through a break-glass."""

READ_GROUNDS = ("break_glass", "team", "role", "share")
"""Why someone outside the host school's staff could read confidential content: an admin's
break-glass, a place on the review team, a role granted for the cycle, its network,
everywhere or a school taking part, or a share of the report."""

BREAK_GLASS_PERIOD = timedelta(hours=24)
"""How long a break-glass opens a cycle's confidential sections to the admin who took it:
long enough to deal with one complaint or request, short enough that access lapses by itself
and a later need takes (and records) a new step, with its own reason."""

BREAK_GLASS_REASON_WORDS = 3
"""The fewest words a break-glass reason may have: it must say why, not just "needed"."""


@dataclass(frozen=True, slots=True)
class Principal:
    """The person behind a request, with their role grants, as authenticated."""

    person: Person
    grants: tuple[Grant, ...]
    token_id: str | None = None
    token_issued_by: str | None = None
    """Who made the token the person came with, when it was someone else (an admin, or the
    operator): what they do is recorded as theirs, using a token made by that issuer."""
    follows: frozenset[str] = frozenset()
    """Of the roles granted to the person, those a published template lets follow networks
    (`follow_network`): a grant of one for a network (or everywhere) makes them one of its
    leads. What a role may do is the templates' to say, so the application fills this in
    before any use case runs (`service.usecases.base.UseCases.handle`)."""

    @property
    def id(self) -> str:
        return self.person.id

    @property
    def is_admin(self) -> bool:
        return any(g.role == "admin" and g.scope_kind == "global" for g in self.grants)

    def scopes(self, kind: str, roles: frozenset[str] | None = None) -> frozenset[str]:
        """The ids of the scopes of `kind` the person holds a grant in (of one of `roles`)."""
        return frozenset(
            g.scope_id
            for g in self.grants
            if g.scope_kind == kind and g.scope_id and (roles is None or g.role in roles)
        )

    def holds(self, role: str, kind: str, scope_id: str | None) -> bool:
        """Whether the person holds `role` in that scope (or globally)."""
        return any(
            g.role == role
            and (g.scope_kind == "global" or (g.scope_kind == kind and g.scope_id == scope_id))
            for g in self.grants
        )

    def require_admin(self) -> None:
        """Raises AccessDenied unless the person is an admin."""
        if not self.is_admin:
            raise AccessDenied("only an admin may do this")


_PART_SECTIONS = {
    "evidence": frozenset({"evidence", "evidence_files"}),
    "findings": frozenset({"report"}),
    "judgements": frozenset({"self_review", "report"}),
}
"""The sections each part of a school taking part is read in (`CycleAccess.reads_part`)."""


def grant_covers(grant: Grant, cycle: Cycle) -> bool:
    """Whether a grant's scope holds the cycle: everywhere, its network, its host school or a
    school taking part in it, or the cycle itself.

    A role granted for a school is held on the cycles that school takes part in: a
    moderator of Elm Primary moderates in each cluster moderation Elm Primary joins, and in
    no other school's cycle.
    """
    if grant.scope_kind == "school" and grant.scope_id in cycle.participants:
        return True
    return _covers(grant, cycle.id, cycle.network_id, cycle.host_school_id)


def _covers(grant: Grant, cycle_id: str, network_id: str | None, school_id: str) -> bool:
    kind, scope = grant.scope_kind, grant.scope_id
    return (
        kind == "global"
        or (kind == "network" and scope == network_id)
        or (kind == "school" and scope == school_id)
        or (kind == "cycle" and scope == cycle_id)
    )


def actor_for(person: Person, grants: Iterable[Grant], cycle: Cycle | None) -> Actor:
    """The person as an actor on `cycle` (or outside any cycle when None).

    A grant applies when its scope holds the cycle (`grant_covers`). Being on the review team
    (or its champion) gives that role for that cycle only.
    """
    roles: set[str] = set()
    for g in grants:
        if g.scope_kind == "global" or (cycle is not None and grant_covers(g, cycle)):
            roles.add(g.role)
    if cycle is not None:
        member = cycle.team.get(person.id)
        if member is not None:
            roles.add(member.role)
        if cycle.champion is not None and cycle.champion.person_id == person.id:
            roles.add(cycle.champion.role)
    return Actor(person.id, frozenset(roles), person.school_id)


def might_start_cycles(principal: Principal) -> bool:
    """Whether any template could let the principal start cycles: the admin, or someone
    granted a role for a network or everywhere (a role for one school starts nothing)."""
    return principal.is_admin or any(
        g.scope_kind in ("global", "network") for g in principal.grants
    )


def may_start_cycles(principal: Principal, templates: Iterable[Template]) -> bool:
    """Whether the principal may start a cycle of one of `templates` for some school."""
    if principal.is_admin:
        return True
    starters = {role for t in templates for role in t.roles_that("start_cycles")}
    return any(
        g.role in starters and g.scope_kind in ("global", "network") for g in principal.grants
    )


def starter_roles(
    principal: Principal, network_id: str | None, template: Template
) -> frozenset[str]:
    """The roles in which the principal may start a cycle of `template` for a school of
    `network_id`: the admin, or a role the template gives `start_cycles`, granted for the
    network (or everywhere).

    Raises:
        AccessDenied: neither.
    """
    if principal.is_admin:
        return frozenset({ADMIN_ROLE})
    held = frozenset(
        role
        for role in template.roles_that("start_cycles")
        if principal.holds(role, "network", network_id)
    )
    if not held:
        titles = [r.title or r.id for r in template.roles if "start_cycles" in r.may]
        who = f" or the {' or '.join(titles)} of the school's network" if titles else ""
        raise AccessDenied(f"only an admin{who} may start it")
    return held


@dataclass(frozen=True, slots=True)
class CycleAccess:
    """What one caller may read of one cycle, and who they are on it; `break_glass` is the
    caller's break-glass in force, when that is what opens the confidential sections.

    `in_part` are the sections the caller reads only through a school taking part in the
    cycle (not its host): of those they read the part of `schools` (`part_read`).
    """

    actor: Actor
    sections: frozenset[str]
    shared: bool
    break_glass: BreakGlass | None = None
    in_part: frozenset[str] = frozenset()
    schools: frozenset[str] = frozenset()

    @property
    def visible(self) -> bool:
        return bool(self.sections)

    def may(self, section: str) -> bool:
        return section in self.sections

    def reads_part(self, part: str, school_id: str | None, template: Template) -> bool:
        """Whether the caller reads `part` (of `engine.template.PARTS`) of a school taking
        part (None: what is of the cycle as a whole), given that they read its section."""
        limited = self.in_part & _PART_SECTIONS[part]
        return (
            not limited
            or part in template.shared_with_participants
            or school_id is None
            or school_id in self.schools
        )

    def require(self, section: str, cycle_id: str) -> None:
        """Raises NotFound if the cycle is invisible, AccessDenied if the section is."""
        if not self.sections:
            raise NotFound("cycle", cycle_id)
        if section not in self.sections:
            raise AccessDenied(f"your roles on cycle {cycle_id} do not let you see its {section}")


def read_grounds(principal: Principal, cycle: Cycle, access: CycleAccess) -> str | None:
    """On what grounds (`READ_GROUNDS`) the principal reads the cycle's confidential content;
    None for the host school's own staff (granted a role for the host school), whose reads
    of their own school's content are not an outsider's and are not recorded."""
    if cycle.host_school_id in principal.scopes("school"):
        return None
    if access.break_glass is not None:
        return "break_glass"
    champion = cycle.champion is not None and cycle.champion.person_id == principal.id
    if principal.id in cycle.team or champion:
        return "team"
    if access.actor.roles:
        return "role"
    return "share"


def may_share(actor: Actor, template: Template) -> bool:
    """Whether the actor decides who else reads the cycle's review report: a role the
    template gives `share_report` (the host's head, in the shipped frameworks)."""
    return bool(actor.roles & template.roles_that("share_report"))


def network_scopes(principal: Principal) -> frozenset[str]:
    """The networks the principal leads: granted a role that follows networks for them."""
    return principal.scopes("network", principal.follows)


def watches_networks(principal: Principal) -> bool:
    """Whether the principal follows whole networks (a chair, a partnership lead, the admin):
    the network dashboard is theirs."""
    return (
        principal.is_admin
        or bool(network_scopes(principal))
        or any(g.scope_kind == "global" and g.role in principal.follows for g in principal.grants)
    )


def shared_with(principal: Principal, shares: Iterable[ReportShare], heads: frozenset[str]) -> bool:
    """Whether an active share reaches the principal: them, their school's head (a role in
    `heads` granted for the school: those who share reports), or their network's leads."""
    led_schools = principal.scopes("school", heads)
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


def access_to(
    principal: Principal,
    cycle: Cycle,
    shares: Iterable[ReportShare],
    openings: Iterable[BreakGlass] = (),
    now: datetime | None = None,
    *,
    template: Template,
) -> CycleAccess:
    """The caller's access to a cycle: their actor and the sections they may read.

    Args:
        principal: the caller.
        cycle: the cycle.
        template: the cycle's template version, which says what each role reads.
        shares: the cycle's active report shares.
        openings: the cycle's break-glass openings; one taken by the caller, still an admin,
            and in force at `now` opens the confidential sections to them.
        now: the present (openings count only when it is given).
    """
    actor = actor_for(principal.person, principal.grants, cycle)
    whole, through = _roles_by_reach(principal, cycle)
    sections: set[str] = set()
    for role in whole:
        sections |= ADMIN_SECTIONS if role == ADMIN_ROLE else template.reads_of(role)
    in_part: set[str] = set()
    for role in through - whole:
        in_part |= template.reads_of(role)
    shared = shared_with(principal, shares, template.roles_that("share_report"))
    if shared:
        sections |= SHARED_SECTIONS
    glass = None
    if now is not None and sections and may_break_glass(principal):
        glass = next(
            (
                g
                for g in openings
                if g.person_id == principal.id and g.cycle_id == cycle.id and g.open_at(now)
            ),
            None,
        )
        if glass is not None:
            sections |= CONFIDENTIAL_SECTIONS
    in_part -= sections
    sections |= in_part
    schools = principal.scopes("school") & frozenset(cycle.participants) if in_part else set()
    return CycleAccess(
        actor, frozenset(sections), shared, glass, frozenset(in_part), frozenset(schools)
    )


def _roles_by_reach(principal: Principal, cycle: Cycle) -> tuple[frozenset[str], frozenset[str]]:
    """The principal's roles on `cycle`: those held on the whole of it (a grant for
    everywhere, its network, its host school or the cycle; a place on its team), and those
    held only through a school taking part in it beside the host."""
    whole: set[str] = set()
    through: set[str] = set()
    for g in principal.grants:
        if _covers(g, cycle.id, cycle.network_id, cycle.host_school_id):
            whole.add(g.role)
        elif g.scope_kind == "school" and g.scope_id in cycle.participants:
            through.add(g.role)
    member = cycle.team.get(principal.id)
    if member is not None:
        whole.add(member.role)
    if cycle.champion is not None and cycle.champion.person_id == principal.id:
        whole.add(cycle.champion.role)
    return frozenset(whole), frozenset(through)


def part_read(cycle: Cycle, access: CycleAccess, template: Template) -> Cycle:
    """The cycle as the caller may read it: where they read only a participating school's
    part (`CycleAccess.in_part`), another school's evidence and the findings and judgements
    about another school are left out, unless the template shares that part with every
    school taking part. What is of the cycle as a whole (the plan, findings and judgements
    about no one school) stays. The cycle itself is not changed."""
    if not access.in_part:
        return cycle
    evidence = {
        k: e
        for k, e in cycle.evidence.items()
        if access.reads_part("evidence", e.school_id, template)
    }
    findings = {
        k: f
        for k, f in cycle.findings.items()
        if access.reads_part("findings", f.school_id, template)
    }
    judgements = {
        k: j
        for k, j in cycle.judgements.items()
        if access.reads_part("judgements", j.school_id, template)
    }
    return dataclasses.replace(cycle, evidence=evidence, findings=findings, judgements=judgements)


def opens_confidential(role: str, templates: Iterable[Template]) -> frozenset[str]:
    """The confidential sections holding `role` on a cycle opens, in any of `templates`."""
    return frozenset(
        section for t in templates for section in t.reads_of(role) & CONFIDENTIAL_SECTIONS
    )


def refuse_self_grant(
    principal: Principal, person_id: str, role: str, templates: Iterable[Template]
) -> None:
    """Nobody gives themselves a role that opens confidential content: a grant, or a place
    on a review team, is for someone else to give, so that it is never one person's secret.

    Raises:
        AccessDenied: `person_id` is the caller and `role` opens a confidential section in
            one of `templates`.
    """
    opened = opens_confidential(role, templates) if person_id == principal.id else frozenset()
    if opened:
        raise AccessDenied(
            f"you cannot give yourself the role {role}: it opens {', '.join(sorted(opened))}, "
            "which belong to the host school. Another person must give it to you (it is "
            "recorded who did); an admin who must read a cycle's report uses the break-glass "
            "(POST /cycles/{id}/break-glass), with a reason, recorded and told to the head"
        )


def may_break_glass(principal: Principal) -> bool:
    """Whether the principal may take a break-glass: the admin only (who runs the platform
    and may be asked to deal with a complaint, a safeguarding concern or a legal request)."""
    return principal.is_admin


def visible_cycle_filters(
    principal: Principal,
    uow: UnitOfWork,
    where: CycleFilter,
    reached: Callable[[set[str]], set[str]] = lambda cycle_ids: cycle_ids,
) -> list[CycleFilter] | None:
    """The filters whose union is every cycle (within `where`) the principal may see; None
    when they may see all of them (a grant scoped to everything).

    `reached` gives those of the cycles shared with one of the principal's schools that reach
    them: a share with a school reaches the roles the cycle's template lets share reports.
    """
    if any(g.scope_kind == "global" for g in principal.grants):
        return None
    filters: list[CycleFilter] = []
    nets = principal.scopes("network")
    schools = principal.scopes("school")
    ids = set(principal.scopes("cycle")) | uow.cycles.member_of(principal.id)
    if schools:  # the cycles their schools take part in beside the host (`grant_covers`)
        ids |= uow.cycles.taking_part(schools)
    mine = uow.shares.cycles_shared_with(principal.id, frozenset(), network_scopes(principal))
    ids |= mine
    if schools:  # only people of a school can be reached by a share with one
        by_school = uow.shares.cycles_shared_with(principal.id, schools, frozenset())
        ids |= reached(by_school - mine)
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


def holders(
    cycle: Cycle,
    roles: Iterable[str],
    grants: Iterable[Grant],
    chair_id: str | None = None,
    chair_roles: Collection[str] = (),
) -> list[str]:
    """Everyone holding one of `roles` on the cycle, each once, in id order (`holders_of`)."""
    team = [(m.person_id, m.role) for m in cycle.team.values()]
    if cycle.champion is not None:
        team.append((cycle.champion.person_id, cycle.champion.role))
    return holders_of(
        roles,
        grants,
        cycle_id=cycle.id,
        network_id=cycle.network_id,
        school_id=cycle.host_school_id,
        team=team,
        chair_id=chair_id,
        chair_roles=chair_roles,
        participants=tuple(cycle.participants),
    )


def holders_of(
    roles: Iterable[str],
    grants: Iterable[Grant],
    *,
    cycle_id: str,
    network_id: str | None,
    school_id: str,
    team: Iterable[tuple[str, str]] = (),
    chair_id: str | None = None,
    chair_roles: Collection[str] = (),
    participants: Collection[str] = (),
) -> list[str]:
    """Everyone holding one of `roles` on a cycle, each once, in id order: by a grant whose
    scope holds the cycle (`grant_covers`), by a place on its team (person, role), champion
    included, or as the chair of its network, who holds the template's `chair_roles`.

    The deadline sweep reads a batch's grants and teams in bulk and asks this, so that a
    reminder reaches exactly whom a person's act would notify.
    """
    wanted = set(roles)
    ids = {
        g.person_id
        for g in grants
        if g.role in wanted
        and (
            _covers(g, cycle_id, network_id, school_id)
            or (g.scope_kind == "school" and g.scope_id in participants)
        )
    }
    ids |= {person for person, role in team if role in wanted}
    if chair_id is not None and wanted & set(chair_roles):
        ids.add(chair_id)
    return sorted(ids)
