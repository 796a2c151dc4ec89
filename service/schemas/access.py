"""Bodies of the break-glass: an admin's reasoned, recorded opening of a cycle's report."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import Meta

from service.schemas.fields import NO_NUL, _In, _Out

__all__ = ["BreakGlassCreate", "BreakGlassView"]


class BreakGlassCreate(_In, kw_only=True):
    reason: Annotated[str, Meta(min_length=1, max_length=2000, pattern=NO_NUL)]
    """Why the admin must read the cycle's confidential content, in a few words: recorded in
    the cycle's history and sent to the host school's head."""


class BreakGlassView(_Out, kw_only=True):
    id: str
    cycle_id: str
    person_id: str
    reason: str
    opened_at: datetime
    until: datetime


class ContentReadView(_Out, kw_only=True):
    """A read of the cycle's confidential content from outside the host school."""

    person_id: str
    section: str
    """`report`, `self_review` or `evidence_files`."""
    grounds: str
    """`team`, `role` (granted for the cycle, its network, everywhere or a school taking
    part), `share` (the report was shared with them) or `break_glass`."""
    at: datetime
    issued_by: str | None = None
    """Who made the token it was read with, when someone else did."""
