"""Per-process resources the tasks share: built once (in the worker's start-up hook), used by every task.

The worker bootstrap (`workers/`) installs a factory; tests install a ready `Runtime` of twins.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import redis
import requests

from engage.client import EngageClient
from engage.contact_store import ContactIdStore
from engage.ratelimit import Lane, RateLimiter
from engage.retry import DEFAULT_SHORT_RETRY, ShortRetryPolicy
from engage.transport import CallObserver, Timeouts, key_fingerprint, shared_session
from fallback.deadletters import DeadLetter, DeadLetterStore, dead_letter_id
from fallback.rejected import RejectedStore
from relay.breaker import (
    BreakerPolicy,
    BreakerState,
    CircuitBreaker,
    MemoryCircuitBreaker,
    RedisCircuitBreaker,
)
from relay.control import MemoryTenantControl, RedisTenantControl, TenantControl
from relay.ledger import Ledger
from relay.outcomes import OutcomeSink
from relay.readcache import MemoryReadCache, ReadCache
from relay.retry import MAX_RATE_WAIT_S, REDRIVE_AFTER_S, RETRY_LADDER_S
from relay.schedule import MemorySchedule, Schedule
from relay.spill.fence import FileFence, MemoryFileFence
from relay.tenants import Tenant, TenantRegistry
from relay.trail import MemoryTrail, Trail


def _ignore_dead_letter(letter: DeadLetter) -> None:
    """Default: the dead letter waits in the store for the fallback sweep or an operator."""


def _ignore_file(tenant: str, kind: str) -> None:
    """Default: no metrics."""


FileHook = Callable[[str, str], None]

Gate = Literal["paused", "closed", "open", "half_open"]
"""What a tenant's events may do now: "paused" by an operator (its breaker not asked), else its breaker's
state."""


@dataclass(frozen=True)
class FileHooks:
    """Told of every file written and every file (or bulk batch) delivered: ``(tenant, kind)``."""

    written: FileHook = _ignore_file
    uploaded: FileHook = _ignore_file


@dataclass
class Runtime:
    registry: TenantRegistry
    limiter: RateLimiter
    contacts: ContactIdStore
    ledger: Ledger
    outcomes: OutcomeSink
    rejected: RejectedStore
    session: requests.Session
    deadletters: DeadLetterStore
    retry_ladder_s: tuple[float, ...] = RETRY_LADDER_S
    on_dead_letter: Callable[[DeadLetter], None] = _ignore_dead_letter
    redis: redis.Redis | None = None
    # None: a breaker with the default policy, shared through `redis` when set (else in-process)
    breaker: CircuitBreaker | None = None
    short_retry: ShortRetryPolicy = DEFAULT_SHORT_RETRY  # the client's in-process retries (tests: no waits)
    on_response: CallObserver | None = None  # told of every Engage exchange (the worker's metrics)
    timeouts: Timeouts = field(default_factory=Timeouts)  # connect and read timeouts of every Engage call
    file_hooks: FileHooks = field(default_factory=FileHooks)  # the worker's file metrics
    schedule: Schedule = field(default_factory=MemorySchedule)  # every admitted, unsettled event
    trail: Trail = field(default_factory=MemoryTrail)  # each event's steps
    spill: DeadLetterStore | None = None  # events handed to the files by a long outage (None: none)
    lease_s: float = REDRIVE_AFTER_S  # a job sent and not back within this is sent again
    control: TenantControl = field(default_factory=MemoryTenantControl)  # paused tenants
    fence: FileFence = field(default_factory=MemoryFileFence)  # contacts whose record travels by file
    read_cache: ReadCache = field(default_factory=MemoryReadCache)  # the API's reads, invalidated on apply
    _clients: dict[tuple[str, str, str, str], EngageClient] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.breaker is None:
            policy = BreakerPolicy()
            self.breaker = (
                MemoryCircuitBreaker(policy)
                if self.redis is None
                else RedisCircuitBreaker(self.redis, policy)
            )

    @property
    def circuit(self) -> CircuitBreaker:
        """The tenants' circuit breaker (always set after construction)."""
        assert self.breaker is not None
        return self.breaker

    def client_for(self, tenant: Tenant, lane: Lane = "live") -> EngageClient:
        """The tenant's Engage client in a lane of its key's budget: its own key, the process's session.

        A changed tenant (a new key or base URL, from the console) gets a new client."""
        api_key = tenant.api_key.get_secret_value()
        slot = (tenant.name, lane, key_fingerprint(api_key), tenant.base_url)
        with self._lock:
            client = self._clients.get(slot)
            if client is None:
                client = EngageClient(
                    tenant.base_url,
                    api_key,
                    rate_limiter=self.limiter,
                    session=self.session,
                    retry=self.short_retry,
                    on_response=self.on_response,
                    timeouts=self.timeouts,
                    rate_lane=lane,
                    max_rate_wait_s=MAX_RATE_WAIT_S[lane],
                )
                self._clients[slot] = client
            return client

    def paused(self, tenant: str) -> bool:
        return self.control.paused(tenant)

    def gates(self, tenants: Sequence[str]) -> dict[str, Gate]:
        """Every one of these tenants' `Gate`, for a pass of the mover: in one round trip when the control
        and the breaker are the Redis ones on the runtime's Redis, else one read of each (the twins: none),
        so a pass costs the same whatever the number of tenants."""
        paused, states = self._pauses_and_states(tenants)
        return {tenant: "paused" if paused[tenant] else states[tenant] for tenant in tenants}

    def _pauses_and_states(self, tenants: Sequence[str]) -> tuple[dict[str, bool], dict[str, BreakerState]]:
        control, breaker, client = self.control, self.circuit, self.redis
        if not (
            client is not None
            and isinstance(control, RedisTenantControl)
            and isinstance(breaker, RedisCircuitBreaker)
            and shares_redis(client, control, breaker)
        ):
            return control.paused_many(tenants), breaker.states(tenants)
        pipe = client.pipeline(transaction=False)  # plain reads: no MULTI, no script to check for
        read_paused, read_states = control.paused_many_in(pipe, tenants), breaker.states_in(pipe, tenants)
        replies = pipe.execute()
        return read_paused(replies), read_states(replies)

    def spill_pending(self, tenant: str, event_id: str) -> bool:
        """Whether this spilled event still waits in the spill store for the sweep to file it, or is a row of
        a bulk batch Engage may still apply (a record in a file is fenced by the file's own name)."""
        if self.spill is None:
            return False
        letter = self.spill.get(dead_letter_id(tenant, event_id))
        return letter is not None and (letter.fallback_state == "pending" or letter.in_bulk_batch)

    def limiter_cooldown_s(self, tenant: Tenant) -> float:
        """How long the shared limiter still holds this tenant's key back after a 429."""
        return self.limiter.cooldown_remaining_s(key_fingerprint(tenant.api_key.get_secret_value()))


def shares_redis(client: redis.Redis, *stores: object) -> bool:
    """Whether these Redis stores talk to `client`'s Redis (the same connection pool), so their commands
    may go in one of its pipelines or scripts (`Runtime.gates`, relay/start.py)."""
    return {cast(Any, store)._redis.connection_pool for store in stores} == {client.connection_pool}


_factory: Callable[[], Runtime] | None = None
_current: Runtime | None = None
_guard = threading.Lock()


def install_factory(factory: Callable[[], Runtime]) -> None:
    global _factory, _current  # noqa: PLW0603 - the one process-wide slot, set at start-up
    with _guard:
        _factory = factory
        _current = None


def install(runtime: Runtime) -> None:
    global _current  # noqa: PLW0603
    with _guard:
        _current = runtime


def current() -> Runtime:
    global _current  # noqa: PLW0603
    with _guard:
        if _current is None:
            if _factory is None:
                raise RuntimeError("no task runtime installed: start tasks through `engage-relay worker`")
            _current = _factory()
        return _current


__all__ = ["FileHooks", "Runtime", "current", "install", "install_factory", "shared_session"]
