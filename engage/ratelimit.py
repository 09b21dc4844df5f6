"""One rate limiter per Engage API key, shared by every worker process and machine.

``RateLimiter`` is the role; ``RedisRateLimiter`` is the shared one, ``MemoryRateLimiter`` its twin; both
run the same algorithm (the Redis one in one Lua script, so one round trip decides).

The algorithm is a sliding-window log with reservations. Each key keeps the times of its last ``amount``
granted slots (sorted: every new slot is at or after the last one). A caller asks for the earliest slot
``t`` at or after now, after the last slot, and at least one window after the ``amount``-th last slot:
never more than the budget in any window, exactly, and first come first served. The caller then sleeps
until its slot, so a full budget costs one Redis call per request, not a storm of polls, and no waiter is
starved by a newcomer (which the earlier poll-and-retry limiter did under contention).

Lanes share the key's budget (DESIGN section 5):

- ``read`` (the checkout read path) and ``live`` (today's events) reserve within a short horizon;
- ``backlog`` (held events draining, replays) reserves only within ``BACKLOG_HORIZON_S``, and while a
  live or read call was made in the last window it is also held to ``1 - live_share`` of the budget
  (its own log), so a drain of thousands never delays checkout; alone, the backlog may use all of it.

A caller whose slot lies beyond its lane's horizon reserves nothing, sleeps until the queue shortens and
asks again; past ``max_wait_s`` it gets ``RateLimitWaitExceeded`` (nothing was sent). A 429 sets a
cooldown on the key (``penalize``) that every worker sees: no slot before it ends.

Budgets are requests per second; a budget below 1/s becomes one request per ``ceil(1/budget)`` seconds.
"""

from __future__ import annotations

import abc
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, Literal, Protocol

import redis

from engage.errors import RateLimitWaitExceeded

DEFAULT_BUDGET_PER_S: Final = 40.0
"""Voyado asks for under 50 requests/s per key and answers 429 above 200/s."""
DEFAULT_MAX_WAIT_S: Final = 30.0
"""Longest a call waits for a slot before giving up with ``RateLimitWaitExceeded``."""
DEFAULT_LIVE_SHARE: Final = 0.5
"""While live (or read) calls want the budget, the backlog lane gets at most ``1 - share`` of it."""
LIVE_HORIZON_S: Final = 0.25
"""Live calls reserve slots at most this far ahead; so a read waits behind at most this much live work."""
BACKLOG_HORIZON_S: Final = 0.05
"""Backlog calls reserve at most this far ahead: they never queue in front of live and read calls."""
MIN_RETRY_S: Final = 0.002
"""Shortest sleep before asking again for a slot beyond the horizon."""
DEFAULT_KEY_PREFIX: Final = "engage:rl"

Lane = Literal["read", "live", "backlog"]
LANES: Final[tuple[Lane, ...]] = ("read", "live", "backlog")


class RateLimiter(Protocol):
    """Hands out request slots per API key id (a fingerprint, never the key)."""

    def acquire(self, key_id: str, *, lane: Lane = "live", max_wait_s: float = DEFAULT_MAX_WAIT_S) -> float:
        """Block until this call's slot; return the seconds waited, or raise ``RateLimitWaitExceeded``."""
        ...

    def penalize(self, key_id: str, seconds: float) -> None:
        """After a 429: hand out no slot for this key, to anyone, for ``seconds``."""
        ...

    def budget_for(self, key_id: str) -> float:
        """Requests per second allowed for this key."""
        ...

    def cooldown_remaining_s(self, key_id: str) -> float:
        """Seconds this key still hands out no slot after a 429 (0 when none)."""
        ...

    def usage(self, key_id: str) -> BudgetUse:
        """The key's slots in its current window, by every lane and by the backlog (the console shows it)."""
        ...


@dataclass(frozen=True, slots=True)
class RateWindow:
    """A budget as a whole number of requests per window."""

    amount: int
    window_s: int

    @property
    def window_ms(self) -> int:
        return self.window_s * 1000


def rate_window(budget_per_s: float) -> RateWindow:
    """The window for a budget in requests per second."""
    if not budget_per_s > 0:
        raise ValueError("a rate budget must be positive")
    if budget_per_s >= 1:
        return RateWindow(math.floor(budget_per_s), 1)
    return RateWindow(1, math.ceil(1 / budget_per_s))


def backlog_amount(window: RateWindow, live_share: float) -> int:
    """Slots per window the backlog lane may take while live calls want the budget (at least one)."""
    return max(1, math.floor(window.amount * (1 - live_share)))


def horizon_s(lane: Lane, max_wait_s: float) -> float:
    if lane == "backlog":
        return min(BACKLOG_HORIZON_S, max_wait_s)
    if lane == "live":
        return min(LIVE_HORIZON_S, max_wait_s)
    return max_wait_s  # a read reserves anything within its deadline


@dataclass(frozen=True, slots=True)
class BudgetUse:
    """A key's slots in its current window: of `amount` per `window_s`, `used` by every lane, `backlog` of
    them by the backlog lane (the rest went to live events and checkout reads)."""

    amount: int
    window_s: int
    used: int
    backlog: int

    @property
    def live_and_reads(self) -> int:
        return max(0, self.used - self.backlog)


@dataclass(frozen=True, slots=True)
class Reservation:
    """The answer for one try: the slot is this call's (``reserved``) in ``wait_s``, or it lies that far
    beyond the lane's horizon and nothing was reserved."""

    reserved: bool
    wait_s: float


class _SlotLimiter(abc.ABC):
    """The waiting loop every backend shares; a backend supplies ``_try`` and the cooldown."""

    def __init__(
        self,
        default_budget_per_s: float,
        budgets: Mapping[str, float] | None,
        live_share: float,
        sleep: Callable[[float], None],
    ) -> None:
        if not 0 <= live_share < 1:
            raise ValueError("the live share must be at least 0 and below 1")
        rate_window(default_budget_per_s)  # refuse a bad budget at construction
        for budget in (budgets or {}).values():
            rate_window(budget)
        self._default_budget_per_s = default_budget_per_s
        self._budgets = dict(budgets or {})
        self._live_share = live_share
        self._sleep = sleep

    def budget_for(self, key_id: str) -> float:
        return self._budgets.get(key_id, self._default_budget_per_s)

    def set_budget(self, key_id: str, budget_per_s: float) -> None:
        """A tenant added or changed at run time."""
        rate_window(budget_per_s)
        self._budgets[key_id] = budget_per_s

    @abc.abstractmethod
    def cooldown_remaining_s(self, key_id: str) -> float: ...

    @abc.abstractmethod
    def _try(self, key_id: str, lane: Lane, window: RateWindow, horizon_s: float) -> Reservation: ...

    def acquire(self, key_id: str, *, lane: Lane = "live", max_wait_s: float = DEFAULT_MAX_WAIT_S) -> float:
        started = time.monotonic()
        window = rate_window(self.budget_for(key_id))
        slot_s = window.window_s / window.amount
        while True:
            waited_s = time.monotonic() - started
            remaining_s = max_wait_s - waited_s
            answer = self._try(key_id, lane, window, horizon_s(lane, max(remaining_s, 0.0)))
            if answer.reserved:
                if answer.wait_s > 0:
                    self._sleep(answer.wait_s)
                return time.monotonic() - started
            if waited_s + answer.wait_s > max_wait_s:
                raise RateLimitWaitExceeded(
                    f"rate limit wait {waited_s + answer.wait_s:.2f}s > {max_wait_s:.2f}s",
                    wait_s=waited_s + answer.wait_s,
                )
            # Come back when the queue has moved below this lane's horizon; a little jitter so that the
            # callers beyond the horizon do not all ask in the same millisecond.
            retry_s = answer.wait_s - horizon_s(lane, remaining_s)
            self._sleep(max(MIN_RETRY_S, retry_s) + random.uniform(0, slot_s))  # noqa: S311


# KEYS: 1 the key's slot log, 2 its backlog log, 3 its cooldown, 4 its live marker
# ARGV: lane, amount, window_ms, backlog amount, horizon_ms
_TRY_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lane, amount, window = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local function earliest(key, n, from)
  local slot = from
  local last = redis.call('LINDEX', key, -1)
  if last and tonumber(last) > slot then slot = tonumber(last) end
  if redis.call('LLEN', key) >= n then
    local nth = tonumber(redis.call('LINDEX', key, -n)) + window
    if nth > slot then slot = nth end
  end
  return slot
end
local slot = earliest(KEYS[1], amount, now)
local cooldown = redis.call('PTTL', KEYS[3])
if cooldown > 0 and now + cooldown > slot then slot = now + cooldown end
local capped = lane == 'backlog' and redis.call('EXISTS', KEYS[4]) == 1
if capped then slot = earliest(KEYS[2], tonumber(ARGV[4]), slot) end
local wait = slot - now
if wait > tonumber(ARGV[5]) then return {0, wait} end
local keep = window + wait + 1000
redis.call('RPUSH', KEYS[1], slot)
redis.call('LTRIM', KEYS[1], -amount, -1)
redis.call('PEXPIRE', KEYS[1], keep)
if lane == 'backlog' then
  redis.call('RPUSH', KEYS[2], slot)
  redis.call('LTRIM', KEYS[2], -amount, -1)
  redis.call('PEXPIRE', KEYS[2], keep)
else
  redis.call('SET', KEYS[4], '1', 'PX', window)
end
return {1, wait}
"""

# Extend a cooldown, never shorten it: a later, shorter penalty must not cut an earlier, longer one.
_EXTEND_COOLDOWN_LUA = """
local ttl = redis.call('PTTL', KEYS[1])
if ttl < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return ttl
"""


class RedisRateLimiter(_SlotLimiter):
    """Shared by every process and machine that talks to the same Redis (Redis's clock decides)."""

    def __init__(
        self,
        redis_client: redis.Redis,
        default_budget_per_s: float = DEFAULT_BUDGET_PER_S,
        budgets: Mapping[str, float] | None = None,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        *,
        live_share: float = DEFAULT_LIVE_SHARE,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(default_budget_per_s, budgets, live_share, sleep)
        self._redis = redis_client
        self._key_prefix = key_prefix
        self._try_script = redis_client.register_script(_TRY_LUA)
        self._extend_cooldown = redis_client.register_script(_EXTEND_COOLDOWN_LUA)

    def _keys(self, key_id: str) -> list[str]:
        base = f"{self._key_prefix}:{key_id}"
        return [f"{base}:slots", f"{base}:backlog", self._cooldown_key(key_id), f"{base}:live"]

    def _cooldown_key(self, key_id: str) -> str:
        return f"{self._key_prefix}:cooldown:{key_id}"

    def _try(self, key_id: str, lane: Lane, window: RateWindow, horizon_s: float) -> Reservation:
        args = [
            lane,
            window.amount,
            window.window_ms,
            backlog_amount(window, self._live_share),
            math.floor(horizon_s * 1000),
        ]
        reserved, wait_ms = self._try_script(keys=self._keys(key_id), args=args)
        return Reservation(bool(reserved), int(wait_ms) / 1000.0)

    def cooldown_remaining_s(self, key_id: str) -> float:
        ttl_ms: int = self._redis.pttl(self._cooldown_key(key_id))  # type: ignore[assignment]  # sync client
        return ttl_ms / 1000.0 if ttl_ms > 0 else 0.0

    def penalize(self, key_id: str, seconds: float) -> None:
        ms = math.ceil(seconds * 1000)
        if ms > 0:
            self._extend_cooldown(keys=[self._cooldown_key(key_id)], args=[ms])

    def usage(self, key_id: str) -> BudgetUse:
        """The slots granted in the current window, all lanes and the backlog's; a read-only look."""
        window = rate_window(self.budget_for(key_id))
        slots_key, backlog_key = self._keys(key_id)[:2]
        pipe = self._redis.pipeline()
        pipe.time()
        pipe.lrange(slots_key, 0, -1)
        pipe.lrange(backlog_key, 0, -1)
        (seconds, micros), slots, backlog = pipe.execute()
        since = int(seconds) * 1000 + int(micros) // 1000 - window.window_ms

        def recent(log: list[bytes]) -> int:
            return sum(1 for slot in log if int(slot) >= since)

        return BudgetUse(window.amount, window.window_s, recent(slots), recent(backlog))

    def __repr__(self) -> str:
        budget = self._default_budget_per_s
        return f"RedisRateLimiter(prefix={self._key_prefix!r}, default_budget_per_s={budget})"


@dataclass
class _KeySlots:
    slots: deque[float]
    backlog: deque[float]
    live_until: float = 0.0
    cooldown_until: float = 0.0


class MemoryRateLimiter(_SlotLimiter):
    """The in-process twin: the same algorithm, shared only by the threads holding this instance."""

    def __init__(
        self,
        default_budget_per_s: float = DEFAULT_BUDGET_PER_S,
        budgets: Mapping[str, float] | None = None,
        *,
        live_share: float = DEFAULT_LIVE_SHARE,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(default_budget_per_s, budgets, live_share, sleep)
        self._lock = threading.Lock()
        self._keys: dict[str, _KeySlots] = {}

    def _state(self, key_id: str) -> _KeySlots:
        return self._keys.setdefault(key_id, _KeySlots(deque(), deque()))

    def _try(self, key_id: str, lane: Lane, window: RateWindow, horizon_s: float) -> Reservation:
        now = time.monotonic()
        with self._lock:
            state = self._state(key_id)
            slot = _earliest(state.slots, window.amount, window.window_s, max(now, state.cooldown_until))
            capped = lane == "backlog" and state.live_until > now
            amount_b = backlog_amount(window, self._live_share)
            if capped:
                slot = _earliest(state.backlog, amount_b, window.window_s, slot)
            wait = slot - now
            if wait > horizon_s:
                return Reservation(False, wait)
            _push(state.slots, slot, window.amount)
            if lane == "backlog":
                _push(state.backlog, slot, window.amount)
            else:
                state.live_until = now + window.window_s
            return Reservation(True, wait)

    def cooldown_remaining_s(self, key_id: str) -> float:
        with self._lock:
            until = self._state(key_id).cooldown_until
        return max(0.0, until - time.monotonic())

    def penalize(self, key_id: str, seconds: float) -> None:
        with self._lock:
            state = self._state(key_id)
            state.cooldown_until = max(state.cooldown_until, time.monotonic() + seconds)

    def usage(self, key_id: str) -> BudgetUse:
        window = rate_window(self.budget_for(key_id))
        since = time.monotonic() - window.window_s
        with self._lock:
            state = self._state(key_id)
            used = sum(1 for slot in state.slots if slot >= since)
            backlog = sum(1 for slot in state.backlog if slot >= since)
        return BudgetUse(window.amount, window.window_s, used, backlog)

    def __repr__(self) -> str:
        return f"MemoryRateLimiter(default_budget_per_s={self._default_budget_per_s})"


def _earliest(log: deque[float], amount: int, window_s: float, start: float) -> float:
    slot = start
    if log and log[-1] > slot:
        slot = log[-1]
    if len(log) >= amount:
        slot = max(slot, log[-amount] + window_s)
    return slot


def _push(log: deque[float], slot: float, keep: int) -> None:
    log.append(slot)
    while len(log) > keep:
        log.popleft()
