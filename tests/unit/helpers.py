"""Shared builders for the engine's example-based unit tests: template mappings, cycles, actors."""

from __future__ import annotations

import copy
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.calendar import TermCalendar
from engine.cycle import Actor, Cycle
from engine.issues import Issue
from engine.template import Template
from engine.validation import build_template

__all__ = [
    "LONDON",
    "NOW",
    "Q1_TEXT",
    "Q2_TEXT",
    "Doc",
    "actor",
    "autumn_2026_calendar",
    "build",
    "full_template",
    "issue_at",
    "make_cycle",
    "minimal_template",
]

Doc = dict[str, Any]

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 9, 7, 9, 0, tzinfo=LONDON)
"""Monday of the first full week of the 2026 autumn term, 09:00 in London (summer time)."""

Q1_TEXT = "To what extent do all groups of pupils achieve well?"
Q2_TEXT = "To what extent is the school's self-evaluation accurate and rooted in evidence?"

_MINIMAL: Doc = {
    "format": 1,
    "id": "mini",
    "version": 1,
    "title": "Mini review",
    "roles": [
        {"id": "lead", "title": "Review lead"},
        {"id": "head", "title": "Host headteacher"},
    ],
    "dates": [{"id": "visit_date", "title": "Review visit"}],
    "framework": {
        "sections": [
            {
                "id": "s1",
                "title": "Our Impact",
                "questions": [{"id": "q1", "text": Q1_TEXT}, {"id": "q2", "text": Q2_TEXT}],
            }
        ],
        "scale": [{"id": "strong", "label": "Strong"}, {"id": "weak", "label": "Weak"}],
    },
    "stages": [
        {
            "id": "start",
            "title": "Start",
            "initial": True,
            "collects": {"evidence": ["head"]},
            "deadline": {
                "due": "P14D",
                "reminders": ["P3D"],
                "on_expiry": [{"notify": ["head"]}, {"fire": "go", "after": "P1D"}],
            },
        },
        {"id": "middle", "title": "Middle"},
        {"id": "done", "title": "Done", "terminal": True},
    ],
    "transitions": [
        {
            "id": "go",
            "title": "Go on",
            "from": "start",
            "to": "middle",
            "roles": ["lead"],
            "requires": [{"evidence_per_question": {"min": 1}}],
        },
        {"id": "finish", "title": "Finish", "from": "middle", "to": "done", "roles": ["lead"]},
    ],
}


def minimal_template() -> Doc:
    """A small valid template mapping (a fresh deep copy: tests may change it freely).

    Stages `start` (initial, with a deadline) -> `middle` -> `done` (terminal); roles `lead` and
    `head`; one date `visit_date`; two questions `q1`, `q2` with a two-point scale.
    """
    return copy.deepcopy(_MINIMAL)


_FULL: Doc = {
    "format": 1,
    "id": "full",
    "version": 3,
    "title": "Peer review cycle",
    "roles": [
        {"id": "head", "title": "Host headteacher"},
        {"id": "staff", "title": "Host school staff"},
        {"id": "plead", "title": "Partnership lead"},
        {"id": "rlead", "title": "Review lead"},
        {"id": "reviewer", "title": "Peer reviewer"},
        {"id": "champion", "title": "Improvement champion"},
    ],
    "dates": [{"id": "visit_date", "title": "Review visit"}],
    "framework": {
        "sections": [
            {
                "id": "impact",
                "title": "Our Impact",
                "questions": [{"id": "q1", "text": Q1_TEXT}, {"id": "q2", "text": Q2_TEXT}],
            }
        ],
    },
    "stages": [
        {
            "id": "self_review",
            "title": "Self-review",
            "initial": True,
            "collects": {
                "evidence": ["head", "staff"],
                "self_judgements": ["head"],
                "focus": ["head"],
            },
            "deadline": {
                "due": "P14D",
                "reminders": ["P3D"],
                "on_expiry": [{"notify": ["head"]}, {"escalate": ["plead"], "after": "P7D"}],
            },
        },
        {
            "id": "review",
            "title": "Peer review",
            "collects": {
                "team": ["plead"],
                "dates": ["plead", "rlead"],
                "peer_judgements": ["rlead", "reviewer"],
                "findings": ["rlead", "reviewer"],
            },
            "deadline": {
                "due": "P10D",
                "from": "visit_date",
                "reminders": ["P3D"],
                "on_expiry": [{"escalate": ["plead"]}],
            },
        },
        {
            "id": "workshop",
            "title": "Improvement workshop",
            "collects": {
                "team": ["plead"],
                "actions": ["champion", "head"],
                "signoffs": ["head", "champion"],
            },
            "deadline": {"due": {"school_days": 10}},
        },
        {
            "id": "support",
            "title": "School-to-school support",
            "collects": {"support": ["head", "plead"], "action_status": ["head", "plead"]},
            "deadline": {"due": "P4W", "on_expiry": [{"fire": "finish", "after": "P7D"}]},
        },
        {"id": "closed", "title": "Closed", "terminal": True},
        {"id": "withdrawn", "title": "Withdrawn", "terminal": True},
    ],
    "transitions": [
        {
            "id": "submit",
            "title": "Submit the self-review",
            "from": "self_review",
            "to": "review",
            "roles": ["head"],
            "requires": [
                "self_judgements_complete",
                {"evidence_per_question": {"min": 1}},
                "focus_chosen",
            ],
        },
        {
            "id": "send_back",
            "title": "Send back for more evidence",
            "from": "review",
            "to": "self_review",
            "roles": ["rlead", "plead"],
        },
        {
            "id": "complete_review",
            "title": "Complete the peer review",
            "from": "review",
            "to": "workshop",
            "roles": ["rlead"],
            "requires": [
                {"review_team_size": {"min": 2, "max": 3}},
                "review_lead_assigned",
                {"date_set": {"date": "visit_date"}},
                "findings_recorded",
            ],
        },
        {
            "id": "agree",
            "title": "Agree the action plan",
            "from": "workshop",
            "to": "support",
            "roles": ["champion"],
            "requires": [
                "champion_independent",
                "actions_agreed",
                {"signed_off": {"roles": ["head", "champion"]}},
            ],
        },
        {
            "id": "finish",
            "title": "Close the cycle",
            "from": "support",
            "to": "closed",
            "roles": ["plead"],
            "requires": ["support_logged", {"actions_followed_up": {"final": True}}],
        },
        {
            "id": "withdraw",
            "title": "Withdraw",
            "from": ["self_review", "review", "workshop", "support"],
            "to": "withdrawn",
            "roles": ["head", "plead"],
        },
    ],
}


def full_template() -> Doc:
    """A valid template mapping that exercises every kind of record and most requirements.

    self_review -> review -> workshop -> support -> closed, with `withdraw` from every open stage
    and `send_back` from review; the review deadline counts from the `visit_date`.
    """
    return copy.deepcopy(_FULL)


def build(doc: Doc) -> Template:
    """The template of a mapping that must be valid (fails the test with every issue if not)."""
    return build_template(doc)


def make_cycle(template: Template, stage: str | None = None, **changes: Any) -> Cycle:
    """A fresh cycle of `template` for host school `host` in network `nlc1`, in `stage`."""
    fields: dict[str, Any] = {
        "id": "c1",
        "template_id": template.id,
        "template_version": template.version,
        "host_school_id": "host",
        "network_id": "nlc1",
        "stage": stage or template.initial_stage.id,
        "stage_entered_at": NOW,
        "started_at": NOW,
    }
    fields.update(changes)
    return Cycle(**fields)


def actor(*roles: str, person: str = "p1", school: str | None = None) -> Actor:
    return Actor(person, frozenset(roles), school)


def issue_at(issues: list[Issue], location: str, code: str) -> Issue:
    """The one issue at `location` with `code`; fails listing every issue otherwise."""
    found = [i for i in issues if i.location == location and i.code == code]
    assert len(found) == 1, f"expected one {code} at {location}, got: {[str(i) for i in issues]}"
    return found[0]


def autumn_2026_calendar() -> TermCalendar:
    """A London borough's 2026-27 school year: three terms split by half-terms, in Europe/London.

    Autumn: Thu 3 Sep - Fri 23 Oct 2026, half-term 26-30 Oct, Mon 2 Nov - Fri 18 Dec.
    Spring: Mon 4 Jan - Fri 12 Feb 2027, half-term 15-19 Feb, Mon 22 Feb - Thu 25 Mar.
    Summer: Mon 12 Apr - Fri 28 May 2027, half-term 31 May - 4 Jun, Mon 7 Jun - Wed 21 Jul.
    Closures: an INSET day on Thu 3 Sep 2026 and the early May bank holiday (Mon 3 May 2027).
    """
    return TermCalendar.of(
        terms=[
            (date(2026, 9, 3), date(2026, 10, 23)),
            (date(2026, 11, 2), date(2026, 12, 18)),
            (date(2027, 1, 4), date(2027, 2, 12)),
            (date(2027, 2, 22), date(2027, 3, 25)),
            (date(2027, 4, 12), date(2027, 5, 28)),
            (date(2027, 6, 7), date(2027, 7, 21)),
        ],
        closures=[date(2026, 9, 3), date(2027, 5, 3)],
        tz=LONDON,
    )
