"""Use cases on the caller's own inbox: read it, mark notices read, choose how email comes."""

from __future__ import annotations

from dataclasses import dataclass

from engine.access import Principal, watches_networks
from engine.notices import EmailPreference, Notification
from service.usecases.base import UseCases, handles
from service.usecases.messages import (
    ListNotifications,
    MarkNotificationsRead,
    Navigation,
    SetEmailPreference,
)

__all__ = ["Inbox", "Signposts"]


@dataclass(frozen=True, slots=True)
class Inbox:
    notifications: list[Notification]
    unread: int
    email: EmailPreference


@handles(ListNotifications)
def list_notifications(uc: UseCases, q: ListNotifications, caller: Principal) -> Inbox:
    with uc.uow(readonly=True) as uow:
        found = uow.inbox.for_person(caller.id, unread_only=q.unread_only, limit=q.limit)
        return Inbox(found, uow.inbox.unread_count(caller.id), uow.inbox.preference(caller.id))


@dataclass(frozen=True, slots=True)
class Signposts:
    """Where the caller can go from any page: unread notifications, the network dashboard
    (for whoever follows networks) and the admin's pages."""

    unread: int
    networks: bool
    admin: bool


@handles(Navigation)
def navigation(uc: UseCases, q: Navigation, caller: Principal) -> Signposts:
    with uc.uow(readonly=True) as uow:
        unread = uow.inbox.unread_count(caller.id)
    return Signposts(unread, watches_networks(caller), caller.is_admin)


@handles(MarkNotificationsRead)
def mark_read(uc: UseCases, cmd: MarkNotificationsRead, caller: Principal) -> int:
    with uc.uow() as uow:
        changed = uow.inbox.mark_read(caller.id, cmd.ids, uc.now)
        uow.commit()
    return changed


@handles(SetEmailPreference)
def set_email_preference(uc: UseCases, cmd: SetEmailPreference, caller: Principal) -> None:
    with uc.uow() as uow:
        uow.inbox.set_preference(caller.id, cmd.email, uc.now)
        uow.commit()
