"""What the doors ask of Peerloop: commands (imperative: change something) and queries (read).

Every door (the JSON API, the web pages, the CLI, the deadline sweep) builds one of these and
hands it with the caller to `UseCases.handle`. They are frozen: a use case never changes what
it was asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from engine.notices import EmailPreference
from engine.ports import CycleFilter

__all__ = [
    "AddEvidence",
    "AddFinding",
    "AddGrant",
    "AddNetwork",
    "AddParticipant",
    "AddPerson",
    "AddSchool",
    "AddSupportLink",
    "AdminPage",
    "AssignMember",
    "AvailableMoves",
    "BoroughView",
    "BreakTheGlass",
    "CancelSeries",
    "CreateSeries",
    "CreateToken",
    "CycleDeadlines",
    "CycleDocument",
    "CycleHistory",
    "CyclePage",
    "DeleteTemplateDraft",
    "DryRunTemplate",
    "EraseEvidence",
    "EvidenceFileQuery",
    "FireTransition",
    "GetNetwork",
    "GetPerson",
    "GetSchool",
    "GetTemplate",
    "ImportSchools",
    "JudgementHeatmap",
    "ListCycles",
    "ListNetworks",
    "ListNotifications",
    "ListPeople",
    "ListSchools",
    "ListSeries",
    "ListTemplates",
    "ListTokens",
    "LogSupportActivity",
    "MarkNotificationsRead",
    "MigrateCycles",
    "MyDeadlineFeed",
    "MyTasks",
    "NetworkCycles",
    "NetworkDashboard",
    "NetworkSupportMap",
    "PeoplePage",
    "PersonGrants",
    "PlanPage",
    "PreviewMigration",
    "PublishTemplate",
    "ReadCycle",
    "RecordJudgement",
    "RemoveGrant",
    "RemoveMember",
    "RemoveParticipant",
    "ReportPage",
    "RetireTemplate",
    "RevokeShare",
    "RevokeToken",
    "SaveAction",
    "SchoolsPage",
    "SelfReviewPage",
    "SetActionStatus",
    "SetCycleDate",
    "SetEmailPreference",
    "SetFocus",
    "SetPassword",
    "ShareReport",
    "SignOff",
    "StartCycle",
    "StartDueSeries",
    "StartOptions",
    "SupportSuggestions",
    "TeamPage",
    "TemplateLibraryPage",
    "TemplateVersionsPage",
    "UploadTemplate",
    "ValidateTemplate",
]

# -- cycles ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StartCycle:
    template_id: str
    host_school_id: str
    template_version: int | None = None
    dates: Mapping[str, datetime] | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class ListCycles:
    where: CycleFilter


@dataclass(frozen=True, slots=True)
class ReadCycle:
    """A cycle as the caller may see it; `section` is the part they came for (refused with
    AccessDenied when their roles do not open it)."""

    cycle_id: str
    section: str = "overview"
    presents: tuple[str, ...] = ()
    """What of the cycle the door presents beside `section` (of what the caller may read):
    its confidential parts are recorded as read (`UseCases.note_reads`)."""


@dataclass(frozen=True, slots=True)
class CycleHistory:
    cycle_id: str


@dataclass(frozen=True, slots=True)
class CycleDeadlines:
    cycle_id: str


@dataclass(frozen=True, slots=True)
class AvailableMoves:
    cycle_id: str


@dataclass(frozen=True, slots=True)
class FireTransition:
    cycle_id: str
    transition: str
    expected_version: int | None
    payload: Mapping[str, object] = field(default_factory=dict)
    force_reason: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class SetFocus:
    cycle_id: str
    lines: tuple[str, ...]
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class SetCycleDate:
    cycle_id: str
    date_id: str
    at: datetime
    expected_version: int | None = None


# -- what stages collect -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AddEvidence:
    """`chunks` is the file's content, read once, or None for evidence without a file."""

    cycle_id: str
    question_id: str
    title: str
    chunks: Iterable[bytes] | None = None
    media_type: str | None = None
    file_name: str | None = None
    expected_version: int | None = None
    school_id: str | None = None
    """The school taking part it is of (in a cycle of several schools; by default the
    caller's own when it takes part)."""


@dataclass(frozen=True, slots=True)
class AddParticipant:
    """Add a school taking part in a cycle beside its host (the roles its stage allows)."""

    cycle_id: str
    school_id: str
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class RemoveParticipant:
    cycle_id: str
    school_id: str
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class EvidenceFileQuery:
    cycle_id: str
    evidence_id: str


@dataclass(frozen=True, slots=True)
class EraseEvidence:
    cycle_id: str
    evidence_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class RecordJudgement:
    cycle_id: str
    kind: str
    question_id: str
    narrative: str
    grade: str | None = None
    expected_version: int | None = None
    school_id: str | None = None
    """In a cycle of several schools: the school taking part it is of (None: the cycle)."""


@dataclass(frozen=True, slots=True)
class AddFinding:
    cycle_id: str
    kind: str
    text: str
    question_id: str | None = None
    expected_version: int | None = None
    school_id: str | None = None


@dataclass(frozen=True, slots=True)
class SaveAction:
    """A new action (no `action_id`) or a change to one (its follow-up status is kept).

    `finding_id` names the finding of the cycle the action answers. `owner` is a person's id
    or email, or a post in words; with `owner_is_person` (the owner was chosen from a list of
    people) it must name a person, unless it is the action's owner already.
    """

    cycle_id: str
    title: str
    owner: str
    due: date | None
    success_criteria: str
    action_id: str | None = None
    expected_version: int | None = None
    finding_id: str | None = None
    owner_is_person: bool = False


@dataclass(frozen=True, slots=True)
class SetActionStatus:
    cycle_id: str
    action_id: str
    status: str
    note: str = ""
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class AddSupportLink:
    cycle_id: str
    supporting_school_id: str
    area: str
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class LogSupportActivity:
    cycle_id: str
    link_id: str
    text: str
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class SignOff:
    cycle_id: str
    role: str
    expected_version: int | None = None
    school_id: str | None = None
    """In a cycle of several schools: the school whose part is signed off (by default the
    signer's own, when it takes part)."""


@dataclass(frozen=True, slots=True)
class AssignMember:
    cycle_id: str
    person_id: str
    role: str
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class RemoveMember:
    cycle_id: str
    person_id: str
    expected_version: int | None = None


# -- sharing the report ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShareReport:
    cycle_id: str
    grantee_kind: Literal["person", "school", "network"]
    grantee_id: str


@dataclass(frozen=True, slots=True)
class RevokeShare:
    cycle_id: str
    share_id: str


@dataclass(frozen=True, slots=True)
class BreakTheGlass:
    """An admin opens a cycle's confidential sections to themselves, for a while, saying why."""

    cycle_id: str
    reason: str


# -- the directory and credentials -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AddNetwork:
    network_id: str | None
    name: str
    chair_person_id: str | None = None


@dataclass(frozen=True, slots=True)
class AddSchool:
    school_id: str | None
    urn: str
    name: str
    network_id: str | None = None
    phase: str = ""


@dataclass(frozen=True, slots=True)
class AddPerson:
    person_id: str | None
    name: str
    email: str
    school_id: str | None = None


@dataclass(frozen=True, slots=True)
class AddGrant:
    person_id: str
    role: str
    scope_kind: Literal["global", "network", "school", "cycle"]
    scope_id: str | None = None


@dataclass(frozen=True, slots=True)
class RemoveGrant:
    grant_id: str


@dataclass(frozen=True, slots=True)
class CreateToken:
    person_id: str
    name: str
    days: int


# -- the inbox ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListNotifications:
    unread_only: bool = False
    limit: int = 50


@dataclass(frozen=True, slots=True)
class Navigation:
    """What the header of every signed-in page offers the caller (`inbox.Signposts`)."""


@dataclass(frozen=True, slots=True)
class MarkNotificationsRead:
    """Mark the caller's notifications read: these ids, or all of them when None."""

    ids: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class SetEmailPreference:
    email: EmailPreference


# -- reading the directory, templates and credentials ------------------------------------------


@dataclass(frozen=True, slots=True)
class ListNetworks:
    pass


@dataclass(frozen=True, slots=True)
class GetNetwork:
    network_id: str


@dataclass(frozen=True, slots=True)
class ListSchools:
    network_id: str | None = None


@dataclass(frozen=True, slots=True)
class GetSchool:
    school_id: str


@dataclass(frozen=True, slots=True)
class ListPeople:
    school_id: str | None = None


@dataclass(frozen=True, slots=True)
class GetPerson:
    person_id: str


@dataclass(frozen=True, slots=True)
class PersonGrants:
    person_id: str


@dataclass(frozen=True, slots=True)
class SetPassword:
    person_id: str
    password: str

    def __repr__(self) -> str:  # never show the password in a log or a traceback
        return f"SetPassword(person_id={self.person_id!r}, password='***')"


@dataclass(frozen=True, slots=True)
class MyDeadlineFeed:
    """The caller's deadlines as an iCalendar document."""


@dataclass(frozen=True, slots=True)
class ListTokens:
    person_id: str | None = None


@dataclass(frozen=True, slots=True)
class RevokeToken:
    token_id: str


@dataclass(frozen=True, slots=True)
class ListTemplates:
    template_id: str | None = None


@dataclass(frozen=True, slots=True)
class GetTemplate:
    template_id: str
    version: int | None = None


@dataclass(frozen=True, slots=True)
class UploadTemplate:
    text: str | bytes
    name: str
    publish: bool = False


@dataclass(frozen=True, slots=True)
class ValidateTemplate:
    """Check a template document without storing it (anyone signed in may)."""

    text: str | bytes
    name: str


@dataclass(frozen=True, slots=True)
class PublishTemplate:
    template_id: str
    version: int


@dataclass(frozen=True, slots=True)
class DryRunTemplate:
    """A template version's timeline on a network's school calendar (the partnership's
    default with none), from a start date, with the cycle dates given (anyone signed in)."""

    template_id: str
    version: int
    start: date
    network_id: str | None = None
    dates: Mapping[str, date] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RetireTemplate:
    """Start no new cycles on a published version (admin); those running on it go on."""

    template_id: str
    version: int


@dataclass(frozen=True, slots=True)
class DeleteTemplateDraft:
    """Delete a draft version (admin): no cycle ever ran on it."""

    template_id: str
    version: int


# -- pages -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MyTasks:
    """What is waiting on the caller across their cycles (at most `limit` cycles)."""

    limit: int = 200


@dataclass(frozen=True, slots=True)
class CyclePage:
    cycle_id: str


@dataclass(frozen=True, slots=True)
class TeamPage:
    """A cycle's team and dates as the page to set them shows them, with who may be chosen."""

    cycle_id: str


@dataclass(frozen=True, slots=True)
class StartOptions:
    """The published templates and the schools the caller may start a cycle for."""


@dataclass(frozen=True, slots=True)
class SelfReviewPage:
    """The self-review as the host sees it, with the moves the caller may make from it."""

    cycle_id: str


@dataclass(frozen=True, slots=True)
class ReportPage:
    """The review and its report as their readers see them (and whom a sharer may choose)."""

    cycle_id: str


@dataclass(frozen=True, slots=True)
class PlanPage:
    """The action plan and support as their readers see them (and what a writer may choose)."""

    cycle_id: str


# -- documents ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CycleDocument:
    """A cycle's document to hand over (the self-evaluation, the review report or the action
    plan), for whoever may read that part of the cycle."""

    cycle_id: str
    kind: Literal["self_review", "report", "plan"]


# -- admin pages -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdminPage:
    """What the admin's index counts: templates and their drafts, networks, schools, people."""


@dataclass(frozen=True, slots=True)
class TemplateLibraryPage:
    """Every template with its versions, newest first."""


@dataclass(frozen=True, slots=True)
class TemplateVersionsPage:
    """One template's versions, and one of them (the newest when None) as the engine reads it."""

    template_id: str
    version: int | None = None


@dataclass(frozen=True, slots=True)
class PeoplePage:
    """Everyone by school with the roles they hold, and what a new grant may name."""


@dataclass(frozen=True, slots=True)
class SchoolsPage:
    """The networks and their schools."""


@dataclass(frozen=True, slots=True)
class ImportSchools:
    """Schools from a GIAS CSV export's text (decoded by the door), for `network_id`.

    With `dry_run` nothing is stored: the answer says what would be added, and every bad row by
    its line. Otherwise the good rows are added in one transaction; schools already known by
    URN are left as they are.
    """

    text: str
    network_id: str | None = None
    dry_run: bool = True


# -- the network dashboard ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NetworkDashboard:
    """A network as its chair, partnership lead or the admin follows it: cycles by stage,
    overdue cycles and actions, deadlines ahead, who has not started this school year. With no
    network, the caller's one network, or the networks they may choose from."""

    network_id: str | None = None


@dataclass(frozen=True, slots=True)
class BoroughView:
    """Every network side by side, for the admin and the borough's forum."""


@dataclass(frozen=True, slots=True)
class NetworkCycles:
    """The cycles behind one of a network dashboard's figures; every field given narrows."""

    network_id: str
    stage: str | None = None
    template_id: str | None = None
    overdue: bool = False
    due_within_days: int | None = None
    started_this_year: bool = False
    under_way: bool = False


@dataclass(frozen=True, slots=True)
class JudgementHeatmap:
    """A network's schools by framework question, from the reports the caller may read; one
    template at a time (the one most of the network's cycles run when None)."""

    network_id: str
    template_id: str | None = None


@dataclass(frozen=True, slots=True)
class NetworkSupportMap:
    """Where a network's schools are strong and where they want support, from the reports the
    caller may read, with partner schools suggested for each area to develop."""

    network_id: str
    template_id: str | None = None


@dataclass(frozen=True, slots=True)
class SupportSuggestions:
    """Partner schools to suggest for a cycle's areas to develop, from the reports the caller
    may read (for the cycle's support page)."""

    cycle_id: str


# -- school calendars ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NetworkCalendars:
    """Every network with where its school days come from (its own, the default, weekdays).

    `admin`: asked for the admin pages, which only an admin may open.
    """

    admin: bool = False


@dataclass(frozen=True, slots=True)
class NetworkCalendar:
    """A network's school calendar: its terms, the school days each gives, and its closures.

    `network_id` None is the partnership's default, used by networks without their own;
    `admin`: asked for the admin pages, which only an admin may open.
    """

    network_id: str | None
    admin: bool = False


@dataclass(frozen=True, slots=True)
class SetNetworkCalendar:
    """Replace a network's terms and closures (admin); deadlines planned from now on count them."""

    network_id: str | None
    terms: tuple[tuple[str, date, date], ...]
    closures: tuple[tuple[str, date], ...] = ()


@dataclass(frozen=True, slots=True)
class ImportNetworkCalendar:
    """A network's calendar from an ICS or YAML file's bytes (admin).

    With `dry_run` nothing is stored: the answer is the calendar as it would be.
    """

    network_id: str | None
    data: bytes
    filename: str
    dry_run: bool = True


@dataclass(frozen=True, slots=True)
class RemoveNetworkCalendar:
    """Drop a network's own calendar (admin): it counts the partnership's default again."""

    network_id: str | None


@dataclass(frozen=True, slots=True)
class PreviewMigration:
    """What moving running cycles to `version` of their template would do, one plan per
    cycle (the admin): `cycle_ids`, or every running cycle on an older version; `stages`
    maps a stage the new version no longer has to the one a cycle goes to instead."""

    template_id: str
    version: int
    cycle_ids: tuple[str, ...] = ()
    stages: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MigrateCycles:
    """Move running cycles to `version` of their template, all or none, as their previews
    say (the admin, with a reason recorded in each cycle's history)."""

    template_id: str
    version: int
    reason: str
    cycle_ids: tuple[str, ...] = ()
    stages: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CreateSeries:
    """Cycles of a template started for a host school on each of `days` (every year again
    when `yearly`), with `participants` taking part in each: by whoever may start them."""

    template_id: str
    host_school_id: str
    days: tuple[date, ...]
    yearly: bool = False
    participants: tuple[str, ...] = ()
    title: str = ""


@dataclass(frozen=True, slots=True)
class ListSeries:
    """The series the caller may see: every one for the admin, else those of the networks
    and schools they may start cycles for, and those they made."""


@dataclass(frozen=True, slots=True)
class CancelSeries:
    """Stop a series for good: no more cycles start; those started go on."""

    series_id: str


@dataclass(frozen=True, slots=True)
class StartDueSeries:
    """Start the cycles of every series whose day has come (the scheduler's job)."""


@dataclass(frozen=True, slots=True)
class ContentReads:
    """Who outside the host school read a cycle's confidential content: for its head."""

    cycle_id: str


@dataclass(frozen=True, slots=True)
class ErasePerson:
    """Erase a person's personal data (a right-to-erasure request): the admin's to carry out."""

    person_id: str
    asked_by: str
    reason: str


@dataclass(frozen=True, slots=True)
class ExportSchool:
    """Everything held about a school, files included: the admin's to take."""

    school_id: str


@dataclass(frozen=True, slots=True)
class ExportPerson:
    """Everything held about a person (a subject access request): theirs, or the admin's."""

    person_id: str


@dataclass(frozen=True, slots=True)
class ApplyRetention:
    """Erase the evidence kept past its time (`engine.retention`), or with `dry_run` only
    say what would go; `default_years` is the deployment's rule where a template has none."""

    dry_run: bool = True
    default_years: int | None = None
