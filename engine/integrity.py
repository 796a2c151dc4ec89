"""What a cycle's history says its records are, and where the stored cycle differs from it.

The history's hash chain proves that no entry was edited, inserted or removed. Each entry of a
record also carries a digest of the record as it stood after the change (`record_digest`), so
that the stored records can be checked against the history too: a finding's text edited in the
database, a piece of evidence slipped in, a stage changed by hand. `differences` names each one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, date, datetime

from engine.cycle import Cycle, school_of
from engine.directory import HistoryEntry

__all__ = ["differences", "record_digest", "record_value"]

_SECTIONS = {
    "evidence": "evidence",
    "finding": "findings",
    "action": "actions",
    "support": "support",
    "participants": "participants",
}
"""Record kinds whose every record is its own entry, by the cycle's field holding them."""


def record_value(cycle: Cycle, kind: str, record_id: str) -> object | None:
    """The record a history entry of `kind` and `record_id` is about, as the cycle holds it now
    (None when it holds none); `...` for a kind whose records carry no digest."""
    if kind in _SECTIONS:
        held: dict[str, object] = getattr(cycle, _SECTIONS[kind])
        return held.get(record_id)
    if kind == "focus":
        return list(cycle.focus)
    if kind == "dates":
        return cycle.dates.get(record_id)
    if kind == "team":
        if cycle.champion is not None and cycle.champion.person_id == record_id:
            return cycle.champion
        return cycle.team.get(record_id)
    if kind in ("self_judgement", "peer_judgement"):
        question, school = school_of(record_id)
        return cycle.judgements.get((kind.split("_")[0], question, school))
    if kind == "signoff":
        signed, school = school_of(record_id)
        stage, _, role = signed.partition(":")
        return cycle.signoffs.get((stage, role, school))
    return ...


def _plain(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        # One moment, however it was written (stored times come back in UTC).
        moment = value.astimezone(UTC) if value.tzinfo is not None else value
        return moment.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def record_digest(value: object) -> str:
    """A short digest of a record's content (`record_value`), the same for equal records."""
    text = json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def differences(cycle: Cycle, entries: Iterable[HistoryEntry]) -> list[tuple[int, str]]:
    """Where the stored cycle differs from what its history says, as (entry seq, words):
    the stage it was last moved to, each record as its last entry left it (entries written
    before records carried digests are taken on trust), and records that no entry made (every
    record is made through an entry). Empty when they agree."""
    found: list[tuple[int, str]] = []
    stage: tuple[int, str] | None = None
    last: dict[tuple[str, str], tuple[int, str, str]] = {}
    seen: set[tuple[str, str]] = set()
    for e in entries:
        if e.kind in ("started", "transition") and e.to_stage:
            stage = (e.seq, e.to_stage)
        if e.kind != "record":
            continue
        if e.detail.get("record") == "template_version":
            stage = None  # moved to a new version, its stage mapped to the new template's
        key = (str(e.detail.get("record")), str(e.detail.get("id")))
        seen.add(key)
        digest = e.detail.get("digest")
        if isinstance(digest, str):
            last[key] = (e.seq, digest, str(e.detail.get("change")))
        else:
            last.pop(key, None)  # an older entry without one: nothing to check it against
    if stage is not None and cycle.stage != stage[1]:
        found.append(
            (stage[0], f"the cycle is at stage {cycle.stage!r}, but its history moved it to "
             f"{stage[1]!r} last")
        )  # fmt: skip
    for (kind, record_id), (seq, digest, change) in sorted(last.items()):
        now = record_value(cycle, kind, record_id)
        if now is ...:
            continue
        if record_digest(now) == digest:
            continue
        what = f"{kind.replace('_', ' ')} {record_id!r}"
        if now is None:
            found.append((seq, f"{what} is gone, but no entry removed it"))
        elif change in ("removed", "erased"):
            found.append((seq, f"{what} is there, but the history removed it"))
        else:
            found.append((seq, f"{what} differs from what the history recorded"))
    for kind, attr in _SECTIONS.items():
        for record_id in getattr(cycle, attr):
            if (kind, record_id) not in seen:
                found.append((0, f"{kind} {record_id!r} is not in the history: nobody made it"))
    return found
