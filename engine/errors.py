"""The engine's error hierarchy; no HTTP or storage knowledge lives here.

PeerloopError
├── InvalidTemplate            (issues: every problem found, each with a location)
├── UnknownTransition          (transition, template)
├── TransitionNotAvailable     (cycle_id, transition, stage)
├── RoleNotAllowed             (cycle_id, action, roles, allowed)
├── RequirementsUnmet          (cycle_id, transition, reasons)
├── ForceNotAllowed            (cycle_id, transition, detail)
├── NotCollectedHere           (cycle_id, kind, stage)
├── InvalidRecord              (field, detail)
├── UnknownRecord              (kind, record_id)
├── CycleClosed                (cycle_id, stage)
├── CalendarExhausted          (days, start)
├── StaleCycle                 (cycle_id, expected, actual)
├── IdempotencyKeyReused       (key)
├── Conflict                   (kind, key, detail)
├── AccessDenied               (detail)
└── NotFound                   (kind, key)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.requirements import Reason
    from engine.validation import Issue

__all__ = [
    "AccessDenied",
    "CalendarExhausted",
    "Conflict",
    "CycleClosed",
    "ForceNotAllowed",
    "IdempotencyKeyReused",
    "InvalidRecord",
    "InvalidTemplate",
    "NotCollectedHere",
    "NotFound",
    "PeerloopError",
    "RequirementsUnmet",
    "RoleNotAllowed",
    "StaleCycle",
    "TransitionNotAvailable",
    "UnknownRecord",
    "UnknownTransition",
]


class PeerloopError(Exception):
    """Base of every error the engine raises on purpose."""


class InvalidTemplate(PeerloopError):
    """A template failed validation; `issues` holds every problem, not just the first, and
    `lines` the line in the document each points at, where the document's format can tell."""

    def __init__(self, issues: Sequence[Issue], lines: Sequence[int | None] = ()) -> None:
        self.issues = list(issues)
        self.lines: list[int | None] = list(lines) or [None] * len(self.issues)
        said = "; ".join(f"{i.location}: {i.message}" for i in self.issues[:5])
        more = f" (and {len(self.issues) - 5} more)" if len(self.issues) > 5 else ""
        super().__init__(f"invalid template: {said}{more}")


class UnknownTransition(PeerloopError):
    def __init__(self, transition: str, template: str) -> None:
        self.transition = transition
        self.template = template
        super().__init__(f"template {template!r} has no transition {transition!r}")


class TransitionNotAvailable(PeerloopError):
    def __init__(self, cycle_id: str, transition: str, stage: str) -> None:
        self.cycle_id = cycle_id
        self.transition = transition
        self.stage = stage
        super().__init__(f"transition {transition!r} cannot be fired from stage {stage!r}")


class RoleNotAllowed(PeerloopError):
    """The actor's roles do not allow `action`; `detail`, when given, says why in words
    where "needs one of the roles ..." would mislead (a role held, but not the one used)."""

    def __init__(
        self,
        cycle_id: str,
        action: str,
        roles: Iterable[str],
        allowed: Iterable[str],
        *,
        detail: str | None = None,
    ) -> None:
        self.cycle_id = cycle_id
        self.action = action
        self.roles = sorted(roles)
        self.allowed = sorted(allowed)
        self.detail = detail
        held = ", ".join(self.roles) or "no role"
        super().__init__(
            detail
            or f"{action!r} needs one of the roles {', '.join(self.allowed)}; you hold {held}"
        )


class RequirementsUnmet(PeerloopError):
    def __init__(self, cycle_id: str, transition: str, reasons: Sequence[Reason]) -> None:
        self.cycle_id = cycle_id
        self.transition = transition
        self.reasons = list(reasons)
        text = "; ".join(r.message for r in self.reasons)
        super().__init__(f"{transition!r} is blocked: {text}")


class ForceNotAllowed(PeerloopError):
    def __init__(self, cycle_id: str, transition: str, detail: str) -> None:
        self.cycle_id = cycle_id
        self.transition = transition
        self.detail = detail
        super().__init__(detail)


class NotCollectedHere(PeerloopError):
    def __init__(self, cycle_id: str, kind: str, stage: str) -> None:
        self.cycle_id = cycle_id
        self.kind = kind
        self.stage = stage
        super().__init__(f"stage {stage!r} does not collect {kind.replace('_', ' ')}")


class InvalidRecord(PeerloopError):
    def __init__(self, field: str, detail: str) -> None:
        self.field = field
        self.detail = detail
        super().__init__(f"{field}: {detail}")


class UnknownRecord(PeerloopError):
    def __init__(self, kind: str, record_id: str) -> None:
        self.kind = kind
        self.record_id = record_id
        super().__init__(f"this cycle has no {kind} {record_id!r}")


class CycleClosed(PeerloopError):
    def __init__(self, cycle_id: str, stage: str) -> None:
        self.cycle_id = cycle_id
        self.stage = stage
        super().__init__(f"cycle {cycle_id} is in the terminal stage {stage!r}")


class StaleCycle(PeerloopError):
    """A write was based on an older version of the cycle than the one stored."""

    def __init__(self, cycle_id: str, expected: int, actual: int | None) -> None:
        self.cycle_id = cycle_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"cycle {cycle_id} has changed: you had version {expected}, it is now {actual}"
        )


class NotFound(PeerloopError):
    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"no {kind} {key!r}")


class CalendarExhausted(PeerloopError):
    """The school calendar has too few school days to count the days asked for."""

    def __init__(self, days: int, start: str) -> None:
        self.days = days
        self.start = start
        super().__init__(
            f"the school calendar has fewer than {abs(days)} school days from {start}; "
            "add the coming terms to it"
        )


class IdempotencyKeyReused(PeerloopError):
    """The idempotency key was used before for a different request."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"idempotency key {key!r} was already used for a different request")


class Conflict(PeerloopError):
    """The change clashes with what is stored (a duplicate id, a published version...)."""

    def __init__(self, kind: str, key: str, detail: str) -> None:
        self.kind = kind
        self.key = key
        self.detail = detail
        super().__init__(detail)


class AccessDenied(PeerloopError):
    """The caller may see the resource but their roles do not let them read or do this part."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)
