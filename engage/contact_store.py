"""Remembered Engage contactIds, so that a known customer costs no lookup call.

``ContactIdStore`` maps (tenant, identifier kind, identifier value) to a ``ContactRef``:
either a known contactId, or "created by an XML file, GUID not yet known" (``pending_file``), which tells the
next identification to look the contact up and ``put`` the GUID.
``RedisContactIdStore`` is shared by all workers; ``MemoryContactIdStore`` is its twin.

Identifier values are personal data: they are normalized (emails trimmed and lower-cased, other kinds
trimmed) and hashed with SHA-256, so no email or phone number appears in a Redis key name.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Protocol

import redis

DEFAULT_KEY_PREFIX = "engage:cid"
CONTACT_ID_TTL_S = 90 * 24 * 3600
"""A remembered contactId is forgotten after this long, so merges and deletions in Engage heal themselves."""
PENDING_FILE_TTL_S = 7 * 24 * 3600
"""A "created by file" mark outlives any import delay but not forever."""

_PENDING_FILE_VALUE = "pending-file"
_ID_VALUE_PREFIX = "id:"


@dataclass(frozen=True)
class ContactRef:
    """What the store knows: a contactId, or that a file created the contact and its GUID is unknown."""

    contact_id: str | None
    pending_file: bool = False


class ContactIdStore(Protocol):
    def get(self, tenant: str, kind: str, value: str) -> ContactRef | None: ...

    def put(self, tenant: str, kind: str, value: str, contact_id: str) -> None: ...

    def remember(self, tenant: str, kind: str, value: str, contact_id: str) -> str | None:
        """Store `contact_id` under the identifier unless it already names a contact: None when stored
        (over nothing, or over a "created by file" mark), else the contactId it names, left as it is.
        One atomic step, so two contacts learning one identifier at once cannot both take it."""
        ...

    def mark_created_by_file(self, tenant: str, kind: str, value: str) -> None: ...

    def forget(self, tenant: str, kind: str, value: str) -> None: ...


def normalize_identifier(kind: str, value: str) -> str:
    """The form two spellings of one identifier share: emails ignore case and surrounding blanks."""
    stripped = value.strip()
    return stripped.casefold() if kind.casefold() == "email" else stripped


def identifier_digest(tenant: str, kind: str, value: str) -> str:
    """A SHA-256 hex digest of the normalized identifier (no personal data in key names)."""
    normalized = normalize_identifier(kind, value)
    return hashlib.sha256(f"{tenant}\x00{kind}\x00{normalized}".encode()).hexdigest()


def _decode(raw: str | None) -> ContactRef | None:
    if raw is None:
        return None
    if raw == _PENDING_FILE_VALUE:
        return ContactRef(contact_id=None, pending_file=True)
    if raw.startswith(_ID_VALUE_PREFIX):
        return ContactRef(contact_id=raw[len(_ID_VALUE_PREFIX) :])
    return None


# KEYS: the identifier's key. ARGV: the value to store, its TTL, the prefix of a value naming a contact.
# Returns the value already there when it names a contact (and leaves it), else stores and returns nil.
_REMEMBER_LUA = """
local raw = redis.call('GET', KEYS[1])
if raw and string.sub(raw, 1, #ARGV[3]) == ARGV[3] then return raw end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return false
"""


class RedisContactIdStore:
    """Shared by every worker; one Redis string per identifier, with a TTL."""

    def __init__(
        self,
        redis_client: redis.Redis,
        prefix: str = DEFAULT_KEY_PREFIX,
        *,
        ttl_s: int = CONTACT_ID_TTL_S,
        pending_ttl_s: int = PENDING_FILE_TTL_S,
    ) -> None:
        self._redis = redis_client
        self._remember = redis_client.register_script(_REMEMBER_LUA)
        self._prefix = prefix
        self._ttl_s = ttl_s
        self._pending_ttl_s = pending_ttl_s

    def redis_key(self, tenant: str, kind: str, value: str) -> str:
        return f"{self._prefix}:{tenant}:{kind}:{identifier_digest(tenant, kind, value)}"

    def get(self, tenant: str, kind: str, value: str) -> ContactRef | None:
        raw = self._redis.get(self.redis_key(tenant, kind, value))
        if isinstance(raw, bytes):
            raw = raw.decode()
        return _decode(raw if isinstance(raw, str) else None)

    def put(self, tenant: str, kind: str, value: str, contact_id: str) -> None:
        self._redis.set(self.redis_key(tenant, kind, value), _ID_VALUE_PREFIX + contact_id, ex=self._ttl_s)

    def remember(self, tenant: str, kind: str, value: str, contact_id: str) -> str | None:
        owner = self._remember(
            keys=[self.redis_key(tenant, kind, value)],
            args=[_ID_VALUE_PREFIX + contact_id, self._ttl_s, _ID_VALUE_PREFIX],
        )
        if owner is None:
            return None
        found = _decode(owner.decode() if isinstance(owner, bytes) else str(owner))
        return found.contact_id if found is not None else None

    def mark_created_by_file(self, tenant: str, kind: str, value: str) -> None:
        self._redis.set(self.redis_key(tenant, kind, value), _PENDING_FILE_VALUE, ex=self._pending_ttl_s)

    def forget(self, tenant: str, kind: str, value: str) -> None:
        self._redis.delete(self.redis_key(tenant, kind, value))

    def __repr__(self) -> str:
        return f"RedisContactIdStore(prefix={self._prefix!r})"


class MemoryContactIdStore:
    """The in-process twin (thread-safe), with the same TTLs."""

    def __init__(self, *, ttl_s: int = CONTACT_ID_TTL_S, pending_ttl_s: int = PENDING_FILE_TTL_S) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[str, float]] = {}
        self._ttl_s = ttl_s
        self._pending_ttl_s = pending_ttl_s

    def _raw_locked(self, key: str) -> str | None:
        """The entry's value unless it expired (then dropped); the caller holds the lock."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        raw, expires_at = entry
        if time.monotonic() >= expires_at:
            del self._entries[key]
            return None
        return raw

    def get(self, tenant: str, kind: str, value: str) -> ContactRef | None:
        with self._lock:
            raw = self._raw_locked(identifier_digest(tenant, kind, value))
        return _decode(raw)

    def _set(self, tenant: str, kind: str, value: str, raw: str, ttl_s: int) -> None:
        with self._lock:
            self._entries[identifier_digest(tenant, kind, value)] = (raw, time.monotonic() + ttl_s)

    def put(self, tenant: str, kind: str, value: str, contact_id: str) -> None:
        self._set(tenant, kind, value, _ID_VALUE_PREFIX + contact_id, self._ttl_s)

    def remember(self, tenant: str, kind: str, value: str, contact_id: str) -> str | None:
        key = identifier_digest(tenant, kind, value)
        with self._lock:
            found = _decode(self._raw_locked(key))
            if found is not None and found.contact_id:
                return found.contact_id
            self._entries[key] = (_ID_VALUE_PREFIX + contact_id, time.monotonic() + self._ttl_s)
        return None

    def mark_created_by_file(self, tenant: str, kind: str, value: str) -> None:
        self._set(tenant, kind, value, _PENDING_FILE_VALUE, self._pending_ttl_s)

    def forget(self, tenant: str, kind: str, value: str) -> None:
        with self._lock:
            self._entries.pop(identifier_digest(tenant, kind, value), None)
