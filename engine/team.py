"""The review team's independence in words: what the requirements will refuse, said early.

`team_warnings` runs the checks of `review_team_independent` and `champion_independent`
(`engine.requirements`) for one person about to be put on a cycle's team, so that whoever
chooses the team sees the problems before the move that refuses them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from engine.cycle import Cycle, Member
from engine.requirements import champion_independence, reviewer_independence, same_network_allowed
from engine.template import Template

__all__ = ["team_warnings", "words"]


def words(role: str) -> str:
    """A team role as a phrase: `review_lead` -> "review lead"."""
    return role.replace("_", " ")


def team_warnings(
    template: Template,
    cycle: Cycle,
    member: Member,
    names: Mapping[str, str] | None = None,
) -> list[str]:
    """The independence problems of putting `member` on the team, in words (empty: none).

    Nothing is refused: the template's requirements refuse the move later, and these say
    beforehand what they will refuse, for whoever chooses the team. The checks are the
    requirements' own (`review_team_independent`, `champion_independent`); the host's own
    network counts only where a `review_team_independent` of the template forbids it.

    Args:
        template: the cycle's template.
        cycle: the cycle, before or just after `assign_member` put `member` on it.
        member: who would be assigned, with their school and network.
        names: display names of schools and networks by id, where the caller knows them
            (ids are shown otherwise).
    """
    known = names or {}

    def name(key: str | None) -> str:
        return known.get(key, key) if key is not None else "none"

    pid = member.person_id
    warnings: list[str] = []
    if member.role == template.champion_role:
        for problem in champion_independence(template, cycle, member):
            if problem == "on_review":
                warnings.append(
                    f"{pid} is on the review team as {words(cycle.team[pid].role)}; the "
                    "improvement champion must not have been on the review"
                )
            elif problem == "host_school":
                warnings.append(
                    f"{pid} is on the staff of the host school ({name(cycle.host_school_id)})"
                )
            elif pid not in cycle.team:  # (on the team, their own school is said above)
                warnings.append(
                    f"{pid} is from {name(member.school_id)}, a school on the review team; "
                    "the improvement champion must be from a school that was not on the review"
                )
        return warnings
    if member.role not in template.team_roles("lead", "member"):
        return warnings
    same_network_ok = same_network_allowed(template)
    for found in reviewer_independence(cycle, member, allow_same_network=same_network_ok):
        if found == "host_school":
            warnings.append(
                f"{pid} is on the staff of the host school ({name(cycle.host_school_id)})"
            )
        else:
            warnings.append(
                f"{pid} is from the host school's own network ({name(cycle.network_id)}), "
                "and this template wants reviewers from other networks"
            )
    champion = cycle.champion
    if champion is not None and champion.person_id != pid:
        # Whether this member makes the champion's independence fail where it held without
        # them (whether or not the cycle already has them: callers may ask before or after).
        others = {k: m for k, m in cycle.team.items() if k != pid}
        without = dataclasses.replace(cycle, team=others)
        with_member = dataclasses.replace(cycle, team={**others, pid: member})
        if "review_school" in champion_independence(template, with_member, champion) and (
            "review_school" not in champion_independence(template, without, champion)
        ):
            warnings.append(
                f"{pid} is from {name(member.school_id)}, the improvement champion's school "
                f"({champion.person_id}); the champion must be from a school that was not "
                "on the review"
            )
    return warnings
