"""CLI commands over the directory and cycles: schools, people, cycles, template publishing."""

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
from engine.directory import Grant, Person
from engine.errors import Conflict, InvalidTemplate, NotFound
from engine.ports import CycleFilter
from service.bootstrap import Container, build
from service.schools_csv import read_gias_csv
from service.settings import Settings
from service.usecases.core import new_id, to_plain

__all__ = ["cycles", "open_container", "people", "schools", "templates_publish"]

_json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print JSON instead of a table."
)


@contextmanager
def open_container() -> Iterator[Container]:
    """The wired application for one command; refusals become clean CLI errors."""
    try:
        container = build(Settings.from_env())
    except SchemaOutOfDate as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        yield container
    except (NotFound, Conflict) as exc:
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
def schools_import(file: Path, network_id: str | None, skip_invalid: bool) -> None:
    """Import schools from a GIAS CSV export (URN, EstablishmentName, PhaseOfEducation (name)...).

    Every malformed row is reported with its line number. By default a file with any malformed
    row imports nothing, so that a fix-and-rerun never leaves half a file behind; with
    --skip-invalid the valid rows are imported. Schools already known by URN are left as they
    are. Closed establishments are skipped.
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
    with open_container() as c, c.uow() as uow:
        if network_id is not None:
            uow.directory.get_network(network_id)
        urns = {s.urn for s in uow.directory.schools()}
        with click.progressbar(found, label=f"Importing {file.name}", file=sys.stderr) as bar:
            for school in bar:
                if school.urn in urns:
                    known += 1
                    continue
                uow.directory.add_school(school)
                added += 1
        uow.commit()
    click.echo(f"{added} school(s) added, {known} already known, {len(problems)} row(s) skipped")
    if problems:
        sys.exit(1)


@schools.command("list")
@click.option("--network", "network_id", help="Only this network's schools.")
@_json_option
def schools_list(network_id: str | None, as_json: bool) -> None:
    """List schools."""
    with open_container() as c, c.uow(readonly=True) as uow:
        rows = [to_plain(s) for s in uow.directory.schools(network_id)]
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
def people_add(name: str, email: str, school_id: str | None, grants: tuple[str, ...]) -> None:
    """Add a person, with any role grants."""
    parsed = [_grant(g) for g in grants]
    pid = new_id("p")
    with open_container() as c, c.uow() as uow:
        if school_id is not None:
            uow.directory.get_school(school_id)
        uow.directory.add_person(Person(pid, name.strip(), email.strip().lower(), school_id))
        for role, kind, scope in parsed:
            uow.directory.add_grant(Grant(new_id("g"), pid, role, kind, scope))  # type: ignore[arg-type]
        uow.commit()
    click.echo(pid)


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
    with open_container() as c:
        found = c.app.cycles(
            CycleFilter(
                network_id=network_id,
                school_id=school_id,
                stage=stage,
                template_id=template_id,
                overdue_at=datetime.now(UTC) if overdue else None,
            )
        )
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
        cycle = c.app.cycle(cycle_id)
        with c.uow(readonly=True) as uow:
            history = uow.history.for_cycle(cycle_id)
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


def templates_publish(templates: click.Group) -> None:
    """Add `templates publish` to the templates group."""

    @templates.command("publish")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--draft", is_flag=True, help="Store as a draft, not published.")
    def publish(file: Path, draft: bool) -> None:
        """Validate a template FILE and store it as a published version (or a draft)."""
        with open_container() as c:
            try:
                stored = c.app.upload_template(file.read_bytes(), file.name, publish=not draft)
            except InvalidTemplate as exc:
                for issue in exc.issues:
                    click.echo(f"{file}: {issue}", err=True)
                raise click.ClickException(f"{file} is not valid: nothing stored") from exc
        state = "draft" if draft else "published"
        click.echo(f"{stored.template_id} version {stored.version}: {state}")
