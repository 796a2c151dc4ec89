"""The `peerloop` command line."""

from __future__ import annotations

import json
import secrets
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
from engine.errors import InvalidTemplate, NotFound
from service.bootstrap import Container, build
from service.cli_data import OPERATOR, open_container
from service.logging import configure_logging
from service.settings import Settings
from service.usecases.core import export_school, verify_history
from service.usecases.messages import (
    CreateToken,
    GetPerson,
    ListNetworks,
    ListTokens,
    RevokeToken,
    SetPassword,
)

if TYPE_CHECKING:
    import uvicorn

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
    if settings.demo and _is_empty(container):
        _load_demo(container)
    from service.jobs import start_jobs

    # Deadlines fire from this process; several replicas may each run them (rows are claimed).
    container.scheduler = start_jobs(container) if settings.jobs else None
    app = create_app(container)
    host, port = host or settings.host, port or settings.port
    if settings.demo:
        _print_demo_tokens(container, f"http://{host}:{port}")
    log.info("peerloop.start", url=f"http://{host}:{port}", database=_safe_url(settings.url))
    http_server(app, host, port).run()


def http_server(app: Any, host: str, port: int) -> uvicorn.Server:
    """The HTTP server `serve` runs: uvicorn with our logging, which names no `server` in its
    answers (nothing to tell a scanner what Peerloop runs on)."""
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, log_config=None, server_header=False)
    return uvicorn.Server(config)


def _print_demo_tokens(container: Container, url: str) -> None:
    """Fresh tokens for one demo person per role, printed once (only their hashes are kept).

    Earlier demo tokens are revoked, so only the ones on screen work.
    """
    from service.demo import DEMO_PEOPLE

    uc = container.usecases
    try:
        uc.handle(GetPerson(DEMO_PEOPLE["admin"]), OPERATOR)
    except NotFound:
        return  # not the demo database
    for old in uc.handle(ListTokens(), OPERATOR):
        if old.name == "demo" and old.revoked_at is None:
            uc.handle(RevokeToken(old.id), OPERATOR)
    lines = []
    # A fresh password each start, for every demo person: the demo is never left open to a
    # password anyone could guess.
    password = secrets.token_urlsafe(9)
    for role, person_id in DEMO_PEOPLE.items():
        person = uc.handle(GetPerson(person_id), OPERATOR)
        uc.handle(SetPassword(person_id, password), OPERATOR)
        _, secret = uc.handle(CreateToken(person_id, "demo", 7), OPERATOR)
        lines.append(f"  {role:<22} {person.name:<18} {person.email:<34} {secret}")
    click.echo(f"\nPeerloop demo: open {url}/app in a browser", err=True)
    click.echo(f"Sign in as any of these people with the password {password}", err=True)
    click.echo(f"(API reference: {url}/reference). Their API tokens, valid 7 days, for", err=True)
    click.echo("`Authorization: Bearer TOKEN`:", err=True)
    click.echo("\n".join(lines) + "\n", err=True)


def _is_empty(container: Container) -> bool:
    return not container.usecases.handle(ListNetworks(), OPERATOR)


def _load_demo(container: Container) -> None:
    from service.demo import DEMO_STEPS, load_demo

    with click.progressbar(
        length=DEMO_STEPS, label="Loading the demo partnership", file=sys.stderr
    ) as bar:
        summary = load_demo(container.app, container.app.clock.now(), lambda _: bar.update(1))
    stages = sorted(set(summary.cycles.values()))
    click.echo(
        f"Demo loaded: {summary.networks} networks, {summary.schools} schools, "
        f"{summary.people} people, {len(summary.cycles)} cycles in stages {', '.join(stages)}",
        err=True,
    )


@main.group()
def demo() -> None:
    """The demo partnership."""


@demo.command("load")
def demo_load() -> None:
    """Load the demo partnership into an empty database."""
    with open_container() as container:
        if not _is_empty(container):
            raise click.ClickException(
                "the database already holds data; the demo needs an empty one"
            )
        _load_demo(container)


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


@export.command("school")
@click.argument("school_id")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to a file instead of standard output.",
)
def export_school_cmd(school_id: str, output: Path | None) -> None:
    """Everything held about one school, as JSON."""
    with open_container() as container, container.uow(readonly=True) as uow:
        data = export_school(uow, school_id, container.app.clock.now())
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if output is None:
        click.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


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
        doc = read_file(path)
        issues = doc.validate()
        if not issues:
            t = doc.build()
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
