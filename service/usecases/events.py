"""Events the use cases announce after a commit, beside the engine's own (`engine.events`).

The engine's `TransitionFired` and `RecordChanged` say what changed in a cycle; these say it in
the terms people are told about: who joined a team in which role, who a report was shared with,
whose action it is and when it is due, who was granted a role.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import NamedTuple

__all__ = ["ActionAssigned", "ReportShared", "RoleGranted", "TeamChanged"]


class TeamChanged(NamedTuple):
    cycle_id: str
    person_id: str
    role: str
    change: str  # "added" or "removed"
    actor: str
    at: datetime


class ReportShared(NamedTuple):
    cycle_id: str
    share_id: str
    grantee_kind: str
    grantee_id: str
    actor: str
    at: datetime


class ActionAssigned(NamedTuple):
    """An action got an owner, a new owner, or a new due date."""

    cycle_id: str
    action_id: str
    title: str
    owner: str
    due: date | None
    change: str  # "assigned" or "due_moved"
    actor: str
    at: datetime


class RoleGranted(NamedTuple):
    grant_id: str
    person_id: str
    role: str
    scope_kind: str
    scope_id: str | None
    actor: str
    at: datetime
