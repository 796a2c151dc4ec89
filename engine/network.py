"""What a network's leads follow across it: which networks a person watches, the school year,
and which schools have not started a cycle in it.

Who sees which cycle stays `engine.access`'s decision; this module only says whose network
dashboard is whose: whoever is granted for a network a role that follows networks (a template's
`follow_network`: its chair, its partnership lead) watches that network; the admin and anyone
granted such a role everywhere (the borough's forum) watch them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from engine.access import Principal, network_scopes
from engine.directory import School
from engine.errors import NotFound

__all__ = [
    "SCHOOL_YEAR_START",
    "SchoolStarts",
    "require_watched",
    "school_year",
    "schools_not_started",
    "watched_networks",
    "watches_borough",
]

SCHOOL_YEAR_START = (9, 1)
"""(month, day) a school year starts: 1 September, ending on 31 August."""


def watches_borough(principal: Principal) -> bool:
    """Whether the principal follows every network at once (the borough view is theirs): the
    admin, or a chair or partnership lead whose grant is scoped to everything."""
    return principal.is_admin or any(
        g.role in principal.follows and g.scope_kind == "global" for g in principal.grants
    )


def watched_networks(principal: Principal, network_ids: Iterable[str]) -> list[str]:
    """The networks, of `network_ids` and in their order, whose dashboard the principal sees."""
    if watches_borough(principal):
        return list(network_ids)
    mine = network_scopes(principal)
    return [n for n in network_ids if n in mine]


def require_watched(principal: Principal, network_id: str, network_ids: Iterable[str]) -> None:
    """Raises NotFound unless the principal watches the network: to anyone else a network's
    dashboard does not exist (as an invisible cycle does not)."""
    if network_id not in watched_networks(principal, network_ids):
        raise NotFound("network", network_id)


def school_year(today: date) -> tuple[date, date]:
    """(first day, first day of the next) of the school year holding `today`: 1 September to
    31 August."""
    month, day = SCHOOL_YEAR_START
    year = today.year if (today.month, today.day) >= (month, day) else today.year - 1
    return date(year, month, day), date(year + 1, month, day)


@dataclass(frozen=True, slots=True)
class SchoolStarts:
    """How many cycles a school started in the school year."""

    school: School
    started: int


def schools_not_started(
    schools: Iterable[School], started: Mapping[str, int]
) -> tuple[list[SchoolStarts], list[School]]:
    """(schools that started a cycle, with how many; schools that started none), by name."""
    ordered = sorted(schools, key=lambda s: (s.name, s.id))
    begun = [SchoolStarts(s, started[s.id]) for s in ordered if started.get(s.id, 0) > 0]
    return begun, [s for s in ordered if started.get(s.id, 0) <= 0]
