"""Operator switches per tenant: pause and resume (events are held, never lost), shared by every process.

A paused tenant's events are admitted and kept in the schedule; the mover sends none of them and a worker
that meets one parks it again. Resuming lets them drain through the backlog lane. One Redis key per paused
tenant (``engage:paused:{tenant}``, holding who paused it and when), or an in-process twin.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Protocol, cast

import redis

from relay.keys import PAUSED_PREFIX


class TenantControl(Protocol):
    def pause(self, tenant: str, by: str) -> None: ...

    def resume(self, tenant: str) -> bool: ...

    def paused(self, tenant: str) -> bool: ...

    def paused_by(self, tenant: str) -> tuple[str, datetime] | None: ...


class RedisTenantControl:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def pause(self, tenant: str, by: str) -> None:
        value = json.dumps({"by": by, "at": datetime.now(UTC).isoformat()})
        self._redis.set(f"{PAUSED_PREFIX}:{tenant}", value)

    def resume(self, tenant: str) -> bool:
        return bool(self._redis.delete(f"{PAUSED_PREFIX}:{tenant}"))

    def paused(self, tenant: str) -> bool:
        return bool(self._redis.exists(f"{PAUSED_PREFIX}:{tenant}"))

    def paused_by(self, tenant: str) -> tuple[str, datetime] | None:
        raw = cast(bytes | None, self._redis.get(f"{PAUSED_PREFIX}:{tenant}"))
        if raw is None:
            return None
        value = json.loads(raw)
        return str(value["by"]), datetime.fromisoformat(value["at"])


class MemoryTenantControl:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._paused: dict[str, tuple[str, datetime]] = {}

    def pause(self, tenant: str, by: str) -> None:
        with self._guard:
            self._paused[tenant] = (by, datetime.now(UTC))

    def resume(self, tenant: str) -> bool:
        with self._guard:
            return self._paused.pop(tenant, None) is not None

    def paused(self, tenant: str) -> bool:
        with self._guard:
            return tenant in self._paused

    def paused_by(self, tenant: str) -> tuple[str, datetime] | None:
        with self._guard:
            return self._paused.get(tenant)
