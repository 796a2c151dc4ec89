"""Bodies of cycles, moves and what cycles collect."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from msgspec import Meta

from service.schemas.fields import (
    NO_NUL,
    ActionStatus,
    Id,
    OptText,
    Role,
    TeamRole,
    Text,
    _In,
    _Out,
)
from service.schemas.problems import ReasonView

__all__ = [
    "ActionCreate",
    "ActionStatusSet",
    "ActionView",
    "CycleCreate",
    "CycleSummaryView",
    "CycleView",
    "DateSet",
    "DeadlineView",
    "EvidenceErase",
    "EvidenceView",
    "FindingCreate",
    "FindingView",
    "FireRequest",
    "FiredView",
    "FocusSet",
    "HealthView",
    "HistoryEntryView",
    "JudgementSet",
    "JudgementView",
    "MemberSet",
    "MemberView",
    "OptionView",
    "ReportView",
    "ShareCreate",
    "ShareView",
    "SignOffCreate",
    "SignOffView",
    "SupportActivityCreate",
    "SupportActivityView",
    "SupportLinkCreate",
    "SupportLinkView",
]


class CycleCreate(_In, kw_only=True):
    template_id: Id
    template_version: Annotated[int, Meta(ge=1)] | None = None
    host_school_id: Id
    dates: dict[Id, datetime] | None = None


class CycleSummaryView(_Out, kw_only=True):
    id: str
    template_id: str
    template_version: int
    host_school_id: str
    network_id: str | None
    stage: str
    version: int
    stage_entered_at: datetime
    started_at: datetime
    next_due_at: datetime | None
    overdue: bool


class MemberView(_Out, kw_only=True):
    person_id: str
    role: str
    school_id: str | None
    network_id: str | None


class EvidenceView(_Out, kw_only=True):
    id: str
    question_id: str
    title: str
    added_by: str
    added_at: datetime
    file_name: str | None
    media_type: str | None
    size: int | None
    download: str | None
    school_id: str | None = None
    """The school taking part it is of, in a cycle of several schools."""


class ParticipantView(_Out, kw_only=True):
    """A school taking part in a cycle beside its host (lead) school."""

    school_id: str
    name: str
    network_id: str | None
    added_by: str
    added_at: datetime


class ParticipantCreate(_In, kw_only=True):
    school_id: Id


class JudgementView(_Out, kw_only=True):
    kind: str
    question_id: str
    narrative: str
    grade: str | None
    by: str
    at: datetime
    school_id: str | None = None


class FindingView(_Out, kw_only=True):
    id: str
    kind: str
    text: str
    question_id: str | None
    by: str
    at: datetime
    school_id: str | None = None
    """In a cycle of several schools, the school taking part it is about (None: the cycle)."""


class ActionView(_Out, kw_only=True):
    """An agreed action; `finding_id`: the finding it answers, when it answers one."""

    id: str
    title: str
    owner: str
    due: date | None
    success_criteria: str
    status: str | None
    status_note: str
    finding_id: str | None


class SupportActivityView(_Out, kw_only=True):
    """A support activity; `at` and `by` are null for one logged before they were kept."""

    text: str
    at: datetime | None
    by: str | None


class SupportLinkView(_Out, kw_only=True):
    """A support link; `activities` are the texts of `activity_log`, oldest first."""

    id: str
    supporting_school_id: str
    area: str
    activities: list[str]
    activity_log: list[SupportActivityView]


class SignOffView(_Out, kw_only=True):
    stage: str
    role: str
    person_id: str
    at: datetime
    school_id: str | None = None


class CycleView(_Out, kw_only=True):
    """A cycle as the caller may see it: a section they may not see is null, not empty.

    `sections` lists what the caller may see; `roles` what they hold on this cycle.
    """

    id: str
    template_id: str
    template_version: int
    host_school_id: str
    network_id: str | None
    stage: str
    stage_title: str
    terminal: bool
    version: int
    stage_entered_at: datetime
    started_at: datetime
    dates: dict[str, datetime]
    team: list[MemberView]
    champion: MemberView | None
    participants: list[ParticipantView]
    """The schools taking part beside the host (none for a cycle of one school)."""
    roles: list[str]
    sections: list[str]
    collectable: dict[str, bool]
    focus: list[str] | None
    evidence: list[EvidenceView] | None
    self_judgements: list[JudgementView] | None
    peer_judgements: list[JudgementView] | None
    findings: list[FindingView] | None
    actions: list[ActionView] | None
    support: list[SupportLinkView] | None
    signoffs: list[SignOffView] | None


class ReportView(_Out, kw_only=True):
    """The review report: the host's focus, the peer judgements and the findings."""

    cycle_id: str
    host_school_id: str
    stage: str
    focus: list[str]
    peer_judgements: list[JudgementView]
    findings: list[FindingView]


class OptionView(_Out, kw_only=True):
    transition: str
    title: str
    to_stage: str
    allowed: bool
    forceable: bool
    reasons: list[ReasonView]


class FireRequest(_In, kw_only=True):
    """Optional body of a move: a payload recorded (by digest) in history, or an admin's
    reason for forcing the move past its rules."""

    payload: dict[str, Any] | None = None
    force_reason: Annotated[str, Meta(min_length=1, max_length=2000, pattern=NO_NUL)] | None = None


class FiredView(_Out, kw_only=True):
    cycle_id: str
    transition: str
    from_stage: str
    to_stage: str
    version: int
    at: datetime
    forced: bool
    replayed: bool


class HistoryEntryView(_Out, kw_only=True):
    seq: int
    at: datetime
    kind: str
    actor: str
    role: str
    transition: str | None
    from_stage: str | None
    to_stage: str | None
    forced: bool
    reason: str
    detail: dict[str, Any]
    hash: str


class DeadlineView(_Out, kw_only=True):
    id: int
    stage: str
    key: str
    kind: str
    due_at: datetime
    stage_due_at: datetime
    roles: list[str]
    transition: str | None
    action_id: str | None
    status: str
    fired_at: datetime | None


class JudgementSet(_In, kw_only=True):
    narrative: Text
    grade: Annotated[str, Meta(min_length=1, max_length=64, pattern=NO_NUL)] | None = None


class FindingCreate(_In, kw_only=True):
    kind: Annotated[str, Meta(min_length=1, max_length=64, pattern=NO_NUL)]
    text: Text
    question_id: Annotated[str, Meta(min_length=1, max_length=64, pattern=NO_NUL)] | None = None
    school_id: Id | None = None
    """In a cycle of several schools: the school taking part the finding is about, which
    reads it (by default none: it is about the cycle and read by every school)."""


class FocusSet(_In, kw_only=True):
    lines: Annotated[
        list[Annotated[str, Meta(min_length=1, max_length=2000, pattern=NO_NUL)]],
        Meta(max_length=20),
    ]


class DateSet(_In, kw_only=True):
    at: datetime


class MemberSet(_In, kw_only=True):
    role: TeamRole


class ActionCreate(_In, kw_only=True):
    """An action; `finding_id` names the finding of the cycle it answers (none when left out)."""

    title: Annotated[str, Meta(min_length=1, max_length=2000, pattern=NO_NUL)]
    owner: Annotated[str, Meta(max_length=200, pattern=NO_NUL)] = ""
    due: date | None = None
    success_criteria: OptText = ""
    finding_id: Id | None = None


class ActionStatusSet(_In, kw_only=True):
    status: ActionStatus
    note: OptText = ""


class SupportLinkCreate(_In, kw_only=True):
    supporting_school_id: Id
    area: Annotated[str, Meta(min_length=1, max_length=2000, pattern=NO_NUL)]


class SupportActivityCreate(_In, kw_only=True):
    text: Annotated[str, Meta(min_length=1, max_length=5000, pattern=NO_NUL)]


class SignOffCreate(_In, kw_only=True):
    role: Role
    school_id: Id | None = None
    """In a cycle of several schools: the school whose part is signed off. By default the
    signer's own when it takes part (the lead school's too); the lead school may name any."""


class ShareCreate(_In, kw_only=True):
    grantee_kind: Literal["person", "school", "network"]
    grantee_id: Id


class ShareView(_Out, kw_only=True):
    id: str
    cycle_id: str
    grantee_kind: str
    grantee_id: str
    shared_by: str
    shared_at: datetime
    revoked_at: datetime | None


class EvidenceErase(_In, kw_only=True):
    reason: Annotated[str, Meta(min_length=1, max_length=2000, pattern=NO_NUL)]


class HealthView(_Out, kw_only=True):
    status: str
    database: str
    scheduler: str
