"""The template validator: one example per rule, each asserting its location, code and message."""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest

from engine.errors import InvalidTemplate
from engine.issues import Issue
from engine.parse import parse_template
from engine.template import FORMAT_2_ROLES
from engine.validation import build_template, validate
from tests.unit.helpers import Doc, build, full_template, issue_at, minimal_template

Mutation = Callable[[Doc], None]
Path = tuple[str | int, ...]


def _parent(doc: Doc, path: Path) -> Any:
    node: Any = doc
    for key in path[:-1]:
        node = node[key]
    return node


def put(path: Path, value: object) -> Mutation:
    def mutate(doc: Doc) -> None:
        _parent(doc, path)[path[-1]] = value

    return mutate


def drop(path: Path) -> Mutation:
    def mutate(doc: Doc) -> None:
        del _parent(doc, path)[path[-1]]

    return mutate


def add(path: Path, value: object) -> Mutation:
    """Append `value` to the list at `path`."""

    def mutate(doc: Doc) -> None:
        _parent(doc, path)[path[-1]].append(value)

    return mutate


def both(*mutations: Mutation) -> Mutation:
    def mutate(doc: Doc) -> None:
        for m in mutations:
            m(doc)

    return mutate


def req(*refs: object) -> Mutation:
    """Replace the requirements of transitions[0] (`go`, from `start`)."""
    return put(("transitions", 0, "requires"), list(refs))


class Case(NamedTuple):
    mutate: Mutation
    location: str
    code: str
    fragment: str
    alone: bool = True
    """The mistake is the only issue reported (no knock-on issues elsewhere)."""


EXPIRY = ("stages", 0, "deadline", "on_expiry")
DEADLINE = ("stages", 0, "deadline")
LIMBO = {"id": "limbo", "title": "Limbo"}

CASES: dict[str, Case] = {
    # --- the shape: unknown keys ---------------------------------------------------------
    "unknown top-level key": Case(
        put(("colour",), "red"), "colour", "unknown_key", "unknown key (allowed: dates, desc"
    ),
    "unknown stage key": Case(
        put(("stages", 1, "colour"), "red"), "stages[1].colour", "unknown_key", "unknown key"
    ),
    "unknown transition key": Case(
        put(("transitions", 0, "guard"), "x"),
        "transitions[0].guard",
        "unknown_key",
        "allowed: description, from, id, notify, requires, roles, title, to",
    ),
    "unknown role key": Case(
        put(("roles", 0, "name"), "Lead"), "roles[0].name", "unknown_key", "allowed: id, title"
    ),
    "unknown stage key lists notify": Case(
        put(("stages", 1, "notified"), ["head"]),
        "stages[1].notified",
        "unknown_key",
        "allowed: collects, deadline, description, id, initial, notify, terminal, title",
    ),
    "unknown collect kind": Case(
        put(("stages", 0, "collects", "grades"), ["head"]),
        "stages[0].collects.grades",
        "unknown_key",
        "unknown key (allowed: action_status, actions, dates, evidence",
    ),
    "unknown deadline key": Case(
        put((*DEADLINE, "until"), "P1D"), "stages[0].deadline.until", "unknown_key", "unknown key"
    ),
    "unknown question key": Case(
        put(("framework", "sections", 0, "questions", 0, "grade"), "x"),
        "framework.sections[0].questions[0].grade",
        "unknown_key",
        "allowed: id, strand, text",
    ),
    # --- the shape: required keys -------------------------------------------------------
    "missing title": Case(drop(("title",)), "title", "missing", "is required"),
    "missing id": Case(drop(("id",)), "id", "missing", "is required"),
    "missing version": Case(drop(("version",)), "version", "missing", "is required"),
    "missing stage title": Case(
        drop(("stages", 1, "title")), "stages[1].title", "missing", "is required"
    ),
    "missing question text": Case(
        drop(("framework", "sections", 0, "questions", 1, "text")),
        "framework.sections[0].questions[1].text",
        "missing",
        "is required",
    ),
    "missing section questions": Case(
        drop(("framework", "sections", 0, "questions")),
        "framework.sections[0].questions",
        "missing",
        "is required",
    ),
    "missing scale label": Case(
        drop(("framework", "scale", 1, "label")),
        "framework.scale[1].label",
        "missing",
        "is required",
    ),
    "missing transition from": Case(
        drop(("transitions", 0, "from")), "transitions[0].from", "missing", "is required", False
    ),
    "missing transition to": Case(
        drop(("transitions", 1, "to")), "transitions[1].to", "missing", "is required", False
    ),
    "missing transition roles": Case(
        drop(("transitions", 1, "roles")),
        "transitions[1].roles",
        "missing",
        "is required: who may fire this transition",
    ),
    "missing deadline due": Case(
        drop((*DEADLINE, "due")), "stages[0].deadline.due", "missing", "is required"
    ),
    # --- the shape: wrong types ---------------------------------------------------------
    "version as text": Case(
        put(("version",), "1"), "version", "wrong_type", "expected a whole number 1 or more"
    ),
    "version zero": Case(put(("version",), 0), "version", "wrong_type", "got 0"),
    "version true": Case(put(("version",), True), "version", "wrong_type", "got True"),
    "unsupported format": Case(
        put(("format",), 4),
        "format",
        "format",
        "unsupported format 4; this engine reads formats 1, 2 and 3",
    ),
    "unknown section a role reads": Case(
        both(put(("format",), 2), put(("roles", 0, "reads"), ["report", "diary"])),
        "roles[0].reads",
        "unknown_ref",
        "unknown section 'diary'; a role may be given: evidence, evidence_files",
    ),
    "unknown power": Case(
        both(put(("format",), 2), put(("roles", 0, "may"), ["share_report", "fly"])),
        "roles[0].may",
        "unknown_ref",
        "unknown power 'fly'; a role may be given: share_report, start_cycles, erase_evidence",
    ),
    "format true": Case(put(("format",), True), "format", "format", "unsupported format True"),
    # --- format 3: a role's place on the team and the network's chair, declared ---------------
    "unknown team place": Case(
        both(put(("format",), 3), put(("roles", 0, "team"), "boss")),
        "roles[0].team",
        "bad_value",
        "unknown team place 'boss'; a role's place on the team is one of lead, member, champion",
    ),
    "chair as text": Case(
        both(put(("format",), 3), put(("roles", 0, "chair"), "yes")),
        "roles[0].chair",
        "bad_value",
        "expected true or false, got 'yes'",
    ),
    "a team role held by the chair": Case(
        both(
            put(("format",), 3), put(("roles", 0, "team"), "lead"), put(("roles", 0, "chair"), True)
        ),
        "roles[0].chair",
        "bad_value",
        "held by a place on a cycle's team, not by chairing its network",
    ),
    "two roles lead the review": Case(
        both(
            put(("format",), 3),
            put(("roles", 0, "team"), "lead"),
            put(("roles", 1, "team"), "lead"),
        ),
        "roles[1].team",
        "several_team_place",
        "a second role with the team place 'lead'; 'lead' already has it",
    ),
    "a review lead required where no role leads": Case(
        both(put(("format",), 3), req({"review_lead_assigned": {}})),
        "transitions[0].requires[0]",
        "no_team_place",
        "review_lead_assigned needs a role with the team place 'lead', and no role has it",
    ),
    "a team key before format 3": Case(
        both(put(("format",), 2), put(("roles", 0, "team"), "lead")),
        "roles[0].team",
        "unknown_key",
        "unknown key",
    ),
    "roles not a list": Case(
        put(("roles",), "lead"), "roles", "wrong_type", "expected a list, got text", False
    ),
    "stage not a mapping": Case(
        put(("stages", 1), "middle"),
        "stages[1]",
        "wrong_type",
        "expected a mapping, got text",
        False,
    ),
    "title not text": Case(
        put(("stages", 1, "title"), 5),
        "stages[1].title",
        "wrong_type",
        "expected text, got a number",
    ),
    "flag not a boolean": Case(
        put(("stages", 1, "terminal"), "yes"),
        "stages[1].terminal",
        "wrong_type",
        "expected true or false, got text",
    ),
    "from not a stage id": Case(
        put(("transitions", 1, "from"), 5),
        "transitions[1].from",
        "wrong_type",
        "expected a stage id or a list of them",
        False,
    ),
    "collects roles not names": Case(
        put(("stages", 0, "collects", "evidence"), 5),
        "stages[0].collects.evidence",
        "wrong_type",
        "expected a role id or a list of them",
    ),
    "collects not a mapping": Case(
        put(("stages", 0, "collects"), ["evidence"]),
        "stages[0].collects",
        "wrong_type",
        "expected a mapping, got a list",
    ),
    "transition notify as a single name": Case(
        put(("transitions", 1, "notify"), "head"),
        "transitions[1].notify",
        "wrong_type",
        "expected a list of role ids, got text (write [head])",
    ),
    "stage notify as a single name": Case(
        put(("stages", 1, "notify"), "lead"),
        "stages[1].notify",
        "wrong_type",
        "expected a list of role ids, got text (write [lead])",
    ),
    "notify as a mapping": Case(
        put(("stages", 0, "notify"), {"head": True}),
        "stages[0].notify",
        "wrong_type",
        "expected a list of role ids, got a mapping",
    ),
    "notify of a number": Case(
        put(("transitions", 0, "notify"), ["head", 5]),
        "transitions[0].notify[1]",
        "wrong_type",
        "expected a role id, got a number",
    ),
    "finding kinds not names": Case(
        put(("finding_kinds",), 5),
        "finding_kinds",
        "wrong_type",
        "expected a finding kind id or a list of them",
    ),
    "requires not a list": Case(
        put(("transitions", 0, "requires"), "focus_chosen"),
        "transitions[0].requires",
        "wrong_type",
        "expected a list, got text",
    ),
    "requirement with two names": Case(
        req({"focus_chosen": None, "min": 1}),
        "transitions[0].requires[0]",
        "wrong_type",
        "expected a requirement name, or a mapping {name: {parameters}}",
    ),
    "requirement as a number": Case(
        req(5), "transitions[0].requires[0]", "wrong_type", "expected a requirement name"
    ),
    "requirement parameters not a mapping": Case(
        req({"evidence_per_question": 3}),
        "transitions[0].requires[0].evidence_per_question",
        "wrong_type",
        "expected a mapping of parameters, got a number",
    ),
    "expiry fire not a transition id": Case(
        put((*EXPIRY, 1), {"fire": ["go"]}),
        "stages[0].deadline.on_expiry[1].fire",
        "wrong_type",
        "expected the id of a transition",
    ),
    "deadline not a mapping": Case(
        put(DEADLINE, "P14D"),
        "stages[0].deadline",
        "wrong_type",
        "expected a mapping, got text",
        False,
    ),
    # --- the shape: ids, durations, expiry rules ----------------------------------------
    "bad id": Case(
        put(("dates", 0, "id"), "visit date"),
        "dates[0].id",
        "bad_id",
        "'visit date' is not a valid id",
    ),
    "empty id": Case(
        put(("roles", 1, "id"), ""), "roles[1].id", "bad_id", "'' is not a valid id", False
    ),
    "id with trailing newline": Case(
        put(("dates", 0, "id"), "visit\n"), "dates[0].id", "bad_id", "is not a valid id"
    ),
    "due in months": Case(
        put((*DEADLINE, "due"), "P1M"),
        "stages[0].deadline.due",
        "bad_duration",
        "'P1M' uses years or months, which have no fixed length; use weeks or days",
    ),
    "due not a duration": Case(
        put((*DEADLINE, "due"), "14 days"),
        "stages[0].deadline.due",
        "bad_duration",
        "'14 days' is not an ISO 8601 duration",
    ),
    "reminder in years": Case(
        put((*DEADLINE, "reminders"), ["P1Y"]),
        "stages[0].deadline.reminders[0]",
        "bad_duration",
        "uses years or months",
    ),
    "after not a duration": Case(
        put((*EXPIRY, 1, "after"), "soon"),
        "stages[0].deadline.on_expiry[1].after",
        "bad_duration",
        "'soon' is not an ISO 8601 duration",
    ),
    "school days not a number": Case(
        put((*DEADLINE, "due"), {"school_days": "ten"}),
        "stages[0].deadline.due",
        "bad_duration",
        "'school_days' must be a whole number",
    ),
    "school days with another key": Case(
        put((*DEADLINE, "due"), {"school_days": 5, "hours": 2}),
        "stages[0].deadline.due",
        "bad_duration",
        "exactly one key, 'school_days'",
    ),
    "expiry with two kinds": Case(
        put((*EXPIRY, 0), {"notify": ["head"], "fire": "go"}),
        "stages[0].deadline.on_expiry[0]",
        "bad_expiry",
        "give exactly one of 'notify', 'escalate' or 'fire'",
    ),
    "expiry with no kind": Case(
        put((*EXPIRY, 0), {"after": "P1D"}),
        "stages[0].deadline.on_expiry[0]",
        "bad_expiry",
        "give exactly one of",
    ),
    # --- the references: duplicates -----------------------------------------------------
    "duplicate role": Case(
        add(("roles",), {"id": "lead", "title": "Lead again"}),
        "roles[2].id",
        "duplicate_id",
        "duplicate id 'lead'",
    ),
    "duplicate date": Case(
        add(("dates",), {"id": "visit_date"}), "dates[1].id", "duplicate_id", "'visit_date'"
    ),
    "duplicate finding kind": Case(
        put(("finding_kinds",), ["strength", "ebi", "strength"]),
        "finding_kinds[2]",
        "duplicate_id",
        "duplicate id 'strength'",
    ),
    "duplicate scale point": Case(
        add(("framework", "scale"), {"id": "strong", "label": "Very strong"}),
        "framework.scale[2].id",
        "duplicate_id",
        "duplicate id 'strong'",
    ),
    "duplicate section": Case(
        add(
            ("framework", "sections"),
            {"id": "s1", "title": "Again", "questions": [{"id": "q3", "text": "Q?"}]},
        ),
        "framework.sections[1].id",
        "duplicate_id",
        "duplicate id 's1'",
    ),
    "duplicate question across sections": Case(
        add(
            ("framework", "sections"),
            {"id": "s2", "title": "Looking Outward", "questions": [{"id": "q2", "text": "Q?"}]},
        ),
        "framework.sections[1].questions[0].id",
        "duplicate_id",
        "duplicate question id 'q2'",
    ),
    "duplicate stage": Case(
        add(("stages",), {"id": "middle", "title": "Middle again"}),
        "stages[3].id",
        "duplicate_id",
        "duplicate id 'middle'",
    ),
    "duplicate transition": Case(
        add(
            ("transitions",),
            {"id": "finish", "title": "Again", "from": "middle", "to": "done", "roles": "lead"},
        ),
        "transitions[2].id",
        "duplicate_id",
        "duplicate id 'finish'",
    ),
    # --- the references: unknown names -------------------------------------------------
    "unknown destination stage": Case(
        put(("transitions", 1, "to"), "dne"),
        "transitions[1].to",
        "unknown_stage",
        "unknown stage 'dne'",
        False,
    ),
    "unknown source stage": Case(
        put(("transitions", 1, "from"), "midle"),
        "transitions[1].from",
        "unknown_stage",
        "unknown stage 'midle'",
        False,
    ),
    "unknown source among several": Case(
        put(("transitions", 1, "from"), ["middle", "strat"]),
        "transitions[1].from[1]",
        "unknown_stage",
        "unknown stage 'strat'",
    ),
    "unknown role in transition": Case(
        put(("transitions", 1, "roles"), ["lead", "ghost"]),
        "transitions[1].roles",
        "unknown_role",
        "unknown role 'ghost'",
    ),
    "unknown role in collects": Case(
        put(("stages", 0, "collects", "evidence"), ["head", "ghost"]),
        "stages[0].collects.evidence",
        "unknown_role",
        "unknown role 'ghost'",
    ),
    "unknown role in notify": Case(
        put((*EXPIRY, 0), {"notify": ["ghost"]}),
        "stages[0].deadline.on_expiry[0].notify",
        "unknown_role",
        "unknown role 'ghost'",
    ),
    "unknown role in escalate": Case(
        put((*EXPIRY, 0), {"escalate": "ghost"}),
        "stages[0].deadline.on_expiry[0].escalate",
        "unknown_role",
        "unknown role 'ghost'",
    ),
    "unknown role in transition notify": Case(
        put(("transitions", 1, "notify"), ["lead", "ghost"]),
        "transitions[1].notify[1]",
        "unknown_role",
        "unknown role 'ghost'",
    ),
    "unknown role in stage notify": Case(
        put(("stages", 1, "notify"), ["ghost", "head"]),
        "stages[1].notify[0]",
        "unknown_role",
        "unknown role 'ghost'",
    ),
    "role told twice by a transition": Case(
        put(("transitions", 0, "notify"), ["head", "lead", "head"]),
        "transitions[0].notify[2]",
        "duplicate_role",
        "duplicate role 'head'",
    ),
    "role told twice on entering a stage": Case(
        put(("stages", 2, "notify"), ["admin", "admin"]),
        "stages[2].notify[1]",
        "duplicate_role",
        "duplicate role 'admin'",
    ),
    "unknown date anchor": Case(
        put((*DEADLINE, "from"), "visit"),
        "stages[0].deadline.from",
        "unknown_date",
        "unknown cycle date 'visit'; use 'stage_entry' or a date declared under 'dates'",
    ),
    "expiry fires an unknown transition": Case(
        put((*EXPIRY, 1), {"fire": "gone"}),
        "stages[0].deadline.on_expiry[1].fire",
        "unknown_transition",
        "unknown transition 'gone'",
    ),
    "transition names no source": Case(
        put(("transitions", 1, "from"), []),
        "transitions[1].from",
        "missing",
        "names no stage",
        False,
    ),
    "transition names no role": Case(
        put(("transitions", 1, "roles"), []),
        "transitions[1].roles",
        "missing",
        "no role may fire this transition",
    ),
    "expiry names no role": Case(
        put((*EXPIRY, 0), {"notify": []}),
        "stages[0].deadline.on_expiry[0].notify",
        "missing",
        "names no role",
    ),
    # --- requirements and their parameters ----------------------------------------------
    "unknown requirement": Case(
        req({"evidence_per_qestion": {"min": 1}}),
        "transitions[0].requires[0]",
        "unknown_requirement",
        "unknown requirement 'evidence_per_qestion'; known: actions_agreed, actions_followed_up",
    ),
    "unknown parameter": Case(
        req({"evidence_per_question": {"minimum": 1}}),
        "transitions[0].requires[0].minimum",
        "unknown_parameter",
        "'evidence_per_question' has no parameter 'minimum' (parameters: min)",
    ),
    "parameter of a requirement without any": Case(
        req({"review_lead_assigned": {"min": 1}}),
        "transitions[0].requires[0].min",
        "unknown_parameter",
        "(parameters: none)",
    ),
    "missing date parameter": Case(
        req("date_set"),
        "transitions[0].requires[0].date",
        "missing_parameter",
        "'date_set' needs the parameter 'date'",
    ),
    "missing roles parameter": Case(
        req({"signed_off": {}}),
        "transitions[0].requires[0].roles",
        "missing_parameter",
        "'signed_off' needs the parameter 'roles'",
    ),
    "count as text": Case(
        req({"evidence_per_question": {"min": "one"}}),
        "transitions[0].requires[0].min",
        "bad_parameter",
        "expected a whole number 0 or more, got 'one'",
    ),
    "count negative": Case(
        req({"focus_chosen": {"min": -1}}),
        "transitions[0].requires[0].min",
        "bad_parameter",
        "expected a whole number 0 or more, got -1",
    ),
    "count as a boolean": Case(
        req({"support_logged": {"min": True}}),
        "transitions[0].requires[0].min",
        "bad_parameter",
        "got True",
    ),
    "flag as text": Case(
        req({"review_team_independent": {"allow_same_network": "yes"}}),
        "transitions[0].requires[0].allow_same_network",
        "bad_parameter",
        "expected true or false, got 'yes'",
    ),
    "date parameter not text": Case(
        req({"date_set": {"date": 5}}),
        "transitions[0].requires[0].date",
        "bad_parameter",
        "expected the id of a cycle date, got 5",
    ),
    "date parameter undeclared": Case(
        req({"date_set": {"date": "visit"}}),
        "transitions[0].requires[0].date",
        "bad_parameter",
        "unknown cycle date 'visit'; declare it under 'dates'",
    ),
    "roles parameter not a list": Case(
        req({"signed_off": {"roles": "head"}}),
        "transitions[0].requires[0].roles",
        "bad_parameter",
        "expected a list of role ids, got 'head'",
    ),
    "roles parameter empty": Case(
        req({"signed_off": {"roles": []}}),
        "transitions[0].requires[0].roles",
        "bad_parameter",
        "expected at least one role",
    ),
    "roles parameter unknown": Case(
        req({"signed_off": {"roles": ["head", "ghost"]}}),
        "transitions[0].requires[0].roles",
        "bad_parameter",
        "unknown role(s): ghost",
    ),
    "finding kinds parameter unknown": Case(
        req({"findings_recorded": {"kinds": ["strength", "weakness"]}}),
        "transitions[0].requires[0].kinds",
        "bad_parameter",
        "unknown finding kind(s): weakness",
    ),
    "finding kinds parameter not a list": Case(
        req({"findings_recorded": {"kinds": "strength"}}),
        "transitions[0].requires[0].kinds",
        "bad_parameter",
        "expected a list of finding kind ids, got 'strength'",
    ),
    "min above max": Case(
        req({"review_team_size": {"min": 5, "max": 4}}),
        "transitions[0].requires[0].min",
        "bad_parameter",
        "min (5) is greater than max (4)",
    ),
    "min above the default max": Case(
        req({"review_team_size": {"min": 6}}),
        "transitions[0].requires[0].min",
        "bad_parameter",
        "min (6) is greater than max (4)",
    ),
    # --- the deadlines ------------------------------------------------------------------
    "deadline on a terminal stage": Case(
        put(("stages", 2, "deadline"), {"due": "P1D"}),
        "stages[2].deadline",
        "terminal_deadline",
        "a terminal stage has no deadline",
    ),
    "negative due from stage entry": Case(
        put((*DEADLINE, "due"), "-P1D"),
        "stages[0].deadline.due",
        "bad_duration",
        "a deadline cannot fall before the stage starts",
    ),
    "negative school days due from stage entry": Case(
        put((*DEADLINE, "due"), {"school_days": -2}),
        "stages[0].deadline.due",
        "bad_duration",
        "cannot fall before the stage starts",
    ),
    "zero reminder": Case(
        put((*DEADLINE, "reminders"), ["P3D", "P0D"]),
        "stages[0].deadline.reminders[1]",
        "bad_duration",
        "a reminder is a positive offset before the due time",
    ),
    "negative reminder": Case(
        put((*DEADLINE, "reminders"), ["-P1D"]),
        "stages[0].deadline.reminders[0]",
        "bad_duration",
        "a reminder is a positive offset",
    ),
    "zero school days reminder": Case(
        put((*DEADLINE, "reminders"), [{"school_days": 0}]),
        "stages[0].deadline.reminders[0]",
        "bad_duration",
        "a reminder is a positive offset",
    ),
    "negative after": Case(
        put((*EXPIRY, 1, "after"), "-PT1H"),
        "stages[0].deadline.on_expiry[1].after",
        "bad_duration",
        "must not be negative",
    ),
    "expiry fires a transition from another stage": Case(
        put((*EXPIRY, 1), {"fire": "finish"}),
        "stages[0].deadline.on_expiry[1].fire",
        "expiry_does_not_leave",
        "transition 'finish' does not leave stage 'start'",
    ),
    "expiry fires a transition back into the stage": Case(
        both(
            add(
                ("transitions",),
                {"id": "again", "title": "Again", "from": "start", "to": "start", "roles": "lead"},
            ),
            put((*EXPIRY, 1), {"fire": "again"}),
        ),
        "stages[0].deadline.on_expiry[1].fire",
        "expiry_does_not_leave",
        "transition 'again' does not leave stage 'start'",
    ),
    # --- the shape of the journey -------------------------------------------------------
    "no initial stage": Case(
        put(("stages", 0, "initial"), False),
        "stages",
        "no_initial",
        "no stage is marked 'initial: true'",
    ),
    "two initial stages": Case(
        put(("stages", 1, "initial"), True),
        "stages[1].initial",
        "several_initial",
        "a second initial stage; 'start' is already initial",
    ),
    "no terminal stage": Case(
        put(("stages", 2, "terminal"), False),
        "stages",
        "no_terminal",
        "no stage is marked 'terminal: true'",
    ),
    "initial and terminal": Case(
        put(("stages", 0, "terminal"), True),
        "stages[0]",
        "initial_terminal",
        "a stage cannot be both initial and terminal",
        False,
    ),
    "transition out of a terminal stage": Case(
        add(
            ("transitions",),
            {"id": "reopen", "title": "Reopen", "from": "done", "to": "start", "roles": "lead"},
        ),
        "transitions[2].from",
        "from_terminal",
        "'done' is terminal: nothing may leave it",
    ),
    "terminal among several sources": Case(
        add(
            ("transitions",),
            {
                "id": "reopen",
                "title": "Reopen",
                "from": ["middle", "done"],
                "to": "start",
                "roles": "lead",
            },
        ),
        "transitions[2].from[1]",
        "from_terminal",
        "'done' is terminal",
    ),
    "unreachable stage": Case(
        both(
            add(("stages",), LIMBO),
            add(
                ("transitions",),
                {"id": "leave", "title": "Leave", "from": "limbo", "to": "done", "roles": "lead"},
            ),
        ),
        "stages[3]",
        "unreachable",
        "stage 'limbo' cannot be reached from the initial stage 'start'",
    ),
    "dead end": Case(
        both(
            add(("stages",), LIMBO),
            add(
                ("transitions",),
                {"id": "stray", "title": "Stray", "from": "start", "to": "limbo", "roles": "lead"},
            ),
        ),
        "stages[3]",
        "dead_end",
        "no terminal stage can be reached from stage 'limbo'",
    ),
    "dead-end loop": Case(
        both(
            add(("stages",), LIMBO),
            add(
                ("transitions",),
                {"id": "stray", "title": "Stray", "from": "start", "to": "limbo", "roles": "lead"},
            ),
            add(
                ("transitions",),
                {"id": "spin", "title": "Spin", "from": "limbo", "to": "start", "roles": "lead"},
            ),
            put(("transitions", 1, "to"), "start"),
        ),
        "stages[0]",
        "dead_end",
        "no terminal stage can be reached from stage 'start'",
        False,
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_each_rule_reports_its_location_code_and_message(case: Case) -> None:
    doc = minimal_template()
    case.mutate(doc)
    issues = validate(doc)
    found = issue_at(issues, case.location, case.code)
    assert case.fragment in found.message
    if case.alone:
        assert issues == [found]
    with pytest.raises(InvalidTemplate) as caught:
        build_template(doc)
    assert found in caught.value.issues


def test_the_minimal_and_full_templates_are_valid() -> None:
    assert validate(minimal_template()) == []
    assert validate(full_template()) == []


def test_admin_is_a_known_role_without_being_declared() -> None:
    doc = minimal_template()
    doc["transitions"][1]["roles"] = ["admin"]
    doc["stages"][0]["collects"]["evidence"] = ["admin"]
    assert validate(doc) == []


def test_notify_lists_are_read_in_order_and_default_to_nobody() -> None:
    doc = minimal_template()
    doc["transitions"][0]["notify"] = ["lead", "admin"]
    doc["stages"][1]["notify"] = ["head"]
    doc["stages"][2]["notify"] = []
    doc["transitions"][1]["notify"] = None
    template = build(doc)
    go, finish = template.transition("go"), template.transition("finish")
    assert go is not None and finish is not None
    assert go.notify == ("lead", "admin")
    assert finish.notify == ()
    assert [template.stage(s).notify for s in ("start", "middle", "done")] == [(), ("head",), ()]


def test_every_notify_mistake_is_reported_at_once() -> None:
    doc = minimal_template()
    doc["transitions"][0]["notify"] = ["reviwer", "head", "head"]
    doc["transitions"][1]["notify"] = "head"
    doc["stages"][1]["notify"] = ["lead", 7]
    assert [str(i) for i in validate(doc)] == [
        "stages[1].notify[1]: expected a role id, got a number",
        "transitions[1].notify: expected a list of role ids, got text (write [head])",
        "transitions[0].notify[0]: unknown role 'reviwer'",
        "transitions[0].notify[2]: duplicate role 'head'",
    ]


def test_a_single_name_is_accepted_where_a_list_of_roles_or_stages_is() -> None:
    doc = minimal_template()
    doc["transitions"][1]["roles"] = "lead"
    doc["transitions"][1]["from"] = "middle"
    template = build(doc)
    finish = template.transition("finish")
    assert finish is not None
    assert (finish.roles, finish.sources) == (("lead",), ("middle",))


def test_a_negative_due_counted_from_a_cycle_date_is_allowed() -> None:
    doc = minimal_template()
    doc["stages"][0]["deadline"]["from"] = "visit_date"
    doc["stages"][0]["deadline"]["due"] = "-P1D"
    assert validate(doc) == []


def test_the_dead_end_check_waits_for_sound_stages() -> None:
    # With two initial stages reachability means little: only the cause is reported.
    doc = minimal_template()
    doc["stages"][1]["initial"] = True
    doc["stages"].append({"id": "limbo", "title": "Limbo"})
    assert [i.code for i in validate(doc)] == ["several_initial"]


def test_a_template_with_two_mistakes_reports_both_with_their_locations() -> None:
    doc = minimal_template()
    doc["transitions"][0]["roles"] = ["lead", "headteacher"]
    doc["transitions"][1]["to"] = "dun"
    issues = validate(doc)
    assert Issue("transitions[0].roles", "unknown role 'headteacher'", "unknown_role") in issues
    assert Issue("transitions[1].to", "unknown stage 'dun'", "unknown_stage") in issues
    with pytest.raises(InvalidTemplate) as caught:
        build_template(doc)
    text = str(caught.value)
    assert "transitions[0].roles: unknown role 'headteacher'" in text
    assert "transitions[1].to: unknown stage 'dun'" in text


def test_a_structural_and_a_semantic_mistake_are_reported_together() -> None:
    doc = minimal_template()
    doc["stages"][0]["deadline"]["due"] = "P2M"
    doc["transitions"][0]["requires"] = [{"date_set": {"date": "inspection"}}]
    locations = {i.location: i.code for i in validate(doc)}
    assert locations == {
        "stages[0].deadline.due": "bad_duration",
        "transitions[0].requires[0].date": "bad_parameter",
    }


def test_invalid_template_message_lists_five_issues_then_counts_the_rest() -> None:
    doc = minimal_template()
    doc["roles"] = [{"id": f"r{i}", "title": "x", "colour": i} for i in range(7)]
    doc["transitions"][0]["roles"] = ["r0"]
    doc["transitions"][1]["roles"] = ["r0"]
    doc["stages"][0]["collects"] = {}
    doc["stages"][0]["deadline"]["on_expiry"] = []
    with pytest.raises(InvalidTemplate) as caught:
        build_template(doc)
    assert len(caught.value.issues) == 7
    assert str(caught.value).endswith("(and 2 more)")
    assert str(caught.value).startswith("invalid template: roles[0].colour: unknown key")


@pytest.mark.parametrize(
    ("raw", "issue"),
    [
        ([1, 2], Issue("(top)", "expected a mapping, got a list", "wrong_type")),
        ("id: x", Issue("(top)", "expected a mapping, got text", "wrong_type")),
        (None, Issue("(top)", "expected a mapping, got nothing", "wrong_type")),
        ({}, Issue("(top)", "the template is empty", "missing")),
    ],
)
def test_a_document_that_is_not_a_template(raw: object, issue: Issue) -> None:
    assert validate(raw) == [issue]
    template, parse_issues = parse_template(raw)
    assert (template, parse_issues) == (None, [issue])
    with pytest.raises(InvalidTemplate) as caught:
        build_template(raw)
    assert caught.value.issues == [issue]


def test_every_missing_top_level_key_is_reported_at_once() -> None:
    issues = validate({"format": 1})
    assert {(i.location, i.code) for i in issues} == {
        ("id", "missing"),
        ("version", "missing"),
        ("title", "missing"),
        ("roles", "missing"),
        ("stages", "missing"),
        ("transitions", "missing"),
    }


def test_the_parsed_template_keeps_what_was_written() -> None:
    template = build(minimal_template())
    start = template.stage("start")
    assert start.initial and not start.terminal
    assert start.collects == {"evidence": ("head",)}
    assert start.deadline is not None
    assert start.deadline.due.text == "P14D"
    assert [r.kind for r in start.deadline.on_expiry] == ["notify", "fire"]
    assert start.deadline.on_expiry[1].transition == "go"
    assert [q.id for q in template.framework.questions] == ["q1", "q2"]
    assert template.finding_kinds == ("strength", "area_to_develop")
    assert template.key == "mini@1"
    # Format 1 puts people on the team in the team's roles by name, declared or not.
    team = {role for role, (place, _, _) in FORMAT_2_ROLES.items() if place}
    assert template.role_ids == {"lead", "head", "admin", *team}


def test_signed_off_roles_must_be_collected_by_the_source_stage() -> None:
    doc = full_template()
    agree = next(i for i, t in enumerate(doc["transitions"]) if t["id"] == "agree")
    workshop = next(s for s in doc["stages"] if s["id"] == "workshop")
    workshop["collects"]["signoffs"] = ["head"]
    issue = issue_at(
        validate(doc), f"transitions[{agree}].requires[2].roles", "signoff_not_collected"
    )
    assert "stage 'workshop' does not collect sign-offs from champion" in issue.message


def test_yaml_line_of_a_requirement_parameter() -> None:
    from adapters.template_files import read_document

    text = (pathlib.Path(__file__).parents[2] / "workflows" / "spp-cycle.yaml").read_text()
    broken = text.replace("- evidence_per_question: {min: 1}", "- evidence_per_question: {min: -1}")
    [found] = read_document(broken, "spp.yaml").validate()
    assert found.issue.location == "transitions[0].requires[1].min"
    assert broken.splitlines()[found.line - 1].strip() == "- evidence_per_question: {min: -1}"


def test_yaml_line_of_a_role_in_a_notify_list() -> None:
    from adapters.template_files import read_document

    text = (pathlib.Path(__file__).parents[2] / "workflows" / "spp-cycle.yaml").read_text()
    flow = "    notify: [school_lead]   # the host head hears the peer review is complete\n"
    assert flow in text
    block = "    notify:\n      - school_lead\n      - school_laed\n"
    [found] = read_document(text.replace(flow, block), "spp.yaml").validate()
    assert found.issue == Issue(
        "transitions[3].notify[1]", "unknown role 'school_laed'", "unknown_role"
    )
    broken = text.replace(flow, block).splitlines()
    assert broken[found.line - 1] == "      - school_laed"
