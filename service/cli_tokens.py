"""CLI commands for API tokens: create (the secret is shown once) and revoke."""

from __future__ import annotations

import json
from datetime import timedelta

import click

from service.auth import issue_token
from service.cli_data import open_container

__all__ = ["tokens"]


@click.group()
def tokens() -> None:
    """API tokens (bearer tokens; only a hash is stored)."""


@tokens.command("create")
@click.argument("person_id")
@click.option("--name", default="cli", show_default=True, help="What the token is for.")
@click.option(
    "--expires-in",
    "days",
    type=click.IntRange(min=1),
    default=90,
    show_default=True,
    help="Days until it expires.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def tokens_create(person_id: str, name: str, days: int, as_json: bool) -> None:
    """Create a token for PERSON_ID and print its secret (shown only this once)."""
    with open_container() as c, c.uow() as uow:
        now = c.app.clock.now()
        token, secret = issue_token(uow, person_id, name, now, now + timedelta(days=days))
        uow.commit()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "id": token.id,
                    "person_id": person_id,
                    "token": secret,
                    "expires_at": token.expires_at.isoformat() if token.expires_at else None,
                }
            )
        )
    else:
        click.echo(f"token {token.id} for {person_id}, expires {token.expires_at:%Y-%m-%d}:")
        click.echo(secret)


@tokens.command("revoke")
@click.argument("token_id")
def tokens_revoke(token_id: str) -> None:
    """Revoke a token at once."""
    with open_container() as c, c.uow() as uow:
        uow.credentials.revoke_token(token_id, c.app.clock.now())
        uow.commit()
    click.echo(f"revoked {token_id}")
