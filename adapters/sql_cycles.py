"""The cycle repository on SQL, with SQLAlchemy Core statements (the hot path stays off the ORM)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from adapters.aggregate_cache import AggregateCache, copy_cycle
from adapters.sql_dashboard import DashboardReads, cycle_summaries
from adapters.tables import (
    CHAMPION_ID,
    ActionRow,
    CycleRow,
    DeadlineTableRow,
    EvidenceRow,
    FindingRow,
    HistoryRow,
    JudgementRow,
    ParticipantRow,
    SignOffRow,
    SupportActivityRow,
    SupportLinkRow,
    TeamMemberRow,
)
from engine.audit import GENESIS
from engine.calendar import Calendars, SchoolCalendar, calendars_of, default_calendar
from engine.cycle import (
    Action,
    Cycle,
    Evidence,
    EvidenceFile,
    Finding,
    Judgement,
    Member,
    Participant,
    SignOff,
    SupportLink,
    school_of,
)
from engine.deadlines import PlannedDeadline, action_replan
from engine.directory import CycleSummary, HistoryEntry
from engine.errors import NotFound, StaleCycle
from engine.events import (
    DeadlinesCancelled,
    DeadlinesScheduled,
    Event,
    RecordChanged,
    stage_due,
)
from engine.journal import chain_entries
from engine.ports import CycleFilter

__all__ = ["SqlCycleRepository", "history_values"]

C = CycleRow.__table__
TEAM = TeamMemberRow.__table__
EVIDENCE = EvidenceRow.__table__
JUDGEMENT = JudgementRow.__table__
FINDING = FindingRow.__table__
ACTION = ActionRow.__table__
SUPPORT = SupportLinkRow.__table__
ACTIVITY = SupportActivityRow.__table__
SIGNOFF = SignOffRow.__table__
PARTICIPANT = ParticipantRow.__table__
DEADLINE = DeadlineTableRow.__table__
HISTORY = HistoryRow.__table__


# The hot path's statements, built once: constructing a statement costs more than running it.
_CID = sa.bindparam("cid")
_Q_HEAD = sa.select(C.c.version, C.c.history_count, C.c.history_head).where(C.c.id == _CID)
_Q_HEADS = sa.select(C.c.id, C.c.version, C.c.history_count, C.c.history_head).where(
    C.c.id.in_(sa.bindparam("cids", expanding=True))
)
_Q_ACTIVITY = (
    sa.select(ACTIVITY)
    .where(ACTIVITY.c.link_id.in_(sa.bindparam("links", expanding=True)))
    .order_by(ACTIVITY.c.link_id, ACTIVITY.c.seq)
)


@dataclass(frozen=True, slots=True)
class _Reads:
    """The statements that read whole cycles, keyed one way: one cycle, or many at once
    (the same rows in the same order, so one loader assembles both)."""

    cycle: sa.Select[Any]
    team: sa.Select[Any]
    evidence: sa.Select[Any]
    judgement: sa.Select[Any]
    finding: sa.Select[Any]
    action: sa.Select[Any]
    support: sa.Select[Any]
    signoff: sa.Select[Any]
    participant: sa.Select[Any]

    @classmethod
    def keyed(cls, key: Callable[[sa.ColumnElement[Any]], sa.ColumnElement[bool]]) -> _Reads:
        return cls(
            sa.select(C).where(key(C.c.id)),
            sa.select(TEAM).where(key(TEAM.c.cycle_id)),
            sa.select(EVIDENCE).where(key(EVIDENCE.c.cycle_id)).order_by(EVIDENCE.c.added_at),
            sa.select(JUDGEMENT).where(key(JUDGEMENT.c.cycle_id)),
            sa.select(FINDING).where(key(FINDING.c.cycle_id)).order_by(FINDING.c.at),
            sa.select(ACTION).where(key(ACTION.c.cycle_id)).order_by(ACTION.c.id),
            sa.select(SUPPORT).where(key(SUPPORT.c.cycle_id)).order_by(SUPPORT.c.id),
            sa.select(SIGNOFF).where(key(SIGNOFF.c.cycle_id)),
            sa.select(PARTICIPANT)
            .where(key(PARTICIPANT.c.cycle_id))
            .order_by(PARTICIPANT.c.added_at, PARTICIPANT.c.school_id),
        )


_ONE = _Reads.keyed(lambda column: column == _CID)
_MANY = _Reads.keyed(lambda column: column.in_(sa.bindparam("cids", expanding=True)))
_U_CYCLE = C.update().where(
    C.c.id == sa.bindparam("b_id"), C.c.version == sa.bindparam("b_expected")
)
_I_HISTORY = HISTORY.insert()
_I_DEADLINE = DEADLINE.insert()
_U_CANCEL = (
    DEADLINE.update()
    .where(
        DEADLINE.c.cycle_id == sa.bindparam("b_cycle"),
        DEADLINE.c.stage == sa.bindparam("b_stage"),
        DEADLINE.c.status == "pending",
        DEADLINE.c.action_id.is_(None),
    )
    .values(status="cancelled", note="the cycle left the stage")
)


def _member_json(m: Member | None) -> dict[str, Any] | None:
    if m is None:
        return None
    return {
        "person_id": m.person_id,
        "role": m.role,
        "school_id": m.school_id,
        "network_id": m.network_id,
    }


def _cycle_values(cycle: Cycle) -> dict[str, Any]:
    return {
        "template_version": cycle.template_version,  # moved on by a migration only
        "stage": cycle.stage,
        "version": cycle.version,
        "stage_entered_at": cycle.stage_entered_at,
        "dates": {k: v.isoformat() for k, v in cycle.dates.items()},
        "focus": list(cycle.focus),
        "champion": _member_json(cycle.champion),
    }


def history_values(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "cycle_id": entry.cycle_id,
        "seq": entry.seq,
        "at": entry.at,
        "kind": entry.kind,
        "actor": entry.actor,
        "role": entry.role,
        "transition": entry.transition,
        "from_stage": entry.from_stage,
        "to_stage": entry.to_stage,
        "payload_digest": entry.payload_digest,
        "forced": entry.forced,
        "reason": entry.reason,
        "detail": entry.detail,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


class SqlCycleRepository(DashboardReads):
    """Cycles and what they collected, written in the caller's transaction.

    Args:
        conn: the unit of work's connection.
        calendar: counts action due dates, each cycle in its network's school days
            (`engine.calendar.default_calendar()`, London weekdays, when not given).
        cache: committed cycles shared between units of work; what this one writes reaches
            it only when the unit of work commits (`committed`).
    """

    def __init__(
        self,
        conn: sa.Connection,
        calendar: SchoolCalendar | Calendars | None = None,
        cache: AggregateCache | None = None,
    ) -> None:
        self.conn = conn
        self.calendars = calendars_of(calendar or default_calendar())
        self.cache = cache
        self._written: dict[str, tuple[Cycle, str]] = {}
        # The history head of each cycle as loaded: valid for as long as the version check
        # passes, because every change to a cycle bumps its version.
        self._heads: dict[str, tuple[int, str]] = {}

    # -- writing -----------------------------------------------------------------------------

    def add(self, cycle: Cycle, events: Sequence[Event]) -> None:
        entries = chain_entries(cycle.id, events, 0, GENESIS)
        self.conn.execute(
            C.insert().values(
                id=cycle.id,
                template_id=cycle.template_id,
                host_school_id=cycle.host_school_id,
                network_id=cycle.network_id,
                started_at=cycle.started_at,
                history_count=len(entries),
                history_head=entries[-1].hash if entries else GENESIS,
                stage_due_at=stage_due(events)[1],
                **_cycle_values(cycle),
            )
        )
        self._heads[cycle.id] = (len(entries), entries[-1].hash if entries else GENESIS)
        self._remember(cycle)
        for kind, key in _records_touched(events):
            self._sync(cycle, kind, key)
        self._write_history(entries)
        self._write_deadlines(cycle, events)

    def save(self, cycle: Cycle, expected_version: int, events: Sequence[Event]) -> None:
        head = self._heads.get(cycle.id)
        if head is None:
            head = self._load_head(cycle.id)
        entries = chain_entries(cycle.id, events, head[0], head[1])
        new_head = (entries[-1].seq, entries[-1].hash) if entries else head
        values = {
            "b_id": cycle.id,
            "b_expected": expected_version,
            "history_count": new_head[0],
            "history_head": new_head[1],
            **_cycle_values(cycle),
        }
        due_changed, due = stage_due(events)
        if due_changed:
            values["stage_due_at"] = due
        result = self.conn.execute(_U_CYCLE, values)
        if result.rowcount != 1:
            actual = self.conn.execute(sa.select(C.c.version).where(C.c.id == cycle.id)).scalar()
            if actual is None:
                raise NotFound("cycle", cycle.id)
            raise StaleCycle(cycle.id, expected_version, actual)
        self._heads[cycle.id] = new_head
        self._remember(cycle)
        for kind, key in _records_touched(events):
            self._sync(cycle, kind, key)
        self._write_history(entries)
        self._write_deadlines(cycle, events)

    def _remember(self, cycle: Cycle) -> None:
        # A copy as written now: the caller may go on changing its cycle without saving.
        if self.cache is not None:
            self._written[cycle.id] = (copy_cycle(cycle), self._heads[cycle.id][1])

    def committed(self) -> None:
        """The unit of work committed: what it wrote is now what the database holds."""
        if self.cache is not None:
            for cycle, head in self._written.values():
                self.cache.put(cycle, head)
        self._written.clear()

    def _load_head(self, cycle_id: str) -> tuple[int, str]:
        row = self.conn.execute(
            sa.select(C.c.history_count, C.c.history_head).where(C.c.id == cycle_id)
        ).first()
        if row is None:
            raise NotFound("cycle", cycle_id)
        return int(row[0]), str(row[1])

    def _write_history(self, entries: Sequence[HistoryEntry]) -> None:
        if entries:
            self.conn.execute(_I_HISTORY, [history_values(e) for e in entries])

    def _write_deadlines(self, cycle: Cycle, events: Sequence[Event]) -> None:
        for event in events:
            if isinstance(event, RecordChanged) and event.kind == "action":
                self._replan_action(cycle, event.record_id, event.at)
            elif isinstance(event, DeadlinesCancelled):
                self.conn.execute(
                    _U_CANCEL, {"b_cycle": cycle.id, "b_stage": event.stage, "fired_at": event.at}
                )
            elif isinstance(event, DeadlinesScheduled) and event.deadlines:
                self._insert_deadlines(cycle, event.deadlines)

    def _replan_action(self, cycle: Cycle, action_id: str, at: datetime) -> None:
        """Keep an action's "due soon" and "overdue" rows in step with the action."""
        existing = [
            (r.id, r.key, r.due_at, r.status)
            for r in self.conn.execute(
                sa.select(
                    DEADLINE.c.id, DEADLINE.c.key, DEADLINE.c.due_at, DEADLINE.c.status
                ).where(
                    DEADLINE.c.cycle_id == cycle.id,
                    DEADLINE.c.action_id == action_id,
                    DEADLINE.c.status != "cancelled",
                )
            ).all()
        ]
        cancel, add = action_replan(
            cycle, action_id, existing, self.calendars.for_network(cycle.network_id)
        )
        if cancel:
            action = cycle.actions.get(action_id)
            done = action is None or action.is_done
            self.conn.execute(
                DEADLINE.update()
                .where(DEADLINE.c.id.in_(cancel), DEADLINE.c.status == "pending")
                .values(
                    status="cancelled",
                    fired_at=at,
                    note="the action is done" if done else "the action's due date changed",
                )
            )
        if add:
            self._insert_deadlines(cycle, add)

    def _insert_deadlines(self, cycle: Cycle, planned: Sequence[PlannedDeadline]) -> None:
        self.conn.execute(
            _I_DEADLINE,
            [
                {
                    "cycle_id": cycle.id,
                    "stage": d.stage,
                    "key": d.key,
                    "kind": d.kind,
                    "due_at": d.at,
                    "stage_due_at": d.stage_due_at,
                    "roles": list(d.roles),
                    "transition": d.transition,
                    "action_id": d.action_id,
                    "status": "pending",
                    "note": "",
                }
                for d in planned
            ],
        )

    def _sync(self, cycle: Cycle, kind: str, key: str) -> None:
        """Make the rows of one record match the aggregate (delete, then insert if present)."""
        cid = cycle.id
        if kind == "participants":
            self.conn.execute(
                PARTICIPANT.delete().where(
                    PARTICIPANT.c.cycle_id == cid, PARTICIPANT.c.school_id == key
                )
            )
            p = cycle.participants.get(key)
            if p is not None:
                self.conn.execute(
                    PARTICIPANT.insert().values(
                        cycle_id=cid,
                        school_id=p.school_id,
                        name=p.name,
                        network_id=p.network_id,
                        added_by=p.added_by,
                        added_at=p.added_at,
                    )
                )
        elif kind == "team":
            self.conn.execute(TEAM.delete().where(TEAM.c.cycle_id == cid, TEAM.c.person_id == key))
            m = cycle.team.get(key)
            if m is not None:
                self.conn.execute(TEAM.insert().values(cycle_id=cid, **_member_json(m) or {}))
        elif kind == "evidence":
            e = cycle.evidence.get(key)
            if e is None:
                self.conn.execute(EVIDENCE.delete().where(EVIDENCE.c.id == key))
            elif not self.conn.execute(
                sa.select(EVIDENCE.c.id).where(EVIDENCE.c.id == key)
            ).first():
                f = e.file
                self.conn.execute(
                    EVIDENCE.insert().values(
                        id=e.id,
                        cycle_id=cid,
                        question_id=e.question_id,
                        title=e.title,
                        added_by=e.added_by,
                        added_at=e.added_at,
                        file_sha256=f.sha256 if f else None,
                        file_size=f.size if f else None,
                        media_type=f.media_type if f else None,
                        original_name=f.original_name if f else None,
                        school_id=e.school_id,
                    )
                )
        elif kind in ("self_judgement", "peer_judgement"):
            jkind = kind.split("_")[0]
            question_id, school = school_of(key)
            self.conn.execute(
                JUDGEMENT.delete().where(
                    JUDGEMENT.c.cycle_id == cid,
                    JUDGEMENT.c.kind == jkind,
                    JUDGEMENT.c.question_id == question_id,
                    JUDGEMENT.c.school_id == (school or ""),
                )
            )
            j = cycle.judgements.get((jkind, question_id, school))
            if j is not None:
                self.conn.execute(
                    JUDGEMENT.insert().values(
                        cycle_id=cid,
                        kind=j.kind,
                        question_id=j.question_id,
                        school_id=j.school_id or "",
                        narrative=j.narrative,
                        grade=j.grade,
                        by=j.by,
                        at=j.at,
                    )
                )
        elif kind == "finding":
            self.conn.execute(FINDING.delete().where(FINDING.c.id == key))
            f = cycle.findings.get(key)
            if f is not None:
                self.conn.execute(
                    FINDING.insert().values(
                        id=f.id,
                        cycle_id=cid,
                        kind=f.kind,
                        text=f.text,
                        question_id=f.question_id,
                        by=f.by,
                        at=f.at,
                        school_id=f.school_id,
                    )
                )
        elif kind == "action":
            self.conn.execute(ACTION.delete().where(ACTION.c.id == key))
            a = cycle.actions.get(key)
            if a is not None:
                self.conn.execute(
                    ACTION.insert().values(
                        id=a.id,
                        cycle_id=cid,
                        title=a.title,
                        owner=a.owner,
                        due=a.due,
                        success_criteria=a.success_criteria,
                        status=a.status,
                        status_note=a.status_note,
                        finding_id=a.finding_id,
                    )
                )
        elif kind == "support":
            self.conn.execute(ACTIVITY.delete().where(ACTIVITY.c.link_id == key))
            self.conn.execute(SUPPORT.delete().where(SUPPORT.c.id == key))
            s = cycle.support.get(key)
            if s is not None:
                self.conn.execute(
                    SUPPORT.insert().values(
                        id=s.id,
                        cycle_id=cid,
                        supporting_school_id=s.supporting_school_id,
                        area=s.area,
                    )
                )
                if s.activities:
                    self.conn.execute(
                        ACTIVITY.insert(),
                        [
                            {"link_id": s.id, "seq": i, "text": a.text, "at": a.at, "by": a.by}
                            for i, a in enumerate(s.log)
                        ],
                    )
        elif kind == "signoff":
            signed, school = school_of(key)
            stage, _, role = signed.partition(":")
            self.conn.execute(
                SIGNOFF.delete().where(
                    SIGNOFF.c.cycle_id == cid,
                    SIGNOFF.c.stage == stage,
                    SIGNOFF.c.role == role,
                    SIGNOFF.c.school_id == (school or ""),
                )
            )
            so = cycle.signoffs.get((stage, role, school))
            if so is not None:
                self.conn.execute(
                    SIGNOFF.insert().values(
                        cycle_id=cid,
                        stage=so.stage,
                        role=so.role,
                        school_id=so.school_id or "",
                        person_id=so.person_id,
                        at=so.at,
                    )
                )
        # focus, dates and the champion live on the cycle row, written by add/save.

    def file_in_use(self, sha256: str) -> bool:
        """Whether any evidence still refers to this stored file."""
        q = sa.select(EVIDENCE.c.id).where(EVIDENCE.c.file_sha256 == sha256).limit(1)
        return self.conn.execute(q).first() is not None

    def taking_part(self, school_ids: Iterable[str]) -> set[str]:
        wanted = sorted(set(school_ids))
        if not wanted:
            return set()
        q = sa.select(PARTICIPANT.c.cycle_id).where(PARTICIPANT.c.school_id.in_(wanted))
        return set(self.conn.execute(q).scalars())

    def member_of(self, person_id: str) -> set[str]:
        """The ids of the cycles whose review team (or champion) includes the person."""
        team = sa.select(TEAM.c.cycle_id).where(TEAM.c.person_id == person_id)
        champ = sa.select(C.c.id).where(sa.literal_column(CHAMPION_ID.text) == person_id)
        return set(self.conn.execute(team).scalars()) | set(self.conn.execute(champ).scalars())

    # -- reading -----------------------------------------------------------------------------

    def get(self, cycle_id: str) -> Cycle:
        key = {"cid": cycle_id}
        if self.cache is not None:
            # One narrow read decides whether the cached records are still the stored ones.
            found = self.conn.execute(_Q_HEAD, key).first()
            if found is None:
                raise NotFound("cycle", cycle_id)
            version, count, head = int(found[0]), int(found[1]), str(found[2])
            cached = self.cache.get(cycle_id, version, head)
            if cached is not None:
                self._heads[cycle_id] = (count, head)
                return cached
        loaded = self._load(_ONE, key)
        if cycle_id not in loaded:
            raise NotFound("cycle", cycle_id)
        self._cache(loaded)
        return loaded[cycle_id]

    def stored(self, cycle_id: str) -> Cycle:
        loaded = self._load(_ONE, {"cid": cycle_id})
        if cycle_id not in loaded:
            raise NotFound("cycle", cycle_id)
        return loaded[cycle_id]

    def get_many(self, cycle_ids: Iterable[str], *, records: bool = True) -> dict[str, Cycle]:
        wanted = sorted(set(cycle_ids))
        if not wanted:
            return {}
        if not records:
            # Two statements, and never cached: a cycle without its records is not the
            # stored cycle.
            return self._load(_MANY, {"cids": wanted}, records=False)
        found: dict[str, Cycle] = {}
        if self.cache is not None:
            for cid, version, count, head in self.conn.execute(_Q_HEADS, {"cids": wanted}):
                cached = self.cache.get(cid, int(version), str(head))
                if cached is not None:
                    self._heads[cid] = (int(count), str(head))
                    found[cid] = cached
            wanted = [cid for cid in wanted if cid not in found]
        if wanted:
            loaded = self._load(_MANY, {"cids": wanted})
            self._cache(loaded)
            found |= loaded
        return found

    def _cache(self, loaded: dict[str, Cycle]) -> None:
        if self.cache is None:
            return
        for cycle_id, cycle in loaded.items():
            # (What this unit of work wrote itself is not committed yet.)
            if cycle_id not in self._written:
                self.cache.put(copy_cycle(cycle), self._heads[cycle_id][1])

    def _load(
        self, reads: _Reads, key: dict[str, Any], *, records: bool = True
    ) -> dict[str, Cycle]:
        """The cycles `key` names that exist, with everything they collected (or only their
        team, without `records`)."""
        conn = self.conn
        cycles: dict[str, Cycle] = {}
        for row in conn.execute(reads.cycle, key).mappings():
            self._heads[row["id"]] = (int(row["history_count"]), str(row["history_head"]))
            champ = row["champion"]
            cycles[row["id"]] = Cycle(
                id=row["id"],
                template_id=row["template_id"],
                template_version=row["template_version"],
                host_school_id=row["host_school_id"],
                network_id=row["network_id"],
                stage=row["stage"],
                stage_entered_at=row["stage_entered_at"],
                started_at=row["started_at"],
                version=row["version"],
                dates={k: datetime.fromisoformat(v) for k, v in (row["dates"] or {}).items()},
                focus=tuple(row["focus"] or ()),
                champion=Member(**champ) if champ else None,
            )
        if not cycles:
            return cycles
        for r in conn.execute(reads.team, key).mappings():
            cycles[r["cycle_id"]].team[r["person_id"]] = Member(
                r["person_id"], r["role"], r["school_id"], r["network_id"]
            )
        # Who takes part decides who may see and act, so it is read even without records.
        for r in conn.execute(reads.participant, key).mappings():
            cycles[r["cycle_id"]].participants[r["school_id"]] = Participant(
                r["school_id"], r["name"], r["network_id"], r["added_by"], r["added_at"]
            )
        if not records:
            return cycles
        for r in conn.execute(reads.evidence, key).mappings():
            file = None
            if r["file_sha256"]:
                file = EvidenceFile(
                    r["file_sha256"], r["file_size"], r["media_type"], r["original_name"]
                )
            cycles[r["cycle_id"]].evidence[r["id"]] = Evidence(
                r["id"],
                r["question_id"],
                r["title"],
                r["added_by"],
                r["added_at"],
                file,
                r["school_id"],
            )
        for r in conn.execute(reads.judgement, key).mappings():
            j = Judgement(
                r["kind"],
                r["question_id"],
                r["narrative"],
                r["grade"],
                r["by"],
                r["at"],
                r["school_id"] or None,
            )
            cycles[r["cycle_id"]].judgements[j.key] = j
        for r in conn.execute(reads.finding, key).mappings():
            cycles[r["cycle_id"]].findings[r["id"]] = Finding(
                r["id"], r["kind"], r["text"], r["question_id"], r["by"], r["at"], r["school_id"]
            )
        for r in conn.execute(reads.action, key).mappings():
            cycles[r["cycle_id"]].actions[r["id"]] = Action(
                r["id"],
                r["title"],
                r["owner"],
                r["due"],
                r["success_criteria"],
                r["status"],
                r["status_note"],
                r["finding_id"],
            )
        links = conn.execute(reads.support, key).mappings().all()
        if links:
            acts: dict[str, list[str]] = {}
            stamps: dict[str, list[tuple[datetime, str] | None]] = {}
            ids = {"links": [lk["id"] for lk in links]}
            for r in conn.execute(_Q_ACTIVITY, ids).mappings():
                acts.setdefault(r["link_id"], []).append(r["text"])
                stamp = (r["at"], r["by"] or "") if r["at"] is not None else None
                stamps.setdefault(r["link_id"], []).append(stamp)
            for lk in links:
                cycles[lk["cycle_id"]].support[lk["id"]] = SupportLink(
                    lk["id"],
                    lk["supporting_school_id"],
                    lk["area"],
                    tuple(acts.get(lk["id"], ())),
                    tuple(stamps.get(lk["id"], ())),
                )
        for r in conn.execute(reads.signoff, key).mappings():
            so = SignOff(r["stage"], r["role"], r["person_id"], r["at"], r["school_id"] or None)
            cycles[r["cycle_id"]].signoffs[so.key] = so
        return cycles

    def list(self, where: CycleFilter) -> list[CycleSummary]:
        return cycle_summaries(self.conn, where)


def _records_touched(events: Sequence[Event]) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    for e in events:
        if isinstance(e, RecordChanged) and (e.kind, e.record_id) not in seen:
            seen.append((e.kind, e.record_id))
    return seen
