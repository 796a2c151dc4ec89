"""The SQL schema as SQLModel tables (schema only: queries live in adapters/sql.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

__all__ = ["UTCDateTime", "metadata"]

metadata = SQLModel.metadata
metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored in UTC; SQLite keeps no zone, so it is put back on reading."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _when(nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_column=sa.Column(UTCDateTime(), nullable=nullable, index=index))


def _json() -> Any:
    return Field(default=None, sa_column=sa.Column(sa.JSON(), nullable=False))


class NetworkRow(SQLModel, table=True):
    __tablename__ = "network"
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    chair_person_id: str | None = Field(default=None, max_length=64)


class SchoolRow(SQLModel, table=True):
    __tablename__ = "school"
    id: str = Field(primary_key=True, max_length=64)
    urn: str = Field(max_length=16, unique=True)
    name: str = Field(max_length=200)
    phase: str = Field(max_length=64)
    network_id: str | None = Field(default=None, foreign_key="network.id", index=True)


class PersonRow(SQLModel, table=True):
    __tablename__ = "person"
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    email: str = Field(max_length=320, unique=True)
    school_id: str | None = Field(default=None, foreign_key="school.id", index=True)


class GrantRow(SQLModel, table=True):
    __tablename__ = "role_grant"
    id: str = Field(primary_key=True, max_length=64)
    person_id: str = Field(foreign_key="person.id", index=True)
    role: str = Field(max_length=64)
    scope_kind: str = Field(max_length=16)
    scope_id: str | None = Field(default=None, max_length=64)
    # Who gave the role and when; null for grants made before they were kept.
    granted_by: str | None = Field(default=None, max_length=64)
    granted_at: datetime | None = _when(nullable=True)


class TemplateRow(SQLModel, table=True):
    __tablename__ = "template_version"
    template_id: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True)
    title: str = Field(max_length=300)
    source: str
    source_format: str = Field(max_length=8)
    status: str = Field(max_length=16)
    created_at: datetime = _when()
    published_at: datetime | None = _when(nullable=True)
    retired_at: datetime | None = _when(nullable=True)


CHAMPION_ID = sa.text("(champion ->> 'person_id')")
"""The champion's person id from the cycle row's JSON: one expression, indexed and compared
in the same words (PostgreSQL matches an expression index only to the same expression, and
SQLite reads `->>` since 3.38)."""


class CycleRow(SQLModel, table=True):
    __tablename__ = "cycle"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["template_id", "template_version"],
            ["template_version.template_id", "template_version.version"],
        ),
        # A network's cycles at a stage, in the dashboard's (start) order, without a sort.
        sa.Index("ix_cycle_network_stage_started", "network_id", "stage", "started_at", "id"),
        # Overdue cycles, most overdue first, a page at a time.
        sa.Index("ix_cycle_stage_due", "stage_due_at", "id"),
        # The borough view's counts by network, template and stage from the index alone, and
        # the school year's starts (migration 0009).
        sa.Index("ix_cycle_counts", "network_id", "template_id", "stage", "stage_due_at"),
        sa.Index("ix_cycle_started", "started_at", "host_school_id"),
        # The cycles a person champions (what they may see), migration 0010.
        sa.Index("ix_cycle_champion", CHAMPION_ID),
    )
    id: str = Field(primary_key=True, max_length=64)
    template_id: str = Field(max_length=64, index=True)
    template_version: int
    host_school_id: str = Field(foreign_key="school.id", index=True)
    network_id: str | None = Field(default=None, foreign_key="network.id")
    stage: str = Field(max_length=64)
    version: int
    stage_entered_at: datetime = _when()
    started_at: datetime = _when()
    dates: dict[str, str] = _json()
    focus: list[str] = _json()
    champion: dict[str, str] | None = Field(default=None, sa_column=sa.Column(sa.JSON()))
    history_count: int = 0
    history_head: str = Field(max_length=64)
    stage_due_at: datetime | None = _when(nullable=True)
    """When the current stage is due (events.stage_due); past it, the cycle is overdue."""


class TeamMemberRow(SQLModel, table=True):
    __tablename__ = "team_member"
    # The cycles a person reviews (what they may see), migration 0010.
    __table_args__ = (sa.Index("ix_team_member_person", "person_id"),)
    cycle_id: str = Field(foreign_key="cycle.id", primary_key=True)
    person_id: str = Field(primary_key=True, max_length=64)
    role: str = Field(max_length=32)
    school_id: str | None = Field(default=None, max_length=64)
    network_id: str | None = Field(default=None, max_length=64)


class ParticipantRow(SQLModel, table=True):
    """A school taking part in a cycle beside its host (migration 0012)."""

    __tablename__ = "cycle_participant"
    # The cycles a school takes part in (what its people may see), migration 0012.
    __table_args__ = (sa.Index("ix_cycle_participant_school", "school_id"),)
    cycle_id: str = Field(foreign_key="cycle.id", primary_key=True)
    school_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=300)
    network_id: str | None = Field(default=None, max_length=64)
    added_by: str = Field(max_length=64)
    added_at: datetime = _when()


class EvidenceRow(SQLModel, table=True):
    __tablename__ = "evidence"
    id: str = Field(primary_key=True, max_length=64)
    cycle_id: str = Field(foreign_key="cycle.id", index=True)
    question_id: str = Field(max_length=64)
    title: str
    added_by: str = Field(max_length=64)
    added_at: datetime = _when()
    file_sha256: str | None = Field(default=None, max_length=64, index=True)
    file_size: int | None = None
    media_type: str | None = Field(default=None, max_length=128)
    original_name: str | None = Field(default=None, max_length=255)
    school_id: str | None = Field(default=None, max_length=64)
    """The school taking part the evidence is of (None: of the cycle as a whole)."""


class JudgementRow(SQLModel, table=True):
    __tablename__ = "judgement"
    cycle_id: str = Field(foreign_key="cycle.id", primary_key=True)
    kind: str = Field(primary_key=True, max_length=8)
    question_id: str = Field(primary_key=True, max_length=64)
    school_id: str = Field(
        default="", primary_key=True, max_length=64, sa_column_kwargs={"server_default": ""}
    )
    """The school taking part it is of; '' for the cycle as a whole."""
    narrative: str
    grade: str | None = Field(default=None, max_length=64)
    by: str = Field(max_length=64)
    at: datetime = _when()


class FindingRow(SQLModel, table=True):
    __tablename__ = "finding"
    id: str = Field(primary_key=True, max_length=64)
    cycle_id: str = Field(foreign_key="cycle.id", index=True)
    kind: str = Field(max_length=64)
    text: str
    question_id: str | None = Field(default=None, max_length=64)
    by: str = Field(max_length=64)
    at: datetime = _when()
    school_id: str | None = Field(default=None, max_length=64)


_ACTION_OPEN = sa.text("status IS NULL OR status NOT IN ('met', 'partially_met', 'not_met')")


class ActionRow(SQLModel, table=True):
    __tablename__ = "action"
    # The actions not done (engine.cycle.DONE_STATUSES): those of cycles under way, a small
    # part of all, which the dashboards count (migration 0009).
    __table_args__ = (
        sa.Index(
            "ix_action_open",
            "cycle_id",
            "due",
            postgresql_where=_ACTION_OPEN,
            sqlite_where=_ACTION_OPEN,
        ),
    )
    id: str = Field(primary_key=True, max_length=64)
    cycle_id: str = Field(foreign_key="cycle.id", index=True)
    title: str
    owner: str = Field(max_length=200)
    due: date | None = None
    success_criteria: str
    status: str | None = Field(default=None, max_length=32)
    status_note: str = ""
    finding_id: str | None = Field(default=None, max_length=64)


class SupportLinkRow(SQLModel, table=True):
    __tablename__ = "support_link"
    id: str = Field(primary_key=True, max_length=64)
    cycle_id: str = Field(foreign_key="cycle.id", index=True)
    supporting_school_id: str = Field(max_length=64)
    area: str


class SupportActivityRow(SQLModel, table=True):
    __tablename__ = "support_activity"
    link_id: str = Field(foreign_key="support_link.id", primary_key=True)
    seq: int = Field(primary_key=True)
    text: str
    # When and by whom it was logged; null for activities logged before these were kept.
    at: datetime | None = _when(nullable=True)
    by: str | None = Field(default=None, max_length=64)


class SignOffRow(SQLModel, table=True):
    __tablename__ = "signoff"
    cycle_id: str = Field(foreign_key="cycle.id", primary_key=True)
    stage: str = Field(primary_key=True, max_length=64)
    role: str = Field(primary_key=True, max_length=64)
    school_id: str = Field(
        default="", primary_key=True, max_length=64, sa_column_kwargs={"server_default": ""}
    )
    """The school taking part whose part it signs off; '' for the cycle as a whole."""
    person_id: str = Field(max_length=64)
    at: datetime = _when()


class DeadlineTableRow(SQLModel, table=True):
    __tablename__ = "deadline"
    __table_args__ = (sa.Index("ix_deadline_status_due", "status", "due_at"),)
    id: int | None = Field(default=None, primary_key=True)
    cycle_id: str = Field(foreign_key="cycle.id", index=True)
    stage: str = Field(max_length=64)
    key: str = Field(max_length=128)
    kind: str = Field(max_length=32)
    due_at: datetime = _when()
    stage_due_at: datetime = _when()
    roles: list[str] = _json()
    transition: str | None = Field(default=None, max_length=64)
    action_id: str | None = Field(default=None, max_length=64)
    status: str = Field(max_length=16)
    fired_at: datetime | None = _when(nullable=True)
    claimed_by: str | None = Field(default=None, max_length=100)
    note: str = ""
    # How late the sweep applied it (catch-up after downtime); None when on time.
    late_seconds: int | None = None


class HistoryRow(SQLModel, table=True):
    __tablename__ = "history"
    # (cycle_id, seq) is unique, and that index serves every lookup by cycle as well.
    __table_args__ = (sa.UniqueConstraint("cycle_id", "seq", name="uq_history_cycle_seq"),)
    id: int | None = Field(default=None, primary_key=True)
    cycle_id: str = Field(foreign_key="cycle.id")
    seq: int
    at: datetime = _when()
    kind: str = Field(max_length=16)
    actor: str = Field(max_length=64)
    role: str = Field(max_length=64)
    transition: str | None = Field(default=None, max_length=64)
    from_stage: str | None = Field(default=None, max_length=64)
    to_stage: str | None = Field(default=None, max_length=64)
    payload_digest: str = Field(max_length=64)
    forced: bool = False
    reason: str = ""
    detail: dict[str, Any] = _json()
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class IdempotencyRow(SQLModel, table=True):
    __tablename__ = "idempotency_key"
    key: str = Field(primary_key=True, max_length=200)
    request_digest: str = Field(max_length=64)
    result: dict[str, Any] = _json()
    created_at: datetime = _when()


class ApiTokenRow(SQLModel, table=True):
    """Bearer tokens: only a hash of the secret is stored."""

    __tablename__ = "api_token"
    id: str = Field(primary_key=True, max_length=64)
    person_id: str = Field(foreign_key="person.id", index=True)
    name: str = Field(max_length=200)
    token_hash: str = Field(max_length=128, unique=True)
    created_at: datetime = _when()
    expires_at: datetime | None = _when(nullable=True)
    revoked_at: datetime | None = _when(nullable=True)
    last_used_at: datetime | None = _when(nullable=True)
    # Who made it (its owner, an admin, `system:operator`); null for tokens made before.
    issued_by: str | None = Field(default=None, max_length=64)


class PasswordRow(SQLModel, table=True):
    """Argon2 hashes of people's passwords, for the web pages."""

    __tablename__ = "password"
    person_id: str = Field(foreign_key="person.id", primary_key=True)
    hash: str = Field(max_length=256)
    changed_at: datetime = _when()


class ReportShareRow(SQLModel, table=True):
    """Who else the host school has let see its review report (recorded in history too)."""

    __tablename__ = "report_share"
    id: str = Field(primary_key=True, max_length=64)
    cycle_id: str = Field(foreign_key="cycle.id", index=True)
    grantee_kind: str = Field(max_length=16)
    grantee_id: str = Field(max_length=64)
    shared_by: str = Field(max_length=64)
    shared_at: datetime = _when()
    revoked_at: datetime | None = _when(nullable=True)


class BreakGlassRow(SQLModel, table=True):
    """Admins' break-glass openings of a cycle's confidential sections (in history too)."""

    __tablename__ = "break_glass"
    id: str = Field(primary_key=True, max_length=64)
    cycle_id: str = Field(foreign_key="cycle.id", index=True)
    person_id: str = Field(max_length=64)
    reason: str
    opened_at: datetime = _when()
    until: datetime = _when()


class ContentReadRow(SQLModel, table=True):
    """Reads of a cycle's confidential content from outside its host school (migration 0015):
    `engine.directory.ContentRead`."""

    __tablename__ = "content_read"
    id: int | None = Field(default=None, primary_key=True)
    cycle_id: str = Field(foreign_key="cycle.id", index=True, max_length=64)
    person_id: str = Field(max_length=64)
    section: str = Field(max_length=32)
    grounds: str = Field(max_length=32)
    at: datetime = _when()
    issued_by: str | None = Field(default=None, max_length=64)


class PersonErasureRow(SQLModel, table=True):
    """Right-to-erasure requests carried out (migration 0016): `engine.directory.PersonErasure`."""

    __tablename__ = "person_erasure"
    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(max_length=64, index=True)
    asked_by: str = Field(max_length=500)
    reason: str = Field(max_length=2000)
    erased_by: str = Field(max_length=64)
    at: datetime = _when()
    removed: dict[str, Any] = _json()


class SeriesRow(SQLModel, table=True):
    """A series of recurring cycles (migration 0013): `engine.series.Series`."""

    __tablename__ = "cycle_series"
    id: str = Field(primary_key=True, max_length=64)
    template_id: str = Field(max_length=64)
    host_school_id: str = Field(foreign_key="school.id", max_length=64)
    network_id: str | None = Field(default=None, max_length=64)
    title: str = Field(default="", max_length=300)
    days: list[str] = _json()
    yearly: bool = False
    participants: list[str] = _json()
    created_by: str = Field(max_length=64)
    created_at: datetime = _when()
    cancelled_at: datetime | None = _when(nullable=True)
    cancelled_by: str | None = Field(default=None, max_length=64)


class SeriesStartRow(SQLModel, table=True):
    """The cycle a series started on one of its days: one per day, whichever replica is first."""

    __tablename__ = "cycle_series_start"
    series_id: str = Field(foreign_key="cycle_series.id", primary_key=True, max_length=64)
    day: date = Field(primary_key=True)
    cycle_id: str = Field(foreign_key="cycle.id", max_length=64)


class OutboxRow(SQLModel, table=True):
    """Notifications written in the same transaction as the event that caused them."""

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_status_next", "status", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=200, unique=True)
    channel: str = Field(max_length=16)
    recipient: str = Field(max_length=500)
    subject: str = Field(max_length=300)
    body: dict[str, Any] = _json()
    status: str = Field(max_length=16)
    attempts: int = 0
    created_at: datetime = _when()
    next_attempt_at: datetime = _when()
    sent_at: datetime | None = _when(nullable=True)
    last_error: str = ""


class DeliveryLogRow(SQLModel, table=True):
    __tablename__ = "delivery_log"
    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int = Field(foreign_key="outbox.id", index=True)
    at: datetime = _when()
    ok: bool
    detail: str = ""


class WebhookRow(SQLModel, table=True):
    __tablename__ = "webhook"
    id: str = Field(primary_key=True, max_length=64)
    network_id: str | None = Field(default=None, foreign_key="network.id")
    url: str = Field(max_length=2000)
    # The HMAC key must be usable to sign, so it cannot be stored as a one-way hash.
    secret: str = Field(max_length=200)
    active: bool = True


class TermRow(SQLModel, table=True):
    """A network's school terms and closures (half-terms are gaps between terms)."""

    __tablename__ = "school_term"
    id: int | None = Field(default=None, primary_key=True)
    network_id: str | None = Field(default=None, foreign_key="network.id", index=True)
    name: str = Field(max_length=100)
    first_day: date
    last_day: date


class ClosureRow(SQLModel, table=True):
    __tablename__ = "school_closure"
    id: int | None = Field(default=None, primary_key=True)
    network_id: str | None = Field(default=None, foreign_key="network.id", index=True)
    day: date
    name: str = Field(max_length=100)


class NotificationRow(SQLModel, table=True):
    """A person's in-app inbox: one row per notice delivered to them."""

    __tablename__ = "notification"
    __table_args__ = (sa.Index("ix_notification_person_created", "person_id", "created_at"),)
    id: str = Field(primary_key=True, max_length=64)
    person_id: str = Field(foreign_key="person.id", max_length=64)
    kind: str = Field(max_length=32)
    subject: str = Field(max_length=300)
    text: str
    cycle_id: str | None = Field(default=None, max_length=64)
    link: str = Field(max_length=500)
    dedupe_key: str = Field(max_length=200, unique=True)
    created_at: datetime = _when()
    read_at: datetime | None = _when(nullable=True)


class NotificationPreferenceRow(SQLModel, table=True):
    """How a person wants email: `immediate`, `daily` (a digest) or `off` (the inbox only)."""

    __tablename__ = "notification_preference"
    person_id: str = Field(foreign_key="person.id", primary_key=True, max_length=64)
    email: str = Field(max_length=16)
    updated_at: datetime = _when()


class CalendarFeedLinkRow(SQLModel, table=True):
    """A person's secret calendar-feed link (one at most): only a hash of the secret is kept."""

    __tablename__ = "calendar_feed_link"
    person_id: str = Field(foreign_key="person.id", primary_key=True, max_length=64)
    secret_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _when()
    last_used_at: datetime | None = _when(nullable=True)
