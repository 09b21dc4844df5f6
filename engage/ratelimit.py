"""One rate limiter per Engage API key, shared by every worker process and machine.

``RateLimiter`` is the role; ``RedisRateLimiter`` is the shared one, ``MemoryRateLimiter`` its twin.
Both count with the ``limits`` library's moving window (exact: never more than the budget in any
window, counted atomically in a Lua script on Redis), and both keep a per-key cooldown that ``penalize``
sets after a 429, so one worker's 429 slows the key for all.

Budgets are requests per second. The moving window counts whole requests, so a budget is rounded down to
whole requests per second, and a budget below 1/s becomes one request per ``ceil(1/budget)`` seconds.
The window is not a queue: under heavy contention a caller may lose the race for a freed slot
and wait a further window, which is why ``DEFAULT_MAX_WAIT_S`` is many windows long.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Protocol

import redis
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter

from engage.errors import RateLimitWaitExceeded

DEFAULT_BUDGET_PER_S = 40.0
"""Voyado asks for under 50 requests/s per key and answers 429 above 200/s."""
DEFAULT_MAX_WAIT_S = 30.0
"""Longest a call waits for a slot before giving up with ``RateLimitWaitExceeded``."""
MIN_POLL_S = 0.002
"""Shortest sleep between two tries for a slot."""
MAX_HERD_JITTER_S = 1.0
"""Largest random delay added to a waiter's wake-up after repeated misses (waiters then take turns)."""
DEFAULT_KEY_PREFIX = "engage:rl"

# Extend a cooldown, never shorten it: a later, shorter penalty must not cut an earlier, longer one.
_EXTEND_COOLDOWN_LUA = """
local ttl = redis.call('PTTL', KEYS[1])
if ttl < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return ttl
"""


class RateLimiter(Protocol):
    """Hands out request slots per API key id (a fingerprint, never the key)."""

    def acquire(self, key_id: str, *, max_wait_s: float = DEFAULT_MAX_WAIT_S) -> float:
        """Block until a slot is free; return the seconds waited, or raise ``RateLimitWaitExceeded``."""
        ...

    def penalize(self, key_id: str, seconds: float) -> None:
        """After a 429: hand out no slot for this key, to anyone, for ``seconds``."""
        ...

    def budget_for(self, key_id: str) -> float:
        """Requests per second allowed for this key."""
        ...


def rate_item(budget_per_s: float) -> RateLimitItem:
    """The moving-window item for a budget in requests per second."""
    if budget_per_s <= 0:
        raise ValueError("a rate budget must be positive")
    if budget_per_s >= 1:
        return RateLimitItemPerSecond(math.floor(budget_per_s), 1)
    return RateLimitItemPerSecond(1, math.ceil(1 / budget_per_s))


class _MovingWindowLimiter:
    """The shared algorithm; subclasses supply the storage and the cooldown."""

    def __init__(
        self,
        storage: MemoryStorage | RedisStorage,
        default_budget_per_s: float,
        budgets: Mapping[str, float] | None,
        sleep: Callable[[float], None],
    ) -> None:
        self._window = MovingWindowRateLimiter(storage)
        self._default_budget_per_s = default_budget_per_s
        self._budgets = dict(budgets or {})
        self._items: dict[float, RateLimitItem] = {}
        self._sleep = sleep
        rate_item(default_budget_per_s)  # refuse a bad budget at construction
        for budget in self._budgets.values():
            rate_item(budget)

    def budget_for(self, key_id: str) -> float:
        return self._budgets.get(key_id, self._default_budget_per_s)

    def _item(self, key_id: str) -> RateLimitItem:
        budget = self.budget_for(key_id)
        item = self._items.get(budget)
        if item is None:
            item = self._items[budget] = rate_item(budget)
        return item

    def cooldown_remaining_s(self, key_id: str) -> float:
        raise NotImplementedError

    def acquire(self, key_id: str, *, max_wait_s: float = DEFAULT_MAX_WAIT_S) -> float:
        started = time.monotonic()
        item = self._item(key_id)
        slot_s = 1.0 / self.budget_for(key_id)
        misses = 0
        while True:
            wait_s = self.cooldown_remaining_s(key_id)
            if wait_s <= 0:
                if self._window.hit(item, key_id):
                    return time.monotonic() - started
                stats = self._window.get_window_stats(item, key_id)
                # Every waiter would wake at the same reset time and all but one miss again: spread
                # them out, more after each miss, so a full budget does not cost a storm of Redis calls.
                herd_jitter_s = random.uniform(0, min(MAX_HERD_JITTER_S, slot_s * 2**misses))  # noqa: S311
                misses += 1
                wait_s = max(MIN_POLL_S, stats.reset_time - time.time()) + herd_jitter_s
            waited_s = time.monotonic() - started
            if waited_s + wait_s > max_wait_s:
                raise RateLimitWaitExceeded(
                    f"rate limit wait {waited_s + wait_s:.2f}s > {max_wait_s:.2f}s", wait_s=waited_s + wait_s
                )
            self._sleep(wait_s)


class RedisRateLimiter(_MovingWindowLimiter):
    """Shared by every process and machine that talks to the same Redis."""

    def __init__(
        self,
        redis_client: redis.Redis,
        default_budget_per_s: float = DEFAULT_BUDGET_PER_S,
        budgets: Mapping[str, float] | None = None,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        storage = RedisStorage(
            "redis://", connection_pool=redis_client.connection_pool, key_prefix=f"{key_prefix}:window"
        )
        super().__init__(storage, default_budget_per_s, budgets, sleep)
        self._redis = redis_client
        self._key_prefix = key_prefix
        self._extend_cooldown = redis_client.register_script(_EXTEND_COOLDOWN_LUA)

    def _cooldown_key(self, key_id: str) -> str:
        return f"{self._key_prefix}:cooldown:{key_id}"

    def cooldown_remaining_s(self, key_id: str) -> float:
        ttl_ms: int = self._redis.pttl(self._cooldown_key(key_id))  # type: ignore[assignment]  # sync client
        return ttl_ms / 1000.0 if ttl_ms > 0 else 0.0

    def penalize(self, key_id: str, seconds: float) -> None:
        ms = math.ceil(seconds * 1000)
        if ms > 0:
            self._extend_cooldown(keys=[self._cooldown_key(key_id)], args=[ms])

    def __repr__(self) -> str:
        budget = self._default_budget_per_s
        return f"RedisRateLimiter(prefix={self._key_prefix!r}, default_budget_per_s={budget})"


class MemoryRateLimiter(_MovingWindowLimiter):
    """The in-process twin: the same algorithm, shared only by the threads holding this instance."""

    def __init__(
        self,
        default_budget_per_s: float = DEFAULT_BUDGET_PER_S,
        budgets: Mapping[str, float] | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(MemoryStorage(), default_budget_per_s, budgets, sleep)
        self._lock = threading.Lock()
        self._cooldown_until: dict[str, float] = {}

    def cooldown_remaining_s(self, key_id: str) -> float:
        with self._lock:
            until = self._cooldown_until.get(key_id, 0.0)
        return max(0.0, until - time.monotonic())

    def penalize(self, key_id: str, seconds: float) -> None:
        with self._lock:
            until = time.monotonic() + seconds
            if until > self._cooldown_until.get(key_id, 0.0):
                self._cooldown_until[key_id] = until

    def __repr__(self) -> str:
        return f"MemoryRateLimiter(default_budget_per_s={self._default_budget_per_s})"
