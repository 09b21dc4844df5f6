"""API tokens: who may call the HTTP service, and which tenant they may see.

A token belongs to one tenant (a shop's systems see only their own tenant) or is operator-wide.
It reads ``er_<id>_<secret>``: ``er_`` marks it for secret scanners and operators, ``<id>`` is 16 hex
characters that name it in logs and listings, ``<secret>`` is 43 base62 characters (256 random bits).
The raw token is shown once, in the ``NewToken`` that ``create_*`` returns, and never again: stores keep
only its SHA-256 digest. A slow password hash (argon2, bcrypt) protects guessable passwords against
offline guessing; a 256-bit random secret cannot be guessed, so a fast hash is as safe, needs no salt
(every secret is unique), and keeps each request from paying tens of milliseconds of CPU, which on a
small machine would also hand an attacker a denial of service.

Public API:

- ``ApiTokens(store, *, clock=..., last_used_resolution_s=LAST_USED_RESOLUTION_S)``: ``create_for_tenant(name,
  tenant)`` and ``create_operator(name)`` -> ``NewToken``; ``list(*, tenant=None)`` -> ``list[TokenInfo]``
  (every token, or one tenant's, oldest first, revoked ones included); ``get(token_id)``;
  ``revoke(token_id) -> bool``; ``authenticate(raw_token) -> TokenScope | None``;
- ``TokenScope(token_id, tenant)``: what a request may see; ``tenant`` None is operator-wide;
  ``is_operator``, ``allows(tenant)``;
- ``TokenInfo``: id, name, tenant, created_at, last_used_at, revoked (no secret, no digest); ``scope``;
- ``NewToken``: ``raw`` (the only copy of the secret) and ``info``; its repr and str show only the id;
- ``TokenStore`` protocol (``add``, ``get``, ``all``, ``revoke``, ``touch`` over ``StoredToken``) with
  ``RedisTokenStore`` (keys under ``DEFAULT_KEY_PREFIX``) and ``MemoryTokenStore``; ``TokenIdTaken``;
- ``token_id_of(raw_token) -> str | None``: the id of a well-formed token, for logs, without checking it;
- constants ``TOKEN_PREFIX``, ``TOKEN_PATTERN``, ``LAST_USED_RESOLUTION_S``, ``MAX_NAME_CHARS``,
  ``DEFAULT_KEY_PREFIX``.

``authenticate`` compares digests with ``hmac.compare_digest`` and compares against a dummy digest when the id
is unknown, so timing tells nothing about the secret; it may tell whether an id exists, which is no secret
(ids are in logs). It costs one store read, and one write at most once per ``LAST_USED_RESOLUTION_S`` per
token to keep ``last_used_at``. Revocation takes effect at the next request: nothing is cached.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol, cast

import redis

TOKEN_PREFIX = "er_"  # noqa: S105  # a marker every token starts with, not a secret
TOKEN_ID_HEX_CHARS = 16
SECRET_CHARS = 43
"""43 base62 characters carry 256 random bits."""
TOKEN_PATTERN = rf"{TOKEN_PREFIX}[0-9a-f]{{{TOKEN_ID_HEX_CHARS}}}_[0-9A-Za-z]{{{SECRET_CHARS}}}"
"""What a raw token looks like, for secret scanners (a regular expression, unanchored)."""
LAST_USED_RESOLUTION_S = 60.0
"""``last_used_at`` is exact to this much: a token in constant use costs one store write a minute."""
MAX_NAME_CHARS = 100
DEFAULT_KEY_PREFIX = "engage:api:token"
"""One Redis hash per token at ``<prefix>:<id>``; the set of ids at ``<prefix>:ids``."""

_TOKEN_RE = re.compile(rf"{TOKEN_PREFIX}([0-9a-f]{{{TOKEN_ID_HEX_CHARS}}})_[0-9A-Za-z]{{{SECRET_CHARS}}}")
_SECRET_ALPHABET = string.digits + string.ascii_letters
_DUMMY_DIGEST = hashlib.sha256(b"no such token").hexdigest()


class TokenIdTaken(Exception):
    """A store already holds a token with this id (64 random bits: never in practice)."""


@dataclass(frozen=True)
class TokenScope:
    """What an authenticated request may see: one tenant, or every tenant (``tenant`` None)."""

    token_id: str
    tenant: str | None

    @property
    def is_operator(self) -> bool:
        return self.tenant is None

    def allows(self, tenant: str) -> bool:
        return self.tenant is None or self.tenant == tenant


@dataclass(frozen=True)
class TokenInfo:
    """A token as listings show it: never its secret or digest."""

    token_id: str
    name: str
    tenant: str | None
    created_at: datetime
    last_used_at: datetime | None = None
    revoked: bool = False

    @property
    def scope(self) -> TokenScope:
        return TokenScope(self.token_id, self.tenant)


@dataclass(frozen=True)
class StoredToken:
    """What a store keeps: the info and the SHA-256 hex digest of the raw token."""

    info: TokenInfo
    digest: str = field(repr=False)


@dataclass(frozen=True)
class NewToken:
    """A token just created: ``raw`` is the only copy of the secret, to show once and forget."""

    raw: str
    info: TokenInfo

    def __repr__(self) -> str:
        return f"NewToken(id={self.info.token_id!r})"

    __str__ = __repr__


class TokenStore(Protocol):
    def add(self, token: StoredToken) -> None:
        """Keep a new token; ``TokenIdTaken`` when its id is already kept."""
        ...

    def get(self, token_id: str) -> StoredToken | None: ...

    def all(self) -> list[StoredToken]: ...

    def revoke(self, token_id: str) -> bool:
        """Mark a token revoked; False when there is no such token."""
        ...

    def touch(self, token_id: str, at: datetime) -> None:
        """Record a use of an existing token (nothing for an unknown id)."""
        ...


def token_id_of(raw_token: str) -> str | None:
    """The id part of a well-formed raw token (not proof that it is valid), for logs."""
    match = _TOKEN_RE.fullmatch(raw_token)
    return match.group(1) if match else None


def digest_of(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ApiTokens:
    """Creates, lists, revokes and checks tokens over any ``TokenStore``."""

    def __init__(
        self,
        store: TokenStore,
        *,
        clock: Callable[[], datetime] = _utc_now,
        last_used_resolution_s: float = LAST_USED_RESOLUTION_S,
    ) -> None:
        self._store = store
        self._clock = clock
        self._last_used_resolution_s = last_used_resolution_s

    def create_for_tenant(self, name: str, tenant: str) -> NewToken:
        """A token that sees only ``tenant``."""
        if not tenant or not tenant.isprintable() or any(char.isspace() for char in tenant):
            raise ValueError("a tenant name is non-empty, printable and has no blanks")
        return self._create(name, tenant)

    def create_operator(self, name: str) -> NewToken:
        """A token that sees every tenant."""
        return self._create(name, None)

    def _create(self, name: str, tenant: str | None) -> NewToken:
        name = name.strip()
        if not name or len(name) > MAX_NAME_CHARS or not name.isprintable():
            raise ValueError(f"a token name is 1 to {MAX_NAME_CHARS} printable characters")
        token_id = secrets.token_hex(TOKEN_ID_HEX_CHARS // 2)
        secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(SECRET_CHARS))
        raw = f"{TOKEN_PREFIX}{token_id}_{secret}"
        info = TokenInfo(token_id=token_id, name=name, tenant=tenant, created_at=self._clock())
        self._store.add(StoredToken(info, digest_of(raw)))
        return NewToken(raw, info)

    def list(self, *, tenant: str | None = None) -> list[TokenInfo]:
        """Every token (``tenant`` None) or one tenant's, oldest first, revoked ones included."""
        infos = [stored.info for stored in self._store.all()]
        if tenant is not None:
            infos = [info for info in infos if info.tenant == tenant]
        return sorted(infos, key=lambda info: (info.created_at, info.token_id))

    def get(self, token_id: str) -> TokenInfo | None:
        stored = self._store.get(token_id)
        return stored.info if stored else None

    def revoke(self, token_id: str) -> bool:
        return self._store.revoke(token_id)

    def authenticate(self, raw_token: str) -> TokenScope | None:
        """The scope of a valid, unrevoked token; None for anything else."""
        token_id = token_id_of(raw_token)
        if token_id is None:
            return None
        stored = self._store.get(token_id)
        matches = hmac.compare_digest(digest_of(raw_token), stored.digest if stored else _DUMMY_DIGEST)
        if stored is None or not matches or stored.info.revoked:
            return None
        now = self._clock()
        last = stored.info.last_used_at
        if last is None or (now - last).total_seconds() >= self._last_used_resolution_s:
            self._store.touch(token_id, now)
        return stored.info.scope


# -- stores ------------------------------------------------------------------------------------------------

# HSET fields on a key only when the key exists, so a touch or revoke never creates half a token.
_HSET_IF_EXISTS_LUA = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""
# Add a token's hash and its id to the index, unless the id is taken.
_ADD_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('SADD', KEYS[2], ARGV[1])
return 1
"""


def _to_fields(token: StoredToken) -> dict[str, str]:
    info = token.info
    fields = {
        "name": info.name,
        "scope": "operator" if info.tenant is None else "tenant",
        "tenant": info.tenant or "",
        "created_at": info.created_at.isoformat(),
        "revoked": "1" if info.revoked else "0",
        "digest": token.digest,
    }
    if info.last_used_at is not None:
        fields["last_used_at"] = info.last_used_at.isoformat()
    return fields


def _from_fields(token_id: str, fields: Mapping[str, str]) -> StoredToken | None:
    try:
        last_used = fields.get("last_used_at")
        info = TokenInfo(
            token_id=token_id,
            name=fields["name"],
            tenant=None if fields["scope"] == "operator" else fields["tenant"],
            created_at=datetime.fromisoformat(fields["created_at"]),
            last_used_at=datetime.fromisoformat(last_used) if last_used else None,
            revoked=fields["revoked"] == "1",
        )
        return StoredToken(info, fields["digest"])
    except (KeyError, ValueError):  # not a token this module wrote
        return None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisTokenStore:
    """Shared by every API process: one hash per token, and a set of ids so listing needs no SCAN."""

    def __init__(self, redis_client: redis.Redis, prefix: str = DEFAULT_KEY_PREFIX) -> None:
        self._redis = redis_client
        self._prefix = prefix
        self._index_key = f"{prefix}:ids"
        self._add = redis_client.register_script(_ADD_LUA)
        self._hset_if_exists = redis_client.register_script(_HSET_IF_EXISTS_LUA)

    def redis_key(self, token_id: str) -> str:
        return f"{self._prefix}:{token_id}"

    def add(self, token: StoredToken) -> None:
        pairs = [part for item in _to_fields(token).items() for part in item]
        token_id = token.info.token_id
        if not self._add(keys=[self.redis_key(token_id), self._index_key], args=[token_id, *pairs]):
            raise TokenIdTaken(token_id)

    def get(self, token_id: str) -> StoredToken | None:
        raw = cast("dict[bytes | str, bytes | str]", self._redis.hgetall(self.redis_key(token_id)))
        return _from_fields(token_id, {_text(k): _text(v) for k, v in raw.items()}) if raw else None

    def all(self) -> list[StoredToken]:
        ids = sorted(
            _text(member) for member in cast("set[bytes | str]", self._redis.smembers(self._index_key))
        )
        pipe = self._redis.pipeline(transaction=False)
        for token_id in ids:
            pipe.hgetall(self.redis_key(token_id))
        found = []
        for token_id, raw in zip(ids, pipe.execute(), strict=True):
            stored = _from_fields(token_id, {_text(k): _text(v) for k, v in raw.items()}) if raw else None
            if stored is not None:
                found.append(stored)
        return found

    def revoke(self, token_id: str) -> bool:
        return bool(self._hset_if_exists(keys=[self.redis_key(token_id)], args=["revoked", "1"]))

    def touch(self, token_id: str, at: datetime) -> None:
        self._hset_if_exists(keys=[self.redis_key(token_id)], args=["last_used_at", at.isoformat()])

    def __repr__(self) -> str:
        return f"RedisTokenStore(prefix={self._prefix!r})"


class MemoryTokenStore:
    """The in-process twin (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, StoredToken] = {}

    def add(self, token: StoredToken) -> None:
        with self._lock:
            if token.info.token_id in self._tokens:
                raise TokenIdTaken(token.info.token_id)
            self._tokens[token.info.token_id] = token

    def get(self, token_id: str) -> StoredToken | None:
        with self._lock:
            return self._tokens.get(token_id)

    def all(self) -> list[StoredToken]:
        with self._lock:
            return list(self._tokens.values())

    def revoke(self, token_id: str) -> bool:
        with self._lock:
            stored = self._tokens.get(token_id)
            if stored is None:
                return False
            self._tokens[token_id] = replace(stored, info=replace(stored.info, revoked=True))
            return True

    def touch(self, token_id: str, at: datetime) -> None:
        with self._lock:
            stored = self._tokens.get(token_id)
            if stored is not None:
                self._tokens[token_id] = replace(stored, info=replace(stored.info, last_used_at=at))
