"""A circuit breaker per tenant: when a tenant's Engage is down, stop calling it, probe, resume by itself.

States, per tenant, shared by every worker process (the Redis breaker) or by the threads of one process
(the memory twin, for tests)::

    closed --(BREAKER_FAILURE_THRESHOLD failures in a row, within BREAKER_WINDOW_S)--> open
    open   --(BREAKER_OPEN_S elapsed)--> half_open
    half_open: ONE caller takes the probe lease (SET NX) and calls Engage; everyone else is still refused
        probe succeeds -> closed        probe fails -> open again, for another BREAKER_OPEN_S

What counts (`verdict`):

- failure: Engage unreachable, timed out, 5xx, or the key refused (401/403, InvalidSystemConfiguration):
  the tenant's Engage is down or unusable.
- success: any answer that proves Engage is up: the handler returned, or Engage said the data is wrong
  (permanent), already done (skippable), or asked for a re-read (409 key taken, 404 version tag).
- neither: 429 and our own limiter's wait (rate limiting is the limiter's business), a contact lock held by
  another worker, and exceptions that are not Engage's (bugs). A probe that ends this way gives its lease
  back, so another caller probes soon.

A success while closed clears the failure count, so the breaker opens on a run of failures, not on a
rare 500 among thousands of good calls. Results of calls let through before the breaker opened (not the
probe) are ignored while it is open. Tenants never share a key: one tenant's open breaker never slows
another. Times come from an injectable clock (`time.time` by default; wall time, as workers on several
machines share the state).
"""

from __future__ import annotations

import math
import random
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar, cast

import redis
from redis.client import Pipeline

from engage.errors import (
    AuthenticationFailed,
    EngageTimeout,
    EngageUnreachable,
    PermanentError,
    RateLimited,
    RateLimitWaitExceeded,
    RetryableError,
    ServerError,
    SkippableError,
    SystemicError,
    SystemMisconfigured,
)
from relay.errors import ContactBusy, OrderStatePending
from relay.keys import BREAKER_PREFIX

BREAKER_FAILURE_THRESHOLD = 5  # failures in a row (no success between them) ...
BREAKER_WINDOW_S = 30.0  # ... all within this many seconds open the breaker
BREAKER_MAX_OPEN_S = 3600.0  # a probe at least once an hour, however the breaker is configured
BREAKER_OPEN_S = 30.0  # how long an open breaker refuses calls before it lets one probe through
BREAKER_PROBE_LEASE_S = 120.0  # a probe whose worker died gives the lease back after this (contact lock TTL)
BREAKER_HALF_OPEN_WAIT_S = 5.0  # while another caller probes, come back after this (at most BREAKER_OPEN_S)
BREAKER_HOLD_JITTER_FRACTION = 0.1  # held events come back spread over up to +10 %, not as one burst

BreakerState = Literal["closed", "open", "half_open"]
Verdict = Literal["success", "failure", "trip", "neutral"]

_FAILURES = (EngageUnreachable, EngageTimeout, ServerError)
_NEUTRAL = (RateLimited, RateLimitWaitExceeded, ContactBusy, OrderStatePending)


def verdict(exc: BaseException | None) -> Verdict:
    """What a handler's result says about the tenant's Engage: up, down, unusable (trip), or nothing."""
    # deferred for our own reasons after Engage answered (a fenced contact) also proves Engage is up
    if (
        exc is None
        or isinstance(exc, (SkippableError, PermanentError))
        or getattr(exc, "engage_answered", False)
    ):
        return "success"
    if isinstance(exc, _NEUTRAL):
        return "neutral"
    if isinstance(exc, SystemicError):
        return "trip"  # the key refused, the system misconfigured: no use trying four more times
    if isinstance(exc, _FAILURES):
        return "failure"
    if isinstance(exc, RetryableError):
        return "success"  # 409 key taken, 404 version tag: Engage answered sensibly
    return "neutral"


def describe_cause(exc: BaseException) -> str:
    """The breaker's cause in plain words, for `status`, the console, the metrics and the logs."""
    if isinstance(exc, AuthenticationFailed):
        return f"Engage refused the API key ({exc.status}): check the tenant's key"
    if isinstance(exc, SystemMisconfigured):
        return "Engage reports an invalid system configuration (InvalidSystemConfiguration): ask Voyado"
    if isinstance(exc, EngageTimeout):
        return "Engage did not answer in time"
    if isinstance(exc, EngageUnreachable):
        return "Engage is unreachable (no connection)"
    if isinstance(exc, ServerError):
        return f"Engage answers {exc.status or 'with server errors'}"
    return type(exc).__name__


@dataclass(frozen=True)
class BreakerInfo:
    """A tenant's breaker as `status` and the spill see it."""

    state: BreakerState
    cause: str | None = None  # the failure that opened (or last re-opened) it
    opened_at: float | None = None  # when it last opened (seconds since the epoch)
    outage_since: float | None = None  # when it first opened in this outage (kept across re-opens)

    def outage_s(self, now: float) -> float:
        return 0.0 if self.outage_since is None else max(0.0, now - self.outage_since)


def state_at(opened_at: float | None, open_s: float, now: float) -> BreakerState:
    """A breaker's state from when it last opened (None: it is closed): open for `open_s`, then half open
    until its probe closes or re-opens it."""
    if opened_at is None:
        return "closed"
    return "open" if now < opened_at + open_s else "half_open"


def check_open_s(open_s: float) -> None:
    if not 0 < open_s <= BREAKER_MAX_OPEN_S:
        raise ValueError(
            f"breaker open time {open_s} s must be positive and at most {BREAKER_MAX_OPEN_S:.0f} s"
        )


@dataclass(frozen=True)
class Permit:
    """The answer of `CircuitBreaker.allow`: go ahead (maybe as the probe), or wait `retry_after_s`."""

    tenant: str
    allowed: bool
    retry_after_s: float = 0.0
    probe_token: str | None = None  # set when this caller holds the half-open probe lease

    @property
    def is_probe(self) -> bool:
        return self.probe_token is not None

    def hold_countdown_s(self, rng: random.Random | None = None) -> float:
        """How long a held event waits: the breaker's remaining time plus a small positive jitter."""
        jitter = (rng or random).uniform(0, self.retry_after_s * BREAKER_HOLD_JITTER_FRACTION)
        return self.retry_after_s + jitter


class CircuitBreaker(Protocol):
    def allow(self, tenant: str) -> Permit: ...

    def record(self, permit: Permit, outcome: Verdict, cause: str | None = None) -> None: ...

    def state(self, tenant: str) -> BreakerState: ...

    def states(self, tenants: Sequence[str]) -> dict[str, BreakerState]:
        """`state` of every one of these tenants, read at one moment (in Redis: in one round trip)."""
        ...

    def info(self, tenant: str) -> BreakerInfo: ...

    def reset(self, tenant: str) -> None: ...


T = TypeVar("T")


def guarded(
    breaker: CircuitBreaker, permit: Permit, call: Callable[[], T], *, defer_success: bool = False
) -> T:
    """Run `call` for an allowed permit and tell the breaker what its result says; exceptions pass on.
    With `defer_success`, a result is not recorded: the caller records the success later (relay/run.py
    does, in the run's last write, a few milliseconds on). Meanwhile a half-open breaker stays half open
    (a probe whose worker dies there gives its lease back after `BREAKER_PROBE_LEASE_S`), and the success
    also clears failures other workers recorded in those milliseconds."""
    try:
        result = call()
    except BaseException as exc:
        outcome = verdict(exc)
        breaker.record(permit, outcome, describe_cause(exc) if outcome in ("failure", "trip") else None)
        raise
    if not defer_success:
        breaker.record(permit, "success")
    return result


@dataclass(frozen=True)
class BreakerPolicy:
    failure_threshold: int = BREAKER_FAILURE_THRESHOLD
    window_s: float = BREAKER_WINDOW_S
    open_s: float = BREAKER_OPEN_S
    probe_lease_s: float = BREAKER_PROBE_LEASE_S

    def __post_init__(self) -> None:
        check_open_s(self.open_s)
        if self.failure_threshold < 1 or self.window_s <= 0 or self.probe_lease_s <= 0:
            raise ValueError("breaker threshold, window and probe lease must be positive")

    @property
    def half_open_wait_s(self) -> float:
        return min(BREAKER_HALF_OPEN_WAIT_S, self.open_s)


# KEYS: 1 state hash (opened_at), 2 failures zset, 3 probe lease
# ARGV: now, open_s, lease_ms, half_open_wait_s, token
_ALLOW_LUA = """
local opened = redis.call('HGET', KEYS[1], 'opened_at')
if not opened then return {1, '0', ''} end
local now = tonumber(ARGV[1])
local remaining = tonumber(opened) + tonumber(ARGV[2]) - now
if remaining > 0 then return {0, tostring(remaining), ''} end
if redis.call('SET', KEYS[3], ARGV[5], 'NX', 'PX', ARGV[3]) then return {1, '0', ARGV[5]} end
return {0, ARGV[4], ''}
"""

# ARGV: verdict, now, token ('' when not the probe), threshold, window_s, member, cause
_RECORD_LUA = """
local opened = redis.call('HGET', KEYS[1], 'opened_at')
local verdict = ARGV[1]
local failing = verdict == 'failure' or verdict == 'trip'
local is_probe = ARGV[3] ~= '' and redis.call('GET', KEYS[3]) == ARGV[3]
if opened then
  if not is_probe then return 'ignored' end
  redis.call('DEL', KEYS[3])
  if verdict == 'success' then
    redis.call('DEL', KEYS[1], KEYS[2])
    return 'closed'
  elseif failing then
    redis.call('HSET', KEYS[1], 'opened_at', ARGV[2], 'cause', ARGV[7])
    return 'reopened'
  end
  return 'released'
end
if verdict == 'success' then
  redis.call('DEL', KEYS[2])
  return 'ok'
elseif failing then
  local now = tonumber(ARGV[2])
  local window = tonumber(ARGV[5])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
  redis.call('ZADD', KEYS[2], now, ARGV[6])
  redis.call('PEXPIRE', KEYS[2], math.ceil(window * 1000))
  if verdict == 'trip' or redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then
    redis.call('HSET', KEYS[1], 'opened_at', ARGV[2], 'outage_since', ARGV[2], 'cause', ARGV[7])
    redis.call('DEL', KEYS[2])
    return 'opened'
  end
end
return 'ok'
"""


class RedisCircuitBreaker:
    """One breaker per tenant in Redis, shared by every worker process and machine."""

    def __init__(
        self,
        client: redis.Redis,
        policy: BreakerPolicy | None = None,
        *,
        clock: Callable[[], float] = time.time,
        prefix: str = BREAKER_PREFIX,
    ) -> None:
        self._redis = client
        self.policy = policy or BreakerPolicy()
        self._clock = clock
        self._prefix = prefix
        self._allow = client.register_script(_ALLOW_LUA)
        self._record = client.register_script(_RECORD_LUA)

    def _keys(self, tenant: str) -> list[str]:
        base = f"{self._prefix}:{tenant}"
        return [base, f"{base}:failures", f"{base}:probe"]

    def state_key(self, tenant: str) -> str:
        """The hash whose `opened_at` says the tenant's breaker is open (absent: closed), for scripts of
        other modules that read it in their own round trip (relay/start.py)."""
        return self._keys(tenant)[0]

    def success_keys(self, tenant: str) -> list[str]:
        """The state hash and the failure count: a success of a call that was not the probe clears the
        count unless the state hash has `opened_at` (as `record` does), in another module's script
        (relay/closing.py)."""
        return self._keys(tenant)[:2]

    def allow(self, tenant: str) -> Permit:
        p = self.policy
        token = uuid.uuid4().hex
        lease_ms = math.ceil(p.probe_lease_s * 1000)
        args: list[str | int] = [
            repr(self._clock()),
            repr(p.open_s),
            lease_ms,
            repr(p.half_open_wait_s),
            token,
        ]
        allowed, after, held = self._allow(keys=self._keys(tenant), args=args)
        probe = held.decode() if isinstance(held, bytes) else str(held)
        return Permit(tenant, bool(allowed), float(after), probe or None)

    def record(self, permit: Permit, outcome: Verdict, cause: str | None = None) -> None:
        if not permit.allowed:
            return
        p = self.policy
        now = self._clock()
        member = f"{now!r}:{uuid.uuid4().hex[:8]}"
        token = permit.probe_token or ""
        args: list[str | int] = [
            outcome,
            repr(now),
            token,
            p.failure_threshold,
            repr(p.window_s),
            member,
            cause or "",
        ]
        self._record(keys=self._keys(permit.tenant), args=args)

    def state(self, tenant: str) -> BreakerState:
        return self.info(tenant).state

    def states(self, tenants: Sequence[str]) -> dict[str, BreakerState]:
        pipe = self._redis.pipeline(transaction=False)
        read = self.states_in(pipe, tenants)
        return read(pipe.execute())

    def states_in(
        self, pipe: Pipeline, tenants: Sequence[str]
    ) -> Callable[[Sequence[Any]], dict[str, BreakerState]]:
        """Queue the reads of `states` on a pipeline (one HGET per tenant), so a caller can read other
        stores in the same round trip (`Runtime.gates`); the answer comes from the pipeline's replies."""
        first = len(pipe)
        for tenant in tenants:
            pipe.hget(self._keys(tenant)[0], "opened_at")

        def answer(replies: Sequence[Any]) -> dict[str, BreakerState]:
            now = self._clock()
            opened = replies[first : first + len(tenants)]
            return {
                tenant: state_at(None if raw is None else float(raw), self.policy.open_s, now)
                for tenant, raw in zip(tenants, opened, strict=True)
            }

        return answer

    def info(self, tenant: str) -> BreakerInfo:
        raw = cast(
            list[bytes | None],
            self._redis.hmget(self._keys(tenant)[0], ["opened_at", "outage_since", "cause"]),
        )
        if raw[0] is None:
            return BreakerInfo("closed")
        opened_at = float(raw[0])
        since = float(raw[1]) if raw[1] is not None else opened_at
        state = state_at(opened_at, self.policy.open_s, self._clock())
        return BreakerInfo(state, (raw[2] or b"").decode() or None, opened_at, since)

    def reset(self, tenant: str) -> None:
        """Close the breaker by hand (an operator knows Engage is back)."""
        self._redis.delete(*self._keys(tenant))

    def __repr__(self) -> str:
        return f"RedisCircuitBreaker(prefix={self._prefix!r}, policy={self.policy!r})"


@dataclass
class _TenantCircuit:
    opened_at: float | None = None
    outage_since: float | None = None
    cause: str | None = None
    failures: list[float] | None = None
    probe_token: str | None = None
    probe_expires_at: float = 0.0


class MemoryCircuitBreaker:
    """The in-process twin: the same rules, shared only by the threads holding this instance."""

    def __init__(
        self, policy: BreakerPolicy | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.policy = policy or BreakerPolicy()
        self._clock = clock
        self._lock = threading.Lock()
        self._circuits: dict[str, _TenantCircuit] = {}

    def _circuit(self, tenant: str) -> _TenantCircuit:
        return self._circuits.setdefault(tenant, _TenantCircuit())

    def allow(self, tenant: str) -> Permit:
        p = self.policy
        with self._lock:
            c = self._circuit(tenant)
            if c.opened_at is None:
                return Permit(tenant, True)
            now = self._clock()
            remaining = c.opened_at + p.open_s - now
            if remaining > 0:
                return Permit(tenant, False, remaining)
            if c.probe_token is None or c.probe_expires_at <= now:
                c.probe_token = uuid.uuid4().hex
                c.probe_expires_at = now + p.probe_lease_s
                return Permit(tenant, True, 0.0, c.probe_token)
            return Permit(tenant, False, p.half_open_wait_s)

    def record(self, permit: Permit, outcome: Verdict, cause: str | None = None) -> None:
        if not permit.allowed:
            return
        p = self.policy
        failing = outcome in ("failure", "trip")
        with self._lock:
            c = self._circuit(permit.tenant)
            now = self._clock()
            if c.opened_at is not None:
                is_probe = (
                    permit.probe_token is not None
                    and permit.probe_token == c.probe_token
                    and c.probe_expires_at > now
                )
                if not is_probe:
                    return
                c.probe_token = None
                if outcome == "success":
                    self._circuits[permit.tenant] = _TenantCircuit()
                elif failing:
                    c.opened_at, c.cause = now, cause
                return
            if outcome == "success":
                c.failures = None
            elif failing:
                recent = [t for t in (c.failures or []) if t > now - p.window_s]
                recent.append(now)
                if outcome == "trip" or len(recent) >= p.failure_threshold:
                    c.opened_at, c.outage_since, c.cause, c.failures = now, now, cause, None
                else:
                    c.failures = recent

    def state(self, tenant: str) -> BreakerState:
        return self.info(tenant).state

    def states(self, tenants: Sequence[str]) -> dict[str, BreakerState]:
        with self._lock:
            opened = {tenant: self._circuit(tenant).opened_at for tenant in tenants}
        now = self._clock()
        return {tenant: state_at(at, self.policy.open_s, now) for tenant, at in opened.items()}

    def info(self, tenant: str) -> BreakerInfo:
        with self._lock:
            c = self._circuit(tenant)
            opened_at, since, cause = c.opened_at, c.outage_since, c.cause
        if opened_at is None:
            return BreakerInfo("closed")
        state = state_at(opened_at, self.policy.open_s, self._clock())
        return BreakerInfo(state, cause, opened_at, since if since is not None else opened_at)

    def reset(self, tenant: str) -> None:
        with self._lock:
            self._circuits.pop(tenant, None)

    def __repr__(self) -> str:
        return f"MemoryCircuitBreaker(policy={self.policy!r})"
