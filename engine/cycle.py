"""The cycle aggregate: one run of a template for one host school, and what it has collected."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

__all__ = [
    "ACTION_STATUSES",
    "DONE_STATUSES",
    "Action",
    "Actor",
    "Cycle",
    "Evidence",
    "EvidenceFile",
    "Finding",
    "Judgement",
    "Member",
    "Participant",
    "SignOff",
    "SupportActivity",
    "SupportLink",
    "of_school",
    "school_of",
]

ACTION_STATUSES = ("not_started", "in_progress", "met", "partially_met", "not_met")
"""Follow-up statuses of an action, as the SPP impact review records them."""

DONE_STATUSES = ("met", "partially_met", "not_met")
"""The statuses that close an action: the impact review's verdicts. Nobody is reminded about a
done action, it is never due soon nor overdue, and a final follow-up needs one of these."""


def of_school(key: str, school_id: str | None) -> str:
    """A record's key in history, with the school taking part it is of (`q1@sch-a`)."""
    return key if school_id is None else f"{key}@{school_id}"


def school_of(key: str) -> tuple[str, str | None]:
    """The key and the school of a record's key in history (`of_school` undone)."""
    base, at, school = key.partition("@")
    return (base, school) if at else (key, None)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts, with the roles they hold for the cycle in question (resolved by the service).

    Attributes:
        id: the person's id, or a system actor such as `system:scheduler`.
        roles: the roles held for this cycle.
        school_id: the person's school, when they belong to one.
    """

    id: str
    roles: frozenset[str]
    school_id: str | None = None


@dataclass(frozen=True, slots=True)
class Member:
    """A person assigned to a cycle: on the review team, or as its improvement champion."""

    person_id: str
    role: str
    school_id: str | None = None
    network_id: str | None = None


@dataclass(frozen=True, slots=True)
class Participant:
    """A school taking part in a cycle beside its host (lead) school: a cluster moderation's
    schools, a joint review's. Its name is kept as it was when it joined, for the words of
    requirements and history."""

    school_id: str
    name: str
    network_id: str | None
    added_by: str
    added_at: datetime


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    """A stored file: named by its content's sha256, with what the uploader called it."""

    sha256: str
    size: int
    media_type: str
    original_name: str


@dataclass(frozen=True, slots=True)
class Evidence:
    id: str
    question_id: str
    title: str
    added_by: str
    added_at: datetime
    file: EvidenceFile | None = None
    school_id: str | None = None
    """The school it is of, in a cycle of several schools (the host or a participant)."""


@dataclass(frozen=True, slots=True)
class Judgement:
    """A self or peer judgement on a framework question; `grade` only when the scale has points."""

    kind: Literal["self", "peer"]
    question_id: str
    narrative: str
    grade: str | None
    by: str
    at: datetime
    school_id: str | None = None
    """The school taking part it is of (the outcome agreed for its pupils' work, say); None:
    of the cycle as a whole."""

    @property
    def key(self) -> tuple[str, str, str | None]:
        return (self.kind, self.question_id, self.school_id)


@dataclass(frozen=True, slots=True)
class Finding:
    id: str
    kind: str
    text: str
    question_id: str | None
    by: str
    at: datetime
    school_id: str | None = None
    """The school taking part it is about, in a cycle of several schools (a moderation's
    agreed outcomes for that school's pupils); None: about the cycle as a whole."""


@dataclass(frozen=True, slots=True)
class Action:
    """An agreed action. `status` is None until the follow-up records one.

    Attributes:
        owner: a person's id or email, or a post in words ("Deputy head").
        finding_id: the finding of this cycle the action answers, when it answers one.
    """

    id: str
    title: str
    owner: str
    due: date | None
    success_criteria: str
    status: str | None = None
    status_note: str = ""
    finding_id: str | None = None

    @property
    def is_done(self) -> bool:
        """Whether the follow-up has given its verdict (met, partially met or not met)."""
        return self.status in DONE_STATUSES


@dataclass(frozen=True, slots=True)
class SupportActivity:
    """One thing done under a support link, with when it was logged and by whom (both None
    for an activity logged before Peerloop kept them)."""

    text: str
    at: datetime | None = None
    by: str | None = None


@dataclass(frozen=True, slots=True)
class SupportLink:
    """School-to-school support: which partner school helps with what, and what happened.

    Attributes:
        activities: what was done, in words, oldest first.
        logged: for each of `activities`, in the same order, when and by whom it was logged;
            shorter than `activities` (or None in a place) where that was not kept. Left out
            of equality: a link is the same link with or without its stamps, as links made
            before they were kept (in stored data and in code) have none.
    """

    id: str
    supporting_school_id: str
    area: str
    activities: tuple[str, ...] = ()
    logged: tuple[tuple[datetime, str] | None, ...] = field(default=(), compare=False)

    @property
    def log(self) -> tuple[SupportActivity, ...]:
        """The activities with their stamps, oldest first."""
        stamps = (*self.logged, *(None,) * (len(self.activities) - len(self.logged)))
        return tuple(
            SupportActivity(text, *stamp) if stamp else SupportActivity(text)
            for text, stamp in zip(self.activities, stamps, strict=False)
        )


@dataclass(frozen=True, slots=True)
class SignOff:
    stage: str
    role: str
    person_id: str
    at: datetime
    school_id: str | None = None
    """The school taking part whose part it signs off; None: the cycle as a whole."""

    @property
    def key(self) -> tuple[str, str, str | None]:
        return (self.stage, self.role, self.school_id)


@dataclass(slots=True)
class Cycle:
    """A cycle's state. `version` goes up by one with every change, for optimistic concurrency.

    The engine changes a cycle only through `engine.machine` and `engine.records`, which keep
    `version` honest; adapters rebuild it from storage.
    """

    id: str
    template_id: str
    template_version: int
    host_school_id: str
    network_id: str | None
    stage: str
    stage_entered_at: datetime
    started_at: datetime
    version: int = 1
    dates: dict[str, datetime] = field(default_factory=dict)
    focus: tuple[str, ...] = ()
    team: dict[str, Member] = field(default_factory=dict)
    champion: Member | None = None
    evidence: dict[str, Evidence] = field(default_factory=dict)
    judgements: dict[tuple[str, str, str | None], Judgement] = field(default_factory=dict)
    """Judgements by (kind, question, school): the school is None for the cycle as a whole."""
    findings: dict[str, Finding] = field(default_factory=dict)
    actions: dict[str, Action] = field(default_factory=dict)
    support: dict[str, SupportLink] = field(default_factory=dict)
    signoffs: dict[tuple[str, str, str | None], SignOff] = field(default_factory=dict)
    """Sign-offs by (stage, role, school): signing off one stage says nothing about the next;
    the school is None for a sign-off of the cycle as a whole."""
    participants: dict[str, Participant] = field(default_factory=dict)
    """The schools taking part beside the host, by school id, in the order they joined."""

    def takes_part(self, school_id: str | None) -> bool:
        """Whether the school is the host or a participant."""
        return school_id is not None and (
            school_id == self.host_school_id or school_id in self.participants
        )

    def evidence_count(self, question_id: str) -> int:
        return sum(1 for e in self.evidence.values() if e.question_id == question_id)
