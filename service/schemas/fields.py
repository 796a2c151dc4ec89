"""Field types and the two bases every body builds on: requests refuse unknown fields."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from msgspec import Meta, Struct

__all__ = [
    "EARLIEST_YEAR",
    "LATEST_YEAR",
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
    "out_of_range",
]

NO_NUL = r"^[^\x00]*$"
"""Text holds no NUL character (PostgreSQL stores none, and no person types one)."""

Id = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$", max_length=64)]
"""A client-chosen identifier: letters, digits and `_.:@-`, at most 64 characters."""
Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=NO_NUL)]
Text = Annotated[str, Meta(min_length=1, max_length=20_000, pattern=NO_NUL)]
OptText = Annotated[str, Meta(max_length=20_000, pattern=NO_NUL)]
Email = Annotated[str, Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)]
Role = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", max_length=64)]
"""A role's id: `admin`, or a role a template declares (such as `school_lead`); which roles
exist, and what each may do, is the templates' to say."""
ScopeKind = Literal["global", "network", "school", "cycle"]
TeamRole = Role
"""A place on a review team; the engine says which roles a team has."""
ActionStatus = Literal["not_started", "in_progress", "met", "partially_met", "not_met"]


EARLIEST_YEAR, LATEST_YEAR = 1900, 2999
"""The years a date in a request may fall in. msgspec reads any year from 1 to 9999, where
the deadlines counted from a date (a day later, a week before) fall off the calendar."""


def out_of_range(value: object, where: str = "") -> list[tuple[str, str]]:
    """Every date or time in a field's value (itself, or in a mapping or list) outside
    EARLIEST_YEAR to LATEST_YEAR, with where it is below the field (`.visit_date`)."""
    if isinstance(value, date):  # a datetime is a date too
        if EARLIEST_YEAR <= value.year <= LATEST_YEAR:
            return []
        return [(where, f"must be a date between {EARLIEST_YEAR} and {LATEST_YEAR}")]
    if isinstance(value, dict):
        return [e for k, v in value.items() for e in out_of_range(v, f"{where}.{k}")]
    if isinstance(value, list | tuple):
        return [e for i, v in enumerate(value) for e in out_of_range(v, f"{where}[{i}]")]
    return []


class _In(Struct, forbid_unknown_fields=True, kw_only=True):
    """Request bodies: unknown fields are refused, not ignored; dates fall in the years
    Peerloop can count deadlines in (`out_of_range`)."""

    def __post_init__(self) -> None:
        for name, encoded in zip(
            self.__struct_fields__, self.__struct_encode_fields__, strict=True
        ):
            for where, message in out_of_range(getattr(self, name), encoded):
                raise ValueError(f"{where}: {message}")


class _Out(Struct, kw_only=True):
    """Response bodies."""
