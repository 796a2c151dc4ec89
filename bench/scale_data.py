"""Generate SPP cycles with their deadlines and history straight into PostgreSQL with COPY.

The rows are what Peerloop itself would have written for cycles at every point of their life:
most closed over the past ten years, some withdrawn or on hold, the rest spread over the working
stages with their current stage's deadlines pending (and some of those overdue), every past
deadline fired or cancelled, and a history of the start, some records per stage and each move.
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["NOW", "STAGES", "directory_rows", "generate"]

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
"""The present for the generated data and the dashboard queries."""

# stage, the transition that leaves it, due (days after entering), deadline rows:
# (key, kind, days after entering, transition it fires) - as the SPP template plans them.
_SPP: list[tuple[str, str, int, list[tuple[str, str, int, str | None]]]] = [
    (
        "self_review",
        "submit_self_review",
        42,
        [
            ("due", "due", 42, None),
            ("reminder:0", "reminder", 28, None),
            ("reminder:1", "reminder", 39, None),
            ("expiry:0", "notify", 42, None),
            ("expiry:1", "escalate", 49, None),
        ],
    ),
    (
        "pre_review",
        "start_peer_review",
        21,
        [
            ("due", "due", 21, None),
            ("reminder:0", "reminder", 14, None),
            ("expiry:0", "escalate", 21, None),
        ],
    ),
    (
        "peer_review",
        "complete_peer_review",
        12,
        [
            ("due", "due", 12, None),
            ("reminder:0", "reminder", 9, None),
            ("expiry:0", "notify", 12, None),
            ("expiry:1", "escalate", 17, None),
        ],
    ),
    (
        "improvement_workshop",
        "agree_actions",
        21,
        [
            ("due", "due", 21, None),
            ("reminder:0", "reminder", 14, None),
            ("expiry:0", "notify", 21, None),
            ("expiry:1", "escalate", 28, None),
        ],
    ),
    (
        "support",
        "begin_follow_up",
        112,
        [
            ("due", "due", 112, None),
            ("reminder:0", "reminder", 98, None),
            ("expiry:0", "notify", 112, None),
            ("expiry:1", "fire", 126, "begin_follow_up"),
        ],
    ),
    (
        "follow_up",
        "close",
        28,
        [
            ("due", "due", 28, None),
            ("reminder:0", "reminder", 21, None),
            ("expiry:0", "escalate", 28, None),
        ],
    ),
]
STAGES = [s[0] for s in _SPP]

# Where cycles are, by share: most of ten years of cycles are over.
_OUTCOMES = [("closed", 0.78), ("withdrawn", 0.05), ("on_hold", 0.01)]
_ACTIVE = [0.05, 0.02, 0.015, 0.015, 0.04, 0.02]  # self_review .. follow_up
_NULL = "\\N"
_ROLES = '["partnership_lead"]'
_RECORD_DETAIL = '{"record": "evidence", "id": "ev", "change": "added"}'


def _ts(t: datetime) -> str:
    return t.isoformat()


def directory_rows(cycles: int, rng: random.Random) -> tuple[list[str], list[tuple[str, str]]]:
    """Networks (NLCs of about ten schools) and schools, about 25 cycles per school."""
    n_schools = max(60, cycles // 25)
    n_networks = max(6, n_schools // 10)
    networks = [f"nlc-{k:05d}" for k in range(n_networks)]
    # Networks differ in size: a school's network is drawn with a skew towards the first ones.
    schools = [
        (f"sch-{j:06d}", networks[int(rng.random() ** 1.2 * n_networks)]) for j in range(n_schools)
    ]
    return networks, schools


class _Buffers:
    def __init__(self) -> None:
        self.cycle = io.StringIO()
        self.deadline = io.StringIO()
        self.history = io.StringIO()
        self.deadlines = 0
        self.histories = 0


def generate(
    first: int, last: int, schools: list[tuple[str, str]], rng: random.Random, chunk: int = 5000
) -> Iterator[_Buffers]:
    """COPY text for cycles first..last-1, in chunks; each chunk has all three tables' rows."""
    weights = [w for _, w in _OUTCOMES] + _ACTIVE
    outcomes = [o for o, _ in _OUTCOMES] + list(range(len(_SPP)))
    buf = _Buffers()
    for i in range(first, last):
        school, network = schools[int(rng.random() ** 1.3 * len(schools))]
        outcome = rng.choices(outcomes, weights)[0]
        _cycle(buf, f"cyc_{i:010d}", school, network, outcome, rng)
        if (i - first + 1) % chunk == 0:
            yield buf
            buf = _Buffers()
    if buf.cycle.tell():
        yield buf


def _cycle(
    buf: _Buffers, cid: str, school: str, network: str, outcome: Any, rng: random.Random
) -> None:
    day = timedelta(days=1)
    if isinstance(outcome, int):  # active, in that stage now
        visited, final = outcome + 1, None
    elif outcome == "closed":
        visited, final = len(_SPP), "closed"
    else:
        visited, final = rng.randint(1, len(_SPP)), outcome
    spans = [_SPP[k][2] * rng.uniform(0.5, 1.1) for k in range(visited)]
    if final is None:
        spans[-1] = _SPP[visited - 1][2] * rng.uniform(0.0, 1.15)  # some are overdue
        end = NOW
    else:
        end = NOW - day * rng.uniform(1, 3650 - sum(spans))
    started = end - day * sum(spans)
    hist: list[str] = []
    prev = "0" * 64
    seq = 0

    def entry(at: datetime, kind: str, transition: str, src: str, dest: str, detail: str) -> None:
        nonlocal prev, seq
        seq += 1
        h = f"{cid}{seq:050d}"[-64:].replace("_", "f")
        hist.append(
            f"{cid}\t{seq}\t{_ts(at)}\t{kind}\tp-{school}\tschool_lead\t{transition}\t{src}\t"
            f"{dest}\t{'0' * 64}\tf\t\t{detail}\t{prev}\t{h}\n"
        )
        prev = h

    entry(started, "started", "\\N", "\\N", STAGES[0], "{}")
    t = started
    stage_due = "\\N"
    for k in range(visited):
        stage, leave, _, planned = _SPP[k]
        left = t + day * spans[k] if (final is not None or k < visited - 1) else None
        for key, kind, after, fires in planned:
            due = t + day * after
            if left is None and kind == "due":
                stage_due = _ts(due)
            if left is None:  # the current stage: a due date stays pending until it is left
                status, fired = (
                    ("pending", "\\N") if kind == "due" or due > NOW else ("fired", _ts(due))
                )
            elif kind != "due" and due <= left:
                status, fired = "fired", _ts(due)
            else:
                status, fired = "cancelled", _ts(left)
            buf.deadline.write(
                f"{cid}\t{stage}\t{key}\t{kind}\t{_ts(due)}\t{_ts(t + day * planned[0][2])}\t"
                f"{_ROLES}\t{fires or _NULL}\t\\N\t{status}\t{fired}\t\n"
            )
            buf.deadlines += 1
        for r in range(rng.randint(1, 5)):
            entry(t + day * (r + 1) * 0.1, "record", "\\N", "\\N", "\\N", _RECORD_DETAIL)
        if left is not None:
            if k < visited - 1:
                dest, name = _SPP[k + 1][0], leave
            elif final == "closed":
                dest, name = "closed", leave
            else:
                dest, name = final, "withdraw" if final == "withdrawn" else "pause"
            entry(left, "transition", name, stage, dest, "{}")
            t = left
    stage_now = final or STAGES[visited - 1]
    buf.cycle.write(
        f"{cid}\tspp-cycle\t1\t{school}\t{network}\t{stage_now}\t{seq}\t{_ts(t)}\t"
        f"{_ts(started)}\t{{}}\t[]\t\\N\t{seq}\t{prev}\t{stage_due}\n"
    )
    buf.history.write("".join(hist))
    buf.histories += len(hist)


CYCLE_COLUMNS = (
    "id, template_id, template_version, host_school_id, network_id, stage, version, "
    "stage_entered_at, started_at, dates, focus, champion, history_count, history_head, "
    "stage_due_at"
)
DEADLINE_COLUMNS = (
    "cycle_id, stage, key, kind, due_at, stage_due_at, roles, transition, action_id, status, "
    "fired_at, note"
)
HISTORY_COLUMNS = (
    "cycle_id, seq, at, kind, actor, role, transition, from_stage, to_stage, payload_digest, "
    "forced, reason, detail, prev_hash, hash"
)
