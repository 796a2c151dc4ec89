"""Notices: what a person is told when someone else acts, and how they want to hear it.

A notice goes to the person's in-app inbox always, and by email according to their
preference: at once, folded into a daily digest, or not at all. Who is told about a move is
declared by the template (`notify` on a transition, and on the stage it enters); the rules
here hold for every template: the person who acted is never told about their own act, and
nobody is told about a move into a stage where the cycle ends (finished work).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from engine.template import Template

__all__ = [
    "EMAIL_PREFERENCES",
    "EmailPreference",
    "Notice",
    "Notification",
    "recipients",
    "roles_told_of_move",
]

EmailPreference = Literal["immediate", "daily", "off"]
EMAIL_PREFERENCES: tuple[EmailPreference, ...] = ("immediate", "daily", "off")


@dataclass(frozen=True, slots=True)
class Notice:
    """Something to tell one person.

    Attributes:
        person_id: who is told.
        kind: what happened (`transition`, `team`, `grant`, `share`, `action`, `reminder`...).
        subject: one line, in words (the email subject and the inbox title).
        text: the message, in words.
        cycle_id: the cycle it is about, if any.
        link: where to go to act on it (a path such as `/cycles/cyc-1`).
        dedupe_key: unique per notice: delivering the same key twice delivers it once.
        urgent: sent at once even to someone on the daily digest (an escalation).
    """

    person_id: str
    kind: str
    subject: str
    text: str
    cycle_id: str | None
    link: str
    dedupe_key: str
    urgent: bool = False


@dataclass(frozen=True, slots=True)
class Notification:
    """A notice as delivered to a person's inbox."""

    id: str
    person_id: str
    kind: str
    subject: str
    text: str
    cycle_id: str | None
    link: str
    created_at: datetime
    read_at: datetime | None = None

    @property
    def unread(self) -> bool:
        return self.read_at is None


def roles_told_of_move(template: Template, transition_id: str, to_stage: str) -> tuple[str, ...]:
    """The roles a template tells when `transition_id` fires into `to_stage`, each once.

    Nobody is told of a move into a terminal stage: the cycle's work is finished.
    """
    if not template.has_stage(to_stage) or template.stage(to_stage).terminal:
        return ()
    roles: list[str] = []
    transition = template.transition(transition_id)
    if transition is not None:
        roles.extend(transition.notify)
    roles.extend(template.stage(to_stage).notify)
    return tuple(dict.fromkeys(roles))


def recipients(people: Iterable[str], actor_id: str) -> list[str]:
    """Who hears of an act: everyone given, each once, in order, except whoever acted."""
    return [p for p in dict.fromkeys(people) if p != actor_id]
