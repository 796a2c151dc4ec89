"""Bodies of the inbox: a person's notifications and how they want email."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from msgspec import Meta

from service.schemas.fields import Id, _In, _Out

__all__ = ["EmailPreferenceSet", "InboxView", "NotificationView", "NotificationsRead", "ReadResult"]


class NotificationView(_Out, kw_only=True):
    id: str
    kind: str
    subject: str
    text: str
    cycle_id: str | None
    link: str
    created_at: datetime
    read: bool


class InboxView(_Out, kw_only=True):
    unread: int
    email: Literal["immediate", "daily", "off"]
    notifications: list[NotificationView]


class NotificationsRead(_In, kw_only=True):
    """Which notifications to mark read; leave `ids` out to mark them all."""

    ids: Annotated[list[Id], Meta(max_length=500)] | None = None


class ReadResult(_Out, kw_only=True):
    marked: int
    unread: int


class EmailPreferenceSet(_In, kw_only=True):
    """`immediate`: each notice by email at once; `daily`: one digest a day (escalations still
    at once); `off`: the Peerloop inbox only."""

    email: Literal["immediate", "daily", "off"]
