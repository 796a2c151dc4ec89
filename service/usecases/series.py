"""Series of recurring cycles (`engine.series`): made by whoever may start the template's
cycles, listed with their next days and the cycles they started, cancelled, and their cycles
started by the scheduler on each day as the series' maker, with the schools taking part."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import date

from engine import records
from engine.access import SYSTEM_SCHEDULER, Principal, actor_for, starter_roles
from engine.cycle import Actor, Cycle
from engine.directory import School
from engine.errors import AccessDenied, Conflict, InvalidRecord, NotFound, PeerloopError
from engine.ports import UnitOfWork
from engine.series import Series, check_days, due, upcoming
from engine.template import Template
from engine.versions import startable
from service.usecases.base import UseCases, handles
from service.usecases.core import new_id
from service.usecases.messages import CancelSeries, CreateSeries, ListSeries, StartDueSeries

__all__ = ["SeriesView", "StartedBySeries"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SeriesView:
    """A series with what a person planning the year reads: its template's title, the host
    school's and the participants' names, the cycle each past day started, the next days."""

    series: Series
    template_title: str
    school: str
    participants: dict[str, str]
    started: dict[date, str]
    next_days: tuple[date, ...]
    may_cancel: bool = False
    """Whether the caller may cancel it (its maker, the admin, whoever may start its cycles)."""


@dataclass(frozen=True, slots=True)
class StartedBySeries:
    """What one run of the series job did: the cycles started, and the days it could not
    start, with why (the maker no longer holds a role that starts them, say)."""

    started: list[tuple[str, date, str]] = field(default_factory=list)
    refused: list[tuple[str, date, str]] = field(default_factory=list)


def _template(uow: UnitOfWork, uc: UseCases, template_id: str) -> Template:
    stored = startable(template_id, uow.templates.versions(template_id))
    return uc.core.registry.machine(uow, stored.template_id, stored.version).template


def _view(uc: UseCases, uow: UnitOfWork, s: Series, started: dict[date, str]) -> SeriesView:
    versions = uow.templates.versions(s.template_id)
    title = versions[-1].title if versions else s.template_id
    names = {sid: uow.directory.get_school(sid).name for sid in s.participants}
    today = uc.now.astimezone(uc.core.registry.calendars.tz).date()
    return SeriesView(
        s,
        title,
        uow.directory.get_school(s.host_school_id).name,
        names,
        started,
        tuple(upcoming(s, set(started), today)),
    )


@handles(CreateSeries)
def create_series(uc: UseCases, cmd: CreateSeries, caller: Principal) -> SeriesView:
    """Raises NotFound (template, school), AccessDenied (may not start its cycles there),
    Conflict (no startable version) or InvalidRecord (a day, a school taking part)."""
    now = uc.now
    tz = uc.core.registry.calendars.tz
    with uc.uow() as uow:
        school = uow.directory.get_school(cmd.host_school_id)
        template = _template(uow, uc, cmd.template_id)
        roles = starter_roles(caller, school.network_id, template)
        calendar = uow.calendars.book(tz).for_network(school.network_id)
        days = sorted(cmd.days)
        issues = check_days(list(cmd.days), calendar, now.astimezone(tz).date())
        if issues:
            raise InvalidRecord(issues[0].location, issues[0].message)
        joining = _participants(uow, template, cmd.participants, school, roles)
        series = Series(
            id=new_id("ser"),
            template_id=template.id,
            host_school_id=school.id,
            network_id=school.network_id,
            days=tuple(days),
            created_by=caller.id,
            created_at=now,
            yearly=cmd.yearly,
            participants=tuple(s.id for s in joining),
            title=cmd.title.strip(),
        )
        uow.series.add(series)
        view = _view(uc, uow, series, {})
        uow.commit()
    return view


def _participants(
    uow: UnitOfWork,
    template: Template,
    wanted: tuple[str, ...],
    host: School,
    roles: frozenset[str],
) -> list[School]:
    if not wanted:
        return []
    first = template.initial_stage
    takers = first.collects.get("participants", ())
    if not set(takers) & roles:
        raise InvalidRecord(
            "participants",
            f"{first.title}, where {template.title} starts, does not take the schools taking "
            "part from you: leave them out, and add them on each cycle",
        )
    out: list[School] = []
    for sid in dict.fromkeys(wanted):
        if sid == host.id:
            raise InvalidRecord("participants", f"{host.name} leads these cycles")
        try:
            out.append(uow.directory.get_school(sid))
        except NotFound as exc:
            raise InvalidRecord("participants", f"there is no school {sid!r}") from exc
    return out


def _may_see(caller: Principal, s: Series) -> bool:
    return (
        caller.is_admin
        or s.created_by == caller.id
        or (s.network_id is not None and s.network_id in caller.scopes("network"))
        or s.host_school_id in caller.scopes("school")
    )


@handles(ListSeries)
def list_series(uc: UseCases, q: ListSeries, caller: Principal) -> list[SeriesView]:
    with uc.uow(readonly=True) as uow:
        mine = [s for s in uow.series.list() if _may_see(caller, s)]
        started = uow.series.started([s.id for s in mine])
        return [
            dataclasses.replace(
                _view(uc, uow, s, started[s.id]),
                may_cancel=s.active and _may_cancel(uc, uow, caller, s),
            )
            for s in mine
        ]


def _may_cancel(uc: UseCases, uow: UnitOfWork, caller: Principal, s: Series) -> bool:
    if caller.is_admin or s.created_by == caller.id:
        return True
    try:
        starter_roles(caller, s.network_id, _template(uow, uc, s.template_id))
    except (AccessDenied, Conflict, NotFound):
        return False
    return True


@handles(CancelSeries)
def cancel_series(uc: UseCases, cmd: CancelSeries, caller: Principal) -> SeriesView:
    """Its maker, or the admin, or whoever may start its cycles, cancels it. Raises NotFound
    for a series the caller may not see."""
    with uc.uow() as uow:
        s = uow.series.get(cmd.series_id)
        if not _may_see(caller, s):
            raise NotFound("series", cmd.series_id)
        if not _may_cancel(uc, uow, caller, s):
            raise AccessDenied("only its maker, the admin or whoever may start its cycles may")
        s = uow.series.cancel(s.id, caller.id, uc.now)
        view = _view(uc, uow, s, uow.series.started([s.id])[s.id])
        uow.commit()
    return view


@handles(StartDueSeries)
def start_due_series(uc: UseCases, q: StartDueSeries, caller: Principal) -> StartedBySeries:
    """Each day's cycle once, whichever replica runs first; a day that cannot start (its
    maker no longer may, the template has no startable version) is told in the log and
    tried again on the next run, until someone cancels the series."""
    if caller.id != SYSTEM_SCHEDULER:
        raise AccessDenied("only the scheduler starts a series' cycles")
    now = uc.now
    tz = uc.core.registry.calendars.tz
    with uc.uow(readonly=True) as uow:
        active = uow.series.list(active=True)
        started = uow.series.started([s.id for s in active])
    out = StartedBySeries()
    for s in active:
        for day in due(s, set(started[s.id]), now, tz):
            try:
                cycle = _start(uc, s, day)
            except Conflict as exc:
                if exc.kind == "series":
                    continue  # the day's start is marked: another replica was first
                out.refused.append((s.id, day, exc.detail))
            except PeerloopError as exc:
                out.refused.append((s.id, day, str(exc)))
            else:
                out.started.append((s.id, day, cycle.id))
    for sid, day, why in out.refused:
        log.warning("series.not_started", extra={"series": sid, "day": str(day), "why": why})
    return out


def _start(uc: UseCases, s: Series, day: date) -> Cycle:
    """Start the day's cycle as the series' maker, with its schools, and mark the day."""
    with uc.uow(readonly=True) as uow:
        person = uow.directory.get_person(s.created_by)
        maker = Principal(person, tuple(uow.directory.grants_for(person.id)))
        template = _template(uow, uc, s.template_id)
        roles = starter_roles(maker, s.network_id, template)
        schools = [uow.directory.get_school(sid) for sid in s.participants]
    actor = Actor(maker.id, roles, person.school_id)
    now = uc.now

    def remember(uow: UnitOfWork, cycle: Cycle) -> None:
        uow.series.mark_started(s.id, day, cycle.id)
        if not schools:
            return
        version = cycle.version
        on_cycle = actor_for(person, maker.grants, cycle)
        events = [
            records.add_participant(
                template, cycle, on_cycle, school.id, school.name, school.network_id, now
            )
            for school in schools
        ]
        uow.cycles.save(cycle, version, events)

    return uc.core.start_cycle(
        s.template_id, s.host_school_id, actor, version=template.version, remember=remember
    )
