"""One fallback sweeper at a time per tenant: a lease in Redis (``SET NX PX``), or in process for tests.

The lease expires by itself (a crashed sweeper never blocks its tenant for longer than the lease) and is
released only by its holder (a token compared in a Lua script). Tenants never wait on each other.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final, Protocol

import redis

SWEEP_LOCK_PREFIX: Final = "engage:fallback:lock"
SWEEP_LOCK_LEASE_S: Final = 900.0
"""Longer than any sweep: at most 20,000 records a file and bounded upload and bulk-poll timeouts."""

_RELEASE: Final = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class SweepLock(Protocol):
    def acquire(self, tenant: str) -> str | None:
        """A token when this caller now holds the tenant's lease, None when another sweeper does."""
        ...

    def release(self, tenant: str, token: str) -> None: ...


@contextmanager
def held(lock: SweepLock, tenant: str) -> Iterator[bool]:
    """``with held(lock, tenant) as mine:`` ``mine`` is False when another sweeper holds the tenant."""
    token = lock.acquire(tenant)
    try:
        yield token is not None
    finally:
        if token is not None:
            lock.release(tenant, token)


class RedisSweepLock:
    def __init__(self, client: redis.Redis, *, lease_s: float = SWEEP_LOCK_LEASE_S) -> None:
        self._redis = client
        self._lease_ms = int(lease_s * 1000)

    def acquire(self, tenant: str) -> str | None:
        token = uuid.uuid4().hex
        ok = self._redis.set(f"{SWEEP_LOCK_PREFIX}:{tenant}", token, nx=True, px=self._lease_ms)
        return token if ok else None

    def release(self, tenant: str, token: str) -> None:
        self._redis.eval(_RELEASE, 1, f"{SWEEP_LOCK_PREFIX}:{tenant}", token)


class MemorySweepLock:
    """The in-process twin, with the same lease semantics."""

    def __init__(self, *, lease_s: float = SWEEP_LOCK_LEASE_S) -> None:
        self._guard = threading.Lock()
        self._held: dict[str, tuple[str, float]] = {}
        self._lease_s = lease_s

    def acquire(self, tenant: str) -> str | None:
        now = time.monotonic()
        with self._guard:
            current = self._held.get(tenant)
            if current is not None and current[1] > now:
                return None
            token = uuid.uuid4().hex
            self._held[tenant] = (token, now + self._lease_s)
            return token

    def release(self, tenant: str, token: str) -> None:
        with self._guard:
            current = self._held.get(tenant)
            if current is not None and current[0] == token:
                del self._held[tenant]
