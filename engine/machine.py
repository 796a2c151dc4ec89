"""The state machine of a template version, shared by its cycles (the only `transitions` user).

`transitions` moves the stage; the engine decides first whether the move is allowed, so that a
blocked move can say why (the library's own conditions can only answer yes or no).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from transitions import Machine, MachineError

from engine.calendar import Calendars, SchoolCalendar, calendars_of
from engine.cycle import Actor, Cycle, of_school
from engine.deadlines import PlannedDeadline, apply_plan, compile_stage
from engine.errors import (
    CycleClosed,
    ForceNotAllowed,
    RequirementsUnmet,
    RoleNotAllowed,
    TransitionNotAvailable,
    UnknownTransition,
)
from engine.events import (
    CycleStarted,
    DeadlinesCancelled,
    DeadlinesScheduled,
    Event,
    RecordChanged,
    TransitionFired,
)
from engine.integrity import record_digest
from engine.requirements import LIBRARY, Reason, reason, resolved_params
from engine.template import ADMIN_ROLE, Template, Transition

__all__ = ["Option", "WorkflowMachine", "payload_digest"]


@dataclass(frozen=True, slots=True)
class Option:
    """A transition out of the current stage, as seen by one actor.

    Attributes:
        allowed: the actor may fire it now.
        reasons: every reason it is blocked (empty when allowed).
        forceable: an admin may force it past the reasons, giving one of their own.
    """

    transition: str
    title: str
    to_stage: str
    allowed: bool
    reasons: tuple[Reason, ...]
    forceable: bool = False


def payload_digest(payload: Mapping[str, object]) -> str:
    """A sha256 of the payload's canonical JSON, so history can prove what was sent."""
    if not payload:
        return _EMPTY_DIGEST
    return hashlib.sha256(_CANONICAL.encode(payload).encode()).hexdigest()


_EMPTY_DIGEST = hashlib.sha256(b"{}").hexdigest()  # most moves carry no payload
# One encoder for every move: json.dumps with options builds a new one on each call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def _trigger(transition_id: str) -> str:
    # `transitions` refuses a trigger named like the model attribute ("stage"); a transition id
    # can never contain ':', so the prefixed name cannot clash with anything.
    return f"t:{transition_id}"


class WorkflowMachine:
    """Runs cycles through one template version. Build one per version and share it.

    Args:
        template: a validated template (from `engine.validation.build_template`).
        calendar: counts school days and gives local time for deadlines: one calendar for
            every cycle, or a book of them where each cycle counts its own network's days.
    """

    def __init__(
        self, template: Template, calendar: SchoolCalendar | Calendars | None = None
    ) -> None:
        self.template = template
        self.calendars = calendars_of(calendar)
        # model=None: one machine drives many plain cycle objects, and no `to_<stage>()`
        # back doors exist around the rules (auto_transitions=False).
        self._machine = Machine(
            model=None,
            states=[s.id for s in template.stages],
            initial=template.initial_stage.id,
            transitions=[
                {"trigger": _trigger(t.id), "source": list(t.sources), "dest": t.dest}
                for t in template.transitions
            ],
            auto_transitions=False,
            model_attribute="stage",
        )
        self._events = self._machine.events
        # Worked out once per template version, not per move: deadline plans, each
        # transition's requirement checks with their parameters, and role titles for reasons.
        self._plans = {s.id: compile_stage(template, s.id) for s in template.stages}
        self._checks = {
            t.id: tuple(
                (ref.name, LIBRARY[ref.name].check, resolved_params(ref)) for ref in t.requirements
            )
            for t in template.transitions
        }
        self._role_titles = {r.id: r.title or r.id for r in template.roles}

    def start(
        self,
        cycle_id: str,
        host_school_id: str,
        network_id: str | None,
        actor: Actor,
        now: datetime,
        dates: Mapping[str, datetime] | None = None,
    ) -> tuple[Cycle, list[Event]]:
        """A new cycle in the initial stage, with that stage's deadlines planned."""
        stage = self.template.initial_stage.id
        cycle = Cycle(
            id=cycle_id,
            template_id=self.template.id,
            template_version=self.template.version,
            host_school_id=host_school_id,
            network_id=network_id,
            stage=stage,
            stage_entered_at=now,
            started_at=now,
            dates=dict(dates or {}),
        )
        events: list[Event] = [CycleStarted(cycle_id, self.template.key, stage, actor.id, now)]
        events.append(DeadlinesScheduled(cycle_id, stage, self.deadlines(cycle)))
        return cycle, events

    def deadlines(self, cycle: Cycle) -> tuple[PlannedDeadline, ...]:
        """The current stage's deadlines for `cycle`."""
        return apply_plan(self._plans[cycle.stage], cycle, self.calendar_for(cycle))

    def calendar_for(self, cycle: Cycle) -> SchoolCalendar:
        """The school days `cycle`'s deadlines count: its network's."""
        return self.calendars.for_network(cycle.network_id)

    def is_terminal(self, cycle: Cycle) -> bool:
        return self.template.stage(cycle.stage).terminal

    def available(self, cycle: Cycle, actor: Actor) -> list[Option]:
        """Every transition out of the cycle's stage, allowed or blocked, with all the reasons."""
        options = []
        is_admin = ADMIN_ROLE in actor.roles
        for t in self.template.transitions_from(cycle.stage):
            reasons = self._blockers(cycle, t, actor)
            options.append(
                Option(
                    transition=t.id,
                    title=t.title,
                    to_stage=t.dest,
                    allowed=not reasons,
                    reasons=tuple(reasons),
                    forceable=bool(reasons) and is_admin,
                )
            )
        return options

    def fire(
        self,
        cycle: Cycle,
        transition: str,
        actor: Actor,
        now: datetime,
        payload: Mapping[str, object] | None = None,
        *,
        force_reason: str | None = None,
    ) -> list[Event]:
        """Move `cycle` along `transition`, changing it in place.

        A forced move (an admin giving `force_reason`) skips the role and requirement checks
        and is recorded as forced.

        Returns:
            TransitionFired; a RecordChanged for each sign-off of the entered stage that a
            return to it cleared; DeadlinesCancelled for the stage left and DeadlinesScheduled
            for the stage entered.

        Raises:
            UnknownTransition, TransitionNotAvailable, CycleClosed, RoleNotAllowed,
            RequirementsUnmet (with every reason), ForceNotAllowed.
        """
        t = self.template.transition(transition)
        if t is None:
            raise UnknownTransition(transition, self.template.key)
        if cycle.stage not in t.sources:
            if self.is_terminal(cycle):
                raise CycleClosed(cycle.id, cycle.stage)
            raise TransitionNotAvailable(cycle.id, transition, cycle.stage)
        forced = force_reason is not None
        if forced:
            if ADMIN_ROLE not in actor.roles:
                raise ForceNotAllowed(cycle.id, transition, "only an admin may force a move")
            if not force_reason or not force_reason.strip():
                raise ForceNotAllowed(cycle.id, transition, "a forced move needs a reason")
            role = ADMIN_ROLE
        else:
            allowed_role = self._role_for(t, actor)
            if allowed_role is None:
                raise RoleNotAllowed(cycle.id, transition, actor.roles, t.roles)
            role = allowed_role
            reasons = self._unmet(cycle, t)
            if reasons:
                raise RequirementsUnmet(cycle.id, transition, reasons)

        return self._move(cycle, t, actor, role, now, payload or {}, force_reason)

    def _move(
        self,
        cycle: Cycle,
        t: Transition,
        actor: Actor,
        role: str,
        now: datetime,
        payload: Mapping[str, object],
        force_reason: str | None,
    ) -> list[Event]:
        source = cycle.stage
        try:
            self._events[_trigger(t.id)].trigger(cycle)
        except MachineError as exc:  # the checks before make this unreachable; kept as a seal
            raise TransitionNotAvailable(cycle.id, t.id, source) from exc
        cycle.version += 1
        cycle.stage_entered_at = now
        body = dict(payload)
        fired = TransitionFired(
            cycle_id=cycle.id,
            transition=t.id,
            from_stage=source,
            to_stage=cycle.stage,
            actor=actor.id,
            role=role,
            at=now,
            version=cycle.version,
            payload=body,
            payload_digest=payload_digest(body),
            forced=force_reason is not None,
            reason=(force_reason or "").strip(),
        )
        # Coming back to a stage means signing it off again: earlier sign-offs were given to
        # what the stage held then.
        stale = sorted(key for key in cycle.signoffs if key[0] == cycle.stage)
        cleared: list[Event] = []
        for key in stale:
            del cycle.signoffs[key]
            cleared.append(
                RecordChanged(
                    cycle.id,
                    "signoff",
                    of_school(f"{key[0]}:{key[1]}", key[2]),
                    "removed",
                    actor.id,
                    now,
                    cycle.version,
                    note="the cycle came back to this stage",
                    role=role,
                    digest=record_digest(None),
                )
            )
        return [
            fired,
            *cleared,
            DeadlinesCancelled(cycle.id, source, now),
            DeadlinesScheduled(cycle.id, cycle.stage, self.deadlines(cycle)),
        ]

    def fire_on_expiry(
        self, cycle: Cycle, transition: str, actor: Actor, now: datetime
    ) -> list[Event]:
        """Fire the transition the current stage's expiry rule names, as a system actor.

        The template's expiry rule is the authority here, so no role is needed; requirements
        still hold, and an automatic move they block raises RequirementsUnmet like any other.

        Raises:
            TransitionNotAvailable: the current stage has no expiry rule firing `transition`
                (the cycle moved on since the deadline was planned).
        """
        deadline = self.template.stage(cycle.stage).deadline
        rules = deadline.on_expiry if deadline else ()
        if not any(r.kind == "fire" and r.transition == transition for r in rules):
            raise TransitionNotAvailable(cycle.id, transition, cycle.stage)
        t = self.template.transition(transition)
        assert t is not None  # the validator checked that expiry rules name real transitions
        reasons = self._unmet(cycle, t)
        if reasons:
            raise RequirementsUnmet(cycle.id, transition, reasons)
        return self._move(cycle, t, actor, "system", now, {}, None)

    def _role_for(self, t: Transition, actor: Actor) -> str | None:
        for role in t.roles:
            if role in actor.roles:
                return role
        return None

    def _unmet(self, cycle: Cycle, t: Transition) -> list[Reason]:
        template = self.template
        return [
            reason(name, found)
            for name, check, params in self._checks[t.id]
            for found in check(template, cycle, params)
        ]

    def _blockers(self, cycle: Cycle, t: Transition, actor: Actor) -> list[Reason]:
        reasons: list[Reason] = []
        if self._role_for(t, actor) is None:
            titles = self._role_titles
            allowed = " or ".join(titles.get(r, r) for r in t.roles)
            reasons.append(Reason("role_not_allowed", f"only the {allowed} may do this"))
        reasons.extend(self._unmet(cycle, t))
        return reasons
