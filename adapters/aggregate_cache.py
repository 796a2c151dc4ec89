"""Recently used cycles, kept between units of work so that a move need not reload them.

Loading a cycle means its row and seven record tables; a move then writes only the row,
history and deadlines. The cache holds the aggregate as it was committed, keyed by the cycle's
version *and* its history head. The cycle row is still read in every unit of work, and an
entry is used only when both match: every change bumps the version and appends to the
hash-chained history, so a match means the records are the ones stored, even across processes
sharing the database or a database restored from a backup (a restored cycle reaching the same
version again has a different history, hence a different head). The head hashes what each
entry says happened (its kind, record, actor and time), not the record's text, so the rare
case it cannot tell apart is a restore followed by the very same changes at the very same
instants; docs/operations.md says to restore with Peerloop stopped, which empties the cache.

Entries are copies, in and out: the engine changes the cycle it is given in place.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict

from sqlalchemy.engine import Engine

from engine.cycle import Cycle

__all__ = ["DEFAULT_SIZE", "AggregateCache", "cache_for", "copy_cycle"]

DEFAULT_SIZE = 4096
"""Cycles kept per database: a borough runs hundreds a year; each takes a few kilobytes."""


def copy_cycle(cycle: Cycle) -> Cycle:
    """A copy that shares nothing mutable with `cycle` (its records are frozen values)."""
    return Cycle(
        id=cycle.id,
        template_id=cycle.template_id,
        template_version=cycle.template_version,
        host_school_id=cycle.host_school_id,
        network_id=cycle.network_id,
        stage=cycle.stage,
        stage_entered_at=cycle.stage_entered_at,
        started_at=cycle.started_at,
        version=cycle.version,
        dates=dict(cycle.dates),
        focus=cycle.focus,
        team=dict(cycle.team),
        champion=cycle.champion,
        evidence=dict(cycle.evidence),
        judgements=dict(cycle.judgements),
        findings=dict(cycle.findings),
        actions=dict(cycle.actions),
        support=dict(cycle.support),
        signoffs=dict(cycle.signoffs),
        participants=dict(cycle.participants),
    )


class AggregateCache:
    """A bounded, thread-safe map of cycle id to (version, history head, committed cycle)."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[str, tuple[int, str, Cycle]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, cycle_id: str, version: int, head: str) -> Cycle | None:
        """A copy of the cycle if the cached one is at exactly this version and head."""
        with self._lock:
            entry = self._entries.get(cycle_id)
            if entry is None or entry[0] != version or entry[1] != head:
                self.misses += 1
                return None
            self._entries.move_to_end(cycle_id)
            self.hits += 1
            cycle = entry[2]
        return copy_cycle(cycle)

    def put(self, cycle: Cycle, head: str) -> None:
        """Keep `cycle` (already a copy the caller will not change) as committed at `head`."""
        if self.size <= 0:
            return
        with self._lock:
            self._entries[cycle.id] = (cycle.version, head, cycle)
            self._entries.move_to_end(cycle.id)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def resize(self, size: int) -> None:
        with self._lock:
            self.size = size
            while len(self._entries) > max(size, 0):
                self._entries.popitem(last=False)

    def discard(self, cycle_id: str) -> None:
        with self._lock:
            self._entries.pop(cycle_id, None)

    def __len__(self) -> int:
        return len(self._entries)


_CACHES: weakref.WeakKeyDictionary[Engine, AggregateCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def cache_for(engine: Engine, size: int | None = None) -> AggregateCache:
    """The cache shared by every unit of work on `engine` (one database, one cache).

    `size` sets how many cycles it keeps (0: none); by default it stays as it is.
    """
    with _CACHES_LOCK:
        cache = _CACHES.get(engine)
        if cache is None:
            cache = _CACHES[engine] = AggregateCache(DEFAULT_SIZE if size is None else size)
        elif size is not None:
            cache.resize(size)
        return cache
