"""One fallback sweeper at a time per tenant: redis-py's `Lock` (a lease), or a process-local twin for tests.

``with lock.held(tenant) as mine:`` ``mine`` is False when another sweeper holds the tenant. The lease
expires by itself (a crashed sweeper never blocks its tenant for longer than the lease) and is released
only by its holder: redis-py's `Lock` keeps a token and releases with a compare-and-delete script, which is
what this module used to re-implement. Tenants never wait on each other (`blocking=False`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from typing import Final, Protocol

import redis
import redis.exceptions

SWEEP_LOCK_PREFIX: Final = "engage:fallback:lock"
SWEEP_LOCK_LEASE_S: Final = 900.0
"""Longer than any sweep: at most 20,000 records a file and bounded upload and bulk-poll timeouts."""


def sweep_lock_key(tenant: str) -> str:
    return f"{SWEEP_LOCK_PREFIX}:{tenant}"


class SweepLock(Protocol):
    def held(self, tenant: str) -> AbstractContextManager[bool]:
        """Enter to try the tenant's lease: True when this caller now holds it (until the block ends)."""
        ...


class RedisSweepLock:
    def __init__(self, client: redis.Redis, *, lease_s: float = SWEEP_LOCK_LEASE_S) -> None:
        self._redis = client
        self._lease_s = lease_s

    @contextmanager
    def held(self, tenant: str) -> Iterator[bool]:
        lock = self._redis.lock(
            sweep_lock_key(tenant), timeout=self._lease_s, blocking=False, thread_local=False
        )
        if not lock.acquire():
            yield False
            return
        try:
            yield True
        finally:
            # LockNotOwnedError: the lease ran out while we swept and another sweeper has it now
            with suppress(redis.exceptions.LockError):
                lock.release()


class MemorySweepLock:
    """The in-process twin, with the same lease semantics."""

    def __init__(self, *, lease_s: float = SWEEP_LOCK_LEASE_S) -> None:
        self._guard = threading.Lock()
        self._held: dict[str, tuple[object, float]] = {}
        self._lease_s = lease_s

    @contextmanager
    def held(self, tenant: str) -> Iterator[bool]:
        token = object()
        now = time.monotonic()
        with self._guard:
            current = self._held.get(tenant)
            if current is not None and current[1] > now:
                mine = False
            else:
                self._held[tenant] = (token, now + self._lease_s)
                mine = True
        try:
            yield mine
        finally:
            if mine:
                with self._guard:
                    if self._held.get(tenant, (None, 0.0))[0] is token:
                        del self._held[tenant]
