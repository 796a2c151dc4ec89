"""Bodies of the calendar feed link (made, with its URL shown once, and its status) and of
the networks' school calendars."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from msgspec import Meta

from service.schemas.fields import NO_NUL, _In, _Out

__all__ = [
    "ClosureIn",
    "ClosureView",
    "FeedLinkCreated",
    "FeedLinkView",
    "NetworkCalendarSet",
    "NetworkCalendarView",
    "TermIn",
    "TermView",
]


class FeedLinkCreated(_Out, kw_only=True):
    """The new link: subscribe to `url` in a calendar app. It is shown this once."""

    url: str
    created_at: datetime


class FeedLinkView(_Out, kw_only=True):
    """Whether you have a feed link; its URL is never shown again."""

    exists: bool
    created_at: datetime | None = None
    last_used_at: datetime | None = None


TermName = Annotated[str, Meta(min_length=1, max_length=100, pattern=NO_NUL)]


class TermIn(_In, kw_only=True):
    """A term, its first and last day included (a half-term may split it, or be a closure)."""

    name: TermName
    first: date
    last: date


class ClosureIn(_In, kw_only=True):
    """Days off inside terms: one day, or from `first` to `last` (a half-term week)."""

    name: TermName
    first: date
    last: date | None = None


class NetworkCalendarSet(_In, kw_only=True):
    """A network's terms and closures, replacing what it had."""

    terms: Annotated[list[TermIn], Meta(min_length=1, max_length=60)]
    closures: Annotated[list[ClosureIn], Meta(max_length=400)] = []


class ClosureView(_Out, kw_only=True):
    name: str
    first: date
    last: date
    school_days_lost: int


class TermView(_Out, kw_only=True):
    name: str
    first: date
    last: date
    school_days: int
    closures: list[ClosureView]


class NetworkCalendarView(_Out, kw_only=True):
    """What a network's deadlines count in school days.

    `source` is `own` (its own terms), `default` (the partnership's) or `weekdays` (no terms
    are loaded: Monday to Friday). `network_id` is null for the partnership's default.
    """

    network_id: str | None
    network_name: str
    source: str
    timezone: str
    school_days: int
    terms: list[TermView]
