"""Events the engine returns after a change; adapters store them, the service reacts to them.

Events are NamedTuples: immutable like frozen dataclasses, and several times cheaper to build,
which matters on the transition hot path (see bench/engine.py).

`token_issued_by`, last in the events that go into history, names who made the token the actor
acted with, when that was someone else (an admin, the operator); empty otherwise. The engine
never sets it: the service stamps it on what a caller's request saves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import NamedTuple

from engine.deadlines import PlannedDeadline

__all__ = [
    "CycleStarted",
    "DeadlinesCancelled",
    "DeadlinesScheduled",
    "Event",
    "RecordChanged",
    "TransitionFired",
    "stage_due",
]


class CycleStarted(NamedTuple):
    cycle_id: str
    template: str
    stage: str
    actor: str
    at: datetime
    token_issued_by: str = ""


class TransitionFired(NamedTuple):
    """A cycle moved. `forced` moves were made by an admin past the rules, with `reason`."""

    cycle_id: str
    transition: str
    from_stage: str
    to_stage: str
    actor: str
    role: str
    at: datetime
    version: int
    payload: Mapping[str, object] = MappingProxyType({})
    payload_digest: str = ""
    forced: bool = False
    reason: str = ""
    token_issued_by: str = ""


class DeadlinesCancelled(NamedTuple):
    """Every pending deadline of `stage` (the stage just left) no longer applies."""

    cycle_id: str
    stage: str
    at: datetime


class DeadlinesScheduled(NamedTuple):
    cycle_id: str
    stage: str
    deadlines: tuple[PlannedDeadline, ...]


class RecordChanged(NamedTuple):
    """Something the cycle collects was added, changed or removed (evidence, an action...).

    `role` is the role the actor recorded it in (the one the stage allows for that kind);
    empty where none applies. It comes last so that positional constructors keep working.
    """

    cycle_id: str
    kind: str
    record_id: str
    change: str
    actor: str
    at: datetime
    version: int
    note: str = ""
    role: str = ""
    token_issued_by: str = ""
    digest: str = ""
    """The record's content after the change (`engine.integrity.record_digest`), for the
    history to hold; empty for a kind without one."""


Event = CycleStarted | TransitionFired | DeadlinesCancelled | DeadlinesScheduled | RecordChanged


def stage_due(events: Iterable[Event]) -> tuple[bool, datetime | None]:
    """Whether these events change when the cycle's current stage is due, and to what.

    A stage's due time is what makes a cycle overdue: it holds until the cycle leaves the
    stage, whatever the deadlines' own rows say (a `due` row has fired once its time passed).
    Leaving a stage clears it; planning a stage sets it (None for a stage with no due time).
    """
    changed, due = False, None
    for event in events:
        if isinstance(event, DeadlinesCancelled):
            changed, due = True, None
        elif isinstance(event, DeadlinesScheduled):
            changed = True
            due = next((d.at for d in event.deadlines if d.kind == "due"), None)
    return changed, due
