"""Per-token request budgets, so one shop's client cannot crowd out another's requests or Engage budget.

``RequestLimiter`` is the role: ``check(token_id)`` counts one request and answers at once, never waits,
with a ``RateDecision``: allowed, or refused with the seconds until a slot frees (for ``Retry-After``).
``RedisRequestLimiter`` is shared by every API process; ``MemoryRequestLimiter`` is its in-process twin.
Both count with the ``limits`` library's moving window, as ``engage.ratelimit`` does: never more than the
budget in any window, counted atomically on Redis, and a refused request does not use up a slot.

Public API: ``RequestLimiter``, ``RedisRequestLimiter(redis_client, default_budget=DEFAULT_REQUEST_BUDGET,
key_prefix=DEFAULT_KEY_PREFIX)``, ``MemoryRequestLimiter(default_budget=DEFAULT_REQUEST_BUDGET)``,
``RequestBudget(requests, per_s)``, ``RateDecision(allowed, retry_after_s)`` with ``retry_after_header``,
``DEFAULT_REQUEST_BUDGET``, ``DEFAULT_KEY_PREFIX``.
``check(token_id, budget=None)`` takes a per-token budget when the caller has one, else the default.
A Redis that cannot be reached raises ``redis.ConnectionError``: the caller answers 503 (the token store is
unreachable then too).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Protocol

import redis
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter

DEFAULT_KEY_PREFIX = "engage:api:rl"


@dataclass(frozen=True)
class RequestBudget:
    """At most ``requests`` in any ``per_s`` seconds."""

    requests: int
    per_s: int = 1

    def __post_init__(self) -> None:
        if self.requests < 1 or self.per_s < 1:
            raise ValueError("a request budget is at least one request in at least one second")

    def item(self) -> RateLimitItem:
        return RateLimitItemPerSecond(self.requests, self.per_s)


DEFAULT_REQUEST_BUDGET = RequestBudget(requests=20, per_s=1)
"""A till or a checkout makes a few calls per sale and a webhook platform can send arrays, so 20/s is
far above one client's need, yet half of a key's 40/s Engage budget: one runaway client leaves room."""


@dataclass(frozen=True)
class RateDecision:
    """Allowed, or refused with the seconds until the token's next slot frees."""

    allowed: bool
    retry_after_s: float = 0.0

    @property
    def retry_after_header(self) -> str:
        """The ``Retry-After`` value: whole seconds, at least 1."""
        return str(max(1, math.ceil(self.retry_after_s)))


ALLOWED = RateDecision(allowed=True)


class RequestLimiter(Protocol):
    def check(self, token_id: str, budget: RequestBudget | None = None) -> RateDecision:
        """Count one request for ``token_id`` if its budget has room; say when to come back if not."""
        ...


class _MovingWindowRequestLimiter:
    """The shared algorithm; subclasses supply the storage."""

    def __init__(self, storage: MemoryStorage | RedisStorage, default_budget: RequestBudget) -> None:
        self._window = MovingWindowRateLimiter(storage)
        self._default_budget = default_budget
        self._items: dict[RequestBudget, RateLimitItem] = {}

    def check(self, token_id: str, budget: RequestBudget | None = None) -> RateDecision:
        budget = budget or self._default_budget
        item = self._items.get(budget)
        if item is None:
            item = self._items[budget] = budget.item()
        if self._window.hit(item, token_id):
            return ALLOWED
        stats = self._window.get_window_stats(item, token_id)
        return RateDecision(allowed=False, retry_after_s=max(0.0, stats.reset_time - time.time()))


class RedisRequestLimiter(_MovingWindowRequestLimiter):
    """Shared by every API process on the same Redis; one Redis call for an allowed request."""

    def __init__(
        self,
        redis_client: redis.Redis,
        default_budget: RequestBudget = DEFAULT_REQUEST_BUDGET,
        key_prefix: str = DEFAULT_KEY_PREFIX,
    ) -> None:
        pool = redis_client.connection_pool
        storage = RedisStorage("redis://", connection_pool=pool, key_prefix=key_prefix)
        super().__init__(storage, default_budget)
        self._key_prefix = key_prefix

    def __repr__(self) -> str:
        return f"RedisRequestLimiter(prefix={self._key_prefix!r}, default_budget={self._default_budget})"


class MemoryRequestLimiter(_MovingWindowRequestLimiter):
    """The in-process twin: the same algorithm, shared by the threads holding this instance."""

    def __init__(self, default_budget: RequestBudget = DEFAULT_REQUEST_BUDGET) -> None:
        super().__init__(MemoryStorage(), default_budget)

    def __repr__(self) -> str:
        return f"MemoryRequestLimiter(default_budget={self._default_budget})"
