"""Bodies of the calendar feed link: made (with its URL, shown once) and its status."""

from __future__ import annotations

from datetime import datetime

from service.schemas.fields import _Out

__all__ = ["FeedLinkCreated", "FeedLinkView"]


class FeedLinkCreated(_Out, kw_only=True):
    """The new link: subscribe to `url` in a calendar app. It is shown this once."""

    url: str
    created_at: datetime


class FeedLinkView(_Out, kw_only=True):
    """Whether you have a feed link; its URL is never shown again."""

    exists: bool
    created_at: datetime | None = None
    last_used_at: datetime | None = None
