"""Operator switches per tenant: pause and resume (events are held, never lost), shared by every process.

A paused tenant's events are admitted and kept in the schedule; the mover sends none of them and a worker
that meets one parks it again. Resuming lets them drain through the backlog lane. One Redis key per paused
tenant (``engage:paused:{tenant}``, holding who paused it and when), or an in-process twin.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, cast

import redis
from redis.client import Pipeline

from relay.keys import PAUSED_PREFIX


class TenantControl(Protocol):
    def pause(self, tenant: str, by: str) -> None: ...

    def resume(self, tenant: str) -> bool: ...

    def paused(self, tenant: str) -> bool: ...

    def paused_many(self, tenants: Sequence[str]) -> dict[str, bool]:
        """`paused` for every one of these tenants (in Redis: in one round trip)."""
        ...

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

    def paused_many(self, tenants: Sequence[str]) -> dict[str, bool]:
        pipe = self._redis.pipeline(transaction=False)
        read = self.paused_many_in(pipe, tenants)
        return read(pipe.execute())

    def paused_many_in(
        self, pipe: Pipeline, tenants: Sequence[str]
    ) -> Callable[[Sequence[Any]], dict[str, bool]]:
        """Queue the reads of `paused_many` on a pipeline (one EXISTS per tenant, as `paused` asks), so a
        caller can read other stores in the same round trip (`Runtime.gates`); the answer comes from the
        pipeline's replies."""
        first = len(pipe)
        for tenant in tenants:
            pipe.exists(f"{PAUSED_PREFIX}:{tenant}")

        def answer(replies: Sequence[Any]) -> dict[str, bool]:
            found = replies[first : first + len(tenants)]
            return {tenant: bool(n) for tenant, n in zip(tenants, found, strict=True)}

        return answer

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

    def paused_many(self, tenants: Sequence[str]) -> dict[str, bool]:
        with self._guard:
            return {tenant: tenant in self._paused for tenant in tenants}

    def paused_by(self, tenant: str) -> tuple[str, datetime] | None:
        with self._guard:
            return self._paused.get(tenant)
