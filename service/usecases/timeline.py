"""A template's dry run on a network's school calendar (`engine.timeline`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from engine.access import Principal
from engine.directory import Network
from engine.errors import InvalidRecord, NotFound
from engine.timeline import Timeline, dry_run
from service.usecases.base import UseCases, handles
from service.usecases.messages import DryRunTemplate

__all__ = ["START_TIME", "DryRun"]

START_TIME = time(9, 0)
"""The time of day a dry run starts, and its cycle dates fall at: the start of a school day."""


@dataclass(frozen=True, slots=True)
class DryRun:
    """A dry run and the school days it counted: the network's own terms ("own"), the
    partnership's default ("default") or Monday to Friday ("weekdays")."""

    timeline: Timeline
    network: Network | None
    calendar: str


@handles(DryRunTemplate)
def dry_run_template(uc: UseCases, q: DryRunTemplate, caller: Principal) -> DryRun:
    """Raises NotFound (template version, network) or InvalidRecord (a date the template
    does not declare), naming it."""
    tz = uc.core.registry.calendars.tz
    with uc.uow(readonly=True) as uow:
        template = uc.core.registry.machine(uow, q.template_id, q.version).template
        network = None
        if q.network_id is not None:
            network = next((n for n in uow.directory.networks() if n.id == q.network_id), None)
            if network is None:
                raise NotFound("network", q.network_id)
        book = uow.calendars.book(tz)
    declared = {d.id for d in template.dates}
    unknown = sorted(set(q.dates) - declared)
    if unknown:
        known = ", ".join(sorted(declared)) or "none"
        raise InvalidRecord(
            f"dates.{unknown[0]}",
            f"{template.title} has no cycle date {unknown[0]!r} (its dates: {known})",
        )
    start = datetime.combine(q.start, START_TIME, tz)
    dates = {k: datetime.combine(v, START_TIME, tz) for k, v in q.dates.items()}
    timeline = dry_run(template, book.for_network(q.network_id), start, dates)
    return DryRun(timeline, network, book.source(q.network_id))
