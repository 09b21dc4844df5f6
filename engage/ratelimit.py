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
asks again; past ``max_wait_s`` it gets ``RateLimitWaitExceeded`` (nothing was sent).

A 429 (``penalize``) does two things every worker sees. It sets a short cooldown on the key: no slot before
it ends. And it lowers the key's rate below the budget, additive increase and multiplicative decrease as
TCP does: the rate drops to ``RATE_DECREASE`` of what it was (at most once a window, however many calls of
that window were refused), then climbs back by ``RATE_RECOVERY_SHARE_PER_S``
of the budget each second until it is the budget again. So a budget set above what Engage allows costs a
429 now and then instead of one in every window: the relay learns the limit and keeps just under it.

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
FLOAT_SLACK: Final = 1e-9  # 10 * (1 - 0.8) is 1.9999999999999996: floor it to 2, not 1
"""While live (or read) calls want the budget, the backlog lane gets at most ``1 - share`` of it."""
LIVE_HORIZON_S: Final = 0.25
"""Live calls reserve slots at most this far ahead; so a read waits behind at most this much live work."""
BACKLOG_HORIZON_S: Final = 0.05
"""Backlog calls reserve at most this far ahead: they never queue in front of live and read calls."""
MIN_RETRY_S: Final = 0.002
"""Shortest sleep before asking again for a slot beyond the horizon."""
DEFAULT_KEY_PREFIX: Final = "engage:rl"
RATE_DECREASE: Final = 0.9
"""After a 429 the key's rate drops to this share of what it was (40/s: 36, then 32.4 if 429s go on)."""
RATE_RECOVERY_SHARE_PER_S: Final = 0.01
"""... and climbs back by this share of the budget each second (40/s: from 36 to 40 in 10 s)."""
MIN_RATE_SHARE: Final = 0.1
"""A key's rate never drops below this share of its budget (nor below one call per window)."""

Lane = Literal["read", "live", "backlog"]
LANES: Final[tuple[Lane, ...]] = ("read", "live", "backlog")


class RateLimiter(Protocol):
    """Hands out request slots per API key id (a fingerprint, never the key)."""

    def acquire(self, key_id: str, *, lane: Lane = "live", max_wait_s: float = DEFAULT_MAX_WAIT_S) -> float:
        """Block until this call's slot; return the seconds waited, or raise ``RateLimitWaitExceeded``."""
        ...

    def penalize(self, key_id: str, seconds: float) -> None:
        """After a 429: hand out no slot for this key, to anyone, for ``seconds``, and lower its rate."""
        ...

    def budget_for(self, key_id: str) -> float:
        """Requests per second allowed for this key."""
        ...

    def cooldown_remaining_s(self, key_id: str) -> float:
        """Seconds this key still hands out no slot after a 429 (0 when none)."""
        ...

    def rate_now(self, key_id: str) -> int:
        """Slots per window the key hands out now: its budget's, or fewer while a 429 has lowered it."""
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
    return max(1, math.floor(window.amount * (1 - live_share) + FLOAT_SLACK))


def adapted_amount(window: RateWindow, rate: float, lowered_at_s: float, now_s: float) -> int:
    """Slots per window for a key whose rate a 429 lowered to ``rate`` at ``lowered_at_s``."""
    climbed = rate + max(0.0, now_s - lowered_at_s) * window.amount * RATE_RECOVERY_SHARE_PER_S
    return max(1, min(window.amount, math.floor(climbed + FLOAT_SLACK)))


def lowered_rate(window: RateWindow, amount_now: int) -> float:
    """The key's rate after a 429: a share of its rate now, never below a tenth of the budget."""
    return max(1.0, window.amount * MIN_RATE_SHARE, amount_now * RATE_DECREASE)


def adapts(window: RateWindow) -> bool:
    """Only a budget of at least one call a second adapts; a slower one has the cooldown alone."""
    return window.window_s == 1 and window.amount > 1


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
        self._live_shares: dict[str, float] = {}
        self._sleep = sleep

    def budget_for(self, key_id: str) -> float:
        return self._budgets.get(key_id, self._default_budget_per_s)

    def live_share_for(self, key_id: str) -> float:
        """The share of the key's budget live calls keep while the backlog drains (the tenant's setting)."""
        return self._live_shares.get(key_id, self._live_share)

    def set_budget(self, key_id: str, budget_per_s: float, live_share: float | None = None) -> None:
        """A tenant's budget (and live share, when given): at start-up, or added or changed at run time."""
        rate_window(budget_per_s)
        if live_share is not None:
            if not 0 <= live_share < 1:
                raise ValueError("the live share must be at least 0 and below 1")
            self._live_shares[key_id] = live_share
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


# The slots per window of a key whose rate a 429 lowered (`lowered`: its rate and when), as adapted_amount.
_ADAPTED_AMOUNT_LUA = """
local function adapted_amount(budget, lowered, now, recovery)
  local climbed = tonumber(lowered[1]) + math.max(0, now - tonumber(lowered[2])) * recovery
  return math.max(1, math.min(budget, math.floor(climbed + 1e-9)))
end
"""

# KEYS: 1 the key's slot log, 2 its backlog log, 3 its cooldown, 4 its live marker, 5 its lowered rate
# ARGV: lane, amount (the budget's), window_ms, backlog share (1 - live share), horizon_ms,
#       recovery in slots per window per ms
# The lowered rate and the backlog's amount are computed as adapted_amount and backlog_amount do.
_TRY_LUA = (
    _ADAPTED_AMOUNT_LUA
    + """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lane, budget, window = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local lowered = redis.call('HMGET', KEYS[5], 'rate', 'at')
local amount = budget
if lowered[1] then amount = adapted_amount(budget, lowered, now, tonumber(ARGV[6])) end
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
if capped then
  slot = earliest(KEYS[2], math.max(1, math.floor(amount * tonumber(ARGV[4]) + 1e-9)), slot)
end
local wait = slot - now
if wait > tonumber(ARGV[5]) then return {0, wait} end
local keep = window + wait + 1000
redis.call('RPUSH', KEYS[1], slot)
redis.call('LTRIM', KEYS[1], -budget, -1)
redis.call('PEXPIRE', KEYS[1], keep)
if lane == 'backlog' then
  redis.call('RPUSH', KEYS[2], slot)
  redis.call('LTRIM', KEYS[2], -budget, -1)
  redis.call('PEXPIRE', KEYS[2], keep)
else
  redis.call('SET', KEYS[4], '1', 'PX', window)
end
return {1, wait}
"""
)

# After a 429. KEYS: 1 the key's cooldown, 2 its lowered rate.
# ARGV: cooldown_ms, amount (the budget's), window_ms, adapts (1/0), recovery per ms, decrease, min rate.
# The cooldown is extended, never shortened: a later, shorter penalty must not cut an earlier, longer one.
# The rate is lowered at most once a window (the other 429s of that window are the same news), as
# lowered_rate does; the hash expires once the rate has climbed back to the budget.
_PENALIZE_LUA = (
    _ADAPTED_AMOUNT_LUA
    + """
local ttl = redis.call('PTTL', KEYS[1])
if ttl < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
if ARGV[4] ~= '1' then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local budget, window, recovery = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[5])
local amount = budget
local lowered = redis.call('HMGET', KEYS[2], 'rate', 'at')
if lowered[1] then
  if now - tonumber(lowered[2]) < window then return 0 end
  amount = adapted_amount(budget, lowered, now, recovery)
end
local rate = math.max(1, tonumber(ARGV[7]), amount * tonumber(ARGV[6]))
redis.call('HSET', KEYS[2], 'rate', tostring(rate), 'at', now)
redis.call('PEXPIRE', KEYS[2], math.ceil((budget - rate) / recovery) + window)
return 1
"""
)


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
        self._penalize = redis_client.register_script(_PENALIZE_LUA)

    def _keys(self, key_id: str) -> list[str]:
        base = f"{self._key_prefix}:{key_id}"
        return [
            f"{base}:slots",
            f"{base}:backlog",
            self._cooldown_key(key_id),
            f"{base}:live",
            f"{base}:lowered",
        ]

    def _cooldown_key(self, key_id: str) -> str:
        return f"{self._key_prefix}:cooldown:{key_id}"

    def _try(self, key_id: str, lane: Lane, window: RateWindow, horizon_s: float) -> Reservation:
        args = [
            lane,
            window.amount,
            window.window_ms,
            repr(1 - self.live_share_for(key_id)),
            math.floor(horizon_s * 1000),
            repr(_recovery_per_ms(window)),
        ]
        reserved, wait_ms = self._try_script(keys=self._keys(key_id), args=args)
        return Reservation(bool(reserved), int(wait_ms) / 1000.0)

    def cooldown_remaining_s(self, key_id: str) -> float:
        ttl_ms: int = self._redis.pttl(self._cooldown_key(key_id))  # type: ignore[assignment]  # sync client
        return ttl_ms / 1000.0 if ttl_ms > 0 else 0.0

    def penalize(self, key_id: str, seconds: float) -> None:
        window = rate_window(self.budget_for(key_id))
        _, _, cooldown_key, _, lowered_key = self._keys(key_id)
        args = [
            max(0, math.ceil(seconds * 1000)),
            window.amount,
            window.window_ms,
            "1" if adapts(window) else "0",
            repr(_recovery_per_ms(window)),
            repr(RATE_DECREASE),
            repr(window.amount * MIN_RATE_SHARE),
        ]
        self._penalize(keys=[cooldown_key, lowered_key], args=args)

    def rate_now(self, key_id: str) -> int:
        window = rate_window(self.budget_for(key_id))
        pipe = self._redis.pipeline()
        pipe.time()
        pipe.hmget(self._keys(key_id)[4], ["rate", "at"])
        (seconds, micros), (rate, at) = pipe.execute()
        if rate is None:
            return window.amount
        now_ms = int(seconds) * 1000 + int(micros) // 1000
        return adapted_amount(window, float(rate), int(at) / 1000, now_ms / 1000)

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
    lowered: tuple[float, float] | None = None  # (rate, when) after a 429


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
            amount = self._amount(state, window, now)
            slot = _earliest(state.slots, amount, window.window_s, max(now, state.cooldown_until))
            capped = lane == "backlog" and state.live_until > now
            amount_b = backlog_amount(RateWindow(amount, window.window_s), self.live_share_for(key_id))
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

    @staticmethod
    def _amount(state: _KeySlots, window: RateWindow, now: float) -> int:
        if state.lowered is None:
            return window.amount
        return adapted_amount(window, *state.lowered, now)

    def penalize(self, key_id: str, seconds: float) -> None:
        window = rate_window(self.budget_for(key_id))
        now = time.monotonic()
        with self._lock:
            state = self._state(key_id)
            state.cooldown_until = max(state.cooldown_until, now + seconds)
            if not adapts(window):
                return
            if state.lowered is not None and now - state.lowered[1] < window.window_s:
                return  # the other 429s of this window are the same news
            state.lowered = (lowered_rate(window, self._amount(state, window, now)), now)

    def rate_now(self, key_id: str) -> int:
        window = rate_window(self.budget_for(key_id))
        with self._lock:
            return self._amount(self._state(key_id), window, time.monotonic())

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


def _recovery_per_ms(window: RateWindow) -> float:
    """Slots per window the lowered rate climbs per millisecond."""
    return window.amount * RATE_RECOVERY_SHARE_PER_S / 1000


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
