"""Field types and the two bases every body builds on: requests refuse unknown fields."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

__all__ = [
    "NO_NUL",
    "ActionStatus",
    "Email",
    "Id",
    "Name",
    "OptText",
    "Role",
    "ScopeKind",
    "TeamRole",
    "Text",
    "_In",
    "_Out",
]

NO_NUL = r"^[^\x00]*$"
"""Text holds no NUL character (PostgreSQL stores none, and no person types one)."""

Id = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$", max_length=64)]
"""A client-chosen identifier: letters, digits and `_.:@-`, at most 64 characters."""
Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=NO_NUL)]
Text = Annotated[str, Meta(min_length=1, max_length=20_000, pattern=NO_NUL)]
OptText = Annotated[str, Meta(max_length=20_000, pattern=NO_NUL)]
Email = Annotated[str, Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)]
Role = Literal[
    "admin",
    "network_lead",
    "partnership_lead",
    "review_lead",
    "reviewer",
    "improvement_champion",
    "school_lead",
    "school_staff",
]
ScopeKind = Literal["global", "network", "school", "cycle"]
TeamRole = Literal["review_lead", "reviewer", "improvement_champion"]
ActionStatus = Literal["not_started", "in_progress", "met", "partially_met", "not_met"]


class _In(Struct, forbid_unknown_fields=True, kw_only=True):
    """Request bodies: unknown fields are refused, not ignored."""


class _Out(Struct, kw_only=True):
    """Response bodies."""
