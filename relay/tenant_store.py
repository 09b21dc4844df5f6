"""The encrypted tenant store: tenants added by `engage-relay tenants add`, kept in Redis for every worker.

Each tenant is one Redis hash `engage:tenant:<name>` with two fields, and its name is in the set
`engage:tenants`:

- `config`: the tenant without its secrets, as JSON (readable, so `list` needs no key);
- `secrets`: a Fernet token (AES-128-CBC with HMAC-SHA256) holding the API key, the fallback password and
  the soft-identification shared key.

The Fernet key comes from ENGAGE_RELAY_SECRET_KEY (`engage-relay tenants keygen` prints a new one).
Nothing secret is ever stored or shown in plain text; a wrong key gives a `SecretKeyError` saying so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

import redis
from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr, ValidationError

from engage.transport import key_fingerprint
from relay.keys import TENANT_KEY_PREFIX
from relay.tenants import Tenant

SECRET_KEY_ENV = "ENGAGE_RELAY_SECRET_KEY"  # noqa: S105 - the variable's name, not a secret
TENANT_INDEX_KEY = f"{TENANT_KEY_PREFIX}s"
CONFIG_FIELD = "config"
SECRETS_FIELD = "secrets"


class SecretKeyError(ValueError):
    """ENGAGE_RELAY_SECRET_KEY is missing, malformed, or not the key the secrets were stored with."""


class TenantStoreError(ValueError):
    """A stored tenant is missing, already exists, or cannot be read back; the message says which."""


def new_secret_key() -> str:
    """A fresh Fernet key (urlsafe base64 of 32 random bytes) for ENGAGE_RELAY_SECRET_KEY."""
    return Fernet.generate_key().decode()


class SecretBox:
    """Encrypts and decrypts a tenant's secrets with one Fernet key; its repr shows only a fingerprint."""

    def __init__(self, key: str) -> None:
        if not key:
            raise SecretKeyError(
                f"{SECRET_KEY_ENV} is not set: `engage-relay tenants keygen` prints a new key"
            )
        try:
            self._fernet = Fernet(key.encode())
        except (ValueError, TypeError):
            raise SecretKeyError(
                f"{SECRET_KEY_ENV} is not a valid key: it must be 32 bytes in urlsafe base64 "
                "(44 characters); `engage-relay tenants keygen` prints one"
            ) from None
        self.fingerprint = key_fingerprint(key)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SecretBox:
        return cls(env.get(SECRET_KEY_ENV, ""))

    def __repr__(self) -> str:
        return f"SecretBox(fingerprint={self.fingerprint!r})"

    def seal(self, secrets: Mapping[str, str]) -> bytes:
        return self._fernet.encrypt(json.dumps(dict(secrets)).encode())

    def open(self, token: bytes, *, owner: str) -> dict[str, str]:
        try:
            plain = self._fernet.decrypt(token)
        except InvalidToken:
            raise SecretKeyError(
                f"the secrets of tenant {owner!r} cannot be decrypted with {SECRET_KEY_ENV} "
                f"(key fingerprint {self.fingerprint}): the key is not the one they were stored with, "
                "or the stored value was altered"
            ) from None
        return cast(dict[str, str], json.loads(plain))


def split_secrets(tenant: Tenant) -> tuple[dict[str, Any], dict[str, str]]:
    """The tenant as (config without secrets, secrets)."""
    config = tenant.model_dump(
        mode="json", exclude={"api_key": True, "soft_id_key": True, "fallback": {"password"}}
    )
    secrets = {"api_key": tenant.api_key.get_secret_value()}
    if tenant.soft_id_key is not None:
        secrets["soft_id_key"] = tenant.soft_id_key.get_secret_value()
    if tenant.fallback.password is not None:
        secrets["fallback_password"] = tenant.fallback.password.get_secret_value()
    return config, secrets


def join_secrets(config: Mapping[str, Any], secrets: Mapping[str, str]) -> Tenant:
    fallback = dict(config.get("fallback") or {})
    if "fallback_password" in secrets:
        fallback["password"] = SecretStr(secrets["fallback_password"])
    extra: dict[str, Any] = {}
    if "soft_id_key" in secrets:
        extra["soft_id_key"] = SecretStr(secrets["soft_id_key"])
    return Tenant.model_validate(
        {**config, **extra, "api_key": SecretStr(secrets["api_key"]), "fallback": fallback}
    )


class RedisTenantStore:
    """Tenants in Redis, visible to every worker machine; secrets sealed with the `SecretBox`."""

    def __init__(self, client: redis.Redis, box: SecretBox | None, prefix: str = TENANT_KEY_PREFIX) -> None:
        self._redis = client
        self._box = box
        self._prefix = prefix
        self._index = f"{prefix}s"  # engage:tenants for the default prefix

    def _key(self, name: str) -> str:
        return f"{self._prefix}:{name}"

    def _need_box(self) -> SecretBox:
        if self._box is None:
            raise SecretKeyError(f"{SECRET_KEY_ENV} is not set: it is needed to read or write tenant secrets")
        return self._box

    def names(self) -> list[str]:
        return sorted(n.decode() for n in cast(set[bytes], self._redis.smembers(self._index)))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(self._redis.exists(self._key(name)))

    def put(self, tenant: Tenant, *, replace: bool = False) -> None:
        """Store a tenant; an existing one is refused unless `replace`."""
        box = self._need_box()
        if not replace and tenant.name in self:
            raise TenantStoreError(f"tenant {tenant.name!r} already exists (use --replace to overwrite it)")
        config, secrets = split_secrets(tenant)
        pipe = self._redis.pipeline()
        pipe.delete(self._key(tenant.name))
        pipe.hset(
            self._key(tenant.name),
            mapping={CONFIG_FIELD: json.dumps(config, sort_keys=True), SECRETS_FIELD: box.seal(secrets)},
        )
        pipe.sadd(self._index, tenant.name)
        pipe.execute()

    def config(self, name: str) -> dict[str, Any]:
        """The tenant's settings without secrets; needs no key."""
        raw = cast(bytes | None, self._redis.hget(self._key(name), CONFIG_FIELD))
        if raw is None:
            raise TenantStoreError(f"no stored tenant {name!r}")
        return cast(dict[str, Any], json.loads(raw))

    def get(self, name: str) -> Tenant:
        fields = cast(dict[bytes, bytes], self._redis.hgetall(self._key(name)))
        if CONFIG_FIELD.encode() not in fields or SECRETS_FIELD.encode() not in fields:
            raise TenantStoreError(f"no stored tenant {name!r}")
        secrets = self._need_box().open(fields[SECRETS_FIELD.encode()], owner=name)
        try:
            return join_secrets(json.loads(fields[CONFIG_FIELD.encode()]), secrets)
        except (ValidationError, KeyError, ValueError) as exc:
            raise TenantStoreError(f"stored tenant {name!r} is not valid: {exc}") from None

    def load_all(self) -> list[Tenant]:
        return [self.get(name) for name in self.names()]

    def remove(self, name: str) -> bool:
        pipe = self._redis.pipeline()
        pipe.delete(self._key(name))
        pipe.srem(self._index, name)
        deleted, _ = pipe.execute()
        return bool(deleted)

    def __repr__(self) -> str:
        return f"RedisTenantStore(prefix={self._prefix!r}, box={self._box!r})"
