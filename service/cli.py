"""The `peerloop` command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from adapters.template_files import read_file
from engine.diagram import mermaid
from engine.errors import InvalidTemplate

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Peerloop: peer-review cycles for school partnerships."""


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
