"""CLI commands over the directory and cycles: schools, people, cycles, template publishing.

Also what every CLI command shares: the wired application for one command, and who it acts as.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from adapters.migrate import SchemaOutOfDate
from engine.access import Principal
from engine.directory import Grant, Person, School
from engine.errors import AccessDenied, InvalidTemplate, NotFound, PeerloopError
from engine.ports import CycleFilter
from service.bootstrap import Container, build
from service.schools_csv import read_gias_csv
from service.settings import Settings
from service.usecases import UseCases
from service.usecases.core import to_plain
from service.usecases.cycles import Started
from service.usecases.messages import (
    AddGrant,
    AddNetwork,
    AddPerson,
    AddSchool,
    CycleHistory,
    ErasePerson,
    GetNetwork,
    GetSchool,
    ListCycles,
    ListNetworks,
    ListSchools,
    ReadCycle,
    StartCycle,
    UploadTemplate,
)

__all__ = [
    "OPERATOR",
    "acting_as",
    "as_option",
    "cycles",
    "networks",
    "open_container",
    "people",
    "person_principal",
    "schools",
    "templates_publish",
]

_json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print JSON instead of a table."
)

OPERATOR_ID = "system:operator"
OPERATOR = Principal(
    Person(OPERATOR_ID, "Peerloop operator", ""),
    (Grant(f"{OPERATOR_ID}:admin", OPERATOR_ID, "admin", "global"),),
)
"""Who a command acts as when it names nobody with `--as`: the operator on the server, an admin.

Setting a partnership up (its schools, people, grants and templates) starts from an empty
database, before anyone exists to act as; and whoever runs the CLI here holds the database
anyway. So the CLI does not borrow a person's name: changes are recorded as `system:operator`,
as automatic moves are as `system:scheduler`. Starting a cycle is different: it names a person.
"""


def as_option(help_text: str | None = None, *, required: bool = False) -> Any:
    """The `--as PERSON` option of a command that changes data."""
    return click.option(
        "--as",
        "who",
        metavar="PERSON",
        required=required,
        help=help_text
        or "Act as this person (email address or id), with their grants "
        "(default: the operator, an admin).",
    )


def person_principal(c: Container, ref: str) -> Principal:
    """The person with email address or id `ref`, with their grants, as a caller.

    The CLI is a trusted door run on the server: like authentication for a token, it builds
    its caller itself, and reads the directory here for that alone.
    """
    with c.uow(readonly=True) as uow:
        person = uow.directory.person_by_email(ref) if "@" in ref else None
        if person is None:
            try:
                person = uow.directory.get_person(ref)
            except NotFound:
                raise click.ClickException(
                    f"no person has the email address or id {ref!r}"
                ) from None
        grants = tuple(uow.directory.grants_for(person.id))
    return Principal(person, grants)


def acting_as(c: Container, who: str | None) -> Principal:
    """The caller for a command: the person `--as` names, or the operator."""
    return OPERATOR if who is None else person_principal(c, who)


@contextmanager
def open_container() -> Iterator[Container]:
    """The wired application for one command; refusals become clean CLI errors."""
    try:
        container = build(Settings.from_env())
    except SchemaOutOfDate as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        yield container
    except PeerloopError as exc:  # a refusal (unknown, clashing, not allowed...): one line
        raise click.ClickException(str(exc)) from exc
    finally:
        container.close()


def _print(
    rows: Sequence[dict[str, Any]], columns: Sequence[str], as_json: bool, title: str
) -> None:
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str, ensure_ascii=False))
        return
    table = Table(title=title, title_justify="left")
    for col in columns:
        table.add_column(col.replace("_", " "), overflow="fold")
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    Console().print(table)


@click.group()
def networks() -> None:
    """Networks (NLCs): clusters of schools, each with a chair."""


@networks.command("add")
@click.option("--name", required=True)
@click.option("--id", "network_id", help="Its id, such as nlc-north (default: a new one).")
@click.option("--chair", "chair_id", metavar="PERSON_ID", help="The person who chairs it.")
@as_option()
def networks_add(name: str, network_id: str | None, chair_id: str | None, who: str | None) -> None:
    """Add a network; print its id."""
    with open_container() as c:
        network = c.usecases.handle(
            AddNetwork(network_id, name.strip(), chair_id), acting_as(c, who)
        )
    click.echo(network.id)


@networks.command("list")
@_json_option
def networks_list(as_json: bool) -> None:
    """List networks."""
    with open_container() as c:
        rows = [to_plain(n) for n in c.usecases.handle(ListNetworks(), OPERATOR)]
    _print(rows, ["id", "name", "chair_person_id"], as_json, "Networks")


@click.group()
def schools() -> None:
    """Schools (by DfE URN)."""


@schools.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--network", "network_id", help="Put the schools in this network (NLC).")
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Import the valid rows even if some are malformed (default: import nothing then).",
)
@as_option()
def schools_import(file: Path, network_id: str | None, skip_invalid: bool, who: str | None) -> None:
    """Import schools from a GIAS CSV export (URN, EstablishmentName, PhaseOfEducation (name)...).

    Every malformed row is reported with its line number. By default a file with any malformed
    row imports nothing, so that a fix-and-rerun never leaves half a file behind; with
    --skip-invalid the valid rows are imported. Schools already known by URN are left as they
    are (so a run that stopped part way can be run again). Closed establishments are skipped.
    """
    raw = file.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")  # GIAS downloads are often Windows-1252
    found, problems = read_gias_csv(text, network_id)
    for p in problems:
        click.echo(f"{file}: {p}", err=True)
    if problems and not skip_invalid:
        click.echo(
            f"{len(problems)} malformed row(s): nothing imported (fix them, or use --skip-invalid)",
            err=True,
        )
        sys.exit(1)
    added = known = 0
    with open_container() as c:
        uc, caller = c.usecases, acting_as(c, who)
        if network_id is not None:
            uc.handle(GetNetwork(network_id), caller)
        urns = {s.urn for s in uc.handle(ListSchools(), caller)}
        with click.progressbar(found, label=f"Importing {file.name}", file=sys.stderr) as bar:
            for school in bar:
                if school.urn in urns:
                    known += 1
                    continue
                uc.handle(
                    AddSchool(school.id, school.urn, school.name, school.network_id, school.phase),
                    caller,
                )
                added += 1
    click.echo(f"{added} school(s) added, {known} already known, {len(problems)} row(s) skipped")
    if problems:
        sys.exit(1)


@schools.command("list")
@click.option("--network", "network_id", help="Only this network's schools.")
@_json_option
def schools_list(network_id: str | None, as_json: bool) -> None:
    """List schools."""
    with open_container() as c:
        rows = [to_plain(s) for s in c.usecases.handle(ListSchools(network_id), OPERATOR)]
    _print(rows, ["id", "urn", "name", "phase", "network_id"], as_json, "Schools")  # type: ignore[arg-type]


@click.group()
def people() -> None:
    """People and their role grants."""


@people.command("add")
@click.option("--name", required=True)
@click.option("--email", required=True)
@click.option("--school", "school_id", help="The school they work at.")
@click.option(
    "--grant",
    "grants",
    multiple=True,
    metavar="ROLE[@SCOPE:ID]",
    help="A role, e.g. admin, school_lead@school:sch-131201, network_lead@network:nlc-north.",
)
@as_option()
def people_add(
    name: str, email: str, school_id: str | None, grants: tuple[str, ...], who: str | None
) -> None:
    """Add a person, with any role grants; print their id."""
    parsed = [_grant(g) for g in grants]
    with open_container() as c:
        uc, caller = c.usecases, acting_as(c, who)
        for _, kind, scope in parsed:  # first, so that an unknown scope leaves no one half-added
            _check_scope(uc, caller, kind, scope)
        person = uc.handle(AddPerson(None, name.strip(), email.strip().lower(), school_id), caller)
        for role, kind, scope in parsed:
            uc.handle(AddGrant(person.id, role, kind, scope), caller)
    click.echo(person.id)


@people.command("erase")
@click.argument("person_id")
@click.option("--asked-by", required=True, help="Who asked for the erasure, in words.")
@click.option("--reason", required=True, help="The request: its date or reference.")
@as_option()
def people_erase(person_id: str, asked_by: str, reason: str, who: str | None) -> None:
    """Erase a person's personal data (a right-to-erasure request), keeping their id in the
    history; print how much went."""
    with open_container() as c:
        done = c.usecases.handle(ErasePerson(person_id, asked_by, reason), acting_as(c, who))
    click.echo(f"erased {done.person_id}, as asked by {done.asked_by}:")
    for place, count in sorted(done.removed.items()):
        click.echo(f"  {place:<18} {count}")


def _check_scope(uc: UseCases, caller: Principal, kind: str, scope: str | None) -> None:
    """Raises NotFound when a grant's scope does not exist."""
    if scope is None:
        return
    if kind == "network":
        uc.handle(GetNetwork(scope), caller)
    elif kind == "school":
        uc.handle(GetSchool(scope), caller)
    else:
        uc.handle(ReadCycle(scope), caller)


def _grant(text: str) -> tuple[str, str, str | None]:
    role, _, scope = text.partition("@")
    if not scope:
        return role, "global", None
    kind, _, scope_id = scope.partition(":")
    if kind not in ("network", "school", "cycle") or not scope_id:
        raise click.BadParameter(
            f"{text!r}: expected ROLE or ROLE@network|school|cycle:ID", param_hint="--grant"
        )
    return role, kind, scope_id


@click.group()
def cycles() -> None:
    """Cycles."""


@cycles.command("list")
@click.option("--network", "network_id")
@click.option("--school", "school_id")
@click.option("--stage")
@click.option("--template", "template_id")
@click.option("--overdue", is_flag=True, help="Only cycles past a stage's due time.")
@_json_option
def cycles_list(
    network_id: str | None,
    school_id: str | None,
    stage: str | None,
    template_id: str | None,
    overdue: bool,
    as_json: bool,
) -> None:
    """List cycles, with filters."""
    where = CycleFilter(
        network_id=network_id,
        school_id=school_id,
        stage=stage,
        template_id=template_id,
        overdue_at=datetime.now(UTC) if overdue else None,
    )
    with open_container() as c:
        found = c.usecases.handle(ListCycles(where), OPERATOR)
    rows = [to_plain(s) for s in found]
    cols = [
        "id",
        "host_school_id",
        "template_id",
        "template_version",
        "stage",
        "version",
        "next_due_at",
    ]
    _print(rows, cols, as_json, "Cycles")  # type: ignore[arg-type]


@cycles.command("show")
@click.argument("cycle_id")
@_json_option
def cycles_show(cycle_id: str, as_json: bool) -> None:
    """Show one cycle: its stage, what it collected, and its history."""
    with open_container() as c:
        cycle = c.usecases.handle(ReadCycle(cycle_id), OPERATOR).cycle
        history = c.usecases.handle(CycleHistory(cycle_id), OPERATOR)
    data = to_plain(cycle)
    if as_json:
        click.echo(
            json.dumps({"cycle": data, "history": to_plain(history)}, indent=2, ensure_ascii=False)
        )
        return
    console = Console()
    console.print(
        f"[bold]{cycle.id}[/] {cycle.template_id} v{cycle.template_version} "
        f"for {cycle.host_school_id}: stage [bold]{cycle.stage}[/] (version {cycle.version})"
    )
    console.print(
        f"evidence {len(cycle.evidence)}, judgements {len(cycle.judgements)}, "
        f"findings {len(cycle.findings)}, actions {len(cycle.actions)}, "
        f"support links {len(cycle.support)}, team {len(cycle.team)}"
    )
    rows = [to_plain(h) for h in history]
    _print(
        rows,
        [
            "seq",
            "at",
            "kind",
            "actor",
            "role",
            "transition",
            "from_stage",
            "to_stage",
            "forced",
            "reason",
        ],
        False,
        "History",
    )  # type: ignore[arg-type]


@cycles.command("start")
@click.option("--template", "template_id", required=True, help="The template, e.g. spp-cycle.")
@click.option(
    "--school", "school_ref", required=True, metavar="SCHOOL", help="The host school: id or URN."
)
@click.option(
    "--version",
    "version",
    type=click.IntRange(min=1),
    help="A published version of the template (default: the newest).",
)
@as_option(
    "Who starts it (email address or id): an admin, or the partnership lead of the school's "
    "network. Their grants apply, and the cycle's history names them.",
    required=True,
)
@_json_option
def cycles_start(
    template_id: str, school_ref: str, version: int | None, who: str, as_json: bool
) -> None:
    """Start a cycle for a host school on a published template version.

    Prints the new cycle's id, its school and template and the stage it starts at; a warning
    (on standard error) names another active cycle of the template for the school.
    """
    with open_container() as c:
        uc, caller = c.usecases, person_principal(c, who)
        school = _school(uc, caller, school_ref)
        try:
            started: Started = uc.handle(StartCycle(template_id, school.id, version), caller)
        except AccessDenied as exc:
            person = caller.person
            raise click.ClickException(
                f"{person.name} ({person.email}) may not start a cycle for {school.name}: {exc}"
            ) from exc
    cycle, template = started.context.cycle, started.context.template
    stage = template.stage(cycle.stage).title
    if as_json:
        data = {
            "id": cycle.id,
            "school_id": school.id,
            "school": school.name,
            "template_id": template.id,
            "template_version": template.version,
            "template": template.title,
            "stage": cycle.stage,
            "stage_title": stage,
            "started_by": caller.id,
            "warnings": list(started.warnings),
        }
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        click.echo(f"started {cycle.id}")
        click.echo(f"  school:     {school.name} ({school.id}, URN {school.urn})")
        click.echo(f"  template:   {template.title} ({template.id} version {template.version})")
        click.echo(f"  stage:      {stage}")
        click.echo(f"  started by: {caller.person.name} ({caller.person.email})")
    for warning in started.warnings:
        click.echo(f"warning: {warning}", err=True)


def _school(uc: UseCases, caller: Principal, ref: str) -> School:
    """The school with id `ref`, or else with URN `ref`."""
    try:
        return uc.handle(GetSchool(ref), caller)
    except NotFound:
        pass
    for school in uc.handle(ListSchools(), caller):
        if school.urn == ref:
            return school
    raise click.ClickException(f"no school has the id or URN {ref!r}")


def templates_publish(templates: click.Group) -> None:
    """Add `templates publish` to the templates group."""

    @templates.command("publish")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--draft", is_flag=True, help="Store as a draft, not published.")
    @as_option()
    def publish(file: Path, draft: bool, who: str | None) -> None:
        """Validate a template FILE and store it as a published version (or a draft)."""
        with open_container() as c:
            message = UploadTemplate(file.read_bytes(), file.name, publish=not draft)
            try:
                stored = c.usecases.handle(message, acting_as(c, who))
            except InvalidTemplate as exc:
                for issue in exc.issues:
                    click.echo(f"{file}: {issue}", err=True)
                raise click.ClickException(f"{file} is not valid: nothing stored") from exc
        state = "draft" if draft else "published"
        click.echo(f"{stored.template_id} version {stored.version}: {state}")
