"""Retention: evidence erased once kept for as long as its template (or the deployment) says
after its cycle closed; a dry run says what would go. Each erasure is recorded in the cycle's
history like a head's, by Peerloop itself, with the rule as its reason."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from engine.access import SYSTEM_SCHEDULER, Principal
from engine.cycle import Actor
from engine.errors import PeerloopError
from engine.ports import CycleFilter
from engine.retention import Expired, expired_evidence
from engine.template import ADMIN_ROLE
from service.usecases.base import UseCases, handles
from service.usecases.messages import ApplyRetention

__all__ = ["RetentionReport"]

log = logging.getLogger("peerloop.retention")

RETENTION = Actor(SYSTEM_SCHEDULER, frozenset({ADMIN_ROLE}), None)
"""Who erases evidence past its time: Peerloop itself, as the platform (its history says
"Peerloop (automatically)", with the rule as the reason)."""


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """What was due to go; of it, what went (nothing in a dry run) and what could not."""

    dry_run: bool
    due: list[Expired]
    erased: list[Expired] = field(default_factory=list)
    failed: list[tuple[Expired, str]] = field(default_factory=list)


@handles(ApplyRetention)
def apply_retention(uc: UseCases, cmd: ApplyRetention, caller: Principal) -> RetentionReport:
    """The admin's or the scheduler's: the closed cycles of every template, each piece of
    their evidence past its time."""
    if caller.id != SYSTEM_SCHEDULER:
        caller.require_admin()
    now = uc.now
    due: list[Expired] = []
    with uc.uow(readonly=True) as uow:
        templates = uc.published(uow)
        terminal = {(t.id, s.id) for t in templates for s in t.stages if s.terminal}
        for template_id, stage_id in sorted(terminal):
            where = CycleFilter(template_id=template_id, stage=stage_id, limit=1_000_000)
            for summary in uow.cycles.list(where):
                cycle = uow.cycles.get(summary.id)
                template = uc.template_of(uow, cycle)
                due += expired_evidence(template, cycle, cmd.default_years, now)
    report = RetentionReport(cmd.dry_run, due)
    if cmd.dry_run:
        return report
    for item in due:
        reason = (
            f"kept {item.years} year(s) after the cycle closed on "
            f"{item.closed_at.date().isoformat()}: erased by the retention rule"
        )
        try:
            sha = uc.core.erase_evidence(
                item.cycle_id, item.evidence_id, lambda c: RETENTION, reason
            )
        except PeerloopError as exc:  # erased meanwhile, say: the next run sees the rest
            report.failed.append((item, str(exc)))
            continue
        if sha is not None:
            uc.files.delete(sha)
        report.erased.append(item)
    if report.erased:
        log.info(
            "retention.erased",
            extra={"evidence": len(report.erased), "cycles": len({e.cycle_id for e in due})},
        )
    return report
