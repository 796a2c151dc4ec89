"""Domain objects to response views, showing only the sections the caller may read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.cycle import (
    Action,
    Cycle,
    Evidence,
    Finding,
    Judgement,
    Member,
    Participant,
    SignOff,
    SupportLink,
)
from engine.directory import (
    ApiToken,
    BreakGlass,
    ContentRead,
    CycleSummary,
    Grant,
    HistoryEntry,
    Network,
    Person,
    ReportShare,
    School,
    StoredTemplate,
)
from engine.machine import Option
from engine.notices import Notification
from engine.ports import DeadlineRow
from engine.records import collectable
from engine.template import DeadlineSpec, Template
from engine.timeline import in_words
from service.schemas import (
    ActionView,
    CycleSummaryView,
    CycleView,
    DeadlineChangeView,
    DeadlineView,
    DryRunEvent,
    DryRunStage,
    DryRunView,
    EvidenceView,
    FindingView,
    FiredView,
    GrantView,
    HistoryEntryView,
    JudgementView,
    MemberView,
    MigrationPlanView,
    MigrationView,
    NetworkView,
    OptionView,
    ParticipantView,
    PersonView,
    ReasonView,
    ReportView,
    RequirementChangeView,
    SchoolView,
    SeriesSchoolView,
    SeriesStartView,
    ShareView,
    SignOffView,
    SupportActivityView,
    SupportLinkView,
    TemplateSummary,
    TemplateView,
    TokenView,
)
from service.schemas import SeriesView as SeriesOut
from service.schemas.access import BreakGlassView, ContentReadView
from service.schemas.calendar import ClosureView, NetworkCalendarView, TermView
from service.schemas.inbox import InboxView, NotificationView
from service.schemas.tasks import CycleTasksView, OwnedActionView, TasksView
from service.usecases.base import CycleContext
from service.usecases.calendars import CalendarOfNetwork
from service.usecases.core import Fired
from service.usecases.inbox import Inbox
from service.usecases.migration import Migration
from service.usecases.series import SeriesView
from service.usecases.tasks import Tasks
from service.usecases.timeline import DryRun

__all__ = [
    "action_view",
    "break_glass_view",
    "cycle_summary",
    "cycle_view",
    "deadline_view",
    "evidence_view",
    "finding_view",
    "fired_view",
    "grant_view",
    "history_view",
    "inbox_view",
    "judgement_view",
    "member_view",
    "network_view",
    "notification_view",
    "option_view",
    "person_view",
    "report_view",
    "school_view",
    "share_view",
    "signoff_view",
    "support_view",
    "tasks_view",
    "team_view",
    "template_summary",
    "template_view",
    "token_view",
]


def network_view(n: Network) -> NetworkView:
    return NetworkView(id=n.id, name=n.name, chair_person_id=n.chair_person_id)


def school_view(s: School) -> SchoolView:
    return SchoolView(id=s.id, urn=s.urn, name=s.name, phase=s.phase, network_id=s.network_id)


def person_view(p: Person) -> PersonView:
    return PersonView(id=p.id, name=p.name, email=p.email, school_id=p.school_id)


def grant_view(g: Grant) -> GrantView:
    return GrantView(
        id=g.id,
        person_id=g.person_id,
        role=g.role,
        scope_kind=g.scope_kind,
        scope_id=g.scope_id,
        granted_by=g.granted_by,
        granted_at=g.granted_at,
    )


def token_view(t: ApiToken) -> TokenView:
    return TokenView(
        id=t.id,
        person_id=t.person_id,
        name=t.name,
        created_at=t.created_at,
        expires_at=t.expires_at,
        revoked_at=t.revoked_at,
        last_used_at=t.last_used_at,
        issued_by=t.issued_by,
    )


def share_view(s: ReportShare) -> ShareView:
    return ShareView(
        id=s.id,
        cycle_id=s.cycle_id,
        grantee_kind=s.grantee_kind,
        grantee_id=s.grantee_id,
        shared_by=s.shared_by,
        shared_at=s.shared_at,
        revoked_at=s.revoked_at,
    )


def content_read_view(r: ContentRead) -> ContentReadView:
    return ContentReadView(
        person_id=r.person_id, section=r.section, grounds=r.grounds, at=r.at, issued_by=r.issued_by
    )


def break_glass_view(g: BreakGlass) -> BreakGlassView:
    return BreakGlassView(
        id=g.id,
        cycle_id=g.cycle_id,
        person_id=g.person_id,
        reason=g.reason,
        opened_at=g.opened_at,
        until=g.until,
    )


def template_summary(t: StoredTemplate) -> TemplateSummary:
    return TemplateSummary(
        template_id=t.template_id,
        version=t.version,
        title=t.title,
        status=t.status,
        source_format=t.source_format,
        created_at=t.created_at,
        published_at=t.published_at,
        retired_at=t.retired_at,
    )


def _deadline(d: DeadlineSpec | None) -> dict[str, Any] | None:
    """A stage's deadline as the template wrote it: durations in the template's words."""
    if d is None:
        return None
    return {
        "due": d.due.text,
        "from": d.anchor,
        "reminders": [r.text for r in d.reminders],
        "on_expiry": [
            {
                "kind": rule.kind,
                **({"roles": list(rule.roles)} if rule.roles else {}),
                **({"transition": rule.transition} if rule.transition else {}),
                **({"after": rule.after.text} if rule.after is not None else {}),
            }
            for rule in d.on_expiry
        ],
    }


def dry_run_view(run: DryRun) -> DryRunView:
    t = run.timeline.template
    return DryRunView(
        template_id=t.id,
        version=t.version,
        network_id=run.network.id if run.network else None,
        calendar=run.calendar,
        start=run.timeline.start,
        stopped_at=run.timeline.stopped,
        stages=[
            DryRunStage(
                stage=s.stage,
                title=t.stage(s.stage).title,
                entered_at=s.entered_at,
                due_at=s.due_at,
                leaves_by=s.leaves_by,
                waits_for=s.waits_for,
                events=[
                    DryRunEvent(
                        at=e.at,
                        kind=e.kind,
                        words=in_words(t, s.stage, e),
                        roles=list(e.roles),
                        transition=e.transition,
                    )
                    for e in s.events
                ],
            )
            for s in run.timeline.stages
        ],
    )


def template_view(stored: StoredTemplate, t: Template) -> TemplateView:
    return TemplateView(
        template_id=stored.template_id,
        version=stored.version,
        title=stored.title,
        status=stored.status,
        source_format=stored.source_format,
        created_at=stored.created_at,
        published_at=stored.published_at,
        retired_at=stored.retired_at,
        description=t.description,
        roles=[{"id": r.id, "title": r.title} for r in t.roles],
        dates=[{"id": d.id, "title": d.title} for d in t.dates],
        finding_kinds=list(t.finding_kinds),
        shared_with_participants=sorted(t.shared_with_participants),
        scale=[{"id": p.id, "label": p.label} for p in t.framework.scale],
        sections=[
            {
                "id": s.id,
                "title": s.title,
                "questions": [
                    {"id": q.id, "text": q.text, "strand": q.strand} for q in s.questions
                ],
            }
            for s in t.framework.sections
        ],
        stages=[
            {
                "id": s.id,
                "title": s.title,
                "description": s.description,
                "initial": s.initial,
                "terminal": s.terminal,
                "collects": {k: list(v) for k, v in s.collects.items()},
                "deadline": _deadline(s.deadline),
            }
            for s in t.stages
        ],
        transitions=[
            {
                "id": tr.id,
                "title": tr.title,
                "from": list(tr.sources),
                "to": tr.dest,
                "roles": list(tr.roles),
                "requires": [r.name for r in tr.requirements],
            }
            for tr in t.transitions
        ],
    )


def cycle_summary(c: CycleSummary, now: datetime) -> CycleSummaryView:
    return CycleSummaryView(
        id=c.id,
        template_id=c.template_id,
        template_version=c.template_version,
        host_school_id=c.host_school_id,
        network_id=c.network_id,
        stage=c.stage,
        version=c.version,
        stage_entered_at=c.stage_entered_at,
        started_at=c.started_at,
        next_due_at=c.next_due_at,
        overdue=c.next_due_at is not None and c.next_due_at < now,
    )


def evidence_view(cycle_id: str, e: Evidence, *, may_download: bool) -> EvidenceView:
    """One piece of evidence; the download link only for whoever may download it."""
    return EvidenceView(
        id=e.id,
        question_id=e.question_id,
        title=e.title,
        added_by=e.added_by,
        added_at=e.added_at,
        file_name=e.file.original_name if e.file else None,
        media_type=e.file.media_type if e.file else None,
        size=e.file.size if e.file else None,
        download=f"/cycles/{cycle_id}/evidence/{e.id}/file" if e.file and may_download else None,
        school_id=e.school_id,
    )


def participant_view(p: Participant) -> ParticipantView:
    return ParticipantView(
        school_id=p.school_id,
        name=p.name,
        network_id=p.network_id,
        added_by=p.added_by,
        added_at=p.added_at,
    )


def action_view(a: Action) -> ActionView:
    return ActionView(
        id=a.id,
        title=a.title,
        owner=a.owner,
        due=a.due,
        success_criteria=a.success_criteria,
        status=a.status,
        status_note=a.status_note,
        finding_id=a.finding_id,
    )


def support_view(s: SupportLink) -> SupportLinkView:
    return SupportLinkView(
        id=s.id,
        supporting_school_id=s.supporting_school_id,
        area=s.area,
        activities=list(s.activities),
        activity_log=[SupportActivityView(text=a.text, at=a.at, by=a.by) for a in s.log],
    )


def signoff_view(s: SignOff) -> SignOffView:
    return SignOffView(
        stage=s.stage, role=s.role, person_id=s.person_id, at=s.at, school_id=s.school_id
    )


def team_view(c: Cycle) -> list[MemberView]:
    """The review team, then the improvement champion."""
    return [member_view(m) for m in [*c.team.values(), *([c.champion] if c.champion else [])]]


def fired_view(f: Fired, *, replayed: bool) -> FiredView:
    return FiredView(
        cycle_id=f.cycle_id,
        transition=f.transition,
        from_stage=f.from_stage,
        to_stage=f.to_stage,
        version=f.version,
        at=f.at,
        forced=f.forced,
        replayed=replayed,
    )


def notification_view(n: Notification) -> NotificationView:
    return NotificationView(
        id=n.id,
        kind=n.kind,
        subject=n.subject,
        text=n.text,
        cycle_id=n.cycle_id,
        link=n.link,
        created_at=n.created_at,
        read=not n.unread,
    )


def inbox_view(inbox: Inbox) -> InboxView:
    return InboxView(
        unread=inbox.unread,
        email=inbox.email,
        notifications=[notification_view(n) for n in inbox.notifications],
    )


def tasks_view(t: Tasks) -> TasksView:
    return TasksView(
        cycles=[
            CycleTasksView(
                cycle_id=c.cycle_id,
                school=c.school,
                template=c.template,
                stage=c.stage,
                due_at=c.due_at,
                overdue=c.overdue,
                moves=[option_view(o) for o in c.moves],
            )
            for c in t.cycles
        ],
        actions=[
            OwnedActionView(
                cycle_id=a.cycle_id,
                school=a.school,
                action_id=a.action.id,
                title=a.action.title,
                due=a.action.due,
                flag=a.flag,
            )
            for a in t.actions
        ],
        notifications=[notification_view(n) for n in t.notifications],
        unread=t.unread,
    )


def member_view(m: Member) -> MemberView:
    return MemberView(
        person_id=m.person_id, role=m.role, school_id=m.school_id, network_id=m.network_id
    )


def judgement_view(j: Judgement) -> JudgementView:
    return JudgementView(
        kind=j.kind,
        question_id=j.question_id,
        narrative=j.narrative,
        grade=j.grade,
        by=j.by,
        at=j.at,
        school_id=j.school_id,
    )


def finding_view(f: Finding) -> FindingView:
    return FindingView(
        id=f.id,
        kind=f.kind,
        text=f.text,
        question_id=f.question_id,
        by=f.by,
        at=f.at,
        school_id=f.school_id,
    )


def cycle_view(ctx: CycleContext) -> CycleView:
    c, sections = ctx.cycle, ctx.access.sections
    stage = ctx.template.stage(c.stage)
    files = "evidence_files" in sections
    return CycleView(
        id=c.id,
        template_id=c.template_id,
        template_version=c.template_version,
        host_school_id=c.host_school_id,
        network_id=c.network_id,
        stage=c.stage,
        stage_title=stage.title,
        terminal=stage.terminal,
        version=c.version,
        stage_entered_at=c.stage_entered_at,
        started_at=c.started_at,
        dates=dict(c.dates),
        team=[member_view(m) for m in c.team.values()],
        champion=member_view(c.champion) if c.champion else None,
        participants=[participant_view(p) for p in c.participants.values()],
        roles=sorted(ctx.access.actor.roles),
        sections=sorted(sections),
        collectable=collectable(ctx.template, c, ctx.access.actor),
        focus=list(c.focus) if "self_review" in sections else None,
        evidence=[evidence_view(c.id, e, may_download=files) for e in c.evidence.values()]
        if "evidence" in sections
        else None,
        self_judgements=[judgement_view(j) for j in c.judgements.values() if j.kind == "self"]
        if "self_review" in sections
        else None,
        peer_judgements=[judgement_view(j) for j in c.judgements.values() if j.kind == "peer"]
        if "report" in sections
        else None,
        findings=[finding_view(f) for f in c.findings.values()] if "report" in sections else None,
        actions=[action_view(a) for a in c.actions.values()] if "plan" in sections else None,
        support=[support_view(x) for x in c.support.values()] if "plan" in sections else None,
        signoffs=[signoff_view(x) for x in c.signoffs.values()] if "plan" in sections else None,
    )


def report_view(ctx: CycleContext) -> ReportView:
    c = ctx.cycle
    return ReportView(
        cycle_id=c.id,
        host_school_id=c.host_school_id,
        stage=c.stage,
        focus=list(c.focus),
        peer_judgements=[judgement_view(j) for j in c.judgements.values() if j.kind == "peer"],
        findings=[finding_view(f) for f in c.findings.values()],
    )


def option_view(o: Option) -> OptionView:
    return OptionView(
        transition=o.transition,
        title=o.title,
        to_stage=o.to_stage,
        allowed=o.allowed,
        forceable=o.forceable,
        reasons=[ReasonView(code=r.code, message=r.message) for r in o.reasons],
    )


def history_view(e: HistoryEntry) -> HistoryEntryView:
    return HistoryEntryView(
        seq=e.seq,
        at=e.at,
        kind=e.kind,
        actor=e.actor,
        role=e.role,
        transition=e.transition,
        from_stage=e.from_stage,
        to_stage=e.to_stage,
        forced=e.forced,
        reason=e.reason,
        detail=dict(e.detail),
        hash=e.hash,
    )


def deadline_view(d: DeadlineRow) -> DeadlineView:
    return DeadlineView(
        id=d.id,
        stage=d.stage,
        key=d.key,
        kind=d.kind,
        due_at=d.due_at,
        stage_due_at=d.stage_due_at,
        roles=list(d.roles),
        transition=d.transition,
        action_id=d.action_id,
        status=d.status,
        fired_at=d.fired_at,
    )


def network_calendar_view(v: CalendarOfNetwork) -> NetworkCalendarView:
    return NetworkCalendarView(
        network_id=v.network_id,
        network_name=v.network_name,
        source=v.source,
        timezone=v.timezone,
        school_days=v.school_days,
        terms=[
            TermView(
                name=t.name,
                first=t.first,
                last=t.last,
                school_days=t.school_days,
                closures=[
                    ClosureView(
                        name=c.name, first=c.first, last=c.last, school_days_lost=c.school_days_lost
                    )
                    for c in t.closures
                ],
            )
            for t in v.terms
        ],
    )


def migration_view(m: Migration) -> MigrationView:
    return MigrationView(
        template_id=m.template.id,
        version=m.template.version,
        done=m.done,
        cycles=[
            MigrationPlanView(
                cycle_id=p.cycle_id,
                school=m.schools.get(p.cycle_id, ""),
                from_version=p.from_version,
                to_version=p.to_version,
                from_stage=p.from_stage,
                to_stage=p.to_stage,
                cycle_version=p.cycle_version,
                ok=p.ok,
                blockers=list(p.blockers),
                requirements=[
                    RequirementChangeView(
                        transition=r.transition,
                        transition_title=r.transition_title,
                        requirement=r.requirement,
                        change=r.change,
                        met=r.met,
                        reasons=list(r.reasons),
                    )
                    for r in p.requirements
                ],
                deadlines=[
                    DeadlineChangeView(
                        key=d.key,
                        kind=d.kind,
                        change=d.change,
                        before=d.before,
                        after=d.after,
                        roles=list(d.roles),
                        transition=d.transition,
                    )
                    for d in p.deadlines
                ],
                words=list(m.words.get(p.cycle_id, ())),
            )
            for p in m.plans
        ],
    )


def series_view(v: SeriesView) -> SeriesOut:
    s = v.series
    return SeriesOut(
        id=s.id,
        title=s.title,
        template_id=s.template_id,
        template_title=v.template_title,
        host_school_id=s.host_school_id,
        school=v.school,
        network_id=s.network_id,
        days=list(s.days),
        yearly=s.yearly,
        participants=[SeriesSchoolView(school_id=k, name=n) for k, n in v.participants.items()],
        created_by=s.created_by,
        created_at=s.created_at,
        cancelled_at=s.cancelled_at,
        cancelled_by=s.cancelled_by,
        started=[SeriesStartView(day=d, cycle_id=c) for d, c in sorted(v.started.items())],
        next_days=list(v.next_days),
    )
