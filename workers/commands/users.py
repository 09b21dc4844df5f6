"""`engage-relay users create|list|disable|enable`: the console's first accounts.

`create NAME --role operator` (every tenant) or `--role client-admin --tenant T` (one tenant). The password
is asked with a hidden prompt, or with --generate made up and shown once; only its argon2id hash is
stored. Nothing here ever prints a stored hash.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from workers.process import current_env

if TYPE_CHECKING:
    from console.users import RedisUserStore

ROLE_CHOICES = {"operator": "operator", "client-admin": "client_admin"}


def _store() -> RedisUserStore:
    from console.users import RedisUserStore

    return RedisUserStore(current_env().redis_client())


@click.group("users")
def command() -> None:
    """Console accounts: create operators and client admins, list them, disable or enable one."""


@command.command()
@click.argument("name")
@click.option("--role", type=click.Choice(list(ROLE_CHOICES)), required=True)
@click.option("--tenant", default=None, help="The client admin's tenant.")
@click.option("--generate", is_flag=True, help="Make up a password and show it once.")
def create(name: str, role: str, tenant: str | None, generate: bool) -> None:
    """Create console user NAME; the password is prompted (hidden) or, with --generate, shown once."""
    from console.users import UserError, generate_password, new_user

    if ROLE_CHOICES[role] == "client_admin" and tenant is not None:
        registry = current_env().registry()
        if tenant not in registry:
            raise click.ClickException(f"no tenant {tenant!r} is served (see `engage-relay status`)")
    password = (
        generate_password()
        if generate
        else click.prompt("Password", hide_input=True, confirmation_prompt=True)
    )
    try:
        user = new_user(name.strip().lower(), ROLE_CHOICES[role], password, tenant)  # type: ignore[arg-type]
        _store().add(user)
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    scope = f"tenant {user.tenant}" if user.tenant else "every tenant"
    click.echo(f"created {user.role.replace('_', ' ')} {user.name} ({scope})")
    if generate:
        click.echo(f"password (shown once, keep it now): {password}")


@command.command(name="list")
def list_() -> None:
    """List console users (never their password hashes)."""
    users = _store().all()
    if not users:
        click.echo("no console users (create one with `engage-relay users create NAME --role operator`)")
        return
    for user in users:
        state = "disabled" if user.disabled else "active"
        click.echo(
            f"{user.name}\t{user.role.replace('_', ' ')}\t{user.tenant or '*'}\t{state}\t"
            f"created {user.created_at:%Y-%m-%d}"
        )


def _set_disabled(name: str, disabled: bool) -> None:
    from console.users import UserError

    try:
        _store().set_disabled(name, disabled)
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{'disabled' if disabled else 'enabled'} user {name}")


@command.command()
@click.argument("name")
def disable(name: str) -> None:
    """Disable NAME: it cannot log in, and its open sessions end at once."""
    _set_disabled(name, True)


@command.command()
@click.argument("name")
def enable(name: str) -> None:
    """Enable NAME again."""
    _set_disabled(name, False)
