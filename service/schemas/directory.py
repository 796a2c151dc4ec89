"""Bodies of the directory (networks, schools, people, grants), tokens and templates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from msgspec import Meta

from service.schemas.fields import NO_NUL, Email, Id, Name, Role, ScopeKind, _In, _Out
from service.schemas.problems import FieldError

__all__ = [
    "DryRunEvent",
    "DryRunRequest",
    "DryRunStage",
    "DryRunView",
    "GrantCreate",
    "GrantView",
    "LoginRequest",
    "NetworkCreate",
    "NetworkView",
    "PasswordSet",
    "PersonCreate",
    "PersonView",
    "SchoolCreate",
    "SchoolView",
    "TemplateSummary",
    "TemplateUploaded",
    "TemplateView",
    "TokenCreate",
    "TokenCreated",
    "TokenView",
]


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
    granted_by: str | None = None
    """Who gave the role (null: given before Peerloop kept it)."""
    granted_at: datetime | None = None


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
    issued_by: str | None = None
    """Who made it: the person (signing in), an admin for them, or `system:operator`; null
    for tokens made before Peerloop kept it."""


class TokenCreated(TokenView, kw_only=True):
    """The token with its secret: shown this once, never stored."""

    secret: str


class LoginRequest(_In, kw_only=True):
    email: Annotated[str, Meta(min_length=3, max_length=320, pattern=NO_NUL)]
    password: Annotated[str, Meta(min_length=1, max_length=256, pattern=NO_NUL)]


class ErasureCreate(_In, kw_only=True):
    asked_by: Annotated[str, Meta(min_length=1, max_length=500, pattern=NO_NUL)]
    """Who asked for the erasure, in words (the person, their school, the ICO...)."""
    reason: Annotated[str, Meta(min_length=1, max_length=2000, pattern=NO_NUL)]
    """The request, in words: its date, its reference."""


class ErasureView(_Out, kw_only=True):
    person_id: str
    asked_by: str
    reason: str
    erased_by: str
    at: datetime
    removed: dict[str, int]
    """How much went, by where it was kept."""


class PasswordSet(_In, kw_only=True):
    password: Annotated[str, Meta(min_length=12, max_length=256, pattern=NO_NUL)]


class TemplateSummary(_Out, kw_only=True):
    template_id: str
    version: int
    title: str
    status: str
    source_format: str
    created_at: datetime
    published_at: datetime | None
    retired_at: datetime | None = None
    """Set on a published version that starts no new cycles (those on it go on)."""


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
    shared_with_participants: list[str]
    """In a cycle of several schools, the parts of each school every school reads whole."""
    scale: list[dict[str, str]]
    sections: list[dict[str, Any]]
    stages: list[dict[str, Any]]
    transitions: list[dict[str, Any]]


class DryRunRequest(_In, kw_only=True):
    """A dry run: from `start`, on `network_id`'s school calendar (the partnership's default
    when left out), with the cycle dates the template declares that are known (a deadline
    counted from one not given has no date)."""

    start: date
    network_id: Id | None = None
    dates: dict[Id, date] = {}


class DryRunEvent(_Out, kw_only=True):
    at: datetime
    kind: str
    words: str
    roles: list[str]
    transition: str | None = None


class DryRunStage(_Out, kw_only=True):
    stage: str
    title: str
    entered_at: datetime | None
    due_at: datetime | None
    events: list[DryRunEvent]
    leaves_by: str | None = None
    waits_for: str | None = None
    """The cycle date the stage's deadline is counted from, when it was not given."""


class DryRunView(_Out, kw_only=True):
    template_id: str
    version: int
    network_id: str | None
    calendar: str
    """Whose school days were counted: "own" (the network's terms), "default" (the
    partnership's) or "weekdays" (Monday to Friday)."""
    start: datetime
    stages: list[DryRunStage]
    stopped_at: str | None = None
    """The stage after which the dates stop: it has no deadline to leave by."""


class MigrationPreviewRequest(_In, kw_only=True):
    """The cycles to move (none: every running cycle on an older version of the template),
    and for a stage the new version no longer has, the stage a cycle goes to instead."""

    cycle_ids: Annotated[list[Id], Meta(max_length=500)] = []
    stages: dict[Id, Id] = {}


class MigrationRequest(_In, kw_only=True):
    """A move of cycles to the version, as previewed; `reason` goes into each one's history."""

    reason: Annotated[str, Meta(min_length=1, max_length=2000, pattern=NO_NUL)]
    cycle_ids: Annotated[list[Id], Meta(max_length=500)] = []
    stages: dict[Id, Id] = {}


class RequirementChangeView(_Out, kw_only=True):
    """A requirement of a move out of the cycle's stage that the version adds (with whether it
    is met now, and why not) or drops."""

    transition: str
    transition_title: str
    requirement: str
    change: str
    met: bool
    reasons: list[str]


class DeadlineChangeView(_Out, kw_only=True):
    """One of the current stage's deadlines: `added`, `moved`, `dropped` or `kept`."""

    key: str
    kind: str
    change: str
    before: datetime | None
    after: datetime | None
    roles: list[str]
    transition: str | None


class MigrationPlanView(_Out, kw_only=True):
    """What moving one cycle does; `blockers` say why it cannot move as it is."""

    cycle_id: str
    school: str
    """The cycle's host school, by name."""
    from_version: int
    to_version: int
    from_stage: str
    to_stage: str
    cycle_version: int
    ok: bool
    blockers: list[str]
    requirements: list[RequirementChangeView]
    deadlines: list[DeadlineChangeView]
    words: list[str]
    """The plan in sentences, as the admin pages say it."""


class MigrationView(_Out, kw_only=True):
    template_id: str
    version: int
    done: bool
    """Whether the cycles were moved (a preview: false)."""
    cycles: list[MigrationPlanView]


class SeriesCreate(_In, kw_only=True):
    """Cycles of `template_id` started for `host_school_id` on each of `days` (school days,
    not past), every year again when `yearly`, with `participants` taking part in each."""

    template_id: Id
    host_school_id: Id
    days: Annotated[list[date], Meta(min_length=1, max_length=60)]
    yearly: bool = False
    participants: Annotated[list[Id], Meta(max_length=30)] = []
    title: Annotated[str, Meta(max_length=300, pattern=NO_NUL)] = ""


class SeriesStartView(_Out, kw_only=True):
    day: date
    cycle_id: str


class SeriesSchoolView(_Out, kw_only=True):
    school_id: str
    name: str


class SeriesView(_Out, kw_only=True):
    """A series of recurring cycles: its days, the cycles it started, its next days."""

    id: str
    title: str
    template_id: str
    template_title: str
    host_school_id: str
    school: str
    network_id: str | None
    days: list[date]
    yearly: bool
    participants: list[SeriesSchoolView]
    created_by: str
    created_at: datetime
    cancelled_at: datetime | None
    cancelled_by: str | None
    started: list[SeriesStartView]
    next_days: list[date]
    """The next days a cycle will start on (none once cancelled)."""
