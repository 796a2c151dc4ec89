"""The tamper-evident history: each entry's hash covers its content and the previous hash.

Editing, inserting, deleting or reordering entries breaks the chain; the cycle keeps the hash
and count of its last entry, so removing entries from the end is caught too.

The content an entry's hash covers has a format version, so that it can change without
making older histories unverifiable:

- format 1 (before the version existed): the entry's fields, no `format` key;
- format 2: the same fields and `"format": 2`.

Stored rows do not say which format they were written in; the hash does. An entry verifies
when its hash is that of its content in the format it names or an older one, so histories
written before an upgrade keep verifying, and tampering breaks every format alike.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "GENESIS",
    "HISTORY_FORMAT",
    "ChainProblem",
    "entry_hash",
    "entry_verifies",
    "in_format",
    "verify_chain",
]

GENESIS = "0" * 64
"""The `prev_hash` of a cycle's first history entry."""

HISTORY_FORMAT = 2
"""The format new history entries are hashed in (see the module docstring)."""

_FORMAT_KEY = "format"


def in_format(content: Mapping[str, object], format: int) -> dict[str, object]:
    """`content` laid out as `format` hashes it: format 1 has no `format` key.

    Raises:
        ValueError: for a format this engine does not know.
    """
    if not 1 <= format <= HISTORY_FORMAT:
        raise ValueError(f"unknown history format {format}; known: 1 to {HISTORY_FORMAT}")
    out = {k: v for k, v in content.items() if k != _FORMAT_KEY}
    if format >= 2:
        out[_FORMAT_KEY] = format
    return out


def _format_of(content: Mapping[str, object]) -> int:
    named = content.get(_FORMAT_KEY, 1)
    return named if isinstance(named, int) and not isinstance(named, bool) else 1


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


def entry_verifies(prev_hash: str, stored: str, content: Mapping[str, object]) -> bool:
    """Whether `stored` is the hash of `content` in the format it names or an older one.

    Content without a `format` key is format 1; an unknown format never verifies.
    """
    named = _format_of(content)
    if named > HISTORY_FORMAT:
        return False
    return any(entry_hash(prev_hash, in_format(content, f)) == stored for f in range(named, 0, -1))


def verify_chain(
    cycle_id: str,
    entries: Sequence[tuple[int, str, str, Mapping[str, object]]],
    head: tuple[int, str] | None,
) -> list[ChainProblem]:
    """Check one cycle's history.

    Args:
        cycle_id: the cycle.
        entries: (seq, prev_hash, hash, content) in stored order; the content in the
            current format (`HistoryEntry.content()`) or any older one.
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
        if not entry_verifies(prev_hash, stored, content):
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
