"""Use cases: each runs in one unit of work and either commits everything or nothing."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any, Protocol

from adapters.template_files import read_document
from engine import records
from engine.access import SYSTEM_SCHEDULER
from engine.audit import ChainProblem, verify_chain
from engine.calendar import Calendars, SchoolCalendar, calendars_of
from engine.cycle import Actor, Cycle
from engine.directory import CycleSummary, IdempotencyRecord, StoredTemplate
from engine.errors import Conflict, IdempotencyKeyReused, InvalidTemplate, NotFound, StaleCycle
from engine.events import Event
from engine.integrity import differences
from engine.machine import Option, WorkflowMachine
from engine.ports import CycleFilter, CycleRepository, UnitOfWork
from engine.template import Template
from engine.validation import build_template
from engine.versions import startable, upload_allowed

__all__ = [
    "Clock",
    "Fired",
    "LiveCalendars",
    "Peerloop",
    "TemplateRegistry",
    "export_school",
    "new_id",
    "verify_history",
]


class Clock(Protocol):
    def now(self) -> datetime: ...


def new_id(prefix: str) -> str:
    """A random id with a readable prefix (`cyc_3f2a...`)."""
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


def request_digest(value: object) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class LiveCalendars:
    """The school calendars every machine and unit of work counts in.

    Replaced in place when term dates change, so that machines built before count the new
    days from then on (deadlines already planned keep their dates).
    """

    __slots__ = ("book",)

    def __init__(self, book: Calendars) -> None:
        self.book = book

    @property
    def tz(self) -> tzinfo:
        return self.book.tz

    def for_network(self, network_id: str | None) -> SchoolCalendar:
        return self.book.for_network(network_id)

    def replace(self, book: Calendars) -> None:
        self.book = book


class TemplateRegistry:
    """One machine per template version, built once: published versions never change.

    Args:
        calendar: one calendar for every network, or a book of each network's calendar.
    """

    def __init__(self, calendar: SchoolCalendar | Calendars) -> None:
        self.calendars = LiveCalendars(calendars_of(calendar))
        self._machines: dict[tuple[str, int], WorkflowMachine] = {}

    def lookup(self, uow: Callable[..., UnitOfWork]) -> Callable[[str, int], WorkflowMachine]:
        """`(template id, version) -> machine` for the deadline sweep: the same machines as
        people's moves, opening a unit of work only for a version not seen before."""

        def machine_for(template_id: str, version: int) -> WorkflowMachine:
            found = self._machines.get((template_id, version))
            if found is not None:
                return found
            with uow(readonly=True) as work:
                return self.machine(work, template_id, version)

        return machine_for

    def published(self, uow: UnitOfWork) -> list[Template]:
        """Every published template version: what the roles of running cycles mean."""
        return [
            self.machine(uow, s.template_id, s.version).template
            for s in uow.templates.list()
            if s.status == "published"
        ]

    def followers(self, uow: UnitOfWork) -> frozenset[str]:
        """The roles a published template lets follow networks (`follow_network`)."""
        return frozenset(r for t in self.published(uow) for r in t.roles_that("follow_network"))

    def startable(self, uow: UnitOfWork) -> list[Template]:
        """Of each template, the version a new cycle starts on (the newest published and not
        retired); a template without one is left out."""
        newest: dict[str, StoredTemplate] = {}
        for s in uow.templates.list():
            if s.status == "published" and s.retired_at is None:
                newest[s.template_id] = s  # (listed oldest first)
        return [self.machine(uow, s.template_id, s.version).template for s in newest.values()]

    def machine(self, uow: UnitOfWork, template_id: str, version: int) -> WorkflowMachine:
        key = (template_id, version)
        found = self._machines.get(key)
        if found is None:
            stored = uow.templates.get(template_id, version)
            doc = read_document(stored.source, f"x.{stored.source_format}")
            found = WorkflowMachine(build_template(doc.data), self.calendars)
            if stored.status == "published":
                self._machines[key] = found
        return found


@dataclass(frozen=True, slots=True)
class Fired:
    cycle_id: str
    transition: str
    from_stage: str
    to_stage: str
    version: int
    at: datetime
    forced: bool

    @classmethod
    def from_dict(cls, r: dict[str, Any]) -> Fired:
        return cls(
            str(r["cycle_id"]),
            str(r["transition"]),
            str(r["from_stage"]),
            str(r["to_stage"]),
            int(r["version"]),
            datetime.fromisoformat(str(r["at"])),
            bool(r["forced"]),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "cycle_id": self.cycle_id,
            "transition": self.transition,
            "from_stage": self.from_stage,
            "to_stage": self.to_stage,
            "version": self.version,
            "at": self.at.isoformat(),
            "forced": self.forced,
        }


UowFactory = Callable[..., UnitOfWork]
SCHEDULER = Actor(SYSTEM_SCHEDULER, frozenset({"system"}))
"""Who automatic moves are made and recorded as."""


class Peerloop:
    """The application: use cases over the storage ports, the template registry and a clock."""

    def __init__(self, uow: UowFactory, clock: Clock, registry: TemplateRegistry) -> None:
        self.uow = uow
        self.clock = clock
        self.registry = registry

    # -- templates -----------------------------------------------------------------------------

    def validate_template(self, text: str | bytes, name: str) -> Template:
        """The template a document describes.

        Raises:
            InvalidTemplate: with every issue and the line each points at.
        """
        template, issues = read_document(text, name).checked()
        if template is None:
            raise InvalidTemplate([i.issue for i in issues], [i.line for i in issues])
        return template

    def upload_template(self, text: str | bytes, name: str, *, publish: bool) -> StoredTemplate:
        """Validate and store a template version as a draft (or published).

        Raises:
            InvalidTemplate: with every issue; nothing is stored.
            Conflict: that version is already published.
        """
        template = self.validate_template(text, name)
        source = text.decode() if isinstance(text, bytes) else text
        fmt = (
            "json" if name.lower().endswith(".json") or source.lstrip().startswith("{") else "yaml"
        )
        now = self.clock.now()
        stored = StoredTemplate(
            template.id,
            template.version,
            template.title,
            source,
            "json" if fmt == "json" else "yaml",
            "published" if publish else "draft",
            now,
            now if publish else None,
        )
        with self.uow() as uow:
            upload_allowed(template.id, template.version, uow.templates.versions(template.id))
            uow.templates.add(stored)
            uow.commit()
        return stored

    def publish_template(self, template_id: str, version: int) -> StoredTemplate:
        with self.uow() as uow:
            stored = uow.templates.publish(template_id, version, self.clock.now())
            uow.commit()
        return stored

    def template(self, template_id: str, version: int | None = None) -> Template:
        with self.uow(readonly=True) as uow:
            if version is None:
                version = uow.templates.latest(template_id, published=False).version
            return self.registry.machine(uow, template_id, version).template

    # -- cycles ------------------------------------------------------------------------------

    def start_cycle(
        self,
        template_id: str,
        host_school_id: str,
        actor: Actor,
        *,
        version: int | None = None,
        dates: Mapping[str, datetime] | None = None,
        cycle_id: str | None = None,
        remember: Callable[[UnitOfWork, Cycle], None] | None = None,
    ) -> Cycle:
        """Start a cycle for a host school on a published template version (newest by default).

        `remember` runs in the same transaction (to store the request's idempotency key).
        """
        now = self.clock.now()
        with self.uow() as uow:
            stored = startable(template_id, uow.templates.versions(template_id), version)
            machine = self.registry.machine(uow, stored.template_id, stored.version)
            school = uow.directory.get_school(host_school_id)
            cycle, events = machine.start(
                cycle_id or new_id("cyc"), school.id, school.network_id, actor, now, dates
            )
            uow.cycles.add(cycle, events)
            if remember is not None:
                remember(uow, cycle)
            uow.commit()
        return cycle

    def cycle(self, cycle_id: str) -> Cycle:
        with self.uow(readonly=True) as uow:
            return uow.cycles.get(cycle_id)

    def cycles(self, where: CycleFilter) -> list[CycleSummary]:
        with self.uow(readonly=True) as uow:
            return uow.cycles.list(where)

    def available(
        self, cycle_id: str, actor_of: Callable[[Cycle], Actor]
    ) -> tuple[Cycle, list[Option]]:
        with self.uow(readonly=True) as uow:
            cycle = uow.cycles.get(cycle_id)
            machine = self.registry.machine(uow, cycle.template_id, cycle.template_version)
            return cycle, machine.available(cycle, actor_of(cycle))

    def fire(
        self,
        cycle_id: str,
        transition: str,
        actor_of: Callable[[Cycle], Actor],
        *,
        expected_version: int | None = None,
        payload: Mapping[str, object] | None = None,
        force_reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Fired:
        """Fire a transition; with `expected_version`, refuse (StaleCycle) if the cycle moved.

        With an `idempotency_key`, a repeat of the same request returns the first result
        without acting again; the same key with a different request raises
        IdempotencyKeyReused.
        """
        body = dict(payload or {})
        now = self.clock.now()
        with self.uow() as uow:
            cycle = uow.cycles.get(cycle_id)
            actor = actor_of(cycle)
            request = request_digest([cycle_id, transition, body, force_reason, expected_version])
            key = f"{actor.id}:{idempotency_key}" if idempotency_key else None
            if key is not None:
                seen = uow.idempotency.get(key)
                if seen is not None:
                    if seen.request_digest != request:
                        raise IdempotencyKeyReused(idempotency_key or "")
                    return Fired.from_dict(seen.result)
            version = cycle.version
            if expected_version is not None and expected_version != version:
                raise StaleCycle(cycle_id, expected_version, version)
            machine = self.registry.machine(uow, cycle.template_id, cycle.template_version)
            source = cycle.stage
            events = machine.fire(cycle, transition, actor, now, body, force_reason=force_reason)
            try:
                uow.cycles.save(cycle, version, events)
            except StaleCycle:
                if key is None:
                    raise
                # Most likely the same request sent twice at once, and the twin won: answer
                # with its outcome (or, if it was another change, with the conflict).
                uow.rollback()
                twin = self._replay(key, request, idempotency_key or "")
                if twin is None:
                    raise
                return twin
            result = Fired(
                cycle_id,
                transition,
                source,
                cycle.stage,
                cycle.version,
                now,
                force_reason is not None,
            )
            if key is not None:
                try:
                    uow.idempotency.put(IdempotencyRecord(key, request, result.as_dict(), now))
                except Conflict:
                    # The same request, sent twice at once, got here first: undo this one and
                    # answer with the first one's outcome, so the retry has no second effect.
                    uow.rollback()
                    twin = self._replay(key, request, idempotency_key or "")
                    if twin is None:
                        raise
                    return twin
            uow.commit()
        return result

    def _replay(self, key: str, request: str, given: str) -> Fired | None:
        """The stored outcome of an earlier identical request; None if there is none.

        Raises:
            IdempotencyKeyReused: the key was used for a different request.
        """
        with self.uow(readonly=True) as uow:
            seen = uow.idempotency.get(key)
        if seen is None:
            return None
        if seen.request_digest != request:
            raise IdempotencyKeyReused(given)
        return Fired.from_dict(seen.result)

    def automatic_move(
        self, cycles: CycleRepository, cycle_id: str, transition: str, now: datetime
    ) -> tuple[Cycle, list[Event]]:
        """The move a stage's expiry rule makes, as the scheduler: the same machines and the
        same repository save as a person's move, on the repository the sweep's batch gives.

        Raises:
            RequirementsUnmet: the move is blocked (the sweep escalates it).
            TransitionNotAvailable: the stage no longer fires it.
        """
        cycle = cycles.get(cycle_id)
        machine = self.registry.lookup(self.uow)(cycle.template_id, cycle.template_version)
        version = cycle.version
        events = machine.fire_on_expiry(cycle, transition, SCHEDULER, now)
        cycles.save(cycle, version, events)
        return cycle, events

    def erase_evidence(
        self, cycle_id: str, evidence_id: str, actor_of: Callable[[Cycle], Actor], reason: str
    ) -> str | None:
        """Erase one piece of evidence; returns its file's sha256 if no other evidence uses it."""
        now = self.clock.now()
        with self.uow() as uow:
            cycle = uow.cycles.get(cycle_id)
            version = cycle.version
            gone = cycle.evidence.get(evidence_id)
            template = self.registry.machine(
                uow, cycle.template_id, cycle.template_version
            ).template
            event = records.erase_evidence(
                template, cycle, actor_of(cycle), evidence_id, reason, now
            )
            uow.cycles.save(cycle, version, [event])
            sha = gone.file.sha256 if gone is not None and gone.file is not None else None
            still_used = sha is not None and uow.cycles.file_in_use(sha)
            uow.commit()
        return None if still_used else sha

    def record(
        self,
        cycle_id: str,
        actor_of: Callable[[Cycle], Actor],
        change: Callable[[Template, Cycle, Actor, datetime], Event | list[Event]],
        *,
        expected_version: int | None = None,
    ) -> Cycle:
        """Apply one of `engine.records`' functions to a cycle and store the result."""
        now = self.clock.now()
        with self.uow() as uow:
            cycle = uow.cycles.get(cycle_id)
            actor = actor_of(cycle)  # visibility first: a hidden cycle answers as unknown
            version = cycle.version
            if expected_version is not None and expected_version != version:
                raise StaleCycle(cycle_id, expected_version, version)
            machine = self.registry.machine(uow, cycle.template_id, cycle.template_version)
            out = change(machine.template, cycle, actor, now)
            events = out if isinstance(out, list) else [out]
            uow.cycles.save(cycle, version, events)
            uow.commit()
        return cycle


def verify_history(uow: UnitOfWork, cycle_ids: list[str] | None = None) -> list[ChainProblem]:
    """Check every cycle's hash-chained history (or the given cycles'), and its stored stage
    and records against what the history says they are."""
    problems: list[ChainProblem] = []
    for cid in cycle_ids if cycle_ids is not None else uow.history.cycle_ids():
        history = uow.history.for_cycle(cid)
        entries = [(e.seq, e.prev_hash, e.hash, e.content()) for e in history]
        problems.extend(verify_chain(cid, entries, uow.history.head(cid)))
        # The records too: each as the history last left it (`engine.integrity`).
        try:
            cycle = uow.cycles.stored(cid)
        except NotFound:
            problems.append(ChainProblem(cid, None, "the cycle is gone, but its history is there"))
            continue
        problems.extend(
            ChainProblem(cid, seq or None, said) for seq, said in differences(cycle, history)
        )
    return problems


def to_plain(value: object) -> object:
    """Dataclasses, tuples-keyed dicts and datetimes as JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {
            # (a judgement's or a sign-off's key ends in its school, None for the whole cycle)
            ":".join(str(p) for p in k if p is not None) if isinstance(k, tuple) else str(k): (
                to_plain(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [to_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def export_school(uow: UnitOfWork, school_id: str, now: datetime) -> dict[str, Any]:
    """Everything Peerloop holds about one school, as JSON-ready data (a subject access export)."""
    school = uow.directory.get_school(school_id)
    people = uow.directory.people(school_id)
    cycles = []
    for summary in uow.cycles.list(CycleFilter(school_id=school_id, limit=100_000)):
        cycle = uow.cycles.get(summary.id)
        cycles.append(
            {
                "cycle": to_plain(cycle),
                "history": to_plain(uow.history.for_cycle(cycle.id)),
            }
        )
    return {
        "exported_at": now.isoformat(),
        "school": to_plain(school),
        "people": [
            {"person": to_plain(p), "grants": to_plain(uow.directory.grants_for(p.id))}
            for p in people
        ],
        "cycles": cycles,
    }
