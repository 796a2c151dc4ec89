"""CLI commands for API tokens: create (the secret is shown once) and revoke."""

from __future__ import annotations

import json

import click

from service.cli_data import acting_as, as_option, open_container
from service.usecases.messages import CreateToken, RevokeToken

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
@as_option()
def tokens_create(person_id: str, name: str, days: int, as_json: bool, who: str | None) -> None:
    """Create a token for PERSON_ID and print its secret (shown only this once)."""
    with open_container() as c:
        token, secret = c.usecases.handle(CreateToken(person_id, name, days), acting_as(c, who))
    if as_json:
        click.echo(
            json.dumps(
                {
                    "id": token.id,
                    "person_id": person_id,
                    "secret": secret,
                    "expires_at": token.expires_at.isoformat() if token.expires_at else None,
                }
            )
        )
    else:
        click.echo(f"token {token.id} for {person_id}, expires {token.expires_at:%Y-%m-%d}:")
        click.echo(secret)


@tokens.command("revoke")
@click.argument("token_id")
@as_option("Act as this person (email address or id): an admin, or the token's owner.")
def tokens_revoke(token_id: str, who: str | None) -> None:
    """Revoke a token at once."""
    with open_container() as c:
        c.usecases.handle(RevokeToken(token_id), acting_as(c, who))
    click.echo(f"revoked {token_id}")
