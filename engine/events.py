"""Events the engine returns after a change; adapters store them, the service reacts to them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from engine.deadlines import PlannedDeadline

__all__ = [
    "CycleStarted",
    "DeadlinesCancelled",
    "DeadlinesScheduled",
    "Event",
    "RecordChanged",
    "TransitionFired",
]


@dataclass(frozen=True, slots=True)
class CycleStarted:
    cycle_id: str
    template: str
    stage: str
    actor: str
    at: datetime


@dataclass(frozen=True, slots=True)
class TransitionFired:
    """A cycle moved. `forced` moves were made by an admin past the rules, with `reason`."""

    cycle_id: str
    transition: str
    from_stage: str
    to_stage: str
    actor: str
    role: str
    at: datetime
    version: int
    payload: Mapping[str, object] = field(default_factory=dict)
    payload_digest: str = ""
    forced: bool = False
    reason: str = ""


@dataclass(frozen=True, slots=True)
class DeadlinesCancelled:
    """Every pending deadline of `stage` (the stage just left) no longer applies."""

    cycle_id: str
    stage: str
    at: datetime


@dataclass(frozen=True, slots=True)
class DeadlinesScheduled:
    cycle_id: str
    stage: str
    deadlines: tuple[PlannedDeadline, ...]


@dataclass(frozen=True, slots=True)
class RecordChanged:
    """Something the cycle collects was added, changed or removed (evidence, an action...)."""

    cycle_id: str
    kind: str
    record_id: str
    change: str
    actor: str
    at: datetime
    version: int
    note: str = ""


Event = CycleStarted | TransitionFired | DeadlinesCancelled | DeadlinesScheduled | RecordChanged
