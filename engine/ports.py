"""Ports: what the use cases need from storage, implemented by adapters (SQL) and fakes (memory)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from types import TracebackType
from typing import Protocol, Self

from engine.calendar import CalendarBook, CalendarSpec
from engine.cycle import Cycle
from engine.directory import (
    ApiToken,
    BreakGlass,
    ContentRead,
    CycleSummary,
    Grant,
    HistoryEntry,
    IdempotencyRecord,
    Network,
    Person,
    PersonErasure,
    ReportShare,
    School,
    StoredTemplate,
)
from engine.events import Event
from engine.notices import EmailPreference, Notice, Notification
from engine.series import Series

__all__ = [
    "BreakGlassRepository",
    "CalendarRepository",
    "CredentialRepository",
    "CycleFilter",
    "CycleRepository",
    "DeadlineRepository",
    "DeadlineRow",
    "DirectoryRepository",
    "FeedLink",
    "FeedLinkRepository",
    "HistoryRepository",
    "IdempotencyStore",
    "InboxRepository",
    "OpenAction",
    "SeriesRepository",
    "ShareRepository",
    "StageCount",
    "TemplateRepository",
    "UnitOfWork",
    "WebhookOutbox",
]


@dataclass(frozen=True, slots=True)
class CycleFilter:
    """Which cycles to list; every field given narrows the list.

    The list is in start order (`started_at`, then id), except with `overdue_at` (cycles still
    in a stage whose due time is before it): then the most overdue come first (`next_due_at`,
    then id), so that a page of `limit` rows holds the cycles that most need attention.
    `on_time_at` is the other half: cycles not overdue at that time (no due time, or due at or
    after it), in start order.
    """

    network_id: str | None = None
    school_id: str | None = None
    stage: str | None = None
    template_id: str | None = None
    ids: frozenset[str] | None = None
    overdue_at: datetime | None = None
    on_time_at: datetime | None = None
    limit: int = 500

    def order_key(self, summary: CycleSummary) -> tuple[datetime, str]:
        """Where a listed cycle goes in the list this filter asks for (merge pages with it)."""
        if self.overdue_at is not None and summary.next_due_at is not None:
            return (summary.next_due_at, summary.id)
        return (summary.started_at, summary.id)


@dataclass(frozen=True, slots=True)
class DeadlineRow:
    """A stored deadline: the scheduler's source of truth."""

    id: int
    cycle_id: str
    stage: str
    key: str
    kind: str
    due_at: datetime
    stage_due_at: datetime
    roles: tuple[str, ...]
    transition: str | None
    action_id: str | None
    status: str
    fired_at: datetime | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class StageCount:
    """How many cycles of one template are at one stage in one network, and how many of them
    are overdue (past the stage's due time)."""

    network_id: str | None
    template_id: str
    stage: str
    cycles: int
    overdue: int


@dataclass(frozen=True, slots=True)
class OpenAction:
    """An action not yet done, with the cycle it belongs to (for the dashboard's lists)."""

    cycle_id: str
    network_id: str | None
    host_school_id: str
    template_id: str
    template_version: int
    stage: str
    action_id: str
    title: str
    owner: str
    due: date


class CycleRepository(Protocol):
    def add(self, cycle: Cycle, events: Sequence[Event]) -> None:
        """Store a new cycle and what starting it produced (history, deadlines)."""

    def get(self, cycle_id: str) -> Cycle:
        """The cycle with everything it collected. Raises NotFound."""

    def stored(self, cycle_id: str) -> Cycle:
        """The cycle as the store holds it, read there and never from a cache (for the
        audit, which checks what is stored). Raises NotFound."""

    def get_many(self, cycle_ids: Iterable[str], *, records: bool = True) -> dict[str, Cycle]:
        """The cycles of those ids that exist, by id, each as `get` gives it: a page that
        checks or shows many cycles reads them with a statement per table, not per cycle.

        Without `records`, each cycle comes without what it collected (no evidence,
        judgements, findings, actions, support or sign-offs): its stage, team and champion,
        all an access check reads. Such a cycle is never saved back.
        """

    def save(self, cycle: Cycle, expected_version: int, events: Sequence[Event]) -> None:
        """Store the changes `events` describe, if the stored version is `expected_version`.

        Raises:
            StaleCycle: someone else changed the cycle first; nothing is written.
        """

    def list(self, where: CycleFilter) -> list[CycleSummary]: ...

    def file_in_use(self, sha256: str) -> bool:
        """Whether any evidence still refers to this stored file."""

    def member_of(self, person_id: str) -> set[str]:
        """The ids of the cycles whose review team (or champion) includes the person."""

    def taking_part(self, school_ids: Iterable[str]) -> set[str]:
        """The ids of the cycles one of the schools takes part in beside the host."""

    # The dashboard's figures. `filters` are read as their union (a cycle matching two counts
    # once), as `engine.access.visible_cycle_filters` gives them; their `limit` is ignored.

    def stage_counts(self, filters: Sequence[CycleFilter], now: datetime) -> Sequence[StageCount]:
        """Cycles by (network, template, stage), with how many are overdue at `now`."""

    def started_by_school(
        self, filters: Sequence[CycleFilter], since: datetime, until: datetime
    ) -> dict[str, int]:
        """How many cycles each host school started in [`since`, `until`); schools that
        started none are left out."""

    def open_actions(
        self,
        filters: Sequence[CycleFilter],
        *,
        due_before: date,
        due_from: date | None = None,
        ended: Collection[tuple[str, str]] = (),
        limit: int = 500,
    ) -> Sequence[OpenAction]:
        """Actions not done (no verdict yet) due before `due_before` (and on or after
        `due_from`), soonest due first (then cycle and action id); actions of cycles at one
        of the `ended` (template id, stage) pairs are left out."""

    def open_action_counts(
        self,
        filters: Sequence[CycleFilter],
        *,
        due_before: date,
        ended: Collection[tuple[str, str]] = (),
    ) -> dict[str | None, int]:
        """How many actions `open_actions` would find, by network."""


class HistoryRepository(Protocol):
    def for_cycle(self, cycle_id: str) -> list[HistoryEntry]: ...

    def for_school(
        self,
        school_id: str,
        *,
        limit: int = 500,
        after: tuple[datetime, str, int] | None = None,
    ) -> list[HistoryEntry]:
        """A page of the history of every cycle the school hosts, oldest first.

        Ordered by (`at`, `cycle_id`, `seq`). Pass the last entry's (at, cycle_id, seq) as
        `after` for the next page; a page shorter than `limit` is the last.
        """

    def head(self, cycle_id: str) -> tuple[int, str] | None:
        """(entry count, last hash) as recorded on the cycle."""

    def cycle_ids(self) -> list[str]: ...


class DeadlineRepository(Protocol):
    def pending(
        self,
        *,
        cycle_id: str | None = None,
        due_before: datetime | None = None,
        limit: int | None = 500,
        after: tuple[datetime, int] | None = None,
    ) -> list[DeadlineRow]:
        """A page of pending deadlines (every kind), soonest first: by (`due_at`, `id`).

        Pass the last row's (due_at, id) as `after` for the next page; a page shorter than
        `limit` is the last. `limit=None` returns every row (for one cycle's few).
        """

    def for_cycle(self, cycle_id: str) -> list[DeadlineRow]:
        """Every deadline of the cycle, whatever its status, oldest first."""


class TemplateRepository(Protocol):
    def add(self, stored: StoredTemplate) -> None:
        """Store a draft version; replaces a draft of the same version. Raises Conflict if
        that version is published."""

    def get(self, template_id: str, version: int) -> StoredTemplate: ...

    def latest(self, template_id: str, *, published: bool = True) -> StoredTemplate: ...

    def list(self) -> list[StoredTemplate]: ...

    def publish(self, template_id: str, version: int, at: datetime) -> StoredTemplate: ...

    def versions(self, template_id: str) -> Sequence[StoredTemplate]:
        """Every stored version of the template, oldest first (none: an empty list)."""

    def retire(self, template_id: str, version: int, at: datetime) -> StoredTemplate:
        """Mark a published version retired at `at` (once; retiring again keeps the first)."""

    def remove_draft(self, template_id: str, version: int) -> None:
        """Delete a draft version. Raises NotFound when no draft of that version is stored."""


class DirectoryRepository(Protocol):
    def add_network(self, network: Network) -> None: ...
    def get_network(self, network_id: str) -> Network: ...
    def networks(self) -> list[Network]: ...
    def add_school(self, school: School) -> None: ...
    def get_school(self, school_id: str) -> School: ...
    def schools(self, network_id: str | None = None) -> list[School]: ...
    def add_person(self, person: Person) -> None: ...
    def get_person(self, person_id: str) -> Person: ...
    def person_by_email(self, email: str) -> Person | None: ...
    def people(self, school_id: str | None = None) -> list[Person]: ...
    def add_grant(self, grant: Grant) -> None: ...
    def grants_for(self, person_id: str) -> list[Grant]: ...
    def remove_grant(self, grant_id: str) -> None: ...
    def grants_with_roles(self, roles: frozenset[str]) -> list[Grant]:
        """Every grant of one of `roles` (to find who holds a role on a cycle)."""


class CredentialRepository(Protocol):
    """API tokens (stored as hashes of their secrets) and password hashes."""

    def add_token(self, token: ApiToken) -> None: ...
    def token_by_hash(self, token_hash: str) -> ApiToken | None: ...
    def get_token(self, token_id: str) -> ApiToken:
        """Raises NotFound."""

    def tokens(self, person_id: str | None = None) -> list[ApiToken]: ...
    def revoke_token(self, token_id: str, at: datetime) -> ApiToken:
        """Revoke (idempotently: the first revocation time is kept). Raises NotFound."""

    def touch_token(self, token_id: str, at: datetime) -> None: ...
    def set_password(self, person_id: str, password_hash: str, at: datetime) -> None: ...
    def password_hash(self, person_id: str) -> str | None: ...


class ShareRepository(Protocol):
    """Who the host school has let see a cycle's review report."""

    def add(self, share: ReportShare) -> None: ...
    def get(self, share_id: str) -> ReportShare:
        """Raises NotFound."""

    def for_cycle(self, cycle_id: str, *, active: bool = True) -> list[ReportShare]: ...
    def for_cycles(self, cycle_ids: Iterable[str]) -> dict[str, list[ReportShare]]:
        """The active shares of each of the cycles (an empty list for one with none)."""

    def revoke(self, share_id: str, at: datetime) -> ReportShare: ...
    def cycles_shared_with(
        self, person_id: str, school_ids: frozenset[str], network_ids: frozenset[str]
    ) -> set[str]:
        """Cycles with an active share to the person, one of the schools or networks."""


class BreakGlassRepository(Protocol):
    """Admins' break-glass openings of cycles: kept for good, like the history that tells them."""

    def add(self, opening: BreakGlass) -> None:
        """Raises Conflict if the id is taken or the cycle unknown."""

    def for_cycle(self, cycle_id: str) -> list[BreakGlass]:
        """Every opening of the cycle, ended or not, oldest first."""


class ReadLog(Protocol):
    """Reads of cycles' confidential content by people outside the host's staff: kept for
    good, like the history (an audit the host school reads)."""

    def add(self, reads: Sequence[ContentRead]) -> None: ...

    def for_cycle(self, cycle_id: str) -> list[ContentRead]:
        """Every read of the cycle, oldest first."""


class PersonalData(Protocol):
    """A person's personal data wherever it is kept, for a right-to-erasure request."""

    def erase(self, person: Person, placeholder: Person, at: datetime) -> dict[str, int]:
        """Replace the person by `placeholder` (same id) in the directory and in what others
        were told (their name in others' notices), and remove what is only theirs: password,
        tokens (revoked), grants, inbox, email preference, calendar link, mail to them not yet
        sent (and their address on mail sent). How many of each went, by where."""

    def record(self, erasure: PersonErasure) -> None: ...

    def erasures(self) -> list[PersonErasure]:
        """Every erasure carried out, oldest first."""


class InboxRepository(Protocol):
    """People's in-app inboxes, and how each wants email."""

    def deliver(self, notices: Sequence[Notice], now: datetime) -> int:
        """Put each notice in its person's inbox and, by their preference, in the mail
        outbox (at once, held for the digest, or not at all); a notice whose dedupe key was
        delivered before is skipped. Returns how many were new."""

    def for_person(
        self, person_id: str, *, unread_only: bool = False, limit: int = 50
    ) -> list[Notification]:
        """Newest first."""

    def unread_count(self, person_id: str) -> int: ...
    def mark_read(self, person_id: str, ids: frozenset[str] | None, at: datetime) -> int:
        """Mark the person's notices read (all of them when `ids` is None); returns how many
        changed. Another person's notice ids are ignored."""

    def preference(self, person_id: str) -> EmailPreference: ...
    def set_preference(self, person_id: str, email: EmailPreference, at: datetime) -> None: ...


class CalendarRepository(Protocol):
    """Term dates and closures per network; the network `None` is the partnership's default."""

    def book(self, tz: tzinfo) -> CalendarBook:
        """Every stored calendar."""
        ...

    def save(self, network_id: str | None, spec: CalendarSpec) -> None:
        """Replace a network's calendar (or the default) with `spec`."""
        ...

    def remove(self, network_id: str | None) -> bool:
        """Drop a network's own calendar; False when it had none."""
        ...


class IdempotencyStore(Protocol):
    def get(self, key: str) -> IdempotencyRecord | None: ...
    def put(self, record: IdempotencyRecord) -> None: ...


class SeriesRepository(Protocol):
    """Series of recurring cycles, and which of their days have started a cycle."""

    def add(self, series: Series) -> None:
        """Raises Conflict if the id is taken."""

    def get(self, series_id: str) -> Series:
        """Raises NotFound."""

    def list(self, *, active: bool | None = None) -> list[Series]:
        """Every series (only the active or cancelled ones), oldest first."""

    def cancel(self, series_id: str, by: str, at: datetime) -> Series:
        """Stop the series for good (a cancelled one stays as it was). Raises NotFound."""

    def started(self, series_ids: Sequence[str]) -> dict[str, dict[date, str]]:
        """For each series, the cycle started on each of its days so far."""

    def mark_started(self, series_id: str, day: date, cycle_id: str) -> None:
        """Record the day's cycle. Raises Conflict if that day has one already (another
        replica started it first: the caller rolls back)."""


class UnitOfWork(Protocol):
    """One transaction per use case: leaving the block without `commit()` rolls back."""

    cycles: CycleRepository
    history: HistoryRepository
    deadlines: DeadlineRepository
    templates: TemplateRepository
    directory: DirectoryRepository
    idempotency: IdempotencyStore
    credentials: CredentialRepository
    shares: ShareRepository
    break_glass: BreakGlassRepository
    reads: ReadLog
    personal_data: PersonalData
    inbox: InboxRepository
    webhooks: WebhookOutbox
    feed_links: FeedLinkRepository
    calendars: CalendarRepository
    series: SeriesRepository

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


@dataclass(frozen=True, slots=True)
class FeedLink:
    """A person's secret calendar-feed link; only a hash of its secret is stored.

    Attributes:
        person_id: whose deadlines the link opens (one link per person).
        secret_hash: sha256 of the secret in the link's URL (service.auth.hash_secret).
        created_at: when the link was made; a new link replaces the old one.
        last_used_at: when a calendar app last read the feed (updated at most every few
            minutes), or None.
    """

    person_id: str
    secret_hash: str
    created_at: datetime
    last_used_at: datetime | None = None


class FeedLinkRepository(Protocol):
    """Secret calendar-feed links, at most one per person, found by their secret's hash."""

    def put(self, link: FeedLink) -> None:
        """Store the person's link, replacing (and so revoking) any link they had.

        Raises:
            NotFound: no such person.
        """

    def for_person(self, person_id: str) -> FeedLink | None: ...

    def by_hash(self, secret_hash: str) -> FeedLink | None:
        """The link whose secret hashes to `secret_hash`, or None (unknown or revoked)."""

    def remove(self, person_id: str) -> bool:
        """Revoke the person's link at once; returns whether they had one."""

    def touch(self, secret_hash: str, at: datetime) -> None:
        """Record a use of the link (nothing when it was replaced or revoked meanwhile)."""


class WebhookOutbox(Protocol):
    """Events for the partnership's other systems, sent through the outbox after commit."""

    def send(
        self,
        event: str,
        at: datetime,
        data: Mapping[str, object],
        network_id: str | None,
        dedupe_key: str,
    ) -> int:
        """Queue the event for every active webhook of the network (or of every network);
        returns how many were queued."""
