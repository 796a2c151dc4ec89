"""Which roles a person holds for a cycle, from their scoped grants and the cycle's team."""

from __future__ import annotations

from collections.abc import Iterable

from engine.cycle import Actor, Cycle
from engine.directory import Grant, Person

__all__ = ["SYSTEM_SCHEDULER", "actor_for"]

SYSTEM_SCHEDULER = "system:scheduler"


def actor_for(person: Person, grants: Iterable[Grant], cycle: Cycle | None) -> Actor:
    """The person as an actor on `cycle` (or outside any cycle when None).

    A grant applies when its scope holds the cycle: everywhere, the cycle's network, its host
    school, or the cycle itself. Being on the review team (or its champion) gives that role for
    that cycle only.
    """
    roles: set[str] = set()
    for g in grants:
        if g.scope_kind == "global":
            roles.add(g.role)
        elif cycle is None:
            continue
        elif (
            (g.scope_kind == "network" and g.scope_id == cycle.network_id)
            or (g.scope_kind == "school" and g.scope_id == cycle.host_school_id)
            or (g.scope_kind == "cycle" and g.scope_id == cycle.id)
        ):
            roles.add(g.role)
    if cycle is not None:
        member = cycle.team.get(person.id)
        if member is not None:
            roles.add(member.role)
        if cycle.champion is not None and cycle.champion.person_id == person.id:
            roles.add("improvement_champion")
    return Actor(person.id, frozenset(roles), person.school_id)
