"""Golden history hashes: what an entry's hash covers must not change by accident.

`golden/history_format1.json` holds entries as Peerloop wrote them before history content had a
format version (made by the code of commit 6b53ec2; never regenerate it): they must keep
verifying. `golden/history_format2.json` pins the hashes of today's format for a fixed sequence
of events; after a deliberate change of format, regenerate it with
`python -m tests.unit.test_history_format` and say why in the commit.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine.audit import (
    GENESIS,
    HISTORY_FORMAT,
    entry_hash,
    entry_verifies,
    in_format,
    verify_chain,
)
from engine.deadlines import PlannedDeadline
from engine.directory import HistoryEntry
from engine.events import (
    CycleStarted,
    DeadlinesCancelled,
    DeadlinesScheduled,
    Event,
    RecordChanged,
    TransitionFired,
)
from engine.journal import chain_entries
from engine.machine import payload_digest

GOLDEN = Path(__file__).parent / "golden"
FORMAT1 = GOLDEN / "history_format1.json"
FORMAT2 = GOLDEN / "history_format2.json"

LONDON = ZoneInfo("Europe/London")


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 9, day, hour, minute, tzinfo=LONDON)


_PAYLOAD = {"visit_days": 2, "note": "Visit on Tuesday and Wednesday"}


def events() -> list[Event]:
    """One of each kind of event, history or not, in the order a cycle could make them."""
    return [
        CycleStarted("c-golden", "spp-cycle@1", "self_review", "p_lead", _at(7, 9)),
        DeadlinesScheduled(
            "c-golden",
            "self_review",
            (
                PlannedDeadline(
                    "due", "self_review", "due", _at(21, 9), _at(21, 9), ("school_lead",)
                ),
            ),
        ),
        RecordChanged(
            "c-golden", "evidence", "ev_1", "added", "p_head", _at(8, 10, 30), 2, role="school_lead"
        ),
        RecordChanged(
            "c-golden",
            "evidence",
            "ev_1",
            "erased",
            "p_head",
            _at(8, 11),
            3,
            "Parent's request",
            "school_lead",
        ),
        # Made by the service with no role (a report share), constructed positionally.
        RecordChanged(
            "c-golden", "report_share", "sh_1", "added", "p_head", _at(8, 12), 4, "shared"
        ),
        TransitionFired(
            "c-golden",
            "submit_self_review",
            "self_review",
            "pre_review",
            "p_head",
            "school_lead",
            _at(9, 15),
            5,
            _PAYLOAD,
            payload_digest(_PAYLOAD),
        ),
        DeadlinesCancelled("c-golden", "self_review", _at(9, 15)),
        RecordChanged(
            "c-golden",
            "team",
            "p_rev",
            "added",
            "p_lead",
            datetime(2026, 9, 10, 8, 0, tzinfo=UTC),
            6,
            "added p_rev as reviewer",
            "partnership_lead",
        ),
        TransitionFired(
            "c-golden",
            "pause",
            "pre_review",
            "on_hold",
            "system:scheduler",
            "system",
            _at(10, 18),
            7,
        ),
        TransitionFired(
            "c-golden",
            "withdraw",
            "on_hold",
            "withdrawn",
            "p_admin",
            "admin",
            _at(11, 16),
            8,
            forced=True,
            reason="merged into another school",
        ),
    ]


def row(e: HistoryEntry) -> dict[str, Any]:
    """An entry as a history row stores it (what the golden files hold)."""
    return {
        "cycle_id": e.cycle_id,
        "seq": e.seq,
        "at": e.at.isoformat(),
        "kind": e.kind,
        "actor": e.actor,
        "role": e.role,
        "transition": e.transition,
        "from_stage": e.from_stage,
        "to_stage": e.to_stage,
        "payload_digest": e.payload_digest,
        "forced": e.forced,
        "reason": e.reason,
        "detail": e.detail,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


def entry(r: dict[str, Any]) -> HistoryEntry:
    return HistoryEntry(**{**r, "at": datetime.fromisoformat(r["at"])})


def load(path: Path) -> list[HistoryEntry]:
    return [entry(r) for r in json.loads(path.read_text())]


def stored(entries: list[HistoryEntry]) -> list[tuple[int, str, str, dict[str, object]]]:
    """What the service verifies: each entry's content as `content()` lays it out today."""
    return [(e.seq, e.prev_hash, e.hash, e.content()) for e in entries]


def problems(entries: list[HistoryEntry]) -> list[str]:
    head = (len(entries), entries[-1].hash)
    return [str(p) for p in verify_chain("c-golden", stored(entries), head)]


# --- today's format ------------------------------------------------------------------------------


def test_todays_hashes_are_the_golden_ones() -> None:
    written = [row(e) for e in chain_entries("c-golden", events(), 0, GENESIS)]
    assert written == json.loads(FORMAT2.read_text())


def test_the_golden_sequence_has_an_entry_of_each_kind() -> None:
    entries = load(FORMAT2)
    assert [(e.kind, e.role, e.forced) for e in entries] == [
        ("started", "", False),
        ("record", "school_lead", False),
        ("record", "school_lead", False),
        ("record", "", False),
        ("transition", "school_lead", False),
        ("record", "partnership_lead", False),
        ("transition", "system", False),
        ("transition", "admin", True),
    ]  # deadline events are not history: they leave no entry


def test_todays_entries_carry_the_format_and_verify() -> None:
    entries = load(FORMAT2)
    assert HISTORY_FORMAT == 2
    assert all(e.content()["format"] == 2 for e in entries)
    assert all(entry_hash(e.prev_hash, e.content()) == e.hash for e in entries)
    # The format is hashed: the same fields without it do not give today's hash.
    assert all(entry_hash(e.prev_hash, e.content(format=1)) != e.hash for e in entries)
    assert problems(entries) == []


def test_a_record_entry_keeps_the_role_it_was_made_in() -> None:
    team = next(e for e in load(FORMAT2) if e.detail.get("record") == "team")
    assert (team.role, team.reason) == ("partnership_lead", "added p_rev as reviewer")


# --- entries written before the format version ----------------------------------------------------


def test_entries_written_before_the_format_version_still_verify() -> None:
    entries = load(FORMAT1)
    assert all("format" not in e.content(format=1) for e in entries)
    assert all(entry_hash(e.prev_hash, e.content(format=1)) == e.hash for e in entries)
    assert problems(entries) == []


def test_a_history_upgraded_halfway_verifies() -> None:
    old = load(FORMAT1)
    more: list[Event] = [
        RecordChanged(
            "c-golden", "finding", "f1", "added", "p_rev", _at(14, 9), 9, role="reviewer"
        ),
    ]
    new = chain_entries("c-golden", more, old[-1].seq, old[-1].hash)
    assert new[0].content()["format"] == 2
    assert problems([*old, *new]) == []


# --- tampering ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [FORMAT1, FORMAT2], ids=["format 1", "format 2"])
@pytest.mark.parametrize(
    "change",
    [
        {"reason": "nothing to see"},
        {"actor": "p_someone_else"},
        {"role": "admin"},
        {"detail": {"record": "evidence", "id": "ev_2", "change": "added"}},
    ],
    ids=["reason", "actor", "role", "detail"],
)
def test_tampering_is_detected_in_either_format(path: Path, change: dict[str, Any]) -> None:
    entries = load(path)
    entries[2] = dataclasses.replace(entries[2], **change)
    assert problems(entries) == ["cycle c-golden entry 3: was changed after it was written"]


def test_a_content_naming_an_unknown_format_never_verifies() -> None:
    e = load(FORMAT2)[0]
    future = {**e.content(), "format": 3}
    assert not entry_verifies(e.prev_hash, entry_hash(e.prev_hash, future), future)
    assert entry_verifies(e.prev_hash, e.hash, e.content())
    with pytest.raises(ValueError, match="unknown history format 3"):
        in_format(e.content(), 3)
    with pytest.raises(ValueError, match="unknown history format 0"):
        e.content(format=0)


def main() -> None:
    """Rewrite the format-2 golden file from today's code (after a deliberate change only)."""
    written = [row(e) for e in chain_entries("c-golden", events(), 0, GENESIS)]
    FORMAT2.write_text(json.dumps(written, indent=2) + "\n")


if __name__ == "__main__":
    main()
