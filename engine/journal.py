"""Turning engine events into hash-chained history entries (shared by every storage adapter)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from engine.audit import entry_hash
from engine.directory import HistoryEntry
from engine.events import CycleStarted, Event, RecordChanged, TransitionFired

__all__ = ["TOKEN_ISSUED_BY", "chain_entries"]

TOKEN_ISSUED_BY = "token_issued_by"  # noqa: S105 - a key of history detail, not a secret
"""The `detail` key naming who made the token the actor acted with, when it was someone else."""


def chain_entries(
    cycle_id: str, events: Sequence[Event], last_seq: int, last_hash: str
) -> list[HistoryEntry]:
    """History entries for the events that belong in history, chained after (last_seq, last_hash).

    Deadline events are not history: they change deadline rows, which keep their own status.
    """
    out: list[HistoryEntry] = []
    seq, prev = last_seq, last_hash
    for event in events:
        entry: HistoryEntry | None = None
        if isinstance(event, TransitionFired):
            entry = HistoryEntry(
                cycle_id=cycle_id,
                seq=seq + 1,
                at=event.at,
                kind="transition",
                actor=event.actor,
                role=event.role,
                transition=event.transition,
                from_stage=event.from_stage,
                to_stage=event.to_stage,
                payload_digest=event.payload_digest,
                forced=event.forced,
                reason=event.reason,
            )
        elif isinstance(event, CycleStarted):
            entry = HistoryEntry(
                cycle_id=cycle_id,
                seq=seq + 1,
                at=event.at,
                kind="started",
                actor=event.actor,
                to_stage=event.stage,
                detail={"template": event.template},
            )
        elif isinstance(event, RecordChanged):
            entry = HistoryEntry(
                cycle_id=cycle_id,
                seq=seq + 1,
                at=event.at,
                kind="record",
                actor=event.actor,
                role=event.role,
                reason=event.note,
                detail={"record": event.kind, "id": event.record_id, "change": event.change},
            )
            if event.digest:
                # The record as it stood after the change: `peerloop audit verify` checks the
                # stored record against it (`engine.integrity`).
                entry = dataclasses.replace(entry, detail={**entry.detail, "digest": event.digest})
        if entry is None:
            continue
        if isinstance(event, CycleStarted | TransitionFired | RecordChanged) and (
            event.token_issued_by
        ):
            # Who really acted: the actor, with a token someone else made. A key of `detail`,
            # which the hash covers; entries without it hash as they always did.
            detail = {**entry.detail, TOKEN_ISSUED_BY: event.token_issued_by}
            entry = dataclasses.replace(entry, detail=detail)
        digest = entry_hash(prev, entry.content())
        entry = dataclasses.replace(entry, prev_hash=prev, hash=digest)
        out.append(entry)
        seq, prev = entry.seq, digest
    return out
