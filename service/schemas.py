"""Request and response bodies, as msgspec structs named by use (`CycleCreate`, `CycleView`...).

Request structs forbid unknown fields; `field_errors` checks a body field by field, so that a
bad request hears about every field at fault rather than the first one msgspec met.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

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
    "FieldError",
    "FindingCreate",
    "FindingView",
    "FireRequest",
    "FiredView",
    "FocusSet",
    "GrantCreate",
    "GrantView",
    "HealthView",
    "HistoryEntryView",
    "JudgementSet",
    "JudgementView",
    "LoginRequest",
    "MemberSet",
    "MemberView",
    "NetworkCreate",
    "NetworkView",
    "OptionView",
    "PasswordSet",
    "PersonCreate",
    "PersonView",
    "Problem",
    "ReasonView",
    "ReportView",
    "SchoolCreate",
    "SchoolView",
    "ShareCreate",
    "ShareView",
    "SignOffCreate",
    "SignOffView",
    "SupportActivityCreate",
    "SupportLinkCreate",
    "SupportLinkView",
    "TemplateSummary",
    "TemplateUploaded",
    "TemplateView",
    "TokenCreate",
    "TokenCreated",
    "TokenView",
    "field_errors",
]

# -- shared field types ---------------------------------------------------------------------------

NO_NUL = r"^[^\x00]*$"
"""Text holds no NUL character (PostgreSQL stores none, and no person types one)."""

Id = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$", max_length=64)]
"""A client-chosen identifier: letters, digits and `_.:@-`, at most 64 characters."""
Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=NO_NUL)]
Text = Annotated[str, Meta(min_length=1, max_length=20_000, pattern=NO_NUL)]
OptText = Annotated[str, Meta(max_length=20_000, pattern=NO_NUL)]
Email = Annotated[str, Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)]
Role = Literal[
    "admin",
    "network_lead",
    "partnership_lead",
    "review_lead",
    "reviewer",
    "improvement_champion",
    "school_lead",
    "school_staff",
]
ScopeKind = Literal["global", "network", "school", "cycle"]
TeamRole = Literal["review_lead", "reviewer", "improvement_champion"]
ActionStatus = Literal["not_started", "in_progress", "met", "partially_met", "not_met"]


class _In(Struct, forbid_unknown_fields=True, kw_only=True):
    """Request bodies: unknown fields are refused, not ignored."""


class _Out(Struct, kw_only=True):
    """Response bodies."""


# -- problems -------------------------------------------------------------------------------------


class FieldError(_Out, kw_only=True, omit_defaults=True):
    """One thing wrong with the request: where (`body.title`, `query.limit`,
    `transitions[3].to`), what, and the line of an uploaded document where known."""

    location: str
    message: str
    line: int | None = None
    code: str | None = None


class ReasonView(_Out, kw_only=True):
    """Why a move is blocked: `role_not_allowed` or the name of an unmet requirement."""

    code: str
    message: str


class Problem(_Out, kw_only=True, omit_defaults=True):
    """An RFC 9457 problem detail (`application/problem+json`)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None
    reasons: list[ReasonView] | None = None
    cycle_id: str | None = None
    current_version: int | None = None


# -- directory ------------------------------------------------------------------------------------


class NetworkCreate(_In, kw_only=True):
    id: Id | None = None
    name: Name
    chair_person_id: Id | None = None


class NetworkView(_Out, kw_only=True):
    id: str
    name: str
    chair_person_id: str | None


class SchoolCreate(_In, kw_only=True):
    id: Id | None = None
    urn: Annotated[str, Meta(pattern=r"^[0-9]{5,8}$")]
    name: Name
    phase: Annotated[str, Meta(min_length=1, max_length=64, pattern=NO_NUL)]
    network_id: Id | None = None


class SchoolView(_Out, kw_only=True):
    id: str
    urn: str
    name: str
    phase: str
    network_id: str | None


class PersonCreate(_In, kw_only=True):
    id: Id | None = None
    name: Name
    email: Email
    school_id: Id | None = None


class PersonView(_Out, kw_only=True):
    id: str
    name: str
    email: str
    school_id: str | None


class GrantCreate(_In, kw_only=True):
    person_id: Id
    role: Role
    scope_kind: ScopeKind
    scope_id: Id | None = None


class GrantView(_Out, kw_only=True):
    id: str
    person_id: str
    role: str
    scope_kind: str
    scope_id: str | None


class TokenCreate(_In, kw_only=True):
    person_id: Id
    name: Annotated[str, Meta(min_length=1, max_length=200, pattern=NO_NUL)] = "api"
    expires_in_days: Annotated[int, Meta(ge=1, le=366)] = 90


class TokenView(_Out, kw_only=True):
    id: str
    person_id: str
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenView, kw_only=True):
    """The token with its secret: shown this once, never stored."""

    secret: str


class LoginRequest(_In, kw_only=True):
    email: Annotated[str, Meta(min_length=3, max_length=320, pattern=NO_NUL)]
    password: Annotated[str, Meta(min_length=1, max_length=256, pattern=NO_NUL)]


class PasswordSet(_In, kw_only=True):
    password: Annotated[str, Meta(min_length=12, max_length=256, pattern=NO_NUL)]


# -- templates ------------------------------------------------------------------------------------


class TemplateSummary(_Out, kw_only=True):
    template_id: str
    version: int
    title: str
    status: str
    source_format: str
    created_at: datetime
    published_at: datetime | None


class TemplateUploaded(TemplateSummary, kw_only=True):
    """A stored template version with its validation report (valid, so no issues)."""

    valid: bool
    issues: list[FieldError]


class TemplateView(TemplateSummary, kw_only=True):
    """A template version as the engine reads it."""

    description: str
    roles: list[dict[str, str]]
    dates: list[dict[str, str]]
    finding_kinds: list[str]
    scale: list[dict[str, str]]
    sections: list[dict[str, Any]]
    stages: list[dict[str, Any]]
    transitions: list[dict[str, Any]]


# -- cycles ---------------------------------------------------------------------------------------


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


class JudgementView(_Out, kw_only=True):
    kind: str
    question_id: str
    narrative: str
    grade: str | None
    by: str
    at: datetime


class FindingView(_Out, kw_only=True):
    id: str
    kind: str
    text: str
    question_id: str | None
    by: str
    at: datetime


class ActionView(_Out, kw_only=True):
    id: str
    title: str
    owner: str
    due: date | None
    success_criteria: str
    status: str | None
    status_note: str


class SupportLinkView(_Out, kw_only=True):
    id: str
    supporting_school_id: str
    area: str
    activities: list[str]


class SignOffView(_Out, kw_only=True):
    stage: str
    role: str
    person_id: str
    at: datetime


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
    title: Annotated[str, Meta(min_length=1, max_length=2000, pattern=NO_NUL)]
    owner: Annotated[str, Meta(max_length=200, pattern=NO_NUL)] = ""
    due: date | None = None
    success_criteria: OptText = ""


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


# -- checking every field -------------------------------------------------------------------------

_AT = re.compile(r" - at `\$(.*)`$")
_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return _JSON_TYPES.get(type(value), type(value).__name__)


def field_errors(struct: type[Struct], data: object, prefix: str = "body") -> list[FieldError]:
    """Every field of `data` (decoded JSON) that does not fit `struct`, each with its location.

    Checks fields one by one (msgspec stops at the first error it meets); errors that only the
    whole struct can find are left to msgspec itself.
    """
    if not isinstance(data, dict):
        return [FieldError(location=prefix, message=f"expected a JSON object, got {_kind(data)}")]
    fields = msgspec.structs.fields(struct)
    known = {f.encode_name: f for f in fields}
    errors = [
        FieldError(location=f"{prefix}.{key}", message="unknown field", code="unknown_field")
        for key in data
        if key not in known
    ]
    for f in fields:
        where = f"{prefix}.{f.encode_name}"
        if f.encode_name not in data:
            if f.required:
                errors.append(FieldError(location=where, message="is required", code="missing"))
            continue
        try:
            msgspec.convert(data[f.encode_name], type=f.type, strict=False)
        except msgspec.ValidationError as exc:
            text = str(exc)
            m = _AT.search(text)
            if m:
                where += m.group(1)
                text = text[: m.start()]
            errors.append(FieldError(location=where, message=text, code="invalid"))
    return errors
