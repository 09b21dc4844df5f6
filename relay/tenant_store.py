"""The encrypted tenant store: tenants added by `engage-relay tenants add`, kept in Redis for every worker.

Each tenant is one Redis hash `engage:tenant:<name>` with two fields, and its name is in the set
`engage:tenants`:

- `config`: the tenant without its secrets, as JSON (readable, so `list` needs no key);
- `secrets`: a Fernet token (AES-128-CBC with HMAC-SHA256) holding the API key, the fallback password and
  key passphrase, and the soft-identification shared key;
- `secrets_changed`: when each secret last changed (JSON of name -> ISO time; the console shows it, never
  the secret).

Every change (put, remove) adds one to the counter `engage:tenants:generation`, which every process
serving the tenants watches (`relay.tenant_reload`): a changed or new tenant is served within seconds.

The Fernet key comes from ENGAGE_RELAY_SECRET_KEY (`engage-relay tenants keygen` prints a new one).
Nothing secret is ever stored or shown in plain text; a wrong key gives a `SecretKeyError` saying so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
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
SECRETS_CHANGED_FIELD = "secrets_changed"
GENERATION_SUFFIX = "s:generation"  # engage:tenants:generation for the default prefix


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


FALLBACK_SECRETS = {"password": "fallback_password", "private_key_passphrase": "fallback_key_passphrase"}
"""The fallback's secret fields and their names among the sealed secrets."""


def split_secrets(tenant: Tenant) -> tuple[dict[str, Any], dict[str, str]]:
    """The tenant as (config without secrets, secrets)."""
    config = tenant.model_dump(
        mode="json", exclude={"api_key": True, "soft_id_key": True, "fallback": set(FALLBACK_SECRETS)}
    )
    secrets = {"api_key": tenant.api_key.get_secret_value()}
    if tenant.soft_id_key is not None:
        secrets["soft_id_key"] = tenant.soft_id_key.get_secret_value()
    for field, sealed in FALLBACK_SECRETS.items():
        value = getattr(tenant.fallback, field)
        if value is not None:
            secrets[sealed] = value.get_secret_value()
    return config, secrets


def join_secrets(config: Mapping[str, Any], secrets: Mapping[str, str]) -> Tenant:
    fallback = dict(config.get("fallback") or {})
    for field, sealed in FALLBACK_SECRETS.items():
        if sealed in secrets:
            fallback[field] = SecretStr(secrets[sealed])
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
        self.generation_key = f"{prefix}{GENERATION_SUFFIX}"

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
        changed = self._changed_secrets(tenant.name, secrets, box)
        pipe = self._redis.pipeline()
        pipe.delete(self._key(tenant.name))
        pipe.hset(
            self._key(tenant.name),
            mapping={
                CONFIG_FIELD: json.dumps(config, sort_keys=True),
                SECRETS_FIELD: box.seal(secrets),
                SECRETS_CHANGED_FIELD: json.dumps(changed, sort_keys=True),
            },
        )
        pipe.sadd(self._index, tenant.name)
        pipe.incr(self.generation_key)
        pipe.execute()

    def _changed_secrets(self, name: str, secrets: Mapping[str, str], box: SecretBox) -> dict[str, str]:
        """When each secret last changed: now for a new or different one, as before for the same one."""
        fields = cast(dict[bytes, bytes], self._redis.hgetall(self._key(name)))
        before: dict[str, str] = {}
        token = fields.get(SECRETS_FIELD.encode())
        if token is not None:
            try:
                before = box.open(token, owner=name)
            except SecretKeyError:
                before = {}  # sealed with another key: every secret counts as changed now
        stamps = cast(dict[str, str], json.loads(fields.get(SECRETS_CHANGED_FIELD.encode(), b"{}")))
        now = datetime.now(UTC).isoformat()
        return {k: (stamps[k] if before.get(k) == v and k in stamps else now) for k, v in secrets.items()}

    def secrets_changed(self, name: str) -> dict[str, datetime]:
        """When each stored secret (api_key, fallback_password, ...) last changed; needs no key."""
        raw = cast(bytes | None, self._redis.hget(self._key(name), SECRETS_CHANGED_FIELD))
        stamps = cast(dict[str, str], json.loads(raw)) if raw else {}
        return {k: datetime.fromisoformat(v) for k, v in stamps.items()}

    def generation(self) -> int:
        """The change counter: it moves on every put and remove."""
        raw = cast(bytes | None, self._redis.get(self.generation_key))
        return int(raw) if raw else 0

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
        pipe.incr(self.generation_key)
        deleted, _, _ = pipe.execute()
        return bool(deleted)

    def __repr__(self) -> str:
        return f"RedisTenantStore(prefix={self._prefix!r}, box={self._box!r})"
