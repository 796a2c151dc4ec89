"""The calendar feed link: a secret URL calendar apps subscribe to, since they send no token.

`POST`, `GET` and `DELETE /me/calendar-feed` (bearer auth) make, describe and revoke the
caller's link; `GET /calendar/{secret}.ics` (public) is the feed. An unknown or revoked secret
is answered exactly as an unknown address is, and the request log never shows the secret
(service.request_log redacts `/calendar/...` paths).
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, Response, delete, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from service.routes.common import READ, WRITE, Caller, Ws, problems
from service.schemas.calendar import FeedLinkCreated, FeedLinkView
from service.usecases.calendar_feed import (
    CreateFeedLink,
    FeedLinkStatus,
    RevokeFeedLink,
    subscribed_feed,
)

__all__ = ["FEED_PATH", "PUBLIC_ROUTES", "ROUTES"]

TAGS = ["calendar"]
FEED_PATH = "/calendar"
"""Where the feeds are served: `{public url}/calendar/<secret>.ics`."""

# What secrets.token_urlsafe(32) makes (43 characters); anything else is not looked up.
_FEED_FILE = re.compile(r"^([A-Za-z0-9_-]{32,128})\.ics$")


def _public_url(request: Request[Any, Any, Any]) -> str:
    """Where people reach Peerloop (Settings.base_url, put in the app state by create_app)."""
    return str(request.app.state["public_url"]).rstrip("/")


@post(
    "/me/calendar-feed",
    tags=TAGS,
    summary="Make your calendar feed link (replacing the one you had); the URL is shown once",
    description="Answers the full URL of your deadlines feed, to subscribe to in Outlook, "
    "Google Calendar or Apple Calendar, which send no token: the secret in it is the "
    "credential. Making a new link revokes the old one at once.",
    status_code=201,
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def create_feed_link(
    request: Request[Any, Any, Any], principal: Caller, ws: Ws
) -> Response[FeedLinkCreated]:
    made = ws.handle(CreateFeedLink(), principal)
    body = FeedLinkCreated(
        url=f"{_public_url(request)}{FEED_PATH}/{made.secret}.ics",
        created_at=made.link.created_at,
    )
    return Response(
        body,
        status_code=201,
        headers={"Cache-Control": "no-store", "Location": "/me/calendar-feed"},
    )


@get(
    "/me/calendar-feed",
    tags=TAGS,
    summary="Whether you have a calendar feed link, when it was made and last read",
    description="The URL is never shown again: make a new link if you lost it.",
    responses=problems(*READ),
    sync_to_thread=True,
)
def feed_link_status(principal: Caller, ws: Ws) -> FeedLinkView:
    link = ws.handle(FeedLinkStatus(), principal)
    if link is None:
        return FeedLinkView(exists=False)
    return FeedLinkView(exists=True, created_at=link.created_at, last_used_at=link.last_used_at)


@delete(
    "/me/calendar-feed",
    tags=TAGS,
    summary="Revoke your calendar feed link: its URL stops working at once",
    status_code=204,
    responses=problems(*WRITE),
    sync_to_thread=True,
)
def revoke_feed_link(principal: Caller, ws: Ws) -> None:
    ws.handle(RevokeFeedLink(), principal)


@get(
    f"{FEED_PATH}/{{feed:str}}",
    tags=TAGS,
    summary="Your deadlines as an iCalendar feed, by the secret link (no token)",
    description="`feed` is `<secret>.ics` from POST /me/calendar-feed. A revoked or unknown "
    "link is 404, as any unknown address.",
    responses=problems(400, 404),
    sync_to_thread=True,
    media_type="text/calendar",
)
def subscribed(feed: FromPath[str], ws: Ws) -> Response[bytes]:
    # Checked here, not by a pattern: a malformed link is 404 like any other, never a 422.
    found = _FEED_FILE.match(feed)
    data = subscribed_feed(ws, found.group(1)) if found else None
    if data is None:
        raise NotFoundException()  # the very answer of an unknown path
    return Response(
        data,
        media_type="text/calendar",  # Litestar adds `; charset=utf-8`, once
        headers={
            "Cache-Control": "private",
            "Content-Disposition": 'inline; filename="peerloop-deadlines.ics"',
        },
    )


ROUTES = [create_feed_link, feed_link_status, revoke_feed_link]
"""Behind the bearer guard."""
PUBLIC_ROUTES = [subscribed]
"""On the public router: the secret in the path is the credential."""
