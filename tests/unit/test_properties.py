"""Property-based tests of the engine: the validator, random walks, and cycles against a model."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from adapters.template_files import read_file
from engine import records
from engine.audit import GENESIS, verify_chain
from engine.calendar import WeekdayCalendar
from engine.cycle import ACTION_STATUSES, Actor, Cycle, Member
from engine.deadlines import shift
from engine.directory import HistoryEntry
from engine.durations import DurationError, parse_duration
from engine.errors import (
    CalendarExhausted,
    CycleClosed,
    InvalidTemplate,
    PeerloopError,
    TransitionNotAvailable,
    UnknownTransition,
)
from engine.events import Event, RecordChanged, TransitionFired
from engine.issues import Issue
from engine.journal import chain_entries
from engine.machine import Option, WorkflowMachine
from engine.template import ADMIN_ROLE, Template
from engine.validation import build_template, validate
from tests.unit.strategies import (
    garbage,
    insert_notify,
    iso_duration_like_text,
    mutated_templates,
    structural_garbage,
    valid_templates,
)

NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
WORKFLOWS = sorted((Path(__file__).parents[2] / "workflows").glob("*.yaml"))


def _drawing_templates(max_examples: int) -> settings:
    """Settings for tests that draw whole templates.

    A template takes a few hundred draws (about 40 ms here); hypothesis's "too slow" health
    check is tuned for small inputs and a slower CI machine would trip it on size alone, so it
    is suppressed for these tests only.
    """
    return settings(
        max_examples=max_examples, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )


def _everyone(template: Template) -> Actor:
    """Someone holding every role of the template, and admin."""
    return Actor("root", frozenset(template.role_ids) | {ADMIN_ROLE}, "s9")


# --- 1. valid templates ------------------------------------------------------------------------


@_drawing_templates(150)
@given(valid_templates())
def test_generated_valid_templates_validate_and_build(doc: dict[str, Any]) -> None:
    assert [str(i) for i in validate(doc)] == []
    template = build_template(doc)
    machine = WorkflowMachine(template)
    assert machine.template.initial_stage.id in {s["id"] for s in doc["stages"]}
    assert {t.id for t in template.transitions} == {t["id"] for t in doc["transitions"]}
    # Who is told is kept as written, in order.
    for part, built in (("transitions", template.transitions), ("stages", template.stages)):
        assert [x.notify for x in built] == [tuple(x.get("notify", ())) for x in doc[part]]


@_drawing_templates(100)
@given(valid_templates(), st.data())
def test_an_unknown_role_in_notify_is_reported_at_its_index(
    doc: dict[str, Any], data: st.DataObject
) -> None:
    part = data.draw(st.sampled_from(["stages", "transitions"]))
    i = data.draw(st.integers(0, len(doc[part]) - 1))
    ghost = "ghost_" + "_".join(sorted(r["id"] for r in doc["roles"]))
    j = insert_notify(data.draw, doc[part][i], ghost)
    issue = Issue(f"{part}[{i}].notify[{j}]", f"unknown role {ghost!r}", "unknown_role")
    assert validate(doc) == [issue]
    with pytest.raises(InvalidTemplate) as caught:
        build_template(doc)
    assert caught.value.issues == [issue]


# --- 2. random walks ---------------------------------------------------------------------------


@_drawing_templates(100)
@given(valid_templates(), st.data())
def test_random_walks_stay_on_the_graph(doc: dict[str, Any], data: st.DataObject) -> None:
    template = build_template(doc)
    machine = WorkflowMachine(template)
    actor = _everyone(template)
    stage_ids = {s.id for s in template.stages}
    cycle, _ = machine.start("c1", "host", "net", actor, NOW)
    now = NOW
    for _ in range(data.draw(st.integers(1, 25), label="steps")):
        options = machine.available(cycle, actor)
        if machine.is_terminal(cycle):
            assert options == []
            for t in template.transitions:
                with pytest.raises(CycleClosed):
                    machine.fire(cycle, t.id, actor, now, force_reason="test")
            break
        # Every open stage can reach a terminal, so it has a way out.
        assert options
        assert all(r.code != "role_not_allowed" for o in options for r in o.reasons)
        assert all(o.forceable == (not o.allowed) for o in options)
        elsewhere = [t.id for t in template.transitions if cycle.stage not in t.sources]
        if elsewhere and data.draw(st.booleans(), label="try a transition from elsewhere"):
            stray = data.draw(st.sampled_from(elsewhere), label="stray")
            before = (cycle.stage, cycle.version)
            with pytest.raises(TransitionNotAvailable):
                machine.fire(cycle, stray, actor, now, force_reason="test")
            assert (cycle.stage, cycle.version) == before
        option = data.draw(st.sampled_from(options), label="option")
        before_version = cycle.version
        now += timedelta(hours=data.draw(st.integers(0, 500)))
        reason = None if option.allowed else "moving on"
        events = machine.fire(cycle, option.transition, actor, now, force_reason=reason)
        assert cycle.stage == option.to_stage
        assert cycle.stage in stage_ids
        assert cycle.version == before_version + 1
        fired = [e for e in events if isinstance(e, TransitionFired)]
        assert len(fired) == 1 and fired[0].forced == (reason is not None)


# --- 3. invalid templates and garbage ----------------------------------------------------------


def _assert_well_formed(issues: list[Issue]) -> None:
    assert isinstance(issues, list)
    for issue in issues:
        assert isinstance(issue, Issue)
        assert isinstance(issue.location, str) and issue.location
        assert isinstance(issue.message, str) and issue.message
        assert isinstance(issue.code, str) and issue.code


@_drawing_templates(200)
@given(mutated_templates())
def test_mutated_templates_are_refused(mutated: tuple[str, dict[str, Any]]) -> None:
    what, doc = mutated
    note(what)
    issues = validate(doc)
    _assert_well_formed(issues)
    assert issues, f"validate() found nothing wrong after: {what}"
    with pytest.raises(InvalidTemplate) as caught:
        build_template(doc)
    assert caught.value.issues == issues


def _validate_or_build(raw: object) -> None:
    issues = validate(raw)
    _assert_well_formed(issues)
    if issues:
        with pytest.raises(InvalidTemplate):
            build_template(raw)
    else:
        # Whatever the validator accepts, the machine must take.
        WorkflowMachine(build_template(raw))


@settings(max_examples=300, deadline=None)
@given(garbage(exotic=True))
def test_validate_never_raises_on_garbage(raw: object) -> None:
    _validate_or_build(raw)


@_drawing_templates(80)
@given(structural_garbage())
def test_validate_never_raises_on_damaged_templates(raw: object) -> None:
    _validate_or_build(raw)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        iso_duration_like_text(),
        st.builds(lambda n: {"school_days": n}, st.integers()),
        garbage(),
    )
)
def test_durations_parse_or_refuse_and_what_parses_can_be_planned(value: object) -> None:
    try:
        duration = parse_duration(value)
    except DurationError:
        return
    calendar = WeekdayCalendar()
    for sign in (duration, duration.negated()):
        try:
            moved = shift(NOW, sign, calendar)
        except CalendarExhausted:
            # Counting school days past the calendar's end is refused, by design.
            assert sign.school_days is not None
            continue
        assert moved.tzinfo is not None


# --- 4. shipped templates against a reference model --------------------------------------------


@functools.cache
def _shipped(path: Path) -> WorkflowMachine:
    return WorkflowMachine(read_file(path).build())


ROLE_NAMES = st.from_regex(r"\A[a-z][a-z0-9_]{0,11}\Z").filter(lambda n: n != ADMIN_ROLE)


def _renamed(path: Path, names: Sequence[str]) -> WorkflowMachine:
    """The shipped template with every role it declares given another name (`names`, in
    order): the engine may give a role no meaning by its name, so its cycles must behave
    exactly as the original's do (the walk checks the same things of both)."""
    data = read_file(path).data
    assert isinstance(data, dict)
    declared = [r["id"] for r in data["roles"]]
    to = dict(zip(declared, names, strict=False))
    if len(to) < len(declared) or set(to.values()) & set(declared):
        to = {}  # too few new names, or one clashes with an old one: the original it is

    def rename(value: object) -> object:
        if isinstance(value, str):
            return to.get(value, value)
        if isinstance(value, list):
            return [rename(v) for v in value]
        if isinstance(value, dict):
            return {k: rename(v) for k, v in value.items()}
        return value

    machine = WorkflowMachine(build_template(rename(data)))
    assert machine.template.role_ids == {*(to.get(r, r) for r in declared), ADMIN_ROLE}
    return machine


@dataclass
class Model:
    """What the cycle should look like: only moves change the stage; every change bumps version."""

    stage: str
    version: int = 1
    history: list[tuple[str, str, str]] = field(default_factory=list)
    """(transition, from, to) of every successful move."""


PEOPLE = ("p1", "p2", "p3", "p4", "p5", "p6")
SCHOOLS = ("host", "s1", "s2", "s3", None)
NETWORKS = ("net1", "net2", None)
TEXTS = ("Pupil voice notes", "", "   ", "Work scrutiny, Year 6")
STATUSES = (*ACTION_STATUSES, "done")
RECORD_KINDS = (
    "evidence",
    "focus",
    "date",
    "member",
    "remove_member",
    "judgement",
    "finding",
    "action",
    "action_status",
    "support",
    "support_activity",
    "signoff",
)


class ShippedCycles(RuleBasedStateMachine):
    """Drives one cycle of a shipped template with random actors, records and moves."""

    def __init__(self) -> None:
        super().__init__()
        self.machine: WorkflowMachine | None = None

    # -- set-up and helpers --

    @initialize(
        path=st.sampled_from(WORKFLOWS),
        names=st.none() | st.lists(ROLE_NAMES, min_size=12, max_size=12, unique=True),
        host_network=st.sampled_from(NETWORKS),
        head_start=st.integers(0, 8),
        data=st.data(),
    )
    def start(
        self,
        path: Path,
        names: list[str] | None,
        host_network: str | None,
        head_start: int,
        data: st.DataObject,
    ) -> None:
        self.machine = _shipped(path) if names is None else _renamed(path, names)
        self.template = self.machine.template
        self.now = NOW
        root = _everyone(self.template)
        self.cycle, events = self.machine.start("c1", "host", host_network, root, self.now)
        self.model = Model(stage=self.template.initial_stage.id)
        self.history = chain_entries("c1", events, 0, GENESIS)
        self.role_ids = sorted(self.template.role_ids)
        self.transition_ids = [t.id for t in self.template.transitions]
        self.questions = [q.id for q in self.template.framework.questions]
        self.grades: list[str | None] = [None, *(p.id for p in self.template.framework.scale)]
        self.kinds = [*self.template.finding_kinds, "bogus"]
        # Random steps seldom get far through a real template, so some runs start further on:
        # the same checked moves, taken by someone who completes each stage first.
        for _ in range(head_start):
            self._advance(data, prepare=True)

    @property
    def m(self) -> WorkflowMachine:
        assert self.machine is not None
        return self.machine

    def _actor(self, data: st.DataObject) -> Actor:
        roles = data.draw(st.frozensets(st.sampled_from(self.role_ids)), label="roles")
        school = data.draw(st.sampled_from(SCHOOLS), label="school")
        return Actor(data.draw(st.sampled_from(PEOPLE)), roles, school)

    def _transition_id(self, data: st.DataObject) -> str:
        here = [t.id for t in self.template.transitions_from(self.cycle.stage)]
        choices = st.sampled_from(self.transition_ids)
        if here:
            choices = st.sampled_from(here) | choices
        return data.draw(choices | st.just("no_such_transition"), label="transition")

    def _tick(self, data: st.DataObject | None = None) -> datetime:
        minutes = data.draw(st.integers(0, 60 * 24 * 20), label="minutes") if data else 1
        self.now += timedelta(minutes=minutes)
        return self.now

    def _attempt(self, change: Callable[[], Event | list[Event]]) -> list[Event] | None:
        """Run a change; a refusal must leave the cycle exactly as it was."""
        before = _snapshot(self.cycle)
        try:
            result = change()
        except PeerloopError as exc:
            note(f"refused: {exc!r}")
            assert self.cycle == before, f"refused with {exc!r} but the cycle changed"
            return None
        events = result if isinstance(result, list) else [result]
        self.history += chain_entries(
            "c1", events, self.history[-1].seq, self.history[-1].hash or GENESIS
        )
        return events

    def _recorded(self, events: list[Event] | None) -> None:
        if events is None:
            return
        changed = [e for e in events if isinstance(e, RecordChanged)]
        assert len(changed) == 1
        assert not any(isinstance(e, TransitionFired) for e in events)
        self.model.version += 1
        assert changed[0].version == self.model.version

    def _moved(self, transition: str, events: list[Event] | None) -> None:
        if events is None:
            return
        t = self.template.transition(transition)
        assert t is not None
        fired = [e for e in events if isinstance(e, TransitionFired)]
        assert len(fired) == 1
        assert (fired[0].from_stage, fired[0].to_stage) == (self.model.stage, t.dest)
        self.model.history.append((transition, self.model.stage, t.dest))
        self.model.stage = t.dest
        self.model.version += 1
        assert fired[0].version == self.model.version
        event(f"reached {self.template.id}:{t.dest}" + (" (forced)" if fired[0].forced else ""))

    def _would_fire(self, transition: str, actor: Actor) -> bool:
        trial = _snapshot(self.cycle)
        try:
            self.m.fire(trial, transition, actor, self.now)
        except PeerloopError:
            return False
        return True

    # -- moves --

    @rule(data=st.data())
    def fire(self, data: st.DataObject) -> None:
        transition, actor = self._transition_id(data), self._actor(data)
        t = self.template.transition(transition)
        if t is not None and data.draw(st.booleans(), label="give a role that may fire it"):
            role = data.draw(st.sampled_from(t.roles), label="role")
            actor = Actor(actor.id, actor.roles | {role}, actor.school_id)
        options = {o.transition: o for o in self.m.available(self.cycle, actor)}
        predicted = transition in options and options[transition].allowed
        events = self._attempt(lambda: self.m.fire(self.cycle, transition, actor, self._tick(data)))
        assert (events is not None) == predicted, options.get(transition)
        self._moved(transition, events)

    @rule(data=st.data(), reason=st.sampled_from(["headteacher on leave", "", "  "]))
    def force(self, data: st.DataObject, reason: str) -> None:
        transition, actor = self._transition_id(data), self._actor(data)
        if data.draw(st.integers(0, 3), label="admin") > 0:
            actor = Actor(actor.id, actor.roles | {ADMIN_ROLE}, actor.school_id)
        t = self.template.transition(transition)
        predicted = (
            t is not None
            and self.cycle.stage in t.sources
            and ADMIN_ROLE in actor.roles
            and bool(reason.strip())
        )
        events = self._attempt(
            lambda: self.m.fire(
                self.cycle, transition, actor, self._tick(data), force_reason=reason
            )
        )
        assert (events is not None) == predicted
        self._moved(transition, events)

    @rule(data=st.data())
    def expire(self, data: st.DataObject) -> None:
        transition = self._transition_id(data)
        deadline = self.template.stage(self.cycle.stage).deadline
        rules = deadline.on_expiry if deadline else ()
        named = any(r.kind == "fire" and r.transition == transition for r in rules)
        options = {o.transition: o for o in self.m.available(self.cycle, _everyone(self.template))}
        predicted = named and options[transition].allowed
        system = Actor("system:scheduler", frozenset())
        events = self._attempt(
            lambda: self.m.fire_on_expiry(self.cycle, transition, system, self._tick(data))
        )
        assert (events is not None) == predicted
        self._moved(transition, events)

    @rule(data=st.data())
    def advance(self, data: st.DataObject) -> None:
        """Someone holding every role takes an allowed way out of the stage, if there is one."""
        self._advance(data, prepare=data.draw(st.booleans(), label="complete the stage first"))

    def _advance(self, data: st.DataObject, *, prepare: bool) -> None:
        if prepare:
            self.complete_the_stage()
        root = _everyone(self.template)
        allowed = [o for o in self.m.available(self.cycle, root) if o.allowed]
        if not allowed:
            return
        # Onwards rather than out or back: moves with requirements are the real work (pausing
        # and withdrawing have none and would end most runs early), to a later stage.
        order = [s.id for s in self.template.stages]

        def onwards(o: Option) -> tuple[bool, bool]:
            t = self.template.transition(o.transition)
            assert t is not None
            return bool(t.requirements), order.index(o.to_stage) > order.index(self.cycle.stage)

        best = max(map(onwards, allowed))
        candidates = [o for o in allowed if onwards(o) == best]
        chosen = data.draw(st.sampled_from(candidates), label="way out")
        transition = chosen.transition
        self._moved(
            transition,
            self._attempt(lambda: self.m.fire(self.cycle, transition, root, self._tick(data))),
        )

    # -- records --

    @rule(data=st.data(), kind=st.sampled_from(RECORD_KINDS))
    def record(self, data: st.DataObject, kind: str) -> None:
        """A random actor records something with random (often invalid) values.

        One rule for every kind of record, so that moves are not crowded out of the steps.
        """
        actor, now = self._actor(data), self._tick()
        t, c = self.template, self.cycle
        change: Callable[[], Event | list[Event]]

        def pick(values: Sequence[Any], label: str) -> Any:
            return data.draw(st.sampled_from(values), label=label)

        def text() -> str:
            return data.draw(st.sampled_from(TEXTS), label="text")

        if kind == "evidence":
            evidence_id, question, title = pick(["e1", "e2"], "id"), self._question(data), text()
            change = partial(records.add_evidence, t, c, actor, evidence_id, question, title, now)
        elif kind == "focus":
            focus = data.draw(st.lists(st.sampled_from(TEXTS), max_size=3), label="focus")
            change = partial(records.set_focus, t, c, actor, focus, now)
        elif kind == "date":
            date_id = pick([*(d.id for d in t.dates), "no_date"], "date")
            when = now + timedelta(days=data.draw(st.integers(-30, 90), label="days"))
            if data.draw(st.booleans(), label="naive"):
                when = when.replace(tzinfo=None)
            change = partial(
                records.set_date, t, c, actor, date_id, when, now, self.m.calendar_for(c)
            )
        elif kind == "member":
            member = Member(
                pick(PEOPLE, "person"),
                pick([*t.team_roles(), "observer"], "role"),
                pick(SCHOOLS, "school"),
                pick(NETWORKS, "network"),
            )
            change = partial(records.assign_member, t, c, actor, member, now)
        elif kind == "remove_member":
            change = partial(records.remove_member, t, c, actor, pick(PEOPLE, "person"), now)
        elif kind == "judgement":
            judgement = (pick(["self", "peer", "other"], "kind"), self._question(data))
            grade = pick([*self.grades, "bogus"], "grade")
            change = partial(records.record_judgement, t, c, actor, *judgement, text(), grade, now)
        elif kind == "finding":
            finding_id, finding_kind = pick(["f1", "f2"], "id"), pick(self.kinds, "kind")
            question = data.draw(st.none() | st.just(self._question(data)), label="question")
            change = partial(
                records.add_finding, t, c, actor, finding_id, finding_kind, text(), question, now
            )
        elif kind == "action":
            action_id = pick(["a1", "a2"], "id")
            due = data.draw(st.none() | st.dates(date(2025, 1, 1), date(2026, 12, 31)))
            details = (text(), text(), due, text())
            change = partial(records.save_action, t, c, actor, action_id, *details, now)
        elif kind == "action_status":
            action_id, status = pick(["a1", "a2", "a3"], "id"), pick(STATUSES, "status")
            change = partial(records.set_action_status, t, c, actor, action_id, status, "", now)
        elif kind == "support":
            link = (pick(["l1", "l2"], "id"), pick(["host", "s1", "s2"], "school"), text())
            change = partial(records.add_support_link, t, c, actor, *link, now)
        elif kind == "support_activity":
            link_id = pick(["l1", "l2", "l3"], "id")
            change = partial(records.log_support_activity, t, c, actor, link_id, text(), now)
        else:
            change = partial(records.sign_off, t, c, actor, pick(self.role_ids, "as"), now)
        self._recorded(self._attempt(change))

    def _question(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from([*self.questions, "no.such.question"]), label="q")

    @rule()
    def complete_the_stage(self) -> None:
        """Record what the current stage collects, well enough to meet the usual requirements.

        Random records alone rarely satisfy a requirement over every question; this lets
        unforced moves happen, so `available()` is compared with `fire` in later stages too.
        """
        root = _everyone(self.template)
        t, c = self.template, self.cycle
        collects = t.stage(c.stage).collects if not self.m.is_terminal(c) else {}
        grade = self.grades[1] if len(self.grades) > 1 else None
        steps: list[Callable[[], Event | list[Event]]] = []
        for i, q in enumerate(self.questions):
            if "evidence" in collects:
                steps.append(
                    partial(records.add_evidence, t, c, root, f"ev{i}", q, "Evidence", self.now)
                )
            for kind in ("self", "peer"):
                if f"{kind}_judgements" in collects:
                    steps.append(
                        partial(
                            records.record_judgement, t, c, root, kind, q, "Seen", grade, self.now
                        )
                    )
        if "focus" in collects:
            steps.append(partial(records.set_focus, t, c, root, ["Reading"], self.now))
        if "dates" in collects:
            for d in t.dates:
                visit = self.now + timedelta(days=14)
                steps.append(
                    partial(
                        records.set_date, t, c, root, d.id, visit, self.now, self.m.calendar_for(c)
                    )
                )
        if "team" in collects:
            (lead,), members = t.team_roles("lead"), t.team_roles("member") or t.team_roles("lead")
            team = [("p1", lead, "s1"), ("p2", members[0], "s2"), ("p3", members[0], "s3")]
            if t.champion_role is not None:
                team.append(("p4", t.champion_role, "s4"))
            for person, role, school in team:
                member = Member(person, role, school, "net2")
                steps.append(partial(records.assign_member, t, c, root, member, self.now))
        if "findings" in collects:
            for kind in t.finding_kinds:
                steps.append(
                    partial(
                        records.add_finding, t, c, root, f"f-{kind}", kind, "Seen", None, self.now
                    )
                )
        if "actions" in collects:
            for action_id in ("a1", "a2", "a3"):
                action = ("Raise reading", "Head of English", date(2025, 7, 1), "Reads daily")
                steps.append(partial(records.save_action, t, c, root, action_id, *action, self.now))
        if "action_status" in collects:
            for action_id in list(c.actions):
                steps.append(
                    partial(records.set_action_status, t, c, root, action_id, "met", "", self.now)
                )
        if "support" in collects:
            steps.append(
                partial(records.add_support_link, t, c, root, "l1", "s2", "Maths", self.now)
            )
            steps.append(partial(records.log_support_activity, t, c, root, "l1", "Visit", self.now))
        for role in collects.get("signoffs", ()):
            steps.append(partial(records.sign_off, t, c, root, role, self.now))
        for step in steps:
            self._recorded(self._attempt(step))

    # -- checks --

    def teardown(self) -> None:
        if self.machine is not None:
            stored = [_stored(e) for e in self.history]
            assert verify_chain("c1", stored, (len(stored), stored[-1][2])) == []

    @rule(data=st.data())
    def available_matches_fire(self, data: st.DataObject) -> None:
        """available() calls a transition allowed exactly when firing it would succeed."""
        actor = self._actor(data)
        options = {o.transition: o for o in self.m.available(self.cycle, actor)}
        here = {t.id for t in self.template.transitions_from(self.cycle.stage)}
        assert set(options) == here
        for transition in self.transition_ids:
            option = options.get(transition)
            allowed = option is not None and option.allowed
            assert self._would_fire(transition, actor) == allowed, option
            if option is not None:
                assert option.allowed == (not option.reasons)

    @invariant()
    def agrees_with_the_model(self) -> None:
        if self.machine is None:
            return
        c = self.cycle
        assert c.stage == self.model.stage
        assert c.version == self.model.version
        assert self.template.has_stage(c.stage)
        moves = [e for e in self.history if e.kind == "transition"]
        assert [(e.transition, e.from_stage, e.to_stage) for e in moves] == self.model.history
        root = _everyone(self.template)
        if self.m.is_terminal(c):
            assert self.m.available(c, root) == []
            assert records.collectable(self.template, c, root) == {}
            for transition in self.transition_ids:
                with pytest.raises(CycleClosed):
                    self.m.fire(c, transition, root, self.now, force_reason="test")
        with pytest.raises(UnknownTransition):
            self.m.fire(c, "no_such_transition", root, self.now)


def _snapshot(cycle: Cycle) -> Cycle:
    """A copy to compare with later: records are frozen, so copying the containers is enough."""
    containers = {
        f.name: dict(value)
        for f in dataclasses.fields(cycle)
        if isinstance(value := getattr(cycle, f.name), dict)
    }
    return dataclasses.replace(cycle, **containers)


def _stored(e: HistoryEntry) -> tuple[int, str, str, dict[str, object]]:
    return e.seq, e.prev_hash, e.hash, e.content()


ShippedCycles.TestCase.settings = settings(
    max_examples=50,
    stateful_step_count=40,
    deadline=None,
)
test_shipped_cycles_agree_with_the_model = ShippedCycles.TestCase


def test_there_are_shipped_templates_to_drive() -> None:
    assert WORKFLOWS


def test_snapshots_see_every_change() -> None:
    # "A refusal changes nothing" compares the cycle with a snapshot taken before the change.
    machine = _shipped(WORKFLOWS[0])
    cycle, _ = machine.start("c1", "host", None, _everyone(machine.template), NOW)
    before = _snapshot(cycle)
    assert isinstance(before, Cycle) and before == cycle
    cycle.dates["visit"] = NOW
    assert before != cycle and before.dates == {}
    cycle.dates.clear()
    cycle.focus = ("Reading",)
    assert before != cycle
