"""`engage-relay tokens create|list|revoke`: the HTTP service's API tokens.

A token is for one tenant (`--tenant NAME`: that shop's systems see only it) or operator-wide
(`--operator`). `create` prints the token once; only its SHA-256 digest is kept, so it can never be shown
again (a lost token is revoked and replaced). `list` shows ids, names, tenants and last use, never a secret.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from workers.process import current_env

if TYPE_CHECKING:
    from api.tokens import ApiTokens


def _tokens() -> ApiTokens:
    from api.tokens import ApiTokens, RedisTokenStore

    return ApiTokens(RedisTokenStore(current_env().redis_client()))


@click.group(name="tokens")
def command() -> None:
    """API tokens for the HTTP service: create (shown once), list, revoke."""


@command.command()
@click.argument("name")
@click.option("--tenant", default=None, help="The tenant the token may see.")
@click.option("--operator", is_flag=True, help="A token that sees every tenant (operators only).")
def create(name: str, tenant: str | None, operator: bool) -> None:
    """Create a token called NAME and print it once (keep it in the shop system's secret store)."""
    if operator == (tenant is not None):
        raise click.UsageError("give --tenant NAME or --operator (one of them)")
    if tenant is not None and tenant not in current_env().registry():
        raise click.ClickException(f"no tenant {tenant!r} is served here (see `engage-relay status`)")
    tokens = _tokens()
    try:
        new = tokens.create_operator(name) if operator else tokens.create_for_tenant(name, tenant or "")
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    scope = "every tenant" if operator else f"tenant {tenant}"
    click.echo(f"created token {new.info.token_id} ({name}, {scope}); it is shown only now:", err=True)
    click.echo(new.raw)


@command.command(name="list")
@click.option("--tenant", default=None, help="Only this tenant's tokens.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
def list_(tenant: str | None, as_json: bool) -> None:
    """List tokens (ids, names, tenants, created, last used, revoked); never a secret."""
    infos = _tokens().list(tenant=tenant)
    if not infos:
        click.echo("no tokens (create one with `engage-relay tokens create NAME --tenant T`)")
        return
    for info in infos:
        row = {
            "id": info.token_id,
            "name": info.name,
            "tenant": info.tenant or "*operator*",
            "created_at": info.created_at.isoformat(timespec="seconds"),
            "last_used_at": info.last_used_at.isoformat(timespec="seconds") if info.last_used_at else None,
            "revoked": info.revoked,
        }
        if as_json:
            click.echo(json.dumps(row))
        else:
            state = "revoked" if info.revoked else "active"
            used = row["last_used_at"] or "never used"
            click.echo(f"{row['id']}\t{row['tenant']}\t{state}\t{row['created_at']}\t{used}\t{info.name}")


@command.command()
@click.argument("token_id")
def revoke(token_id: str) -> None:
    """Revoke a token by its id: its next request is refused (401)."""
    if not _tokens().revoke(token_id):
        raise click.ClickException(f"no token with id {token_id!r} (see `engage-relay tokens list`)")
    click.echo(f"revoked token {token_id}")
