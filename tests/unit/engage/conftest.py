"""Twins: one test body runs against the in-memory implementation and against a real Redis."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis

from engage.contact_store import ContactIdStore, MemoryContactIdStore, RedisContactIdStore
from engage.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter

LimiterFactory = Callable[..., RateLimiter]


@pytest.fixture(params=["memory", "redis"])
def limiter_factory(request: pytest.FixtureRequest) -> LimiterFactory:
    """Builds limiters that share state the way their backend does (one per 'process')."""
    if request.param == "memory":
        shared: dict[str, MemoryRateLimiter] = {}

        def memory(
            default_budget_per_s: float = 40.0, budgets: dict[str, float] | None = None
        ) -> RateLimiter:
            # In-process twin: every "instance" is the same object, as threads of one process share it.
            key = f"{default_budget_per_s}:{sorted((budgets or {}).items())}"
            if key not in shared:
                shared[key] = MemoryRateLimiter(default_budget_per_s, budgets)
            return shared[key]

        return memory
    url: str = request.getfixturevalue("redis_url")

    def from_redis(
        default_budget_per_s: float = 40.0, budgets: dict[str, float] | None = None
    ) -> RateLimiter:
        # A fresh client per instance, as a separate process would have.
        own = redis.Redis.from_url(url)
        request.addfinalizer(own.close)
        return RedisRateLimiter(own, default_budget_per_s, budgets)

    return from_redis


@pytest.fixture(params=["memory", "redis"])
def contact_store(request: pytest.FixtureRequest) -> ContactIdStore:
    if request.param == "memory":
        return MemoryContactIdStore()
    return RedisContactIdStore(request.getfixturevalue("redis_client"))
