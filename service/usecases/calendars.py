"""Use cases on school calendars: each network's terms and closures, which the deadlines of its
cycles count in school days. Anyone signed in may read them; only an admin changes them."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from engine.access import Principal
from engine.calendar import CalendarBook, CalendarSpec, school_days
from engine.errors import InvalidRecord
from engine.network import school_year
from engine.ports import UnitOfWork
from service.calendar_files import CalendarFileError, read_calendar
from service.usecases.base import UseCases, handles
from service.usecases.messages import (
    ImportNetworkCalendar,
    NetworkCalendar,
    NetworkCalendars,
    RemoveNetworkCalendar,
    SetNetworkCalendar,
)

__all__ = [
    "DEFAULT_NAME",
    "MAX_CALENDAR_BYTES",
    "CalendarLine",
    "CalendarOfNetwork",
    "ClosureSpan",
    "TermOfCalendar",
]

MAX_CALENDAR_BYTES = 1024 * 1024
"""A school's ICS export for several years is a few tens of KB."""
MAX_TERMS = 60
MAX_CLOSURE_DAYS = 1500
MAX_TERM_DAYS = 200
"""The longest English term is about 16 weeks; anything much longer is a typing mistake."""
DEFAULT_NAME = "The partnership's default"


@dataclass(frozen=True, slots=True)
class ClosureSpan:
    """Days off with one name, such as a half-term week, and the school days they take."""

    name: str
    first: date
    last: date
    school_days_lost: int


@dataclass(frozen=True, slots=True)
class TermOfCalendar:
    name: str
    first: date
    last: date
    school_days: int
    closures: tuple[ClosureSpan, ...]


@dataclass(frozen=True, slots=True)
class CalendarOfNetwork:
    """What a network's deadlines count: its own calendar, the default one, or weekdays.

    Attributes:
        source: "own", "default" (the partnership's) or "weekdays" (no terms loaded).
        terms: the terms counted, in order, with their closures.
    """

    network_id: str | None
    network_name: str
    source: str
    timezone: str
    terms: tuple[TermOfCalendar, ...]

    @property
    def school_days(self) -> int:
        return sum(t.school_days for t in self.terms)


@dataclass(frozen=True, slots=True)
class CalendarLine:
    network_id: str | None
    network_name: str
    source: str
    terms: int
    school_days_this_year: int
    """School days in the school year of today (from 1 September)."""


def _spans(days: Iterable[tuple[str, date]]) -> list[ClosureSpan]:
    # A week of half-term is five closure days; shown as one line, joined across the weekend.
    spans: list[ClosureSpan] = []
    for name, day in sorted(days, key=lambda d: d[1]):
        lost = 1 if day.weekday() < 5 else 0
        if spans and spans[-1].name == name and 0 < (day - spans[-1].last).days <= 3:
            gap = [
                spans[-1].last + timedelta(days=i) for i in range(1, (day - spans[-1].last).days)
            ]
            if all(g.weekday() >= 5 for g in gap):
                last = spans[-1]
                spans[-1] = ClosureSpan(name, last.first, day, last.school_days_lost + lost)
                continue
        spans.append(ClosureSpan(name, day, day, lost))
    return spans


def _view(
    book: CalendarBook, network_id: str | None, network_name: str, tz_name: str
) -> CalendarOfNetwork:
    source = book.source(network_id)
    spec = book.specs.get(network_id if source == "own" else None) or CalendarSpec()
    calendar = book.for_network(network_id)
    terms = []
    for name, first, last in spec.terms:
        inside = [(n, d) for n, d in spec.closures if first <= d <= last]
        terms.append(
            TermOfCalendar(
                name,
                first,
                last,
                school_days(calendar, first, last),
                tuple(_spans(inside)),
            )
        )
    return CalendarOfNetwork(network_id, network_name, source, tz_name, tuple(terms))


def _network_name(uow: UnitOfWork, network_id: str | None) -> str:
    if network_id is None:
        return DEFAULT_NAME
    return uow.directory.get_network(network_id).name


def _tz_name(uc: UseCases) -> str:
    return str(uc.core.registry.calendars.tz)


@handles(NetworkCalendars)
def network_calendars(uc: UseCases, q: NetworkCalendars, caller: Principal) -> list[CalendarLine]:
    if q.admin:
        caller.require_admin()
    first, next_first = school_year(uc.now.astimezone(uc.core.registry.calendars.tz).date())
    last = next_first - timedelta(days=1)
    with uc.uow(readonly=True) as uow:
        book = uow.calendars.book(uc.core.registry.calendars.tz)
        networks = [(None, DEFAULT_NAME)] + [(n.id, n.name) for n in uow.directory.networks()]
    lines = []
    for net, name in networks:
        view = _view(book, net, name, _tz_name(uc))
        own = book.specs.get(net if view.source == "own" else None)
        lines.append(
            CalendarLine(
                net,
                name,
                view.source,
                len(own.terms) if own else 0,
                school_days(book.for_network(net), first, last),
            )
        )
    return lines


@handles(NetworkCalendar)
def network_calendar(uc: UseCases, q: NetworkCalendar, caller: Principal) -> CalendarOfNetwork:
    if q.admin:
        caller.require_admin()
    with uc.uow(readonly=True) as uow:
        name = _network_name(uow, q.network_id)
        book = uow.calendars.book(uc.core.registry.calendars.tz)
    return _view(book, q.network_id, name, _tz_name(uc))


def checked(spec: CalendarSpec) -> CalendarSpec:
    """`spec` in order, or InvalidRecord naming the first term or closure that cannot be."""
    if not spec.terms:
        raise InvalidRecord("terms", "give at least one term, with its first and last day")
    if len(spec.terms) > MAX_TERMS:
        raise InvalidRecord("terms", f"at most {MAX_TERMS} terms at once")
    if len(spec.closures) > MAX_CLOSURE_DAYS:
        raise InvalidRecord("closures", f"at most {MAX_CLOSURE_DAYS} closure days at once")
    terms = sorted(spec.terms, key=lambda t: t[1])
    for i, (name, first, last) in enumerate(spec.terms):
        where = f"terms[{i}]"
        if not name.strip() or len(name) > 100:
            raise InvalidRecord(f"{where}.name", "give the term a name of up to 100 characters")
        if last < first:
            raise InvalidRecord(f"{where}.last", f"{name} ends before it starts")
        if (last - first).days > MAX_TERM_DAYS:
            raise InvalidRecord(
                f"{where}.last", f"{name} is over {MAX_TERM_DAYS} days long: check its dates"
            )
    for before, after in itertools.pairwise(terms):
        if after[1] <= before[2]:
            i = spec.terms.index(after)
            raise InvalidRecord(
                f"terms[{i}].first",
                f"{after[0]} starts on {after[1]:%-d %B %Y}, before {before[0]} ends",
            )
    for i, (name, _day) in enumerate(spec.closures):
        if not name.strip() or len(name) > 100:
            raise InvalidRecord(
                f"closures[{i}].name", "give the closure a name of up to 100 characters"
            )
    return CalendarSpec(tuple(terms), tuple(sorted(set(spec.closures), key=lambda c: (c[1], c[0]))))


def _save(uc: UseCases, network_id: str | None, spec: CalendarSpec | None) -> CalendarOfNetwork:
    tz = uc.core.registry.calendars.tz
    with uc.uow() as uow:
        name = _network_name(uow, network_id)
        if spec is None:
            uow.calendars.remove(network_id)
        else:
            uow.calendars.save(network_id, spec)
        book = uow.calendars.book(tz)
        uow.commit()
    # This process counts the new days at once; other replicas at their next reload.
    uc.core.registry.calendars.replace(book)
    return _view(book, network_id, name, str(tz))


@handles(SetNetworkCalendar)
def set_network_calendar(
    uc: UseCases, cmd: SetNetworkCalendar, caller: Principal
) -> CalendarOfNetwork:
    caller.require_admin()
    return _save(uc, cmd.network_id, checked(CalendarSpec(cmd.terms, cmd.closures)))


@handles(RemoveNetworkCalendar)
def remove_network_calendar(
    uc: UseCases, cmd: RemoveNetworkCalendar, caller: Principal
) -> CalendarOfNetwork:
    caller.require_admin()
    return _save(uc, cmd.network_id, None)


@handles(ImportNetworkCalendar)
def import_network_calendar(
    uc: UseCases, cmd: ImportNetworkCalendar, caller: Principal
) -> CalendarOfNetwork:
    caller.require_admin()
    if len(cmd.data) > MAX_CALENDAR_BYTES:
        raise InvalidRecord("file", f"the file is over {MAX_CALENDAR_BYTES // 1024} KB")
    tz = uc.core.registry.calendars.tz
    try:
        spec = checked(read_calendar(cmd.data, cmd.filename, tz))
    except CalendarFileError as exc:
        raise InvalidRecord("file", str(exc)) from None
    if not cmd.dry_run:
        return _save(uc, cmd.network_id, spec)
    with uc.uow(readonly=True) as uow:
        name = _network_name(uow, cmd.network_id)
        stored = dict(uow.calendars.book(tz).specs)
    stored[cmd.network_id] = spec
    return _view(CalendarBook(tz, stored), cmd.network_id, name, str(tz))


def reload_calendars(uc: UseCases) -> None:
    """Read every calendar again: another replica may have changed one."""
    with uc.uow(readonly=True) as uow:
        book = uow.calendars.book(uc.core.registry.calendars.tz)
    uc.core.registry.calendars.replace(book)
