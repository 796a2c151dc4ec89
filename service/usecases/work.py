"""Units of work that keep the events of what they saved, released to the caller on commit.

Every use case changes storage through a unit of work; the events its repositories were given
(a move, a record, a share) are kept by the unit of work and handed on only when it commits,
so that nobody is told about a change that was rolled back. The message bus collects them for
the command it is running (`collecting`) and passes them to its event handlers after it.

While a caller acts with a token someone else made (`acting_with_token_of`), what they save
is stamped with that issuer, so that the cycle's history says who really acted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Self

from engine.cycle import Cycle
from engine.events import CycleStarted, RecordChanged, TransitionFired
from engine.ports import UnitOfWork

__all__ = [
    "EventCollectingUnitOfWork",
    "acting_with_token_of",
    "announce",
    "collecting",
    "emit_after_commit",
]

_SINK: ContextVar[list[object] | None] = ContextVar("peerloop_events", default=None)
_ACTING: ContextVar[tuple[str, str] | None] = ContextVar("peerloop_acting", default=None)


@contextmanager
def acting_with_token_of(person_id: str, issuer: str | None) -> Iterator[None]:
    """Inside the block, `person_id` acts with a token `issuer` made (nothing when None):
    the history entries of what they save name the issuer beside them."""
    token = _ACTING.set((person_id, issuer) if issuer else None)
    try:
        yield
    finally:
        _ACTING.reset(token)


def _stamped(events: Sequence[object]) -> Sequence[object]:
    acting = _ACTING.get()
    if acting is None:
        return events
    person, issuer = acting
    return [
        e._replace(token_issued_by=issuer)
        if isinstance(e, CycleStarted | TransitionFired | RecordChanged) and e.actor == person
        else e
        for e in events
    ]


@contextmanager
def collecting() -> Iterator[list[object]]:
    """Collect the events every unit of work commits inside the block."""
    sink: list[object] = []
    token = _SINK.set(sink)
    try:
        yield sink
    finally:
        _SINK.reset(token)


def announce(*events: object) -> None:
    """Hand events about a change that has already committed to the current collector."""
    sink = _SINK.get()
    if sink is not None:
        sink.extend(events)


class _RecordingCycles:
    def __init__(self, inner: Any, pending: list[object]) -> None:
        self._inner = inner
        self._pending = pending

    def add(self, cycle: Cycle, events: Sequence[object]) -> None:
        events = _stamped(events)
        self._inner.add(cycle, events)
        self._pending.extend(events)

    def save(self, cycle: Cycle, expected_version: int, events: Sequence[object]) -> None:
        events = _stamped(events)
        self._inner.save(cycle, expected_version, events)
        self._pending.extend(events)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class EventCollectingUnitOfWork:
    """Wraps a unit of work: events saved with cycles, or given to `emit`, reach the current
    collector only when `commit()` succeeds."""

    def __init__(self, inner: UnitOfWork) -> None:
        self._inner = inner
        self._pending: list[object] = []

    def __enter__(self) -> Self:
        self._inner.__enter__()
        self.cycles = _RecordingCycles(self._inner.cycles, self._pending)
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def emit(self, *events: object) -> None:
        """Events that no repository records (a grant, a share): released with the commit."""
        self._pending.extend(events)

    def commit(self) -> None:
        self._inner.commit()
        sink = _SINK.get()
        if sink is not None:
            sink.extend(self._pending)
        self._pending.clear()

    def rollback(self) -> None:
        self._pending.clear()
        self._inner.rollback()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._pending.clear()
        self._inner.__exit__(exc_type, exc, tb)


def emit_after_commit(factory: Callable[..., UnitOfWork]) -> Callable[..., Any]:
    """A unit-of-work factory whose units of work collect their events."""

    def make(**kw: Any) -> EventCollectingUnitOfWork:
        return EventCollectingUnitOfWork(factory(**kw))

    return make
