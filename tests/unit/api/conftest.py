"""Twins: one test body runs against the in-memory implementation and against a real Redis."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis

from api.ratelimit import DEFAULT_REQUEST_BUDGET, MemoryRequestLimiter, RedisRequestLimiter, RequestBudget
from api.ratelimit import RequestLimiter as RequestLimiterRole
from api.tokens import MemoryTokenStore, RedisTokenStore, TokenStore

LimiterFactory = Callable[..., RequestLimiterRole]


@pytest.fixture(params=["memory", "redis"])
def token_store(request: pytest.FixtureRequest) -> TokenStore:
    if request.param == "memory":
        return MemoryTokenStore()
    return RedisTokenStore(request.getfixturevalue("redis_client"))


@pytest.fixture(params=["memory", "redis"])
def request_limiter_factory(request: pytest.FixtureRequest) -> LimiterFactory:
    """Builds limiters that share state the way their backend does (one per API process)."""
    if request.param == "memory":
        shared: dict[RequestBudget, MemoryRequestLimiter] = {}

        def memory(default_budget: RequestBudget = DEFAULT_REQUEST_BUDGET) -> RequestLimiterRole:
            # In-process twin: every "instance" is the same object, as the threads of one process share it.
            return shared.setdefault(default_budget, MemoryRequestLimiter(default_budget))

        return memory
    url: str = request.getfixturevalue("redis_url")

    def from_redis(default_budget: RequestBudget = DEFAULT_REQUEST_BUDGET) -> RequestLimiterRole:
        # A fresh client per instance, as a separate API process would have.
        own = redis.Redis.from_url(url)
        request.addfinalizer(own.close)
        return RedisRequestLimiter(own, default_budget)

    return from_redis
