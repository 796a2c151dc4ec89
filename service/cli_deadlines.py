"""CLI commands for deadlines, the outbox and school calendars."""

from __future__ import annotations

import json
from datetime import datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from adapters.outbox import outbox_counts
from adapters.tables import DeadlineTableRow
from engine.errors import InvalidRecord, NotFound
from service.calendar_files import CalendarFileError, read_ics, read_yaml
from service.cli_data import OPERATOR, open_container, person_principal
from service.jobs import build_dispatcher, build_sweeper
from service.usecases.messages import MyDeadlineFeed, SetNetworkCalendar

__all__ = ["calendar", "deadlines"]

D = DeadlineTableRow.__table__


def _when(text: str, tz: ZoneInfo) -> datetime:
    """An ISO date or date-time; without a zone it is local time (a date: its midnight)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(
            f"{text!r} is not a date or date-time such as 2026-10-19 or 2026-10-19T09:00"
        ) from exc
    if len(text) == 10:
        value = datetime.combine(value.date(), time(0), tz)
    return value if value.tzinfo else value.replace(tzinfo=tz)


@click.group()
def deadlines() -> None:
    """Deadlines: list them, or sweep the due ones by hand."""


@deadlines.command("list")
@click.option("--due-before", help="Only those due before this date or time (local time).")
@click.option("--cycle", "cycle_id", help="Only this cycle's.")
@click.option(
    "--status",
    type=click.Choice(["pending", "fired", "skipped", "failed", "cancelled", "all"]),
    default="pending",
    show_default=True,
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    help="Only the first N (a large database holds hundreds of thousands pending).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def deadlines_list(
    due_before: str | None, cycle_id: str | None, status: str, limit: int | None, as_json: bool
) -> None:
    """List deadlines, soonest first."""
    with open_container() as c:
        tz = ZoneInfo(c.settings.timezone)
        q = sa.select(D).order_by(D.c.due_at, D.c.id)
        if status != "all":
            q = q.where(D.c.status == status)
        if due_before:
            q = q.where(D.c.due_at < _when(due_before, tz))
        if cycle_id:
            q = q.where(D.c.cycle_id == cycle_id)
        q = q.limit(limit)
        with c.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(q).mappings()]
    if as_json:
        out: list[dict[str, Any]] = []
        for r in rows:
            item = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in r.items()}
            out.append(item)
        click.echo(json.dumps(out, indent=2))
        return
    table = Table(box=None)
    for col in ("due (local)", "kind", "stage", "cycle", "key", "status", "note"):
        table.add_column(col)
    for r in rows:
        due = r["due_at"].astimezone(tz)
        table.add_row(
            f"{due:%a %Y-%m-%d %H:%M}",
            r["kind"],
            r["stage"],
            r["cycle_id"],
            r["key"],
            r["status"],
            r["note"],
        )
    Console(width=200).print(table)
    click.echo(f"{len(rows)} deadline(s)", err=True)


@deadlines.command("sweep")
@click.option(
    "--dispatch/--no-dispatch", default=True, show_default=True, help="Then send the outbox."
)
def deadlines_sweep(dispatch: bool) -> None:
    """Apply every deadline due now, once (safe next to running replicas)."""
    with open_container() as c:
        sweeper = build_sweeper(c)
        result = sweeper.sweep()
        r = result.as_dict()
        click.echo(
            f"applied {r['applied']}: {r['fired']} fired, {r['skipped']} skipped, "
            f"{r['failed']} failed, {r['cancelled']} cancelled ({r['late']} late); "
            f"{r['messages']} message(s) written"
        )
        if dispatch:
            sent = build_dispatcher(c).dispatch_all()
            click.echo(f"outbox: {sent.sent} sent, {sent.retrying} to retry, {sent.dead} given up")
            for error in sorted(set(sent.errors))[:5]:
                click.echo(f"  {error}", err=True)
        nxt = sweeper.next_due()
        with c.engine.connect() as conn:
            counts = outbox_counts(conn)
    if nxt is not None:
        click.echo(f"next due: {nxt.astimezone(ZoneInfo(c.settings.timezone)):%a %Y-%m-%d %H:%M}")
    if counts:
        click.echo("outbox: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))


@deadlines.command("feed")
@click.argument("person")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path))
def deadlines_feed(person: str, output: Path | None) -> None:
    """A person's deadlines (PERSON: their email address or id) as an ICS calendar feed."""
    with open_container() as c:
        data = c.usecases.handle(MyDeadlineFeed(), person_principal(c, person))
    if output is None:
        click.echo(data.decode(), nl=False)
    else:
        output.write_bytes(data)
        click.echo(f"wrote {output}", err=True)


@click.group()
def calendar() -> None:
    """School calendars: term dates and closures per network."""


@calendar.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--network", help="The network an ICS file is for (default: every network).")
def calendar_import(file: Path, network: str | None) -> None:
    """Load term dates and closures from a YAML or ICS FILE (replacing what was stored).

    Deadlines planned from now on count them; a running service reads them within a minute.
    """
    try:
        if file.suffix.lower() in (".ics", ".ical"):
            specs = {network: read_ics(file.read_bytes())}
        else:
            book = read_yaml(file.read_bytes())
            specs = dict(book.specs)
            if network is not None:
                raise click.BadParameter("a YAML file names its networks itself", "--network")
    except CalendarFileError as exc:
        raise click.ClickException(f"{file}: {exc}") from exc
    with open_container() as c:
        for net, spec in specs.items():
            try:
                c.usecases.handle(SetNetworkCalendar(net, spec.terms, spec.closures), OPERATOR)
            except (InvalidRecord, NotFound) as exc:
                raise click.ClickException(f"{file}: {net or 'default'}: {exc}") from exc
    for net, spec in specs.items():
        click.echo(
            f"{net or 'default'}: {len(spec.terms)} term(s), {len(spec.closures)} closure day(s)"
        )
