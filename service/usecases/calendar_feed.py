"""Use cases on a person's secret calendar-feed link, which calendar apps subscribe to.

Outlook and Google Calendar cannot send a bearer token, so the feed's URL carries a secret of
its own: 256 random bits, shown once when the link is made and stored only as its sha256. A
person has one link at most; making a new one replaces (so revokes) the old.

The feed itself (`subscribed_feed`) has no caller: the secret is the credential, as a bearer
token is for `UseCases.authenticate`. It is a plain function rather than a message handled
as a made-up system caller, so that no use case ever holds a principal nobody authenticated
(a later edit could not mistake one for a person, or for an admin).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from engine.access import Principal
from engine.ports import FeedLink
from service.auth import hash_secret
from service.usecases.base import UseCases, handles

__all__ = [
    "CreateFeedLink",
    "FeedLinkStatus",
    "NewFeedLink",
    "RevokeFeedLink",
    "subscribed_feed",
]

TOUCH_EVERY = timedelta(minutes=10)
"""How stale `last_used_at` may get: calendar apps poll, and a read need not write each time."""


@dataclass(frozen=True, slots=True)
class CreateFeedLink:
    """Make the caller a new feed link, replacing the one they had."""


@dataclass(frozen=True, slots=True)
class FeedLinkStatus:
    """Whether the caller has a feed link, and when it was made and last read."""


@dataclass(frozen=True, slots=True)
class RevokeFeedLink:
    """Revoke the caller's feed link: its URL stops working at once."""


@dataclass(frozen=True, slots=True)
class NewFeedLink:
    """A link just made, with its secret: the only time the secret is known."""

    link: FeedLink
    secret: str

    def __repr__(self) -> str:  # never show the secret in a log or a traceback
        return f"NewFeedLink(link={self.link!r}, secret='***')"


@handles(CreateFeedLink)
def create_feed_link(uc: UseCases, cmd: CreateFeedLink, caller: Principal) -> NewFeedLink:
    secret = secrets.token_urlsafe(32)
    link = FeedLink(caller.id, hash_secret(secret), uc.now)
    with uc.uow() as uow:
        uow.feed_links.put(link)
        uow.commit()
    return NewFeedLink(link, secret)


@handles(FeedLinkStatus)
def feed_link_status(uc: UseCases, q: FeedLinkStatus, caller: Principal) -> FeedLink | None:
    with uc.uow(readonly=True) as uow:
        return uow.feed_links.for_person(caller.id)


@handles(RevokeFeedLink)
def revoke_feed_link(uc: UseCases, cmd: RevokeFeedLink, caller: Principal) -> bool:
    with uc.uow() as uow:
        removed = uow.feed_links.remove(caller.id)
        uow.commit()
    return removed


def subscribed_feed(uc: UseCases, secret: str) -> bytes | None:
    """The deadlines feed the secret opens, or None for an unknown or revoked secret (a door
    answers that exactly as it answers an unknown address)."""
    digest = hash_secret(secret)
    now = uc.now
    with uc.uow(readonly=True) as uow:
        link = uow.feed_links.by_hash(digest)
        if link is None:
            return None
        feed = uc.feed_of(uow, link.person_id)
    if link.last_used_at is None or now - link.last_used_at >= TOUCH_EVERY:
        with uc.uow() as uow:
            uow.feed_links.touch(digest, now)
            uow.commit()
    return feed
