"""`engage-relay tenants add|list|show|test|remove|keygen|pause|resume`: onboard Engage tenants into the
encrypted store, and pause or resume any tenant served (its events are held, never lost).

Secrets (API key, FTP/SFTP password, the soft-identification shared key) are asked for with a hidden
prompt or read from a named environment variable, sealed with ENGAGE_RELAY_SECRET_KEY, and never
printed: `show` prints `***` and the key's fingerprint.
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import click

from workers.process import current_env

if TYPE_CHECKING:
    from pydantic import SecretStr, ValidationError

    from relay.tenant_store import RedisTenantStore
    from relay.tenants import Tenant

SECRET_SHOWN_AS = "***"  # noqa: S105 - the placeholder printed instead of a secret
# Written out so that `tenants add --help` imports nothing heavy; a test compares each with its owner:
CONTACT_KEYS = ("email", "mobile_phone", "member_number", "social_security_number", "external_id")
TRANSPORTS = ("none", "local", "ftp", "ftps", "sftp")  # fallback.config.Transport
CONTACTS_FALLBACKS = ("bulk", "xml")  # fallback.config.ContactsFallback
BREAKER_MODES = ("hold", "fallback")  # fallback.config.BreakerMode
DEFAULT_RATE_BUDGET_PER_S = 40.0  # relay.tenants.DEFAULT_RATE_BUDGET_PER_S


def _store(*, need_key: bool) -> RedisTenantStore:
    """The encrypted store; a missing or wrong ENGAGE_RELAY_SECRET_KEY is one line (workers.cli)."""
    from relay.tenant_store import SECRET_KEY_ENV, RedisTenantStore, SecretBox

    box: SecretBox | None = None
    if need_key or current_env().environ.get(SECRET_KEY_ENV):
        box = SecretBox.from_env(current_env().environ)
    return RedisTenantStore(current_env().redis_client(), box)


def _pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        code, sep, target = value.partition("=")
        if not sep or not code or not target:
            raise click.BadParameter(f"{value!r}: write {what} as KEY=VALUE")
        pairs[code] = target
    return pairs


def _secret(value: str | None, env_var: str | None, prompt: str | None) -> SecretStr | None:
    from pydantic import SecretStr

    if value is not None and env_var is not None:
        raise click.UsageError("give the secret or the name of its environment variable, not both")
    if env_var is not None:
        found = current_env().environ.get(env_var)
        if not found:
            raise click.UsageError(f"environment variable {env_var} is not set")
        return SecretStr(found)
    if value is None and prompt is not None:
        value = click.prompt(prompt, hide_input=True)
    return None if value is None else SecretStr(value)


@click.group(name="tenants")
def command() -> None:
    """Add, list, show, test, remove, pause and resume Engage tenants (secrets encrypted in Redis)."""


@command.command()
def keygen() -> None:
    """Print a new key for ENGAGE_RELAY_SECRET_KEY (keep it in a secret manager, not in a file)."""
    from relay.tenant_store import new_secret_key

    click.echo(new_secret_key())


@command.command()
@click.argument("name")
@click.option("--base-url", required=True, help="https://<tenant>.voyado.com (http:// only for a simulator).")
@click.option("--api-key", default=None, help="The API key (asked with a hidden prompt when omitted).")
@click.option("--api-key-env", default=None, metavar="VAR", help="Read the API key from this variable.")
@click.option("--source", default=None, help="Engage source for new contacts (default ECOM).")
@click.option("--store", default=None, help="Default storeExternalId.")
@click.option("--store-map", multiple=True, metavar="CODE=ID", help="Shop store code to storeExternalId.")
@click.option("--contact-key", type=click.Choice(CONTACT_KEYS), default=None)
@click.option("--group-currency", default=None, help="ISO currency of the group (default SEK).")
@click.option("--exchange-rate", multiple=True, metavar="CUR=RATE", help="Rate to the group currency.")
@click.option("--include-freight/--no-include-freight", default=None)
@click.option("--rate-budget", type=float, default=DEFAULT_RATE_BUDGET_PER_S, show_default=True)
@click.option("--fallback-transport", type=click.Choice(TRANSPORTS), default=None)
@click.option("--fallback-host", default=None)
@click.option("--fallback-port", type=int, default=None)
@click.option("--fallback-username", default=None)
@click.option("--fallback-password-prompt", is_flag=True, help="Ask for the FTP/SFTP password (hidden).")
@click.option("--fallback-password-env", default=None, metavar="VAR", help="Read the password from VAR.")
@click.option("--fallback-private-key-path", default=None)
@click.option("--fallback-remote-dir", default=None)
@click.option("--fallback-local-dir", default=None)
@click.option("--contacts-via", type=click.Choice(CONTACTS_FALLBACKS), default=None)
@click.option("--on-breaker-open", type=click.Choice(BREAKER_MODES), default=None)
@click.option(
    "--soft-id-key-prompt", is_flag=True, help="Ask for Voyado's eclub shared key (hidden; 32 characters)."
)
@click.option("--soft-id-key-env", default=None, metavar="VAR", help="Read the eclub shared key from VAR.")
@click.option(
    "--soft-id-max-age", type=float, default=None, help="Seconds an eclub link identifies (default 14 days)."
)
@click.option("--replace", is_flag=True, help="Overwrite a stored tenant of the same name.")
def add(
    name: str,
    base_url: str,
    api_key: str | None,
    api_key_env: str | None,
    source: str | None,
    store: str | None,
    store_map: tuple[str, ...],
    contact_key: str | None,
    group_currency: str | None,
    exchange_rate: tuple[str, ...],
    include_freight: bool | None,
    rate_budget: float,
    fallback_transport: str | None,
    fallback_host: str | None,
    fallback_port: int | None,
    fallback_username: str | None,
    fallback_password_prompt: bool,
    fallback_password_env: str | None,
    fallback_private_key_path: str | None,
    fallback_remote_dir: str | None,
    fallback_local_dir: str | None,
    contacts_via: str | None,
    on_breaker_open: str | None,
    soft_id_key_prompt: bool,
    soft_id_key_env: str | None,
    soft_id_max_age: float | None,
    replace: bool,
) -> None:
    """Add (or with --replace, update) tenant NAME; its secrets are encrypted before they reach Redis."""
    from pydantic import SecretStr, ValidationError

    from engage.transport import key_fingerprint
    from mappers.policy import TenantPolicy
    from relay.tenants import Tenant

    store_ = _store(need_key=True)
    key = _secret(api_key, api_key_env, None if api_key_env else "Engage API key")
    password = _secret(None, fallback_password_env, "FTP/SFTP password" if fallback_password_prompt else None)
    soft_id_key = _secret(None, soft_id_key_env, "eclub shared key" if soft_id_key_prompt else None)
    soft_id: dict[str, Any] = {"soft_id_key": soft_id_key} if soft_id_key is not None else {}
    if soft_id_max_age is not None:
        soft_id["soft_id_max_age_s"] = soft_id_max_age
    policy: dict[str, Any] = {
        k: v
        for k, v in {
            "source": source,
            "default_store": store,
            "contact_key": contact_key,
            "group_currency": group_currency,
            "include_freight": include_freight,
        }.items()
        if v is not None
    }
    if store_map:
        policy["store_map"] = _pairs(store_map, "--store-map")
    if exchange_rate:
        try:
            policy["exchange_rates"] = {c: Decimal(r) for c, r in _pairs(exchange_rate, "rates").items()}
        except InvalidOperation:
            raise click.BadParameter("an exchange rate must be a decimal number") from None
    fallback: dict[str, Any] = {
        k: v
        for k, v in {
            "transport": fallback_transport,
            "host": fallback_host,
            "port": fallback_port,
            "username": fallback_username,
            "password": password,
            "private_key_path": fallback_private_key_path,
            "remote_dir": fallback_remote_dir,
            "local_dir": fallback_local_dir,
            "contacts_via": contacts_via,
            "on_breaker_open": on_breaker_open,
        }.items()
        if v is not None
    }
    fallback.setdefault("local_dir", f".var/outbox/{name}")
    try:
        tenant = Tenant(
            name=name,
            base_url=base_url,
            api_key=key or SecretStr(""),
            rate_budget_per_s=rate_budget,
            policy=TenantPolicy(**policy),
            fallback=fallback,  # validated into FallbackSettings
            **soft_id,
        )
    except ValidationError as exc:
        raise click.ClickException(_plain_errors(exc)) from None
    if not tenant.api_key.get_secret_value():
        raise click.ClickException("the API key is empty")
    store_.put(tenant, replace=replace)  # a name already taken is one line (workers.cli)
    click.echo(
        f"{'updated' if replace else 'added'} tenant {name} "
        f"(key {key_fingerprint(tenant.api_key.get_secret_value())}); check it with "
        f"`engage-relay tenants test {name}`; restart workers and ingest to serve it"
    )


def _plain_errors(exc: ValidationError) -> str:
    lines = ["the tenant is not valid:"]
    for error in exc.errors(include_input=False, include_url=False):
        where = ".".join(str(p) for p in error["loc"]) or "tenant"
        lines.append(f"  {where}: {error['msg']}")
    return "\n".join(lines)


@command.command(name="list")
def list_() -> None:
    """List stored tenants (no secrets; needs no key)."""
    store_ = _store(need_key=False)
    names = store_.names()
    if not names:
        click.echo("no stored tenants (add one with `engage-relay tenants add NAME --base-url ...`)")
        return
    for name in names:
        config = store_.config(name)
        click.echo(
            f"{name}\t{config.get('base_url')}\t"
            f"{config.get('rate_budget_per_s')}/s\tfallback={config.get('fallback', {}).get('transport')}"
        )


def describe(tenant: Tenant) -> dict[str, Any]:
    """The tenant as shown to an operator: every setting, each secret as `***` plus the key fingerprint."""
    from engage.transport import key_fingerprint

    shown = tenant.model_dump(
        mode="json", exclude={"api_key": True, "soft_id_key": True, "fallback": {"password"}}
    )
    shown["api_key"] = SECRET_SHOWN_AS
    shown["soft_id_key"] = SECRET_SHOWN_AS if tenant.soft_id_key is not None else None
    shown["api_key_fingerprint"] = key_fingerprint(tenant.api_key.get_secret_value())
    shown["fallback"]["password"] = SECRET_SHOWN_AS if tenant.fallback.password is not None else None
    return shown


@command.command()
@click.argument("name")
def show(name: str) -> None:
    """Show one stored tenant; secrets as `***` (decrypting them proves the key is right)."""
    tenant = _store(need_key=True).get(name)  # missing, or a wrong key: one line (workers.cli)
    click.echo(json.dumps(describe(tenant), indent=2, sort_keys=True))


@command.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def test(name: str, as_json: bool) -> None:
    """Check NAME's Engage with cheap calls (the key, then its stores) and its file server (a probe file
    written and removed), and say what is wrong, if anything."""
    from relay.connection_check import check_connection
    from relay.file_check import check_file_server
    from relay.tenants_file import TenantConfigError
    from workers.logs import configure_logging

    configure_logging(logging.WARNING, json=False)  # the verdict says it all; the client's lines go quiet
    try:
        registry = current_env().registry()
        tenant = registry.get(name)
    except (TenantConfigError, LookupError) as exc:
        raise click.ClickException(str(exc)) from None
    result = check_connection(tenant)
    files = check_file_server(tenant.fallback)
    if as_json:
        click.echo(json.dumps({"tenant": name, **result.__dict__, "file_server": files.__dict__}))
    else:
        click.echo(f"{name}: {'OK' if result.ok else 'FAILED'}: {result.message}")
        click.echo(f"{name}: files: {'OK' if files.ok else 'FAILED'}: {files.message}")
    if not (result.ok and files.ok):
        raise SystemExit(1)


@command.command()
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def remove(name: str, yes: bool) -> None:
    """Remove a stored tenant (its events then fail as `unknown tenant` after workers restart)."""
    store_ = _store(need_key=False)
    if name not in store_:
        raise click.ClickException(f"no stored tenant {name!r}")
    if not yes:
        click.confirm(f"remove tenant {name} and its stored secrets?", abort=True)
    store_.remove(name)
    click.echo(f"removed tenant {name}")


def _operator() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a container without a passwd entry
        return "an operator"


@command.command()
@click.argument("name")
@click.option("--by", default=None, help="Who pauses it, shown by `status` (default: your login name).")
def pause(name: str, by: str | None) -> None:
    """Hold NAME's events: they are admitted and kept, none is sent to Engage until `resume`."""
    from relay.control import RedisTenantControl

    client = current_env().redis_client()
    try:
        if name not in current_env().registry(client):
            raise click.ClickException(f"no tenant {name!r} is served here (see `engage-relay status`)")
        RedisTenantControl(client).pause(name, by or _operator())
    finally:
        client.close()
    click.echo(
        f"paused tenant {name}: its events are kept in the schedule and none is sent to Engage; "
        f"`engage-relay tenants resume {name}` lets them drain"
    )


@command.command()
@click.argument("name")
def resume(name: str) -> None:
    """Let a paused tenant's events flow again; those held drain through the backlog lane."""
    from relay.control import RedisTenantControl

    client = current_env().redis_client()
    try:
        resumed = RedisTenantControl(client).resume(name)
    finally:
        client.close()
    if resumed:
        click.echo(f"resumed tenant {name}: its held events drain through the backlog lane")
    else:
        click.echo(f"tenant {name} was not paused")
