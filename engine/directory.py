"""Who is who: networks (NLCs), schools, people, their role grants, and stored template versions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from engine.audit import HISTORY_FORMAT, in_format

__all__ = [
    "ApiToken",
    "BreakGlass",
    "ContentRead",
    "CycleSummary",
    "Grant",
    "HistoryEntry",
    "IdempotencyRecord",
    "Network",
    "Person",
    "PersonErasure",
    "ReportShare",
    "School",
    "ScopeKind",
    "StoredTemplate",
]

ScopeKind = Literal["global", "network", "school", "cycle"]


@dataclass(frozen=True, slots=True)
class Network:
    """A Network Learning Community: a cluster of schools with a chair."""

    id: str
    name: str
    chair_person_id: str | None = None


@dataclass(frozen=True, slots=True)
class School:
    """A school, known by its DfE Unique Reference Number (URN)."""

    id: str
    urn: str
    name: str
    phase: str
    network_id: str | None = None


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    name: str
    email: str
    school_id: str | None = None


@dataclass(frozen=True, slots=True)
class Grant:
    """A role held by a person within a scope: everywhere, a network, a school or one cycle.

    `granted_by` and `granted_at` say who gave it and when (None for grants made before
    Peerloop kept them, and for a directory loaded as a whole, such as the demo's).
    """

    id: str
    person_id: str
    role: str
    scope_kind: ScopeKind
    scope_id: str | None = None
    granted_by: str | None = None
    granted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StoredTemplate:
    """A template version as stored: its source text, and whether it is published (then frozen).

    A published version `retired_at` some time starts no new cycles; those on it go on.
    """

    template_id: str
    version: int
    title: str
    source: str
    source_format: Literal["yaml", "json"]
    status: Literal["draft", "published"]
    created_at: datetime
    published_at: datetime | None = None
    retired_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CycleSummary:
    """A cycle as listed on dashboards, without what it collected."""

    id: str
    template_id: str
    template_version: int
    host_school_id: str
    network_id: str | None
    stage: str
    version: int
    stage_entered_at: datetime
    started_at: datetime
    next_due_at: datetime | None = None
    """When the current stage is due (None: it has no due time); past it, the cycle is overdue."""


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One append-only, hash-chained entry of a cycle's history."""

    cycle_id: str
    seq: int
    at: datetime
    kind: str
    actor: str
    role: str = ""
    transition: str | None = None
    from_stage: str | None = None
    to_stage: str | None = None
    payload_digest: str = ""
    forced: bool = False
    reason: str = ""
    detail: dict[str, object] = field(default_factory=dict)
    prev_hash: str = ""
    hash: str = ""

    def content(self, format: int = HISTORY_FORMAT) -> dict[str, object]:
        """What the hash covers: everything but the hashes themselves, in history `format`.

        New entries are hashed in the current format; an older one is for entries written
        before it (`engine.audit` explains the formats).
        """
        fields: dict[str, object] = {
            "cycle_id": self.cycle_id,
            "seq": self.seq,
            "at": self.at.isoformat(),
            "kind": self.kind,
            "actor": self.actor,
            "role": self.role,
            "transition": self.transition,
            "from_stage": self.from_stage,
            "to_stage": self.to_stage,
            "payload_digest": self.payload_digest,
            "forced": self.forced,
            "reason": self.reason,
            "detail": self.detail,
        }
        return in_format(fields, format)


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """The stored outcome of a request made with an idempotency key."""

    key: str
    request_digest: str
    result: dict[str, object]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A bearer token as stored: only the sha256 of its secret, never the secret itself."""

    id: str
    person_id: str
    name: str
    token_hash: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    issued_by: str | None = None
    """Who made the token: its owner (signing in, or an admin's own), an admin for someone
    else, or the operator on the server (`system:operator`); None for tokens made before
    Peerloop kept it."""

    def usable_at(self, now: datetime) -> bool:
        """Not revoked and not expired at `now`."""
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    @property
    def made_by_someone_else(self) -> bool:
        """Whether someone other than its owner made it: what is done with it is recorded as
        done by the owner, using a token made by the issuer."""
        return self.issued_by is not None and self.issued_by != self.person_id


ShareGranteeKind = Literal["person", "school", "network"]


@dataclass(frozen=True, slots=True)
class ReportShare:
    """The host school letting someone else see its review report (a person, a school's
    leadership, or a network's leads); `revoked_at` ends it."""

    id: str
    cycle_id: str
    grantee_kind: ShareGranteeKind
    grantee_id: str
    shared_by: str
    shared_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PersonErasure:
    """A person's personal data erased (a right-to-erasure request), as it was recorded.

    Their id stays wherever it is (history, records, grants given), so that the history's
    chain still verifies and a cycle still says that someone did something; what identifies
    them (name, email, school, password, tokens, inbox, calendar link, mail to them, their
    name in others' notices) is gone.

    Attributes:
        person_id: whose.
        asked_by: who asked for it, in words (the person, their school, the ICO...).
        reason: the request, in words (its date and reference, say).
        erased_by: the admin who carried it out.
        at: when.
        removed: how much went, by where it was (`notifications`, `tokens`, ...).
    """

    person_id: str
    asked_by: str
    reason: str
    erased_by: str
    at: datetime
    removed: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ContentRead:
    """A read of a cycle's confidential content by someone outside its host school's staff:
    who, what, when, and on what grounds. The host's head reads the list of them.

    Attributes:
        cycle_id: the cycle read.
        person_id: who read it.
        section: what of it (`engine.access.CONFIDENTIAL_SECTIONS`: the report, the
            self-review, evidence files).
        grounds: why they could (`engine.access.READ_GROUNDS`).
        at: when.
        issued_by: who made the token it was read with, when someone else did.
    """

    cycle_id: str
    person_id: str
    section: str
    grounds: str
    at: datetime
    issued_by: str | None = None


@dataclass(frozen=True, slots=True)
class BreakGlass:
    """An admin's explicit, recorded step to read a cycle's confidential sections (the report,
    the self-review, evidence files) for a limited time, with the reason they gave.

    Attributes:
        id: the opening's id.
        cycle_id: the cycle it opens.
        person_id: the admin it opens the cycle to (and nobody else).
        reason: why, in the admin's words (recorded in the cycle's history too).
        opened_at: when it was taken.
        until: when it ends (`engine.access.BREAK_GLASS_PERIOD` after `opened_at`).
    """

    id: str
    cycle_id: str
    person_id: str
    reason: str
    opened_at: datetime
    until: datetime

    def open_at(self, now: datetime) -> bool:
        """Whether it opens the cycle at `now`: from when it was taken until it ends."""
        return self.opened_at <= now < self.until
