"""The `peerloop` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import structlog
from sqlalchemy.engine import make_url

from adapters.db import create_db_engine
from adapters.migrate import (
    SchemaOutOfDate,
    current_revision,
    ensure_sqlite_directory,
    head_revision,
    upgrade,
)
from adapters.template_files import read_file
from engine.diagram import mermaid
from engine.errors import InvalidTemplate
from service.archive import write_archive
from service.bootstrap import Container, build
from service.cli_data import OPERATOR, open_container
from service.logging import configure_logging
from service.settings import Settings
from service.usecases.core import Peerloop, verify_history
from service.usecases.exports import Export
from service.usecases.messages import ApplyRetention, ExportPerson, ExportSchool

if TYPE_CHECKING:
    import uvicorn

    from service.demo import DemoCredentials, DemoSummary

__all__ = ["http_server", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Peerloop: peer-review cycles for school partnerships."""


def _settings() -> Settings:
    return Settings.from_env()


@main.command()
@click.option("--host", help="Address to listen on (PEERLOOP_HOST, default 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (PEERLOOP_PORT, default 8000).")
def serve(host: str | None, port: int | None) -> None:
    """Start the Peerloop HTTP service."""
    from service.app import create_app

    settings = _settings()
    configure_logging(settings.log_format)
    log = structlog.get_logger("peerloop")
    try:
        container = build(settings)
    except SchemaOutOfDate as exc:
        raise click.ClickException(str(exc)) from exc
    # Exactly one of several processes starting together loads the demo, and only into a
    # database holding no partnership yet; only that one prints the demo's credentials.
    loaded = _load_demo(container) if settings.loads_demo else None
    from service.jobs import start_jobs

    # Deadlines fire from this process; several replicas may each run them (rows are claimed).
    container.scheduler = start_jobs(container) if settings.jobs else None
    app = create_app(container)
    host, port = host or settings.host, port or settings.port
    if loaded is not None:
        _print_demo_tokens(loaded, f"http://{host}:{port}")
    elif settings.loads_demo:
        click.echo(
            "The database already holds a partnership: the demo is not loaded and no demo "
            "credentials are printed (`peerloop tokens create PERSON` makes a token).",
            err=True,
        )
    log.info("peerloop.start", url=f"http://{host}:{port}", database=_safe_url(settings.url))
    http_server(app, host, port).run()


def http_server(
    app: Any,
    host: str,
    port: int,
    *,
    header_timeout: float | None = None,
    body_idle_timeout: float | None = None,
) -> uvicorn.Server:
    """The HTTP server `serve` runs: uvicorn with our logging, which names no `server` in its
    answers (nothing to tell a scanner what Peerloop runs on), and drops a client too slow
    sending its request (`service.edge`; its timeouts unless given)."""
    import uvicorn

    from service.edge import BODY_IDLE_TIMEOUT, HEADER_TIMEOUT, timed_h11

    protocol = timed_h11(
        HEADER_TIMEOUT if header_timeout is None else header_timeout,
        BODY_IDLE_TIMEOUT if body_idle_timeout is None else body_idle_timeout,
    )
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        server_header=False,
        http=protocol,
    )
    return uvicorn.Server(config)


def _print_demo_tokens(credentials: DemoCredentials, url: str) -> None:
    """Tokens for one demo person per role, and their password, printed once by the process
    that loaded the demo (only their hashes are kept)."""
    lines = [
        f"  {role:<22} {person.name:<18} {person.email:<34} {secret}"
        for role, (person, secret) in credentials.tokens.items()
    ]
    click.echo(f"\nPeerloop demo: open {url}/app in a browser", err=True)
    password = credentials.password
    click.echo(f"Sign in as any of these people with the password {password}", err=True)
    click.echo(f"(API reference: {url}/reference). Their API tokens, valid 7 days, for", err=True)
    click.echo("`Authorization: Bearer TOKEN`:", err=True)
    click.echo("\n".join(lines) + "\n", err=True)


def _load_demo(container: Container) -> DemoCredentials | None:
    """Load the demo, with its credentials, into an empty database, as one transaction
    (`Container.load_once`); None when the database already holds people, schools or
    networks."""
    from service.demo import DEMO_STEPS, demo_credentials, load_demo

    def load(app: Peerloop) -> tuple[DemoSummary, DemoCredentials]:
        with click.progressbar(
            length=DEMO_STEPS, label="Loading the demo partnership", file=sys.stderr
        ) as bar:
            summary = load_demo(app, app.clock.now(), lambda _: bar.update(1))
        return summary, demo_credentials(app, app.clock.now())

    loaded = container.load_once(load)
    if loaded is None:
        return None
    summary, credentials = loaded
    stages = sorted(set(summary.cycles.values()))
    click.echo(
        f"Demo loaded: {summary.networks} networks, {summary.schools} schools, "
        f"{summary.people} people, {len(summary.cycles)} cycles in stages {', '.join(stages)}",
        err=True,
    )
    return credentials


@main.group()
def demo() -> None:
    """The demo partnership."""


@demo.command("load")
def demo_load() -> None:
    """Load the demo partnership into an empty database, and print its credentials."""
    with open_container() as container:
        credentials = _load_demo(container)
        if credentials is None:
            raise click.ClickException(
                "the database already holds people, schools or networks; the demo needs an "
                "empty one"
            )
        _print_demo_tokens(credentials, container.settings.base_url)


def _safe_url(url: str) -> str:
    """The database URL without its password, for logs."""
    return make_url(url).render_as_string(hide_password=True)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Upgrade the database schema to the newest version (run once before starting replicas)."""
    settings = _settings()
    engine = create_db_engine(settings.url)
    try:
        ensure_sqlite_directory(engine)  # a first run: the data directory may not exist yet
        before = current_revision(engine)
        upgrade(engine)
    finally:
        engine.dispose()
    click.echo(f"database {_safe_url(settings.url)}: {before or 'empty'} -> {head_revision()}")


@main.group()
def audit() -> None:
    """Check the audit history."""


@audit.command("verify")
def audit_verify() -> None:
    """Check every cycle's hash-chained history; exit 1 and say where if anything was altered."""
    with open_container() as container, container.uow(readonly=True) as uow:
        ids = uow.history.cycle_ids()
        problems = verify_history(uow, ids)
    for p in problems:
        click.echo(str(p))
    if problems:
        click.echo(f"{len(problems)} problem(s) in the history", err=True)
        sys.exit(1)
    click.echo(f"history intact: {len(ids)} cycle(s) checked")


@main.group()
def export() -> None:
    """Export data (data protection)."""


_OUTPUT = click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to a file instead of standard output: a .zip holds the files too.",
)


@export.command("school")
@click.argument("school_id")
@_OUTPUT
def export_school_cmd(school_id: str, output: Path | None) -> None:
    """Everything held about one school, as JSON (or, to a .zip, with its files)."""
    with open_container() as container:
        found = container.usecases.handle(ExportSchool(school_id), OPERATOR)
    _write_export(found, output)


@export.command("person")
@click.argument("person_id")
@_OUTPUT
def export_person_cmd(person_id: str, output: Path | None) -> None:
    """Everything held about one person (a subject access request), as JSON or a .zip."""
    with open_container() as container:
        found = container.usecases.handle(ExportPerson(person_id), OPERATOR)
    _write_export(found, output)


def _write_export(found: Export, output: Path | None) -> None:
    if output is not None and output.suffix.lower() == ".zip":
        with output.open("wb") as out:
            write_archive(found, out)
        click.echo(f"wrote {output} ({len(found.files)} file(s))", err=True)
        return
    text = json.dumps(found.data, indent=2, ensure_ascii=False)
    if output is None:
        click.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


@main.command("retention")
@click.option("--apply", "apply_", is_flag=True, help="Erase them (without it: only say).")
def retention_cmd(apply_: bool) -> None:
    """The evidence kept past its time after its cycle closed (the template's rule, else
    PEERLOOP_RETAIN_EVIDENCE_YEARS): listed, or with --apply erased and recorded in history."""
    with open_container() as container:
        years = container.settings.retain_evidence_years
        report = container.usecases.handle(ApplyRetention(not apply_, years), OPERATOR)
    for item in report.due:
        what = "erased" if item in report.erased else ("would go" if report.dry_run else "kept")
        click.echo(
            f"{what:<9} {item.cycle_id} {item.evidence_id} {item.title!r} "
            f"(closed {item.closed_at.date().isoformat()}, kept {item.years} year(s))"
        )
    for item, why in report.failed:
        click.echo(f"failed    {item.cycle_id} {item.evidence_id}: {why}", err=True)
    verb = "would go" if report.dry_run else "erased"
    count = len(report.due) if report.dry_run else len(report.erased)
    click.echo(f"{count} piece(s) of evidence {verb}", err=True)


@main.group()
def templates() -> None:
    """Check and draw workflow templates."""


@templates.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
def templates_validate(files: tuple[Path, ...]) -> None:
    """Validate template FILES (YAML or JSON); list every issue, one a line.

    Each issue is printed as `FILE:LINE: location: message`. Exits 0 when every file is valid,
    1 otherwise.
    """
    failed = False
    for path in files:
        if not path.is_file():
            click.echo(f"{path}: (file): no such file", err=True)
            failed = True
            continue
        t, issues = read_file(path).checked()
        if t is not None:
            click.echo(
                f"{path}: valid ({t.key}: {len(t.stages)} stages, "
                f"{len(t.transitions)} transitions, {len(t.framework.questions)} questions)"
            )
            continue
        failed = True
        for found in issues:
            line = f":{found.line}" if found.line else ""
            click.echo(f"{path}{line}: {found.issue.location}: {found.issue.message}")
        click.echo(f"{path}: {len(issues)} issue(s)", err=True)
    sys.exit(1 if failed else 0)


@templates.command("diagram")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--stage", help="Highlight this stage (a cycle's current stage).")
def templates_diagram(file: Path, stage: str | None) -> None:
    """Print a Mermaid state diagram of the template in FILE."""
    try:
        template = read_file(file).build()
    except InvalidTemplate as exc:
        raise click.ClickException(
            f"{file} is not a valid template; run `peerloop templates validate {file}`"
        ) from exc
    if stage is not None and not template.has_stage(stage):
        raise click.BadParameter(f"the template has no stage {stage!r}", param_hint="--stage")
    click.echo(mermaid(template, stage), nl=False)


def _register() -> None:
    from service.cli_data import cycles, networks, people, schools, templates_publish

    main.add_command(networks)
    main.add_command(schools)
    main.add_command(people)
    main.add_command(cycles)
    templates_publish(templates)


_register()


def _register_deadlines() -> None:
    from service.cli_deadlines import calendar, deadlines
    from service.cli_tokens import tokens

    main.add_command(deadlines)
    main.add_command(calendar)
    main.add_command(tokens)


_register_deadlines()


if __name__ == "__main__":
    main()
