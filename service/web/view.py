"""What the pages show, in words: dates in Europe/London, the stage timeline, history lines."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from zoneinfo import ZoneInfo

from engine.calendar import DEFAULT_TIMEZONE
from engine.cycle import Cycle
from engine.directory import HistoryEntry
from engine.errors import (
    CycleClosed,
    InvalidRecord,
    NotCollectedHere,
    PeerloopError,
    RoleNotAllowed,
    StaleCycle,
)
from engine.template import Template

__all__ = [
    "REFUSED",
    "Step",
    "history_line",
    "in_words",
    "refusal",
    "refusal_status",
    "role_title",
    "sentence",
    "size_in_words",
    "timeline",
]

_RECORDS = {
    "evidence": "evidence",
    "self_judgement": "a self-judgement",
    "peer_judgement": "a peer judgement",
    "judgement": "a judgement",
    "finding": "a finding",
    "action": "an action",
    "action_status": "an action's status",
    "support": "a support link",
    "support_activity": "a support activity",
    "signoff": "a sign-off",
    "team": "the team",
    "focus": "the focus",
    "date": "a date",
    "report_share": "who sees the report",
}


def in_words(value: datetime | date | None, tz: tzinfo | None = None) -> str:
    """`Friday 14 March 2027 at 09:00` (Europe/London), or `Friday 14 March 2027`."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        local = value.astimezone(tz or ZoneInfo(DEFAULT_TIMEZONE))
        return f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M}"
    return f"{value:%A} {value.day} {value:%B %Y}"


def size_in_words(size: int | None) -> str:
    """`20 MB`, `1.5 MB`, `256 KB`, `900 bytes`."""
    if size is None:
        return ""
    if size >= 1024 * 1024:
        mb = size / (1024 * 1024)
        return f"{mb:.0f} MB" if mb >= 10 or mb == int(mb) else f"{mb:.1f} MB"
    if size >= 1024:
        return f"{size // 1024} KB"
    return f"{size} bytes"


def role_title(template: Template, role: str) -> str:
    for r in template.roles:
        if r.id == role:
            return r.title
    return role.replace("_", " ").capitalize() if role else ""


@dataclass(frozen=True, slots=True)
class Step:
    stage_id: str
    title: str
    state: str  # "done", "current" or "next"


def timeline(template: Template, cycle: Cycle, history: list[HistoryEntry]) -> list[Step]:
    """The main path of stages, from the first: done, the current one, then what comes next.

    The main path follows each stage's first move forward; side stages (on hold, withdrawn)
    appear only when the cycle is in one.
    """
    order: list[str] = []
    first = template.initial_stage.id
    queue, seen = deque([first]), {first}
    while queue:
        stage = queue.popleft()
        order.append(stage)
        for t in template.transitions_from(stage):
            dest = template.stage(t.dest)
            if t.dest not in seen and len(t.sources) == 1:
                seen.add(t.dest)
                queue.append(t.dest)
                if not dest.terminal:
                    break
    if cycle.stage not in order:
        order.append(cycle.stage)
    visited = {e.to_stage for e in history if e.to_stage} | {first}
    at = order.index(cycle.stage)
    steps = []
    for i, stage_id in enumerate(order):
        if stage_id == cycle.stage:
            state = "current"
        elif i < at and stage_id in visited:
            state = "done"
        elif i < at:
            continue  # a stage the cycle went round
        else:
            state = "next"
        steps.append(Step(stage_id, template.stage(stage_id).title, state))
    return steps


def _named(text: str, names: Mapping[str, str] | None) -> str:
    """Record notes name people by id (the history is kept without personal details); the
    page shows the names it knows instead."""
    if not names:
        return text
    for pid, name in names.items():
        if pid in text:
            text = re.sub(rf"(?<![\w-]){re.escape(pid)}(?![\w-])", name, text)
    return text


def history_line(
    template: Template, e: HistoryEntry, names: Mapping[str, str] | None = None
) -> str:
    """What happened, in words (who and when are shown beside it)."""

    def title(stage: str | None) -> str:
        return template.stage(stage).title if stage and template.has_stage(stage) else stage or ""

    if e.kind == "started":
        return f"started the cycle at {title(e.to_stage)}"
    if e.kind == "transition":
        t = template.transition(e.transition or "")
        move = t.title if t else e.transition
        text = f"made the move “{move}”: {title(e.from_stage)} → {title(e.to_stage)}"
        if e.forced:
            text += f" (forced past its rules: {e.reason})"
        return text
    if e.kind == "record":
        if e.reason:
            return _named(e.reason, names)
        record = str(e.detail.get("record", "a record"))
        change = str(e.detail.get("change", "changed"))
        return f"{change} {_RECORDS.get(record, record.replace('_', ' '))}"
    return e.kind


REFUSED = (InvalidRecord, NotCollectedHere, RoleNotAllowed, CycleClosed, StaleCycle)
"""What the rules refuse of a record, said on the page by `refusal`; anything else (a cycle
the caller may not see) is the error page's."""


def refusal_status(exc: PeerloopError) -> int:
    """400 for what was typed, 409 for the stage, a role or a change made meanwhile."""
    return 400 if isinstance(exc, InvalidRecord) else 409


_COLLECTED = {
    "evidence": "evidence",
    "self_judgements": "self-judgements",
    "peer_judgements": "peer judgements",
    "findings": "findings",
    "focus": "the focus",
    "team": "the team",
    "dates": "dates",
    "actions": "actions",
    "action_status": "progress on actions",
    "support": "school-to-school support",
    "signoffs": "sign-offs",
}


def sentence(text: str) -> str:
    """The text as a sentence: its first letter a capital."""
    return text[:1].upper() + text[1:] if text else text


def refusal(template: Template, cycle: Cycle, exc: PeerloopError, what: str = "do this") -> str:
    """Why a record was refused, in words for the person who tried (`what` they tried)."""
    stage = template.stage(cycle.stage).title if template.has_stage(cycle.stage) else cycle.stage
    if isinstance(exc, InvalidRecord):
        return sentence(exc.detail)
    if isinstance(exc, NotCollectedHere):
        kind = _COLLECTED.get(exc.kind, exc.kind.replace("_", " "))
        return f"{stage} is not the stage to record {kind}: nothing was saved"
    if isinstance(exc, RoleNotAllowed):
        if exc.detail:
            return sentence(exc.detail)
        roles = " or ".join(role_title(template, r).lower() for r in exc.allowed)
        return f"Only the {roles} may {what} at {stage}: nothing was saved"
    if isinstance(exc, CycleClosed):
        return f"This cycle has ended ({stage}): nothing more can be recorded on it"
    if isinstance(exc, StaleCycle):
        return "Someone else changed this cycle meanwhile: nothing was saved; look and try again"
    return sentence(str(exc))
