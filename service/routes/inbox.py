"""The caller's inbox: what others did that concerns them, and how they want to hear of it."""

from __future__ import annotations

from typing import Annotated

from litestar import get, post, put
from litestar.params import FromQuery, JSONBody, QueryParameter

from service.presenters import inbox_view
from service.routes.common import READ, WRITE, Caller, Ws, problems
from service.schemas.inbox import (
    EmailPreferenceSet,
    InboxView,
    NotificationsRead,
    ReadResult,
)
from service.usecases.messages import (
    ListNotifications,
    MarkNotificationsRead,
    SetEmailPreference,
)

__all__ = ["ROUTES"]

TAGS = ["inbox"]


@get(
    "/me/notifications",
    tags=TAGS,
    summary="Your notifications, newest first, with how many are unread",
    description="Someone else moved a cycle you have a part in, put you on a team, shared a "
    "report with you or gave you an action: each is here, and by email as you chose.",
    responses=problems(*READ),
    sync_to_thread=True,
)
def list_notifications(
    principal: Caller,
    ws: Ws,
    unread: FromQuery[bool] = False,
    limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
) -> InboxView:
    return inbox_view(ws.handle(ListNotifications(unread, limit), principal))


@post(
    "/me/notifications/read",
    tags=TAGS,
    summary="Mark notifications read (these ids, or all of them)",
    status_code=200,
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def mark_read(data: JSONBody[NotificationsRead], principal: Caller, ws: Ws) -> ReadResult:
    ids = None if data.ids is None else frozenset(data.ids)
    marked = ws.handle(MarkNotificationsRead(ids), principal)
    unread = ws.handle(ListNotifications(True, 1), principal).unread
    return ReadResult(marked=marked, unread=unread)


@put(
    "/me/notification-preference",
    tags=TAGS,
    summary="Choose how email comes: at once, a daily digest, or not at all",
    status_code=204,
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def set_preference(data: JSONBody[EmailPreferenceSet], principal: Caller, ws: Ws) -> None:
    ws.handle(SetEmailPreference(data.email), principal)


ROUTES = [list_notifications, mark_read, set_preference]
