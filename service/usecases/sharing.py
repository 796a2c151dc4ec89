"""Use cases on who else sees a cycle's review report: the host head shares it, or stops;
an admin who must read it takes a break-glass, with a reason, told to the head."""

from __future__ import annotations

from datetime import datetime

from engine.access import (
    BREAK_GLASS_PERIOD,
    BREAK_GLASS_REASON_WORDS,
    Principal,
    holders,
    may_break_glass,
    may_share,
)
from engine.cycle import Actor, Cycle
from engine.directory import BreakGlass, ContentRead, ReportShare
from engine.errors import AccessDenied, Conflict, InvalidRecord, NotFound, RoleNotAllowed
from engine.events import RecordChanged
from engine.ports import UnitOfWork
from engine.template import ADMIN_ROLE
from service.usecases.base import UseCases, handles
from service.usecases.core import new_id
from service.usecases.events import ReportShared
from service.usecases.messages import BreakTheGlass, ContentReads, RevokeShare, ShareReport
from service.usecases.notify import break_glass_notices, in_words
from service.usecases.work import announce

__all__: list[str] = []


@handles(ShareReport)
def share_report(uc: UseCases, cmd: ShareReport, caller: Principal) -> ReportShare:
    """The host's head lets someone else see the report; recorded in the cycle's history."""
    now = uc.now
    with uc.uow() as uow:
        cycle = uow.cycles.get(cmd.cycle_id)
        actor = uc.actor_of(caller)(cycle)
        template = uc.template_of(uow, cycle)
        sharers = template.roles_that("share_report")
        if not may_share(actor, template):
            raise RoleNotAllowed(cmd.cycle_id, "share the report", actor.roles, sorted(sharers))
        kind, grantee = cmd.grantee_kind, cmd.grantee_id
        whom = _whom(uow, kind, grantee)  # NotFound for someone or somewhere unknown
        for s in uow.shares.for_cycle(cmd.cycle_id):
            if s.grantee_kind == kind and s.grantee_id == grantee:
                raise Conflict(
                    "share", s.id, f"the report is already shared with {kind} {grantee!r} ({s.id})"
                )
        share = ReportShare(new_id("shr"), cmd.cycle_id, kind, grantee, actor.id, now)
        uow.shares.add(share)
        role = min(actor.roles & sharers)
        _journal(uow, cycle, share.id, "added", actor, now, f"shared the report with {whom}", role)
        uow.commit()
    announce(ReportShared(cycle.id, share.id, kind, grantee, caller.id, now))
    return share


@handles(RevokeShare)
def revoke_share(uc: UseCases, cmd: RevokeShare, caller: Principal) -> ReportShare:
    now = uc.now
    with uc.uow() as uow:
        cycle = uow.cycles.get(cmd.cycle_id)
        actor = uc.actor_of(caller)(cycle)
        template = uc.template_of(uow, cycle)
        sharers = template.roles_that("share_report")
        if not may_share(actor, template):
            raise RoleNotAllowed(
                cmd.cycle_id, "stop sharing the report", actor.roles, sorted(sharers)
            )
        share = uow.shares.get(cmd.share_id)
        if share.cycle_id != cmd.cycle_id:
            raise NotFound("share", cmd.share_id)
        if share.revoked_at is not None:
            return share
        share = uow.shares.revoke(cmd.share_id, now)
        try:
            whom = _whom(uow, share.grantee_kind, share.grantee_id)
        except NotFound:  # removed from the directory since: the history still says who
            whom = f"{share.grantee_kind} {share.grantee_id}"
        note = f"stopped sharing the report with {whom}"
        _journal(uow, cycle, share.id, "removed", actor, now, note, min(actor.roles & sharers))
        uow.commit()
    return share


@handles(BreakTheGlass)
def break_the_glass(uc: UseCases, cmd: BreakTheGlass, caller: Principal) -> BreakGlass:
    """An admin opens the cycle's report, self-review and evidence files to themselves for
    `BREAK_GLASS_PERIOD`, giving a reason. It is recorded in the cycle's history, with the
    reason, and the host school's head is told, in the same transaction: it never happens
    without both."""
    now = uc.now
    reason = " ".join(cmd.reason.split())
    with uc.uow() as uow:
        ctx = uc.context(uow, caller, cmd.cycle_id)  # an invisible cycle answers as unknown
        if not may_break_glass(caller):
            raise AccessDenied(
                "only an admin may break the glass; the host school's head decides who else "
                "reads the report (POST /cycles/{id}/shares)"
            )
        if len(reason.split()) < BREAK_GLASS_REASON_WORDS:
            raise InvalidRecord(
                "reason",
                f"say in at least {BREAK_GLASS_REASON_WORDS} words why you must read this "
                "cycle's confidential content: the reason is recorded in its history and sent "
                "to the host school's head",
            )
        cycle = ctx.whole
        opening = BreakGlass(
            new_id("bg"), cycle.id, caller.id, reason, now, now + BREAK_GLASS_PERIOD
        )
        uow.break_glass.add(opening)
        tz = uc.core.registry.calendars.tz
        note = (
            "opened the review report, self-review and evidence files by break-glass until "
            f"{in_words(opening.until, tz)}, giving the reason: {reason}"
        )
        _journal(
            uow, cycle, opening.id, "opened", ctx.access.actor, now, note, ADMIN_ROLE, "break_glass"
        )
        # The host's head: the roles the template lets decide who reads the report.
        leads = ctx.template.roles_that("share_report")
        heads = holders(cycle, sorted(leads), uow.directory.grants_with_roles(leads))
        school = uow.directory.get_school(cycle.host_school_id).name
        uow.inbox.deliver(break_glass_notices(opening, heads, caller, school, tz), now)
        uow.commit()
    return opening


@handles(ContentReads)
def content_reads(uc: UseCases, q: ContentReads, caller: Principal) -> list[ContentRead]:
    """The host's head reads who else read the school's confidential content; the list is
    theirs as the report is (those who decide who reads it), nobody else's."""
    with uc.uow(readonly=True) as uow:
        ctx = uc.context(uow, caller, q.cycle_id)
        if not may_share(ctx.access.actor, ctx.template):
            raise AccessDenied(
                "only those who decide who reads the report (the host's head) read who has read it"
            )
        return uow.reads.for_cycle(ctx.whole.id)


def _whom(uow: UnitOfWork, kind: str, grantee_id: str) -> str:
    """Who a share reaches, as the cycle's history tells it: a school or a network by name, a
    person by id (the history keeps no personal details; pages put the name in)."""
    if kind == "person":
        return uow.directory.get_person(grantee_id).id
    if kind == "school":
        return f"the head of {uow.directory.get_school(grantee_id).name}"
    return f"the leads of {uow.directory.get_network(grantee_id).name}"


def _journal(
    uow: UnitOfWork,
    cycle: Cycle,
    record_id: str,
    change: str,
    actor: Actor,
    now: datetime,
    note: str,
    role: str,
    kind: str = "report_share",
) -> None:
    # A share or a break-glass changes who may read the cycle, so it moves the version like
    # any record and takes its place in the hash-chained history.
    expected = cycle.version
    cycle.version += 1
    event = RecordChanged(
        cycle.id, kind, record_id, change, actor.id, now, cycle.version, note, role
    )
    uow.cycles.save(cycle, expected, [event])
