"""Recording what a stage collects: evidence, judgements, findings, actions, support, sign-offs.

Each function checks that the cycle's current stage collects that kind of record and that the
actor holds a role the stage allows for it, changes the cycle, bumps its version and returns
the events, which name the role the record was made in. Nothing here can move the stage.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date, datetime

from engine.calendar import SchoolCalendar
from engine.cycle import (
    ACTION_STATUSES,
    Action,
    Actor,
    Cycle,
    Evidence,
    EvidenceFile,
    Finding,
    Judgement,
    Member,
    Participant,
    SignOff,
    SupportLink,
    of_school,
)
from engine.deadlines import plan_stage
from engine.errors import (
    CycleClosed,
    InvalidRecord,
    NotCollectedHere,
    RoleNotAllowed,
    UnknownRecord,
)
from engine.events import DeadlinesCancelled, DeadlinesScheduled, Event, RecordChanged
from engine.integrity import record_digest, record_value
from engine.team import team_warnings, words
from engine.template import ADMIN_ROLE, Template

__all__ = [
    "DUE_WITHIN_YEARS",
    "MOST_EVIDENCE",
    "MOST_EVIDENCE_BYTES",
    "add_evidence",
    "add_finding",
    "add_participant",
    "add_support_link",
    "assign_member",
    "collectable",
    "erase_evidence",
    "log_support_activity",
    "record_judgement",
    "remove_member",
    "remove_participant",
    "save_action",
    "set_action_status",
    "set_date",
    "set_focus",
    "sign_off",
    "team_warnings",
]

_MAX_TEXT = 20_000


def collectable(template: Template, cycle: Cycle, actor: Actor) -> dict[str, bool]:
    """For each kind the current stage collects, whether `actor` may record it now."""
    stage = template.stage(cycle.stage)
    if stage.terminal:
        return {}
    return {kind: bool(actor.roles & set(roles)) for kind, roles in stage.collects.items()}


def _acting_role(allowed: Sequence[str], actor: Actor) -> str | None:
    """The role `actor` records in: the first of `allowed` (in the template's order) they
    hold, the admin role only when no other allowed role is held."""
    held = [role for role in allowed if role in actor.roles]
    return next((role for role in held if role != ADMIN_ROLE), held[0] if held else None)


def _guard(template: Template, cycle: Cycle, actor: Actor, kind: str) -> str:
    """Check that the stage collects `kind` from one of the actor's roles; return that role."""
    stage = template.stage(cycle.stage)
    if stage.terminal:
        raise CycleClosed(cycle.id, cycle.stage)
    roles = stage.collects.get(kind)
    if roles is None:
        raise NotCollectedHere(cycle.id, kind, cycle.stage)
    role = _acting_role(roles, actor)
    if role is None:
        raise RoleNotAllowed(cycle.id, f"record {kind.replace('_', ' ')}", actor.roles, roles)
    return role


def _text(field: str, value: str, *, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise InvalidRecord(field, "must not be empty")
    if len(value) > _MAX_TEXT:
        raise InvalidRecord(field, f"is longer than {_MAX_TEXT} characters")
    return value


def _question(template: Template, question_id: str) -> None:
    if template.question(question_id) is None:
        raise InvalidRecord("question_id", f"the framework has no question {question_id!r}")


def _changed(
    cycle: Cycle,
    kind: str,
    record_id: str,
    change: str,
    actor: Actor,
    now: datetime,
    role: str,
    note: str = "",
) -> RecordChanged:
    cycle.version += 1
    value = record_value(cycle, kind, record_id)
    return RecordChanged(
        cycle.id,
        kind,
        record_id,
        change,
        actor.id,
        now,
        cycle.version,
        note,
        role,
        digest="" if value is ... else record_digest(value),
    )


MOST_EVIDENCE = 400
"""The most pieces of evidence one cycle holds: a framework's questions each with a generous
handful, several schools' samples; beyond it an upload is a script gone wrong, not a review."""

MOST_EVIDENCE_BYTES = 2 * 1024**3
"""The most one cycle's evidence files may come to (2 GiB): each upload is bounded too."""


def _quota(cycle: Cycle, file: EvidenceFile | None) -> None:
    if len(cycle.evidence) >= MOST_EVIDENCE:
        raise InvalidRecord(
            "file",
            f"this cycle holds {MOST_EVIDENCE} pieces of evidence, the most one cycle takes: "
            "erase what is no longer needed first",
        )
    if file is None:
        return
    held = sum(e.file.size for e in cycle.evidence.values() if e.file is not None)
    if held + file.size > MOST_EVIDENCE_BYTES:
        room = max(0, MOST_EVIDENCE_BYTES - held) // (1024 * 1024)
        raise InvalidRecord(
            "file",
            f"this cycle's evidence files come to {held // (1024 * 1024)} MB, and one cycle "
            f"takes {MOST_EVIDENCE_BYTES // 1024**3} GB at most: {room} MB is left",
        )


def add_evidence(
    template: Template,
    cycle: Cycle,
    actor: Actor,
    evidence_id: str,
    question_id: str,
    title: str,
    now: datetime,
    file: EvidenceFile | None = None,
    school_id: str | None = None,
) -> RecordChanged:
    """Add evidence for a framework question. In a cycle with participants it is of a school
    taking part: `school_id`, else the actor's own school when it takes part."""
    role = _guard(template, cycle, actor, "evidence")
    _question(template, question_id)
    if evidence_id in cycle.evidence:
        raise InvalidRecord("id", f"evidence {evidence_id!r} already exists")
    _quota(cycle, file)
    of = _attributed(cycle, actor, school_id)
    cycle.evidence[evidence_id] = Evidence(
        evidence_id, question_id, _text("title", title), actor.id, now, file, of
    )
    return _changed(cycle, "evidence", evidence_id, "added", actor, now, role)


def _attributed(
    cycle: Cycle, actor: Actor, school_id: str | None, *, own_by_default: bool = True
) -> str | None:
    """The school a record is of: the one named, which must take part; else, in a cycle of
    several schools and when `own_by_default`, the actor's own when it takes part (None: of
    the cycle as a whole)."""
    if school_id is not None:
        if not cycle.takes_part(school_id):
            raise InvalidRecord("school_id", f"{school_id} does not take part in this cycle")
        # Each school sends its own part; the lead (host) school, which runs the cycle, and
        # the admin may record for any school taking part.
        coordinates = actor.school_id == cycle.host_school_id or ADMIN_ROLE in actor.roles
        if school_id != actor.school_id and not coordinates:
            raise InvalidRecord("school_id", "you may record only for your own school")
        return school_id
    if own_by_default and cycle.participants and cycle.takes_part(actor.school_id):
        return actor.school_id
    return None


def add_participant(
    template: Template,
    cycle: Cycle,
    actor: Actor,
    school_id: str,
    name: str,
    network_id: str | None,
    now: datetime,
) -> RecordChanged:
    """Add a school taking part beside the host (recorded in history, who and when).

    Raises:
        InvalidRecord: the host itself, or a school already taking part.
    """
    role = _guard(template, cycle, actor, "participants")
    if school_id == cycle.host_school_id:
        raise InvalidRecord("school_id", f"{name} leads this cycle: it takes part already")
    if school_id in cycle.participants:
        raise InvalidRecord("school_id", f"{name} takes part already")
    cycle.participants[school_id] = Participant(school_id, name, network_id, actor.id, now)
    return _changed(cycle, "participants", school_id, "added", actor, now, role, f"{name} joined")


def remove_participant(
    template: Template, cycle: Cycle, actor: Actor, school_id: str, now: datetime
) -> RecordChanged:
    """Take a school out of the cycle. What it recorded stays, still of that school.

    Raises:
        UnknownRecord: the school does not take part (the host cannot be removed).
    """
    role = _guard(template, cycle, actor, "participants")
    gone = cycle.participants.pop(school_id, None)
    if gone is None:
        raise UnknownRecord("participating school", school_id)
    note = f"{gone.name} left"
    return _changed(cycle, "participants", school_id, "removed", actor, now, role, note)


def erase_evidence(
    template: Template, cycle: Cycle, actor: Actor, evidence_id: str, reason: str, now: datetime
) -> RecordChanged:
    """Remove evidence for data protection, at any stage; the erasure and its reason stay in
    history. The admin may, and the roles the template gives `erase_evidence`."""
    erasers = (*(r.id for r in template.roles if "erase_evidence" in r.may), ADMIN_ROLE)
    role = _acting_role(erasers, actor)
    if role is None:
        raise RoleNotAllowed(cycle.id, "erase evidence", actor.roles, erasers)
    if evidence_id not in cycle.evidence:
        raise UnknownRecord("evidence", evidence_id)
    note = _text("reason", reason)  # checked before anything changes
    del cycle.evidence[evidence_id]
    return _changed(cycle, "evidence", evidence_id, "erased", actor, now, role, note)


def set_focus(
    template: Template, cycle: Cycle, actor: Actor, focus: list[str], now: datetime
) -> RecordChanged:
    """The host school's chosen lines of enquiry (SPP is invitational: the host chooses)."""
    role = _guard(template, cycle, actor, "focus")
    cycle.focus = tuple(_text(f"focus[{i}]", f) for i, f in enumerate(focus))
    return _changed(cycle, "focus", "focus", "updated", actor, now, role)


def set_date(
    template: Template,
    cycle: Cycle,
    actor: Actor,
    date_id: str,
    when: datetime,
    now: datetime,
    calendar: SchoolCalendar,
) -> list[Event]:
    """Set a cycle date (such as the visit date); re-plans the stage if it counts from it."""
    role = _guard(template, cycle, actor, "dates")
    if date_id not in {d.id for d in template.dates}:
        raise InvalidRecord("date", f"the template declares no cycle date {date_id!r}")
    if when.tzinfo is None:
        raise InvalidRecord("when", "needs a time zone")
    cycle.dates[date_id] = when
    events: list[Event] = [_changed(cycle, "dates", date_id, "updated", actor, now, role)]
    deadline = template.stage(cycle.stage).deadline
    if deadline is not None and deadline.anchor == date_id:
        events.append(DeadlinesCancelled(cycle.id, cycle.stage, now))
        events.append(
            DeadlinesScheduled(
                cycle.id, cycle.stage, plan_stage(template, cycle, cycle.stage, calendar)
            )
        )
    return events


def _team_roles(cycle: Cycle, person_id: str) -> list[str]:
    """The team roles a person holds on the cycle: a review team role, then champion."""
    roles = [cycle.team[person_id].role] if person_id in cycle.team else []
    if cycle.champion is not None and cycle.champion.person_id == person_id:
        roles.append(cycle.champion.role)
    return roles


def assign_member(
    template: Template, cycle: Cycle, actor: Actor, member: Member, now: datetime
) -> RecordChanged:
    """Put a person on the review team, or make them the improvement champion.

    A person holds one team role: assigning a team member again changes their role, and the
    improvement champion cannot also be on the review team.
    Independence from the host is not refused here but when the cycle moves on (the
    template's requirements); `team_warnings` says beforehand what would be refused.

    Raises:
        InvalidRecord: a role outside the team, a second review lead, or a person who would
            be both on the review team and its improvement champion.
    """
    role = _guard(template, cycle, actor, "team")
    places = template.team_roles()
    if member.role not in places:
        raise InvalidRecord("role", f"expected one of {', '.join(places)}")
    pid = member.person_id
    champion = template.champion_role
    if member.role == champion:
        on_team = cycle.team.get(pid)
        if on_team is not None:
            raise InvalidRecord(
                "role",
                f"{pid} is the {words(on_team.role)} of this review and cannot also be its "
                f"{words(champion)}: the {words(champion)} must not have been on the review",
            )
        before = cycle.champion
        cycle.champion = member
        if before is None or before.person_id != pid:
            instead = f" in place of {before.person_id}" if before is not None else ""
            note = f"added {pid} as {words(champion)}{instead}"
            return _changed(cycle, "team", pid, "added", actor, now, role, note)
        note = f"updated {pid} as {words(champion)}"
        return _changed(cycle, "team", pid, "updated", actor, now, role, note)
    if cycle.champion is not None and cycle.champion.person_id == pid:
        held = words(cycle.champion.role)
        raise InvalidRecord(
            "role",
            f"{pid} is the {held} of this cycle and cannot also be its "
            f"{words(member.role)}: the {held} must not have been on the review",
        )
    if member.role in template.team_roles("lead"):
        for other, m in cycle.team.items():
            if m.role == member.role and other != pid:
                raise InvalidRecord("role", f"{other} is already the {words(member.role)}")
    old = cycle.team.get(pid)
    cycle.team[pid] = member
    if old is None:
        note = f"added {pid} as {words(member.role)}"
        return _changed(cycle, "team", pid, "added", actor, now, role, note)
    if old.role != member.role:
        note = f"{pid} changed from {words(old.role)} to {words(member.role)}"
    else:
        note = f"updated {pid} as {words(member.role)}"
    return _changed(cycle, "team", pid, "updated", actor, now, role, note)


def remove_member(
    template: Template, cycle: Cycle, actor: Actor, person_id: str, now: datetime
) -> RecordChanged:
    """Take a person off the team: every team role they hold, champion included, at once.

    Raises:
        UnknownRecord: the person holds no team role on the cycle.
    """
    role = _guard(template, cycle, actor, "team")
    held = _team_roles(cycle, person_id)
    if not held:
        raise UnknownRecord("team member", person_id)
    cycle.team.pop(person_id, None)
    if cycle.champion is not None and cycle.champion.person_id == person_id:
        cycle.champion = None
    note = f"removed {person_id} as " + " and as ".join(words(r) for r in held)
    return _changed(cycle, "team", person_id, "removed", actor, now, role, note)


def record_judgement(
    template: Template,
    cycle: Cycle,
    actor: Actor,
    kind: str,
    question_id: str,
    narrative: str,
    grade: str | None,
    now: datetime,
    school_id: str | None = None,
) -> RecordChanged:
    """Record (or replace) a judgement on a framework question; in a cycle of several schools,
    of one school taking part when `school_id` names it (read by that school), else of the
    cycle as a whole."""
    if kind not in ("self", "peer"):
        raise InvalidRecord("kind", "expected 'self' or 'peer'")
    role = _guard(template, cycle, actor, f"{kind}_judgements")
    _question(template, question_id)
    scale = [p.id for p in template.framework.scale]
    if grade is not None and not scale:
        raise InvalidRecord("grade", "this template's framework has no grades")
    if grade is not None and grade not in scale:
        raise InvalidRecord("grade", f"expected one of {', '.join(scale)}")
    of = _attributed(cycle, actor, school_id, own_by_default=False)
    key = (kind, question_id, of)
    change = "updated" if key in cycle.judgements else "added"
    cycle.judgements[key] = Judgement(
        "self" if kind == "self" else "peer",
        question_id,
        _text("narrative", narrative),
        grade,
        actor.id,
        now,
        of,
    )
    record = of_school(question_id, of)
    return _changed(cycle, f"{kind}_judgement", record, change, actor, now, role)


def add_finding(
    template: Template,
    cycle: Cycle,
    actor: Actor,
    finding_id: str,
    kind: str,
    text: str,
    question_id: str | None,
    now: datetime,
    school_id: str | None = None,
) -> RecordChanged:
    """Add a finding; in a cycle of several schools, about one school taking part when
    `school_id` names it (read by that school), else about the cycle as a whole."""
    role = _guard(template, cycle, actor, "findings")
    if kind not in template.finding_kinds:
        raise InvalidRecord("kind", f"expected one of {', '.join(template.finding_kinds)}")
    if question_id is not None:
        _question(template, question_id)
    if finding_id in cycle.findings:
        raise InvalidRecord("id", f"finding {finding_id!r} already exists")
    # A finding is the cycle's unless said otherwise: the lead's next steps are for everyone.
    of = _attributed(cycle, actor, school_id, own_by_default=False)
    cycle.findings[finding_id] = Finding(
        finding_id, kind, _text("text", text), question_id, actor.id, now, of
    )
    return _changed(cycle, "finding", finding_id, "added", actor, now, role)


DUE_WITHIN_YEARS = 10
"""How far from today an action's due date may be: further is a typing slip (year 9999), and
the deadlines counted from it would fall outside the calendar."""


def _years_on(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def _due(due: date | None, now: datetime) -> date | None:
    if due is None:
        return None
    today = now.date()
    if not _years_on(today, -DUE_WITHIN_YEARS) <= due <= _years_on(today, DUE_WITHIN_YEARS):
        raise InvalidRecord("due", f"must be within {DUE_WITHIN_YEARS} years of today")
    return due


def _finding(cycle: Cycle, finding_id: str | None) -> str | None:
    if finding_id is not None and finding_id not in cycle.findings:
        raise InvalidRecord("finding_id", f"this cycle has no finding {finding_id!r}")
    return finding_id


def save_action(
    template: Template,
    cycle: Cycle,
    actor: Actor,
    action_id: str,
    title: str,
    owner: str,
    due: date | None,
    success_criteria: str,
    now: datetime,
    *,
    finding_id: str | None = None,
) -> RecordChanged:
    """Add an agreed action, or change one (its follow-up status is kept).

    Args:
        finding_id: the finding of this cycle the action answers, or None.

    Raises:
        InvalidRecord: an empty title, a due date more than `DUE_WITHIN_YEARS` from today,
            or a `finding_id` that names no finding of this cycle.
    """
    role = _guard(template, cycle, actor, "actions")
    old = cycle.actions.get(action_id)
    cycle.actions[action_id] = Action(
        action_id,
        _text("title", title),
        _text("owner", owner, required=False),
        _due(due, now),
        _text("success_criteria", success_criteria, required=False),
        status=old.status if old else None,
        status_note=old.status_note if old else "",
        finding_id=_finding(cycle, finding_id),
    )
    change = "updated" if old else "added"
    return _changed(cycle, "action", action_id, change, actor, now, role)


def set_action_status(
    template: Template,
    cycle: Cycle,
    actor: Actor,
    action_id: str,
    status: str,
    note: str,
    now: datetime,
) -> RecordChanged:
    role = _guard(template, cycle, actor, "action_status")
    action = cycle.actions.get(action_id)
    if action is None:
        raise UnknownRecord("action", action_id)
    if status not in ACTION_STATUSES:
        raise InvalidRecord("status", f"expected one of {', '.join(ACTION_STATUSES)}")
    cycle.actions[action_id] = dataclasses.replace(
        action, status=status, status_note=_text("note", note, required=False)
    )
    return _changed(cycle, "action", action_id, "updated", actor, now, role)


def add_support_link(
    template: Template,
    cycle: Cycle,
    actor: Actor,
    link_id: str,
    supporting_school_id: str,
    area: str,
    now: datetime,
) -> RecordChanged:
    role = _guard(template, cycle, actor, "support")
    if supporting_school_id == cycle.host_school_id:
        raise InvalidRecord("supporting_school_id", "the host school cannot support itself")
    if link_id in cycle.support:
        raise InvalidRecord("id", f"support link {link_id!r} already exists")
    cycle.support[link_id] = SupportLink(link_id, supporting_school_id, _text("area", area))
    return _changed(cycle, "support", link_id, "added", actor, now, role)


def log_support_activity(
    template: Template, cycle: Cycle, actor: Actor, link_id: str, activity: str, now: datetime
) -> RecordChanged:
    role = _guard(template, cycle, actor, "support")
    link = cycle.support.get(link_id)
    if link is None:
        raise UnknownRecord("support link", link_id)
    text = _text("activity", activity)
    # Stamps line up with the activities: one logged before stamps were kept has none.
    stamps = (*link.logged, *(None,) * (len(link.activities) - len(link.logged)))
    cycle.support[link_id] = dataclasses.replace(
        link, activities=(*link.activities, text), logged=(*stamps, (now, actor.id))
    )
    return _changed(cycle, "support", link_id, "updated", actor, now, role)


def sign_off(
    template: Template,
    cycle: Cycle,
    actor: Actor,
    role: str,
    now: datetime,
    school_id: str | None = None,
) -> RecordChanged:
    """Sign off the stage in `role`: one the stage asks sign-off from, and the actor holds.

    In a cycle of several schools, each school signs off its own part: the sign-off is of the
    school `school_id` names (the lead school and the admin may name any), else of the
    actor's own school when it takes part (the lead school's too). In a cycle of one school,
    or by someone of no school taking part, it is of the cycle as a whole.

    Raises:
        RoleNotAllowed: the actor holds no role the stage asks sign-off from; or `role` is
            not one the stage asks for; or the actor does not hold `role` (the message says
            which, and the role the actor may sign off in instead).
        InvalidRecord: `school_id` does not take part, or is another school than the actor's.
    """
    _guard(template, cycle, actor, "signoffs")
    allowed = template.stage(cycle.stage).collects["signoffs"]
    if role not in allowed or role not in actor.roles:
        titles = {r.id: r.title for r in template.roles}

        def label(r: str) -> str:
            return f"{titles[r]} ({r})" if titles.get(r) else r

        may = " or ".join(label(r) for r in allowed if r in actor.roles)
        if role not in allowed:
            asked = " or ".join(label(r) for r in allowed)
            detail = (
                f"stage {cycle.stage!r} asks for sign-off as {asked}, not as {label(role)}; "
                f"you may sign off as {may}"
            )
        else:
            detail = (
                f"you cannot sign off as {label(role)}: you do not hold that role on this "
                f"cycle; you may sign off as {may}"
            )
        raise RoleNotAllowed(cycle.id, f"sign off as {role}", actor.roles, allowed, detail=detail)
    of = _attributed(cycle, actor, school_id)
    done = SignOff(cycle.stage, role, actor.id, now, of)
    cycle.signoffs[done.key] = done
    return _changed(
        cycle, "signoff", of_school(f"{cycle.stage}:{role}", of), "added", actor, now, role
    )
