"""Load the tenant registry from a TOML file, or build the `default` tenant from the environment.

A tenants file names each tenant under `[tenants.<name>]`. Secrets are never written in it:
`api_key_env` (and `fallback.password_env`) name the environment variables that hold them.

```toml
[tenants.acme-se]
base_url = "https://acme.voyado.com"
api_key_env = "ACME_SE_ENGAGE_API_KEY"
rate_budget_per_s = 40
soft_id_key_env = "ACME_SE_SOFT_ID_KEY"   # optional: Voyado's eclub shared key
soft_id_max_age_s = 1209600               # optional: how long an e-mail link identifies (14 days)

[tenants.acme-se.policy]
source = "ECOM"
default_store = "online-se"
store_map = { "store-001" = "001" }
contact_key = "email"
group_currency = "SEK"
exchange_rates = { EUR = "11.50" }
include_freight = false

[tenants.acme-se.fallback]
transport = "sftp"
host = "ftp.voyado.com"
port = 22
username = "acme"
password_env = "ACME_SE_SFTP_PASSWORD"
remote_dir = "/integration"
```
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from pydantic import SecretStr, ValidationError

from fallback.config import FallbackSettings
from mappers.policy import TenantPolicy
from relay.tenants import Tenant, TenantRegistry


class TenantConfigError(ValueError):
    """The tenants file (or the environment it points to) is wrong; the message says where."""


def _secret_from_env(env: Mapping[str, str], var: str, where: str) -> SecretStr:
    value = env.get(var)
    if not value:
        raise TenantConfigError(f"{where}: environment variable {var} is not set")
    return SecretStr(value)


def _tenant_from_table(name: str, table: Mapping[str, Any], env: Mapping[str, str]) -> Tenant:
    where = f"tenants.{name}"
    fields = dict(table)
    if "api_key" in fields:
        raise TenantConfigError(f"{where}: write api_key_env (the variable's name), never the key itself")
    key_var = fields.pop("api_key_env", None)
    if not isinstance(key_var, str):
        raise TenantConfigError(f"{where}: api_key_env is required")
    if "soft_id_key" in fields:
        raise TenantConfigError(f"{where}: write soft_id_key_env (the variable's name), never the key itself")
    soft_var = fields.pop("soft_id_key_env", None)
    if isinstance(soft_var, str):
        fields["soft_id_key"] = _secret_from_env(env, soft_var, where)
    fallback = dict(fields.pop("fallback", {}))
    for secret in ("password", "private_key_passphrase"):
        if secret in fallback:
            raise TenantConfigError(f"{where}.fallback: write {secret}_env, never the secret itself")
        var = fallback.pop(f"{secret}_env", None)
        if isinstance(var, str):
            fallback[secret] = _secret_from_env(env, var, f"{where}.fallback")
    try:
        return Tenant(
            name=name,
            api_key=_secret_from_env(env, key_var, where),
            policy=TenantPolicy(**fields.pop("policy", {})),
            fallback=FallbackSettings(**fallback),
            **fields,
        )
    except ValidationError as exc:
        raise TenantConfigError(f"{where}: {exc}") from None
    except TypeError as exc:
        raise TenantConfigError(f"{where}: {exc}") from None


def load_tenants_file(path: Path, env: Mapping[str, str]) -> TenantRegistry:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TenantConfigError(f"{path}: {exc}") from None
    tables = document.get("tenants")
    if not isinstance(tables, dict) or not tables:
        raise TenantConfigError(f"{path}: no [tenants.<name>] table")
    return TenantRegistry(_tenant_from_table(name, table, env) for name, table in tables.items())


@dataclass(frozen=True)
class TenantSources:
    """Where a process finds its tenants: the tenants file (if any), the encrypted store in Redis, and the
    `default` tenant to serve when neither names one (built by the process from its settings)."""

    tenants_file: Path | None
    default: Tenant
    redis_url: str


def load_registry(
    sources: TenantSources, env: Mapping[str, str], *, client: redis.Redis | None = None
) -> TenantRegistry:
    """The tenants file's tenants plus the encrypted store's (only when ENGAGE_RELAY_SECRET_KEY is set in
    `env`). Without a tenants file, `sources.default` (from the environment) is served too, beside the
    stored ones: adding the first stored tenant never drops it (a stored tenant named `default` takes its
    place). A name in both the file and the store is a configuration error. `env` holds the secrets the
    file names (`api_key_env`); the process entry point passes its environment."""
    from_file = list(load_tenants_file(sources.tenants_file, env)) if sources.tenants_file else []
    stored = _stored_tenants(sources.redis_url, env, client)
    clashes = sorted({t.name for t in from_file} & {t.name for t in stored})
    if clashes:
        raise TenantConfigError(
            f"tenant(s) {', '.join(clashes)} defined both in {sources.tenants_file} and in the encrypted "
            "tenant store: keep one (`engage-relay tenants remove NAME` or delete the file's table)"
        )
    if sources.tenants_file is None and sources.default.name not in {t.name for t in stored}:
        return TenantRegistry([sources.default, *stored])
    return TenantRegistry([*from_file, *stored])


def _stored_tenants(redis_url: str, env: Mapping[str, str], client: redis.Redis | None) -> list[Tenant]:
    from relay.tenant_store import SECRET_KEY_ENV, RedisTenantStore, SecretBox, SecretKeyError

    if not env.get(SECRET_KEY_ENV):
        return []
    try:
        box = SecretBox.from_env(env)
    except SecretKeyError as exc:
        raise TenantConfigError(str(exc)) from None
    own = client is None
    client = client or redis.Redis.from_url(redis_url)
    try:
        return RedisTenantStore(client, box).load_all()
    except (SecretKeyError, ValueError) as exc:
        raise TenantConfigError(f"encrypted tenant store: {exc}") from None
    except redis.RedisError as exc:
        raise TenantConfigError(
            f"encrypted tenant store: Redis (REDIS_URL) cannot be read ({type(exc).__name__})"
        ) from None
    finally:
        if own:
            client.close()
