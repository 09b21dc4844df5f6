"""Console accounts: operators (every tenant) and client admins (one tenant), with argon2id password hashes.

A user is one Redis hash `engage:console:user:<name>` (its name in the set `engage:console:users`); the
password itself is never stored, only its argon2id hash (argon2-cffi's defaults, RFC 9106's low-memory
profile). `engage-relay users create|list|disable` makes the first accounts. An in-memory twin serves
the unit tests.
"""

from __future__ import annotations

import re
import secrets
import threading
from datetime import UTC, datetime
from typing import Literal, Protocol, cast

import redis
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

USER_PREFIX = "engage:console:user"
USER_INDEX_KEY = "engage:console:users"
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,62}$")
GENERATED_PASSWORD_BYTES = 15  # 20 characters of urlsafe base64
MIN_PASSWORD_CHARS = 10

Role = Literal["operator", "client_admin"]
ROLES: tuple[Role, ...] = ("operator", "client_admin")
ROLE_WORDS: dict[str, str] = {"operator": "operator (every tenant)", "client_admin": "client admin"}

_hasher = PasswordHasher()


class UserError(ValueError):
    """A user that exists already, does not exist, or is not valid; the message says which."""


class User(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    role: Role
    tenant: str | None = None  # a client admin's one tenant; None for an operator
    password_hash: str
    disabled: bool = False
    created_at: datetime

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not USERNAME_RE.match(value):
            raise ValueError("a user name is 2-63 characters: a-z, 0-9, '.', '_', '@' and '-'")
        return value

    @model_validator(mode="after")
    def _tenant_matches_role(self) -> User:
        if self.role == "client_admin" and not self.tenant:
            raise ValueError("a client admin belongs to one tenant: name it")
        if self.role == "operator" and self.tenant:
            raise ValueError("an operator sees every tenant: give no tenant")
        return self

    def may_see(self, tenant: str) -> bool:
        return self.role == "operator" or self.tenant == tenant

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise UserError(f"a password has at least {MIN_PASSWORD_CHARS} characters")
    return _hasher.hash(password)


def password_matches(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    return secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)


def new_user(name: str, role: Role, password: str, tenant: str | None = None) -> User:
    try:
        return User(
            name=name,
            role=role,
            tenant=tenant,
            password_hash=hash_password(password),
            created_at=datetime.now(UTC),
        )
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        if isinstance(exc, UserError):
            raise
        messages = [e["msg"].removeprefix("Value error, ") for e in getattr(exc, "errors", list)()]
        raise UserError("; ".join(messages) or str(exc)) from None


class UserStore(Protocol):
    def add(self, user: User) -> None: ...

    def get(self, name: str) -> User | None: ...

    def all(self) -> list[User]: ...

    def set_disabled(self, name: str, disabled: bool) -> User: ...


class RedisUserStore:
    def __init__(self, client: redis.Redis, prefix: str = USER_PREFIX, index: str = USER_INDEX_KEY) -> None:
        self._redis = client
        self._prefix = prefix
        self._index = index

    def _key(self, name: str) -> str:
        return f"{self._prefix}:{name}"

    def add(self, user: User) -> None:
        created = self._redis.hsetnx(self._key(user.name), "user", user.model_dump_json())
        if not created:
            raise UserError(f"user {user.name!r} exists already")
        self._redis.sadd(self._index, user.name)

    def get(self, name: str) -> User | None:
        raw = cast(bytes | None, self._redis.hget(self._key(name), "user"))
        return None if raw is None else User.model_validate_json(raw)

    def all(self) -> list[User]:
        names = sorted(n.decode() for n in cast(set[bytes], self._redis.smembers(self._index)))
        return [u for u in (self.get(n) for n in names) if u is not None]

    def set_disabled(self, name: str, disabled: bool) -> User:
        user = self.get(name)
        if user is None:
            raise UserError(f"no user {name!r}")
        changed = user.model_copy(update={"disabled": disabled})
        self._redis.hset(self._key(name), "user", changed.model_dump_json())
        return changed


class MemoryUserStore:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._users: dict[str, User] = {}

    def add(self, user: User) -> None:
        with self._guard:
            if user.name in self._users:
                raise UserError(f"user {user.name!r} exists already")
            self._users[user.name] = user

    def get(self, name: str) -> User | None:
        with self._guard:
            return self._users.get(name)

    def all(self) -> list[User]:
        with self._guard:
            return [self._users[n] for n in sorted(self._users)]

    def set_disabled(self, name: str, disabled: bool) -> User:
        with self._guard:
            user = self._users.get(name)
            if user is None:
                raise UserError(f"no user {name!r}")
            self._users[name] = user.model_copy(update={"disabled": disabled})
            return self._users[name]
