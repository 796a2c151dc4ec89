"""Use cases of the admin pages: the template library, people and their grants, schools and the
GIAS import. Every one of them is for the admin alone."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime

from engine.access import Principal
from engine.directory import Grant, Network, Person, School, StoredTemplate
from engine.errors import InvalidRecord, NotFound
from engine.ports import UnitOfWork
from engine.template import Template
from service.schools_csv import CsvProblem, read_gias_csv
from service.usecases.base import UseCases, handles
from service.usecases.messages import (
    AdminPage,
    ImportSchools,
    PeoplePage,
    SchoolsPage,
    TemplateLibraryPage,
    TemplateVersionsPage,
)

__all__ = [
    "MAX_SCHOOLS_CSV_BYTES",
    "AdminCounts",
    "GrantLine",
    "PageOfPeople",
    "PageOfSchools",
    "PageOfTemplate",
    "PersonLine",
    "SchoolImport",
    "SchoolPeople",
    "TemplateEntry",
]

MAX_SCHOOLS_CSV_BYTES = 2 * 1024 * 1024
"""A borough's establishments with every GIAS column are well under this; the whole country's
export is not, and is refused rather than held in memory (filter it by local authority)."""


@dataclass(frozen=True, slots=True)
class AdminCounts:
    templates: int
    drafts: int
    networks: int
    schools: int
    people: int


@dataclass(frozen=True, slots=True)
class TemplateEntry:
    """A template and its versions, newest first."""

    template_id: str
    versions: tuple[StoredTemplate, ...]

    @property
    def title(self) -> str:
        return self.versions[0].title

    @property
    def published(self) -> StoredTemplate | None:
        """The version new cycles start on: the newest published one not retired."""
        return next(
            (v for v in self.versions if v.status == "published" and v.retired_at is None), None
        )


@dataclass(frozen=True, slots=True)
class PageOfTemplate:
    """One template's versions (newest first) and the version shown, as the engine reads it."""

    entry: TemplateEntry
    shown: StoredTemplate
    template: Template


@dataclass(frozen=True, slots=True)
class GrantLine:
    """A grant in words: the role, where it holds, and who gave it when, where that is known."""

    grant: Grant
    role: str
    where: str
    granted_by: str | None
    granted_at: datetime | None


@dataclass(frozen=True, slots=True)
class PersonLine:
    person: Person
    grants: tuple[GrantLine, ...]


@dataclass(frozen=True, slots=True)
class SchoolPeople:
    """The people of one school (None: people of no school, such as network roles)."""

    network: str
    school: School | None
    people: tuple[PersonLine, ...]


@dataclass(frozen=True, slots=True)
class PageOfPeople:
    groups: tuple[SchoolPeople, ...]
    networks: tuple[Network, ...]
    schools: tuple[School, ...]
    roles: tuple[str, ...]
    """Every role a grant may name: the templates' roles and admin."""
    records_granter: bool
    """Whether grants record who gave them and when (older storage does not)."""


@dataclass(frozen=True, slots=True)
class PageOfSchools:
    networks: tuple[tuple[Network | None, tuple[School, ...]], ...]
    """Each network with its schools, by name; None holds the schools of no network."""


@dataclass(frozen=True, slots=True)
class SchoolImport:
    """What a GIAS file gives: the schools to add, those already known by URN (left as they
    are), and every row that could not be read, by line."""

    to_add: tuple[School, ...]
    known: tuple[School, ...]
    problems: tuple[CsvProblem, ...]
    network: Network | None
    added: bool


def role_words(role: str) -> str:
    """A role id in words: grants hold across templates, so no one template's title is used."""
    return role.replace("_", " ").capitalize()


@handles(AdminPage)
def admin_page(uc: UseCases, q: AdminPage, caller: Principal) -> AdminCounts:
    caller.require_admin()
    with uc.uow(readonly=True) as uow:
        stored = uow.templates.list()
        return AdminCounts(
            templates=len({t.template_id for t in stored}),
            drafts=sum(1 for t in stored if t.status == "draft"),
            networks=len(uow.directory.networks()),
            schools=len(uow.directory.schools()),
            people=len(uow.directory.people()),
        )


def _entries(stored: list[StoredTemplate]) -> list[TemplateEntry]:
    by_id: dict[str, list[StoredTemplate]] = {}
    for t in stored:
        by_id.setdefault(t.template_id, []).append(t)
    entries = [
        TemplateEntry(tid, tuple(sorted(vs, key=lambda v: v.version, reverse=True)))
        for tid, vs in by_id.items()
    ]
    return sorted(entries, key=lambda e: e.title.casefold())


@handles(TemplateLibraryPage)
def template_library(
    uc: UseCases, q: TemplateLibraryPage, caller: Principal
) -> list[TemplateEntry]:
    caller.require_admin()
    with uc.uow(readonly=True) as uow:
        return _entries(uow.templates.list())


@handles(TemplateVersionsPage)
def template_versions(uc: UseCases, q: TemplateVersionsPage, caller: Principal) -> PageOfTemplate:
    caller.require_admin()
    with uc.uow(readonly=True) as uow:
        found = [t for t in uow.templates.list() if t.template_id == q.template_id]
        if not found:
            raise NotFound("template", q.template_id)
        entry = _entries(found)[0]
        wanted = entry.versions[0].version if q.version is None else q.version
        shown = next((v for v in entry.versions if v.version == wanted), None)
        if shown is None:
            raise NotFound("template version", f"{q.template_id}@{q.version}")
        template = uc.core.registry.machine(uow, shown.template_id, shown.version).template
    return PageOfTemplate(entry, shown, template)


@handles(PeoplePage)
def people_page(uc: UseCases, q: PeoplePage, caller: Principal) -> PageOfPeople:
    caller.require_admin()
    with uc.uow(readonly=True) as uow:
        networks = sorted(uow.directory.networks(), key=lambda n: n.name.casefold())
        schools = sorted(uow.directory.schools(), key=lambda s: s.name.casefold())
        people = sorted(uow.directory.people(), key=lambda p: p.name.casefold())
        grants = {p.id: uow.directory.grants_for(p.id) for p in people}
        cycles = {
            g.scope_id: _cycle_words(uow, g.scope_id)
            for gs in grants.values()
            for g in gs
            if g.scope_kind == "cycle" and g.scope_id
        }
        roles = {"admin"} | {g.role for gs in grants.values() for g in gs}
        for entry in _entries(uow.templates.list()):  # each template's newest version
            newest = entry.versions[0]
            machine = uc.core.registry.machine(uow, newest.template_id, newest.version)
            roles |= {r.id for r in machine.template.roles}
    network_names = {n.id: n.name for n in networks}
    school_names = {s.id: s.name for s in schools}
    person_names = {p.id: p.name for p in people}
    names = {**network_names, **school_names, **cycles}

    def line(g: Grant) -> GrantLine:
        # Grants made before Peerloop kept who gave them, and when, have neither (nor has a
        # directory loaded whole, such as the demo's): the page says they are not recorded.
        by = getattr(g, "granted_by", None)
        return GrantLine(
            g,
            role_words(g.role),
            _where(g, names),
            person_names.get(by, by) if by else None,
            getattr(g, "granted_at", None),
        )

    by_school: dict[str | None, list[PersonLine]] = {}
    for p in people:
        by_school.setdefault(p.school_id, []).append(
            PersonLine(p, tuple(line(g) for g in grants[p.id]))
        )
    groups = [
        SchoolPeople(network_names.get(s.network_id or "", "No network"), s, tuple(by_school[s.id]))
        for s in schools
        if s.id in by_school
    ]
    groups.sort(key=lambda g: (g.network == "No network", g.network.casefold()))
    if None in by_school:
        groups.insert(0, SchoolPeople("", None, tuple(by_school[None])))
    return PageOfPeople(
        tuple(groups),
        tuple(networks),
        tuple(schools),
        tuple(sorted(roles)),
        "granted_by" in getattr(Grant, "__dataclass_fields__", {}),
    )


def _cycle_words(uow: UnitOfWork, cycle_id: str) -> str:
    try:
        cycle = uow.cycles.get(cycle_id)
        school = uow.directory.get_school(cycle.host_school_id)
    except NotFound:
        return f"cycle {cycle_id}"
    return f"the cycle of {school.name}"


def _where(g: Grant, names: dict[str, str]) -> str:
    """Where a grant holds: networks, schools and cycles are named by what people call them."""
    if g.scope_kind == "global" or g.scope_id is None:
        return "everywhere"
    return names.get(g.scope_id, g.scope_id)


@handles(SchoolsPage)
def schools_page(uc: UseCases, q: SchoolsPage, caller: Principal) -> PageOfSchools:
    caller.require_admin()
    with uc.uow(readonly=True) as uow:
        networks = sorted(uow.directory.networks(), key=lambda n: n.name.casefold())
        schools = sorted(uow.directory.schools(), key=lambda s: s.name.casefold())
    grouped: list[tuple[Network | None, tuple[School, ...]]] = [
        (n, tuple(s for s in schools if s.network_id == n.id)) for n in networks
    ]
    known = {n.id for n in networks}
    loose = tuple(s for s in schools if s.network_id not in known)
    if loose:
        grouped.append((None, loose))
    return PageOfSchools(tuple(grouped))


def _size_checked(text: str) -> str:
    if len(text.encode()) > MAX_SCHOOLS_CSV_BYTES:
        raise InvalidRecord(
            "file",
            f"the file is larger than {MAX_SCHOOLS_CSV_BYTES // (1024 * 1024)} MB: export only "
            "your local authority's schools from GIAS",
        )
    if "\x00" in text:
        raise InvalidRecord("file", "the file is not a CSV text file")
    return text


@handles(ImportSchools)
def import_schools(uc: UseCases, cmd: ImportSchools, caller: Principal) -> SchoolImport:
    caller.require_admin()
    text = _size_checked(cmd.text)
    try:
        found, problems = read_gias_csv(text, cmd.network_id)
    except csv.Error as exc:
        raise InvalidRecord("file", f"the file could not be read as CSV ({exc})") from None
    with uc.uow(readonly=cmd.dry_run) as uow:
        network = None
        if cmd.network_id is not None:
            try:
                network = uow.directory.get_network(cmd.network_id)
            except NotFound:
                raise InvalidRecord("network", "choose a network from the list") from None
        urns = {s.urn for s in uow.directory.schools()}
        known = tuple(s for s in found if s.urn in urns)
        to_add = tuple(s for s in found if s.urn not in urns)
        if not cmd.dry_run and to_add:
            # One transaction: a clash part way (someone added a school meanwhile) adds none.
            for school in to_add:
                uow.directory.add_school(school)
            uow.commit()
    return SchoolImport(to_add, known, tuple(problems), network, not cmd.dry_run and bool(to_add))
