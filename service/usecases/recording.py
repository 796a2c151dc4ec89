"""Use cases that record what a stage collects: evidence, judgements, findings, actions,
support, sign-offs and the review team."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from engine import records
from engine.access import Principal, can_see_person, refuse_self_grant
from engine.cycle import Actor, Cycle, Evidence, EvidenceFile, Member, of_school
from engine.errors import AccessDenied, InvalidRecord, NotFound, UnknownRecord
from engine.events import RecordChanged
from engine.template import Template
from service.usecases.base import UseCases, handles
from service.usecases.core import new_id
from service.usecases.events import ActionAssigned, TeamChanged
from service.usecases.messages import (
    AddEvidence,
    AddFinding,
    AddParticipant,
    AddSupportLink,
    AssignMember,
    EraseEvidence,
    EvidenceFileQuery,
    LogSupportActivity,
    RecordJudgement,
    RemoveMember,
    RemoveParticipant,
    SaveAction,
    SetActionStatus,
    SignOff,
)
from service.usecases.work import announce

__all__ = ["Recorded", "TeamSet"]


@dataclass(frozen=True, slots=True)
class Recorded:
    """A changed cycle and the id of the record the command made or changed; `may_download`
    says whether the caller may download the cycle's evidence files."""

    cycle: Cycle
    record_id: str
    may_download: bool = False


@dataclass(frozen=True, slots=True)
class TeamSet:
    """The team after a change, with what the caller should know (independence problems)."""

    cycle: Cycle
    warnings: tuple[str, ...] = ()


@handles(AddEvidence)
def add_evidence(uc: UseCases, cmd: AddEvidence, caller: Principal) -> Recorded:
    """Store the file (if any), then record the evidence; a refused record leaves no file."""
    evidence_id = new_id("ev")
    file = None
    if cmd.chunks is not None:
        stored = uc.files.put(cmd.chunks)
        file = EvidenceFile(
            stored.sha256, stored.size, cmd.media_type or "", cmd.file_name or "evidence"
        )
    try:
        cycle = uc.core.record(
            cmd.cycle_id,
            uc.actor_of(caller),
            lambda t, c, a, now: records.add_evidence(
                t, c, a, evidence_id, cmd.question_id, cmd.title, now, file, cmd.school_id
            ),
            expected_version=cmd.expected_version,
        )
    except BaseException:
        if file is not None:
            with uc.uow(readonly=True) as uow:
                used = uow.cycles.file_in_use(file.sha256)
            if not used:
                uc.files.delete(file.sha256)
        raise
    with uc.uow(readonly=True) as uow:
        may = uc.access(uow, caller, cycle).may("evidence_files")
    return Recorded(cycle, evidence_id, may)


@dataclass(frozen=True, slots=True)
class EvidenceDownload:
    evidence: Evidence
    file: EvidenceFile
    path: Path


@handles(EvidenceFileQuery)
def evidence_file(uc: UseCases, q: EvidenceFileQuery, caller: Principal) -> EvidenceDownload:
    with uc.uow(readonly=True) as uow:
        ctx = uc.context(uow, caller, q.cycle_id)
    ctx.access.require("evidence_files", q.cycle_id)
    e = ctx.cycle.evidence.get(q.evidence_id)
    if e is None or e.file is None:
        raise NotFound("evidence file", q.evidence_id)
    uc.note_reads(ctx, caller, ("evidence_files",))
    try:
        path = uc.files.open(e.file.sha256)
    except FileNotFoundError as exc:
        raise NotFound("evidence file", q.evidence_id) from exc
    return EvidenceDownload(e, e.file, path)


@handles(EraseEvidence)
def erase_evidence(uc: UseCases, cmd: EraseEvidence, caller: Principal) -> None:
    sha = uc.core.erase_evidence(cmd.cycle_id, cmd.evidence_id, uc.actor_of(caller), cmd.reason)
    if sha is not None:
        uc.files.delete(sha)


@handles(RecordJudgement)
def record_judgement(uc: UseCases, cmd: RecordJudgement, caller: Principal) -> Recorded:
    cycle = uc.core.record(
        cmd.cycle_id,
        uc.actor_of(caller),
        lambda t, c, a, now: records.record_judgement(
            t, c, a, cmd.kind, cmd.question_id, cmd.narrative, cmd.grade, now, cmd.school_id
        ),
        expected_version=cmd.expected_version,
    )
    return Recorded(cycle, of_school(cmd.question_id, cmd.school_id))


@handles(AddFinding)
def add_finding(uc: UseCases, cmd: AddFinding, caller: Principal) -> Recorded:
    finding_id = new_id("f")
    cycle = uc.core.record(
        cmd.cycle_id,
        uc.actor_of(caller),
        lambda t, c, a, now: records.add_finding(
            t, c, a, finding_id, cmd.kind, cmd.text, cmd.question_id, now, cmd.school_id
        ),
        expected_version=cmd.expected_version,
    )
    return Recorded(cycle, finding_id)


def _names_nobody(uc: UseCases, owner: str) -> bool:
    """Whether an owner chosen from people names no person (by id or email)."""
    owner = owner.strip()
    if not owner:
        return False
    with uc.uow(readonly=True) as uow:
        try:
            uow.directory.get_person(owner)
        except NotFound:
            return uow.directory.person_by_email(owner) is None
    return False


@handles(SaveAction)
def save_action(uc: UseCases, cmd: SaveAction, caller: Principal) -> Recorded:
    action_id = cmd.action_id or new_id("act")
    before: dict[str, object] = {}
    unknown_owner = cmd.owner_is_person and _names_nobody(uc, cmd.owner)

    def change(t: Template, c: Cycle, a: Actor, now: datetime) -> RecordChanged:
        old = None
        if cmd.action_id is not None:
            if cmd.action_id not in c.actions:
                raise UnknownRecord("action", cmd.action_id)
            old = c.actions[cmd.action_id]
            before.update(owner=old.owner, due=old.due)
        # An owner kept as it was stays, even in words; a new one must be someone. (Whether
        # the stage and the caller's roles allow the action at all is said first.)
        new_owner = old is None or old.owner != cmd.owner
        if unknown_owner and new_owner and records.collectable(t, c, a).get("actions"):
            raise InvalidRecord("owner", f"{cmd.owner!r} names nobody Peerloop knows")
        return records.save_action(
            t,
            c,
            a,
            action_id,
            cmd.title,
            cmd.owner,
            cmd.due,
            cmd.success_criteria,
            now,
            finding_id=cmd.finding_id,
        )

    cycle = uc.core.record(
        cmd.cycle_id, uc.actor_of(caller), change, expected_version=cmd.expected_version
    )
    action = cycle.actions[action_id]
    how = None
    if not before or before["owner"] != action.owner:
        how = "assigned"
    elif before["due"] != action.due:
        how = "due_moved"
    if how is not None and action.owner:
        announce(
            ActionAssigned(
                cycle.id,
                action.id,
                action.title,
                action.owner,
                action.due,
                how,
                caller.id,
                uc.now,
            )
        )
    return Recorded(cycle, action_id)


@handles(SetActionStatus)
def set_action_status(uc: UseCases, cmd: SetActionStatus, caller: Principal) -> Recorded:
    cycle = uc.core.record(
        cmd.cycle_id,
        uc.actor_of(caller),
        lambda t, c, a, now: records.set_action_status(
            t, c, a, cmd.action_id, cmd.status, cmd.note, now
        ),
        expected_version=cmd.expected_version,
    )
    return Recorded(cycle, cmd.action_id)


@handles(AddSupportLink)
def add_support_link(uc: UseCases, cmd: AddSupportLink, caller: Principal) -> Recorded:
    with uc.uow(readonly=True) as uow:
        uow.directory.get_school(cmd.supporting_school_id)
    link_id = new_id("sup")
    cycle = uc.core.record(
        cmd.cycle_id,
        uc.actor_of(caller),
        lambda t, c, a, now: records.add_support_link(
            t, c, a, link_id, cmd.supporting_school_id, cmd.area, now
        ),
        expected_version=cmd.expected_version,
    )
    return Recorded(cycle, link_id)


@handles(AddParticipant)
def add_participant(uc: UseCases, cmd: AddParticipant, caller: Principal) -> Recorded:
    """Raises NotFound for a cycle the caller does not see (before anything about the
    school is said), or for an unknown school."""
    with uc.uow(readonly=True) as uow:
        uc.context(uow, caller, cmd.cycle_id)
        school = uow.directory.get_school(cmd.school_id)
    cycle = uc.core.record(
        cmd.cycle_id,
        uc.actor_of(caller),
        lambda t, c, a, now: records.add_participant(
            t, c, a, school.id, school.name, school.network_id, now
        ),
        expected_version=cmd.expected_version,
    )
    return Recorded(cycle, school.id)


@handles(RemoveParticipant)
def remove_participant(uc: UseCases, cmd: RemoveParticipant, caller: Principal) -> Recorded:
    cycle = uc.core.record(
        cmd.cycle_id,
        uc.actor_of(caller),
        lambda t, c, a, now: records.remove_participant(t, c, a, cmd.school_id, now),
        expected_version=cmd.expected_version,
    )
    return Recorded(cycle, cmd.school_id)


@handles(LogSupportActivity)
def log_support_activity(uc: UseCases, cmd: LogSupportActivity, caller: Principal) -> Recorded:
    cycle = uc.core.record(
        cmd.cycle_id,
        uc.actor_of(caller),
        lambda t, c, a, now: records.log_support_activity(t, c, a, cmd.link_id, cmd.text, now),
        expected_version=cmd.expected_version,
    )
    return Recorded(cycle, cmd.link_id)


@handles(SignOff)
def sign_off(uc: UseCases, cmd: SignOff, caller: Principal) -> Recorded:
    given: list[str] = []

    def sign(t: Template, c: Cycle, a: Actor, now: datetime) -> RecordChanged:
        change = records.sign_off(t, c, a, cmd.role, now, cmd.school_id)
        given.append(change.record_id)
        return change

    cycle = uc.core.record(
        cmd.cycle_id, uc.actor_of(caller), sign, expected_version=cmd.expected_version
    )
    # The record's key says whose part it signed off: `stage:role` or `stage:role@school`.
    return Recorded(cycle, given[-1])


def team_roles(cycle: Cycle, person_id: str) -> list[str]:
    """Every team role the person holds on the cycle (the champion included)."""
    roles = [cycle.team[person_id].role] if person_id in cycle.team else []
    if cycle.champion is not None and cycle.champion.person_id == person_id:
        roles.append(cycle.champion.role)
    return roles


@handles(AssignMember)
def assign_member(uc: UseCases, cmd: AssignMember, caller: Principal) -> TeamSet:
    """Put a person on the team (or make them the champion), with their school and network;
    the independence problems the move will refuse later are said now, in words."""
    with uc.uow(readonly=True) as uow:
        # Neither a cycle nor a person can be probed for: a cycle the caller may not see
        # answers as unknown, and who may not choose its team now is refused before anyone
        # is looked up (the record's own refusal); then a person they may not see answers
        # as an unknown one.
        ctx = uc.context(uow, caller, cmd.cycle_id)
        actor = ctx.access.actor
        if not records.collectable(ctx.template, ctx.whole, actor).get("team"):
            records.assign_member(
                ctx.template, ctx.whole, actor, Member(cmd.person_id, cmd.role), uc.now
            )
            raise AccessDenied(f"you may not choose the team of cycle {cmd.cycle_id} now")
        refuse_self_grant(caller, cmd.person_id, cmd.role, [ctx.template])
        person = uow.directory.get_person(cmd.person_id)
        if not can_see_person(caller, person):
            raise NotFound("person", cmd.person_id)
        school = uow.directory.get_school(person.school_id) if person.school_id else None
        names = {s.id: s.name for s in uow.directory.schools()}
        names |= {n.id: n.name for n in uow.directory.networks()}
        names[person.id] = person.name
    member = Member(person.id, cmd.role, person.school_id, school.network_id if school else None)
    warnings: list[str] = []
    changes: list[str] = []

    def change(t: Template, c: Cycle, a: Actor, now: datetime) -> RecordChanged:
        event = records.assign_member(t, c, a, member, now)
        warnings.extend(records.team_warnings(t, c, member, names))
        changes.append(event.change)
        return event

    cycle = uc.core.record(
        cmd.cycle_id, uc.actor_of(caller), change, expected_version=cmd.expected_version
    )
    announce(TeamChanged(cycle.id, person.id, cmd.role, changes[0], caller.id, uc.now))
    return TeamSet(cycle, tuple(warnings))


@handles(RemoveMember)
def remove_member(uc: UseCases, cmd: RemoveMember, caller: Principal) -> TeamSet:
    cycle = uc.core.record(
        cmd.cycle_id,
        uc.actor_of(caller),
        lambda t, c, a, now: records.remove_member(t, c, a, cmd.person_id, now),
        expected_version=cmd.expected_version,
    )
    return TeamSet(cycle)
