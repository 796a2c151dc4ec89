"""In-memory fakes of the storage ports for fast tests, held to the same contract as SQL."""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from types import TracebackType
from typing import Self

from adapters.outbox import Message
from adapters.sql_inbox import notice_email
from engine.audit import GENESIS
from engine.calendar import (
    CalendarBook,
    Calendars,
    CalendarSpec,
    SchoolCalendar,
    calendars_of,
    default_calendar,
)
from engine.cycle import Cycle
from engine.deadlines import PlannedDeadline, action_replan
from engine.directory import (
    ApiToken,
    BreakGlass,
    ContentRead,
    CycleSummary,
    Grant,
    HistoryEntry,
    IdempotencyRecord,
    Network,
    Person,
    PersonErasure,
    ReportShare,
    School,
    StoredTemplate,
)
from engine.errors import Conflict, NotFound, StaleCycle
from engine.events import (
    DeadlinesCancelled,
    DeadlinesScheduled,
    Event,
    RecordChanged,
    stage_due,
)
from engine.journal import chain_entries
from engine.notices import EmailPreference, Notice, Notification
from engine.ports import CycleFilter, DeadlineRow, FeedLink, OpenAction, StageCount
from engine.series import Series

__all__ = ["InMemoryStore", "InMemoryUnitOfWork"]


@dataclass
class _Data:
    cycles: dict[str, Cycle] = field(default_factory=dict)
    heads: dict[str, tuple[int, str]] = field(default_factory=dict)
    history: dict[str, list[HistoryEntry]] = field(default_factory=dict)
    deadlines: list[DeadlineRow] = field(default_factory=list)
    stage_due: dict[str, datetime | None] = field(default_factory=dict)
    templates: dict[tuple[str, int], StoredTemplate] = field(default_factory=dict)
    networks: dict[str, Network] = field(default_factory=dict)
    schools: dict[str, School] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    idempotency: dict[str, IdempotencyRecord] = field(default_factory=dict)
    tokens: dict[str, ApiToken] = field(default_factory=dict)
    passwords: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    shares: dict[str, ReportShare] = field(default_factory=dict)
    break_glass: dict[str, BreakGlass] = field(default_factory=dict)
    reads: list[ContentRead] = field(default_factory=list)
    erasures: list[PersonErasure] = field(default_factory=list)
    notifications: dict[str, tuple[Notification, str]] = field(default_factory=dict)
    preferences: dict[str, EmailPreference] = field(default_factory=dict)
    feed_links: dict[str, FeedLink] = field(default_factory=dict)
    calendars: dict[str | None, CalendarSpec] = field(default_factory=dict)
    series: dict[str, Series] = field(default_factory=dict)
    series_starts: dict[tuple[str, date], str] = field(default_factory=dict)
    mail: list[Message] = field(default_factory=list)
    webhooks_sent: list[tuple[str, dict[str, object], str | None]] = field(default_factory=list)
    """(event, data, network id) of each webhook event queued, in order."""
    """The email the inbox handed to the outbox, in order (what a mail server would get)."""


class InMemoryStore:
    """The committed state shared by the fake units of work (one writer at a time)."""

    def __init__(self) -> None:
        self.data = _Data()
        self.lock = threading.RLock()


class _Cycles:
    def __init__(self, d: _Data, calendar: SchoolCalendar | Calendars | None = None) -> None:
        self.d = d
        self.calendars = calendars_of(calendar or default_calendar())

    def add(self, cycle: Cycle, events: Sequence[Event]) -> None:
        if cycle.id in self.d.cycles:
            raise Conflict("cycle", cycle.id, f"cycle {cycle.id!r} already exists")
        self.d.cycles[cycle.id] = copy.deepcopy(cycle)
        self.d.history[cycle.id] = []
        self.d.heads[cycle.id] = (0, GENESIS)
        self._journal(cycle, events)

    def get(self, cycle_id: str) -> Cycle:
        if cycle_id not in self.d.cycles:
            raise NotFound("cycle", cycle_id)
        return copy.deepcopy(self.d.cycles[cycle_id])

    def stored(self, cycle_id: str) -> Cycle:
        return self.get(cycle_id)

    def get_many(self, cycle_ids: Iterable[str], *, records: bool = True) -> dict[str, Cycle]:
        found = {cid: self.get(cid) for cid in set(cycle_ids) if cid in self.d.cycles}
        if not records:
            for cid, c in found.items():
                found[cid] = dataclasses.replace(
                    c,
                    evidence={},
                    judgements={},
                    findings={},
                    actions={},
                    support={},
                    signoffs={},
                )
        return found

    def save(self, cycle: Cycle, expected_version: int, events: Sequence[Event]) -> None:
        stored = self.d.cycles.get(cycle.id)
        if stored is None:
            raise NotFound("cycle", cycle.id)
        if stored.version != expected_version:
            raise StaleCycle(cycle.id, expected_version, stored.version)
        self.d.cycles[cycle.id] = copy.deepcopy(cycle)
        self._journal(cycle, events)

    def _journal(self, cycle: Cycle, events: Sequence[Event]) -> None:
        changed, due = stage_due(events)
        if changed:
            self.d.stage_due[cycle.id] = due
        count, head = self.d.heads[cycle.id]
        entries = chain_entries(cycle.id, events, count, head)
        self.d.history[cycle.id].extend(entries)
        if entries:
            self.d.heads[cycle.id] = (entries[-1].seq, entries[-1].hash)
        for event in events:
            if isinstance(event, RecordChanged) and event.kind == "action":
                self._replan_action(cycle, event.record_id, event.at)
            elif isinstance(event, DeadlinesCancelled):
                self.d.deadlines = [
                    dataclasses.replace(
                        r, status="cancelled", fired_at=event.at, note="the cycle left the stage"
                    )
                    if r.cycle_id == cycle.id
                    and r.stage == event.stage
                    and r.status == "pending"
                    and r.action_id is None
                    else r
                    for r in self.d.deadlines
                ]
            elif isinstance(event, DeadlinesScheduled):
                self._insert(cycle, event.deadlines)

    def _insert(self, cycle: Cycle, planned: Sequence[PlannedDeadline]) -> None:
        for p in planned:
            self.d.deadlines.append(
                DeadlineRow(
                    id=len(self.d.deadlines) + 1,
                    cycle_id=cycle.id,
                    stage=p.stage,
                    key=p.key,
                    kind=p.kind,
                    due_at=p.at,
                    stage_due_at=p.stage_due_at,
                    roles=p.roles,
                    transition=p.transition,
                    action_id=p.action_id,
                    status="pending",
                )
            )

    def _replan_action(self, cycle: Cycle, action_id: str, at: datetime) -> None:
        existing = [
            (r.id, r.key, r.due_at, r.status)
            for r in self.d.deadlines
            if r.cycle_id == cycle.id and r.action_id == action_id and r.status != "cancelled"
        ]
        cancel, add = action_replan(
            cycle, action_id, existing, self.calendars.for_network(cycle.network_id)
        )
        if cancel:
            action = cycle.actions.get(action_id)
            done = action is None or action.is_done
            note = "the action is done" if done else "the action's due date changed"
            gone = set(cancel)
            self.d.deadlines = [
                dataclasses.replace(r, status="cancelled", fired_at=at, note=note)
                if r.id in gone
                else r
                for r in self.d.deadlines
            ]
        self._insert(cycle, add)

    def file_in_use(self, sha256: str) -> bool:
        return any(
            e.file is not None and e.file.sha256 == sha256
            for c in self.d.cycles.values()
            for e in c.evidence.values()
        )

    def taking_part(self, school_ids: Iterable[str]) -> set[str]:
        wanted = set(school_ids)
        return {cid for cid, c in self.d.cycles.items() if wanted & set(c.participants)}

    def member_of(self, person_id: str) -> set[str]:
        return {
            c.id
            for c in self.d.cycles.values()
            if person_id in c.team or (c.champion is not None and c.champion.person_id == person_id)
        }

    def list(self, where: CycleFilter) -> list[CycleSummary]:
        out = []
        for c in sorted(self.d.cycles.values(), key=lambda c: (c.started_at, c.id)):
            if where.network_id is not None and c.network_id != where.network_id:
                continue
            if where.school_id is not None and c.host_school_id != where.school_id:
                continue
            if where.stage is not None and c.stage != where.stage:
                continue
            if where.template_id is not None and c.template_id != where.template_id:
                continue
            if where.ids is not None and c.id not in where.ids:
                continue
            due = self.d.stage_due.get(c.id)
            if where.overdue_at is not None and (due is None or due >= where.overdue_at):
                continue
            if where.on_time_at is not None and due is not None and due < where.on_time_at:
                continue
            out.append(
                CycleSummary(
                    c.id,
                    c.template_id,
                    c.template_version,
                    c.host_school_id,
                    c.network_id,
                    c.stage,
                    c.version,
                    c.stage_entered_at,
                    c.started_at,
                    due,
                )
            )
        return sorted(out, key=where.order_key)[: where.limit]

    # -- the dashboard's figures, over the union of `filters` as the SQL adapter reads them

    def _union(self, filters: Sequence[CycleFilter]) -> list[Cycle]:
        seen: dict[str, Cycle] = {}
        for f in filters:
            for s in self.list(dataclasses.replace(f, limit=len(self.d.cycles))):
                seen[s.id] = self.d.cycles[s.id]
        return sorted(seen.values(), key=lambda c: c.id)

    def stage_counts(self, filters: Sequence[CycleFilter], now: datetime) -> list[StageCount]:
        counts: dict[tuple[str, str, str], list[int]] = {}
        networks: dict[tuple[str, str, str], str | None] = {}
        for c in self._union(filters):
            key = (c.network_id or "", c.template_id, c.stage)
            networks[key] = c.network_id
            due = self.d.stage_due.get(c.id)
            figures = counts.setdefault(key, [0, 0])
            figures[0] += 1
            figures[1] += due is not None and due < now
        return [StageCount(networks[k], k[1], k[2], *counts[k]) for k in sorted(counts)]

    def started_by_school(
        self, filters: Sequence[CycleFilter], since: datetime, until: datetime
    ) -> dict[str, int]:
        found: dict[str, int] = {}
        for c in self._union(filters):
            if since <= c.started_at < until:
                found[c.host_school_id] = found.get(c.host_school_id, 0) + 1
        return found

    def open_actions(
        self,
        filters: Sequence[CycleFilter],
        *,
        due_before: date,
        due_from: date | None = None,
        ended: Collection[tuple[str, str]] = (),
        limit: int = 500,
    ) -> list[OpenAction]:
        out = [
            OpenAction(
                c.id,
                c.network_id,
                c.host_school_id,
                c.template_id,
                c.template_version,
                c.stage,
                a.id,
                a.title,
                a.owner,
                a.due,
            )
            for c in self._union(filters)
            if (c.template_id, c.stage) not in set(ended)
            for a in c.actions.values()
            if a.due is not None
            and not a.is_done
            and a.due < due_before
            and (due_from is None or a.due >= due_from)
        ]
        return sorted(out, key=lambda o: (o.due, o.cycle_id, o.action_id))[:limit]

    def open_action_counts(
        self,
        filters: Sequence[CycleFilter],
        *,
        due_before: date,
        ended: Collection[tuple[str, str]] = (),
    ) -> dict[str | None, int]:
        found: dict[str | None, int] = {}
        for o in self.open_actions(filters, due_before=due_before, ended=ended, limit=1 << 62):
            found[o.network_id] = found.get(o.network_id, 0) + 1
        return found


class _History:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def for_cycle(self, cycle_id: str) -> list[HistoryEntry]:
        return list(self.d.history.get(cycle_id, []))

    def for_school(
        self,
        school_id: str,
        *,
        limit: int = 500,
        after: tuple[datetime, str, int] | None = None,
    ) -> list[HistoryEntry]:
        hosted = {c.id for c in self.d.cycles.values() if c.host_school_id == school_id}
        entries = sorted(
            (e for cid in hosted for e in self.d.history.get(cid, [])),
            key=lambda e: (e.at, e.cycle_id, e.seq),
        )
        if after is not None:
            entries = [e for e in entries if (e.at, e.cycle_id, e.seq) > after]
        return entries[:limit]

    def head(self, cycle_id: str) -> tuple[int, str] | None:
        return self.d.heads.get(cycle_id)

    def cycle_ids(self) -> list[str]:
        return sorted(self.d.history)


class _Deadlines:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def pending(
        self,
        *,
        cycle_id: str | None = None,
        due_before: datetime | None = None,
        limit: int | None = 500,
        after: tuple[datetime, int] | None = None,
    ) -> list[DeadlineRow]:
        rows = sorted(
            (
                r
                for r in self.d.deadlines
                if r.status == "pending"
                and (cycle_id is None or r.cycle_id == cycle_id)
                and (due_before is None or r.due_at < due_before)
                and (after is None or (r.due_at, r.id) > after)
            ),
            key=lambda r: (r.due_at, r.id),
        )
        return rows if limit is None else rows[:limit]

    def for_cycle(self, cycle_id: str) -> list[DeadlineRow]:
        return [r for r in self.d.deadlines if r.cycle_id == cycle_id]


class _Templates:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def add(self, stored: StoredTemplate) -> None:
        key = (stored.template_id, stored.version)
        old = self.d.templates.get(key)
        if old is not None and old.status == "published":
            nxt = max(v for t, v in self.d.templates if t == stored.template_id) + 1
            raise Conflict(
                "template",
                f"{stored.template_id}@{stored.version}",
                f"version {stored.version} of {stored.template_id!r} is published and never "
                f"changes; upload it as version {nxt}",
            )
        self.d.templates[key] = stored

    def get(self, template_id: str, version: int) -> StoredTemplate:
        found = self.d.templates.get((template_id, version))
        if found is None:
            raise NotFound("template", f"{template_id}@{version}")
        return found

    def latest(self, template_id: str, *, published: bool = True) -> StoredTemplate:
        versions = [
            t
            for (tid, _), t in self.d.templates.items()
            if tid == template_id and (not published or t.status == "published")
        ]
        if not versions:
            raise NotFound("published template" if published else "template", template_id)
        return max(versions, key=lambda t: t.version)

    def list(self) -> list[StoredTemplate]:
        return [self.d.templates[k] for k in sorted(self.d.templates)]

    def versions(self, template_id: str) -> list[StoredTemplate]:
        return [t for t in self.list() if t.template_id == template_id]

    def retire(self, template_id: str, version: int, at: datetime) -> StoredTemplate:
        current = self.get(template_id, version)
        if current.status == "published" and current.retired_at is None:
            current = dataclasses.replace(current, retired_at=at)
            self.d.templates[(template_id, version)] = current
        return current

    def remove_draft(self, template_id: str, version: int) -> None:
        current = self.d.templates.get((template_id, version))
        if current is None or current.status != "draft":
            raise NotFound("draft template", f"{template_id}@{version}")
        del self.d.templates[(template_id, version)]

    def publish(self, template_id: str, version: int, at: datetime) -> StoredTemplate:
        current = self.get(template_id, version)
        if current.status == "published":
            return current
        done = dataclasses.replace(current, status="published", published_at=at)
        self.d.templates[(template_id, version)] = done
        return done


class _Directory:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def _clash(self, kind: str, key: str) -> Conflict:
        return Conflict(kind, key, f"{kind} {key!r} clashes with one already stored")

    def add_network(self, network: Network) -> None:
        if network.id in self.d.networks:
            raise self._clash("network", network.id)
        self.d.networks[network.id] = network

    def get_network(self, network_id: str) -> Network:
        if network_id not in self.d.networks:
            raise NotFound("network", network_id)
        return self.d.networks[network_id]

    def networks(self) -> list[Network]:
        return sorted(self.d.networks.values(), key=lambda n: n.name)

    def add_school(self, school: School) -> None:
        if school.id in self.d.schools or any(s.urn == school.urn for s in self.d.schools.values()):
            raise self._clash("school", school.id)
        if school.network_id is not None and school.network_id not in self.d.networks:
            raise self._clash("school", school.id)
        self.d.schools[school.id] = school

    def get_school(self, school_id: str) -> School:
        if school_id not in self.d.schools:
            raise NotFound("school", school_id)
        return self.d.schools[school_id]

    def schools(self, network_id: str | None = None) -> list[School]:
        found = [s for s in self.d.schools.values() if network_id in (None, s.network_id)]
        return sorted(found, key=lambda s: s.name)

    def add_person(self, person: Person) -> None:
        if person.id in self.d.people or any(
            p.email == person.email for p in self.d.people.values()
        ):
            raise self._clash("person", person.id)
        if person.school_id is not None and person.school_id not in self.d.schools:
            raise self._clash("person", person.id)
        self.d.people[person.id] = person

    def get_person(self, person_id: str) -> Person:
        if person_id not in self.d.people:
            raise NotFound("person", person_id)
        return self.d.people[person_id]

    def person_by_email(self, email: str) -> Person | None:
        wanted = email.strip().lower()
        return next((p for p in self.d.people.values() if p.email.lower() == wanted), None)

    def people(self, school_id: str | None = None) -> list[Person]:
        found = [p for p in self.d.people.values() if school_id in (None, p.school_id)]
        return sorted(found, key=lambda p: p.name)

    def add_grant(self, grant: Grant) -> None:
        if grant.id in self.d.grants or grant.person_id not in self.d.people:
            raise self._clash("grant", grant.id)
        self.d.grants[grant.id] = grant

    def grants_for(self, person_id: str) -> list[Grant]:
        return sorted(
            (g for g in self.d.grants.values() if g.person_id == person_id), key=lambda g: g.id
        )

    def remove_grant(self, grant_id: str) -> None:
        if self.d.grants.pop(grant_id, None) is None:
            raise NotFound("grant", grant_id)

    def grants_with_roles(self, roles: frozenset[str]) -> list[Grant]:
        return sorted((g for g in self.d.grants.values() if g.role in roles), key=lambda g: g.id)


class _Webhooks:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def send(
        self,
        event: str,
        at: datetime,
        data: Mapping[str, object],
        network_id: str | None,
        dedupe_key: str,
    ) -> int:
        self.d.webhooks_sent.append((event, dict(data), network_id))
        return 1


class _Inbox:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def deliver(self, notices: Sequence[Notice], now: datetime) -> int:
        seen = {key for _, key in self.d.notifications.values()}
        new = 0
        for n in notices:
            person = self.d.people.get(n.person_id)
            if person is None or n.dedupe_key in seen:
                continue
            seen.add(n.dedupe_key)
            nid = f"ntc_{len(self.d.notifications) + 1:06d}"
            self.d.notifications[nid] = (
                Notification(nid, n.person_id, n.kind, n.subject, n.text, n.cycle_id, n.link, now),
                n.dedupe_key,
            )
            new += 1
            message = notice_email(n, person.name, person.email, self.preference(person.id))
            if message is not None:
                self.d.mail.append(message)
        return new

    def for_person(
        self, person_id: str, *, unread_only: bool = False, limit: int = 50
    ) -> list[Notification]:
        mine = [
            n
            for n, _ in self.d.notifications.values()
            if n.person_id == person_id and (n.unread or not unread_only)
        ]
        mine.sort(key=lambda n: (n.created_at, n.id), reverse=True)
        return mine[:limit]

    def unread_count(self, person_id: str) -> int:
        return len(self.for_person(person_id, unread_only=True, limit=1_000_000))

    def mark_read(self, person_id: str, ids: frozenset[str] | None, at: datetime) -> int:
        changed = 0
        for nid, (n, key) in list(self.d.notifications.items()):
            if n.person_id == person_id and n.unread and (ids is None or nid in ids):
                self.d.notifications[nid] = (dataclasses.replace(n, read_at=at), key)
                changed += 1
        return changed

    def preference(self, person_id: str) -> EmailPreference:
        return self.d.preferences.get(person_id, "immediate")

    def set_preference(self, person_id: str, email: EmailPreference, at: datetime) -> None:
        self.d.preferences[person_id] = email


class _Idempotency:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def get(self, key: str) -> IdempotencyRecord | None:
        return self.d.idempotency.get(key)

    def put(self, record: IdempotencyRecord) -> None:
        if record.key in self.d.idempotency:
            raise Conflict("idempotency key", record.key, "the key is already stored")
        self.d.idempotency[record.key] = record


class _Credentials:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def add_token(self, token: ApiToken) -> None:
        if token.id in self.d.tokens or any(
            t.token_hash == token.token_hash for t in self.d.tokens.values()
        ):
            raise Conflict("token", token.id, "the token clashes with one already stored")
        if token.person_id not in self.d.people:
            raise Conflict("token", token.id, f"no person {token.person_id!r}")
        self.d.tokens[token.id] = token

    def token_by_hash(self, token_hash: str) -> ApiToken | None:
        return next((t for t in self.d.tokens.values() if t.token_hash == token_hash), None)

    def get_token(self, token_id: str) -> ApiToken:
        if token_id not in self.d.tokens:
            raise NotFound("token", token_id)
        return self.d.tokens[token_id]

    def tokens(self, person_id: str | None = None) -> list[ApiToken]:
        found = [t for t in self.d.tokens.values() if person_id in (None, t.person_id)]
        return sorted(found, key=lambda t: (t.created_at, t.id))

    def revoke_token(self, token_id: str, at: datetime) -> ApiToken:
        token = self.get_token(token_id)
        if token.revoked_at is None:
            token = dataclasses.replace(token, revoked_at=at)
            self.d.tokens[token_id] = token
        return token

    def touch_token(self, token_id: str, at: datetime) -> None:
        if token_id in self.d.tokens:
            self.d.tokens[token_id] = dataclasses.replace(self.d.tokens[token_id], last_used_at=at)

    def set_password(self, person_id: str, password_hash: str, at: datetime) -> None:
        self.d.passwords[person_id] = (password_hash, at)

    def password_hash(self, person_id: str) -> str | None:
        found = self.d.passwords.get(person_id)
        return found[0] if found else None


class _Shares:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def add(self, share: ReportShare) -> None:
        if share.id in self.d.shares:
            raise Conflict("share", share.id, f"share {share.id!r} clashes")
        if share.cycle_id not in self.d.cycles:
            raise Conflict("share", share.id, f"no cycle {share.cycle_id!r}")
        self.d.shares[share.id] = share

    def get(self, share_id: str) -> ReportShare:
        if share_id not in self.d.shares:
            raise NotFound("share", share_id)
        return self.d.shares[share_id]

    def for_cycle(self, cycle_id: str, *, active: bool = True) -> list[ReportShare]:
        found = [
            s
            for s in self.d.shares.values()
            if s.cycle_id == cycle_id and (not active or s.revoked_at is None)
        ]
        return sorted(found, key=lambda s: (s.shared_at, s.id))

    def for_cycles(self, cycle_ids: Iterable[str]) -> dict[str, list[ReportShare]]:
        return {cid: self.for_cycle(cid) for cid in set(cycle_ids)}

    def revoke(self, share_id: str, at: datetime) -> ReportShare:
        share = self.get(share_id)
        if share.revoked_at is None:
            share = dataclasses.replace(share, revoked_at=at)
            self.d.shares[share_id] = share
        return share

    def cycles_shared_with(
        self, person_id: str, school_ids: frozenset[str], network_ids: frozenset[str]
    ) -> set[str]:
        return {
            s.cycle_id
            for s in self.d.shares.values()
            if s.revoked_at is None
            and (
                (s.grantee_kind == "person" and s.grantee_id == person_id)
                or (s.grantee_kind == "school" and s.grantee_id in school_ids)
                or (s.grantee_kind == "network" and s.grantee_id in network_ids)
            )
        }


class _BreakGlass:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def add(self, opening: BreakGlass) -> None:
        if opening.id in self.d.break_glass:
            raise Conflict("break-glass", opening.id, f"break-glass {opening.id!r} clashes")
        if opening.cycle_id not in self.d.cycles:
            raise Conflict("break-glass", opening.id, f"no cycle {opening.cycle_id!r}")
        self.d.break_glass[opening.id] = opening

    def for_cycle(self, cycle_id: str) -> list[BreakGlass]:
        found = [g for g in self.d.break_glass.values() if g.cycle_id == cycle_id]
        return sorted(found, key=lambda g: (g.opened_at, g.id))


class _Reads:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def add(self, reads: Sequence[ContentRead]) -> None:
        self.d.reads.extend(reads)

    def for_cycle(self, cycle_id: str) -> list[ContentRead]:
        return sorted((r for r in self.d.reads if r.cycle_id == cycle_id), key=lambda r: r.at)


class _PersonalData:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def erase(self, person: Person, placeholder: Person, at: datetime) -> dict[str, int]:
        d, pid = self.d, person.id
        removed: dict[str, int] = {}
        grants = [k for k, g in d.grants.items() if g.person_id == pid]
        for k in grants:
            del d.grants[k]
        removed["grants"] = len(grants)
        removed["password"] = 1 if d.passwords.pop(pid, None) else 0
        live = [k for k, t in d.tokens.items() if t.person_id == pid and t.revoked_at is None]
        for k in live:
            d.tokens[k] = dataclasses.replace(d.tokens[k], revoked_at=at)
        removed["tokens"] = len(live)
        theirs = [k for k, (n, _) in d.notifications.items() if n.person_id == pid]
        for k in theirs:
            del d.notifications[k]
        removed["notifications"] = len(theirs)
        d.preferences.pop(pid, None)
        removed["calendar_link"] = 1 if d.feed_links.pop(pid, None) else 0
        # (The fake's mail is what a mail server was handed: it is all sent.)
        to_them = [i for i, m in enumerate(d.mail) if m.recipient == person.email]
        for i in to_them:
            d.mail[i] = dataclasses.replace(d.mail[i], recipient="(erased)", body={})
        removed["mail_unsent"], removed["mail_sent"] = 0, len(to_them)
        named = 0
        if person.name.strip():
            for k, (n, key) in list(d.notifications.items()):
                for part in ("subject", "text"):
                    if person.name in getattr(n, part):
                        n = dataclasses.replace(
                            n, **{part: getattr(n, part).replace(person.name, placeholder.name)}
                        )
                        named += 1
                d.notifications[k] = (n, key)
        removed["named_in_notices"] = named
        d.people[pid] = placeholder
        return removed

    def record(self, erasure: PersonErasure) -> None:
        self.d.erasures.append(erasure)

    def erasures(self) -> list[PersonErasure]:
        return sorted(self.d.erasures, key=lambda e: e.at)


class _Series:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def add(self, series: Series) -> None:
        if series.id in self.d.series:
            raise Conflict("series", series.id, f"series {series.id!r} clashes")
        self.d.series[series.id] = series

    def get(self, series_id: str) -> Series:
        found = self.d.series.get(series_id)
        if found is None:
            raise NotFound("series", series_id)
        return found

    def list(self, *, active: bool | None = None) -> list[Series]:
        found = [s for s in self.d.series.values() if active is None or s.active == active]
        return sorted(found, key=lambda s: (s.created_at, s.id))

    def cancel(self, series_id: str, by: str, at: datetime) -> Series:
        found = self.get(series_id)
        if found.active:
            found = dataclasses.replace(found, cancelled_at=at, cancelled_by=by)
            self.d.series[series_id] = found
        return found

    def started(self, series_ids: Sequence[str]) -> dict[str, dict[date, str]]:
        out: dict[str, dict[date, str]] = {sid: {} for sid in series_ids}
        for (sid, day), cycle_id in self.d.series_starts.items():
            if sid in out:
                out[sid][day] = cycle_id
        return out

    def mark_started(self, series_id: str, day: date, cycle_id: str) -> None:
        if (series_id, day) in self.d.series_starts:
            raise Conflict(
                "series", series_id, f"the cycle of {day.isoformat()} has been started already"
            )
        self.d.series_starts[(series_id, day)] = cycle_id


class _Calendars:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def book(self, tz: tzinfo) -> CalendarBook:
        return CalendarBook(tz, self.d.calendars)

    def save(self, network_id: str | None, spec: CalendarSpec) -> None:
        self.d.calendars[network_id] = spec

    def remove(self, network_id: str | None) -> bool:
        return self.d.calendars.pop(network_id, None) is not None


class InMemoryUnitOfWork:
    """Works on a private copy of the store; `commit()` publishes it, anything else drops it."""

    def __init__(
        self,
        store: InMemoryStore,
        *,
        readonly: bool = False,
        calendar: SchoolCalendar | Calendars | None = None,
    ) -> None:
        self.store = store
        self.readonly = readonly
        self.calendar = calendar

    def __enter__(self) -> Self:
        # One unit of work at a time: the fake trades concurrency for obviously right semantics.
        self.store.lock.acquire()
        self._bind(copy.deepcopy(self.store.data))
        return self

    def _bind(self, work: _Data) -> None:
        self._work = work
        self.cycles = _Cycles(work, self.calendar)
        self.history = _History(work)
        self.deadlines = _Deadlines(work)
        self.templates = _Templates(work)
        self.directory = _Directory(work)
        self.idempotency = _Idempotency(work)
        self.credentials = _Credentials(work)
        self.shares = _Shares(work)
        self.break_glass = _BreakGlass(work)
        self.reads = _Reads(work)
        self.personal_data = _PersonalData(work)
        self.inbox = _Inbox(work)
        self.webhooks = _Webhooks(work)
        self.feed_links = InMemoryFeedLinkRepository(work)
        self.calendars = _Calendars(work)
        self.series = _Series(work)

    def commit(self) -> None:
        self.store.data = copy.deepcopy(self._work)

    def rollback(self) -> None:
        self._bind(copy.deepcopy(self.store.data))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.store.lock.release()


class InMemoryFeedLinkRepository:
    """Calendar-feed links by person, as the SQL table holds them (one per person)."""

    def __init__(self, d: _Data) -> None:
        self.d = d

    def put(self, link: FeedLink) -> None:
        if link.person_id not in self.d.people:
            raise NotFound("person", link.person_id)
        if any(
            o.secret_hash == link.secret_hash and o.person_id != link.person_id
            for o in self.d.feed_links.values()
        ):
            raise Conflict("feed link", link.person_id, "the secret clashes with another link")
        self.d.feed_links[link.person_id] = link

    def for_person(self, person_id: str) -> FeedLink | None:
        return self.d.feed_links.get(person_id)

    def by_hash(self, secret_hash: str) -> FeedLink | None:
        return next((k for k in self.d.feed_links.values() if k.secret_hash == secret_hash), None)

    def remove(self, person_id: str) -> bool:
        return self.d.feed_links.pop(person_id, None) is not None

    def touch(self, secret_hash: str, at: datetime) -> None:
        link = self.by_hash(secret_hash)
        if link is not None:
            self.d.feed_links[link.person_id] = dataclasses.replace(link, last_used_at=at)
