"""Generate SPP cycles with their deadlines and history straight into PostgreSQL with COPY.

The rows are what Peerloop itself would have written for cycles at every point of their life:
most closed over the past ten years, some withdrawn or on hold, the rest spread over the working
stages with their current stage's deadlines pending (and some of those overdue), every past
deadline fired or cancelled, and a history of the start, some records per stage and each move.
A cycle past its peer review has its report (peer judgements and findings), one past its
workshop its actions (done by the end, some overdue while under way), and some reports are
shared with the host's network (most of the recent ones, few of the old).
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "NOW",
    "QUESTIONS",
    "RECORD_TABLES",
    "STAGES",
    "directory_rows",
    "generate",
    "people_rows",
]

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
_REVIEWED = STAGES.index("peer_review") + 1
"""Stages visited by a cycle whose peer review is complete (it entered the workshop)."""
_AGREED = STAGES.index("improvement_workshop") + 1
"""Stages visited by a cycle whose actions are agreed (it entered support)."""
QUESTIONS = [
    "impact.outcomes",
    "impact.disadvantaged",
    "forward.vision",
    "forward.capacity",
    "inward.teaching",
    "inward.self_evaluation",
    "outward.partnership",
    "outward.community",
]
"""The SPP framework's questions, which the reports' judgements and findings are on."""
_RECENT = timedelta(days=3 * 365)
"""Reports reviewed this recently are mostly shared with the network; older ones seldom."""
_DONE = ("met", "met", "partially_met", "not_met")

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


def people_rows(networks: list[str]) -> tuple[str, str]:
    """COPY text for person and role_grant: each network's partnership lead (`p-pl-<network>`),
    the admin (`p-admin`) and a member of the borough's forum (`p-forum`, a partnership lead
    scoped to every network)."""
    people: list[tuple[str, str, str, str | None]] = [
        (f"p-pl-{k}", "partnership_lead", "network", k) for k in networks
    ]
    people += [
        ("p-admin", "admin", "global", None),
        ("p-forum", "partnership_lead", "global", None),
    ]
    person = "".join(f"{p}\tPerson {p}\t{p}@example.org\t\\N\n" for p, _, _, _ in people)
    grant = "".join(
        f"g-{p}\t{p}\t{role}\t{kind}\t{scope or _NULL}\t\\N\t{_ts(NOW)}\n"
        for p, role, kind, scope in people
    )
    return person, grant


class _Buffers:
    def __init__(self) -> None:
        self.cycle = io.StringIO()
        self.deadline = io.StringIO()
        self.history = io.StringIO()
        self.judgement = io.StringIO()
        self.finding = io.StringIO()
        self.action = io.StringIO()
        self.report_share = io.StringIO()
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
    entered: list[datetime] = []
    for k in range(visited):
        stage, leave, _, planned = _SPP[k]
        entered.append(t)
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
    if visited > _REVIEWED:
        _report(buf, cid, school, network, entered, final, rng)
    stage_now = final or STAGES[visited - 1]
    buf.cycle.write(
        f"{cid}\tspp-cycle\t1\t{school}\t{network}\t{stage_now}\t{seq}\t{_ts(t)}\t"
        f"{_ts(started)}\t{{}}\t[]\t\\N\t{seq}\t{prev}\t{stage_due}\n"
    )
    buf.history.write("".join(hist))
    buf.histories += len(hist)


def _report(
    buf: _Buffers,
    cid: str,
    school: str,
    network: str,
    entered: list[datetime],
    final: str | None,
    rng: random.Random,
) -> None:
    """A reviewed cycle's report (peer judgements, findings), its actions once agreed, and
    perhaps a share of the report with the host's network."""
    reviewed = entered[_REVIEWED]  # entering the workshop: the peer review was complete
    reviewer = f"p-rev-{school}"
    for q in rng.sample(QUESTIONS, rng.randint(2, 4)):
        buf.judgement.write(
            f"{cid}\tpeer\t{q}\tWhat the reviewers saw on {q}.\t\\N\t{reviewer}\t{_ts(reviewed)}\n"
        )
    findings = [f"{cid}-f{j}" for j in range(rng.randint(1, 4))]
    for j, fid in enumerate(findings):
        kind = "strength" if j % 2 == 0 else "area_to_develop"
        buf.finding.write(
            f"{fid}\t{cid}\t{kind}\tA {kind.replace('_', ' ')} the review found.\t"
            f"{rng.choice(QUESTIONS)}\t{reviewer}\t{_ts(reviewed)}\n"
        )
    if len(entered) > _AGREED:
        agreed = entered[_AGREED]
        for j in range(rng.randint(2, 4)):
            due = (agreed + timedelta(days=rng.randint(20, 110))).date()
            if final == "closed":  # closing needs every action followed up (SPP's rule)
                status = rng.choice(_DONE)
            else:  # under way (or stopped): open, some overdue, a few already done
                status = rng.choice(_DONE) if rng.random() < 0.2 else _NULL
            buf.action.write(
                f"{cid}-a{j}\t{cid}\tAction {j} of the plan\tp-head-{school}\t{due.isoformat()}\t"
                f"Seen at the follow-up\t{status}\t\t{findings[j % len(findings)]}\n"
            )
    if rng.random() < (0.5 if NOW - reviewed < _RECENT else 0.05):
        shared = reviewed + timedelta(days=rng.uniform(1, 30))
        revoked = _ts(shared + timedelta(days=60)) if rng.random() < 0.05 else _NULL
        buf.report_share.write(
            f"sh-{cid}\t{cid}\tnetwork\t{network}\tp-head-{school}\t{_ts(shared)}\t{revoked}\n"
        )


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
RECORD_TABLES = (
    ("judgement", 'cycle_id, kind, question_id, narrative, grade, "by", at'),
    ("finding", 'id, cycle_id, kind, text, question_id, "by", at'),
    (
        "action",
        "id, cycle_id, title, owner, due, success_criteria, status, status_note, finding_id",
    ),
    ("report_share", "id, cycle_id, grantee_kind, grantee_id, shared_by, shared_at, revoked_at"),
)
"""The report's, the plan's and the shares' tables, with the columns `generate` writes."""
