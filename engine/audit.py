"""The tamper-evident history: each entry's hash covers its content and the previous hash.

Editing, inserting, deleting or reordering entries breaks the chain; the cycle keeps the hash
and count of its last entry, so removing entries from the end is caught too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["GENESIS", "ChainProblem", "entry_hash", "verify_chain"]

GENESIS = "0" * 64
"""The `prev_hash` of a cycle's first history entry."""


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """Where a cycle's history stops being trustworthy, and how."""

    cycle_id: str
    seq: int | None
    message: str

    def __str__(self) -> str:
        where = f" entry {self.seq}" if self.seq is not None else ""
        return f"cycle {self.cycle_id}{where}: {self.message}"


def entry_hash(prev_hash: str, content: Mapping[str, object]) -> str:
    """sha256 over the previous hash and the entry's canonical JSON."""
    body = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def verify_chain(
    cycle_id: str,
    entries: Sequence[tuple[int, str, str, Mapping[str, object]]],
    head: tuple[int, str] | None,
) -> list[ChainProblem]:
    """Check one cycle's history.

    Args:
        cycle_id: the cycle.
        entries: (seq, prev_hash, hash, content) in stored order.
        head: (count, last hash) as recorded on the cycle, if it records one.

    Returns:
        Every problem found (empty when the history is intact).
    """
    problems: list[ChainProblem] = []
    prev = GENESIS
    for expected_seq, (seq, prev_hash, stored, content) in enumerate(entries, start=1):
        if seq != expected_seq:
            problems.append(
                ChainProblem(
                    cycle_id,
                    seq,
                    f"is numbered {seq} where {expected_seq} was expected "
                    "(an entry was deleted, inserted or moved)",
                )
            )
        if prev_hash != prev:
            problems.append(
                ChainProblem(cycle_id, seq, "does not follow the entry before it (chain broken)")
            )
        if entry_hash(prev_hash, content) != stored:
            problems.append(ChainProblem(cycle_id, seq, "was changed after it was written"))
        prev = stored
    if head is not None:
        count, last = head
        if count != len(entries) or (entries and last != prev):
            problems.append(
                ChainProblem(
                    cycle_id,
                    None,
                    f"the cycle records {count} entries ending in {last[:12]}; "
                    f"found {len(entries)} ending in {prev[:12]}",
                )
            )
    return problems
